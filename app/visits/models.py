"""Tables of the visits domain: visits and their invitations, access rules, training,
experiment safety.

Sensitive columns (`__sensitive__`): citizenship and the emergency contact. The audit log
records only that they changed; the retention job erases them after the visit.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import CountryGroup, User
from app.core.db import JSONType, str_enum, utcnow
from app.extensions import db
from app.scheduling.models import Experiment
from app.visits.status import VisitStatus


class VisitMode(enum.StrEnum):
    ON_SITE = "on_site"
    REMOTE = "remote"


class AccessStatus(enum.StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class Visit(db.Model):
    """One person taking part in one experiment, on site or remote, with its own affiliation snapshot."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.booking_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    mode: Mapped[VisitMode] = mapped_column(str_enum(VisitMode))
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus), index=True)
    # the affiliation snapshot, taken when the visit is named (statistics use it)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    institution_name: Mapped[str | None] = mapped_column(String(300))
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    # completed by the visitor
    arrives_on: Mapped[date | None] = mapped_column(Date)
    departs_on: Mapped[date | None] = mapped_column(Date)
    emergency_contact_name: Mapped[str | None] = mapped_column(String(200))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(50))
    accommodation_wanted: Mapped[bool | None] = mapped_column(Boolean)
    dosimeter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    citizenship: Mapped[str | None] = mapped_column(String(2))
    registered_at: Mapped[datetime | None]
    # site access
    access_status: Mapped[AccessStatus] = mapped_column(str_enum(AccessStatus), default=AccessStatus.NOT_NEEDED)
    access_requested_at: Mapped[datetime | None]
    access_late_days: Mapped[int] = mapped_column(Integer, default=0)
    access_decided_at: Mapped[datetime | None]
    access_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    access_note: Mapped[str] = mapped_column(Text, default="")
    # the user office's decision
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    personal_data_erased_at: Mapped[datetime | None]

    experiment: Mapped[Experiment] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    __sensitive__ = ("citizenship", "emergency_contact_name", "emergency_contact_phone")

    __table_args__ = (
        CheckConstraint("departs_on IS NULL OR arrives_on IS NULL OR departs_on >= arrives_on", name="dates_in_order"),
        CheckConstraint("access_late_days >= 0", name="late_days_not_negative"),
        # one live visit per person and experiment (cancelled and refused ones stay for history)
        Index(
            "uq_visits_live_person",
            "experiment_id",
            "user_id",
            unique=True,
            sqlite_where=text("status NOT IN ('cancelled', 'refused')"),
            postgresql_where=text("status NOT IN ('cancelled', 'refused')"),
        ),
    )

    @property
    def is_remote(self) -> bool:
        return self.mode == VisitMode.REMOTE


class VisitInvitation(db.Model):
    """An e-mailed invitation to take part in an experiment: signed link, expiry."""

    __tablename__ = "visit_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.booking_id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    mode: Mapped[VisitMode] = mapped_column(str_enum(VisitMode))
    nonce: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    experiment: Mapped[Experiment] = relationship()

    def is_pending(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class AccessRule(db.Model):
    """A site-access rule for a country group: lead time and whether an approval is needed.

    `by_citizenship`: the rule applies to the visitor's citizenship (then asked at
    registration); otherwise to the country of the visit's affiliation snapshot.
    """

    __tablename__ = "access_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_group_id: Mapped[int] = mapped_column(ForeignKey("country_groups.id", ondelete="CASCADE"), index=True)
    lead_days: Mapped[int] = mapped_column(Integer, default=0)
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    by_citizenship: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    country_group: Mapped[CountryGroup] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("lead_days >= 0 AND lead_days <= 365", name="lead_days_range"),)


class TrainingCourse(db.Model):
    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    validity_days: Mapped[int] = mapped_column(Integer)
    #: every on-site visitor needs a valid record on arrival
    required_on_site: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("validity_days >= 1", name="validity_positive"),)


class TrainingRecord(db.Model):
    __tablename__ = "training_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[TrainingCourse] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    __table_args__ = (CheckConstraint("expires_on >= completed_on", name="dates_in_order"),)


class ExperimentSafety(db.Model):
    """The samples and hazards the team confirms for one experiment, and the sign-offs."""

    __tablename__ = "experiment_safety"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.booking_id", ondelete="CASCADE"), primary_key=True
    )
    #: [{"name": …, "hazards": ["toxic", …]}]
    samples: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scientist_signed_at: Mapped[datetime | None]
    scientist_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_signed_at: Mapped[datetime | None]
    reviewer_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def hazards(self) -> set[str]:
        return {h for s in self.samples for h in s.get("hazards", []) if h != "none"}
