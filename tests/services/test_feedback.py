"""Feedback after the experiment: ratings 1–5, once per visit and correctable while the window
is open, accommodation only for guesthouse guests, only the visitor; results per instrument
and cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.extensions import db
from app.visits.desk import queries, services
from app.visits.desk.models import Feedback
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_onsite import approved_visit, office
from tests.factories_visits import make_published_experiment, name_visitor

ARRIVAL = datetime(2027, 3, 9, 16, 0, tzinfo=UTC)
AFTER = datetime(2027, 3, 13, 10, 0, tzinfo=UTC)  # the experiment ended on 12 March, 08:00 local
GOOD = {"instrument": "5", "support": "4", "overall": "5", "comments": "Great beamline"}


def _done_visit(accommodation=False, experiment=None):
    visit = approved_visit(experiment, accommodation=accommodation)
    desk = office()
    services.check_in(visit.id, override_reason="test", actor=desk, now=ARRIVAL)
    services.check_out(visit.id, actor=desk, now=AFTER)
    return visit


def test_the_visitor_rates_once_and_may_correct_it_while_the_window_is_open():
    visit = _done_visit()
    services.give_feedback(visit.id, GOOD, actor=visit.user, now=AFTER)
    services.give_feedback(visit.id, {**GOOD, "overall": "3"}, actor=visit.user, now=AFTER + timedelta(days=3))
    assert db.session.scalar(select(db.func.count()).select_from(Feedback)) == 1
    assert queries.feedback(visit.id).overall == 3
    with pytest.raises(InvalidState, match="feedback_closed"):
        services.give_feedback(visit.id, GOOD, actor=visit.user, now=AFTER + timedelta(days=61))
    assert queries.feedback(visit.id).overall == 3


def test_bad_ratings_name_the_field_and_change_nothing():
    visit = _done_visit()
    for data, field in (
        ({**GOOD, "instrument": "6"}, "instrument"),
        ({**GOOD, "support": ""}, "support"),
        ({**GOOD, "overall": "great"}, "overall"),
        ({**GOOD, "accommodation": "4"}, "accommodation"),  # did not stay in the guesthouse
        ({**GOOD, "comments": "x" * 4001}, "comments"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            services.give_feedback(visit.id, data, actor=visit.user, now=AFTER)
        assert exc.value.field == field
    assert queries.feedback(visit.id) is None


def test_a_guesthouse_guest_rates_the_accommodation():
    visit = _done_visit(accommodation=True)
    services.give_feedback(visit.id, {**GOOD, "accommodation": "2"}, actor=visit.user, now=AFTER)
    assert queries.feedback(visit.id).accommodation == 2


def test_only_the_visitor_after_the_experiment_and_remote_participants_too():
    visit = _done_visit()
    for actor in (make_user(), office()):
        with pytest.raises(NotFound):
            services.give_feedback(visit.id, GOOD, actor=actor, now=AFTER)
    experiment = make_published_experiment()
    remote = name_visitor(experiment, fp.make_person(), mode="remote")
    with pytest.raises(InvalidState, match="feedback_closed"):  # not ended yet
        services.give_feedback(remote.id, GOOD, actor=remote.user, now=ARRIVAL)
    services.give_feedback(remote.id, GOOD, actor=remote.user, now=AFTER)
    assert queries.feedback_due(remote.user_id, AFTER) == [remote]
    assert db.session.scalar(select(db.func.count()).select_from(Feedback)) == 1


def test_results_per_instrument_and_cycle():
    experiment = make_published_experiment()
    a = _done_visit(experiment=experiment)
    services.give_feedback(a.id, GOOD, actor=a.user, now=AFTER)
    b = name_visitor(experiment, fp.make_person(), mode="remote")
    services.give_feedback(b.id, {**GOOD, "instrument": "2", "overall": "4"}, actor=b.user, now=AFTER)
    [row] = queries.feedback_results()
    assert row.instrument == experiment.booking.instrument.code
    assert row.count == 2
    assert (row.instrument_avg, row.support_avg, row.accommodation_avg, row.overall_avg) == (3.5, 4, None, 4.5)


def test_feedback_invitations_go_once_to_recent_visitors_who_have_not_answered():
    from app.core.models import OutboxMessage

    experiment = make_published_experiment()
    done = _done_visit(experiment=experiment)
    remote = name_visitor(experiment, fp.make_person(), mode="remote")
    answered = name_visitor(experiment, fp.make_person(), mode="remote")
    services.give_feedback(answered.id, GOOD, actor=answered.user, now=AFTER)
    assert services.send_feedback_invitations(now=AFTER) == 2
    assert services.send_feedback_invitations(now=AFTER + timedelta(hours=1)) == 0  # once
    recipients = sorted(m.recipients[0] for m in db.session.scalars(select(OutboxMessage)) if "How was" in m.subject)
    assert recipients == sorted([done.user.email, remote.user.email])
    body = next(m.body_text for m in db.session.scalars(select(OutboxMessage)) if "How was" in m.subject)
    assert "/desk/visits/" in body and "/feedback" in body
    # a job that starts weeks late writes to nobody
    late = name_visitor(make_published_experiment(), fp.make_person(), mode="remote")
    assert services.send_feedback_invitations(now=AFTER + timedelta(days=30)) == 0
    assert late.id
