"""Every page of issue 3 (accounts admin, privacy, the facility's set-up) as the role that uses
it: no serious or critical axe-core violation, and no sideways scroll at 375 px (a table or the
calendar may scroll inside its own container)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.demo.people import DEMO_PASSWORD

ADMIN = "admin@beamtime.example"
USER = "user@beamtime.example"
OFFICE = "user-office@beamtime.example"


def _ids(app) -> dict:
    """Ids and names the pages need, read from the demo data."""
    from app.accounts.models import CountryGroup, Institution, User
    from app.extensions import db
    from app.facility.models import Cycle, Instrument

    with app.app_context():
        session = db.session
        ids = {
            "person": session.scalar(select(User.id).where(User.email == "scientist@beamtime.example")),
            "institution": session.scalar(select(Institution.id).order_by(Institution.id).limit(1)),
            "group": session.scalar(select(CountryGroup.id).order_by(CountryGroup.id).limit(1)),
            "instrument": session.scalar(select(Instrument.id).order_by(Instrument.code).limit(1)),
            "cycle": session.scalar(select(Cycle.name).order_by(Cycle.starts_on.desc()).limit(1)),
        }
        session.remove()
    assert all(ids.values()), ids
    return ids


def _visit(page, axe, at_375, path: str, heading: str | re.Pattern) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    _check_here(page, axe, at_375)


def _check_here(page, axe, at_375) -> None:
    axe(page)
    at_375(page)
    axe(page)  # the small-screen layout too (the collapsed menu, stacked forms)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_accounts_admin_pages_pass_axe_and_fit_375_px(app, page, demo, axe, at_375, log_in):
    ids = _ids(app)
    log_in(page, ADMIN, DEMO_PASSWORD)

    _visit(page, axe, at_375, "/admin/people", "People")
    _visit(page, axe, at_375, "/admin/people?q=zzzz-nobody", "People")
    _visit(page, axe, at_375, f"/admin/people/{ids['person']}", "Ines Scientist")
    # the role picker, and a refused grant (an instrument scientist needs an instrument)
    page.get_by_label("Role", exact=True).select_option("instrument_scientist")
    page.get_by_label(re.compile("^Instrument")).first.select_option(index=0)
    page.get_by_role("button", name="Grant", exact=True).click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    _check_here(page, axe, at_375)

    _visit(page, axe, at_375, "/admin/institutions", "Institutions")
    _visit(page, axe, at_375, "/admin/institutions?unreviewed=1", "Institutions")
    _visit(page, axe, at_375, "/admin/institutions/new", "Add an institution")
    page.get_by_role("button", name="Save").click()  # nothing filled in: errors next to the fields
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    _check_here(page, axe, at_375)
    _visit(page, axe, at_375, f"/admin/institutions/{ids['institution']}", re.compile(r"#\d+"))
    # merge into an institution that does not exist: refused, with the message next to the field
    page.get_by_label("Keep this institution (id) and merge the one shown into it").fill("999999")
    page.get_by_role("button", name="Merge and delete this one").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    _check_here(page, axe, at_375)

    _visit(page, axe, at_375, "/admin/country-groups", "Country groups")
    _visit(page, axe, at_375, f"/admin/country-groups/{ids['group']}", re.compile(".+"))


def test_privacy_pages_pass_axe_and_fit_375_px(page, demo, axe, at_375, log_in):
    _visit(page, axe, at_375, "/privacy", re.compile("Privacy"))
    log_in(page, USER, DEMO_PASSWORD)
    _visit(page, axe, at_375, "/privacy", re.compile("Privacy"))
    _visit(page, axe, at_375, "/profile", "Ugo User")
    _visit(page, axe, at_375, "/profile/edit", re.compile(".+"))
    _visit(page, axe, at_375, "/profile/email", re.compile(".+"))
    _visit(page, axe, at_375, "/profile/password", re.compile(".+"))
    _visit(page, axe, at_375, "/profile/close", re.compile("Close"))
    page.get_by_role("button", name=re.compile("Close")).click()  # unconfirmed: refused, nothing closed
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    _check_here(page, axe, at_375)
    data = page.context.request.get("/profile/data")
    assert data.status == 200 and data.json()


def test_facility_pages_pass_axe_and_fit_375_px(app, page, demo, axe, at_375, log_in):
    ids = _ids(app)
    log_in(page, ADMIN, DEMO_PASSWORD)

    _visit(page, axe, at_375, "/facility/settings", re.compile(".+"))
    _visit(page, axe, at_375, "/facility/contributions", re.compile("contributions", re.IGNORECASE))
    _visit(page, axe, at_375, "/facility/instruments", "Instruments")
    _visit(page, axe, at_375, f"/facility/instruments/{ids['instrument']}", re.compile(".+"))
    _visit(page, axe, at_375, "/facility/instruments/new", re.compile(".+"))
    _visit(page, axe, at_375, "/facility/cycles", "Cycles")
    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/calendar", re.compile(ids["cycle"]))
    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/capacity", re.compile(ids["cycle"]))
    _visit(page, axe, at_375, "/facility/modes", re.compile(".+"))


def test_user_office_and_a_user_see_their_facility_pages(app, page, demo, axe, at_375, log_in):
    ids = _ids(app)
    log_in(page, OFFICE, DEMO_PASSWORD)
    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/calendar", re.compile(ids["cycle"]))
    _visit(page, axe, at_375, "/admin/institutions", "Institutions")

    page.context.clear_cookies()
    log_in(page, USER, DEMO_PASSWORD)
    _visit(page, axe, at_375, "/facility/instruments", "Instruments")
    _visit(page, axe, at_375, "/facility/cycles", "Cycles")


def test_facility_forms_with_errors_pass_axe_and_fit_375_px(app, page, demo, axe, at_375, log_in):
    """The forms staff fill in, opened and refused: the messages stay accessible and narrow."""
    ids = _ids(app)
    log_in(page, ADMIN, DEMO_PASSWORD)

    _visit(page, axe, at_375, "/facility/contributions", re.compile("contributions", re.IGNORECASE))
    page.get_by_label("Year").fill("27")
    page.get_by_label("Share of the budget (%)").fill("250")
    page.get_by_role("button", name="Save contribution").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    _check_here(page, axe, at_375)

    _visit(page, axe, at_375, "/facility/cycles", "Cycles")
    page.get_by_label("Name", exact=True).fill("2027-I")  # taken, and no dates
    page.get_by_role("button", name="Create cycle").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    _check_here(page, axe, at_375)

    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/capacity", re.compile(ids["cycle"]))
    page.locator("details summary").first.click()
    _check_here(page, axe, at_375)  # an open override form
    page.get_by_role("button", name=re.compile("^Set capacity")).first.click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    _check_here(page, axe, at_375)

    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/calendar", re.compile(ids["cycle"]))
    page.get_by_text("Block an instrument").click()
    block_form = page.locator("form").filter(has=page.get_by_role("button", name="Add block"))
    block_form.get_by_label("From (day)").fill("2020-01-06")  # outside the cycle
    block_form.get_by_role("button", name="Add block").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    _check_here(page, axe, at_375)

    _visit(page, axe, at_375, "/facility/modes", re.compile(".+"))
    page.get_by_role("button", name="Add mode").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    _check_here(page, axe, at_375)


def test_scientist_and_director_see_their_facility_pages(app, page, demo, axe, at_375, log_in):
    ids = _ids(app)
    log_in(page, "scientist@beamtime.example", DEMO_PASSWORD)
    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/calendar", re.compile(ids["cycle"]))
    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/capacity", re.compile(ids["cycle"]))
    _visit(page, axe, at_375, "/facility/modes", re.compile(".+"))

    page.context.clear_cookies()
    log_in(page, "director@beamtime.example", DEMO_PASSWORD)
    _visit(page, axe, at_375, "/facility/settings", re.compile(".+"))
    _visit(page, axe, at_375, "/facility/contributions", re.compile("contributions", re.IGNORECASE))
    _visit(page, axe, at_375, f"/facility/cycles/{ids['cycle']}/capacity", re.compile(ids["cycle"]))
