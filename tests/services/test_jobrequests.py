from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.core import jobrequests
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.models import JobRequest, JobStatus
from app.extensions import db
from tests.factories import make_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(JobRequest))


def test_request_job_refuses_an_unknown_kind():
    user = make_user()
    with pytest.raises(ValidationFailed) as caught:
        jobrequests.request_job("reports.make_coffee", actor=user)
    assert caught.value.field == "kind"
    assert caught.value.params["kind"] == "reports.make_coffee"
    assert _count() == 0


def test_request_job_queues_a_row_for_the_requester():
    user = make_user()
    job = jobrequests.request_job("outbox.send", {"limit": 5}, actor=user, now=T0)
    stored = jobrequests.get_job(job.id)
    assert (stored.kind, stored.status, stored.params) == ("outbox.send", JobStatus.QUEUED, {"limit": 5})
    assert stored.requested_by_id == user.id
    assert stored.created_at == T0
    assert not stored.finished


def test_get_job_raises_not_found():
    with pytest.raises(NotFound):
        jobrequests.get_job(987654)


def test_plain_user_may_not_start_maintenance_work():
    user = make_user()
    with pytest.raises(PermissionDenied):
        jobrequests.request_maintenance_job("outbox.send", actor=user)
    assert _count() == 0


def test_staff_may_start_maintenance_work():
    staff = make_user(roles=[Role.USER_OFFICE])
    job = jobrequests.request_maintenance_job("outbox.send", actor=staff, now=T0)
    assert job.status is JobStatus.QUEUED
    assert job.requested_by_id == staff.id


def test_maintenance_job_of_unknown_kind_is_refused_for_staff_too():
    staff = make_user(roles=[Role.ADMIN])
    with pytest.raises(ValidationFailed):
        jobrequests.request_maintenance_job("nope", actor=staff)
    assert _count() == 0


def test_claim_next_takes_the_oldest_queued_job_once():
    user = make_user()
    newer = jobrequests.request_job("outbox.send", actor=user, now=T0 + timedelta(minutes=1))
    older = jobrequests.request_job("outbox.send", actor=user, now=T0)
    now = T0 + timedelta(minutes=2)

    first = jobrequests.claim_next(now=now)
    second = jobrequests.claim_next(now=now)
    third = jobrequests.claim_next(now=now)

    assert (first.id, second.id, third) == (older.id, newer.id, None)
    assert first.status is JobStatus.RUNNING
    assert first.started_at == now and first.heartbeat_at == now


def test_finished_jobs_are_never_claimed():
    user = make_user()
    done = jobrequests.request_job("outbox.send", actor=user, now=T0)
    failed = jobrequests.request_job("outbox.send", actor=user, now=T0)
    done.status, failed.status = JobStatus.DONE, JobStatus.FAILED
    db.session.commit()
    assert jobrequests.claim_next(now=T0 + timedelta(days=1)) is None


def test_running_job_without_heartbeat_is_claimed_again_and_a_live_one_is_not():
    user = make_user()
    job = jobrequests.request_job("outbox.send", actor=user, now=T0)
    assert jobrequests.claim_next(now=T0).id == job.id

    # the runner reported progress recently: the job is alive
    assert jobrequests.claim_next(now=T0 + timedelta(minutes=9)) is None

    # no heartbeat for longer than `stale_after`: the runner died, the job is run again
    later = T0 + timedelta(minutes=11)
    again = jobrequests.claim_next(now=later)
    assert again is not None and again.id == job.id
    assert again.status is JobStatus.RUNNING
    assert again.started_at == later and again.heartbeat_at == later
    assert again.progress == 0


def test_percent_is_bounded_and_absent_without_a_total():
    job = JobRequest(kind="outbox.send", progress=3, total=None)
    assert job.percent is None
    job.total = 4
    assert job.percent == 75
    job.progress = 9
    assert job.percent == 100
