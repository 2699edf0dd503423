"""The main navigation scales: what users work with stays at the top level, staff pages sit in
dropdown groups that open and move by keyboard, and the collapsed menu works at 375 px."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.demo.people import DEMO_PASSWORD

ADMIN = "admin@beamtime.example"
USER = "user@beamtime.example"


def _focused(page) -> str:
    return page.evaluate("() => (document.activeElement.textContent || '').trim()")


def _tab_to(page, name: str, limit: int = 40) -> None:
    """Press Tab from the top of the page until the control named `name` has the focus."""
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page) == name:
            return
    raise AssertionError(f"Tab never reached {name!r} (last: {_focused(page)!r})")


def test_staff_pages_are_grouped_and_a_group_opens_by_keyboard(page, demo, axe, log_in):
    log_in(page, ADMIN, DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main navigation")
    for name in ("Home", "Open calls", "My proposals"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Calls", exact=True)).to_be_hidden()  # inside "Programme"
    for name in ("Programme", "Facility", "People", "Admin"):
        expect(nav.get_by_role("button", name=name, exact=True)).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Institutions")).to_be_hidden()

    # Tab reaches the group, Enter opens it, the arrows walk its entries, Escape closes it
    people = nav.get_by_role("button", name="People", exact=True)
    _tab_to(page, "People")
    page.keyboard.press("Enter")
    expect(people).to_have_attribute("aria-expanded", "true")
    for name in ("People and roles", "Institutions", "Country groups"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    axe(page)  # with the menu open
    page.keyboard.press("ArrowDown")
    assert _focused(page) == "People and roles"
    page.keyboard.press("ArrowDown")
    assert _focused(page) == "Institutions"
    page.keyboard.press("Escape")
    expect(people).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Institutions")).to_be_hidden()
    assert _focused(page) == "People"

    # Space opens it too; Enter on an entry follows it, and the group shows where one is
    page.keyboard.press("Space")
    expect(people).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/institutions$"))
    expect(page.get_by_role("heading", level=1, name="Institutions")).to_be_visible()
    expect(people).to_have_class(re.compile(r"\bactive\b"))
    expect(nav.get_by_role("link", name="Institutions", include_hidden=True)).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current=page]")).to_have_count(1)

    # the other groups hold the facility's set-up and the admin pages
    facility = nav.get_by_role("button", name="Facility", exact=True)
    facility.click()
    for name in ("Instruments", "Cycles", "Operating modes", "Facility settings", "Member contributions"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    nav.get_by_role("link", name="Cycles").click()
    expect(page.get_by_role("heading", level=1, name="Cycles")).to_be_visible()
    expect(facility).to_have_class(re.compile(r"\bactive\b"))
    axe(page)


def test_a_user_sees_only_what_they_use(page, demo, log_in):
    log_in(page, USER, DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("button", name="People", exact=True)).to_have_count(0)
    expect(nav.get_by_role("button", name="Admin", exact=True)).to_have_count(0)
    expect(nav.get_by_role("link", name="Calls", exact=True)).to_have_count(0)
    nav.get_by_role("button", name="Facility", exact=True).click()
    expect(nav.locator(".dropdown-menu .dropdown-item")).to_have_text(
        ["Facility schedule", "Running now", "Calendar feeds", "Instruments", "Cycles"]
    )


def test_the_collapsed_menu_opens_groups_at_375_px(page, demo, axe, at_375, log_in):
    log_in(page, ADMIN, DEMO_PASSWORD)
    at_375(page)
    nav = page.get_by_role("navigation", name="Main navigation")
    toggler = nav.get_by_role("button", name="Toggle navigation")
    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    people = nav.get_by_role("button", name="People", exact=True)
    people.focus()
    page.keyboard.press("Enter")
    expect(people).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Country groups")).to_be_visible()
    at_375(page)
    axe(page)
    nav.get_by_role("link", name="Country groups").click()
    expect(page.get_by_role("heading", level=1, name="Country groups")).to_be_visible()
    at_375(page)
