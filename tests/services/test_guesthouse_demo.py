"""Demo guesthouse and front desk: robust without visits, beds without overbooking, check-ins
of past visits, feedback of past experiments, idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.demo import onsite
from app.extensions import db
from app.visits.desk.models import Feedback, SitePresence
from app.visits.guesthouse.models import BedBooking, GuestRoom
from app.visits.status import VisitStatus
from tests.factories_onsite import make_guest_visit, office
from tests.factories_visits import make_published_experiment
from tests.services.test_guesthouse import check_invariants

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def _count(model) -> int:
    return db.session.scalar(select(db.func.count()).select_from(model))


def test_demo_without_visits_makes_only_the_rooms():
    made = onsite.seed(actor=office(), now=NOW)
    assert made == len(onsite.ROOMS) == _count(GuestRoom)
    assert _count(BedBooking) == _count(SitePresence) == _count(Feedback) == 0


def test_demo_places_the_guests_checks_past_visits_in_and_out_and_is_idempotent():
    experiment = make_published_experiment()  # 10–12 March 2027
    arrives = date(2027, 3, 9)
    past = [
        make_guest_visit(experiment, arrives, arrives + timedelta(days=3 + i % 2), status=VisitStatus.COMPLETED)
        for i in range(8)
    ]
    coming = [make_guest_visit(experiment, date(2027, 7, 1), date(2027, 7, 4)) for _ in range(3)]
    made = onsite.seed(actor=office(), now=NOW)
    assert made > len(onsite.ROOMS)
    check_invariants()
    booked = {b.visit_id for b in db.session.scalars(select(BedBooking))}
    assert {v.id for v in past + coming} <= booked
    presences = list(db.session.scalars(select(SitePresence)))
    assert {p.visit_id for p in presences} == {v.id for v in past}
    assert all(p.checked_out_at is not None and p.checked_out_at > p.checked_in_at for p in presences)
    feedback = list(db.session.scalars(select(Feedback)))
    assert feedback and all(1 <= f.overall <= 5 for f in feedback)
    assert {f.visit_id for f in feedback} <= {v.id for v in past}
    assert onsite.seed(actor=office(), now=NOW) == 0
