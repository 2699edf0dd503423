"""The demo's visits: realistic shapes, robust to a demo without experiments, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.facility.models import BookingStatus
from app.visits import queries
from app.visits.models import AccessStatus, TrainingCourse, Visit, VisitMode
from app.visits.status import VisitStatus
from tests import factories_proposals as fp
from tests.factories_visits import STARTS, make_published_experiment

NOW = STARTS - timedelta(days=20)


def test_demo_without_experiments_makes_courses_only():
    from app.demo import visits as demo

    assert demo.seed(actor=None, now=NOW) == 0
    assert db.session.scalar(select(db.func.count(TrainingCourse.id))) == 2
    assert demo.seed(actor=None, now=NOW) == 0


def test_demo_visits_of_past_and_current_experiments_have_realistic_shapes():
    from app.demo import visits as demo

    for n in range(14):
        team = tuple(fp.make_person(country_code=c) for c in ("DE", "IT", "ES", "JP"))
        past = n % 2 == 0
        make_published_experiment(
            co_proposers=team,
            starts_at=(STARTS - timedelta(days=90 + n)) if past else (STARTS + timedelta(days=n)),
            status=BookingStatus.COMPLETED if past else BookingStatus.PUBLISHED,
        )
    made = demo.seed(actor=None, now=NOW)
    visits = db.session.scalars(select(Visit)).all()
    assert made == len(visits) >= 28
    remote = sum(v.mode == VisitMode.REMOTE for v in visits) / len(visits)
    assert 0.08 <= remote <= 0.45
    on_site = [v for v in visits if v.mode == VisitMode.ON_SITE]
    assert all(v.arrives_on <= v.departs_on for v in on_site)
    assert all(1 <= (v.departs_on - v.arrives_on).days + 1 <= 8 for v in on_site)
    completed = [v for v in visits if v.status == VisitStatus.COMPLETED]
    assert completed and all(v.emergency_contact_name is None and v.citizenship is None for v in completed)
    assert any(v.status in (VisitStatus.REQUESTED, VisitStatus.APPROVED) for v in visits)
    assert any(v.access_late_days > 0 for v in visits)
    assert any(v.access_status == AccessStatus.PENDING for v in visits)
    now = datetime(2027, 2, 20, tzinfo=UTC)
    flagged = [
        v for v in on_site if v.status == VisitStatus.REQUESTED and queries.training_missing(v.user_id, v.arrives_on)
    ]
    assert flagged, "some visitors should have a training that expires before arrival"
    assert queries.visit_checklist(flagged[0], now)
    assert demo.seed(actor=None, now=NOW) == 0
