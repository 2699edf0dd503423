"""People, roles with scope, personal access tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, func
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
