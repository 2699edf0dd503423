"""Reads of the guesthouse: rooms, nights of a visit, who needs a bed, the occupancy grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.core.errors import NotFound
from app.extensions import db
from app.visits.guesthouse.models import BedBooking, GuestBed, GuestPreference, GuestRoom
from app.visits.models import Visit, VisitMode
from app.visits.status import VisitStatus

#: visits that may hold beds (a cancelled, refused or finished visit frees its nights)
HOLDS_BEDS = (VisitStatus.REQUESTED, VisitStatus.CHANGES_REQUESTED, VisitStatus.APPROVED, VisitStatus.ON_SITE)


def list_rooms(*, active_only: bool = False) -> list[GuestRoom]:
    stmt = select(GuestRoom).order_by(GuestRoom.name)
    if active_only:
        stmt = stmt.where(GuestRoom.active.is_(True))
    return list(db.session.scalars(stmt).unique())


def get_bed(bed_id: int) -> GuestBed:
    bed = db.session.get(GuestBed, bed_id)
    if bed is None:
        raise NotFound("bed_not_found")
    return bed


def get_booking(booking_id: int) -> BedBooking:
    booking = db.session.get(BedBooking, booking_id)
    if booking is None:
        raise NotFound("bed_booking_not_found")
    return booking


def preference(visit_id: int) -> GuestPreference | None:
    return db.session.get(GuestPreference, visit_id)


def nights_of(visit_id: int) -> list[BedBooking]:
    return list(
        db.session.scalars(select(BedBooking).where(BedBooking.visit_id == visit_id).order_by(BedBooking.first_night))
    )


def wanted_nights(visit: Visit) -> list[date]:
    """The nights a visit needs a bed for: arrival up to the night before departure."""
    if not wants_bed(visit):
        return []
    assert visit.arrives_on is not None and visit.departs_on is not None
    return [visit.arrives_on + timedelta(days=i) for i in range((visit.departs_on - visit.arrives_on).days)]


def wants_bed(visit: Visit) -> bool:
    return (
        visit.mode == VisitMode.ON_SITE
        and visit.status in HOLDS_BEDS
        and bool(visit.accommodation_wanted)
        and visit.arrives_on is not None
        and visit.departs_on is not None
        and visit.departs_on > visit.arrives_on
    )


def missing_nights(visit: Visit) -> list[date]:
    booked = {b.first_night + timedelta(days=i) for b in nights_of(visit.id) for i in range(_length(b))}
    return [n for n in wanted_nights(visit) if n not in booked]


def _length(booking: BedBooking) -> int:
    return (booking.last_night - booking.first_night).days + 1


def room_label(visit: Visit) -> str | None:
    """The room (and bed) when every wanted night has one: "R12", "R3 / B", or "R3 / B, R4"."""
    if not wants_bed(visit) and visit.status != VisitStatus.COMPLETED:
        return None
    bookings = nights_of(visit.id)
    if not bookings or (wants_bed(visit) and missing_nights(visit)):
        return None
    labels: list[str] = []
    for b in bookings:
        if not labels or labels[-1] != b.bed.full_label:
            labels.append(b.bed.full_label)
    return ", ".join(labels)


def bed_on(visit_id: int, night: date) -> GuestBed | None:
    booking = db.session.scalar(
        select(BedBooking).where(
            BedBooking.visit_id == visit_id, BedBooking.first_night <= night, BedBooking.last_night >= night
        )
    )
    return booking.bed if booking is not None else None


def visits_needing_beds(*, today: date) -> list[tuple[Visit, int]]:
    """Visits that asked for a room, have not left yet and still miss nights, with the count."""
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.mode == VisitMode.ON_SITE,
            Visit.status.in_(HOLDS_BEDS),
            Visit.accommodation_wanted.is_(True),
            Visit.departs_on > today,
        )
        .order_by(Visit.arrives_on, Visit.id)
    )
    out = []
    for visit in visits:
        missing = len(missing_nights(visit))
        if missing:
            out.append((visit, missing))
    return out


@dataclass
class Occupancy:
    nights: list[date]
    rooms: list[GuestRoom]
    #: (bed id, night) → the booking
    cells: dict[tuple[int, date], BedBooking] = field(default_factory=dict)

    def per_night(self) -> list[tuple[date, int, int]]:
        """(night, beds taken, beds in total)."""
        total = sum(len(r.beds) for r in self.rooms)
        return [(n, sum(1 for (_b, m) in self.cells if m == n), total) for n in self.nights]

    def per_room(self) -> list[tuple[GuestRoom, int, int]]:
        """(room, bed-nights taken, bed-nights in the period)."""
        out = []
        for room in self.rooms:
            beds = {b.id for b in room.beds}
            out.append((room, sum(1 for (b, _n) in self.cells if b in beds), len(beds) * len(self.nights)))
        return out


def occupancy(first_night: date, days: int) -> Occupancy:
    nights = [first_night + timedelta(days=i) for i in range(days)]
    last = nights[-1]
    grid = Occupancy(nights, list_rooms())
    bookings = db.session.scalars(
        select(BedBooking).where(BedBooking.first_night <= last, BedBooking.last_night >= first_night)
    )
    for booking in bookings:
        for night in nights:
            if booking.covers(night):
                grid.cells[(booking.bed_id, night)] = booking
    return grid


def describe(visit: Visit) -> dict[str, Any]:
    return {"visit": visit, "nights": nights_of(visit.id), "missing": missing_nights(visit)}
