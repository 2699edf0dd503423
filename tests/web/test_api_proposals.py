"""API v1 over proposals: the same services and rules as the pages, errors naming the field,
404 for what the token's owner may not see, drafts addressed as id:<id>."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts import services as accounts
from app.accounts.models import Role
from app.api.proposals import CallSchema, ProposalPageSchema, ProposalSchema
from app.core.db import utcnow
from app.extensions import db
from app.proposals.models import Proposal
from app.proposals.status import ProposalStatus
from tests.dbstate import db_fingerprint
from tests.factories import make_user
from tests.factories_proposals import make_call, make_instrument, make_person, make_proposal


class Person:
    """A person's id and bearer header, usable after the building session ended."""

    def __init__(self, user):
        self.id = user.id
        _token, secret = accounts.create_token(user.id, "api test", actor=user)
        self.headers = {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(ctx):
    """An open call with a complete draft (PI + co-proposer), a closed call, and people."""
    with ctx():
        now = utcnow()
        instrument = make_instrument(code="ID99")
        call = make_call(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10), instruments=[instrument])
        closed = make_call(opens_at=now - timedelta(days=20), closes_at=now - timedelta(seconds=1))
        pi, co = make_person(country_code="FR"), make_person(country_code="IT")
        draft = make_proposal(call=call, pi=pi, co_proposers=(co,), now=now)
        late = make_proposal(call=closed, pi=pi, now=now - timedelta(days=2))
        w = type("World", (), {})()
        w.call_id, w.closed_call_id, w.draft_id, w.late_id = call.id, closed.id, draft.id, late.id
        w.pi, w.co = Person(pi), Person(co)
        w.other = Person(make_person(country_code="DE"))
        w.staff = Person(make_user(roles=[Role.USER_OFFICE]))
        db.session.commit()
        return w


def reread(ctx, proposal_id):
    with ctx():
        db.session.expire_all()
        p = db.session.get(Proposal, proposal_id)
        return {"status": p.status, "title": p.title, "abstract": p.abstract, "reference": p.reference}


def assert_field_error(response, field: str, status: int = 422):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["field"] == field and field in body["errors"], body
    assert body["message"]


# --- calls ----------------------------------------------------------------------------------


def test_calls_open_lists_only_the_open_ones(client, world):
    open_only = client.get("/api/v1/calls?open=true", headers=world.other.headers)
    assert open_only.status_code == 200
    ids = [c["id"] for c in open_only.get_json()]
    assert world.call_id in ids and world.closed_call_id not in ids
    CallSchema(many=True).load(open_only.get_json())
    offered = next(c for c in open_only.get_json() if c["id"] == world.call_id)
    assert offered["is_open"] and offered["instruments"][0]["code"] == "ID99"
    every = [c["id"] for c in client.get("/api/v1/calls", headers=world.other.headers).get_json()]
    assert {world.call_id, world.closed_call_id} <= set(every)
    closed = [c["id"] for c in client.get("/api/v1/calls?open=false", headers=world.other.headers).get_json()]
    assert world.closed_call_id in closed and world.call_id not in closed
    assert_field_error(client.get("/api/v1/calls?open=maybe", headers=world.other.headers), "open")


# --- list -----------------------------------------------------------------------------------


def test_my_proposals_include_my_drafts_and_nobody_elses(client, world):
    mine = client.get("/api/v1/proposals", headers=world.co.headers).get_json()
    ProposalPageSchema().load(mine)
    assert [p["id"] for p in mine["items"]] == [world.draft_id]
    assert mine["items"][0]["key"] == f"id:{world.draft_id}" and mine["items"][0]["reference"] is None
    assert sorted(mine["items"][0]["countries"]) == ["FR", "IT"]
    assert client.get("/api/v1/proposals", headers=world.other.headers).get_json()["total"] == 0
    pi = client.get("/api/v1/proposals?per_page=1", headers=world.pi.headers).get_json()
    assert pi["total"] == 2 and pi["pages"] == 2 and len(pi["items"]) == 1


def test_staff_see_submitted_proposals_and_drafts_only_when_asked(client, world):
    staff = client.get("/api/v1/proposals", headers=world.staff.headers).get_json()
    assert world.draft_id not in [p["id"] for p in staff["items"]]
    client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.pi.headers)
    staff = client.get("/api/v1/proposals", headers=world.staff.headers).get_json()
    assert world.draft_id in [p["id"] for p in staff["items"]]
    drafts = client.get("/api/v1/proposals?status=draft", headers=world.staff.headers).get_json()
    assert world.late_id in [p["id"] for p in drafts["items"]]
    by_instrument = client.get("/api/v1/proposals?instrument=id99", headers=world.staff.headers).get_json()
    assert [p["id"] for p in by_instrument["items"]] == [world.draft_id]
    assert client.get("/api/v1/proposals?country=IT", headers=world.staff.headers).get_json()["total"] == 1
    assert client.get("/api/v1/proposals?country=JP", headers=world.staff.headers).get_json()["total"] == 0
    assert client.get("/api/v1/proposals?mine=true", headers=world.staff.headers).get_json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("instrument=NOPE", "instrument"),
        ("per_page=0", "per_page"),
        ("country=FRA", "country"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_filter_names_its_field(client, world, query, field):
    assert_field_error(client.get(f"/api/v1/proposals?{query}", headers=world.staff.headers), field)


# --- create ---------------------------------------------------------------------------------


def test_create_a_draft_addressed_by_id(client, ctx, world):
    response = client.post(
        "/api/v1/proposals", json={"call_id": world.call_id, "title": "  Beam  me up "}, headers=world.other.headers
    )
    assert response.status_code == 201
    body = response.get_json()
    ProposalSchema().load(body)
    assert body["reference"] is None and body["status"] == "draft" and body["title"] == "Beam me up"
    assert body["key"] == f"id:{body['id']}"
    assert body["members"][0]["user_id"] == world.other.id and body["members"][0]["role"] == "pi"
    assert body["editable"] is True
    assert {m["code"] for m in body["missing"]} >= {"missing_abstract", "missing_science_case", "missing_requests"}
    again = client.get(f"/api/v1/proposals/{body['id']}", headers=world.other.headers)
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "call_id"),
        ({"call_id": "first"}, "call_id"),
        ({"call_id": 987654}, "call_id"),
        ({"call_id": "CALL", "title": "x" * 301}, "title"),
        ({"call_id": "CALL", "abstract": "not here"}, "abstract"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(client, world, payload, field):
    payload = {k: (world.call_id if v == "CALL" else v) for k, v in payload.items()}
    client.get("/api/v1/me", headers=world.other.headers)  # a token used just now is not touched again
    before = db_fingerprint()
    assert_field_error(client.post("/api/v1/proposals", json=payload, headers=world.other.headers), field)
    assert db_fingerprint() == before


def test_create_in_a_closed_call_is_refused(client, world):
    response = client.post("/api/v1/proposals", json={"call_id": world.closed_call_id}, headers=world.other.headers)
    assert response.status_code == 409 and response.get_json()["code"] == "call_closed"


def test_a_body_that_is_not_json_is_refused(client, world):
    response = client.post(
        "/api/v1/proposals", data="call_id=1", content_type="text/plain", headers=world.other.headers
    )
    assert 400 <= response.status_code < 500 and response.is_json


# --- read -----------------------------------------------------------------------------------


def test_read_by_id_number_and_reference(client, world):
    for key in (f"id:{world.draft_id}", str(world.draft_id)):
        body = client.get(f"/api/v1/proposals/{key}", headers=world.co.headers).get_json()
        assert body["id"] == world.draft_id and body["missing"] == []
    submitted = client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.pi.headers).get_json()
    reference = submitted["reference"]
    assert reference and submitted["key"] == reference
    by_reference = client.get(f"/api/v1/proposals/{reference}", headers=world.staff.headers)
    assert by_reference.status_code == 200 and by_reference.get_json()["id"] == world.draft_id


def test_another_persons_draft_is_404_like_a_missing_one(client, world):
    hidden = client.get(f"/api/v1/proposals/id:{world.draft_id}", headers=world.other.headers)
    missing = client.get("/api/v1/proposals/id:99999999", headers=world.other.headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    for key in ("nonsense", "id:", "id:-1", "2099-X-0001"):
        assert client.get(f"/api/v1/proposals/{key}", headers=world.other.headers).status_code == 404


# --- edit -----------------------------------------------------------------------------------


def test_a_co_proposer_edits_and_the_pi_sees_it(client, ctx, world):
    response = client.patch(
        f"/api/v1/proposals/id:{world.draft_id}",
        json={"abstract": "Written by the co-proposer", "subject_area": "materials"},
        headers=world.co.headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["abstract"] == "Written by the co-proposer" and body["subject_area"] == "materials"
    assert reread(ctx, world.draft_id)["abstract"] == "Written by the co-proposer"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject_area": "alchemy"}, "subject_area"),
        ({"title": "t" * 301}, "title"),
        ({"title": 42}, "title"),
        ({"status": "accepted"}, "status"),
        ({"abstract": "a" * 5000}, "abstract"),
    ],
)
def test_patch_refuses_bad_input_naming_the_field_and_keeps_the_text(client, ctx, world, payload, field):
    before = reread(ctx, world.draft_id)
    assert_field_error(
        client.patch(f"/api/v1/proposals/id:{world.draft_id}", json=payload, headers=world.pi.headers), field
    )
    assert reread(ctx, world.draft_id) == before


def test_patch_permissions(client, ctx, world):
    before = reread(ctx, world.draft_id)
    staff = client.patch(f"/api/v1/proposals/id:{world.draft_id}", json={"title": "Staff"}, headers=world.staff.headers)
    assert staff.status_code == 403  # staff see it, the team writes it
    other = client.patch(f"/api/v1/proposals/id:{world.draft_id}", json={"title": "Other"}, headers=world.other.headers)
    assert other.status_code == 404
    assert reread(ctx, world.draft_id) == before


def test_patch_after_the_call_closed_is_refused_and_keeps_the_draft(client, ctx, world):
    before = reread(ctx, world.late_id)
    response = client.patch(
        f"/api/v1/proposals/id:{world.late_id}", json={"title": "Too late"}, headers=world.pi.headers
    )
    assert response.status_code == 409 and response.get_json()["code"] == "call_closed"
    assert reread(ctx, world.late_id) == before


def test_a_submitted_proposal_keeps_its_required_fields(client, world):
    client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.pi.headers)
    response = client.patch(f"/api/v1/proposals/id:{world.draft_id}", json={"abstract": "  "}, headers=world.co.headers)
    assert_field_error(response, "abstract")


# --- submit ---------------------------------------------------------------------------------


def test_a_co_proposer_cannot_submit(client, ctx, world):
    response = client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.co.headers)
    assert response.status_code == 403
    assert reread(ctx, world.draft_id)["status"] == ProposalStatus.DRAFT
    hidden = client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.other.headers)
    assert hidden.status_code == 404


def test_submit_gives_a_reference_and_a_second_submit_keeps_it(client, ctx, world):
    first = client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.pi.headers)
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "submitted" and body["reference"] and body["submitted_at"]
    again = client.post(f"/api/v1/proposals/{body['reference']}/submit", headers=world.pi.headers)
    assert again.status_code == 200 and again.get_json()["reference"] == body["reference"]
    assert reread(ctx, world.draft_id)["reference"] == body["reference"]


def test_an_incomplete_submit_lists_every_missing_item(client, ctx, world):
    client.patch(
        f"/api/v1/proposals/id:{world.draft_id}", json={"abstract": "", "subject_area": None}, headers=world.pi.headers
    )
    response = client.post(f"/api/v1/proposals/id:{world.draft_id}/submit", headers=world.pi.headers)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "proposal_incomplete"
    assert [m["code"] for m in body["missing"]] == ["missing_abstract", "missing_subject_area"]
    assert all(m["message"] for m in body["missing"])
    assert reread(ctx, world.draft_id)["status"] == ProposalStatus.DRAFT


def test_a_submit_after_the_closing_instant_is_refused_and_the_draft_kept(client, ctx, world):
    before = reread(ctx, world.late_id)
    response = client.post(f"/api/v1/proposals/id:{world.late_id}/submit", headers=world.pi.headers)
    assert response.status_code == 409 and response.get_json()["code"] == "call_closed"
    assert reread(ctx, world.late_id) == before
