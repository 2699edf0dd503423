"""Registration, e-mail verification, password reset and profile editing.

Links sent by e-mail are signed and expire (app.accounts.links). They are single-use by
construction: a verification link names the address it confirms and the address the account
had when it was sent, a reset link carries a fingerprint of the password hash — once used,
the account no longer matches the link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel import Locale, UnknownLocaleError
from flask_babel import lazy_gettext as _l

from app.accounts import links, notifications, passwords, permissions
from app.accounts.models import User
from app.accounts.services.people import (
    check_email_free,
    check_institution,
    check_name,
    check_orcid,
    check_password_strength,
    create_user,
    find_user_by_email,
    get_user,
    normalise_email,
)
from app.accounts.services.reference import InstitutionInput, propose_institution
from app.core import audit, settings
from app.core.db import utcnow
from app.core.errors import InvalidState, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db

settings.define(
    "accounts.verification_link_hours",
    int,
    48,
    _l("Hours an e-mail verification link stays valid"),
    minimum=1,
    maximum=24 * 30,
)
settings.define(
    "accounts.reset_link_minutes", int, 60, _l("Minutes a password reset link stays valid"), minimum=5, maximum=24 * 60
)


@dataclass(frozen=True, slots=True)
class Registration:
    """What the registration form gives (raw: the service checks every field)."""

    name: str
    email: str
    password: str
    accept_privacy: bool
    institution_id: int | None = None
    #: a new institution proposed instead of picking one (name, kind, country)
    new_institution: InstitutionInput | None = None
    orcid: str | None = None
    locale: str | None = None
    #: a local path the person was on their way to (an invitation): the confirmation link leads
    #: on to it after log-in. Checked by the view; the link carries it unsigned, as a plain hint.
    continue_to: str | None = None


def _check_locale(locale: str | None) -> str | None:
    if not (locale or "").strip():
        return None
    try:
        Locale.parse(locale.strip())
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationFailed("invalid_value", field="locale") from None
    return locale.strip()[:10]


def _send_verification(user: User, *, now: datetime, email: str | None = None, continue_to: str | None = None) -> None:
    hours = settings.get_int("accounts.verification_link_hours")
    token = links.sign(links.VERIFY_EMAIL, {"uid": user.id, "email": email or user.email, "from": user.email}, now=now)
    notifications.enqueue_verification(user, token, hours=hours, now=now, email=email, continue_to=continue_to)


@transactional
def register_user(data: Registration, *, now: datetime | None = None) -> User:
    """Create an unverified account and send the verification link.

    The institution is picked from the list or proposed (see `propose_institution`).

    Raises: ValidationFailed (naming the field: name, email taken in any case, weak password,
    privacy notice not accepted, institution missing or unknown, new institution without a
    country, ORCID invalid or taken…).
    """
    now = now or utcnow()
    name = check_name(data.name)
    email = check_email_free(data.email)
    check_password_strength(data.password, email=email, name=name)
    orcid = check_orcid(data.orcid)
    locale = _check_locale(data.locale)
    if data.new_institution is not None and (data.new_institution.name or "").strip():
        institution = propose_institution(data.new_institution, now=now)
    else:
        institution = check_institution(data.institution_id)
    if not data.accept_privacy:
        raise ValidationFailed("privacy_not_accepted", field="accept_privacy")
    user = create_user(
        email=email,
        name=name,
        password=data.password,
        now=now,
        check_strength=False,
        institution_id=institution.id,
        orcid=orcid,
        locale=locale,
    )
    user.privacy_accepted_at = now
    audit.record(user, "user.registered", user, changes={"institution_id": institution.id})
    _send_verification(user, now=now, continue_to=data.continue_to)
    return user


@transactional
def resend_verification(email: str, *, now: datetime | None = None) -> None:
    """Send the verification link again if an unverified account has this address.
    Says nothing either way, so nobody learns which addresses have accounts."""
    user = find_user_by_email(email)
    if user is not None and user.active and user.email_verified_at is None:
        _send_verification(user, now=now or utcnow())


@transactional
def verify_email(token: str, *, now: datetime | None = None) -> User:
    """Confirm an address from a verification link: the account's first, or a new one.

    Raises: InvalidState link_invalid (tampered, unknown account), link_expired, link_used
    (already confirmed, or the address changed since); ValidationFailed email_taken (a new
    address someone else registered meanwhile).
    """
    now = now or utcnow()
    hours = settings.get_int("accounts.verification_link_hours")
    payload = links.load(links.VERIFY_EMAIL, token, max_age=timedelta(hours=hours), now=now)
    user = db.session.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    if user is None or not user.active:
        raise InvalidState("link_invalid")
    target, sent_to = str(payload.get("email", "")), str(payload.get("from", ""))
    if normalise_email(user.email) != normalise_email(sent_to):
        raise InvalidState("link_used")
    if normalise_email(target) == normalise_email(user.email):
        if user.email_verified_at is not None:
            raise InvalidState("link_used")
        user.email_verified_at = now
        audit.record(user, "user.email_verified", user)
        return user
    target = check_email_free(target, except_user_id=user.id)
    before = audit.snapshot(user, ("email",))
    user.email = target
    user.email_verified_at = now
    audit.record(user, "user.email_changed", user, changes=audit.changes_since(user, before))
    return user


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "-").encode()).hexdigest()[:20]


@transactional
def request_password_reset(email: str, *, now: datetime | None = None) -> None:
    """Send a reset link if an active account has this address. Says nothing either way."""
    now = now or utcnow()
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    minutes = settings.get_int("accounts.reset_link_minutes")
    token = links.sign(links.RESET_PASSWORD, {"uid": user.id, "pw": _password_fingerprint(user)}, now=now)
    notifications.enqueue_password_reset(user, token, minutes=minutes, now=now)


def _user_for_reset(token: str, now: datetime) -> User:
    minutes = settings.get_int("accounts.reset_link_minutes")
    payload = links.load(links.RESET_PASSWORD, token, max_age=timedelta(minutes=minutes), now=now)
    user = db.session.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    if user is None or not user.active:
        raise InvalidState("link_invalid")
    if payload.get("pw") != _password_fingerprint(user):
        raise InvalidState("link_used")
    return user


def check_reset_link(token: str, *, now: datetime | None = None) -> User:
    """The person a reset link is for, before they choose a password.
    Raises: InvalidState link_invalid, link_expired, link_used."""
    return _user_for_reset(token, now or utcnow())


@transactional
def reset_password(token: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set a new password from a reset link; the link then stops working, every other session
    is logged out, and the address counts as verified (the link reached it).

    Raises: InvalidState link_invalid, link_expired, link_used; ValidationFailed (weak password).
    """
    now = now or utcnow()
    user = _user_for_reset(token, now)
    check_password_strength(new_password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(new_password)
    user.session_version += 1
    if user.email_verified_at is None:
        user.email_verified_at = now
    audit.record(user, "user.password_reset", user, changes={"password": True})
    return user


@transactional
def change_password(user_id: int, current_password: str, new_password: str, *, actor: Any) -> User:
    """Change one's own password; other sessions are logged out.

    Raises: PermissionDenied (someone else's account), ValidationFailed (current password wrong, weak password).
    """
    user = get_user(user_id)
    require(permissions.can_edit_profile, actor, user)
    if not passwords.verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed("password_wrong", field="current_password")
    check_password_strength(new_password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(new_password)
    user.session_version += 1
    audit.record(actor, "user.password_changed", user, changes={"password": True})
    return user


@dataclass(frozen=True, slots=True)
class ProfileChange:
    name: str
    institution_id: int | None = None
    new_institution: InstitutionInput | None = None
    orcid: str | None = None
    locale: str | None = None


@transactional
def update_profile(user_id: int, change: ProfileChange, *, actor: Any, now: datetime | None = None) -> User:
    """Edit name, institution (picked or proposed), ORCID and language. Audit logged.

    Raises: PermissionDenied, ValidationFailed.
    """
    now = now or utcnow()
    user = get_user(user_id)
    require(permissions.can_edit_profile, actor, user)
    name = check_name(change.name)
    orcid = check_orcid(change.orcid, except_user_id=user.id)
    locale = _check_locale(change.locale)
    if change.new_institution is not None and (change.new_institution.name or "").strip():
        institution = propose_institution(change.new_institution, actor=actor, now=now)
    else:
        institution = check_institution(change.institution_id)
    before = audit.snapshot(user, ("name", "institution_id", "orcid", "locale"))
    user.name, user.institution_id, user.orcid, user.locale = name, institution.id, orcid, locale
    if changes := audit.changes_since(user, before):
        audit.record(actor, "user.profile_updated", user, changes=changes)
    return user


@transactional
def request_email_change(
    user_id: int, new_email: str, password: str, *, actor: Any, now: datetime | None = None
) -> None:
    """Send a verification link to a new address; the account keeps its address until the link
    is opened (a typo never locks anyone out).

    Raises: PermissionDenied, ValidationFailed (password wrong, address invalid or taken, the same address).
    """
    now = now or utcnow()
    user = get_user(user_id)
    require(permissions.can_edit_profile, actor, user)
    if not passwords.verify_password(user.password_hash, password or ""):
        raise ValidationFailed("password_wrong", field="password")
    if normalise_email(new_email) == normalise_email(user.email):
        raise ValidationFailed("email_unchanged", field="email")
    email = check_email_free(new_email)
    _send_verification(user, now=now, email=email)
    audit.record(actor, "user.email_change_requested", user)


__all__ = [
    "Registration",
    "register_user",
    "resend_verification",
    "verify_email",
    "request_password_reset",
    "check_reset_link",
    "reset_password",
    "change_password",
    "ProfileChange",
    "update_profile",
    "request_email_change",
]
