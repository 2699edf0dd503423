"""The schedule API (schedule, current, direct booking), the calendar pages and the iCal URL
over HTTP: visibility, errors naming the field, 404 bodies, 409 on a slot just taken, a
revoked feed refused; nothing changes on a refusal."""

from datetime import date, timedelta

import pytest

from app.accounts import services as accounts
from app.accounts.models import Role
from app.core.db import utcnow
from app.facility import queries as facility_queries
from app.facility.models import BookingKind, BookingStatus
from tests import factories_proposals as fp
from tests.dbstate import db_fingerprint
from tests.factories import make_user
from tests.factories_facility import make_facility
from tests.factories_scheduling import add_booking, make_award, make_experiment, make_rapid_call
from tests.ical_reading import read_feed

FAR = date(2090, 3, 1)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def w(ctx):
    """ID23 with a published session running now, a draft next month, a maintenance block;
    a plain user, staff, the instrument's scientist, the PI (each with a token); cycle 2090-I
    with a rapid-access award and slot for the booking endpoints."""
    with ctx():
        make_facility()
        instrument = fp.make_instrument(code="ID23")
        now_cycle = fp.make_cycle(name="2026-II", starts_on=date(2026, 8, 1), ends_on=date(2027, 7, 31))
        call = fp.make_call(cycle=now_cycle, instruments=[instrument])
        contact = make_user(name="Lia Contact")
        award = make_award(call=call, instrument=instrument, shifts=6, local_contact=contact, number=7)
        pi = award.proposal.members[0].user
        pi.orcid = "0000-0002-1825-0097"
        now = utcnow()
        running = make_experiment(award, now - timedelta(hours=2), now + timedelta(hours=6))
        draft_award = make_award(call=call, instrument=instrument, shifts=3, number=8)
        draft = make_experiment(
            draft_award, now + timedelta(days=3), now + timedelta(days=4), status=BookingStatus.PLANNED
        )
        block = add_booking(instrument, now_cycle, now + timedelta(days=5), now + timedelta(days=6), title="Vacuum")
        far = fp.make_cycle(name="2090-I", starts_on=FAR, ends_on=date(2090, 7, 31))
        rapid_call = make_rapid_call(far, [instrument])
        rapid_award = make_award(call=rapid_call, instrument=instrument, shifts=6, number=9)
        g = facility_queries.grid()
        add_booking(
            instrument, far, g.start(date(2090, 3, 6), 0), g.start(date(2090, 3, 13), 0), kind=BookingKind.RAPID_ACCESS
        )
        people = {
            "user": make_user(),
            "staff": make_user(roles=[Role.USER_OFFICE]),
            "scientist": make_user(roles=[(Role.INSTRUMENT_SCIENTIST, instrument.id)]),
            "pi": pi,
            "rapid_pi": rapid_award.proposal.members[0].user,
        }
        tokens = {k: accounts.create_token(u.id, "t", actor=u)[1] for k, u in people.items()}
        from app.accounts.models import ApiToken
        from app.extensions import db

        for token in db.session.scalars(db.select(ApiToken)):  # used just now: not touched again
            token.last_used_at = utcnow()
        refs = {"ref": award.proposal.reference, "draft_ref": draft_award.proposal.reference}
    return {
        **refs,
        "instrument": instrument,
        "running": running,
        "draft": draft,
        "block": block,
        "award": award,
        "rapid_award": rapid_award,
        "people": people,
        "tokens": tokens,
        "now": now,
    }


def schedule(client, w, who, **params):
    params.setdefault("start", (w["now"] - timedelta(days=1)).isoformat())
    params.setdefault("end", (w["now"] + timedelta(days=10)).isoformat())
    return client.get("/api/v1/instruments/ID23/schedule", query_string=params, headers=bearer(w["tokens"][who]))


# --- schedule -------------------------------------------------------------------------------


def test_schedule_shows_users_published_experiments_and_blocks(client, w):
    response = schedule(client, w, "user")
    assert response.status_code == 200
    body = response.get_json()
    assert body["timezone"] == "Europe/Zurich"
    assert [(i["kind"], i["status"]) for i in body["items"]] == [
        ("experiment", "published"),
        ("maintenance", "confirmed"),
    ]
    assert body["items"][0]["proposal"]["reference"] == w["ref"]


@pytest.mark.parametrize("who", ["staff", "scientist"])
def test_schedule_shows_drafts_to_staff_and_the_instrument_scientist(client, w, who):
    statuses = [i["status"] for i in schedule(client, w, who).get_json()["items"]]
    assert statuses == ["published", "planned", "confirmed"]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"start": "yesterday"}, "start", None),
        ({"end": "2027-13-45T00:00:00Z"}, "end", None),
        ({"start": "2090-03-10T00:00:00Z", "end": "2090-03-01T00:00:00Z"}, "end", "range_invalid"),
        ({"start": "2090-01-01T00:00:00Z", "end": "2091-01-01T00:00:00Z"}, "end", "range_too_long"),
        ({"strat": "2090-01-01"}, "strat", None),
    ],
)
def test_schedule_errors_name_the_field(client, w, params, field, code):
    response = schedule(client, w, "user", **params)
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == field, body
    if code:
        assert body["code"] == code and body["message"]


def test_schedule_without_start_names_it(client, w):
    response = client.get(
        "/api/v1/instruments/ID23/schedule", query_string={"end": "2090-01-01"}, headers=bearer(w["tokens"]["user"])
    )
    assert response.status_code == 422 and response.get_json()["field"] == "start"


def test_schedule_of_an_unknown_instrument_is_404(client, w):
    response = client.get(
        "/api/v1/instruments/NOPE/schedule",
        query_string={"start": "2090-01-01T00:00:00Z", "end": "2090-01-02T00:00:00Z"},
        headers=bearer(w["tokens"]["user"]),
    )
    assert response.status_code == 404 and response.get_json()["code"] == "instrument_not_found"


# --- current --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "scientist"])
def test_current_names_proposal_session_local_contact_and_team_with_orcid(client, w, who):
    response = client.get("/api/v1/instruments/ID23/current", headers=bearer(w["tokens"][who]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["proposal"]["reference"] == w["ref"]
    assert body["experiment_id"] == w["running"].booking_id
    assert body["local_contact"]["name"] == "Lia Contact"
    assert [(m["role"], m["orcid"]) for m in body["team"]] == [("pi", "0000-0002-1825-0097")]
    assert len(body["sessions"]) == 1 and body["sessions"][0]["starts_at"] == body["starts_at"]


def test_current_is_refused_to_a_plain_user(client, w):
    response = client.get("/api/v1/instruments/ID23/current", headers=bearer(w["tokens"]["user"]))
    assert response.status_code == 403


def test_current_answers_404_with_a_clear_body_when_nothing_runs(client, w, ctx):
    with ctx():
        from app.extensions import db
        from app.facility.models import Booking

        db.session.get(Booking, w["running"].booking_id).status = BookingStatus.CANCELLED
    response = client.get("/api/v1/instruments/ID23/current", headers=bearer(w["tokens"]["staff"]))
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "nothing_running" and "ID23" in body["message"]


# --- booking --------------------------------------------------------------------------------


def block_body(**kw):
    body = {"cycle": "2090-I", "kind": "maintenance", "day": "2090-04-02", "shift": 0, "length": 2}
    body.update(kw)
    return body


def test_staff_book_a_block_and_the_second_gets_409_slot_taken(client, w):
    headers = bearer(w["tokens"]["staff"])
    first = client.post("/api/v1/instruments/ID23/blocks", json=block_body(), headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["kind"] == "maintenance"
    before = db_fingerprint_safe(client)
    second = client.post("/api/v1/instruments/ID23/blocks", json=block_body(shift=1), headers=headers)
    assert second.status_code == 409
    assert second.get_json()["code"] == "slot_taken"
    assert db_fingerprint_safe(client) == before


def db_fingerprint_safe(client):
    with client.application.app_context():
        return db_fingerprint()


@pytest.mark.parametrize("who", ["user", "scientist", "pi"])
def test_only_staff_book_blocks(client, w, who):
    before = db_fingerprint_safe(client)
    response = client.post("/api/v1/instruments/ID23/blocks", json=block_body(), headers=bearer(w["tokens"][who]))
    assert response.status_code == 403
    assert db_fingerprint_safe(client) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (block_body(kind="party"), "kind"),
        (block_body(cycle="2999-X"), "cycle"),
        (block_body(day="2091-02-01"), "day"),
        (block_body(length=0), "length"),
        (block_body(day="not a day"), "day"),
    ],
)
def test_bad_block_input_names_the_field(client, w, body, field):
    before = db_fingerprint_safe(client)
    response = client.post("/api/v1/instruments/ID23/blocks", json=body, headers=bearer(w["tokens"]["staff"]))
    assert response.status_code == 422
    assert response.get_json()["field"] == field, response.get_json()
    assert db_fingerprint_safe(client) == before


def test_the_rapid_access_pi_books_a_session_and_a_second_overlapping_one_is_taken(client, w):
    url = f"/api/v1/awards/{w['rapid_award'].id}/sessions"
    headers = bearer(w["tokens"]["rapid_pi"])
    response = client.post(url, json={"day": "2090-03-07", "shift": 0, "length": 3}, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "published"
    again = client.post(url, json={"day": "2090-03-07", "shift": 1, "length": 1}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "slot_taken"


def test_someone_else_cannot_book_a_rapid_access_session(client, w):
    before = db_fingerprint_safe(client)
    response = client.post(
        f"/api/v1/awards/{w['rapid_award'].id}/sessions",
        json={"day": "2090-03-07", "shift": 0, "length": 3},
        headers=bearer(w["tokens"]["user"]),
    )
    assert response.status_code == 404
    assert db_fingerprint_safe(client) == before


# --- pages and the iCal URL -----------------------------------------------------------------


def login(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def test_timeline_page_hides_the_draft_from_a_user_and_shows_it_to_staff(client, w):
    draft_ref = w["draft_ref"]
    login(client, w["people"]["user"])
    url = "/scheduling/instruments/ID23/timeline?view=cycle&cycle=2026-II"
    page = client.get(url)
    assert page.status_code == 200
    assert w["ref"] in page.text and draft_ref not in page.text
    staff = client.application.test_client()
    login(staff, w["people"]["staff"])
    page = staff.get(url)
    assert draft_ref in page.text


@pytest.mark.parametrize("view", ["week", "month", "cycle", "bogus"])
def test_timeline_and_overview_render_every_view(client, w, view):
    login(client, w["people"]["staff"])
    for url in (f"/scheduling/instruments/ID23/timeline?view={view}", f"/scheduling/overview?view={view}&date=x"):
        assert client.get(url).status_code == 200, url


def test_my_experiments_and_running_now(client, w):
    login(client, w["people"]["pi"])
    page = client.get("/scheduling/mine")
    assert page.status_code == 200 and w["ref"] in page.text
    now_page = client.get("/scheduling/now")
    assert now_page.status_code == 200 and w["ref"] in now_page.text


def test_a_feed_url_is_shown_once_works_and_is_refused_once_revoked(client, w, app):
    login(client, w["people"]["pi"])
    made = client.post("/scheduling/feeds", data={"kind": "user"})
    assert made.status_code == 201
    import re

    url = re.search(r'value="(http://[^"]+\.ics)"', made.text).group(1)
    path = url.split("localhost", 1)[1]
    secret = path.rsplit("/", 1)[1][:-4]
    assert secret not in client.get("/scheduling/feeds").text  # not shown again
    anonymous = app.test_client()
    feed = anonymous.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    cal = read_feed(feed.text)
    assert [ev.uid.value for ev in cal.vevent_list] == [f"experiment-{w['running'].booking_id}@beamtime"]
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.scheduling.models import CalendarFeed

        feed_id = db.session.scalar(select(CalendarFeed.id).order_by(CalendarFeed.id.desc()))
    assert client.post(f"/scheduling/feeds/{feed_id}/revoke").status_code == 302
    assert anonymous.get(path).status_code == 404


def test_bad_feed_input_is_shown_next_to_the_field(client, w):
    login(client, w["people"]["user"])
    page = client.post("/scheduling/feeds", data={"kind": "instrument", "instrument_id": ""})
    assert page.status_code == 422
    assert 'id="feed-instrument-error"' in page.text


def test_unknown_feed_secret_is_404(client, w):
    assert client.get("/scheduling/ical/bcal_nothing.ics").status_code == 404


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2027-02-30", ""])
def test_odd_dates_in_the_timeline_fall_back_to_today(client, w, value):
    login(client, w["people"]["user"])
    for view in ("week", "month", "cycle"):
        assert client.get(f"/scheduling/instruments/ID23/timeline?view={view}&date={value}").status_code == 200
        assert client.get(f"/scheduling/overview?view={view}&date={value}").status_code == 200
