"""The workflow pages (issue 7) render for staff, the check step shows warnings before saving,
bad input is answered next to its field with nothing changed, never a 500."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.facility.models import Booking, BookingStatus
from app.jobs import registry
from app.scheduling import services
from app.scheduling.models import Experiment
from tests.factories import login
from tests.factories_scheduling import make_small_cycle

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(ctx):
    with ctx():
        small = make_small_cycle()
        job = services.request_solve(small["cycle"].id, effort=1, actor=small["staff"], now=NOW)
        from app.core import jobrequests

        claimed = jobrequests.claim_next(now=NOW)
        result = registry.HANDLERS["schedule.solve"](claimed, lambda *a: None)
        planned = db.session.scalars(
            select(Booking).where(Booking.status == BookingStatus.PLANNED).order_by(Booking.starts_at)
        ).all()
        return {
            "staff": small["staff"].id,
            "contact": small["contact"].id,
            "draft": result["draft_id"],
            "job": job.id,
            "planned": [b.id for b in planned],
            "published": small["pinned"].id,
        }


def as_(client, ctx, user_id):
    with ctx():
        user = db.session.get(User, user_id)
    assert login(client, user).status_code == 302
    return client


def test_staff_pages_render(client, ctx, world):
    as_(client, ctx, world["staff"])
    for path in (
        "/scheduling/plan",
        "/scheduling/cycles/2027-I/plan",
        f"/scheduling/drafts/{world['draft']}",
        "/scheduling/cycles/2027-I/timeline",
        "/scheduling/cycles/2027-I/timeline?start=2027-03-08",
        "/scheduling/cycles/2027-I/timeline?start=not-a-date",
        f"/scheduling/cycles/2027-I/compare?first={world['draft']}&second={world['draft']}",
        f"/scheduling/experiments/{world['planned'][0]}",
        f"/scheduling/solves/{world['job']}/progress",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    timeline = client.get("/scheduling/cycles/2027-I/timeline").get_data(as_text=True)
    assert "ID01" in timeline and "2027-I-0001" in timeline


def test_the_check_step_shows_warnings_and_saving_needs_the_confirmation(client, ctx, world):
    as_(client, ctx, world["staff"])
    booking_id = world["planned"][0]
    with ctx():
        before = db.session.get(Booking, booking_id).starts_at
    # the maintenance day on ID01 (3 March) or any other clash is named before saving
    response = client.post(
        f"/scheduling/experiments/{booking_id}/check-move", data={"day": "2027-03-05", "shift": "0", "length": "2"}
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'data-code="placement_downtime"' in text or 'data-code="placement_overlap"' in text
    # saving without the confirmation is refused (more shifts than awarded, maybe a clash), nothing moves
    response = client.post(
        f"/scheduling/experiments/{booking_id}/move", data={"day": "2027-03-10", "shift": "0", "length": "10"}
    )
    assert response.status_code == 409
    with ctx():
        assert db.session.get(Booking, booking_id).starts_at == before
    # a bad length is answered next to the field
    response = client.post(
        f"/scheduling/experiments/{booking_id}/move", data={"day": "2027-03-14", "shift": "0", "length": "zero"}
    )
    assert response.status_code == 422
    assert 'id="length-error"' in response.get_data(as_text=True)


def test_delivery_errors_are_shown_next_to_the_field(client, ctx, world):
    with ctx():
        services.advance_experiments(now=datetime(2027, 3, 20, tzinfo=UTC))
    as_(client, ctx, world["contact"])
    published = world["published"]
    assert client.get(f"/scheduling/experiments/{published}").status_code == 200
    response = client.post(
        f"/scheduling/experiments/{published}/delivery",
        data={"delivered_shifts": "3", "lost_shifts": "2", "lost_reason": "machine_fault", "lost_note": ""},
    )
    assert response.status_code == 422
    assert 'id="lost_shifts-error"' in response.get_data(as_text=True)
    with ctx():
        assert db.session.get(Experiment, published).delivered_shifts is None
    response = client.post(
        f"/scheduling/experiments/{published}/delivery",
        data={"delivered_shifts": "2", "lost_shifts": "1", "lost_reason": "machine_fault", "lost_note": "RF"},
    )
    assert response.status_code == 302
    with ctx():
        assert db.session.get(Experiment, published).delivered_shifts == 2
