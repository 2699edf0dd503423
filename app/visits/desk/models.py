"""Tables of the front desk: who came in and left when (the roll call is read from these
instants), and each visitor's feedback after the experiment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import utcnow
from app.extensions import db
from app.visits.models import Visit


class SitePresence(db.Model):
    """One on-site visit's check-in and check-out at the front desk."""

    __tablename__ = "site_presences"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)
    checked_in_at: Mapped[datetime]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the desk let the visitor in with an incomplete checklist, and why
    override_reason: Mapped[str] = mapped_column(Text, default="")
    checked_out_at: Mapped[datetime | None]
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    visit: Mapped[Visit] = relationship()

    __table_args__ = (
        CheckConstraint("checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="out_after_in"),
        Index("ix_site_presences_checked_in_at", "checked_in_at"),
    )


class Feedback(db.Model):
    """A visitor's or remote participant's ratings (1–5) and comments, once per visit."""

    __tablename__ = "visit_feedback"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)
    instrument: Mapped[int] = mapped_column(SmallInteger)
    support: Mapped[int] = mapped_column(SmallInteger)
    #: on-site visitors who stayed in the guesthouse only
    accommodation: Mapped[int | None] = mapped_column(SmallInteger)
    overall: Mapped[int] = mapped_column(SmallInteger)
    comments: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()

    __table_args__ = (
        CheckConstraint("instrument BETWEEN 1 AND 5", name="instrument_range"),
        CheckConstraint("support BETWEEN 1 AND 5", name="support_range"),
        CheckConstraint("accommodation IS NULL OR accommodation BETWEEN 1 AND 5", name="accommodation_range"),
        CheckConstraint("overall BETWEEN 1 AND 5", name="overall_range"),
    )
