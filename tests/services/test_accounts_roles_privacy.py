import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import String, cast, func, select

from app.accounts import queries, scopes, services
from app.accounts.models import ApiToken, ExternalIdentity, Role, RoleAssignment, User
from app.core import outbox
from app.core.errors import InvalidState, PermissionDenied, ValidationFailed
from app.core.models import AuditEntry, OutboxMessage
from app.extensions import db
from tests.factories import PASSWORD, make_institution, make_user
from tests.factories_facility import make_instrument

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- roles ----------------------------------------------------------------------------


def test_admin_grants_and_revokes_a_scoped_role_audit_logged():
    admin = make_user(roles=[Role.ADMIN])
    person = make_user()
    scope = make_instrument().id  # instrument scopes must name a real instrument (facility's provider)
    services.grant_role(person.id, Role.INSTRUMENT_SCIENTIST, scope, actor=admin)
    assert person.has_role(Role.INSTRUMENT_SCIENTIST, scope)
    services.revoke_role(person.id, Role.INSTRUMENT_SCIENTIST, scope, actor=admin)
    assert not person.has_role(Role.INSTRUMENT_SCIENTIST)
    granted, revoked = _audit("role.granted"), _audit("role.revoked")
    assert granted[0].changes == {"role": "instrument_scientist", "scope_id": scope}
    assert granted[0].actor_id == revoked[0].actor_id == admin.id


@pytest.mark.parametrize("roles", [[Role.USER_OFFICE], [Role.DIRECTOR], [(Role.REVIEWER, 1)], []])
def test_non_admins_cannot_grant_or_revoke_and_nothing_changes(roles):
    actor = make_user(roles=roles)
    person = make_user(roles=[Role.DIRECTOR])
    db.session.commit()  # a refused use case rolls back to here, not further
    before = (db.session.scalar(select(func.count()).select_from(RoleAssignment)), len(_audit("role.granted")))
    with pytest.raises(PermissionDenied):
        services.grant_role(person.id, Role.ADMIN, actor=actor)
    with pytest.raises(PermissionDenied):
        services.revoke_role(person.id, Role.DIRECTOR, actor=actor)
    assert (db.session.scalar(select(func.count()).select_from(RoleAssignment)), len(_audit("role.granted"))) == before
    assert person.has_role(Role.DIRECTOR)


def test_scoped_roles_need_a_known_scope_when_a_domain_provides_them():
    admin = make_user(roles=[Role.ADMIN])
    person = make_user()
    db.session.commit()
    with pytest.raises(ValidationFailed, match="role_needs_scope"):
        services.grant_role(person.id, Role.REVIEWER, None, actor=admin)
    scopes.register("panel", choices=lambda: [(3, "Panel C")], label=lambda i: "Panel C" if i == 3 else None)
    try:
        with pytest.raises(ValidationFailed, match="scope_unknown"):
            services.grant_role(person.id, Role.REVIEWER, 4, actor=admin)
        services.grant_role(person.id, Role.REVIEWER, 3, actor=admin)
        assert scopes.label("panel", 3) == "Panel C"
    finally:
        scopes.unregister("panel")


# --- closing an account ---------------------------------------------------------------


def test_closing_keeps_counts_and_the_person_disappears():
    fr = make_institution(country_code="FR")
    ch = make_institution(country_code="CH")
    person = make_user(name="Ada Zürcher", email="ada.z@example.org", institution_id=ch.id, orcid="0000-0002-1825-0097")
    for _ in range(3):
        make_user(institution_id=fr.id)
    make_user(institution_id=ch.id)
    person.external_identities.append(ExternalIdentity(issuer="https://idp.example.org", subject="ada-42"))
    token, _secret = services.create_token(person.id, "laptop", actor=person)
    admin = make_user(roles=[Role.ADMIN])
    services.grant_role(person.id, Role.DIRECTOR, actor=admin)
    services.update_profile(
        person.id,
        services.ProfileChange(name="Ada Zürcher-Lovelace", institution_id=ch.id, orcid="0000-0002-1825-0097"),
        actor=person,
    )
    outbox.enqueue("ada.z@example.org", "Hello", "Dear Ada Zürcher-Lovelace, …")
    db.session.flush()
    before = queries.count_users_by_country()
    version = person.session_version

    services.close_account(person.id, PASSWORD, actor=person, now=NOW)

    assert queries.count_users_by_country() == before
    closed = db.session.get(User, person.id)
    assert closed.name == "Closed account" and closed.email == f"closed-{person.id}@closed.invalid"
    assert closed.password_hash is None and closed.orcid is None and not closed.active
    assert closed.institution_id == ch.id and closed.session_version == version + 1
    assert closed.external_identities == [] and closed.roles == []
    assert db.session.get(ApiToken, token.id).revoked_at == NOW
    assert services.load_session_user(f"{person.id}:{version}") is None
    for needle in ("ada.z@example.org", "Zürcher", "0000-0002-1825-0097", "ada-42"):
        for text in db.session.scalars(select(cast(AuditEntry.changes, String))):
            assert needle.lower() not in json.loads(text).__repr__().lower()
        for message in db.session.scalars(select(OutboxMessage)):
            assert needle.lower() not in (json.dumps(message.recipients) + message.subject + message.body_text).lower()


def test_closing_needs_the_password_and_ones_own_account():
    person = make_user()
    other = make_user()
    db.session.commit()
    with pytest.raises(ValidationFailed, match="password_wrong"):
        services.close_account(person.id, "not-the-password", actor=person)
    with pytest.raises(PermissionDenied):
        services.close_account(person.id, PASSWORD, actor=other)
    assert db.session.get(User, person.id).active


def test_the_last_admin_cannot_close_their_account():
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
    with pytest.raises(InvalidState, match="last_admin_cannot_close"):
        services.close_account(admin.id, PASSWORD, actor=admin)


# --- retention of never-verified accounts ---------------------------------------------


def test_retention_removes_only_never_verified_accounts_past_the_limit():
    old_unverified = make_user(email="old@example.org", email_verified_at=None, created_at=NOW - timedelta(days=31))
    young_unverified = make_user(email_verified_at=None, created_at=NOW - timedelta(days=5))
    old_verified = make_user(created_at=NOW - timedelta(days=400))
    outbox.enqueue("old@example.org", "Confirm", "Hello, confirm …")
    old_id = old_unverified.id
    assert services.purge_unverified_accounts(now=NOW) == 1
    db.session.expire_all()
    assert db.session.get(User, old_id) is None
    assert db.session.get(User, young_unverified.id) is not None
    assert db.session.get(User, old_verified.id) is not None
    assert db.session.scalars(select(OutboxMessage.recipients)).one() == ["«erased»"]
    assert services.purge_unverified_accounts(now=NOW) == 0


def test_personal_data_export_has_no_secrets_and_lists_audit_entries():
    person = make_user(institution_id=make_institution().id)
    _token, secret = services.create_token(person.id, "script", actor=person)
    data = queries.personal_data(person)
    text = json.dumps(data)
    assert data["profile"]["email"] == person.email
    assert data["tokens"][0]["name"] == "script" and secret not in text and "token_hash" not in text
    assert any(e["action"] == "token.created" for e in data["audit_log"])
