"""Facility pages and API: forms show errors next to the field and store nothing; the wrong
role is refused and nothing changes."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import Role
from app.extensions import db
from app.facility import queries
from app.facility.models import Booking, Cycle, Facility, MemberContribution
from tests.factories import login, make_user
from tests.factories_facility import add_facility_objects, make_cycle, make_facility, make_instrument


@pytest.fixture
def people(ctx):
    with ctx():
        people = {
            "staff": make_user(roles=[Role.USER_OFFICE]),
            "admin": make_user(roles=[Role.ADMIN]),
            "director": make_user(roles=[Role.DIRECTOR]),
            "user": make_user(),
        }
        make_facility()
        make_instrument(code="ID01")
        make_cycle()  # 2027-I: 1 March – 31 July 2027
        db.session.commit()
        return {k: v.id for k, v in people.items()}


def as_(client, ctx, people, who):
    from app.accounts.models import User

    with ctx():
        user = db.session.get(User, people[who])
    response = login(client, user)  # never inside an app context (DESIGN.md §10)
    assert response.status_code == 302
    return client


def count(ctx, model):
    with ctx():
        return db.session.scalar(select(func.count()).select_from(model))


def test_overlapping_cycle_shows_the_error_next_to_the_field(client, ctx, people):
    as_(client, ctx, people, "staff")
    response = client.post(
        "/facility/cycles", data={"name": "2027-II", "starts_on": "2027-07-01", "ends_on": "2027-11-30"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="starts_on-error"' in html and "overlap cycle 2027-I" in html
    assert count(ctx, Cycle) == 1
    response = client.post(
        "/facility/cycles", data={"name": "2027-II", "starts_on": "2027-08-01", "ends_on": "2027-11-30"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/facility/cycles/2027-II/calendar")


def test_contributions_over_100_are_refused_on_the_page(client, ctx, people):
    as_(client, ctx, people, "staff")
    assert (
        client.post("/facility/contributions", data={"year": "2027", "country": "CH", "share": "80"}).status_code == 302
    )
    response = client.post("/facility/contributions", data={"year": "2027", "country": "DE", "share": "25"})
    assert response.status_code == 422
    assert 'id="share-error"' in response.get_data(as_text=True)
    assert count(ctx, MemberContribution) == 1


def test_unknown_country_and_zone_in_settings(client, ctx, people):
    as_(client, ctx, people, "admin")
    data = {"name": "X", "host_country": "ZZ", "timezone": "Mars/Olympus", "shift_pattern": "00:00, 08:00, 16:00"}
    response = client.post("/facility/settings", data=data)
    assert response.status_code == 422
    assert "ZZ is not a known country code" in response.get_data(as_text=True)
    data["host_country"] = "CH"
    response = client.post("/facility/settings", data=data)
    assert "Mars/Olympus is not a known time zone" in response.get_data(as_text=True)
    with ctx():
        assert db.session.get(Facility, 1).name == "Test Light Source"


def test_shift_pattern_change_after_a_cycle_is_refused_on_the_page(client, ctx, people):
    as_(client, ctx, people, "admin")
    data = {"name": "X", "host_country": "CH", "timezone": "Europe/Zurich", "shift_pattern": "06:00, 14:00, 22:00"}
    response = client.post("/facility/settings", data=data)
    assert response.status_code == 422
    assert 'id="shift_pattern-error"' in response.get_data(as_text=True)


def test_directors_read_but_cannot_edit(client, ctx, people):
    as_(client, ctx, people, "director")
    assert client.get("/facility/settings").status_code == 200
    assert client.get("/facility/cycles/2027-I/calendar").status_code == 200
    assert client.get("/facility/cycles/2027-I/capacity").status_code == 200
    data = {
        "name": "Director's own",
        "host_country": "CH",
        "timezone": "Europe/Zurich",
        "shift_pattern": "00:00, 08:00, 16:00",
    }
    assert client.post("/facility/settings", data=data).status_code == 403
    assert (
        client.post("/facility/contributions", data={"year": "2027", "country": "CH", "share": "5"}).status_code == 403
    )
    assert (
        client.post(
            "/facility/cycles", data={"name": "2028-I", "starts_on": "2028-03-01", "ends_on": "2028-07-31"}
        ).status_code
        == 403
    )
    with ctx():
        instrument = queries.find_instrument_by_code("ID01")
        instrument_id = instrument.id
    block = {
        "block-instrument_id": instrument_id,
        "block-kind": "maintenance",
        "block-first_day": "2027-03-02",
        "block-first_shift": "0",
        "block-last_day": "2027-03-02",
        "block-last_shift": "2",
    }
    assert client.post("/facility/cycles/2027-I/blocks", data=block).status_code == 403
    assert count(ctx, Cycle) == 1 and count(ctx, MemberContribution) == 0 and count(ctx, Booking) == 0
    with ctx():
        assert db.session.get(Facility, 1).name == "Test Light Source"


def test_plain_users_see_instruments_and_cycles_but_not_the_calendar(client, ctx, people):
    as_(client, ctx, people, "user")
    assert client.get("/facility/instruments").status_code == 200
    assert client.get("/facility/cycles").status_code == 200
    assert client.get("/facility/cycles/2027-I/calendar").status_code == 403
    assert client.get("/facility/settings").status_code == 403


def test_blocks_on_the_calendar_page(client, ctx, people):
    as_(client, ctx, people, "staff")
    with ctx():
        instrument_id = queries.find_instrument_by_code("ID01").id
    block = {
        "block-instrument_id": instrument_id,
        "block-kind": "maintenance",
        "block-title": "Vacuum",
        "block-first_day": "2027-03-02",
        "block-first_shift": "1",
        "block-last_day": "2027-03-02",
        "block-last_shift": "2",
    }
    assert client.post("/facility/cycles/2027-I/blocks", data=block).status_code == 302
    response = client.post("/facility/cycles/2027-I/blocks", data={**block, "block-first_shift": "2"})
    assert response.status_code == 409
    assert "already booked then: Vacuum" in response.get_data(as_text=True)
    outside = {**block, "block-first_day": "2027-02-27"}
    response = client.post("/facility/cycles/2027-I/blocks", data=outside)
    assert response.status_code == 422 and "inside cycle 2027-I" in response.get_data(as_text=True)
    assert count(ctx, Booking) == 1
    page = client.get("/facility/cycles/2027-I/calendar").get_data(as_text=True)
    assert "cal-maintenance" in page and "style=" not in page


def test_capacity_page_shows_the_arithmetic_and_the_override_warning(client, ctx, people):
    as_(client, ctx, people, "staff")
    with ctx():
        instrument_id = queries.find_instrument_by_code("ID01").id
    page = client.get("/facility/cycles/2027-I/capacity").get_data(as_text=True)
    assert "User shifts" in page and "459" in page  # 153 days × 3 shifts
    response = client.post(
        f"/facility/cycles/2027-I/capacity/{instrument_id}/override",
        data={f"o{instrument_id}-shifts": "300", f"o{instrument_id}-reason": ""},
    )
    assert response.status_code == 422
    response = client.post(
        f"/facility/cycles/2027-I/capacity/{instrument_id}/override",
        data={f"o{instrument_id}-shifts": "300", f"o{instrument_id}-reason": "new undulator late"},
    )
    assert response.status_code == 302
    page = client.get("/facility/cycles/2027-I/capacity").get_data(as_text=True)
    assert "set by hand" in page and "new undulator late" in page


def test_ui_time_zone_comes_from_the_facility(client, ctx, people):
    with ctx():
        db.session.get(Facility, 1).timezone = "America/Sao_Paulo"
        db.session.commit()
    assert "America/Sao_Paulo" in client.get("/").get_data(as_text=True)


def token_for(ctx, user_id):
    from app.accounts.models import User

    with ctx():
        user = db.session.get(User, user_id)
        _, secret = accounts.create_token(user.id, "api", actor=user)
        return {"Authorization": f"Bearer {secret}"}


def test_api_instruments_cycles_and_capacity(client, ctx, people):
    user = token_for(ctx, people["user"])
    staff = token_for(ctx, people["staff"])
    assert client.get("/api/v1/instruments").status_code == 401
    body = client.get("/api/v1/instruments", headers=user).get_json()
    assert [i["code"] for i in body] == ["ID01"] and body[0]["start_shifts"] == ["00:00", "08:00", "16:00"]
    cycles = client.get("/api/v1/cycles", headers=user).get_json()
    assert cycles[0]["name"] == "2027-I" and cycles[0]["starts_at"].startswith("2027-02-28T23:00")
    assert client.get("/api/v1/cycles/2027-I/capacity", headers=user).status_code == 403
    capacity = client.get("/api/v1/cycles/2027-I/capacity", headers=staff).get_json()
    assert capacity["instruments"][0]["shifts_in_cycle"] == 459
    assert client.get("/api/v1/cycles/1999-I/capacity", headers=staff).status_code == 404


def test_matrix_world_helper_builds_every_object(ctx, people):
    from app.accounts.models import User

    class World:
        pass

    with ctx():
        world = World()
        add_facility_objects(world, actor=db.session.get(User, people["staff"]))
        assert world.block.id and world.override.shifts == 5 and world.cycle.starts_on == date(2090, 3, 1)
