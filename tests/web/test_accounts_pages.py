import json
import re

import pytest
from sqlalchemy import func, select

from app.accounts import services
from app.accounts.models import Role, RoleAssignment, User
from app.core.models import AuditEntry, OutboxMessage
from app.extensions import db
from tests.factories import PASSWORD, login, make_country_group, make_institution, make_user
from tests.factories_facility import make_instrument

GOOD_PASSWORD = "quantum-lattice-4711"


def _saved(*objects):
    """Commit what the test built (each request ends the session) and keep plain ids and values."""
    db.session.commit()
    return [type("Saved", (), {k: getattr(o, k) for k in ("id", "email") if hasattr(o, k)}) for o in objects]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _last_link(kind: str) -> str:
    body = db.session.scalars(select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc())).first()
    return re.search(rf"(/{kind}/\S+)", body).group(1)


def _register(client, institution_id, **overrides):
    data = {
        "name": "Lise Meitner",
        "email": "lise@example.org",
        "password": GOOD_PASSWORD,
        "password_confirm": GOOD_PASSWORD,
        "institution_id": str(institution_id),
        "accept_privacy": "y",
    }
    data.update(overrides)
    return client.post("/register", data=data)


def test_register_verify_then_log_in(client, ctx):
    with ctx():
        (institution,) = _saved(make_institution(name="Paul Scherrer Institute", country_code="CH"))
    assert client.get("/register").status_code == 200
    response = _register(client, institution.id)
    assert response.status_code == 200 and b"Check your e-mail" in response.data
    refused = client.post("/login", data={"email": "lise@example.org", "password": GOOD_PASSWORD})
    assert refused.status_code == 422
    assert b"Send the confirmation link again" in refused.data
    assert client.get(_last_link("verify")).status_code == 302
    assert client.post("/login", data={"email": "Lise@Example.org", "password": GOOD_PASSWORD}).status_code == 302
    assert client.get("/profile").status_code == 200


def test_register_with_a_taken_email_shows_the_error_next_to_the_field(client, ctx):
    with ctx():
        institution, _user = _saved(make_institution(), make_user(email="lise@example.org"))
    before = _count(User)
    response = _register(client, institution.id, email="LISE@example.org")
    assert response.status_code == 422
    assert b'id="email-error"' in response.data and b"already exists" in response.data
    assert _count(User) == before


def test_register_with_a_bad_orcid_or_no_privacy_is_refused(client, ctx):
    with ctx():
        (institution,) = _saved(make_institution())
    before = _count(User)
    response = _register(client, institution.id, orcid="0000-0002-1825-0098")
    assert response.status_code == 422 and b'id="orcid-error"' in response.data
    response = _register(client, institution.id, accept_privacy="")
    assert response.status_code == 422 and b'id="accept_privacy-error"' in response.data
    assert _count(User) == before


def test_institution_search_returns_options(client, ctx):
    with ctx():
        _saved(make_institution(name="Paul Scherrer Institute", country_code="CH"))
    response = client.get("/institutions/search", query_string={"institution_search": "scherr"})
    assert response.status_code == 200 and b"Paul Scherrer Institute" in response.data


def test_tampered_verification_link_is_explained(client):
    response = client.get("/verify/not-a-real-token")
    assert response.status_code == 400 and b"not valid" in response.data


def test_password_reset_through_the_pages_works_once(client, ctx):
    with ctx():
        _saved(make_user(email="reset@example.org"))
    assert client.post("/password/forgot", data={"email": "ghost@example.org"}).status_code == 302
    assert _count(OutboxMessage) == 0
    assert client.post("/password/forgot", data={"email": "reset@example.org"}).status_code == 302
    link = _last_link("password/reset")
    assert client.get(link).status_code == 200
    new = {"password": "brand-new-secret-77", "password_confirm": "brand-new-secret-77"}
    assert client.post(link, data=new).status_code == 302
    assert client.post(link, data=new).status_code == 400


def test_admin_grants_and_revokes_roles_in_the_ui(client, ctx):
    with ctx():
        admin, person = _saved(make_user(roles=[Role.ADMIN]), make_user())
        scope = _saved(make_instrument())[0].id  # instrument scopes name a real instrument
    login(client, admin)
    assert client.get("/admin/people", query_string={"q": person.email}).status_code == 200
    assert client.get(f"/admin/people/{person.id}").status_code == 200
    response = client.post(f"/admin/people/{person.id}/roles", data={"role": "instrument_scientist"})
    assert response.status_code == 422 and b"choose the instrument it applies to" in response.data
    response = client.post(
        f"/admin/people/{person.id}/roles",
        data={
            "role": "instrument_scientist",
            "scope_instrument": str(scope),
        },  # a select: facility provides the instruments
    )
    assert response.status_code == 302
    assignment = db.session.scalars(select(RoleAssignment).where(RoleAssignment.user_id == person.id)).one()
    assert (assignment.role, assignment.scope_id) == (Role.INSTRUMENT_SCIENTIST, scope)
    assert client.post(f"/admin/people/{person.id}/roles/{assignment.id}/revoke").status_code == 302
    assert _count(RoleAssignment) == 1  # only the admin's own
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"role.granted", "role.revoked"} <= actions


@pytest.mark.parametrize("roles", [[], [Role.USER_OFFICE], [Role.DIRECTOR]])
def test_non_admins_cannot_grant_roles_and_nothing_changes(client, ctx, roles):
    with ctx():
        actor, person = _saved(make_user(roles=roles), make_user())
    login(client, actor)
    before = (_count(RoleAssignment), _count(AuditEntry))
    assert client.get("/admin/people").status_code == 403
    assert client.post(f"/admin/people/{person.id}/roles", data={"role": "admin"}).status_code == 403
    assert (_count(RoleAssignment), _count(AuditEntry)) == before


def test_staff_manage_institutions_and_merge_duplicates(client, ctx):
    with ctx():
        staff = make_user(roles=[Role.USER_OFFICE])
        survivor = make_institution(name="University of Geneva", country_code="CH")
        duplicate = make_institution(name="Univ. Geneva", country_code="CH")
        moved = make_user(institution_id=duplicate.id)
        staff, survivor, duplicate, moved = _saved(staff, survivor, duplicate, moved)
    login(client, staff)
    assert client.get("/admin/institutions").status_code == 200
    response = client.post(
        "/admin/institutions/new", data={"name": "Nowhere", "kind": "university", "country_code": "", "ror_id": ""}
    )
    assert response.status_code == 422 and b'id="country_code-error"' in response.data
    response = client.post(
        "/admin/institutions/new", data={"name": "CERN", "kind": "international_organisation", "ror_id": "01ggx4158"}
    )
    assert response.status_code == 422 and b'id="ror_id-error"' in response.data
    response = client.post(f"/admin/institutions/{duplicate.id}/merge", data={"survivor_id": str(survivor.id)})
    assert response.status_code == 302
    assert db.session.get(User, moved.id).institution_id == survivor.id


def test_staff_manage_country_groups_with_a_clear_error_for_unknown_codes(client, ctx):
    with ctx():
        (staff,) = _saved(make_user(roles=[Role.ADMIN]))
    login(client, staff)
    response = client.post("/admin/country-groups", data={"name": "Members", "countries": ["CH", "QQ"]})
    assert response.status_code == 422 and b"QQ is not a known country code" in response.data
    assert client.post("/admin/country-groups", data={"name": "Members", "countries": ["CH", "FR"]}).status_code == 302
    assert client.get("/admin/country-groups").status_code == 200


def test_download_my_data_and_close_my_account(client, ctx):
    with ctx():
        institution = make_institution(country_code="IT")
        person = make_user(name="Enrico Fermi", email="enrico@example.org", institution_id=institution.id)
        institution, person = _saved(institution, person)
    login(client, person)
    response = client.get("/profile/data")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert json.loads(response.data)["profile"]["email"] == "enrico@example.org"
    assert client.post("/profile/close", data={"password": "wrong-one-123", "confirm": "y"}).status_code == 422
    response = client.post("/profile/close", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 302  # logged out
    closed = db.session.get(User, person.id)
    assert closed.name == "Closed account" and closed.institution_id == institution.id


def test_token_page_shows_when_a_token_was_last_used(client, ctx):
    with ctx():
        person = make_user()
        _token, secret = services.create_token(person.id, "beamline script", actor=person)
        (person,) = _saved(person)
    response = client.get("/api/v1/countries", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    login(client, person)
    page = client.get("/profile/tokens").data.decode()
    row = page[page.index("beamline script") :].split("</tr>")[0]
    assert "never" not in row


def test_countries_api_lists_and_filters_by_group(client, ctx):
    with ctx():
        person = make_user()
        make_country_group("Members", ("CH", "FR", "XK"))
        _token, secret = services.create_token(person.id, "api", actor=person)
        _saved()
    auth = {"Authorization": f"Bearer {secret}"}
    everything = client.get("/api/v1/countries", headers=auth).json
    assert len(everything) > 240 and {"code", "name", "numeric"} <= set(everything[0])
    members = client.get("/api/v1/countries?group=members", headers=auth).json
    assert {c["code"] for c in members} == {"CH", "FR", "XK"}
    unknown = client.get("/api/v1/countries?group=nope", headers=auth)
    assert unknown.status_code == 422 and unknown.json["field"] == "group"
    assert client.get("/api/v1/countries").status_code == 401
    assert "/api/v1/countries" in client.get("/api/v1/openapi.json").json["paths"]


def test_every_accounts_page_renders_for_staff_and_refuses_plain_users(client, ctx):
    with ctx():
        institution = make_institution()
        group = make_country_group("Members", ("CH",))
        admin, plain, institution, group = _saved(make_user(roles=[Role.ADMIN]), make_user(), institution, group)
    staff_pages = [
        "/admin/people",
        f"/admin/people/{plain.id}",
        "/admin/institutions",
        "/admin/institutions?unreviewed=1",
        "/admin/institutions/new",
        f"/admin/institutions/{institution.id}",
        "/admin/country-groups",
        f"/admin/country-groups/{group.id}",
    ]
    own_pages = ["/profile", "/profile/edit", "/profile/email", "/profile/password", "/profile/close", "/privacy"]
    login(client, plain)
    for url in staff_pages:
        assert client.get(url).status_code == 403, url
    for url in own_pages:
        assert client.get(url).status_code == 200, url
    client.post("/logout")
    login(client, admin)
    for url in staff_pages:
        assert client.get(url).status_code == 200, url
