#!/usr/bin/env bash
# `make run`: seed the demo on an empty database, then the web server and the jobs process
# side by side; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=wsgi.py
export BEAMTIME_CONFIG="${BEAMTIME_CONFIG:-development}"
export MAIL_BACKEND="${MAIL_BACKEND:-console}"

"$BIN/flask" seed-demo

"$BIN/flask" jobs run &
JOBS_PID=$!
cleanup() {
  kill "$JOBS_PID" 2>/dev/null || true
  wait "$JOBS_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo
echo "Beamtime is at http://127.0.0.1:5000  (jobs process pid $JOBS_PID; Ctrl-C stops both)"
"$BIN/flask" run --host 127.0.0.1 --port "${PORT:-5000}"
