"""Real processes on a SQLite file: `flask jobs run` stops cleanly on SIGTERM, and two writer
processes (what `make run` starts: web and jobs) share the file without "database is locked".

These start their own processes on their own database file, so they run in the sqlite tier only.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("BEAMTIME_TEST_DB", "sqlite") != "sqlite",
    reason="subprocess tests on a SQLite file: they run in the sqlite tier",
)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BEAMTIME_CONFIG": "development",
        "BEAMTIME_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        "MAIL_BACKEND": "console",
        "JOBS_POLL_SECONDS": "0.2",
        "JOBS_OUTBOX_SECONDS": "0.2",
        "FLASK_APP": "wsgi.py",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def _python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


SETUP = """
    from app import create_app
    from app.core import jobrequests, outbox
    from app.core.transaction import unit_of_work
    from app.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
        with unit_of_work():
            outbox.enqueue("pi@example.org", "Beamtime allocated", "Your beamtime is on ID23.")
        jobrequests.request_job("outbox.send", actor=None)
"""


def test_jobs_run_does_its_work_and_stops_cleanly_on_sigterm(tmp_path):
    env = _env(tmp_path)
    setup = _python(SETUP, env)
    assert setup.returncode == 0, setup.stderr
    log = tmp_path / "jobs.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "flask"), "jobs", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            database = sqlite3.connect(tmp_path / "jobs.sqlite")
            deadline = time.monotonic() + 30
            outbox_status = job_status = None
            while time.monotonic() < deadline:
                outbox_status = database.execute("SELECT status FROM outbox").fetchone()[0]
                job_status = database.execute("SELECT status FROM job_requests").fetchone()[0]
                if outbox_status == "sent" and job_status == "done":
                    break
                time.sleep(0.2)
            database.close()
            assert (outbox_status, job_status) == ("sent", "done"), log.read_text()
            assert process.poll() is None, "the jobs process exited on its own"

            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log.read_text()
    assert code == 0, output
    assert "Subject: Beamtime allocated" in output  # the console backend printed it
    assert "stopping" in output
    assert "no longer leader: stopped" in output
    assert "Traceback" not in output


WRITER = """
    import sys, time
    from sqlalchemy import func, select
    from app import create_app
    from app.core import jobrequests, outbox
    from app.core.models import OutboxMessage
    from app.core.transaction import transactional
    from app.extensions import db

    name, rounds = sys.argv[1], int(sys.argv[2])

    @transactional
    def queue(n):
        outbox.enqueue(f"{name}{n}@example.org", f"{name} {n}", "body")

    app = create_app()
    with app.app_context():
        for n in range(rounds):
            # a view reads first (a read transaction is open), then calls a use case that writes
            db.session.scalar(select(func.count()).select_from(OutboxMessage))
            time.sleep(0.002)
            queue(n)
            job = jobrequests.request_job("outbox.send", actor=None)
            jobrequests.report_progress(job.id, n, rounds)
            db.session.remove()
    print("ok", name)
"""


def test_two_writer_processes_share_the_sqlite_file(tmp_path):
    env = {**_env(tmp_path), "SQLITE_BUSY_TIMEOUT_MS": "20000"}
    setup = _python(
        "from app import create_app\nfrom app.extensions import db\napp = create_app()\n"
        "with app.app_context():\n    db.create_all()\n",
        env,
    )
    assert setup.returncode == 0, setup.stderr
    rounds = 40
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), name, str(rounds)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("web", "jobs")
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    for worker, (out, err) in zip(workers, results, strict=True):
        assert "ok" in out, err
        assert worker.returncode == 0, err
        assert "database is locked" not in err
    database = sqlite3.connect(tmp_path / "jobs.sqlite")
    try:
        assert database.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2 * rounds
        assert database.execute("SELECT count(*) FROM job_requests").fetchone()[0] == 2 * rounds
    finally:
        database.close()
