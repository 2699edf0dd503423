"""Use cases of the guesthouse: rooms and beds, assigning nights by hand or automatically
(`rooming.assign`: fewest bed changes, shared rooms only for visitors who accept sharing),
freeing them, and following the visits: a cancelled visit frees its nights, changed dates trim
them and place the new ones (subscriber to `VisitChanged`).

Never two people in one bed on one night (DESIGN.md §5): every insert goes through
`_insert`, which checks inside the unit of work (BEGIN IMMEDIATE on SQLite serialises writers)
and turns PostgreSQL's exclusion-constraint violation of a concurrent insert into the same
`Conflict("bed_taken")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from app.core import audit, events
from app.core.db import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility.services import EXCLUSION_VIOLATION
from app.visits import queries as visit_queries
from app.visits.events import VisitChanged
from app.visits.guesthouse import permissions, queries, rooming
from app.visits.guesthouse.models import EXCLUSION_NAMES, BedBooking, GuestBed, GuestPreference, GuestRoom
from app.visits.guesthouse.rooming import RoomKind
from app.visits.models import Visit
from app.visits.status import VisitStatus

MAX_BEDS = 12
BED_LABELS = "ABCDEFGHIJKL"


# --- rooms --------------------------------------------------------------------------------


@transactional
def create_room(
    name: str, kind: str, beds: Any = 1, *, note: str = "", actor: Any, now: datetime | None = None
) -> GuestRoom:
    """A room with its beds: single and accessible rooms have one bed, shared rooms 2–12.

    Raises: PermissionDenied, ValidationFailed on "name", "kind", "beds" or "note".
    """
    require(permissions.can_manage_guesthouse, actor)
    now = now or utcnow()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("required", field="name")
    if len(name) > 60:
        raise ValidationFailed("too_long", field="name", maximum=60)
    try:
        room_kind = RoomKind(kind)
    except ValueError:
        raise ValidationFailed("invalid_value", field="kind") from None
    try:
        count = int(str(beds).strip())
    except ValueError:
        raise ValidationFailed("integer_range", field="beds", minimum=1, maximum=MAX_BEDS) from None
    if not 1 <= count <= MAX_BEDS:
        raise ValidationFailed("integer_range", field="beds", minimum=1, maximum=MAX_BEDS)
    if room_kind is not RoomKind.SHARED and count != 1:
        raise ValidationFailed("room_one_bed", field="beds")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("too_long", field="note", maximum=200)
    if db.session.scalar(select(GuestRoom.id).where(GuestRoom.name == name)) is not None:
        raise ValidationFailed("room_name_taken", field="name")
    room = GuestRoom(name=name, kind=room_kind, note=note, created_at=now)
    room.beds = [GuestBed(label=BED_LABELS[i] if count > 1 else "1") for i in range(count)]
    db.session.add(room)
    db.session.flush()
    audit.record(
        actor, "guesthouse.room_created", room, changes={"name": name, "kind": room_kind.value, "beds": count}, at=now
    )
    return room


@transactional
def set_room_active(room_id: int, active: bool, *, actor: Any, now: datetime | None = None) -> GuestRoom:
    """Take a room out of service (its booked nights stay) or back."""
    require(permissions.can_manage_guesthouse, actor)
    room = db.session.get(GuestRoom, room_id)
    if room is None:
        raise NotFound("room_not_found")
    room.active = bool(active)
    audit.record(actor, "guesthouse.room_active", room, changes={"active": room.active}, at=now or utcnow())
    return room


# --- the visitor's answers ------------------------------------------------------------------


@transactional
def answer_stay(
    visit_id: int, *, accepts_sharing: bool, needs_accessible: bool, actor: Any, now: datetime | None = None
) -> GuestPreference:
    """The visitor says whether they accept a shared room and need an accessible one."""
    now = now or utcnow()
    visit = db.session.get(Visit, visit_id)
    if visit is None or not permissions.can_answer_stay(actor, visit):
        raise NotFound("visit_not_found")
    pref = queries.preference(visit_id) or GuestPreference(visit_id=visit_id)
    pref.accepts_sharing = bool(accepts_sharing)
    pref.needs_accessible = bool(needs_accessible)
    pref.updated_at = now
    db.session.add(pref)
    audit.record(
        actor,
        "guesthouse.stay_answered",
        visit,
        changes={"accepts_sharing": pref.accepts_sharing, "needs_accessible": pref.needs_accessible},
        at=now,
    )
    return pref


# --- nights ---------------------------------------------------------------------------------


def _in_the_way(bed_id: int, visit_id: int, first: date, last: date) -> BedBooking | None:
    return db.session.scalar(
        select(BedBooking)
        .where(
            or_(BedBooking.bed_id == bed_id, BedBooking.visit_id == visit_id),
            BedBooking.first_night <= last,
            BedBooking.last_night >= first,
        )
        .limit(1)
    )


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        return True
    return any(name in str(orig) for name in EXCLUSION_NAMES)


def _taken(other: BedBooking | None, visit_id: int) -> Conflict:
    if other is not None and other.visit_id == visit_id:
        return Conflict("visitor_has_bed", night=other.first_night.isoformat())
    night = other.first_night.isoformat() if other is not None else "—"
    return Conflict("bed_taken", night=night)


def _insert(bed_id: int, visit_id: int, first: date, last: date, *, actor: Any, now: datetime) -> BedBooking:
    """Book nights first…last of one bed for one visit unless taken. Call inside a unit of work.

    Raises: Conflict("bed_taken" or "visitor_has_bed"), also when PostgreSQL's exclusion
    constraint refuses a concurrent insert.
    """
    other = _in_the_way(bed_id, visit_id, first, last)
    if other is not None:
        raise _taken(other, visit_id)
    booking = BedBooking(
        bed_id=bed_id,
        visit_id=visit_id,
        first_night=first,
        last_night=last,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.flush()
    except IntegrityError as exc:
        if not _is_exclusion_violation(exc):
            raise
        # the concurrent booking has committed (the constraint waited for it): name it
        raise _taken(_in_the_way(bed_id, visit_id, first, last), visit_id) from None
    return booking


def _check_room_fits(bed: GuestBed, visit: Visit) -> None:
    pref = queries.preference(visit.id)
    if not bed.room.active:
        raise ValidationFailed("room_inactive", field="bed_id")
    if bed.room.kind is RoomKind.SHARED and not (pref and pref.accepts_sharing):
        raise ValidationFailed("visitor_does_not_share", field="bed_id")
    if pref and pref.needs_accessible and bed.room.kind is not RoomKind.ACCESSIBLE:
        raise ValidationFailed("needs_accessible_room", field="bed_id")


@transactional
def book_bed(
    visit_id: int,
    bed_id: Any,
    *,
    first_night: date | None = None,
    last_night: date | None = None,
    actor: Any,
    now: datetime | None = None,
) -> BedBooking:
    """The user office puts a visitor in a bed for some nights of their stay (all by default).

    Raises: PermissionDenied, NotFound (visit), ValidationFailed on "visit_id" (no room asked
    for), "bed_id" (unknown, out of service, shared for a non-sharer, not accessible for who
    needs it), "first_night", "last_night" (outside the stay); Conflict("bed_taken",
    "visitor_has_bed").
    """
    require(permissions.can_manage_guesthouse, actor)
    now = now or utcnow()
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("visit_not_found")
    if not queries.wants_bed(visit):
        raise ValidationFailed("visit_wants_no_bed", field="visit_id")
    try:
        bed = queries.get_bed(int(bed_id))
    except (TypeError, ValueError, NotFound):
        raise ValidationFailed("bed_unknown", field="bed_id") from None
    assert visit.arrives_on is not None and visit.departs_on is not None
    first = first_night or visit.arrives_on
    last = last_night or (visit.departs_on - timedelta(days=1))
    if first < visit.arrives_on or first >= visit.departs_on:
        raise ValidationFailed("night_outside_stay", field="first_night")
    if last < first or last >= visit.departs_on:
        raise ValidationFailed("night_outside_stay", field="last_night")
    _check_room_fits(bed, visit)
    booking = _insert(bed.id, visit.id, first, last, actor=actor, now=now)
    audit.record(
        actor,
        "guesthouse.bed_booked",
        booking,
        changes={"visit_id": visit.id, "bed": bed.full_label, "first_night": first, "last_night": last},
        at=now,
    )
    return booking


@transactional
def free_nights(booking_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Free a visitor's nights on one bed (the user office)."""
    require(permissions.can_manage_guesthouse, actor)
    booking = queries.get_booking(booking_id)
    audit.record(
        actor,
        "guesthouse.nights_freed",
        booking,
        changes={"visit_id": booking.visit_id, "first_night": booking.first_night, "last_night": booking.last_night},
        at=now or utcnow(),
    )
    db.session.delete(booking)


# --- automatic assignment ------------------------------------------------------------------


@dataclass
class AutoResult:
    placed_nights: int = 0
    bookings: list[BedBooking] = field(default_factory=list)
    #: (visit, night, reason code)
    unplaced: list[tuple[Visit, date, str]] = field(default_factory=list)


def _runs(nights: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for night in sorted(nights):
        if runs and runs[-1][-1] + timedelta(days=1) == night:
            runs[-1].append(night)
        else:
            runs.append([night])
    return runs


def _place(visits: list[Visit], *, actor: Any, now: datetime) -> AutoResult:
    result = AutoResult()
    rooms = [r for r in queries.list_rooms(active_only=True) if r.beds]
    requests: list[rooming.Request] = []
    owner: dict[str, Visit] = {}
    for visit in visits:
        pref = queries.preference(visit.id)
        for i, run in enumerate(_runs(queries.missing_nights(visit))):
            key = f"{visit.id}:{i}"
            owner[key] = visit
            requests.append(
                rooming.Request(
                    key,
                    run[0],
                    run[-1] + timedelta(days=1),
                    needs_accessible=bool(pref and pref.needs_accessible),
                    accepts_sharing=bool(pref and pref.accepts_sharing),
                )
            )
    if not requests:
        return result
    if not rooms:
        for r in requests:
            result.unplaced.extend((owner[r.key], n, rooming.Reason.FULL.value) for n in r.nights)
        return result
    first = min(r.arrives_on for r in requests)
    last = max(r.departs_on for r in requests) - timedelta(days=1)
    beds = {str(b.id) for room in rooms for b in room.beds}
    taken = []
    for booking in db.session.scalars(
        select(BedBooking).where(BedBooking.first_night <= last, BedBooking.last_night >= first)
    ):
        if str(booking.bed_id) not in beds:
            continue
        night = max(booking.first_night, first)
        while night <= min(booking.last_night, last):
            taken.append(rooming.Booking(str(booking.bed_id), night))
            night += timedelta(days=1)
    plan = rooming.assign(
        [rooming.Room(str(r.id), r.kind, tuple(str(b.id) for b in r.beds)) for r in rooms], taken, requests
    )
    for assignment in plan.assignments:
        visit = owner[assignment.request]
        groups: list[list[rooming.Night]] = []
        for night in assignment.nights:
            if groups and groups[-1][-1].bed == night.bed and groups[-1][-1].night + timedelta(days=1) == night.night:
                groups[-1].append(night)
            else:
                groups.append([night])
        for group in groups:
            booking = _insert(int(group[0].bed), visit.id, group[0].night, group[-1].night, actor=actor, now=now)
            result.bookings.append(booking)
            result.placed_nights += len(group)
        result.unplaced.extend((visit, u.night, u.reason.value) for u in assignment.unplaced)
    return result


@transactional
def assign_automatically(*, actor: Any, now: datetime | None = None, visit_ids: list[int] | None = None) -> AutoResult:
    """Place every visitor who asked for a room and still misses nights (or only `visit_ids`).

    Nights already booked stay where they are. Raises: PermissionDenied.
    """
    require(permissions.can_manage_guesthouse, actor)
    now = now or utcnow()
    today = visit_queries.today(now)
    visits = [v for v, _missing in queries.visits_needing_beds(today=today)]
    if visit_ids is not None:
        wanted = set(visit_ids)
        visits = [v for v in visits if v.id in wanted]
    result = _place(visits, actor=actor, now=now)
    audit.record(
        actor,
        "guesthouse.assigned_automatically",
        object_type="guesthouse",
        changes={"placed_nights": result.placed_nights, "unplaced_nights": len(result.unplaced)},
        at=now,
    )
    return result


# --- following the visits -------------------------------------------------------------------


def reconcile(visit: Visit, *, now: datetime | None = None) -> None:
    """Free the nights a visit no longer needs; place new nights of a visit that already had a
    bed (a changed stay). Call inside a unit of work."""
    now = now or utcnow()
    bookings = queries.nights_of(visit.id)
    if not bookings:
        return
    if visit.status == VisitStatus.COMPLETED:
        # left (early or on time): the nights from today on are free again, the past ones stay
        today = visit_queries.today(now)
        for booking in bookings:
            if booking.first_night >= today:
                db.session.delete(booking)
            elif booking.last_night >= today:
                booking.last_night = today - timedelta(days=1)
        return
    if not queries.wants_bed(visit):
        db.session.execute(delete(BedBooking).where(BedBooking.visit_id == visit.id))
        audit.record(None, "guesthouse.nights_freed", visit, changes={"reason": visit.status.value}, at=now)
        return
    assert visit.arrives_on is not None and visit.departs_on is not None
    last_wanted = visit.departs_on - timedelta(days=1)
    changed = False
    for booking in bookings:
        if booking.last_night < visit.arrives_on or booking.first_night > last_wanted:
            db.session.delete(booking)
            changed = True
            continue
        first, last = max(booking.first_night, visit.arrives_on), min(booking.last_night, last_wanted)
        if (first, last) != (booking.first_night, booking.last_night):
            booking.first_night, booking.last_night = first, last
            changed = True
    db.session.flush()
    if queries.missing_nights(visit):
        try:
            _place([visit], actor=None, now=now)
        except Conflict:
            pass  # a concurrent booking took the bed: the nights stay on the office's list
        changed = True
    if changed:
        audit.record(
            None,
            "guesthouse.nights_moved",
            visit,
            changes={"arrives_on": visit.arrives_on, "departs_on": visit.departs_on},
            at=now,
        )


def _on_visit_changed(event: VisitChanged) -> None:
    visit = db.session.get(Visit, event.visit_id)
    if visit is not None:
        # the services stamp the change's instant on the visit: "today" is the change's day
        reconcile(visit, now=visit.updated_at)


events.subscribe(VisitChanged, _on_visit_changed)
events.fill_slot(visit_queries.ROOM_SLOT, lambda visit: queries.room_label(visit))
