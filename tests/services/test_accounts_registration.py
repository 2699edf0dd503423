import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import services
from app.accounts.models import Institution, User
from app.accounts.services.reference import InstitutionInput
from app.core.errors import InvalidState, ValidationFailed
from app.core.models import OutboxMessage
from app.extensions import db
from tests.factories import PASSWORD, make_institution, make_user

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
GOOD_PASSWORD = "quantum-lattice-4711"


def _registration(**overrides) -> services.Registration:
    fields = {
        "name": "Lise Meitner",
        "email": "lise@example.org",
        "password": GOOD_PASSWORD,
        "accept_privacy": True,
        "institution_id": overrides.pop("institution_id", None),
    }
    fields.update(overrides)
    return services.Registration(**fields)


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Institution)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
    )


def _link(kind: str) -> str:
    body = db.session.scalars(select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc())).first()
    return re.search(rf"/{kind}/(\S+)", body).group(1)


def test_register_creates_an_unverified_account_and_queues_the_link():
    institution = make_institution()
    user = services.register_user(_registration(institution_id=institution.id, orcid="0000-0002-1825-0097"), now=NOW)
    assert user.email_verified_at is None
    assert user.institution_id == institution.id
    assert user.orcid == "0000-0002-1825-0097"
    assert user.privacy_accepted_at == NOW
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipients == ["lise@example.org"]
    assert "/verify/" in message.body_text


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"email": "LISE@Example.org"}, "email", "email_taken"),
        ({"email": "taken@example.org"}, "email", "email_taken"),
        ({"password": "meitner-lise"}, "password", "password_personal"),
        ({"password": "short"}, "password", "password_too_short"),
        ({"orcid": "0000-0002-1825-0098"}, "orcid", "orcid_invalid"),
        ({"accept_privacy": False}, "accept_privacy", "privacy_not_accepted"),
        ({"institution_id": None}, "institution_id", "institution_required"),
        ({"institution_id": 999_999}, "institution_id", "institution_unknown"),
        (
            {"institution_id": None, "new_institution": InstitutionInput("Nowhere Lab", "university", "ZZ")},
            "new_institution_country_code",
            "country_unknown",
        ),
        (
            {"institution_id": None, "new_institution": InstitutionInput("Nowhere Lab", "university", None)},
            "new_institution_country_code",
            "institution_needs_country",
        ),
    ],
)
def test_bad_registration_says_why_and_stores_nothing(overrides, field, code):
    institution = make_institution()
    make_user(email="lise@example.org")
    make_user(email="taken@example.org")
    db.session.commit()  # a refused use case rolls back to here, not further
    before = _counts()
    overrides.setdefault("institution_id", institution.id)
    email = overrides.pop("email", "new@example.org")
    with pytest.raises(ValidationFailed) as info:
        services.register_user(_registration(email=email, **overrides), now=NOW)
    assert (info.value.field, info.value.code) == (field, code)
    assert _counts() == before


def test_register_with_a_proposed_institution_creates_it_unreviewed():
    user = services.register_user(
        _registration(new_institution=InstitutionInput("Institut Laue-Test", "research_institute", "fr")), now=NOW
    )
    assert user.institution.name == "Institut Laue-Test"
    assert user.institution.country_code == "FR"
    assert user.institution.reviewed_at is None


def test_a_proposed_institution_that_exists_is_reused():
    existing = make_institution(name="University of Basel", country_code="CH")
    user = services.register_user(
        _registration(new_institution=InstitutionInput(" university  of basel ", "university", "CH")), now=NOW
    )
    assert user.institution_id == existing.id


def test_verification_link_confirms_once():
    user = services.register_user(_registration(institution_id=make_institution().id), now=NOW)
    token = _link("verify")
    services.verify_email(token, now=NOW + timedelta(hours=1))
    assert user.email_verified_at == NOW + timedelta(hours=1)
    with pytest.raises(InvalidState, match="link_used"):
        services.verify_email(token, now=NOW + timedelta(hours=2))


def test_verification_link_expires():
    services.register_user(_registration(institution_id=make_institution().id), now=NOW)
    with pytest.raises(InvalidState, match="link_expired"):
        services.verify_email(_link("verify"), now=NOW + timedelta(hours=49))


def test_tampered_or_foreign_links_are_refused():
    services.register_user(_registration(institution_id=make_institution().id), now=NOW)
    token = _link("verify")
    with pytest.raises(InvalidState, match="link_invalid"):
        services.verify_email(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), now=NOW)
    with pytest.raises(InvalidState, match="link_invalid"):
        services.reset_password(token, "another-long-secret-9", now=NOW)  # a verify token is no reset token


def test_login_is_refused_before_verification():
    services.register_user(_registration(institution_id=make_institution().id), now=NOW)
    with pytest.raises(InvalidState, match="email_not_verified"):
        services.check_login("lise@example.org", GOOD_PASSWORD)
    with pytest.raises(ValidationFailed, match="login_failed"):
        services.check_login("lise@example.org", "wrong-password-123")
    services.verify_email(_link("verify"), now=NOW)
    assert services.check_login("LISE@example.org", GOOD_PASSWORD).email == "lise@example.org"


def test_resend_queues_a_new_link_only_for_unverified_accounts():
    services.register_user(_registration(institution_id=make_institution().id), now=NOW)
    make_user(email="verified@example.org")
    services.resend_verification("lise@example.org", now=NOW)
    services.resend_verification("verified@example.org", now=NOW)
    services.resend_verification("nobody@example.org", now=NOW)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_password_reset_link_works_once_and_ends_other_sessions():
    user = make_user(email="reset@example.org")
    version = user.session_version
    services.request_password_reset("Reset@example.org", now=NOW)
    token = _link("password/reset")
    services.reset_password(token, "brand-new-secret-77", now=NOW + timedelta(minutes=5))
    assert services.authenticate("reset@example.org", "brand-new-secret-77") is not None
    assert user.session_version == version + 1
    with pytest.raises(InvalidState, match="link_used"):
        services.reset_password(token, "yet-another-secret-88", now=NOW + timedelta(minutes=6))


def test_password_reset_link_expires():
    make_user(email="reset@example.org")
    services.request_password_reset("reset@example.org", now=NOW)
    with pytest.raises(InvalidState, match="link_expired"):
        services.check_reset_link(_link("password/reset"), now=NOW + timedelta(minutes=61))


def test_reset_request_for_an_unknown_address_sends_nothing():
    services.request_password_reset("ghost@example.org", now=NOW)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_email_change_is_applied_when_the_new_address_is_confirmed():
    user = make_user(email="old@example.org")
    services.request_email_change(user.id, "new@example.org", PASSWORD, actor=user, now=NOW)
    assert user.email == "old@example.org"
    token = _link("verify")
    services.verify_email(token, now=NOW)
    assert user.email == "new@example.org"
    with pytest.raises(InvalidState, match="link_used"):
        services.verify_email(token, now=NOW)


def test_email_change_to_a_taken_address_is_refused():
    user = make_user(email="old@example.org")
    make_user(email="other@example.org")
    with pytest.raises(ValidationFailed, match="email_taken"):
        services.request_email_change(user.id, "OTHER@example.org", PASSWORD, actor=user, now=NOW)


def test_profile_update_is_audit_logged_and_checks_orcid():
    user = make_user()
    institution = make_institution()
    change = services.ProfileChange(name="New Name", institution_id=institution.id, orcid="0000-0001-5109-3700")
    services.update_profile(user.id, change, actor=user)
    assert (user.name, user.institution_id, user.orcid) == ("New Name", institution.id, "0000-0001-5109-3700")
    other = make_user()
    db.session.commit()
    with pytest.raises(ValidationFailed, match="orcid_taken"):
        services.update_profile(other.id, change, actor=other)
    with pytest.raises(ValidationFailed, match="orcid_invalid"):
        services.update_profile(
            other.id, services.ProfileChange(name="X", institution_id=institution.id, orcid="1234"), actor=other
        )
