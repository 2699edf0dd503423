"""Issue 9 through a real browser: the desk finds an approved visitor by proposal reference,
checks them in, sees them in "On site now" (live list, CSV link), checks them out, and they
disappear from the roll call. No serious or critical axe violation, usable at 375 px."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.factories import PASSWORD


def _setup(app):
    from app.accounts.models import Role
    from app.core.db import utcnow
    from app.extensions import db
    from app.visits import services
    from app.visits.models import TrainingCourse
    from tests import factories_proposals as fp
    from tests.factories import make_user
    from tests.factories_visits import add_record, make_published_experiment, name_visitor, registration, sign_off

    with app.app_context():
        now = utcnow()
        starts = datetime(now.year, now.month, now.day, 7, 0, tzinfo=UTC) + timedelta(days=1)
        visitor = fp.make_person(country_code="DE", name="Dora Deskvisitor", email="dora.desk@example.org")
        experiment = make_published_experiment(co_proposers=(visitor,), starts_at=starts)
        visit = name_visitor(experiment, visitor, now=now)
        arrives = starts.date()
        services.complete_registration(
            visit.id,
            registration(arrives_on=arrives, departs_on=arrives + timedelta(days=2), citizenship="DE"),
            actor=visitor,
            now=now,
        )
        for course in db.session.scalars(db.select(TrainingCourse)):
            add_record(visitor, course, (now - timedelta(days=30)).date())
        sign_off(experiment, now=now)
        office = make_user(name="Fred Frontdesk", email="fred.desk@example.org", roles=[Role.USER_OFFICE])
        db.session.commit()
        services.decide_visit(visit.id, "approve", actor=office, now=now)
        return {
            "visit_id": visit.id,
            "reference": experiment.award.proposal.reference,
            "office": office.email,
            "name": visitor.name,
        }


def test_the_desk_checks_a_visitor_in_and_out_and_the_roll_call_follows(app, page, demo, axe, at_375, log_in):
    s = _setup(app)
    log_in(page, s["office"], PASSWORD)
    page.goto("/desk")
    page.get_by_label("Name, e-mail or proposal reference").fill(s["reference"])
    page.get_by_role("button", name="Search").click()
    row = page.locator(f'li[data-visit="{s["visit_id"]}"]')
    expect(row).to_contain_text(s["name"])
    expect(row).to_contain_text("checklist complete")
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    row.get_by_role("button", name="Check in").click()
    expect(page.get_by_text(f"{s['name']} is checked in.")).to_be_visible()

    page.get_by_role("link", name="On site now").last.click()
    roll_call = page.locator("#on-site")
    expect(roll_call.locator(f'tr[data-visit="{s["visit_id"]}"]')).to_contain_text(s["name"])
    expect(page.get_by_role("link", name="CSV")).to_be_visible()
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"/desk?q={s['reference']}")
    page.locator(f'li[data-visit="{s["visit_id"]}"]').get_by_role("button", name="Check out").click()
    expect(page.get_by_text(f"{s['name']} is checked out.")).to_be_visible()
    page.goto("/desk/on-site")
    expect(page.locator(f'#on-site tr[data-visit="{s["visit_id"]}"]')).to_have_count(0)
    axe(page)
