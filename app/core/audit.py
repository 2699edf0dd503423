"""Audit log: who changed what and when, with before/after values.

Sensitive fields (citizenship, emergency contacts, passport data…) are recorded as changed,
never with their values. A model lists its own in `__sensitive__`; the names below are
sensitive wherever they appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from app.core.models import AuditEntry
from app.extensions import db

ALWAYS_SENSITIVE = frozenset(
    {
        "password",
        "password_hash",
        "token_hash",
        "citizenship",
        "emergency_contact",
        "emergency_contact_name",
        "emergency_contact_phone",
        "passport_number",
        "passport",
    }
)
REDACTED = "«changed»"


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "id") and hasattr(value, "__tablename__"):
        return value.id
    return value


def _sensitive_fields(obj: Any) -> frozenset[str]:
    return ALWAYS_SENSITIVE | frozenset(getattr(obj, "__sensitive__", ()))


def _redacted(changes: Mapping[str, Any], sensitive: frozenset[str]) -> dict[str, Any]:
    """`changes` made plain, with the value of every sensitive name replaced by a marker,
    at any depth (a change may carry a nested record: {"visitor": {"passport_number": …}})."""
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name in sensitive:
            clean[str(name)] = {"changed": True, "before": REDACTED, "after": REDACTED}
        elif isinstance(value, Mapping):
            clean[str(name)] = _redacted(value, sensitive)
        else:
            clean[str(name)] = _scrub(_plain(value), sensitive)
    return clean


def _scrub(value: Any, sensitive: frozenset[str]) -> Any:
    if isinstance(value, list):
        return [_scrub(v, sensitive) for v in value]
    if isinstance(value, Mapping):
        return _redacted(value, sensitive)
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """Current values of `fields`, to compare after a change with `changes_since`."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changes_since(obj: Any, before: Mapping[str, Any]) -> dict[str, Any]:
    """{field: {"before": …, "after": …}} for the fields that changed; sensitive ones redacted."""
    sensitive = _sensitive_fields(obj)
    changed: dict[str, Any] = {}
    for name, old in before.items():
        new = _plain(getattr(obj, name))
        if new == old:
            continue
        if name in sensitive:
            changed[name] = {"changed": True, "before": REDACTED, "after": REDACTED}
        else:
            changed[name] = {"before": old, "after": new}
    return changed


def record(
    actor: Any,
    action: str,
    obj: Any = None,
    *,
    changes: Mapping[str, Any] | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit row in the current transaction. `changes` values of sensitive fields are
    replaced by a marker, so no sensitive value is ever written here."""
    sensitive = _sensitive_fields(obj) if obj is not None else ALWAYS_SENSITIVE
    clean = _redacted(changes or {}, sensitive)
    if obj is not None:
        if hasattr(obj, "__tablename__") and getattr(obj, "id", None) is None:
            db.session.flush()  # a new object gets its id before we name it
        object_type = object_type or obj.__class__.__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=clean,
    )
    if at is not None:
        entry.at = at
    db.session.add(entry)
    return entry
