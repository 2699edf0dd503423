#!/usr/bin/env bash
# `make run`: seed the demo on an empty database, then the web server and the jobs process
# side by side. Ctrl-C (or SIGTERM to this script) stops both; if either one ends, the other
# is stopped too, so no `flask jobs run` is ever left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=wsgi.py
export BEAMTIME_CONFIG="${BEAMTIME_CONFIG:-development}"
export MAIL_BACKEND="${MAIL_BACKEND:-console}"  # the outbox's e-mails are printed below
PORT="${PORT:-5000}"

"$BIN/flask" seed-demo

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  if [ "${#PIDS[@]}" -gt 0 ]; then
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Both run in the background so that `wait` below returns as soon as a signal arrives (bash
# runs a trap only after a foreground command ends) or as soon as either process exits.
"$BIN/flask" jobs run &
PIDS+=($!)
"$BIN/flask" run --host 127.0.0.1 --port "$PORT" &
PIDS+=($!)

echo
echo "Beamtime is at http://127.0.0.1:$PORT  (web pid ${PIDS[1]}, jobs pid ${PIDS[0]}; Ctrl-C stops both)"
echo "E-mails are printed here (MAIL_BACKEND=$MAIL_BACKEND) when the jobs process sends the outbox."
wait -n "${PIDS[@]}" || true
