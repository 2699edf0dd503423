"""The job-request poller with committed data: progress is written in transactions of its own,
so another connection (the web page) sees it while the handler is still running."""

import threading

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core import jobrequests
from app.core.models import JobRequest, JobStatus
from app.extensions import db
from app.jobs import registry
from app.jobs.runner import run_pending_job_requests
from tests.factories import PASSWORD, make_user


@pytest.fixture
def handlers():
    """Register test handlers for one test, and remove them afterwards."""
    added: list[str] = []

    def add(kind, fn):
        registry.handler(kind)(fn)
        added.append(kind)

    yield add
    for kind in added:
        registry.HANDLERS.pop(kind, None)
        jobrequests.KINDS.discard(kind)


def _row_seen_elsewhere(job_id: int):
    """Read the job on a fresh connection, outside the runner's session."""
    with db.engine.connect() as connection:
        return connection.execute(
            select(JobRequest.status, JobRequest.progress, JobRequest.total, JobRequest.message).where(
                JobRequest.id == job_id
            )
        ).one()


def test_progress_is_visible_from_another_connection_while_the_handler_runs(app, committed_db, handlers):
    reported = threading.Event()
    release = threading.Event()

    def slow(job, progress):
        progress(1, 3, "first third")
        reported.set()
        assert release.wait(10), "the test never released the handler"
        progress(3, 3, "all done")
        return {"items": 3}

    handlers("test.slow", slow)
    with app.app_context():
        user = make_user()
        db.session.commit()
        job_id = jobrequests.request_job("test.slow", actor=user).id
        email = user.email

    errors: list[BaseException] = []

    def poller():
        try:
            with app.app_context():
                run_pending_job_requests()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=poller)
    thread.start()
    try:
        assert reported.wait(10), "the handler never started"
        with app.app_context():
            assert tuple(_row_seen_elsewhere(job_id)) == (JobStatus.RUNNING, 1, 3, "first third")

        # the page a person watches shows it too, and keeps polling
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        fragment = client.get(f"/jobs/{job_id}/progress").get_data(as_text=True)
        assert "1 / 3" in fragment and "first third" in fragment
        assert "hx-trigger" in fragment
    finally:
        release.set()
        thread.join(15)
    assert not errors

    with app.app_context():
        job = jobrequests.get_job(job_id)
        assert job.status is JobStatus.DONE
        assert (job.progress, job.total, job.result) == (3, 3, {"items": 3})
        assert job.finished_at is not None
    fragment = client.get(f"/jobs/{job_id}/progress").get_data(as_text=True)
    assert "hx-trigger" not in fragment  # finished: the page stops polling


def test_failing_handler_marks_its_job_failed_and_the_poller_goes_on(app, committed_db, handlers):
    ran: list[str] = []

    def broken(job, progress):
        ran.append("broken")
        progress(1, 2, None)
        raise RuntimeError("detector offline (code 42)")

    def fine(job, progress):
        ran.append("fine")
        return {"ok": True}

    handlers("test.broken", broken)
    handlers("test.fine", fine)
    with app.app_context():
        user = make_user()
        db.session.commit()
        broken_id = jobrequests.request_job("test.broken", actor=user).id
        fine_id = jobrequests.request_job("test.fine", actor=user).id

        assert run_pending_job_requests() == 2

    assert ran == ["broken", "fine"]
    with app.app_context():
        failed = jobrequests.get_job(broken_id)
        assert failed.status is JobStatus.FAILED
        assert "detector offline (code 42)" in failed.error
        assert failed.finished_at is not None
        done = jobrequests.get_job(fine_id)
        assert done.status is JobStatus.DONE and done.result == {"ok": True}


def test_handler_writes_are_rolled_back_when_it_fails(app, committed_db, handlers):
    from app.core import outbox
    from app.core.transaction import unit_of_work

    def half_done(job, progress):
        with unit_of_work():
            outbox.enqueue("pi@example.org", "Half", "Never committed")
            db.session.flush()
            raise RuntimeError("fails after writing")

    handlers("test.half", half_done)
    with app.app_context():
        user = make_user()
        db.session.commit()
        job_id = jobrequests.request_job("test.half", actor=user).id
        run_pending_job_requests()
        from app.core.models import OutboxMessage

        assert db.session.scalars(select(OutboxMessage)).all() == []
        assert jobrequests.get_job(job_id).status is JobStatus.FAILED


def test_outbox_send_job_reports_its_result(app, committed_db, smtp_sink):
    from app.core import outbox
    from app.core.transaction import unit_of_work

    with app.app_context():
        staff = make_user(roles=[Role.ADMIN])
        with unit_of_work():
            outbox.enqueue("pi@example.org", "One", "Body one")
            outbox.enqueue("co@example.org", "Two", "Body two")
        job_id = jobrequests.request_maintenance_job("outbox.send", actor=staff).id

        assert run_pending_job_requests() == 1

        job = jobrequests.get_job(job_id)
        assert job.status is JobStatus.DONE
        assert job.result == {"sent": 2, "retried": 0, "failed": 0}
        assert (job.progress, job.total) == (2, 2)
    assert sorted(m.subject for m in smtp_sink.messages) == ["One", "Two"]


def test_two_senders_at_once_send_each_message_exactly_once(app, committed_db, smtp_sink):
    from app.core import outbox
    from app.core.transaction import unit_of_work

    with app.app_context():
        with unit_of_work():
            for n in range(40):
                outbox.enqueue(f"person{n}@example.org", f"Message {n}", "Body")

    start = threading.Barrier(2)
    reports = []

    def sender():
        with app.app_context():
            start.wait()
            reports.append(outbox.send_due())
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(r.sent for r in reports) == 40
    subjects = [m.subject for m in smtp_sink.messages]
    assert len(subjects) == 40 and len(set(subjects)) == 40
