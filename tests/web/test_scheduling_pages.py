"""The direct-booking page: free windows, a booking stored, every bad input shown next to its
field with nothing stored, a taken slot answered with a clear 409 — never a 500."""

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.extensions import db
from app.facility.models import Booking
from tests.factories import login, make_user
from tests.factories_facility import make_cycle, make_facility, make_instrument


@pytest.fixture
def people(ctx):
    with ctx():
        people = {"staff": make_user(roles=[Role.USER_OFFICE]), "user": make_user()}
        make_facility()
        instrument = make_instrument(code="ID01")
        make_cycle()  # 2027-I: 1 March – 31 July 2027
        db.session.commit()
        ids = {k: v.id for k, v in people.items()}
        ids["instrument"] = instrument.id
        return ids


def as_(client, ctx, people, who):
    with ctx():
        user = db.session.get(User, people[who])
    assert login(client, user).status_code == 302
    return client


def bookings(ctx) -> int:
    with ctx():
        return db.session.scalar(select(func.count()).select_from(Booking))


def form(people, **kwargs):
    data = {
        "instrument_id": str(people["instrument"]),
        "kind": "maintenance",
        "day": "2027-03-02",
        "shift": "1",
        "length": "2",
        "title": "Vacuum work",
    }
    data.update(kwargs)
    return data


def test_staff_see_free_windows_and_book_a_block(client, ctx, people):
    as_(client, ctx, people, "staff")
    page = client.get("/scheduling/cycles/2027-I/book")
    assert page.status_code == 200
    assert "Free windows of ID01" in page.get_data(as_text=True)
    response = client.post("/scheduling/cycles/2027-I/book", data=form(people))
    assert response.status_code == 302
    assert bookings(ctx) == 1
    page = client.get(response.headers["Location"])
    assert "2027-03-02 08:00" in page.get_data(as_text=True)  # the first window now ends there


def test_a_taken_slot_is_a_clear_409(client, ctx, people):
    as_(client, ctx, people, "staff")
    assert client.post("/scheduling/cycles/2027-I/book", data=form(people)).status_code == 302
    response = client.post("/scheduling/cycles/2027-I/book", data=form(people, shift="2", length="1"))
    assert response.status_code == 409
    assert "Someone has just booked this time: Vacuum work" in response.get_data(as_text=True)
    assert bookings(ctx) == 1


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"length": "0"}, "length", "Enter a whole number from 1"),
        ({"length": "abc"}, "length", "Enter a whole number from 1"),
        ({"day": ""}, "day", "This field is required."),
        ({"day": "2027-02-30"}, "day", "Not a valid date value."),
        ({"day": "2027-08-02"}, "day", "inside cycle 2027-I"),
        ({"day": "2027-07-31", "shift": "2", "length": "5"}, "length", "inside cycle 2027-I"),
        ({"shift": "7"}, "shift", "Not a valid choice"),
        ({"kind": "experiment"}, "kind", "Not a valid choice"),
        ({"instrument_id": "999"}, "instrument_id", "Not a valid choice"),
        ({"title": "t" * 201}, "title", "This is too long"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(client, ctx, people, changes, field, text):
    as_(client, ctx, people, "staff")
    response = client.post("/scheduling/cycles/2027-I/book", data=form(people, **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and text in html
    assert bookings(ctx) == 0


def test_a_plain_user_is_refused(client, ctx, people):
    as_(client, ctx, people, "user")
    assert client.get("/scheduling/cycles/2027-I/book").status_code == 403
    assert client.post("/scheduling/cycles/2027-I/book", data=form(people)).status_code == 403
    assert bookings(ctx) == 0


@pytest.fixture
def rapid(ctx):
    """A released rapid-access award of 6 shifts on ID-RA with a slot 8–14 March 2027."""
    from datetime import date

    from app.facility import queries as facility_queries
    from app.facility.models import BookingKind
    from tests import factories_proposals as fp
    from tests.factories_scheduling import add_booking, make_award, make_rapid_call

    with ctx():
        make_facility()
        instrument = fp.make_instrument(code="ID-RA")
        cycle = fp.make_cycle(starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31))
        award = make_award(call=make_rapid_call(cycle, [instrument]), instrument=instrument, shifts=6)
        g = facility_queries.grid()
        add_booking(
            instrument,
            cycle,
            g.start(date(2027, 3, 8), 0),
            g.start(date(2027, 3, 14), 0),
            kind=BookingKind.RAPID_ACCESS,
        )
        other = make_user()
        db.session.commit()
        return {"award": award.id, "pi": award.proposal.pi.user_id, "other": other.id}


def test_the_pi_books_a_session_in_a_rapid_access_slot(client, ctx, rapid):
    as_(client, ctx, rapid, "pi")
    url = f"/scheduling/awards/{rapid['award']}/book"
    page = client.get(url)
    assert page.status_code == 200 and "Rapid-access slots" in page.get_data(as_text=True)
    bad = client.post(url, data={"day": "2027-03-20", "shift": "0", "length": "2"})
    assert bad.status_code == 422 and 'id="day-error"' in bad.get_data(as_text=True)
    too_long = client.post(url, data={"day": "2027-03-09", "shift": "0", "length": "7"})
    assert too_long.status_code == 422 and "more than the award has left" in too_long.get_data(as_text=True)
    ok = client.post(url, data={"day": "2027-03-09", "shift": "0", "length": "3"})
    assert ok.status_code == 302
    taken = client.post(url, data={"day": "2027-03-09", "shift": "1", "length": "1"})
    assert taken.status_code == 409 and "Someone has just booked this time" in taken.get_data(as_text=True)
    assert bookings(ctx) == 3  # the session and the two halves of the slot


def test_someone_else_does_not_see_the_award(client, ctx, rapid):
    as_(client, ctx, rapid, "other")
    assert client.get(f"/scheduling/awards/{rapid['award']}/book").status_code == 404
    url = f"/scheduling/awards/{rapid['award']}/book"
    assert client.post(url, data={"day": "2027-03-09", "shift": "0", "length": "1"}).status_code == 404
    assert bookings(ctx) == 1


def test_staff_set_the_sessions_of_an_award_on_the_awards_page(client, ctx, people):
    from app.scheduling.models import AwardSchedule
    from tests import factories_proposals as fp
    from tests.factories_scheduling import make_award

    with ctx():
        instrument = fp.make_instrument(code="ID-AW")
        cycle = fp.make_cycle(name="2027-AW")
        award = make_award(call=fp.make_call(cycle=cycle, instruments=[instrument]), instrument=instrument, shifts=9)
        award_id = award.id
    as_(client, ctx, people, "staff")
    page = client.get("/scheduling/cycles/2027-AW/awards")
    assert page.status_code == 200 and "ID-AW" in page.get_data(as_text=True)
    bad = client.post(f"/scheduling/awards/{award_id}/max-sessions", data={f"a{award_id}-max_sessions": "0"})
    assert bad.status_code == 422
    assert f'id="a{award_id}-max_sessions-error"' in bad.get_data(as_text=True)
    ok = client.post(f"/scheduling/awards/{award_id}/max-sessions", data={f"a{award_id}-max_sessions": "3"})
    assert ok.status_code == 302
    with ctx():
        assert db.session.get(AwardSchedule, award_id).max_sessions == 3
