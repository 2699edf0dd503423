"""Factories of the guesthouse and the front desk: rooms, visits that want a bed, approved
visits ready for the desk, and the permission-matrix objects."""

from __future__ import annotations

import itertools
from datetime import date

from app.accounts.models import Role
from app.extensions import db
from app.visits import services as visit_services
from app.visits.guesthouse import services as guest_services
from app.visits.guesthouse.models import GuestPreference, GuestRoom
from app.visits.models import Visit, VisitMode
from app.visits.status import VisitStatus
from tests.factories import make_user
from tests.factories_visits import EARLY, make_published_experiment, make_role, name_visitor, registration, sign_off

_seq = itertools.count(1)


def office():
    return make_role(Role.USER_OFFICE, name=f"Office {next(_seq)}")


def make_room(kind: str = "single", beds: int = 1, *, name: str | None = None, actor=None) -> GuestRoom:
    actor = actor or office()
    return guest_services.create_room(name or f"R{next(_seq)}", kind, beds, actor=actor, now=EARLY)


def make_guest_visit(
    experiment,
    arrives_on: date,
    departs_on: date,
    *,
    status: VisitStatus = VisitStatus.APPROVED,
    sharing: bool = False,
    accessible: bool = False,
    wanted: bool = True,
) -> Visit:
    """A visit inserted directly (fast): on site, dates set, asking for a room."""
    user = make_user(name=f"Guest {next(_seq)}")
    visit = Visit(
        experiment_id=experiment.booking_id,
        user_id=user.id,
        mode=VisitMode.ON_SITE,
        status=status,
        arrives_on=arrives_on,
        departs_on=departs_on,
        accommodation_wanted=wanted,
        registered_at=EARLY,
        emergency_contact_name="Someone",
        emergency_contact_phone="+41 22 000 00 00",
    )
    db.session.add(visit)
    db.session.flush()
    if sharing or accessible:
        db.session.add(GuestPreference(visit_id=visit.id, accepts_sharing=sharing, needs_accessible=accessible))
    db.session.commit()
    return visit


def approved_visit(experiment=None, *, accommodation: bool = False, local_contact=None):
    """A visit through the real services: named, registered, safety signed off, approved."""
    experiment = experiment or make_published_experiment(local_contact=local_contact)
    visit = name_visitor(experiment)
    visit_services.complete_registration(
        visit.id, registration(accommodation_wanted=accommodation), actor=visit.user, now=EARLY
    )
    sign_off(experiment)
    visit_services.decide_visit(visit.id, "approve", actor=office(), now=EARLY)
    return visit


def add_onsite_objects(world, *, owner, actor) -> None:
    """Give the permission-matrix World the guesthouse and desk objects its rows name.

    `world.guest_room`: a single room; `world.bed_booking`: nights of `world.visit` ("user"'s
    own visit, which now asks for a room) on that room's bed; `world.approved_visit`: an
    approved visit of "user" on another published experiment, for the desk and the letter.
    """
    from datetime import timedelta

    from app.visits.guesthouse.models import BedBooking

    world.guest_room = guest_services.create_room("Matrix room", "single", 1, actor=actor, now=EARLY)
    visit = db.session.get(Visit, world.visit.id)
    starts = visit.experiment.booking.starts_at.date()
    visit.arrives_on, visit.departs_on, visit.accommodation_wanted = starts, starts + timedelta(days=2), True
    booking = BedBooking(bed_id=world.guest_room.beds[0].id, visit_id=visit.id, first_night=starts, last_night=starts)
    db.session.add(booking)
    db.session.commit()
    world.bed_booking = booking
    other = make_published_experiment(pi=owner)
    world.approved_visit = approved_visit(other)
