"""Reads of the scheduling domain: free windows of an instrument's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.errors import NotFound
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus, Cycle, Instrument
from app.proposals.models import Call
from app.reviews.models import Award, Decision, PanelDecision
from app.scheduling import permissions
from app.scheduling.calendar import CycleGrid, booking_indices, free_runs, shutdown_indices
from app.scheduling.models import DEFAULT_MAX_SESSIONS, AwardSchedule, Experiment


@dataclass(frozen=True)
class Window:
    """A free run of shifts: [starts_at, ends_at), `shifts` long."""

    starts_at: datetime
    ends_at: datetime
    shifts: int


def free_windows(cycle: Cycle, instrument: Instrument, *, now: datetime) -> list[Window]:
    """The runs of the cycle's shifts on `instrument` not booked, not in a shutdown, not started."""
    cal = CycleGrid.of(cycle)
    bookings = [b for b in facility_queries.list_bookings(cycle.id) if b.instrument_id == instrument.id]
    busy = booking_indices(cal, bookings) | shutdown_indices(cal, facility_queries.list_downtimes(cycle.id))
    busy |= {i for i, s in enumerate(cal.shifts) if s.starts_at < now}
    return [Window(cal.starts_at(a), cal.ends_at(b), b - a) for a, b in free_runs(len(cal), busy)]


def get_award_for_booking(award_id: int, actor: Any) -> Award:
    """An award its PI (or staff) may book sessions of. Raises: NotFound (also someone else's)."""
    award = db.session.get(Award, award_id)
    if award is None or award.withdrawn_at is not None or not permissions.can_book_rapid_access(actor, award):
        raise NotFound("award_not_found")
    if not permissions.can_book_blocks(actor) and not _released(award):
        raise NotFound("award_not_found")  # the PI learns of an award with the released decision
    return award


def _released(award: Award) -> bool:
    decision = db.session.get(Decision, award.proposal_id)
    return decision is not None and decision.released_at is not None


def rapid_slots(cycle: Cycle, instrument: Instrument, *, now: datetime) -> list[Booking]:
    """The rapid-access slots of `instrument` in `cycle` that have not ended."""
    return [
        b
        for b in facility_queries.list_bookings(cycle.id, kinds=[BookingKind.RAPID_ACCESS])
        if b.instrument_id == instrument.id and b.ends_at > now
    ]


def award_sessions(award_id: int) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(Experiment.award_id == award_id, Booking.status != BookingStatus.CANCELLED)
            .order_by(Booking.starts_at)
        )
    )


@dataclass(frozen=True)
class AwardRow:
    award: Award
    grade: float | None
    max_sessions: int
    sessions: list[Booking]


def cycle_awards(cycle: Cycle) -> list[AwardRow]:
    """The awards of the cycle's calls (not withdrawn) with grade, max sessions and sessions booked."""
    awards = list(
        db.session.scalars(
            select(Award)
            .join(Call, Call.id == Award.call_id)
            .where(Call.cycle_id == cycle.id, Award.withdrawn_at.is_(None))
            .order_by(Award.instrument_id, Award.id)
            .options(selectinload(Award.proposal), selectinload(Award.local_contact))
        )
    )
    ids = [a.id for a in awards]
    grades = dict(
        db.session.execute(
            select(PanelDecision.proposal_id, PanelDecision.final_grade).where(
                PanelDecision.proposal_id.in_({a.proposal_id for a in awards})
            )
        ).all()
    )
    limits = dict(
        db.session.execute(
            select(AwardSchedule.award_id, AwardSchedule.max_sessions).where(AwardSchedule.award_id.in_(ids))
        ).all()
    )
    sessions: dict[int, list[Booking]] = {a.id: [] for a in awards}
    for award_id, booking in db.session.execute(
        select(Experiment.award_id, Booking)
        .join(Booking, Booking.id == Experiment.booking_id)
        .where(Experiment.award_id.in_(ids), Booking.status != BookingStatus.CANCELLED)
        .order_by(Booking.starts_at)
    ):
        sessions[award_id].append(booking)
    return [
        AwardRow(a, grades.get(a.proposal_id), limits.get(a.id, DEFAULT_MAX_SESSIONS), sessions[a.id]) for a in awards
    ]
