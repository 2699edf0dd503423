"""Leader election between jobs processes: a PostgreSQL advisory lock on a dedicated connection."""

import threading
import time
from collections import Counter

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.jobs.registry import Periodic
from app.jobs.runner import LEADER_LOCK_KEY, JobsProcess, LeaderLock

TICK = 0.1
RETRY = 0.2


class Recorder:
    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self.lock = threading.Lock()

    def jobs_for(self, name: str) -> list[Periodic]:
        def tick() -> None:
            with self.lock:
                self.runs[name] += 1

        return [Periodic(f"test.tick.{name}", tick, seconds=TICK)]

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.runs)


def _wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def start_process(app):
    started: list[tuple[JobsProcess, threading.Thread]] = []

    def start(name: str, recorder: Recorder) -> JobsProcess:
        process = JobsProcess(app, jobs=recorder.jobs_for(name), retry_seconds=RETRY, on_state=lambda state: None)
        thread = threading.Thread(target=process.run, name=f"jobs-{name}", daemon=True)
        thread.start()
        started.append((process, thread))
        return process

    yield start
    for process, thread in started:
        process.stop()
        thread.join(10)


def _psycopg_dsn(app) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def test_exactly_one_of_two_processes_runs_jobs(start_process):
    recorder = Recorder()
    a = start_process("a", recorder)
    b = start_process("b", recorder)

    assert _wait_for(lambda: sum(recorder.snapshot().values()) >= 5)
    time.sleep(3 * RETRY)  # the standby has tried for the lock several times by now

    leaders = [p for p in (a, b) if p.is_leader]
    assert len(leaders) == 1
    leader_name = "a" if leaders[0] is a else "b"
    assert set(recorder.snapshot()) == {leader_name}  # the standby never ran a job


def test_stopping_the_leader_lets_the_standby_take_over(start_process):
    recorder = Recorder()
    a = start_process("a", recorder)
    assert _wait_for(lambda: a.is_leader)
    b = start_process("b", recorder)
    time.sleep(3 * RETRY)
    assert not b.is_leader
    assert recorder.snapshot()["b"] == 0

    a.stop()
    assert _wait_for(lambda: b.is_leader, timeout=5), "the standby did not take over"
    a_runs = recorder.snapshot()["a"]
    assert _wait_for(lambda: recorder.snapshot()["b"] >= 3)
    assert not a.is_leader
    assert recorder.snapshot()["a"] == a_runs  # the stopped leader runs nothing more


def test_leader_that_loses_its_connection_steps_down_and_someone_takes_over(app, start_process):
    """The database drops the leader's lock connection (failover, idle kill): it must stop
    running jobs, since another process can now take the lock."""
    recorder = Recorder()
    a = start_process("a", recorder)
    assert _wait_for(lambda: a.is_leader)
    b = start_process("b", recorder)
    time.sleep(2 * RETRY)

    with psycopg.connect(_psycopg_dsn(app), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'beamtime-jobs-leader' AND pid IN "
            "(SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted)",
            (LEADER_LOCK_KEY,),
        ).fetchall()
    assert len(killed) == 1

    assert _wait_for(lambda: sum(p.is_leader for p in (a, b)) == 1 and not (a.is_leader and b.is_leader))
    time.sleep(3 * RETRY)
    assert sum(p.is_leader for p in (a, b)) == 1


def test_leader_lock_is_exclusive_and_released(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first, second = LeaderLock(url), LeaderLock(url)
    try:
        assert first.try_acquire()
        assert first.still_held()
        assert not second.try_acquire()
        assert not second.still_held()
        first.release()
        assert second.try_acquire()
        assert second.still_held()
    finally:
        first.release()
        second.release()
