"""Use cases of the scheduling domain: the only code here that changes state.

This module holds direct booking (blocks, rapid-access sessions) and the solver's settings per
award; its sub-modules, re-exported at the end:

    drafts      solving a cycle from the web (a job request), drafts kept and compared, the
                timeline's edits (move, swap, pin, unpin, remove, add) with their warnings
    lifecycle   publishing; changes and cancellations of published experiments (e-mail to the
                team, iCal sequence); the clock's start and completion; delivered shifts

Direct booking holds under concurrency (DESIGN.md §5): the service checks for a live booking
in the way (a precise message), and on PostgreSQL the exclusion constraint refuses a
concurrent insert the check could not see — its violation becomes the same
Conflict("slot_taken"). On SQLite the unit of work starts with BEGIN IMMEDIATE, so writers
queue and the check suffices.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Booking, BookingKind, BookingStatus, Downtime, DowntimeKind, Instrument
from app.proposals.models import AccessRoute
from app.proposals.status import ProposalStatus
from app.reviews.models import Award, Decision, Outcome
from app.scheduling import permissions, queries
from app.scheduling.calendar import CycleGrid
from app.scheduling.models import DEFAULT_MAX_SESSIONS, AwardSchedule, Experiment

MAX_TEXT = 200


def resolve_run(cal: CycleGrid, day: date | None, shift: Any, length: Any) -> tuple[int, int]:
    """(first, end) indices of `length` shifts from shift `shift` of `day`, inside the cycle.

    Raises: ValidationFailed (required, integer_range, outside_cycle).
    """
    if day is None:
        raise ValidationFailed("required", field="day")
    pattern = len(cal.grid.pattern)
    shift = facility_services.bounded_int(shift, "shift", minimum=0, maximum=pattern - 1)
    length = facility_services.bounded_int(length, "length", minimum=1, maximum=max(1, len(cal)))
    first = cal.index(day, shift)
    cycle = cal.cycle
    if first is None:
        raise ValidationFailed(
            "outside_cycle",
            field="day",
            cycle=cycle.name,
            starts=cycle.starts_on.isoformat(),
            ends=cycle.ends_on.isoformat(),
        )
    if first + length > len(cal):
        raise ValidationFailed(
            "outside_cycle",
            field="length",
            cycle=cycle.name,
            starts=cycle.starts_on.isoformat(),
            ends=cycle.ends_on.isoformat(),
        )
    return first, first + length


def check_not_in_shutdown(cal: CycleGrid, starts_at: datetime, ends_at: datetime) -> None:
    """Raises: ValidationFailed("in_shutdown")."""
    shutdown = db.session.scalar(
        select(Downtime)
        .where(
            Downtime.cycle_id == cal.cycle.id,
            Downtime.kind == DowntimeKind.SHUTDOWN,
            Downtime.starts_at < ends_at,
            Downtime.ends_at > starts_at,
        )
        .order_by(Downtime.starts_at)
        .limit(1)
    )
    if shutdown is not None:
        raise ValidationFailed(
            "in_shutdown",
            field="day",
            title=shutdown.title or shutdown.kind.value,
            starts=cal.local(shutdown.starts_at),
            ends=cal.local(shutdown.ends_at),
        )


def _in_the_way(instrument_id: int, cal: CycleGrid, first: int, end: int, changeover: int, kind: BookingKind):
    """A live booking overlapping [first, end); for an experiment also another experiment
    closer than the instrument's changeover."""
    starts_at, ends_at = cal.starts_at(first), cal.ends_at(end)
    other = facility_queries.overlapping_booking(instrument_id, starts_at, ends_at)
    if other is not None or kind != BookingKind.EXPERIMENT or changeover == 0:
        return other
    wide_start = cal.starts_at(max(0, first - changeover))
    wide_end = cal.ends_at(min(len(cal), end + changeover))
    return db.session.scalar(
        select(Booking)
        .where(
            Booking.instrument_id == instrument_id,
            Booking.kind == BookingKind.EXPERIMENT,
            Booking.status != BookingStatus.CANCELLED,
            Booking.starts_at < wide_end,
            Booking.ends_at > wide_start,
        )
        .limit(1)
    )


def insert_booking(booking: Booking, cal: CycleGrid, first: int, end: int, *, changeover: int = 0) -> Booking:
    """Insert `booking` on [first, end) unless something is in the way. Call inside a unit of work.

    Raises: Conflict("slot_taken") — also when PostgreSQL's exclusion constraint refuses a
    concurrent insert.
    """
    other = _in_the_way(booking.instrument_id, cal, first, end, changeover, booking.kind)
    if other is not None:
        raise _slot_taken(cal, other)
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.flush()
    except IntegrityError as exc:
        if not facility_services.is_exclusion_violation(exc):
            raise
        # The concurrent booking has committed (the constraint waited for it): name it.
        raise _slot_taken(cal, _in_the_way(booking.instrument_id, cal, first, end, 0, booking.kind)) from None
    return booking


def _slot_taken(cal: CycleGrid, other: Booking | None) -> Conflict:
    if other is None:
        return Conflict("slot_taken", other="—", starts="—", ends="—")
    return Conflict(
        "slot_taken",
        other=other.title or other.kind.value,
        starts=cal.local(other.starts_at),
        ends=cal.local(other.ends_at),
    )


@transactional
def book_block(
    instrument_id: int,
    cycle_id: int,
    *,
    kind: BookingKind | str,
    day: date | None,
    shift: Any,
    length: Any,
    title: str = "",
    note: str = "",
    actor: Any,
    now: datetime | None = None,
) -> Booking:
    """Book a free block (maintenance, in-house research, rapid-access slot) of `length` shifts
    from shift `shift` of `day` on an instrument (staff).

    Raises: PermissionDenied, NotFound (instrument, cycle), InvalidState (facility not set up),
    ValidationFailed (block_kind, instrument_retired, required, integer_range, outside_cycle,
    in_past, in_shutdown, too_long), Conflict (slot_taken).
    """
    require(permissions.can_book_blocks, actor)
    now = now or utcnow()
    kind, instrument, cycle = facility_services.block_target(kind, instrument_id, cycle_id)
    title = (title or "").strip()
    note = (note or "").strip()
    if len(title) > MAX_TEXT:
        raise ValidationFailed("too_long", field="title", maximum=MAX_TEXT)
    if len(note) > 2000:
        raise ValidationFailed("too_long", field="note", maximum=2000)
    cal = CycleGrid.of(cycle)
    first, end = resolve_run(cal, day, shift, length)
    starts_at, ends_at = cal.starts_at(first), cal.ends_at(end)
    if starts_at < now:
        raise ValidationFailed("in_past", field="day")
    check_not_in_shutdown(cal, starts_at, ends_at)
    booking = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=kind,
        status=BookingStatus.CONFIRMED,
        starts_at=starts_at,
        ends_at=ends_at,
        title=title,
        note=note,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    insert_booking(booking, cal, first, end)
    audit.record(
        actor,
        "booking.added",
        booking,
        changes={
            "instrument": instrument.code,
            "cycle": cycle.name,
            "kind": kind,
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
        at=now,
    )
    return booking


# --- rapid access -------------------------------------------------------------------------

BOOKABLE_STATUSES = (ProposalStatus.ACCEPTED, ProposalStatus.SCHEDULED)


def booked_shifts(cal: CycleGrid, award_id: int) -> int:
    """Shifts of the award's live experiments in this cycle."""
    rows = db.session.scalars(
        select(Booking)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .where(Experiment.award_id == award_id, Booking.status != BookingStatus.CANCELLED)
    )
    return sum(len(cal.covering(b.starts_at, b.ends_at)) for b in rows)


def _containing_slot(instrument_id: int, starts_at: datetime, ends_at: datetime) -> Booking | None:
    """The live rapid-access slot that contains [starts_at, ends_at), locked (PostgreSQL) so
    two PIs splitting the same slot queue; a slot another PI has just split no longer matches."""
    return db.session.scalar(
        select(Booking)
        .where(
            Booking.instrument_id == instrument_id,
            Booking.kind == BookingKind.RAPID_ACCESS,
            Booking.status != BookingStatus.CANCELLED,
            Booking.starts_at <= starts_at,
            Booking.ends_at >= ends_at,
        )
        .with_for_update(of=Booking)
        .limit(1)
    )


@transactional
def book_rapid_access(
    award_id: int,
    *,
    day: date | None,
    shift: Any,
    length: Any,
    actor: Any,
    now: datetime | None = None,
) -> Booking:
    """Book a session of a rapid-access award inside a rapid-access slot of its instrument (the
    PI, or staff for them). The slot is split around the session (or replaced when the session
    fills it) in the same transaction; the session is published at once (the solver keeps it).

    Raises: NotFound (award, or not the PI's), InvalidState (award_not_bookable: not rapid
    access, not accepted, decision not released), ValidationFailed (required, integer_range,
    outside_cycle, in_past, in_shutdown, award_exceeded, not_in_rapid_slot, start_not_allowed),
    Conflict (slot_taken).
    """
    now = now or utcnow()
    award = queries.get_award_for_booking(award_id, actor)
    proposal = award.proposal
    decision = db.session.get(Decision, proposal.id)
    if (
        proposal.call.route != AccessRoute.RAPID_ACCESS
        or proposal.status not in BOOKABLE_STATUSES
        or decision is None
        or decision.released_at is None
        or decision.outcome != Outcome.ACCEPTED
    ):
        raise InvalidState("award_not_bookable")
    instrument: Instrument = award.instrument
    cal = CycleGrid.of(proposal.call.cycle)
    first, end = resolve_run(cal, day, shift, length)
    starts_at, ends_at = cal.starts_at(first), cal.ends_at(end)
    if starts_at < now:
        raise ValidationFailed("in_past", field="day")
    check_not_in_shutdown(cal, starts_at, ends_at)
    _check_start_allowed(instrument, cal, first)
    remaining = award.shifts - booked_shifts(cal, award.id)
    if end - first > remaining:
        raise ValidationFailed("award_exceeded", field="length", remaining=max(0, remaining), awarded=award.shifts)
    slot = _containing_slot(instrument.id, starts_at, ends_at)
    if slot is None:
        # Another PI may have just split this slot: the lock waited for them, but on PostgreSQL a
        # statement does not see rows committed after it began — the new piece needs a fresh look.
        slot = _containing_slot(instrument.id, starts_at, ends_at)
    if slot is None:
        other = _in_the_way(instrument.id, cal, first, end, 0, BookingKind.EXPERIMENT)
        if other is not None and other.kind == BookingKind.EXPERIMENT:
            raise _slot_taken(cal, other)
        raise ValidationFailed("not_in_rapid_slot", field="day", code=instrument.code)
    pieces = [(a, b) for a, b in ((slot.starts_at, starts_at), (ends_at, slot.ends_at)) if b > a]
    if not pieces:
        db.session.delete(slot)
    else:
        slot.starts_at, slot.ends_at = pieces[0]
    db.session.flush()  # the slot gives way before anything is inserted in its place
    if len(pieces) == 2:
        db.session.add(
            Booking(
                instrument_id=slot.instrument_id,
                cycle_id=slot.cycle_id,
                kind=BookingKind.RAPID_ACCESS,
                status=slot.status,
                starts_at=pieces[1][0],
                ends_at=pieces[1][1],
                title=slot.title,
                note=slot.note,
                created_by_id=slot.created_by_id,
                created_at=now,
            )
        )
        db.session.flush()
    booking = Booking(
        instrument_id=instrument.id,
        cycle_id=cal.cycle.id,
        kind=BookingKind.EXPERIMENT,
        status=BookingStatus.PUBLISHED,
        starts_at=starts_at,
        ends_at=ends_at,
        title=proposal.reference or "",
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    insert_booking(booking, cal, first, end, changeover=instrument.changeover_shifts)
    db.session.add(Experiment(booking_id=booking.id, award_id=award.id, local_contact_id=award.local_contact_id))
    audit.record(
        actor,
        "experiment.booked",
        booking,
        changes={"award": award.id, "instrument": instrument.code, "starts_at": starts_at, "ends_at": ends_at},
        at=now,
    )
    return booking


def _check_start_allowed(instrument: Instrument, cal: CycleGrid, first: int) -> None:
    """An experiment starts on one of the instrument's start shifts and weekdays."""
    shift = cal.shifts[first]
    if instrument.start_shifts and shift.index not in instrument.start_shifts:
        raise ValidationFailed("start_not_allowed", field="shift", code=instrument.code)
    if instrument.start_weekdays and shift.day.weekday() not in instrument.start_weekdays:
        raise ValidationFailed("start_not_allowed", field="day", code=instrument.code)


# --- solver settings per award ------------------------------------------------------------


@transactional
def set_max_sessions(award_id: int, max_sessions: Any, *, actor: Any, now: datetime | None = None) -> AwardSchedule:
    """Let the solver split an award into at most `max_sessions` sessions (staff; default 1).

    Raises: PermissionDenied, NotFound (award), ValidationFailed (integer_range).
    """
    require(permissions.can_solve_schedule, actor)
    award = db.session.get(Award, award_id)
    if award is None:
        raise NotFound("award_not_found")
    number = facility_services.bounded_int(max_sessions, "max_sessions", minimum=1, maximum=max(1, award.shifts))
    row = db.session.get(AwardSchedule, award.id)
    before = row.max_sessions if row is not None else DEFAULT_MAX_SESSIONS
    if row is None:
        row = AwardSchedule(award_id=award.id, max_sessions=number)
        db.session.add(row)
    row.max_sessions, row.updated_at = number, now or utcnow()
    audit.record(actor, "award.max_sessions", award, changes={"max_sessions": {"before": before, "after": number}})
    return row


# the workflow's use cases (they use the booking helpers above)
from app.scheduling.services.drafts import *  # noqa: E402,F403
from app.scheduling.services.lifecycle import *  # noqa: E402,F403
