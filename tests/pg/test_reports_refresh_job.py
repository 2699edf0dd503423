"""The dashboard's refresh button with committed data and the real job-request poller: two
clicks queue one job, the jobs process runs it, the page then shows when and how much (issue 10)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role
from app.core.models import JobRequest, JobStatus
from app.extensions import db
from app.jobs.runner import run_pending_job_requests
from app.reports import services as reports
from app.reports.models import ReportRefresh
from tests.factories import PASSWORD, make_user
from tests.factories_reports import make_example


def test_the_jobs_process_runs_the_refresh_the_button_queued(app, committed_db):
    with app.app_context():
        ex = make_example()
        reports.rebuild_all()
        staff = make_user(roles=[Role.USER_OFFICE])
        db.session.commit()
        email, cycle_id = staff.email, ex.cycles["2028"].id
        reports.mark_cycle_dirty(cycle_id)
        db.session.commit()

    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})
    assert client.post("/reports/refresh", headers={"HX-Request": "true"}).status_code == 200
    assert client.post("/reports/refresh", headers={"HX-Request": "true"}).status_code == 200

    with app.app_context():
        jobs = db.session.scalars(select(JobRequest).where(JobRequest.kind == reports.REFRESH_KIND)).all()
        assert len(jobs) == 1 and jobs[0].status is JobStatus.QUEUED
        job_id = jobs[0].id
        assert run_pending_job_requests() == 1
        db.session.expire_all()
        job = db.session.get(JobRequest, job_id)
        assert job.status is JobStatus.DONE, job.error
        assert job.result["cycles"] == 1 and job.result["full"] is False and job.result["rows"] > 0
        assert reports.dirty_cycle_ids() == []
        latest = db.session.scalar(select(ReportRefresh).order_by(ReportRefresh.id.desc()).limit(1))
        assert (latest.full, latest.cycles) == (False, 1)

    fragment = client.get("/reports/refresh").get_data(as_text=True)
    assert 'data-status="done"' in fragment and "1 cycle with changes rebuilt" in fragment
    assert "hx-trigger" not in fragment
