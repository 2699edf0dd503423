"""The jobs process: APScheduler with an in-memory store, one leader among hosts."""

from __future__ import annotations

import logging
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.engine import make_url

from app.core import jobrequests
from app.extensions import db
from app.jobs import registry

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = zlib.crc32(b"beamtime.jobs.leader")


def run_pending_job_requests(*, limit: int = 5) -> int:
    """Run queued job requests, one after another; each failure is recorded on its row."""
    ran = 0
    while ran < limit:
        job = jobrequests.claim_next()
        if job is None:
            break
        ran += 1
        handler = registry.HANDLERS.get(job.kind)

        def progress(done: int, total: int | None = None, message: str | None = None, _id: int = job.id) -> None:
            jobrequests.report_progress(_id, done, total, message)

        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            result = handler(job, progress)
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the poller
            db.session.rollback()
            log.error("job %s (%s) failed: %s", job.id, job.kind, exc)
            jobrequests.finish(job.id, error=f"{exc}\n{traceback.format_exc(limit=3)}"[:4000])
        else:
            jobrequests.finish(job.id, result=result or {})
        finally:
            db.session.remove()
    return ran


class LeaderLock:
    """A PostgreSQL advisory lock held on a dedicated connection outside the pool.

    Whoever holds it runs the jobs; if that process dies its connection closes and the lock is
    free for the next one. On SQLite there is one host: the lock is always ours.
    """

    def __init__(self, database_url: str, key: int = LEADER_LOCK_KEY) -> None:
        self.url = make_url(database_url)
        self.key = key
        self._conn = None

    @property
    def needed(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def try_acquire(self) -> bool:
        if not self.needed:
            return True
        import psycopg

        if self._conn is None or self._conn.closed:
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._conn = psycopg.connect(dsn, autocommit=True, application_name="beamtime-jobs-leader")
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def still_held(self) -> bool:
        if not self.needed:
            return True
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND pid = pg_backend_pid() AND granted",
                (self.key & 0xFFFFFFFF,),
            ).fetchone()
            return bool(row and row[0])
        except Exception:  # noqa: BLE001 - a lost connection means a lost lock
            return False

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            finally:
                self._conn.close()
        self._conn = None


def _wrap(app: Flask, func: Callable[[], object], name: str) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                func()
            except Exception:  # logged, and the next run tries again
                log.exception("job %s failed", name)
                db.session.rollback()
            finally:
                db.session.remove()

    return run


def build_scheduler(app: Flask, jobs: list[registry.Periodic] | None = None) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    for job in jobs if jobs is not None else registry.PERIODIC:
        run = _wrap(app, job.func, job.name)
        if job.cron:
            scheduler.add_job(run, "cron", id=job.name, name=job.name, **job.cron)
        else:
            seconds = float(app.config.get(job.seconds_config, job.seconds)) if job.seconds_config else job.seconds
            scheduler.add_job(run, "interval", id=job.name, name=job.name, seconds=seconds)
    return scheduler


class JobsProcess:
    """Wait to become leader, run the scheduler while leader, stop cleanly on request."""

    def __init__(
        self,
        app: Flask,
        *,
        jobs: list[registry.Periodic] | None = None,
        retry_seconds: float | None = None,
        on_state: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.jobs = jobs
        self.retry = retry_seconds if retry_seconds is not None else app.config["JOBS_LEADER_RETRY_SECONDS"]
        self.lock = LeaderLock(app.config["SQLALCHEMY_DATABASE_URI"])
        self.stop_event = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self.is_leader = False
        self._on_state = on_state or (lambda state: log.info("jobs: %s", state))

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                if not self.is_leader:
                    try:
                        acquired = self.lock.try_acquire()
                    except Exception as exc:  # noqa: BLE001 - database away: try again later
                        log.warning("jobs: cannot reach the database for the leader lock (%s)", exc)
                        acquired = False
                    if acquired:
                        self.is_leader = True
                        self.scheduler = build_scheduler(self.app, self.jobs)
                        self.scheduler.start()
                        self._on_state("leader: running jobs")
                    else:
                        self._on_state("standby: another process runs the jobs")
                elif not self.lock.still_held():
                    self._demote("lost the leader lock")
                self.stop_event.wait(self.retry)
        finally:
            self._demote("stopped")
            self.lock.release()

    def _demote(self, why: str) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        if self.is_leader:
            self._on_state(f"no longer leader: {why}")
        self.is_leader = False

    def stop(self) -> None:
        self.stop_event.set()


def run_forever(app: Flask) -> None:
    """`flask jobs run`: until SIGINT/SIGTERM."""
    process = JobsProcess(app)

    def _stop(signum, _frame):
        log.info("jobs: signal %s, stopping", signum)
        process.stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    process.run()
    time.sleep(0)
