"""B1 http_floor: requests/s of a Flask JSON route of the real app under gunicorn, against a
no-op WSGI app answering the same bytes under the same gunicorn settings (1 sync worker each,
TCP on 127.0.0.1). Load comes from a separate process: wrk when installed, else bench.loadgen."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench import wsgi_apps
from bench.core import Context, Result, Target, alternate, benchmark, compare

ROOT = Path(__file__).resolve().parent.parent
TARGET = Target(">=", 0.85)
WRK_SECONDS = 3
WRK_CONNECTIONS = 4
PY_REQUESTS = 3000
PY_CONNECTIONS = 2
GUNICORN_SETTINGS = ["--workers", "1", "--worker-class", "sync", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes, dict]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read(), dict(response.headers)


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str]):
    """Serve `app_spec` with the B1 settings; yield its base URL; stop it afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *GUNICORN_SETTINGS, "--bind", f"127.0.0.1:{port}", app_spec]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"gunicorn {app_spec} exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                if _get(url + wsgi_apps.PATH)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app_spec} did not answer on {url} within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wrk(url: str, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds:g}s", url + wsgi_apps.PATH],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    if bad := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        raise RuntimeError(f"{url}: {bad.group(1)} non-2xx responses under load")
    return float(match.group(1))


def _python_load(url: str, requests: int) -> float:
    host, port = url.removeprefix("http://").split(":")
    out = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", host, port, wsgi_apps.PATH, "--requests", str(requests)]
        + ["--connections", str(PY_CONNECTIONS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(out)
    if report["errors"]:
        raise RuntimeError(f"{url}: {report['errors']} failed requests under load")
    return report["rps"]


@benchmark("B1", "http_floor")
def http_floor(ctx: Context) -> Result:
    instance = tempfile.mkdtemp(prefix="beamtime-bench-")
    env = {
        "SECRET_KEY": secrets.token_hex(32),
        "BEAMTIME_INSTANCE": instance,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    use_wrk = shutil.which("wrk") is not None and os.environ.get("BENCH_LOADGEN", "wrk") == "wrk"
    if use_wrk:
        generator = f"wrk -t1 -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s"

        def load(url: str, warmup: bool = False) -> float:
            return _wrk(url, 1 if warmup else WRK_SECONDS)
    else:
        generator = f"bench.loadgen ({PY_REQUESTS} requests, {PY_CONNECTIONS} connections)"

        def load(url: str, warmup: bool = False) -> float:
            return _python_load(url, 300 if warmup else PY_REQUESTS)

    try:
        with ExitStack() as stack:
            flask_url = stack.enter_context(gunicorn("bench.wsgi_apps:create_flask_app()", env))
            noop_url = stack.enter_context(gunicorn("bench.wsgi_apps:noop_app", env))
            bare_url = stack.enter_context(gunicorn("bench.wsgi_apps:create_bare_flask_app()", env))
            bodies = {url: _get(url + wsgi_apps.PATH)[1] for url in (flask_url, noop_url, bare_url)}
            if len(set(bodies.values())) != 1:
                raise RuntimeError(f"the apps answer different bytes: {bodies}")
            noop_body = bodies[noop_url]
            ctx.log(f"  B1: load by {generator}; warming up")
            for url in (flask_url, noop_url, bare_url):
                load(url, warmup=True)
            bare_runs: list[float] = []

            def baseline_then_bare() -> float:
                rps = load(noop_url)
                bare_runs.append(load(bare_url))  # information only: Flask's own floor
                return rps

            app_runs, baseline_runs = alternate(lambda: load(flask_url), baseline_then_bare, ctx.runs)
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    result = compare(
        "B1 http_floor",
        app_runs,
        baseline_runs,
        unit="req/s",
        target=TARGET,
        details={
            "load_generator": generator,
            "gunicorn": " ".join(GUNICORN_SETTINGS),
            "body_bytes": len(noop_body),
            "bare_flask_rps_runs": bare_runs,
            "bare_flask_rps": statistics.median(bare_runs),
            "bare_flask_ratio": statistics.median(bare_runs) / statistics.median(baseline_runs),
        },
    )
    result.note = f"bare Flask {result.details['bare_flask_ratio']:.2f}x, {result.details['bare_flask_rps']:.0f} req/s"
    return result
