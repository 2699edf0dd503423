"""Issue 10 through a real browser: a director opens the dashboard, switches the counting mode,
sees the world map and downloads the XLSX; the user office refreshes the figures and downloads
the annual report as PDF; no serious or critical axe-core violation."""

from __future__ import annotations

from playwright.sync_api import expect

from app.demo.people import DEMO_PASSWORD


def test_a_director_reads_the_dashboard_and_downloads_the_xlsx(app, page, demo, axe, at_375, log_in):
    from app.reports import services

    with app.app_context():
        report = services.rebuild_all()
    assert report.rows > 0
    director = next(email for role, email in demo.logins if role == "director")

    log_in(page, director, DEMO_PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Who uses the facility, from where, with whom")).to_be_visible()
    expect(page.locator("#map[data-ready='1'] svg")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("heading", name="Not on the map")).to_be_visible()
    axe(page)

    page.get_by_label("Counting mode").select_option("pi")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(__import__("re").compile(r"mode=pi"))
    expect(page.get_by_label("Counting mode")).to_have_value("pi")
    expect(page.get_by_role("heading", name="Proposals submitted — PI country")).to_be_visible()
    expect(page.locator("#map[data-ready='1'] svg")).to_be_visible(timeout=10_000)

    with page.expect_download() as info:
        page.locator("#export-all-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as fh:
        assert fh.read(2) == b"PK"
    axe(page)
    at_375(page)


def test_the_user_office_refreshes_the_figures_and_downloads_the_annual_pdf(app, page, demo, axe, log_in):
    """The button queues a job request; the jobs process (the poller thread) runs it while the
    page polls its status with htmx; the annual report page offers the PDF when it can."""
    from app.reports import pdf, services

    with app.app_context():
        services.rebuild_all()
    office = next(email for role, email in demo.logins if role == "user office")

    log_in(page, office, DEMO_PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("button", name="Refresh the figures now").click()
    expect(page.locator("#refresh-job[data-status='done']")).to_be_visible(timeout=30_000)
    expect(page.locator("#refresh-status")).to_contain_text("with changes rebuilt")
    axe(page)

    page.get_by_role("link", name="Printable annual report").click()
    expect(page.locator("svg[role='img']").first).to_be_visible()
    if pdf.available():
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("link", name="Download PDF").click()
        download = info.value
        assert download.suggested_filename.startswith("beamtime-annual-report-")
        with open(download.path(), "rb") as fh:
            assert fh.read(4) == b"%PDF"
    else:
        expect(page.get_by_role("link", name="Download PDF")).to_have_count(0)
    axe(page)
