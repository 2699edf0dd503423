"""An experiment through its life (DESIGN.md §3): planned → published → running → completed |
cancelled.

- `publish_schedule` (staff): a cycle's planned experiments become published; each team (the
  PI and the co-proposers of the proposal) gets its dates in one e-mail, once (outbox,
  idempotency key); `SchedulePublished`.
- A later change of a published experiment (`published_changed`, called by the timeline's
  edits) or its cancellation (`cancel_experiment`, staff, with a reason) e-mails only that team
  and raises the experiment's iCal `sequence`; `ExperimentChanged` / `ExperimentCancelled`.
- The clock (`advance_experiments`, a periodic job): published experiments whose start has come
  run, running (or published) ones whose end has come are completed; idempotent;
  `ExperimentStarted` / `ExperimentCompleted`.
- `record_delivery` (the local contact or staff): delivered shifts and lost time (reason,
  note) of an experiment that ended; delivered + lost ≤ booked shifts; `ExperimentCompleted` again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app.core import audit, events, outbox
from app.core.db import utcnow
from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Booking, BookingKind, BookingStatus, Cycle
from app.proposals.models import Call, Proposal
from app.proposals.status import ProposalStatus, check_move
from app.reviews.models import Award
from app.scheduling import permissions
from app.scheduling.calendar import CycleGrid
from app.scheduling.events import (
    ExperimentCancelled,
    ExperimentChanged,
    ExperimentCompleted,
    ExperimentStarted,
    SchedulePublished,
)
from app.scheduling.models import Experiment, ExperimentPin, LostTimeReason, ScheduleDraft

__all__ = [
    "ClockRun",
    "advance_experiments",
    "cancel_experiment",
    "publish_schedule",
    "published_changed",
    "record_delivery",
    "team_emails",
]

MAX_REASON = 500
MAX_NOTE = 2000


def team_emails(experiment: Experiment) -> list[str]:
    """The PI and co-proposers of the experiment's proposal (each address once, PI first)."""
    members = sorted(experiment.award.proposal.members, key=lambda m: (m.role.value != "pi", m.id))
    seen: list[str] = []
    for m in members:
        if m.user is not None and m.user.email and m.user.email not in seen:
            seen.append(m.user.email)
    return seen


def _dates(grid, experiments: list[Experiment]) -> list[str]:
    return [
        str(
            _l(
                "- %(code)s: %(starts)s – %(ends)s (%(zone)s)",
                code=e.booking.instrument.code,
                starts=grid.local(e.booking.starts_at),
                ends=grid.local(e.booking.ends_at),
                zone=grid.tz.key,
            )
        )
        for e in experiments
    ]


def _key(*parts: Any) -> str:
    text = ":".join(str(p) for p in parts)
    return text if len(text) <= 180 else text[:120] + ":" + hashlib.sha256(text.encode()).hexdigest()[:40]


LIVE = (BookingStatus.PUBLISHED, BookingStatus.RUNNING, BookingStatus.COMPLETED)


def _mark_scheduled_when_complete(proposal: Proposal, *, actor: Any, now: datetime) -> bool:
    """An accepted proposal becomes `scheduled` once every award it holds has all its shifts in
    published sessions of its own cycle (DESIGN.md §3). Returns whether it moved."""
    if proposal.status != ProposalStatus.ACCEPTED:
        return False
    awards = db.session.scalars(
        select(Award).where(Award.proposal_id == proposal.id, Award.withdrawn_at.is_(None))
    ).all()
    if not awards:
        return False
    for award in awards:
        cycle = facility_queries.get_cycle(db.session.get(Call, award.call_id).cycle_id)
        cal = CycleGrid.of(cycle)
        booked = sum(
            len(cal.covering(b.starts_at, b.ends_at))
            for b in db.session.scalars(
                select(Booking)
                .join(Experiment, Experiment.booking_id == Booking.id)
                .where(Experiment.award_id == award.id, Booking.cycle_id == cycle.id, Booking.status.in_(LIVE))
            )
        )
        if booked < award.shifts:
            return False
    before = proposal.status
    proposal.status = check_move(before, ProposalStatus.SCHEDULED)
    audit.record(
        actor,
        "proposal.scheduled",
        proposal,
        changes={"status": {"before": before.value, "after": "scheduled"}},
        at=now,
    )
    return True


@transactional
def publish_schedule(cycle_id: int, *, actor: Any, now: datetime | None = None) -> list[int]:
    """Publish the cycle's planned experiments and tell each team its dates, once.

    Raises: PermissionDenied (not staff), NotFound (cycle), InvalidState (nothing_to_publish).
    """
    require(permissions.can_publish_schedule, actor)
    now = now or utcnow()
    cycle = facility_queries.get_cycle(cycle_id)
    rows = list(
        db.session.scalars(
            select(Experiment)
            .join(Booking, Booking.id == Experiment.booking_id)
            .where(
                Booking.cycle_id == cycle.id,
                Booking.kind == BookingKind.EXPERIMENT,
                Booking.status == BookingStatus.PLANNED,
            )
            .order_by(Booking.starts_at, Booking.id)
            .with_for_update(of=Booking)
        )
    )
    if not rows:
        raise InvalidState("nothing_to_publish", cycle=cycle.name)
    by_proposal: dict[int, list[Experiment]] = defaultdict(list)
    for e in rows:
        e.booking.status = BookingStatus.PUBLISHED
        e.published_at = now
        by_proposal[e.award.proposal_id].append(e)
    ids = [e.booking_id for e in rows]
    db.session.execute(delete(ExperimentPin).where(ExperimentPin.booking_id.in_(ids)))
    grid = facility_queries.grid()
    for proposal_id, experiments in sorted(by_proposal.items()):
        proposal = experiments[0].award.proposal
        recipients = team_emails(experiments[0])
        if not recipients:
            continue
        subject = str(_l("Beamtime scheduled for proposal %(ref)s", ref=proposal.reference))
        body = "\n".join(
            [
                str(_l("Dear team of proposal %(ref)s,", ref=proposal.reference)),
                "",
                str(_l("Your beamtime in cycle %(cycle)s is scheduled:", cycle=cycle.name)),
                *_dates(grid, experiments),
                "",
                str(_l("Please plan your visit accordingly; we will tell you of any change.")),
            ]
        )
        outbox.enqueue(
            recipients,
            subject,
            body,
            idempotency_key=_key("schedule-published", proposal_id, *sorted(e.booking_id for e in experiments)),
            now=now,
        )
    applied = db.session.scalar(
        select(ScheduleDraft).where(ScheduleDraft.cycle_id == cycle.id, ScheduleDraft.applied.is_(True))
    )
    if applied is not None:
        applied.published_at = now
    db.session.flush()
    for proposal_id in sorted(by_proposal):
        _mark_scheduled_when_complete(db.session.get(Proposal, proposal_id), actor=actor, now=now)
    audit.record(actor, "schedule.published", cycle, changes={"experiments": len(ids)}, at=now)
    events.publish(SchedulePublished(cycle_id=cycle.id, experiment_ids=tuple(ids)))
    return ids


def published_changed(booking: Booking, *, now: datetime) -> None:
    """A published (or running) experiment changed: raise its sequence, e-mail only its team,
    `ExperimentChanged`. Call inside the unit of work that changed it."""
    experiment = db.session.get(Experiment, booking.id)
    experiment.sequence = (experiment.sequence or 0) + 1
    experiment.updated_at = now
    grid = facility_queries.grid()
    proposal = experiment.award.proposal
    recipients = team_emails(experiment)
    if recipients:
        outbox.enqueue(
            recipients,
            str(_l("Your beamtime for proposal %(ref)s has changed", ref=proposal.reference)),
            "\n".join(
                [
                    str(_l("Dear team of proposal %(ref)s,", ref=proposal.reference)),
                    "",
                    str(_l("Your beamtime has new dates:")),
                    *_dates(grid, [experiment]),
                ]
            ),
            idempotency_key=_key("experiment-changed", booking.id, experiment.sequence),
            now=now,
        )
    db.session.flush()
    events.publish(ExperimentChanged(experiment_id=booking.id))


@transactional
def cancel_experiment(booking_id: int, *, reason: str, actor: Any, now: datetime | None = None) -> Booking:
    """Cancel an experiment (staff) with a reason; a published or running one's team is told.

    Raises: NotFound, PermissionDenied, ValidationFailed (required / too_long: reason),
    InvalidState (experiment_not_cancellable: completed or cancelled already).
    """
    require(permissions.can_cancel_experiment, actor)
    now = now or utcnow()
    experiment = db.session.get(Experiment, booking_id)
    if experiment is None:
        raise NotFound("experiment_not_found")
    booking = experiment.booking
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("required", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed("too_long", field="reason", maximum=MAX_REASON)
    if booking.status not in (BookingStatus.PLANNED, BookingStatus.PUBLISHED, BookingStatus.RUNNING):
        raise InvalidState("experiment_not_cancellable", status=booking.status.value)
    was = booking.status
    booking.status = BookingStatus.CANCELLED
    booking.note = reason
    db.session.execute(delete(ExperimentPin).where(ExperimentPin.booking_id == booking.id))
    if was != BookingStatus.PLANNED:
        experiment.sequence = (experiment.sequence or 0) + 1
        experiment.updated_at = now
        proposal = experiment.award.proposal
        recipients = team_emails(experiment)
        if recipients:
            outbox.enqueue(
                recipients,
                str(_l("Your beamtime for proposal %(ref)s is cancelled", ref=proposal.reference)),
                "\n".join(
                    [
                        str(_l("Dear team of proposal %(ref)s,", ref=proposal.reference)),
                        "",
                        str(_l("This beamtime is cancelled:")),
                        *_dates(facility_queries.grid(), [experiment]),
                        "",
                        str(_l("Reason: %(reason)s", reason=reason)),
                    ]
                ),
                idempotency_key=_key("experiment-cancelled", booking.id),
                now=now,
            )
    db.session.flush()
    if was == BookingStatus.PLANNED:
        from app.scheduling.services.drafts import refresh_applied_draft

        refresh_applied_draft(db.session.get(Cycle, booking.cycle_id), now=now)
    audit.record(actor, "experiment.cancelled", booking, changes={"status": was.value, "reason": reason}, at=now)
    if was != BookingStatus.PLANNED:
        events.publish(ExperimentCancelled(experiment_id=booking.id))
    return booking


@dataclass(frozen=True)
class ClockRun:
    started: int
    completed: int


@transactional
def advance_experiments(*, now: datetime | None = None) -> ClockRun:
    """The clock (a periodic job): start published experiments whose time has come, complete
    those that have ended. Running it again changes nothing.
    """
    now = now or utcnow()
    started = completed = 0
    due = db.session.scalars(
        select(Booking)
        .where(
            Booking.kind == BookingKind.EXPERIMENT,
            Booking.status.in_([BookingStatus.PUBLISHED, BookingStatus.RUNNING]),
            Booking.starts_at <= now,
        )
        .order_by(Booking.starts_at, Booking.id)
        .with_for_update(of=Booking)
    ).all()
    for booking in due:
        if booking.status == BookingStatus.PUBLISHED:
            booking.status = BookingStatus.RUNNING
            started += 1
            db.session.flush()
            events.publish(ExperimentStarted(experiment_id=booking.id))
        if booking.ends_at <= now:
            booking.status = BookingStatus.COMPLETED
            completed += 1
            db.session.flush()
            events.publish(ExperimentCompleted(experiment_id=booking.id))
    return ClockRun(started, completed)


@transactional
def record_delivery(
    booking_id: int,
    *,
    delivered: Any,
    lost: Any,
    reason: str | None,
    note: str = "",
    actor: Any,
    now: datetime | None = None,
) -> Experiment:
    """Record the shifts delivered and lost (with a reason) of an experiment that ended.

    Raises: NotFound (also for someone who may not record it), InvalidState
    (experiment_not_ended), ValidationFailed (integer_range / delivery_exceeds_booked:
    delivered_shifts; lost_reason_required / choice: lost_reason; too_long: lost_note).
    """
    now = now or utcnow()
    experiment = db.session.get(Experiment, booking_id)
    if experiment is None or not permissions.can_record_delivery(actor, experiment):
        raise NotFound("experiment_not_found")
    booking = experiment.booking
    if booking.status != BookingStatus.COMPLETED:
        raise InvalidState("experiment_not_ended", status=booking.status.value)
    cal = CycleGrid.of(db.session.get(Cycle, booking.cycle_id))
    booked = len(cal.covering(booking.starts_at, booking.ends_at))
    delivered = facility_services.bounded_int(delivered, "delivered_shifts", minimum=0, maximum=booked)
    lost = facility_services.bounded_int(
        lost if str(lost or "").strip() else 0, "lost_shifts", minimum=0, maximum=booked
    )
    if delivered + lost > booked:
        raise ValidationFailed("delivery_exceeds_booked", field="lost_shifts", booked=booked)
    lost_reason: LostTimeReason | None = None
    if reason:
        try:
            lost_reason = LostTimeReason(reason)
        except ValueError:
            raise ValidationFailed("choice", field="lost_reason") from None
    if lost > 0 and lost_reason is None:
        raise ValidationFailed("lost_reason_required", field="lost_reason")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed("too_long", field="lost_note", maximum=MAX_NOTE)
    before = {"delivered": experiment.delivered_shifts, "lost": experiment.lost_shifts}
    experiment.delivered_shifts = delivered
    experiment.lost_shifts = lost
    experiment.lost_reason = lost_reason if lost > 0 else None
    experiment.lost_note = note
    experiment.updated_at = now
    db.session.flush()
    audit.record(
        actor,
        "experiment.delivery_recorded",
        booking,
        changes={
            "delivered": {"before": before["delivered"], "after": delivered},
            "lost": {"before": before["lost"], "after": lost},
            "reason": lost_reason.value if lost_reason else None,
        },
        at=now,
    )
    events.publish(ExperimentCompleted(experiment_id=booking.id))
    return experiment
