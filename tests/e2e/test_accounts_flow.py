"""A newcomer through a real browser: register (an error first, then right), confirm the e-mail
address from the outbox, log in, create a personal access token and call the API with it;
axe-core and 375 px on every page of the way."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

EMAIL = "nadia.newcomer@example.org"
PASSWORD = "quartz-lattice-1987-beam"


def _verification_path(app) -> str:
    """The verification link of the one e-mail sent to EMAIL, read from the outbox row."""
    from app.core.models import OutboxMessage
    from app.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        bodies = [m.body_text for m in rows if EMAIL in m.recipients]
        db.session.remove()
    assert len(bodies) == 1, f"expected one e-mail to {EMAIL}, found {len(bodies)}"
    match = re.search(r"https?://[^/\s]+(/verify/\S+)", bodies[0])
    assert match, bodies[0]
    return match.group(1)


def _check(page, axe, at_375) -> None:
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_newcomer_registers_confirms_logs_in_and_uses_a_token(app, page, demo, axe, at_375, log_in):
    page.goto("/register")
    expect(page.get_by_role("heading", name="Register")).to_be_visible()
    _check(page, axe, at_375)

    page.get_by_label("Full name").fill("Nadia Newcomer")
    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    # the institution: typed into the search, htmx fills the list, one is chosen
    page.get_by_label("Search for your institution").fill("Grenoble")
    picker = page.get_by_label("Institution", exact=True)
    expect(picker.locator("option", has_text="University of Grenoble (France)")).to_have_count(1)
    picker.select_option(label="University of Grenoble (France)")
    page.get_by_label("ORCID iD (optional)").fill("0000-0002-1825-0098")  # a wrong check digit
    page.get_by_label("I have read the privacy notice and accept it").check()
    page.get_by_role("button", name="Register").click()

    # refused: the message is next to the field, and what was typed is kept
    orcid = page.get_by_label("ORCID iD (optional)")
    expect(orcid).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#orcid-error")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Nadia Newcomer")
    expect(page.get_by_label("Institution", exact=True)).to_have_value(re.compile(r"\d+"))
    _check(page, axe, at_375)

    orcid.fill("0000-0002-1825-0097")
    page.get_by_label("Password", exact=True).fill(PASSWORD)  # passwords are never sent back
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.get_by_text(EMAIL)).to_be_visible()
    _check(page, axe, at_375)

    # the link from the e-mail (kept in the outbox), opened in the browser
    page.goto(_verification_path(app))
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_text(f"Thank you: {EMAIL} is confirmed.")).to_be_visible()
    _check(page, axe, at_375)

    log_in(page, EMAIL, PASSWORD)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.get_by_role("link", name="Nadia Newcomer").click()
    expect(page.get_by_role("heading", name="Nadia Newcomer")).to_be_visible()
    expect(page.locator("main")).to_contain_text("University of Grenoble (France)")
    _check(page, axe, at_375)

    # a personal access token, shown once
    page.get_by_role("link", name="Personal access tokens for the API").click()
    expect(page.get_by_role("heading", name="Personal access tokens")).to_be_visible()
    _check(page, axe, at_375)
    page.get_by_label("What is this token for?").fill("beamline control")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    assert len(secret) > 20
    row = page.get_by_role("row").filter(has_text="beamline control")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("never")
    _check(page, axe, at_375)
    page.goto("/profile/tokens")
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.get_by_text(secret)).to_have_count(0)

    # the API answers as the person (a Bearer token, no cookie)
    api = page.context.request
    response = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status == 200, response.text()
    me = response.json()
    assert (me["name"], me["email"]) == ("Nadia Newcomer", EMAIL)
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}).status == 401

    page.reload()
    expect(page.get_by_role("row").filter(has_text="beamline control")).not_to_contain_text("never")
    expect(page.get_by_role("row").filter(has_text="beamline control")).to_have_count(1)
