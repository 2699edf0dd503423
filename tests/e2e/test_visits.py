"""Issue 8 through a real browser: a visitor registers for an experiment and sees the checklist
turn green as the instrument scientist signs off safety and the user office approves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.factories import PASSWORD


def _setup(app):
    from app.accounts.models import Role
    from app.core.db import utcnow
    from app.extensions import db
    from app.visits import queries, services
    from app.visits.models import TrainingCourse
    from tests import factories_proposals as fp
    from tests.factories import make_user
    from tests.factories_visits import add_record, make_published_experiment, make_scientist, name_visitor

    with app.app_context():
        now = utcnow()
        starts = datetime(now.year, now.month, now.day, 7, 0, tzinfo=UTC) + timedelta(days=40)
        visitor = fp.make_person(country_code="DE", name="Vera Visitor", email="vera.visitor@example.org")
        experiment = make_published_experiment(co_proposers=(visitor,), starts_at=starts)
        pi = experiment.award.proposal.pi.user
        visit = name_visitor(experiment, visitor, now=now)
        services.confirm_safety(experiment.booking_id, queries.proposal_samples(experiment), actor=pi, now=now)
        for course in db.session.scalars(db.select(TrainingCourse)):
            add_record(visitor, course, (now - timedelta(days=30)).date())
        scientist = make_scientist(experiment)
        scientist.email = "ines.e2e@example.org"
        office = make_user(name="Olaf Office", email="olaf.e2e@example.org", roles=[Role.USER_OFFICE])
        db.session.commit()
        starts_on, _ends_on = queries.experiment_days(experiment)
        return {
            "visit_id": visit.id,
            "experiment_id": experiment.booking_id,
            "visitor": visitor.email,
            "scientist": scientist.email,
            "office": office.email,
            "arrives": starts_on.isoformat(),
            "departs": (starts_on + timedelta(days=1)).isoformat(),
        }


def _item(page, key: str):
    return page.locator(f'[data-item="{key}"]')


def test_a_visitor_registers_and_the_checklist_turns_green(app, page, demo, axe, at_375, log_in):
    s = _setup(app)

    # the visitor finds the visit and completes the registration
    log_in(page, s["visitor"], PASSWORD)
    page.get_by_role("link", name="My visits").first.click()
    page.locator(f'a[href="/visits/{s["visit_id"]}"]').click()
    expect(_item(page, "registration")).to_have_attribute("data-state", "todo")
    axe(page)
    page.get_by_role("button", name="Save registration").click()  # empty: the error is next to the field
    expect(page.locator("#arrives_on-error")).to_be_visible()
    page.get_by_label("Arrival").fill(s["arrives"])
    page.get_by_label("Departure").fill(s["departs"])
    page.get_by_label("Emergency contact (name)").fill("Otto Visitor")
    page.get_by_label("Emergency contact (phone)").fill("+49 30 1234 5678")
    if page.get_by_label("Citizenship").count():
        page.get_by_label("Citizenship").select_option("DE")
    page.get_by_role("button", name="Save registration").click()
    expect(page.get_by_text("Registration saved.")).to_be_visible()
    expect(_item(page, "safety")).to_have_attribute("data-state", "todo")
    expect(_item(page, "safety")).to_contain_text("instrument scientist")
    expect(_item(page, "training")).to_have_attribute("data-state", "done")
    expect(_item(page, "accommodation")).to_have_attribute("data-state", "not_needed")
    expect(page.locator("#all-green")).to_have_count(0)
    axe(page)
    at_375(page)

    # the instrument scientist signs off the experiment's safety
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, s["scientist"], PASSWORD)
    page.goto(f"/visits/experiments/{s['experiment_id']}")
    page.get_by_role("button", name="Sign off safety").click()
    expect(page.get_by_text("Safety signed off.")).to_be_visible()
    axe(page)

    # the visitor sees safety green, registration waiting for the user office
    page.context.clear_cookies()
    log_in(page, s["visitor"], PASSWORD)
    page.goto(f"/visits/{s['visit_id']}")
    expect(_item(page, "safety")).to_have_attribute("data-state", "done")
    expect(_item(page, "registration")).to_contain_text("user office")

    # the user office approves
    page.context.clear_cookies()
    log_in(page, s["office"], PASSWORD)
    page.get_by_role("button", name="Visits").first.click()
    page.get_by_role("link", name="Visit requests").click()
    page.get_by_role("link", name="Vera Visitor").first.click()
    page.get_by_label("Decision").select_option("approve")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    axe(page)

    # … and the visitor's checklist is all green
    page.context.clear_cookies()
    log_in(page, s["visitor"], PASSWORD)
    page.goto(f"/visits/{s['visit_id']}")
    expect(page.locator("#all-green")).to_be_visible()
    for key in ("registration", "access", "training", "safety", "accommodation"):
        expect(_item(page, key)).to_have_attribute(
            "data-state", "done" if key in ("registration", "training", "safety") else "not_needed"
        )
    expect(page.locator("#visit-status")).to_have_text("approved")
    axe(page)
    at_375(page)
