"""Job requests: long work a person starts from the web, run by the jobs process.

The web writes a row (`request_job`); the jobs process claims the oldest queued row
(`claim_next`), runs the handler registered for its kind and reports progress in short
transactions of their own, so the page can show it while the work goes on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.core.db import IMMEDIATE, utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.models import JobRequest, JobStatus
from app.core.permissions import require_named
from app.core.transaction import transactional, unit_of_work
from app.extensions import db

#: kinds the jobs process can run; `app.jobs.registry` fills it at start-up
KINDS: set[str] = set()


def register_kind(kind: str) -> None:
    KINDS.add(kind)


@transactional
def request_job(
    kind: str, params: dict[str, Any] | None = None, *, actor: Any, now: datetime | None = None
) -> JobRequest:
    """Queue work of `kind` for the jobs process. Permission checks belong to the caller's service.

    Raises: ValidationFailed (unknown kind).
    """
    if kind not in KINDS:
        raise ValidationFailed("job_kind_unknown", field="kind", kind=kind)
    job = JobRequest(
        kind=kind,
        params=params or {},
        requested_by_id=getattr(actor, "id", None),
        created_at=now or utcnow(),
        status=JobStatus.QUEUED,
        progress=0,
    )
    db.session.add(job)
    db.session.flush()
    return job


@transactional
def request_maintenance_job(
    kind: str, params: dict[str, Any] | None = None, *, actor: Any, now: datetime | None = None
) -> JobRequest:
    """Facility-wide work started by hand (send the outbox now…): staff only.

    Raises: PermissionDenied, ValidationFailed (unknown kind).
    """
    require_named("can_run_maintenance", actor)
    return request_job(kind, params, actor=actor, now=now)


def get_job(job_id: int) -> JobRequest:
    job = db.session.get(JobRequest, job_id)
    if job is None:
        raise NotFound("job_not_found", job_id=job_id)
    return job


def claim_next(*, now: datetime | None = None, stale_after: timedelta = timedelta(minutes=10)) -> JobRequest | None:
    """Take the oldest queued job (or one whose runner stopped sending heartbeats)."""
    now = now or utcnow()
    with unit_of_work():
        candidates = list(
            db.session.scalars(
                select(JobRequest.id)
                .where(
                    (JobRequest.status == JobStatus.QUEUED)
                    | ((JobRequest.status == JobStatus.RUNNING) & (JobRequest.heartbeat_at < now - stale_after))
                )
                .order_by(JobRequest.created_at, JobRequest.id)
                .limit(5)
            )
        )
    for job_id in candidates:
        with unit_of_work():
            claimed = db.session.execute(
                update(JobRequest)
                .where(
                    JobRequest.id == job_id,
                    (JobRequest.status == JobStatus.QUEUED)
                    | ((JobRequest.status == JobStatus.RUNNING) & (JobRequest.heartbeat_at < now - stale_after)),
                )
                .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, progress=0, error=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        if claimed == 1:
            return db.session.get(JobRequest, job_id, populate_existing=True)
    return None


def report_progress(job_id: int, done: int, total: int | None = None, message: str | None = None) -> None:
    """Write progress in a short transaction of its own (visible to the page at once)."""
    values: dict[str, Any] = {"progress": done, "heartbeat_at": utcnow()}
    if total is not None:
        values["total"] = total
    if message is not None:
        values["message"] = message[:500]
    _write_own_transaction(job_id, values)


def finish(job_id: int, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    values: dict[str, Any] = {
        "status": JobStatus.FAILED if error else JobStatus.DONE,
        "finished_at": utcnow(),
        "heartbeat_at": utcnow(),
        "result": result,
        "error": error,
    }
    _write_own_transaction(job_id, values)


def _write_own_transaction(job_id: int, values: dict[str, Any]) -> None:
    """Update the job row on a connection of its own, committed at once.

    On SQLite the transaction begins IMMEDIATE, so it queues behind another process's writer
    instead of failing with "database is locked".
    """
    with db.engine.connect() as connection:
        connection = connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            connection.execute(update(JobRequest).where(JobRequest.id == job_id).values(**values))
