"""Privacy: closing an account (pseudonymised: the person disappears, statistics keep their
numbers) and the retention rule for accounts that were never verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, delete, func, or_, select, update

from app.accounts import passwords, permissions
from app.accounts.events import AccountClosed
from app.accounts.models import ApiToken, ExternalIdentity, Role, RoleAssignment, User
from app.accounts.services.people import get_user
from app.core import audit, events, settings
from app.core.db import utcnow
from app.core.errors import InvalidState, ValidationFailed
from app.core.models import AuditEntry, OutboxMessage, OutboxStatus
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db

CLOSED_NAME = "Closed account"
ERASED = "«erased»"
#: fields of the audit log about a person that name them
PERSONAL_FIELDS = frozenset({"email", "name", "orcid", "subject"})

settings.define(
    "accounts.unverified_retention_days",
    int,
    30,
    _l("Days after which accounts whose e-mail was never verified are deleted"),
    minimum=1,
    maximum=3650,
)


def placeholder_email(user_id: int) -> str:
    """A unique address that is nobody's (the .invalid top-level domain never resolves)."""
    return f"closed-{user_id}@closed.invalid"


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        lowered = value.lower()
        return ERASED if any(needle in lowered for needle in needles) else value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


def _scrub_about(value: Any, needles: list[str]) -> Any:
    """In an entry about the person every personal field goes, whatever its shape."""
    if isinstance(value, dict):
        return {k: (ERASED if k in PERSONAL_FIELDS else _scrub_about(v, needles)) for k, v in value.items()}
    return _scrub(value, needles)


def erase_traces(user_ids: Iterable[int], identities: Iterable[str]) -> None:
    """Remove the given people's e-mail addresses and names from the audit log and the outbox.

    `identities` are the strings that name them (addresses, names). Entries about the people
    lose every personal field; other entries lose any value that contains one of the strings.
    Runs in the caller's transaction.
    """
    ids = [str(i) for i in user_ids]
    needles = sorted({s.strip().lower() for s in identities if s and len(s.strip()) >= 3})
    if not ids and not needles:
        return
    # JSON text may hold non-ASCII characters as \\u escapes (SQLite): look for both spellings
    patterns = sorted({form for n in needles for form in (n, json.dumps(n)[1:-1].lower())})
    as_text = func.lower(cast(AuditEntry.changes, String))
    conditions = [as_text.contains(pattern, autoescape=True) for pattern in patterns]
    if ids:
        conditions.append((AuditEntry.object_type == "User") & AuditEntry.object_id.in_(ids))
    for entry in db.session.scalars(select(AuditEntry).where(or_(*conditions))):
        about = entry.object_type == "User" and entry.object_id in ids
        entry.changes = _scrub_about(entry.changes, needles) if about else _scrub(entry.changes, needles)
    if not needles:
        return
    recipients = func.lower(cast(OutboxMessage.recipients, String))
    body = func.lower(OutboxMessage.body_text)
    matches = or_(*[recipients.contains(p, autoescape=True) | body.contains(p, autoescape=True) for p in patterns])
    db.session.execute(
        update(OutboxMessage)
        .where(matches)
        .values(
            recipients=[ERASED],
            subject=ERASED,
            body_text=ERASED,
            body_html=None,
            reply_to=None,
            status=OutboxStatus.FAILED,
            last_error="erased: account closed or removed",
        )
        .where(OutboxMessage.status != OutboxStatus.SENT)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(matches, OutboxMessage.status == OutboxStatus.SENT)
        .values(recipients=[ERASED], subject=ERASED, body_text=ERASED, body_html=None, reply_to=None)
        .execution_options(synchronize_session=False)
    )


@transactional
def close_account(user_id: int, password: str, *, actor: Any, now: datetime | None = None) -> User:
    """Close one's own account, confirmed with the password.

    The row stays (its id, institution and history keep statistics whole) but nothing names the
    person any more: name and e-mail replaced, password, ORCID and external identities removed,
    tokens revoked, every session ended, the account inactive; the audit log and the outbox lose
    their name and address. Higher domains erase their own personal data on AccountClosed.

    Raises: PermissionDenied (not one's own), ValidationFailed password_wrong, InvalidState (the
    last admin cannot leave the facility without one).
    """
    now = now or utcnow()
    user = get_user(user_id)
    require(permissions.can_close_account, actor, user)
    if not passwords.verify_password(user.password_hash, password or ""):
        raise ValidationFailed("password_wrong", field="password")
    if user.is_closed:
        raise InvalidState("account_closed")
    if user.has_role(Role.ADMIN):
        admins = db.session.scalar(
            select(func.count()).select_from(RoleAssignment).where(RoleAssignment.role == Role.ADMIN)
        )
        if admins <= 1:
            raise InvalidState("last_admin_cannot_close")
    identities = [user.email, user.name, *(i.subject for i in user.external_identities)]
    if user.orcid:
        identities.append(user.orcid)
    events.publish(AccountClosed(user_id=user.id))
    user.name = CLOSED_NAME
    user.email = placeholder_email(user.id)
    user.password_hash = None
    user.orcid = None
    user.locale = None
    user.active = False
    user.closed_at = now
    user.session_version += 1
    user.external_identities.clear()
    user.roles.clear()
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(name=ERASED))
    db.session.flush()
    erase_traces([user.id], identities)
    audit.record(None, "user.closed", user, at=now)
    return user


def list_unverified_expired(now: datetime) -> list[int]:
    days = settings.get_int("accounts.unverified_retention_days")
    return list(
        db.session.scalars(
            select(User.id).where(
                User.email_verified_at.is_(None),
                User.closed_at.is_(None),
                User.created_at < now - timedelta(days=days),
            )
        )
    )


@transactional
def purge_unverified_accounts(*, now: datetime | None = None) -> int:
    """Delete accounts whose e-mail was never verified within the retention period (a setting),
    with their traces in the audit log and outbox. Returns how many were deleted."""
    now = now or utcnow()
    ids = list_unverified_expired(now)
    if not ids:
        return 0
    people = db.session.execute(select(User.id, User.email, User.name).where(User.id.in_(ids))).all()
    erase_traces(ids, [p.email for p in people] + [p.name for p in people])
    db.session.execute(delete(ExternalIdentity).where(ExternalIdentity.user_id.in_(ids)))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids)))
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_id.in_(ids))
        .values(actor_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(User).where(User.id.in_(ids)).execution_options(synchronize_session=False))
    audit.record(None, "user.unverified_purged", object_type="User", changes={"count": len(ids)}, at=now)
    return len(ids)


__all__ = [
    "CLOSED_NAME",
    "ERASED",
    "PERSONAL_FIELDS",
    "placeholder_email",
    "erase_traces",
    "close_account",
    "list_unverified_expired",
    "purge_unverified_accounts",
]
