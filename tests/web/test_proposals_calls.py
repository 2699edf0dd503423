"""Staff call pages: create and edit a call with instants entered in the facility's time zone
(clock-change nights refused with a clear message), the instruments offered with their
capacity from the calendar, caps; users see the time left on open calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.accounts.models import Role
from app.core.db import utcnow
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals.models import AccessRoute, Call
from tests.dbstate import db_fingerprint
from tests.factories import login, make_user
from tests.factories_facility import make_facility
from tests.factories_proposals import make_call, make_cycle, make_instrument, make_person


class Saved:
    def __init__(self, user):
        self.id, self.email = user.id, user.email


@pytest.fixture
def setup(ctx):
    """A facility in Zurich time, a cycle, two instruments, a staff person."""
    with ctx():
        make_facility(timezone="Europe/Zurich")
        cycle = make_cycle(name="2027-I", starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31))
        first, second = make_instrument(code="ID01"), make_instrument(code="BM02")
        staff = Saved(make_user(roles=[Role.USER_OFFICE]))
        capacity = facility_queries.instrument_capacity(cycle, first).value
        db.session.commit()
        return type(
            "Setup",
            (),
            {"cycle_id": cycle.id, "first": first.id, "second": second.id, "staff": staff, "capacity": capacity},
        )


def form(setup, **overrides):
    data = {
        "route": "standard",
        "title": "Call 2027-I",
        "description": "Standard call",
        "opens_at": "2027-01-10T09:00",
        "closes_at": "2027-02-01T12:00",
        "max_shifts_per_request": "18",
        "max_cycles": "1",
        "offered": [str(setup.first), str(setup.second)],
        f"max-{setup.first}": "12",
        f"max-{setup.second}": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def calls_of(ctx, cycle_id):
    with ctx():
        db.session.expire_all()
        return [
            {
                "route": c.route,
                "opens_at": c.opens_at,
                "closes_at": c.closes_at,
                "caps": {o.instrument_id: o.max_shifts for o in c.instruments},
                "cap": c.proposal_shift_cap,
                "id": c.id,
            }
            for c in db.session.scalars(db.select(Call).where(Call.cycle_id == cycle_id))
        ]


def test_staff_create_a_call_in_facility_time(client, ctx, setup):
    login(client, setup.staff)
    page = client.get(f"/staff/cycles/{setup.cycle_id}/calls/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Europe/Zurich" in html and "ID01" in html
    assert f"<td>{setup.capacity}</td>" in html  # the capacity from the calendar, beside the instrument
    response = client.post(f"/staff/cycles/{setup.cycle_id}/calls/new", data=form(setup))
    assert response.status_code == 302, response.get_data(as_text=True)
    [call] = calls_of(ctx, setup.cycle_id)
    # 09:00 in Zurich in January is 08:00 UTC (CET, UTC+1)
    assert call["opens_at"] == datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
    assert call["closes_at"] == datetime(2027, 2, 1, 11, 0, tzinfo=UTC)
    assert call["caps"] == {setup.first: 12, setup.second: None}
    listing = client.get("/staff/calls").get_data(as_text=True)
    assert "Call 2027-I" in listing and "10 Jan 2027, 09:00 CET" in listing


def test_the_edit_page_shows_the_local_times_and_saves_changes(client, ctx, setup):
    login(client, setup.staff)
    client.post(f"/staff/cycles/{setup.cycle_id}/calls/new", data=form(setup))
    [call] = calls_of(ctx, setup.cycle_id)
    page = client.get(f"/staff/calls/{call['id']}/edit").get_data(as_text=True)
    assert 'value="2027-01-10T09:00"' in page and 'value="2027-02-01T12:00"' in page
    # summer time: 12:00 in Zurich in June is 10:00 UTC (CEST, UTC+2)
    changed = form(setup, closes_at="2027-06-01T12:00", offered=[str(setup.second)])
    assert client.post(f"/staff/calls/{call['id']}/edit", data=changed).status_code == 302
    [after] = calls_of(ctx, setup.cycle_id)
    assert after["closes_at"] == datetime(2027, 6, 1, 10, 0, tzinfo=UTC)
    assert after["caps"] == {setup.second: None}


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        # 28 March 2027: Zurich's clocks jump from 02:00 to 03:00
        ({"opens_at": "2027-03-28T02:30"}, "This local time does not exist"),
        # 31 October 2027: 02:00–03:00 happens twice
        ({"closes_at": "2027-10-31T02:30"}, "This local time happens twice"),
        ({"opens_at": ""}, "This field is required"),
        ({"opens_at": "yesterday"}, "This value is not valid"),
        ({"closes_at": "2027-01-09T09:00"}, "The call must close after it opens"),
        ({"route": "rapid_access", "proposal_shift_cap": ""}, "A rapid-access call needs a cap"),
        ({"offered": []}, "Offer at least one instrument"),
        ({"max-CAP": "lots"}, "Give a number from 1 to 500"),
        ({"max_shifts_per_request": "0"}, "Give a number from 1 to 500"),
        ({"title": ""}, "This field is required"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(client, ctx, setup, overrides, text):
    login(client, setup.staff)
    if "max-CAP" in overrides:
        overrides = {f"max-{setup.first}": overrides.pop("max-CAP")}
    with ctx():
        before = db_fingerprint()
    response = client.post(f"/staff/cycles/{setup.cycle_id}/calls/new", data=form(setup, **overrides))
    assert response.status_code == 422
    assert text in response.get_data(as_text=True)
    with ctx():
        assert db_fingerprint() == before


def test_a_second_call_for_the_same_route_is_refused(client, ctx, setup):
    login(client, setup.staff)
    client.post(f"/staff/cycles/{setup.cycle_id}/calls/new", data=form(setup))
    again = client.post(f"/staff/cycles/{setup.cycle_id}/calls/new", data=form(setup))
    assert again.status_code == 422 and "already has a call for this access route" in again.get_data(as_text=True)
    rapid = client.post(
        f"/staff/cycles/{setup.cycle_id}/calls/new",
        data=form(setup, route="rapid_access", proposal_shift_cap="6"),
    )
    assert rapid.status_code == 302
    assert {c["route"]: c["cap"] for c in calls_of(ctx, setup.cycle_id)} == {
        AccessRoute.STANDARD: None,
        AccessRoute.RAPID_ACCESS: 6,
    }


def test_users_see_the_time_left_on_open_calls(client, ctx):
    with ctx():
        now = utcnow()
        make_call(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=3, hours=5, minutes=30))
        make_call(opens_at=now - timedelta(days=1), closes_at=now + timedelta(hours=2, minutes=30))
        make_call(opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=9))  # not open yet
        user = Saved(make_person())
        db.session.commit()
    login(client, user)
    html = client.get("/calls").get_data(as_text=True)
    assert "3 days 5 h left" in html
    assert "2 h 29 min left" in html or "2 h 30 min left" in html
    assert html.count("Start a proposal<") == 2
