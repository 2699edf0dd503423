"""Use cases of the accounts domain: the only code here that changes state."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.accounts import passwords, permissions
from app.accounts.models import FACILITY_ROLES, SCOPED_ROLES, ApiToken, Role, RoleAssignment, User
from app.core import audit
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "bt_"
#: a hash of a random password: verified when the e-mail is unknown, so timing tells nothing
_DUMMY_HASH: str | None = None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", user_id=user_id)
    return user


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse passwords that are short or made of the person's own name or e-mail.

    Raises: ValidationFailed on field "password".
    """
    if len(password or "") < 10:
        raise ValidationFailed("password_too_short", field="password", minimum=10)
    lowered = password.lower()
    local = normalise_email(email).partition("@")[0]
    if (local and len(local) >= 4 and local in lowered) or (name and name.strip().lower().replace(" ", "") in lowered):
        raise ValidationFailed("password_personal", field="password")
    if len(set(password)) < 5:
        raise ValidationFailed("password_too_simple", field="password")


@transactional
def create_user(
    *,
    email: str,
    name: str,
    password: str | None,
    actor: Any = None,
    verified: bool = False,
    roles: list[tuple[Role, int | None]] | None = None,
    now: datetime | None = None,
    check_strength: bool = True,
) -> User:
    """Create a person. Used by registration, the CLI and the demo seed.

    Raises: ValidationFailed (email malformed or taken, name empty, weak password).
    """
    now = now or utcnow()
    email = (email or "").strip()
    if not EMAIL_RE.match(email):
        raise ValidationFailed("email_invalid", field="email")
    if find_user_by_email(email) is not None:
        raise ValidationFailed("email_taken", field="email")
    if not (name or "").strip():
        raise ValidationFailed("required", field="name")
    if password is not None and check_strength:
        check_password_strength(password, email=email, name=name)
    user = User(
        email=email,
        name=name.strip(),
        created_at=now,
        password_hash=passwords.hash_password(password) if password else None,
        email_verified_at=now if verified else None,
    )
    db.session.add(user)
    db.session.flush()
    for role, scope_id in roles or []:
        _add_role(user, role, scope_id, actor=actor, now=now)
    audit.record(actor, "user.created", user, changes={"email": email})
    return user


def _add_role(user: User, role: Role, scope_id: int | None, *, actor: Any, now: datetime) -> RoleAssignment:
    if role in FACILITY_ROLES and scope_id is not None:
        raise ValidationFailed("role_takes_no_scope", field="scope_id", role=role.value)
    if role in SCOPED_ROLES and scope_id is None:
        raise ValidationFailed("role_needs_scope", field="scope_id", role=role.value, scope=SCOPED_ROLES[role])
    if any(a.role == role and a.scope_id == scope_id for a in user.roles):
        raise Conflict("role_already_granted", role=role.value)
    assignment = RoleAssignment(role=role, scope_id=scope_id, granted_at=now, granted_by_id=getattr(actor, "id", None))
    user.roles.append(assignment)
    return assignment


@transactional
def grant_role(
    user_id: int, role: Role, scope_id: int | None = None, *, actor: Any, now: datetime | None = None
) -> RoleAssignment:
    """Give a person a role (with its scope). Audit logged.

    Raises: PermissionDenied (not an admin), NotFound, ValidationFailed, Conflict (already has it).
    """
    require(permissions.can_manage_users, actor)
    user = get_user(user_id)
    assignment = _add_role(user, role, scope_id, actor=actor, now=now or utcnow())
    audit.record(actor, "role.granted", user, changes={"role": role.value, "scope_id": scope_id})
    return assignment


@transactional
def revoke_role(user_id: int, role: Role, scope_id: int | None = None, *, actor: Any) -> None:
    """Take a role away. An admin cannot remove their own admin role (no facility without one).

    Raises: PermissionDenied, NotFound (no such assignment), InvalidState (last admin).
    """
    require(permissions.can_manage_users, actor)
    user = get_user(user_id)
    assignment = next((a for a in user.roles if a.role == role and a.scope_id == scope_id), None)
    if assignment is None:
        raise NotFound("role_not_granted", role=role.value)
    if role == Role.ADMIN and user.id == actor.id:
        raise InvalidState("cannot_revoke_own_admin")
    user.roles.remove(assignment)
    audit.record(actor, "role.revoked", user, changes={"role": role.value, "scope_id": scope_id})


def authenticate(email: str, password: str, *, now: datetime | None = None) -> User | None:
    """The active person with this e-mail and password, or None (same work either way)."""
    global _DUMMY_HASH
    user = find_user_by_email(email)
    if user is None or not user.active or not user.password_hash:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = passwords.hash_password(secrets.token_hex(8))
        passwords.verify_password(_DUMMY_HASH, password or "")
        return None
    if not passwords.verify_password(user.password_hash, password or ""):
        return None
    return user


@transactional
def record_login(user_id: int, *, now: datetime | None = None) -> None:
    get_user(user_id).last_login_at = now or utcnow()


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<session_version>"; an old version is logged out."""
    user_part, _, version_part = (session_id or "").partition(":")
    if not user_part.isdigit() or not version_part.isdigit():
        return None
    user = db.session.get(User, int(user_part))
    if user is None or not user.active or user.session_version != int(version_part):
        return None
    return user


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transactional
def create_token(
    user_id: int, name: str, *, actor: Any, expires_at: datetime | None = None, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal access token; the secret is returned once and never stored.

    Raises: PermissionDenied (someone else's account), ValidationFailed (name empty or too long).
    """
    user = get_user(user_id)
    require(permissions.can_manage_tokens, actor, user)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("required", field="name")
    if len(name) > 100:
        raise ValidationFailed("too_long", field="name", maximum=100)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:10],
        token_hash=_hash_token(secret),
        created_at=now or utcnow(),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.created", token, changes={"name": name})
    return token, secret


@transactional
def revoke_token(token_id: int, *, actor: Any, now: datetime | None = None) -> ApiToken:
    """Revoke a token at once. Raises: NotFound (not yours), InvalidState (already revoked)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or not permissions.can_revoke_token(actor, token):
        raise NotFound("token_not_found")
    if token.revoked_at is not None:
        raise InvalidState("token_already_revoked")
    token.revoked_at = now or utcnow()
    audit.record(actor, "token.revoked", token)
    return token


def user_for_token(secret: str, *, now: datetime | None = None) -> User | None:
    """The active owner of a usable token, or None. Marks the token used (at most once a minute)."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    now = now or utcnow()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None or not token.is_usable(now) or not token.user.active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        _touch_token(token.id, now)
    return token.user


@transactional
def _touch_token(token_id: int, now: datetime) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now


def list_tokens(user_id: int) -> list[ApiToken]:
    return list(
        db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc()))
    )
