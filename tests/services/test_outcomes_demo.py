"""Demo outcomes: robust without experiments, reports and publications once there are some."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.demo import outcomes
from app.visits.outcomes import queries
from tests import factories_proposals as fp
from tests.factories_outcomes import ENDED, make_experiment
from tests.factories_reviews import make_staff


def test_demo_outcomes_without_experiments_or_proposals_makes_nothing():
    assert outcomes.seed(actor=make_staff(), now=datetime(2027, 1, 1, tzinfo=UTC)) == 0


def test_demo_outcomes_leaves_some_reports_overdue_and_is_idempotent():
    staff = make_staff()
    experiments = [make_experiment(pi=fp.make_person()) for _ in range(8)]
    now = ENDED + timedelta(days=200)
    first = outcomes.seed(actor=staff, now=now)
    assert first > 0
    states = {queries.state_of(e, queries.find_report(e.booking_id), now) for e in experiments}
    assert states == {queries.ReportState.SUBMITTED, queries.ReportState.OVERDUE}
    assert outcomes.seed(actor=staff, now=now) == 0
