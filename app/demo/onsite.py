"""The guesthouse and front-desk part of the demo facility: rooms (single, shared, accessible),
beds for the on-site visitors who asked for one (placed by `rooming.assign`, past stays too),
check-ins and check-outs of past and current visits, and feedback for past experiments.

Deterministic (seeded) and idempotent (nothing is done once a demo room exists). Robust: with no
visits (the schedule not seeded yet) only the rooms are made. Fast: one pure assignment in
memory, rows added in bulk (the visits are fresh; the services' per-row checks would only
repeat what the assignment guarantees).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.core.transaction import unit_of_work
from app.extensions import db
from app.visits import queries as visit_queries
from app.visits.desk.models import Feedback, SitePresence
from app.visits.guesthouse import rooming
from app.visits.guesthouse.models import BedBooking, GuestBed, GuestPreference, GuestRoom
from app.visits.guesthouse.rooming import RoomKind
from app.visits.models import Visit, VisitMode
from app.visits.status import VisitStatus

SEED = 9099
#: (name, kind, beds)
ROOMS = (
    [(f"Kepler {n}", RoomKind.SINGLE, 1) for n in range(1, 13)]
    + [(f"Curie {n}", RoomKind.SHARED, 2) for n in range(1, 6)]
    + [(f"Meitner {n}", RoomKind.ACCESSIBLE, 1) for n in range(1, 3)]
)
SHARING_FRACTION = 0.4
FEEDBACK_FRACTION = 0.6
COMMENTS = (
    "",
    "",
    "Excellent support from the local contact.",
    "The beamline was down for half a shift; otherwise great.",
    "Guesthouse was quiet and clean.",
    "Data reduction software could be better documented.",
)
#: visits whose stay gets beds in the demo (finished ones keep their past nights)
WITH_BEDS = (
    VisitStatus.REQUESTED,
    VisitStatus.CHANGES_REQUESTED,
    VisitStatus.APPROVED,
    VisitStatus.ON_SITE,
    VisitStatus.COMPLETED,
)


def seed(*, actor: Any, now: datetime | None = None, progress=None) -> int:
    """Create the demo rooms, bed nights, check-ins and feedback; returns the rows made."""
    now = now or datetime.now(UTC)
    with unit_of_work():
        if db.session.scalar(select(GuestRoom.id).limit(1)) is not None:
            return 0
        rng = random.Random(SEED)
        rooms = []
        for name, kind, beds in ROOMS:
            room = GuestRoom(name=name, kind=kind, note="", created_at=now)
            room.beds = [GuestBed(label="AB"[i] if beds > 1 else "1") for i in range(beds)]
            rooms.append(room)
        db.session.add_all(rooms)
        db.session.flush()
        made = len(rooms)
        visits = list(
            db.session.scalars(
                select(Visit).where(Visit.mode == VisitMode.ON_SITE, Visit.status.in_(WITH_BEDS)).order_by(Visit.id)
            )
        )
        made += _beds(rooms, visits, rng, now)
        made += _desk(visits, now)
        made += _feedback(rng, now)
        if progress:
            progress.print(f"guesthouse and front desk: {made} rows")
        return made


def _beds(rooms: list[GuestRoom], visits: list[Visit], rng: random.Random, now: datetime) -> int:
    wanting = [
        v for v in visits if v.accommodation_wanted and v.arrives_on and v.departs_on and v.departs_on > v.arrives_on
    ]
    sharing = {v.id for v in wanting if rng.random() < SHARING_FRACTION}
    db.session.add_all(
        GuestPreference(visit_id=v.id, accepts_sharing=True, needs_accessible=False, updated_at=now)
        for v in wanting
        if v.id in sharing
    )
    plan = rooming.assign(
        [rooming.Room(str(r.id), r.kind, tuple(str(b.id) for b in r.beds)) for r in rooms],
        [],
        [rooming.Request(str(v.id), v.arrives_on, v.departs_on, accepts_sharing=v.id in sharing) for v in wanting],
    )
    made = len(sharing)
    for assignment in plan.assignments:
        groups: list[list[rooming.Night]] = []
        for night in assignment.nights:
            if groups and groups[-1][-1].bed == night.bed and groups[-1][-1].night + timedelta(days=1) == night.night:
                groups[-1].append(night)
            else:
                groups.append([night])
        for group in groups:
            db.session.add(
                BedBooking(
                    bed_id=int(group[0].bed),
                    visit_id=int(assignment.request),
                    first_night=group[0].night,
                    last_night=group[-1].night,
                    created_at=now,
                )
            )
            made += 1
    return made


def _desk(visits: list[Visit], now: datetime) -> int:
    zone = visit_queries.facility_zone()
    made = 0
    for visit in visits:
        if visit.status not in (VisitStatus.ON_SITE, VisitStatus.COMPLETED) or visit.arrives_on is None:
            continue
        checked_in = datetime.combine(visit.arrives_on, time(15, 30), tzinfo=zone).astimezone(UTC)
        checked_out = None
        if visit.status == VisitStatus.COMPLETED and visit.departs_on is not None:
            checked_out = datetime.combine(visit.departs_on, time(10, 0), tzinfo=zone).astimezone(UTC)
        if checked_in > now:
            continue
        db.session.add(SitePresence(visit_id=visit.id, checked_in_at=checked_in, checked_out_at=checked_out))
        made += 1
    return made


def _rating(rng: random.Random) -> int:
    return rng.choices((2, 3, 4, 5), weights=(1, 3, 6, 5))[0]


def _feedback(rng: random.Random, now: datetime) -> int:
    done = db.session.scalars(
        select(Visit).where(Visit.status.in_((VisitStatus.COMPLETED, VisitStatus.REGISTERED))).order_by(Visit.id)
    )
    made = 0
    for visit in done:
        if visit.experiment.booking.ends_at > now or rng.random() > FEEDBACK_FRACTION:
            continue
        stayed = visit.mode == VisitMode.ON_SITE and bool(visit.accommodation_wanted)
        at = max(visit.experiment.booking.ends_at, now - timedelta(days=1))
        db.session.add(
            Feedback(
                visit_id=visit.id,
                instrument=_rating(rng),
                support=_rating(rng),
                accommodation=_rating(rng) if stayed else None,
                overall=_rating(rng),
                comments=rng.choice(COMMENTS),
                submitted_at=at,
                updated_at=at,
            )
        )
        made += 1
    return made
