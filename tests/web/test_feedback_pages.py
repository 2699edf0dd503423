"""Feedback pages: the visitor's form (errors next to the rating), the results per instrument
and cycle with the chart, its table and CSV; only the visitor answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import Role
from app.core.db import utcnow
from app.extensions import db
from app.visits.desk.models import Feedback
from tests import factories_proposals as fp
from tests.factories import login, make_user
from tests.factories_visits import make_published_experiment, make_role, name_visitor


def _ended_remote_visit(ctx):
    with ctx():
        experiment = make_published_experiment(starts_at=utcnow() - timedelta(days=10))
        visit = name_visitor(experiment, fp.make_person(), mode="remote")
        visit.user_name = visit.user.name
        visit.instrument_code = experiment.booking.instrument.code
        office = make_role(Role.USER_OFFICE)
        stranger = make_user()
    return visit, office, stranger


def test_the_visitor_answers_errors_sit_next_to_the_rating_and_results_show_up(app, client, ctx):
    visit, office, stranger = _ended_remote_visit(ctx)
    login(client, visit.user)
    page = client.get(f"/desk/visits/{visit.id}/feedback")
    assert page.status_code == 200 and 'name="overall"' in page.text
    assert 'name="accommodation"' not in page.text  # remote: no accommodation to rate
    bad = client.post(f"/desk/visits/{visit.id}/feedback", data={"instrument": "9", "support": "4", "overall": "5"})
    assert bad.status_code == 422 and 'id="instrument-error"' in bad.text
    with ctx():
        assert db.session.scalar(select(Feedback)) is None
    ok = client.post(
        f"/desk/visits/{visit.id}/feedback",
        data={"instrument": "4", "support": "5", "overall": "5", "comments": "=cmd|' /C calc'!A0"},
    )
    assert ok.status_code == 302
    other = app.test_client()
    login(other, stranger)
    assert other.get(f"/desk/visits/{visit.id}/feedback").status_code == 404
    assert other.get("/desk/feedback").status_code == 403
    staff = app.test_client()
    login(staff, office)
    results = staff.get("/desk/feedback")
    assert results.status_code == 200
    assert 'id="feedback-chart"' in results.text and "echarts.min.js" in results.text
    assert visit.instrument_code in results.text
    csv = staff.get("/desk/feedback.csv")
    lines = csv.text.splitlines()
    assert lines[0] == "cycle,instrument,count,instrument_avg,support_avg,accommodation_avg,overall_avg"
    assert lines[1].split(",")[1:] == [visit.instrument_code, "1", "4", "5", "", "5"]
