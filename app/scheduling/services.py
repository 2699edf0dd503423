"""Use cases of the scheduling domain: the only code here that changes state.

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
from app.core.errors import Conflict, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import BLOCK_KINDS, Booking, BookingKind, BookingStatus, Downtime, DowntimeKind
from app.scheduling import permissions
from app.scheduling.calendar import CycleGrid

EXCLUSION_VIOLATION = "23P01"
MAX_TEXT = 200


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION or "ex_bookings_no_overlap" in str(exc.orig)


def _int(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("integer_range", field=field, minimum=minimum, maximum=maximum) from None
    if not minimum <= number <= maximum:
        raise ValidationFailed("integer_range", field=field, minimum=minimum, maximum=maximum)
    return number


def resolve_run(cal: CycleGrid, day: date | None, shift: Any, length: Any) -> tuple[int, int]:
    """(first, end) indices of `length` shifts from shift `shift` of `day`, inside the cycle.

    Raises: ValidationFailed (required, integer_range, outside_cycle).
    """
    if day is None:
        raise ValidationFailed("required", field="day")
    pattern = len(cal.grid.pattern)
    shift = _int(shift, "shift", minimum=0, maximum=pattern - 1)
    length = _int(length, "length", minimum=1, maximum=max(1, len(cal)))
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
        if not _is_exclusion_violation(exc):
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
    try:
        kind = BookingKind(kind)
    except ValueError:
        raise ValidationFailed("block_kind", field="kind") from None
    if kind not in BLOCK_KINDS:
        raise ValidationFailed("block_kind", field="kind")
    instrument = facility_queries.get_instrument(instrument_id)
    if not instrument.active:
        raise ValidationFailed("instrument_retired", field="instrument_id", code=instrument.code)
    cycle = facility_queries.get_cycle(cycle_id)
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
