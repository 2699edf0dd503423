"""Front-desk pages and API: search, check-in refused for an incomplete checklist with the
message next to the override field, check-in with an override, "on site now" (live partial,
CSV, roll call at an instant), check-out; the invitation letter with the letterhead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import Role
from app.core.db import utcnow
from app.core.models import AuditEntry
from app.extensions import db
from app.visits.desk.models import SitePresence
from app.visits.models import Visit
from app.visits.status import VisitStatus
from tests.factories import login, make_user
from tests.factories_onsite import approved_visit
from tests.factories_visits import make_role


def _setup(ctx, *, accommodation=True):
    from app.accounts import services as accounts

    with ctx():
        visit = approved_visit(accommodation=accommodation)
        office = make_role(Role.USER_OFFICE)
        tokens = {
            "office": accounts.create_token(office.id, "t", actor=office)[1],
            "visitor": accounts.create_token(visit.user_id, "t", actor=visit.user)[1],
        }
        # what the tests read after the context is gone
        visit.reference = visit.experiment.award.proposal.reference
        visit.instrument_code = visit.experiment.booking.instrument.code
        visit.instrument_name = visit.experiment.booking.instrument.name
        visit.user_name = visit.user.name
    return visit, office, tokens


def _status(ctx, visit_id):
    with ctx():
        return db.session.get(Visit, visit_id).status


def test_the_desk_checks_in_with_an_override_and_the_visitor_is_on_site_then_leaves(client, ctx):
    visit, office, _tokens = _setup(ctx)
    login(client, office)
    reference = visit.reference
    page = client.get(f"/desk?q={reference}")
    assert page.status_code == 200 and visit.user_name in page.text
    refused = client.post(f"/desk/visits/{visit.id}/check-in?q={reference}", data={f"v{visit.id}-override_reason": ""})
    assert refused.status_code == 409
    assert f'id="v{visit.id}-override_reason-error"' in refused.text
    assert "The checklist is not complete" in refused.text
    assert _status(ctx, visit.id) == VisitStatus.APPROVED
    done = client.post(
        f"/desk/visits/{visit.id}/check-in", data={f"v{visit.id}-override_reason": "Room in town, booked privately"}
    )
    assert done.status_code == 302
    assert _status(ctx, visit.id) == VisitStatus.ON_SITE
    with ctx():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.checklist_overridden"))
    on_site = client.get("/desk/on-site")
    assert on_site.status_code == 200 and visit.user_name in on_site.text
    assert 'hx-trigger="every 10s"' in on_site.text and "css/print.css" in on_site.text
    rows = client.get("/desk/on-site/rows")
    assert visit.user_name in rows.text and "<html" not in rows.text
    csv = client.get("/desk/on-site.csv")
    assert csv.mimetype == "text/csv" and visit.user_name in csv.text
    assert csv.text.splitlines()[0] == "name,email,instrument,proposal,local_contact,room,arrived_at"
    # the roll call an hour ago: nobody
    earlier = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    past = client.get(f"/desk/on-site?at={earlier}")
    assert visit.user_name not in past.text and "hx-trigger" not in past.text
    out = client.post(f"/desk/visits/{visit.id}/check-out")
    assert out.status_code == 302
    assert _status(ctx, visit.id) == VisitStatus.COMPLETED
    assert visit.user_name not in client.get("/desk/on-site/rows").text


def test_the_on_site_api_is_for_staff_tokens_and_names_a_bad_field(client, ctx):
    visit, office, tokens = _setup(ctx, accommodation=False)
    login(client, office)
    before = utcnow()
    assert client.post(f"/desk/visits/{visit.id}/check-in").status_code == 302
    headers = {"Authorization": f"Bearer {tokens['office']}"}
    now = client.get("/api/v1/on-site", headers=headers)
    assert now.status_code == 200
    assert [p["name"] for p in now.json["people"]] == [visit.user_name]
    assert now.json["people"][0]["instrument"] == visit.instrument_code
    at = (before - timedelta(minutes=5)).isoformat()
    past = client.get("/api/v1/on-site", query_string={"at": at}, headers=headers)
    assert past.status_code == 200 and past.json["count"] == 0
    bad = client.get("/api/v1/on-site?at=yesterday", headers=headers)
    assert bad.status_code == 422 and "at" in bad.text
    assert client.get("/api/v1/on-site", headers={"Authorization": f"Bearer {tokens['visitor']}"}).status_code == 403


def test_the_invitation_letter_has_the_letterhead_and_only_the_visitor_and_staff_read_it(app, client, ctx):
    visit, office, _tokens = _setup(ctx, accommodation=False)
    with ctx():
        from tests.factories_facility import make_facility

        make_facility(letterhead="<p><strong>Institut Exemple</strong>, 71 avenue des Martyrs</p>")
        stranger = make_user()
    login(client, visit.user)
    letter = client.get(f"/desk/visits/{visit.id}/letter")
    assert letter.status_code == 200
    assert "<strong>Institut Exemple</strong>" in letter.text and visit.user_name in letter.text
    assert visit.instrument_name in letter.text
    try:
        import weasyprint  # noqa: F401

        has_pdf = True
    except ImportError:
        has_pdf = False
    pdf = client.get(f"/desk/visits/{visit.id}/letter?format=pdf")
    assert pdf.status_code == (200 if has_pdf else 404)
    other = app.test_client()
    login(other, stranger)
    assert other.get(f"/desk/visits/{visit.id}/letter").status_code == 404


def test_guesthouse_pages_form_errors_next_to_the_field_and_occupancy(app, client, ctx):
    visit, office, _tokens = _setup(ctx)
    login(client, office)
    bad = client.post("/guesthouse/rooms", data={"name": "Twin 1", "kind": "single", "beds": "2"})
    assert bad.status_code == 422 and 'id="beds-error"' in bad.text
    assert client.post("/guesthouse/rooms", data={"name": "Twin 1", "kind": "shared", "beds": "2"}).status_code == 302
    assert client.post("/guesthouse/rooms", data={"name": "Kepler 1", "kind": "single", "beds": "1"}).status_code == 302
    page = client.get("/guesthouse")
    assert visit.user_name in page.text
    with ctx():
        from app.visits.guesthouse.models import GuestRoom

        kepler = db.session.scalar(select(GuestRoom).where(GuestRoom.name == "Kepler 1"))
        twin = db.session.scalar(select(GuestRoom).where(GuestRoom.name == "Twin 1"))
        kepler_bed, twin_bed = kepler.beds[0].id, twin.beds[0].id
    refused = client.post(f"/guesthouse/visits/{visit.id}/beds", data={f"v{visit.id}-bed_id": str(twin_bed)})
    assert refused.status_code == 422 and "does not accept a shared room" in refused.text
    assert (
        client.post(f"/guesthouse/visits/{visit.id}/beds", data={f"v{visit.id}-bed_id": str(kepler_bed)}).status_code
        == 302
    )
    occupancy = client.get(f"/guesthouse/occupancy?from={visit.arrives_on.isoformat()}&days=5")
    assert occupancy.status_code == 200 and visit.user_name in occupancy.text
    # the visitor's checklist shows the room
    mine = app.test_client()
    login(mine, visit.user)
    assert "Room: Kepler 1" in mine.get(f"/visits/{visit.id}").text


def test_the_desk_is_refused_to_visitors(client, ctx):
    visit, _office, _tokens = _setup(ctx)
    login(client, visit.user)
    assert client.get("/desk").status_code == 403
    assert (
        client.post(f"/desk/visits/{visit.id}/check-in", data={f"v{visit.id}-override_reason": "me"}).status_code == 403
    )
    with ctx():
        assert db.session.get(SitePresence, visit.id) is None
