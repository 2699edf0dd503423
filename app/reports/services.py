"""Keeping the rollups in step with the lower domains.

Subscribers (registered at start-up by `register_subscribers`) only mark the affected cycle
dirty, in the publishing transaction: cheap at a call's deadline rush, and undone with it on
a rollback. `refresh_dirty` (a job every minute, and `flask reports refresh`) rebuilds the
dirty cycles; `rebuild_all` (nightly, and `flask reports refresh --full`) every cycle.

Race-free order: a refresh first *deletes* a cycle's dirty mark, then reads the sources. A
change committed before the delete is read; a change committed after it marks the cycle again.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core import audit, events, jobrequests
from app.core.db import utcnow
from app.core.models import JobRequest, JobStatus
from app.core.permissions import require
from app.core.transaction import transactional, unit_of_work
from app.extensions import db
from app.facility.models import Booking, Cycle
from app.proposals.events import CallClosed, ProposalChanged, ProposalSubmitted, ProposalWithdrawn
from app.proposals.models import Call, Proposal
from app.reports import permissions, rollups
from app.reports.models import ReportDirtyCycle, ReportRefresh
from app.reviews.events import AwardsChanged, DecisionsReleased
from app.scheduling.events import ExperimentCancelled, ExperimentChanged, ExperimentCompleted, SchedulePublished
from app.visits.events import PublicationChanged, VisitChanged
from app.visits.models import Visit

Progress = Callable[[int, int, str], None]
#: advisory-lock key space of the per-cycle rebuild lock (PostgreSQL's two-int4 form)
CYCLE_LOCK_SPACE = zlib.crc32(b"beamtime.reports.cycle") & 0x7FFFFFFF


@dataclass(frozen=True)
class RefreshReport:
    cycles: int
    rows: int
    full: bool


# --- marking ----------------------------------------------------------------------------


def mark_cycle_dirty(cycle_id: int | None, *, now: datetime | None = None) -> None:
    """Record that a cycle's rollups are behind (idempotent, safe against concurrent marks)."""
    if cycle_id is None:
        return
    now = now or utcnow()
    dialect = db.session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(ReportDirtyCycle).values(cycle_id=cycle_id, marked_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["cycle_id"], set_={"marked_at": stmt.excluded.marked_at})
    db.session.execute(stmt)


def _cycle_of_proposal(proposal_id: int) -> int | None:
    return db.session.scalar(
        select(Call.cycle_id).join(Proposal, Proposal.call_id == Call.id).where(Proposal.id == proposal_id)
    )


def _cycle_of_call(call_id: int) -> int | None:
    return db.session.scalar(select(Call.cycle_id).where(Call.id == call_id))


def _cycle_of_experiment(experiment_id: int) -> int | None:
    return db.session.scalar(select(Booking.cycle_id).where(Booking.id == experiment_id))


def on_proposal_event(event: Any) -> None:
    """ProposalSubmitted / ProposalChanged (an edit while the call takes edits: team, snapshots,
    requests) / ProposalWithdrawn: the proposal's cycle."""
    mark_cycle_dirty(_cycle_of_proposal(event.proposal_id))


def on_call_event(event: Any) -> None:
    """CallClosed (snapshots frozen), DecisionsReleased, AwardsChanged: the call's cycle."""
    mark_cycle_dirty(_cycle_of_call(event.call_id))


def on_schedule_published(event: SchedulePublished) -> None:
    mark_cycle_dirty(event.cycle_id)


def _cycles_of_visitors(user_ids: Any) -> list[int]:
    """The cycles of every visit of these people: who is a new user (first visit ever) in one
    cycle depends on their visits in the others."""
    return list(
        db.session.scalars(
            select(Booking.cycle_id)
            .join(Visit, Visit.experiment_id == Booking.id)
            .where(Visit.user_id.in_(user_ids))
            .distinct()
        )
    )


def on_experiment_event(event: Any) -> None:
    """ExperimentChanged / Cancelled / Completed (delivered shifts recorded): its cycle, and the
    cycles of its visitors' other visits (a moved experiment can change whose visit came first)."""
    mark_cycle_dirty(_cycle_of_experiment(event.experiment_id))
    visitors = list(db.session.scalars(select(Visit.user_id).where(Visit.experiment_id == event.experiment_id)))
    for cycle_id in _cycles_of_visitors(visitors) if visitors else ():
        mark_cycle_dirty(cycle_id)


def on_visit_changed(event: VisitChanged) -> None:
    """A visit changed: its experiment's cycle and the cycles of the visitor's other visits."""
    mark_cycle_dirty(_cycle_of_experiment(event.experiment_id))
    for cycle_id in _cycles_of_visitors([event.user_id]):
        mark_cycle_dirty(cycle_id)


def on_publication_changed(event: PublicationChanged) -> None:
    """A publication recorded, linked or removed: the cycles of its proposals."""
    for proposal_id in sorted(set(event.proposal_ids)):
        mark_cycle_dirty(_cycle_of_proposal(proposal_id))


SUBSCRIPTIONS: list[tuple[type, Callable[[Any], None]]] = [
    (ProposalSubmitted, on_proposal_event),
    (ProposalChanged, on_proposal_event),
    (ProposalWithdrawn, on_proposal_event),
    (CallClosed, on_call_event),
    (DecisionsReleased, on_call_event),
    (AwardsChanged, on_call_event),
    (SchedulePublished, on_schedule_published),
    (ExperimentChanged, on_experiment_event),
    (ExperimentCancelled, on_experiment_event),
    (ExperimentCompleted, on_experiment_event),
    (VisitChanged, on_visit_changed),
    (PublicationChanged, on_publication_changed),
]


def register_subscribers() -> None:
    for event_type, handler in SUBSCRIPTIONS:
        events.subscribe(event_type, handler)


# --- refreshing -------------------------------------------------------------------------


def dirty_cycle_ids() -> list[int]:
    return list(db.session.scalars(select(ReportDirtyCycle.cycle_id).order_by(ReportDirtyCycle.cycle_id)))


def _refresh_one(cycle_id: int) -> int:
    """Take the cycle's dirty mark, then rebuild its rows: one transaction."""
    with unit_of_work():
        if db.session.get_bind().dialect.name == "postgresql":
            # one rebuild of a cycle at a time: the minute job, a refresh from the dashboard and the
            # nightly rebuild run in threads of the jobs process and must not interleave their
            # delete-and-insert of the same rows (SQLite serialises its writers already)
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :cycle)"), {"space": CYCLE_LOCK_SPACE, "cycle": cycle_id}
            )
        db.session.execute(delete(ReportDirtyCycle).where(ReportDirtyCycle.cycle_id == cycle_id))
        cycle = db.session.get(Cycle, cycle_id)
        if cycle is None:
            return 0
        return rollups.write_cycle(rollups.build_cycle(cycle))


def _refresh(cycle_ids: Iterable[int], *, full: bool, progress: Progress | None, now: datetime | None) -> RefreshReport:
    ids = list(cycle_ids)
    started = now or utcnow()
    rows = 0
    for n, cycle_id in enumerate(ids, start=1):
        rows += _refresh_one(cycle_id)
        if progress:
            progress(n, len(ids), str(cycle_id))
    with unit_of_work():
        db.session.add(ReportRefresh(full=full, cycles=len(ids), rows=rows, started_at=started, finished_at=utcnow()))
    return RefreshReport(len(ids), rows, full)


def refresh_dirty(*, progress: Progress | None = None, now: datetime | None = None) -> RefreshReport:
    """Rebuild the rollups of the cycles marked dirty since the last refresh (the incremental path)."""
    return _refresh(dirty_cycle_ids(), full=False, progress=progress, now=now)


def refresh_cycles(cycle_ids: Iterable[int], *, progress: Progress | None = None) -> RefreshReport:
    return _refresh(cycle_ids, full=False, progress=progress, now=None)


def rebuild_all(*, progress: Progress | None = None, now: datetime | None = None) -> RefreshReport:
    """Rebuild every cycle's rollups (nightly reconcile and `flask reports refresh --full`)."""
    ids = list(db.session.scalars(select(Cycle.id).order_by(Cycle.starts_on, Cycle.id)))
    return _refresh(ids, full=True, progress=progress, now=now)


REFRESH_KIND = "reports.refresh"


@dataclass(frozen=True)
class RefreshRequest:
    job: JobRequest
    #: False when a refresh was queued or running already: that one is returned, nothing queued
    queued: bool


def find_active_refresh() -> JobRequest | None:
    """The queued or running refresh request, if any (the oldest)."""
    return db.session.scalar(
        select(JobRequest)
        .where(JobRequest.kind == REFRESH_KIND, JobRequest.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .order_by(JobRequest.id)
        .limit(1)
    )


def find_latest_refresh_request() -> JobRequest | None:
    return db.session.scalar(
        select(JobRequest).where(JobRequest.kind == REFRESH_KIND).order_by(JobRequest.id.desc()).limit(1)
    )


@transactional
def request_refresh(*, actor: Any, full: bool = False, now: datetime | None = None) -> RefreshRequest:
    """Staff ask for a refresh from the web: a job request the jobs process runs (never the web
    worker). Incremental (the dirty cycles) by default; `full` rebuilds every cycle. While one
    is queued or running, a second request queues nothing and returns that one.

    Raises: PermissionDenied (not user office / admin; `full` by anyone but an admin).
    """
    require(permissions.can_refresh_reports, actor)
    if full:
        require(permissions.can_rebuild_reports, actor)
    if db.session.get_bind().dialect.name == "postgresql":  # two clicks at once queue one job
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REFRESH_REQUEST_LOCK})
    active = find_active_refresh()
    if active is not None:
        return RefreshRequest(active, queued=False)
    job = jobrequests.request_job(REFRESH_KIND, params={"full": bool(full)}, actor=actor, now=now)
    audit.record(actor, "reports.refresh_requested", job, changes={"full": bool(full)}, at=now)
    return RefreshRequest(job, queued=True)


REFRESH_REQUEST_LOCK = zlib.crc32(b"beamtime.reports.refresh_request")
