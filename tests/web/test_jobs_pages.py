import re
from datetime import UTC, datetime

from app.accounts.models import Role
from app.core import jobrequests
from app.core.models import JobRequest, JobStatus, OutboxMessage
from app.extensions import db
from tests.factories import login, make_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _job(ctx, requester_roles=(), **state):
    with ctx():
        user = make_user(roles=list(requester_roles))
        job = jobrequests.request_job("outbox.send", actor=user, now=T0)
        for name, value in state.items():
            setattr(job, name, value)
        db.session.commit()
        return _Person(user.email), job.id


class _Person:
    """What `login()` needs, read while the session was open."""

    def __init__(self, email: str) -> None:
        self.email = email


def _polling(html: str) -> bool:
    return bool(re.search(r'id="job-progress"[^>]*hx-trigger="every', html))


def test_running_job_page_shows_progress_and_keeps_polling(client, ctx):
    user, job_id = _job(ctx, status=JobStatus.RUNNING, progress=3, total=4, message="sending")
    login(client, user)

    page = client.get(f"/jobs/{job_id}")
    fragment = client.get(f"/jobs/{job_id}/progress")

    assert page.status_code == 200 and fragment.status_code == 200
    for html in (page.get_data(as_text=True), fragment.get_data(as_text=True)):
        assert 'data-status="running"' in html
        assert "3 / 4" in html and 'aria-valuenow="75"' in html
        assert "sending" in html
        assert _polling(html)
        assert f'hx-get="/jobs/{job_id}/progress"' in html
    assert "<html" not in fragment.get_data(as_text=True)  # a fragment, not a page


def test_finished_job_stops_polling_and_shows_its_result(client, ctx):
    user, job_id = _job(ctx, status=JobStatus.DONE, progress=2, total=2, result={"sent": 2})
    login(client, user)

    html = client.get(f"/jobs/{job_id}/progress").get_data(as_text=True)

    assert 'data-status="done"' in html
    assert not _polling(html) and "hx-trigger" not in html
    assert "sent" in html and "2 / 2" in html


def test_failed_job_shows_its_error_and_stops_polling(client, ctx):
    user, job_id = _job(ctx, status=JobStatus.FAILED, error="SMTP server refused (451)")
    login(client, user)

    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)

    assert 'data-status="failed"' in html
    assert "SMTP server refused (451)" in html
    assert "hx-trigger" not in html


def test_someone_elses_job_is_not_found(client, ctx):
    _owner, job_id = _job(ctx)
    with ctx():
        stranger = _Person(make_user().email)
        db.session.commit()
    login(client, stranger)
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/progress").status_code == 404


def test_job_pages_need_a_log_in(client, ctx):
    _owner, job_id = _job(ctx)
    assert client.get(f"/jobs/{job_id}/progress").status_code == 302


def test_outbox_page_is_for_staff_only(client, ctx):
    with ctx():
        plain = _Person(make_user().email)
        staff = _Person(make_user(roles=[Role.USER_OFFICE]).email)
        db.session.add(
            OutboxMessage(recipients=["pi@example.org"], subject="Allocated on ID23", body_text="b", created_at=T0)
        )
        db.session.commit()

    login(client, plain)
    assert client.get("/admin/outbox").status_code == 403
    assert client.post("/admin/outbox/send").status_code == 403
    client.post("/logout")

    login(client, staff)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Allocated on ID23" in html and "pending: 1" in html


def test_staff_queue_a_send_and_land_on_its_progress_page(client, ctx):
    with ctx():
        admin = make_user(roles=[Role.ADMIN])
        db.session.commit()
        staff, staff_id = _Person(admin.email), admin.id
    login(client, staff)

    response = client.post("/admin/outbox/send")

    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with ctx():
        job = db.session.get(JobRequest, job_id)
        assert (job.kind, job.status, job.requested_by_id) == ("outbox.send", JobStatus.QUEUED, staff_id)
    assert _polling(client.get(f"/jobs/{job_id}").get_data(as_text=True))
