"""Reference data people are counted by: institutions (with merging of duplicates) and
country groups. Staff (user office, admin) manage them; registration may propose an institution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.accounts import countries, identifiers, permissions
from app.accounts.events import InstitutionsMerged
from app.accounts.models import CountryGroup, CountryGroupMember, Institution, InstitutionKind, User
from app.core import audit, events
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db

INSTITUTION_NAME_MAX = 300
_INSTITUTION_FIELDS = ("name", "kind", "country_code", "parent_id", "ror_id")


@dataclass(frozen=True, slots=True)
class InstitutionInput:
    """What a form or an API call gives for an institution (raw: checked by the service)."""

    name: str
    kind: str | InstitutionKind
    country_code: str | None = None
    parent_id: int | None = None
    ror_id: str | None = None


def get_institution(institution_id: int) -> Institution:
    institution = db.session.get(Institution, institution_id)
    if institution is None:
        raise NotFound("institution_not_found", institution_id=institution_id)
    return institution


def check_country(code: str | None, *, field: str = "country_code") -> str:
    """The code, upper-cased, if it is a known country. Raises: ValidationFailed country_unknown."""
    normalised = (code or "").strip().upper()
    if not countries.is_valid(normalised):
        raise ValidationFailed("country_unknown", field=field, code=(code or "").strip())
    return normalised


def _clean_institution(data: InstitutionInput, *, current: Institution | None = None) -> dict[str, Any]:
    name = " ".join((data.name or "").split())
    if not name:
        raise ValidationFailed("required", field="name")
    if len(name) > INSTITUTION_NAME_MAX:
        raise ValidationFailed("too_long", field="name", maximum=INSTITUTION_NAME_MAX)
    try:
        kind = InstitutionKind(data.kind)
    except ValueError:
        raise ValidationFailed("invalid_value", field="kind") from None
    country: str | None = None
    if (data.country_code or "").strip():
        country = check_country(data.country_code)
    elif kind != InstitutionKind.INTERNATIONAL_ORGANISATION:
        raise ValidationFailed("institution_needs_country", field="country_code")
    ror: str | None = None
    if (data.ror_id or "").strip():
        ror = identifiers.normalise_ror(data.ror_id)
        if ror is None:
            raise ValidationFailed("ror_invalid", field="ror_id")
        taken = db.session.scalar(select(Institution.id).where(Institution.ror_id == ror))
        if taken is not None and (current is None or taken != current.id):
            raise ValidationFailed("ror_taken", field="ror_id", ror=ror)
    parent_id = data.parent_id or None
    if parent_id is not None:
        parent = db.session.get(Institution, parent_id)
        if parent is None:
            raise ValidationFailed("institution_parent_unknown", field="parent_id")
        if current is not None:
            ancestor: Institution | None = parent
            while ancestor is not None:  # no institution inside itself, directly or not
                if ancestor.id == current.id:
                    raise ValidationFailed("institution_parent_cycle", field="parent_id")
                ancestor = ancestor.parent
    return {"name": name, "kind": kind, "country_code": country, "parent_id": parent_id, "ror_id": ror}


@transactional
def create_institution(data: InstitutionInput, *, actor: Any, now: datetime | None = None) -> Institution:
    """Add an institution (staff). Raises: PermissionDenied, ValidationFailed."""
    require(permissions.can_manage_reference_data, actor)
    now = now or utcnow()
    institution = Institution(**_clean_institution(data), created_at=now, reviewed_at=now)
    db.session.add(institution)
    db.session.flush()
    audit.record(actor, "institution.created", institution, changes=audit.snapshot(institution, _INSTITUTION_FIELDS))
    return institution


def find_same_institution(name: str, country_code: str | None) -> Institution | None:
    """An institution with this name (ignoring case and spacing) in this country, if any."""
    normalised = " ".join((name or "").split()).lower()
    query = select(Institution).where(func.lower(Institution.name) == normalised)
    query = query.where(
        Institution.country_code.is_(None) if country_code is None else Institution.country_code == country_code
    )
    return db.session.scalars(query.order_by(Institution.id).limit(1)).first()


def propose_institution(data: InstitutionInput, *, actor: Any = None, now: datetime | None = None) -> Institution:
    """An institution proposed by a person registering (or editing their profile).

    It is usable at once, so nobody waits for staff, and stays "not reviewed" until the user
    office confirms, corrects or merges it. When the same name already exists in that country,
    the existing one is used instead of a duplicate. Runs in the caller's transaction.

    Raises: ValidationFailed (fields named `new_institution_*`).
    """
    try:
        clean = _clean_institution(InstitutionInput(name=data.name, kind=data.kind, country_code=data.country_code))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.code, **{**exc.params, "field": f"new_institution_{exc.field}"}) from None
    existing = find_same_institution(clean["name"], clean["country_code"])
    if existing is not None:
        return existing
    institution = Institution(**clean, created_at=now or utcnow(), reviewed_at=None)
    db.session.add(institution)
    db.session.flush()
    audit.record(actor, "institution.proposed", institution, changes=audit.snapshot(institution, _INSTITUTION_FIELDS))
    return institution


@transactional
def update_institution(
    institution_id: int, data: InstitutionInput, *, actor: Any, now: datetime | None = None
) -> Institution:
    """Correct an institution; saving it also marks it reviewed. Raises: PermissionDenied,
    NotFound, ValidationFailed."""
    require(permissions.can_manage_reference_data, actor)
    institution = get_institution(institution_id)
    before = audit.snapshot(institution, (*_INSTITUTION_FIELDS, "reviewed_at"))
    for key, value in _clean_institution(data, current=institution).items():
        setattr(institution, key, value)
    if institution.reviewed_at is None:
        institution.reviewed_at = now or utcnow()
    if changes := audit.changes_since(institution, before):
        audit.record(actor, "institution.updated", institution, changes=changes)
    return institution


@transactional
def mark_institution_reviewed(institution_id: int, *, actor: Any, now: datetime | None = None) -> Institution:
    """Confirm a proposed institution as it is. Raises: PermissionDenied, NotFound, InvalidState."""
    require(permissions.can_manage_reference_data, actor)
    institution = get_institution(institution_id)
    if institution.reviewed_at is not None:
        raise InvalidState("institution_already_reviewed")
    institution.reviewed_at = now or utcnow()
    audit.record(actor, "institution.reviewed", institution)
    return institution


@transactional
def merge_institutions(survivor_id: int, merged_id: int, *, actor: Any, now: datetime | None = None) -> Institution:
    """Merge a duplicate into the survivor: its people and sub-units move, its ROR id is kept
    if the survivor has none, higher domains move their history (InstitutionsMerged), then the
    duplicate is deleted. Audit logged.

    Raises: PermissionDenied, NotFound, ValidationFailed (the same institution twice).
    """
    require(permissions.can_manage_reference_data, actor)
    if survivor_id == merged_id:
        raise ValidationFailed("institution_merge_same", field="survivor_id")
    survivor = get_institution(survivor_id)
    merged = get_institution(merged_id)
    now = now or utcnow()
    moved_people = db.session.execute(
        update(User).where(User.institution_id == merged.id).values(institution_id=survivor.id)
    ).rowcount
    if survivor.parent_id == merged.id:  # the survivor was a sub-unit of the duplicate
        survivor.parent_id = merged.parent_id
    moved_units = db.session.execute(
        update(Institution)
        .where(Institution.parent_id == merged.id, Institution.id != survivor.id)
        .values(parent_id=survivor.id)
    ).rowcount
    ror = merged.ror_id
    if ror and not survivor.ror_id:
        merged.ror_id = None
        db.session.flush()
        survivor.ror_id = ror
    if survivor.reviewed_at is None:
        survivor.reviewed_at = now
    events.publish(InstitutionsMerged(survivor_id=survivor.id, merged_id=merged.id))
    audit.record(
        actor,
        "institution.merged",
        survivor,
        changes={
            "merged_id": merged.id,
            "merged_name": merged.name,
            "merged_country_code": merged.country_code,
            "people_moved": moved_people,
            "units_moved": moved_units,
        },
    )
    db.session.flush()
    db.session.expire_all()  # bulk updates above: reload users and units from the database
    db.session.delete(db.session.get(Institution, merged_id))
    db.session.flush()
    return db.session.get(Institution, survivor_id)


# --- country groups -------------------------------------------------------------------


def get_country_group(group_id: int) -> CountryGroup:
    group = db.session.get(CountryGroup, group_id)
    if group is None:
        raise NotFound("country_group_not_found", group_id=group_id)
    return group


def _clean_group(name: str, description: str, codes: Iterable[str], *, current_id: int | None) -> tuple:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("required", field="name")
    if len(name) > 100:
        raise ValidationFailed("too_long", field="name", maximum=100)
    description = (description or "").strip()
    if len(description) > 500:
        raise ValidationFailed("too_long", field="description", maximum=500)
    taken = db.session.scalar(select(CountryGroup.id).where(func.lower(CountryGroup.name) == name.lower()))
    if taken is not None and taken != current_id:
        raise ValidationFailed("country_group_name_taken", field="name", name=name)
    clean_codes = sorted({check_country(code, field="countries") for code in codes if (code or "").strip()})
    return name, description, clean_codes


@transactional
def create_country_group(
    name: str, codes: Iterable[str], *, description: str = "", actor: Any, now: datetime | None = None
) -> CountryGroup:
    """A named set of countries. Raises: PermissionDenied, ValidationFailed (name taken, unknown country)."""
    require(permissions.can_manage_reference_data, actor)
    name, description, clean_codes = _clean_group(name, description, codes, current_id=None)
    group = CountryGroup(name=name, description=description, created_at=now or utcnow())
    group.members = [CountryGroupMember(country_code=code) for code in clean_codes]
    db.session.add(group)
    db.session.flush()
    audit.record(actor, "country_group.created", group, changes={"name": name, "countries": clean_codes})
    return group


@transactional
def update_country_group(
    group_id: int, name: str, codes: Iterable[str], *, description: str = "", actor: Any
) -> CountryGroup:
    """Rename a group or change its countries. Raises: PermissionDenied, NotFound, ValidationFailed."""
    require(permissions.can_manage_reference_data, actor)
    group = get_country_group(group_id)
    name, description, clean_codes = _clean_group(name, description, codes, current_id=group.id)
    before = {"name": group.name, "description": group.description, "countries": group.codes}
    group.name, group.description = name, description
    kept = {m.country_code: m for m in group.members}
    group.members = [kept.get(code) or CountryGroupMember(country_code=code) for code in clean_codes]
    after = {"name": name, "description": description, "countries": clean_codes}
    changes = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    if changes:
        audit.record(actor, "country_group.updated", group, changes=changes)
    return group


@transactional
def delete_country_group(group_id: int, *, actor: Any) -> None:
    """Remove a group. Raises: PermissionDenied, NotFound, Conflict (a higher domain still uses it)."""
    require(permissions.can_manage_reference_data, actor)
    group = get_country_group(group_id)
    users = [text for text in events.slot_contents("accounts.country_group_in_use", group_id=group.id)]
    if users:
        raise Conflict("country_group_in_use", uses=", ".join(map(str, users)))
    audit.record(actor, "country_group.deleted", group, changes={"name": group.name, "countries": group.codes})
    db.session.delete(group)


__all__ = [
    "INSTITUTION_NAME_MAX",
    "InstitutionInput",
    "get_institution",
    "check_country",
    "create_institution",
    "find_same_institution",
    "propose_institution",
    "update_institution",
    "mark_institution_reviewed",
    "merge_institutions",
    "get_country_group",
    "create_country_group",
    "update_country_group",
    "delete_country_group",
]
