"""A proposal from start to submission through a real browser: start a draft in the open call
(the text saves itself as it is typed), invite a co-proposer, add a request and a sample,
upload the science case, submit, find it in "My proposals"; axe-core and 375 px on the way."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.demo.people import DEMO_PASSWORD
from tests.pdfs import make_pdf

DEMO_USER = "user@beamtime.example"


def test_a_user_writes_and_submits_a_proposal(page, demo, axe, at_375, log_in):
    log_in(page, DEMO_USER, DEMO_PASSWORD)
    page.get_by_role("link", name="Open calls").click()
    expect(page.get_by_role("heading", name="Open calls for proposals")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ days? \d+ h left")).first).to_be_visible()
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name=re.compile("Start a proposal")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Draft proposal"))).to_be_visible()
    editor = page.url
    axe(page)

    # the text saves itself as it is typed (htmx), field by field
    page.get_by_label("Title", exact=True).fill("Operando XAS of Cu zeolites during NH3-SCR")
    expect(page.locator("#title-status")).to_contain_text("Saved")
    page.get_by_label("Abstract", exact=True).fill("We follow Cu(I)/Cu(II) under working conditions.")
    expect(page.locator("#abstract-status")).to_contain_text("Saved")
    page.get_by_label("Subject area", exact=True).select_option("chemistry")
    expect(page.locator("#subject_area-status")).to_contain_text("Saved")

    # the team: invite a co-proposer by e-mail
    page.get_by_label("E-mail address of the person to invite").fill("co.proposer@example.org")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_text("Invitation sent.")).to_be_visible()
    expect(page.locator("#team")).to_contain_text("co.proposer@example.org")

    # a beamtime request
    page.get_by_label("Instrument", exact=True).select_option(label="XAS — Hard X-ray absorption spectroscopy")
    page.get_by_label("Shifts", exact=True).fill("9")
    page.get_by_label("Justification of the shifts").fill("Three temperatures, three shifts each.")
    page.get_by_role("button", name="Add request").click()
    expect(page.get_by_text("Request added.")).to_be_visible()

    # a sample with its hazards declared
    page.get_by_label("Sample name").fill("Cu-SSZ-13")
    page.get_by_label("Form", exact=True).select_option("powder")
    page.get_by_label("Nanomaterial").check()
    page.get_by_role("button", name="Add sample").click()
    expect(page.get_by_text("Sample added.")).to_be_visible()

    # the science case
    page.get_by_label("Science case (PDF)").set_input_files(
        files=[{"name": "science-case.pdf", "mimeType": "application/pdf", "buffer": make_pdf(2)}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Science case uploaded.")).to_be_visible()
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # submit: a reference is given
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_text(re.compile(r"Proposal \d{4}-I+-\d{4} submitted\."))).to_be_visible()
    reference = re.search(r"\d{4}-I+-\d{4}", page.get_by_role("heading", level=1).inner_text()).group(0)
    assert page.url.split("#")[0] == editor
    axe(page)

    # "My proposals": the new one, submitted, next to the demo user's drafts
    page.get_by_role("link", name="My proposals").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))
    expect(row).to_contain_text("submitted")
    expect(row).to_contain_text("principal investigator")
    expect(page.get_by_role("row").filter(has_text="draft").first).to_be_visible()
    axe(page)
    at_375(page)


def test_a_refused_submission_lists_what_is_missing_and_keeps_the_draft(page, demo, axe, log_in):
    log_in(page, DEMO_USER, DEMO_PASSWORD)
    page.get_by_role("link", name="My proposals").click()
    page.get_by_role("row").filter(has_text="Spin dynamics in a 2D magnet").get_by_role("link").first.click()
    page.get_by_role("button", name="Submit", exact=True).click()
    alert = page.get_by_role("alert").filter(has_text="Not submitted yet")
    expect(alert).to_contain_text("Upload the science case (PDF).")
    expect(alert).to_contain_text("Describe at least one sample.")
    expect(page.get_by_label("Abstract", exact=True)).to_have_value(re.compile("CrI3"))
    axe(page)


def test_staff_edit_a_call_in_facility_time(page, demo, axe, at_375, log_in):
    log_in(page, "user-office@beamtime.example", DEMO_PASSWORD)
    page.goto("/staff/calls")
    expect(page.get_by_role("heading", name="Calls for proposals")).to_be_visible()
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name=re.compile(r"^Edit Call for proposals")).first.click()
    expect(page.get_by_text(re.compile(r"Enter times in the facility.s time zone \(Europe/Zurich\)"))).to_be_visible()
    axe(page)
    at_375(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    # 28 March 2027, 02:30 does not exist in Zurich: refused with the reason, next to the field
    page.get_by_label("Opens (facility time)").fill("2027-03-28T02:30")
    page.get_by_role("button", name="Save the call").click()
    expect(page.locator("#opens_at-error")).to_contain_text("does not exist")
    axe(page)
