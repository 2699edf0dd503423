"""Facility settings stored in the database, read through typed accessors with defaults.

Each setting is declared once (`define()`) by the domain that uses it, with its type,
default, bounds and a translatable label; unknown keys are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core import audit
from app.core.db import utcnow
from app.core.errors import ValidationFailed
from app.core.models import Setting
from app.core.transaction import transactional
from app.extensions import db


@dataclass(frozen=True, slots=True)
class SettingDef:
    key: str
    type: type
    default: Any
    label: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    #: for list settings: called on each item; a ValueError refuses the value naming the item
    item_check: Any = None


_REGISTRY: dict[str, SettingDef] = {}


def define(
    key: str,
    type_: type,
    default: Any,
    label: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[Any, ...] | None = None,
    item_check: Any = None,
) -> SettingDef:
    definition = SettingDef(key, type_, default, label, minimum, maximum, choices, item_check)
    _REGISTRY[key] = definition
    return definition


def definitions() -> list[SettingDef]:
    return sorted(_REGISTRY.values(), key=lambda d: d.key)


def definition(key: str) -> SettingDef:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValidationFailed("setting_unknown", field="key", key=key) from None


def coerce(defn: SettingDef, raw: Any) -> Any:
    """Turn `raw` (a form string or a JSON value) into the setting's type, or refuse it."""
    try:
        if raw is None:
            raise TypeError(raw)
        if defn.type is bool:
            if isinstance(raw, str):
                lowered = raw.strip().lower()
                if lowered not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
                    raise ValueError(raw)
                value: Any = lowered in {"true", "1", "yes", "on"}
            else:
                value = bool(raw)
        elif defn.type is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            value = int(str(raw).strip()) if isinstance(raw, str) else int(raw)
        elif defn.type is float:
            if isinstance(raw, bool):
                raise TypeError(raw)
            value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
            if not math.isfinite(value):  # NaN passes every bound, and JSON cannot store it
                raise ValueError(raw)
        elif defn.type is str:
            value = str(raw).strip()
        elif defn.type is list:
            value = [s.strip() for s in raw.split(",") if s.strip()] if isinstance(raw, str) else list(raw)
        else:
            value = raw
    except (TypeError, ValueError):
        raise ValidationFailed("setting_wrong_type", field=defn.key, expected=defn.type.__name__) from None
    if defn.minimum is not None and value < defn.minimum:
        raise ValidationFailed("setting_too_small", field=defn.key, minimum=defn.minimum)
    if defn.maximum is not None and value > defn.maximum:
        raise ValidationFailed("setting_too_large", field=defn.key, maximum=defn.maximum)
    if defn.choices is not None and value not in defn.choices:
        raise ValidationFailed("setting_not_a_choice", field=defn.key, choices=", ".join(map(str, defn.choices)))
    if defn.item_check is not None and isinstance(value, list):
        for item in value:
            try:
                defn.item_check(item)
            except (TypeError, ValueError):
                raise ValidationFailed("setting_item_invalid", field=defn.key, item=str(item)) from None
    return value


def get(key: str) -> Any:
    """The stored value of `key`, or its default."""
    defn = definition(key)
    row = db.session.get(Setting, key)
    return defn.default if row is None else row.value


def get_int(key: str) -> int:
    return int(get(key))


def get_float(key: str) -> float:
    return float(get(key))


def get_bool(key: str) -> bool:
    return bool(get(key))


def get_str(key: str) -> str:
    return str(get(key))


def all_values() -> dict[str, Any]:
    stored = {row.key: row.value for row in db.session.scalars(db.select(Setting))}
    return {d.key: stored.get(d.key, d.default) for d in definitions()}


@transactional
def set_setting(key: str, raw: Any, *, actor: Any, now: datetime | None = None) -> Any:
    """Store a setting after checking its type and bounds; audit logged.

    Raises: ValidationFailed (unknown key, wrong type, out of bounds).
    """
    defn = definition(key)
    value = coerce(defn, raw)
    row = db.session.get(Setting, key)
    before = defn.default if row is None else row.value
    now = now or utcnow()
    if row is None:
        db.session.add(Setting(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
    if before != value:
        audit.record(
            actor,
            "setting.changed",
            object_type="Setting",
            object_id=key,
            changes={key: {"before": before, "after": value}},
            at=now,
        )
    return value
