"""Reads of the accounts domain: lists, searches, statistics-like counts, personal data export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.accounts import countries, identifiers
from app.accounts.models import ApiToken, CountryGroup, CountryGroupMember, Institution, User
from app.core import events
from app.core.db import utcnow
from app.core.errors import ValidationFailed
from app.core.models import AuditEntry
from app.extensions import db

T = TypeVar("T")
PER_PAGE = 50
#: page slot: higher domains add their part of a person's data export, `filler(user_id=…) -> dict`
PERSONAL_DATA_SLOT = "accounts.personal_data"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select, page: int, per_page: int = PER_PAGE) -> Page:
    page = max(1, page)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


# --- institutions ---------------------------------------------------------------------


def search_institutions(text: str, *, limit: int = 20) -> list[Institution]:
    """Institutions whose name contains `text` (or whose ROR id it is), reviewed ones first."""
    text = " ".join((text or "").split())
    if len(text) < 2:
        return []
    condition = func.lower(Institution.name).like(_like(text), escape="\\")
    if ror := identifiers.normalise_ror(text):
        condition = or_(condition, Institution.ror_id == ror)
    return list(
        db.session.scalars(
            select(Institution)
            .where(condition)
            .order_by(Institution.reviewed_at.is_(None), func.lower(Institution.name), Institution.id)
            .limit(limit)
        )
    )


def list_institutions(
    *, text: str = "", unreviewed_only: bool = False, country: str | None = None, page: int = 1
) -> Page[Institution]:
    query = select(Institution).options(selectinload(Institution.parent))
    if text.strip():
        query = query.where(func.lower(Institution.name).like(_like(text.strip()), escape="\\"))
    if unreviewed_only:
        query = query.where(Institution.reviewed_at.is_(None))
    if country:
        query = query.where(Institution.country_code == country)
    return paginate(query.order_by(func.lower(Institution.name), Institution.id), page)


def count_people_by_institution(institution_ids: list[int]) -> dict[int, int]:
    if not institution_ids:
        return {}
    rows = db.session.execute(
        select(User.institution_id, func.count())
        .where(User.institution_id.in_(institution_ids))
        .group_by(User.institution_id)
    )
    return {iid: n for iid, n in rows}


def count_unreviewed_institutions() -> int:
    return db.session.scalar(select(func.count()).where(Institution.reviewed_at.is_(None))) or 0


def institution_label(institution: Institution | None) -> str:
    if institution is None:
        return ""
    if institution.country_code:
        return f"{institution.name} ({countries.name(institution.country_code)})"
    return institution.name


# --- country groups -------------------------------------------------------------------


def list_country_groups() -> list[CountryGroup]:
    return list(db.session.scalars(select(CountryGroup).order_by(func.lower(CountryGroup.name))))


def find_country_group(name: str) -> CountryGroup | None:
    return db.session.scalar(select(CountryGroup).where(func.lower(CountryGroup.name) == (name or "").strip().lower()))


def list_countries(*, group: str | None = None, locale: str = "en") -> list[dict[str, Any]]:
    """Every country (code, name in `locale`, ISO numeric), or those of the named group.

    Raises: ValidationFailed country_group_unknown (field "group").
    """
    codes = countries.all_codes()
    if group is not None:
        found = find_country_group(group)
        if found is None:
            raise ValidationFailed("country_group_unknown", field="group", name=group)
        codes = found.codes
    rows = [{"code": c, "name": countries.name(c, locale), "numeric": countries.get(c).numeric} for c in codes]
    return sorted(rows, key=lambda r: r["name"].casefold())


def country_codes_of_group(group_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(CountryGroupMember.country_code)
            .where(CountryGroupMember.group_id == group_id)
            .order_by(CountryGroupMember.country_code)
        )
    )


# --- people ---------------------------------------------------------------------------


def search_people(text: str = "", *, page: int = 1) -> Page[User]:
    query = select(User).options(selectinload(User.roles))
    text = (text or "").strip()
    if text:
        pattern = _like(text)
        query = query.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
                User.orcid == (identifiers.normalise_orcid(text) or ""),
            )
        )
    return paginate(query.order_by(func.lower(User.name), User.id), page)


def count_users_by_country() -> dict[str | None, int]:
    """People per country of their institution (None: international organisation or no
    institution). Counts every account ever made — closed ones too — the way facility
    statistics count users; the privacy tests compare it before and after a closure."""
    rows = db.session.execute(
        select(Institution.country_code, func.count(User.id))
        .select_from(User)
        .outerjoin(Institution, User.institution_id == Institution.id)
        .group_by(Institution.country_code)
    )
    return {code: n for code, n in rows}


def personal_data(user: User) -> dict[str, Any]:
    """Everything Beamtime keeps about a person, as JSON-ready data ("download my data").

    Token secrets are never stored, so never exported; higher domains add their sections
    through the PERSONAL_DATA_SLOT page slot.
    """

    def iso(value):
        return value.isoformat() if value is not None else None

    institution = user.institution
    data: dict[str, Any] = {
        "exported_at": iso(utcnow()),
        "profile": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "email_verified_at": iso(user.email_verified_at),
            "orcid": user.orcid,
            "locale": user.locale,
            "created_at": iso(user.created_at),
            "last_login_at": iso(user.last_login_at),
            "privacy_accepted_at": iso(user.privacy_accepted_at),
            "institution": None
            if institution is None
            else {
                "id": institution.id,
                "name": institution.name,
                "kind": institution.kind.value,
                "country_code": institution.country_code,
            },
        },
        "roles": [{"role": a.role.value, "scope_id": a.scope_id, "granted_at": iso(a.granted_at)} for a in user.roles],
        "external_identities": [
            {"issuer": i.issuer, "subject": i.subject, "created_at": iso(i.created_at)}
            for i in user.external_identities
        ],
        "tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": iso(t.created_at),
                "last_used_at": iso(t.last_used_at),
                "expires_at": iso(t.expires_at),
                "revoked_at": iso(t.revoked_at),
            }
            for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
        ],
        "audit_log": [
            {
                "at": iso(e.at),
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "by_you": e.actor_id == user.id,
                "changes": e.changes,
            }
            for e in db.session.scalars(
                select(AuditEntry)
                .where(
                    or_(
                        (AuditEntry.object_type == "User") & (AuditEntry.object_id == str(user.id)),
                        AuditEntry.actor_id == user.id,
                    )
                )
                .order_by(AuditEntry.at, AuditEntry.id)
                .limit(10_000)
            )
        ],
    }
    for section in events.slot_contents(PERSONAL_DATA_SLOT, user_id=user.id):
        data.update(section)
    return data
