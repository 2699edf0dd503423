"""Smoke tests through a real browser: log in, accessibility, small screens, a background job."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.demo.people import DEMO_LOGINS, DEMO_PASSWORD


def demo_email(label: str) -> str:
    return next(email for name, email, *_ in DEMO_LOGINS if name == label)


def test_demo_user_logs_in_and_is_welcomed(page, demo, log_in):
    log_in(page, demo_email("user"), DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("main p.lead")).to_have_text("Welcome, Ugo User.")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_wrong_password_says_so_next_to_the_field(page, demo, log_in):
    log_in(page, demo_email("user"), "not-the-password")

    expect(page.locator("#password-error")).to_contain_text("not right")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")


def test_login_and_home_pass_axe(page, demo, axe, log_in):
    page.goto("/")
    axe(page)
    page.goto("/login")
    axe(page)
    log_in(page, demo_email("user"), "not-the-password")  # the page with an error message
    axe(page)
    log_in(page, demo_email("admin"), DEMO_PASSWORD)
    axe(page)


def test_login_and_home_are_usable_at_375_px(page, demo, at_375, log_in):
    page.goto("/login")
    at_375(page)
    toggler = page.get_by_role("button", name="Toggle navigation")
    expect(toggler).to_be_visible()
    expect(page.locator("#mainnav")).to_be_hidden()

    log_in(page, demo_email("admin"), DEMO_PASSWORD)
    at_375(page)
    expect(page.get_by_role("link", name="E-mail outbox")).to_be_hidden()
    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    admin_menu = page.get_by_role("button", name="Admin", exact=True)
    expect(admin_menu).to_be_visible()
    expect(page.get_by_role("link", name="E-mail outbox")).to_be_hidden()  # inside the closed group
    admin_menu.click()
    expect(page.get_by_role("link", name="E-mail outbox")).to_be_visible()
    at_375(page)
    page.get_by_role("link", name="E-mail outbox").click()
    expect(page.get_by_role("heading", name="E-mail outbox")).to_be_visible()


def test_staff_sends_the_outbox_and_watches_the_job_finish(page, demo, axe, at_375, log_in):
    log_in(page, demo_email("admin"), DEMO_PASSWORD)
    page.get_by_role("button", name="Admin", exact=True).click()
    page.get_by_role("link", name="E-mail outbox").click()
    expect(page.get_by_role("heading", name="E-mail outbox")).to_be_visible()
    expect(page.get_by_role("cell", name="Welcome to the Beamtime demo").first).to_be_visible()
    axe(page)

    page.get_by_role("button", name="Send due e-mails now").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", name=re.compile(r"Background job #\d+"))).to_be_visible()
    # htmx polls the progress fragment every second; the poller thread runs the job
    expect(page.locator(".job-status")).to_have_attribute("data-status", "done", timeout=15_000)
    expect(page.locator("#job-progress dl")).to_contain_text("sent")
    expect(page.locator("#job-progress dd").first).to_have_text(str(len(DEMO_LOGINS)))
    axe(page)

    at_375(page)

    page.goto("/admin/outbox")
    expect(page.get_by_text(f"sent: {len(DEMO_LOGINS)}")).to_be_visible()
    at_375(page)
