"""People, roles with scope, personal access tokens, external identities; institutions and
country groups (the reference data people are counted by)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import str_enum, utcnow
from app.extensions import db


class Role(enum.StrEnum):
    REVIEWER = "reviewer"
    PANEL_CHAIR = "panel_chair"
    INSTRUMENT_SCIENTIST = "instrument_scientist"
    USER_OFFICE = "user_office"
    ACCESS_APPROVER = "access_approver"
    SAFETY_REVIEWER = "safety_reviewer"
    DIRECTOR = "director"
    ADMIN = "admin"


#: Roles that act for the whole facility (no scope).
FACILITY_ROLES = frozenset({Role.USER_OFFICE, Role.ACCESS_APPROVER, Role.SAFETY_REVIEWER, Role.DIRECTOR, Role.ADMIN})
#: Roles that need a scope, and its kind.
SCOPED_ROLES = {Role.REVIEWER: "panel", Role.PANEL_CHAIR: "panel", Role.INSTRUMENT_SCIENTIST: "instrument"}


class InstitutionKind(enum.StrEnum):
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    FACILITY = "facility"  # the facility itself
    COMPANY = "company"


class Institution(db.Model):
    """Where people work. Statistics count people by their institution's country."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[InstitutionKind] = mapped_column(str_enum(InstitutionKind))
    #: ISO 3166-1 alpha-2 (or XK); may be empty only for international organisations
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"), index=True)
    #: Research Organization Registry id, canonical form "05a28rw58"
    ror_id: Mapped[str | None] = mapped_column(String(9), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: None while a proposal made at registration waits for the user office's look
    reviewed_at: Mapped[datetime | None]

    parent: Mapped[Institution | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Institution]] = relationship(back_populates="parent")

    __table_args__ = (
        CheckConstraint("country_code IS NOT NULL OR kind = 'international_organisation'", name="country_required"),
        Index("ix_institutions_name_lower", func.lower(name)),
    )

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.name!r} {self.country_code}>"


class CountryGroup(db.Model):
    """A named set of countries (members, associates, EU, "needs security approval"…)."""

    __tablename__ = "country_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[CountryGroupMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CountryGroupMember.country_code"
    )

    __table_args__ = (Index("uq_country_groups_name_lower", func.lower(name), unique=True),)

    @property
    def codes(self) -> list[str]:
        return [m.country_code for m in self.members]


class CountryGroupMember(db.Model):
    __tablename__ = "country_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("country_groups.id", ondelete="CASCADE"), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(10))
    #: bumped on password change or account closure: invalidates sessions and "remember me"
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    #: canonical "0000-0002-1825-0097"
    orcid: Mapped[str | None] = mapped_column(String(19), unique=True)
    privacy_accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    institution: Mapped[Institution | None] = relationship(lazy="joined")
    external_identities: Mapped[list[ExternalIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="RoleAssignment.user_id",
    )

    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)
    __sensitive__ = ("password_hash",)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def has_role(self, role: Role, scope_id: int | None = None) -> bool:
        for assignment in self.roles:
            if assignment.role == role and (scope_id is None or assignment.scope_id == scope_id):
                return True
        return False

    def scopes(self, role: Role) -> set[int]:
        return {a.scope_id for a in self.roles if a.role == role and a.scope_id is not None}

    @property
    def role_names(self) -> set[str]:
        return {a.role.value for a in self.roles}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class SessionRole(NamedTuple):
    """One of a `SessionPerson`'s roles: what `User.has_role` and `User.scopes` read of a
    `RoleAssignment`."""

    role: Role
    scope_id: int | None


@dataclass(frozen=True, eq=False)
class SessionPerson(UserMixin):
    """The person logged in, as a read-only page sees them: `User`'s columns (not the password's
    hash) and roles as plain values, read by one statement without the ORM
    (`accounts.services.load_session_person`). A read-only view writes nothing, so nothing on
    it needs the entity; building it (the person, each role, and the facility's row that comes
    with them) was ~0.17 ms of every such page, and every permission check reads its
    attributes several times. Its rules are `User`'s own functions, so it answers exactly
    what the entity answers; it equals a `User` with the same `get_id()` (Flask-Login's rule)."""

    id: int
    email: str
    name: str
    active: bool
    email_verified_at: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    locale: str | None
    session_version: int
    institution_id: int | None
    orcid: str | None
    privacy_accepted_at: datetime | None
    closed_at: datetime | None
    roles: tuple[SessionRole, ...]

    get_id = User.get_id
    is_active = User.is_active
    is_verified = User.is_verified
    is_closed = User.is_closed
    has_role = User.has_role
    scopes = User.scopes
    role_names = User.role_names

    def __repr__(self) -> str:
        return f"<SessionPerson {self.id} {self.email}>"


#: the `User` columns a `SessionPerson` carries, in its fields' order (all but the roles)
SESSION_PERSON_COLUMNS = tuple(f for f in SessionPerson.__dataclass_fields__ if f != "roles")


class RoleAssignment(db.Model):
    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    #: the panel or instrument id for scoped roles; None for facility roles
    scope_id: Mapped[int | None] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("user_id", "role", "scope_id"),)


class ApiToken(db.Model):
    """A personal access token: only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


class ExternalIdentity(db.Model):
    """A federated login subject (eduGAIN, ORCID, an institution's IdP) linked to a person."""

    __tablename__ = "external_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="external_identities")

    __table_args__ = (UniqueConstraint("issuer", "subject"),)
