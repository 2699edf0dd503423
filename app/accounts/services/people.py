"""People: accounts, log-in, roles with scope, personal access tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, lazyload

from app.accounts import identifiers, passwords, permissions, scopes
from app.accounts.models import (
    FACILITY_ROLES,
    SCOPED_ROLES,
    SESSION_PERSON_COLUMNS,
    ApiToken,
    Institution,
    Role,
    RoleAssignment,
    SessionPerson,
    SessionRole,
    User,
)
from app.core import audit
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 320
NAME_MAX = 200
PASSWORD_MIN = 10
PASSWORD_MAX = 200
#: the bases of the passwords most often tried first (lists of leaked passwords start with these)
COMMON_PASSWORDS = frozenset(
    """password passw0rd p@ssw0rd qwerty qwertz azerty asdfgh letmein welcome iloveyou admin administrator
    monkey dragon football baseball sunshine princess master shadow trustno1 abc123 changeme secret
    beamtime synchrotron neutron facility default login starwars superman whatever""".split()
)
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


_SEQUENCES = ("01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop")


def _is_sequence(text: str) -> bool:
    """ "abcdefghij", "1234567890", "0987654321", "qwertyuiop": a run along the alphabet, the
    digits or a keyboard row, either way."""
    return any(text in run or text[::-1] in run for run in _SEQUENCES)


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse passwords that are short, common, a plain sequence, or made of the person's own
    name or e-mail.

    Raises: ValidationFailed on field "password".
    """
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed("password_too_short", field="password", minimum=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed("too_long", field="password", maximum=PASSWORD_MAX)
    lowered = password.lower()
    local = normalise_email(email).partition("@")[0]
    name_parts = [part for part in re.split(r"[\W_]+", (name or "").lower()) if len(part) >= 4]
    whole_name = re.sub(r"[\W_]+", "", (name or "").lower())
    if (
        (local and len(local) >= 4 and local in lowered)
        or (whole_name and len(whole_name) >= 4 and whole_name in lowered)
        or any(part in lowered for part in name_parts)
    ):
        raise ValidationFailed("password_personal", field="password")
    if len(set(password)) < 5:
        raise ValidationFailed("password_too_simple", field="password")
    core = re.sub(r"[\d\W_]+$", "", re.sub(r"^[\d\W_]+", "", lowered))
    if core in COMMON_PASSWORDS or _is_sequence(lowered) or (core and _is_sequence(core) and len(core) >= 6):
        raise ValidationFailed("password_common", field="password")


def check_email_free(email: str, *, field: str = "email", except_user_id: int | None = None) -> str:
    """The e-mail address, trimmed, if it is well formed and nobody else has it (any case).

    Raises: ValidationFailed email_invalid, too_long, email_taken.
    """
    email = (email or "").strip()
    if not EMAIL_RE.match(email):
        raise ValidationFailed("email_invalid", field=field)
    if len(email) > EMAIL_MAX:
        raise ValidationFailed("too_long", field=field, maximum=EMAIL_MAX)
    owner = find_user_by_email(email)
    if owner is not None and owner.id != except_user_id:
        raise ValidationFailed("email_taken", field=field)
    return email


def check_name(name: str, *, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("required", field=field)
    if len(name) > NAME_MAX:
        raise ValidationFailed("too_long", field=field, maximum=NAME_MAX)
    return name


def check_orcid(orcid: str | None, *, except_user_id: int | None = None) -> str | None:
    """The canonical ORCID iD, or None when none is given.

    Raises: ValidationFailed orcid_invalid (format or checksum), orcid_taken.
    """
    if not (orcid or "").strip():
        return None
    canonical = identifiers.normalise_orcid(orcid)
    if canonical is None:
        raise ValidationFailed("orcid_invalid", field="orcid")
    owner = db.session.scalar(select(User.id).where(User.orcid == canonical))
    if owner is not None and owner != except_user_id:
        raise ValidationFailed("orcid_taken", field="orcid")
    return canonical


def check_institution(institution_id: int | None, *, field: str = "institution_id") -> Institution:
    if not institution_id:
        raise ValidationFailed("institution_required", field=field)
    institution = db.session.get(Institution, institution_id)
    if institution is None:
        raise ValidationFailed("institution_unknown", field=field)
    return institution


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
    institution_id: int | None = None,
    orcid: str | None = None,
    locale: str | None = None,
) -> User:
    """Create a person. Used by registration, the CLI and the demo seed.

    Raises: ValidationFailed (email malformed or taken, name empty, weak password, ORCID
    invalid or taken, unknown institution).
    """
    now = now or utcnow()
    name = check_name(name)
    email = check_email_free(email)
    if password is not None and check_strength:
        check_password_strength(password, email=email, name=name)
    canonical_orcid = check_orcid(orcid)
    if institution_id is not None:
        check_institution(institution_id)
    user = User(
        email=email,
        name=name,
        created_at=now,
        password_hash=passwords.hash_password(password) if password else None,
        email_verified_at=now if verified else None,
        institution_id=institution_id,
        orcid=canonical_orcid,
        locale=locale,
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
    if role in SCOPED_ROLES and not scopes.is_known(SCOPED_ROLES[role], scope_id):
        raise ValidationFailed("scope_unknown", field="scope_id", scope=SCOPED_ROLES[role], scope_id=scope_id)
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


def check_login(email: str, password: str, *, now: datetime | None = None) -> User:
    """The person who may log in with this e-mail and password.

    Raises: ValidationFailed login_failed (unknown e-mail, wrong password or closed account:
    the same answer, so nobody learns which), InvalidState email_not_verified (right password,
    address not yet confirmed: the page offers to send the link again).
    """
    user = authenticate(email, password, now=now)
    if user is None:
        raise ValidationFailed("login_failed", field="password")
    if user.email_verified_at is None:
        raise InvalidState("email_not_verified", email=user.email)
    return user


@transactional
def record_login(user_id: int, *, now: datetime | None = None) -> None:
    get_user(user_id).last_login_at = now or utcnow()


#: rows a higher domain reads on every logged-in page, joined into the person's statement so
#: that the page spends no round trip on them: (entity, ON clause, what to do with the entity,
#: what to do with its row's values on a read-only page). The facility's settings row (its name
#: in the layout, its zone for every date) is the one: `facility.views` registers it.
#: Registered at start-up, before the first request.
_SESSION_COMPANIONS: list[tuple[Any, Any, Callable[[Any], None], Callable[[dict[str, Any]], None]]] = []


def add_session_companion(
    entity: Any, onclause: Any, keep: Callable[[Any], None], keep_values: Callable[[dict[str, Any]], None]
) -> None:
    """Join `entity` (a one-row lookup: `onclause` must match at most one row whatever the
    person) into the session person's statement. `keep(row)` receives the entity, or
    `keep_values(columns)` its columns by name when the person is read without entities
    (`load_session_person`); neither is called when no row matches. Registering the same
    entity again replaces it."""
    _SESSION_COMPANIONS[:] = [c for c in _SESSION_COMPANIONS if c[0] is not entity]
    _SESSION_COMPANIONS.append((entity, onclause, keep, keep_values))
    _session_user_statement.cache_clear()
    _session_person_statement.cache_clear()


@functools.cache
def _session_user_statement():
    """Built once per process with a bound `:user_id`: every request runs it, and building the
    select with its loader option (and its cache key) cost more than running it on SQLite."""
    statement = select(User, *[entity for entity, *_rest in _SESSION_COMPANIONS])
    for entity, onclause, *_rest in _SESSION_COMPANIONS:
        statement = statement.outerjoin(entity, onclause)
    # the institution is not joined (the relationship's default): few pages show the person's
    # own institution, and those read it when they do
    return statement.where(User.id == bindparam("user_id")).options(joinedload(User.roles), lazyload(User.institution))


@functools.cache
def _session_person_statement():
    """`_session_user_statement` as columns: the person's, one row per role (role and scope,
    NULL without any) and each companion's, built once per process; with each companion's
    column names."""
    person = [getattr(User, name) for name in SESSION_PERSON_COLUMNS]
    columns = [*person, RoleAssignment.role, RoleAssignment.scope_id]
    statement = select(User).outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
    names = []  # each companion's column names, in the statement's order
    for entity, onclause, *_rest in _SESSION_COMPANIONS:
        names.append(tuple(column.key for column in entity.__table__.columns))
        columns += list(entity.__table__.columns)
        statement = statement.outerjoin(entity, onclause)
    return statement.with_only_columns(*columns).where(User.id == bindparam("user_id")), names


def _session_parts(session_id: str) -> tuple[int, int] | None:
    """(user id, session version) of a Flask-Login session id "<id>:<session_version>"."""
    user_part, _, version_part = (session_id or "").partition(":")
    if not user_part.isdigit() or not version_part.isdigit():
        return None
    return int(user_part), int(version_part)


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<session_version>"; an old version is logged out."""
    parts = _session_parts(session_id)
    if parts is None:
        return None
    # the person and their roles (what the navigation and every permission check read) in
    # one statement, with the session companions
    row = db.session.execute(_session_user_statement(), {"user_id": parts[0]}).unique().one_or_none()
    if row is None:
        return None
    user = row[0]
    for (_entity, _on, keep, _keep_values), companion in zip(_SESSION_COMPANIONS, row[1:], strict=True):
        if companion is not None:
            keep(companion)
    if not user.active or user.session_version != parts[1]:
        return None
    return user


_ACTIVE = SESSION_PERSON_COLUMNS.index("active")
_SESSION_VERSION = SESSION_PERSON_COLUMNS.index("session_version")


def load_session_person(session_id: str) -> SessionPerson | None:
    """`load_session_user` for a read-only page: the same statement's columns, no entity (the
    person, their roles and the companions as plain values); the same answer: None for an
    unknown, closed or logged-out (older session version) person."""
    parts = _session_parts(session_id)
    if parts is None:
        return None
    statement, companion_names = _session_person_statement()
    rows = db.session.connection().execute(statement, {"user_id": parts[0]}).all()
    if not rows:
        return None
    first = rows[0]
    width = len(SESSION_PERSON_COLUMNS)
    if not first[_ACTIVE] or first[_SESSION_VERSION] != parts[1]:
        return None
    start = width + 2
    for (_entity, _on, _keep, keep_values), names in zip(_SESSION_COMPANIONS, companion_names, strict=True):
        values = first[start : start + len(names)]
        start += len(names)
        if any(value is not None for value in values):  # all NULL: no row matched (outer join)
            keep_values(dict(zip(names, values, strict=True)))
    roles = tuple(SessionRole(row[width], row[width + 1]) for row in rows if row[width] is not None)
    return SessionPerson(*first[:width], roles=roles)


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


__all__ = [
    "EMAIL_RE",
    "EMAIL_MAX",
    "NAME_MAX",
    "PASSWORD_MIN",
    "PASSWORD_MAX",
    "COMMON_PASSWORDS",
    "TOKEN_PREFIX",
    "normalise_email",
    "find_user_by_email",
    "get_user",
    "add_session_companion",
    "load_session_person",
    "check_password_strength",
    "check_email_free",
    "check_name",
    "check_orcid",
    "check_institution",
    "create_user",
    "grant_role",
    "revoke_role",
    "authenticate",
    "check_login",
    "record_login",
    "load_session_user",
    "create_token",
    "revoke_token",
    "user_for_token",
    "list_tokens",
]
