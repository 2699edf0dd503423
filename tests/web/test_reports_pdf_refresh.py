"""The annual report as PDF (when WeasyPrint is installed) and the staff's "refresh the figures
now" button: a job request the jobs process runs, its status polled on the dashboard (issue 10)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.core import jobrequests
from app.core.models import JobRequest, JobStatus
from app.extensions import db
from app.jobs import registry
from app.reports import pdf
from app.reports import services as reports
from app.reports.models import ReportRefresh
from tests.dbstate import db_fingerprint
from tests.factories import login, make_user
from tests.factories_reports import make_example

needs_weasyprint = pytest.mark.skipif(
    not pdf.available(), reason="WeasyPrint is not installed (pip install weasyprint, or the extra `pdf`)"
)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def example(ctx):
    with ctx():
        ex = make_example()
        reports.rebuild_all()
        ex.users = {
            role: make_user(roles=[role]) for role in (Role.DIRECTOR, Role.USER_OFFICE, Role.ADMIN, Role.REVIEWER)
        }
        ex.users["user"] = make_user()
    return ex


def refresh_jobs(app) -> list[JobRequest]:
    with app.app_context():
        return list(db.session.scalars(select(JobRequest).where(JobRequest.kind == reports.REFRESH_KIND)))


# --- the PDF ------------------------------------------------------------------------------------


@needs_weasyprint
@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.USER_OFFICE, Role.ADMIN])
def test_annual_report_downloads_as_a_pdf_with_its_year(client, example, role):
    from pypdf import PdfReader

    login(client, example.users[role])
    page = client.get("/reports/annual?year=2027&mode=whole").get_data(as_text=True)
    assert 'id="annual-pdf"' in page and "/reports/annual.pdf?year=2027" in page
    assert "<svg" in page  # the charts are drawn on the server: they print and go into the PDF
    response = client.get("/reports/annual.pdf?year=2027&mode=whole")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "beamtime-annual-report-2027.pdf" in response.headers["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "2027" in text and "International organisations" in text
    assert "Key figures" in text and "Download PDF" not in text  # the print stylesheet hid the form


@needs_weasyprint
def test_the_pdf_fetches_static_files_from_disk_and_nothing_else(app):
    with app.test_request_context("/reports/annual.pdf"):
        from app.reports.views import _static_folders

        folders = _static_folders()
    base = "http://localhost/reports/annual.pdf"
    css = pdf.local_path("http://localhost/reports/static/reports/reports.css", base, folders)
    assert css is not None and css.name == "reports.css"
    assert pdf.local_path("http://localhost/static/css/beamtime.css", base, folders) is not None
    for url in (
        "http://example.org/static/css/beamtime.css",  # another host: never fetched
        "http://localhost/static/../../config.py",  # out of the folder
        "http://localhost/static/%2e%2e/%2e%2e/config.py",
        "file:///etc/passwd",
        "http://localhost/reports/annual",  # a page, not a static file
    ):
        assert pdf.local_path(url, base, folders) is None, url
    fetcher = pdf._fetcher(base, folders)
    with pytest.raises(ValueError, match="local static files only"):
        fetcher.fetch("https://example.org/logo.png")
    assert fetcher.fetch("http://localhost/reports/static/reports/reports.css").read().startswith(b".report")


def test_pdf_without_weasyprint_answers_404_with_a_reason(client, example, monkeypatch):
    monkeypatch.setattr(pdf, "available", lambda: False)
    login(client, example.users[Role.DIRECTOR])
    assert 'id="annual-pdf"' not in client.get("/reports/annual?year=2027").get_data(as_text=True)
    response = client.get("/reports/annual.pdf?year=2027")
    assert response.status_code == 404 and "WeasyPrint is not installed" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["user", Role.REVIEWER])
def test_others_get_no_pdf(client, example, who):
    login(client, example.users[who])
    assert client.get("/reports/annual.pdf?year=2027").status_code == 403


# --- the refresh button ---------------------------------------------------------------------------


def test_staff_see_the_button_directors_only_the_time(app, example):
    def page(role):
        client = app.test_client()
        login(client, example.users[role])
        return client.get("/reports/").get_data(as_text=True)

    office = page(Role.USER_OFFICE)
    assert 'id="refresh-form"' in office and "Refresh the figures now" in office
    assert 'id="refresh-full"' not in office  # a full rebuild is for admins
    assert 'id="refresh-full"' in page(Role.ADMIN)
    director = page(Role.DIRECTOR)
    assert "Figures as of" in director and 'id="last-refresh"' in director
    assert 'id="refresh-form"' not in director and "Refresh the figures now" not in director


def test_the_button_queues_one_job_the_jobs_process_runs_it(client, app, example):
    login(client, example.users[Role.USER_OFFICE])
    with app.app_context():
        reports.mark_cycle_dirty(example.cycles["2027"].id)
        db.session.commit()
    fragment = client.post("/reports/refresh", headers=HTMX)
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert 'data-status="queued"' in text and 'hx-trigger="every 2s"' in text and " disabled" in text
    # a second click while it is queued queues nothing more
    again = client.post("/reports/refresh", follow_redirects=True)
    assert "already queued" in again.get_data(as_text=True)
    jobs = refresh_jobs(app)
    assert len(jobs) == 1 and jobs[0].params == {"full": False} and jobs[0].status is JobStatus.QUEUED

    # the jobs process takes it (its own connection cannot see this rolled-back test: the
    # handler runs here, as in the scheduling tests; tests/pg runs the real poller)
    with app.app_context():
        claimed = jobrequests.claim_next()
        assert claimed.id == jobs[0].id
        seen = client.get("/reports/refresh").get_data(as_text=True)
        assert 'data-status="running"' in seen
        result = registry.HANDLERS["reports.refresh"](claimed, lambda *a: None)
        claimed.status, claimed.result = JobStatus.DONE, result  # what jobrequests.finish writes
        claimed.finished_at = db.session.scalar(select(func.max(ReportRefresh.finished_at)))
        db.session.commit()
    assert result == {"cycles": 1, "rows": result["rows"], "full": False} and result["rows"] > 0
    done = client.get("/reports/refresh").get_data(as_text=True)
    assert 'data-status="done"' in done and "1 cycle with changes rebuilt" in done
    assert "hx-trigger" not in done  # polling stops
    assert len(refresh_jobs(app)) == 1


def test_an_admin_may_ask_for_a_full_rebuild(client, app, example):
    login(client, example.users[Role.ADMIN])
    assert client.post("/reports/refresh", data={"full": "1"}).status_code == 302
    assert [j.params for j in refresh_jobs(app)] == [{"full": True}]


@pytest.mark.parametrize(
    ("who", "data"),
    [("user", {}), (Role.REVIEWER, {}), (Role.DIRECTOR, {}), (Role.USER_OFFICE, {"full": "1"})],
)
def test_wrong_roles_are_refused_and_nothing_is_queued(client, app, example, who, data):
    def state():
        with app.app_context():
            return {k: v for k, v in db_fingerprint().items() if k != "users"}

    login(client, example.users[who])
    before = state()
    assert client.post("/reports/refresh", data=data, headers=HTMX).status_code == 403
    assert client.post("/reports/refresh", data=data).status_code == 403
    assert state() == before and refresh_jobs(app) == []
    if who in ("user", Role.REVIEWER):
        assert client.get("/reports/refresh").status_code == 403
