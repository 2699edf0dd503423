"""Tables of what follows an experiment: its report and the publications it led to.

A report row exists once the team first saves it; until then an ended experiment simply has no
report (overdue once its due date passes: computed, not stored, so a changed setting applies
at once). Publications are unique by normalised DOI and linked to proposals and instruments.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import str_enum, utcnow
from app.extensions import db
from app.facility.models import Instrument
from app.proposals.models import Proposal


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ExperimentReport(db.Model):
    """The team's report on one experiment: text written here (sanitised HTML), or a PDF."""

    __tablename__ = "experiment_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.booking_id", ondelete="CASCADE"), unique=True)
    #: the experiment's proposal, kept here so "overdue reports of a PI" is one indexed query
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.DRAFT)
    body_html: Mapped[str] = mapped_column(Text, default="")
    pdf_key: Mapped[str | None] = mapped_column(String(120))
    pdf_name: Mapped[str | None] = mapped_column(String(200))
    pdf_size: Mapped[int | None] = mapped_column(Integer)
    pdf_pages: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    __table_args__ = (
        CheckConstraint("status <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_instant"),
    )

    @property
    def submitted(self) -> bool:
        return self.status == ReportStatus.SUBMITTED


class Publication(db.Model):
    """A publication that used beamtime, by DOI (normalised: lower case, no resolver prefix)."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    doi: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    year: Mapped[int] = mapped_column(Integer, index=True)
    journal: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal_links: Mapped[list[PublicationProposal]] = relationship(
        back_populates="publication", cascade="all, delete-orphan"
    )
    instrument_links: Mapped[list[PublicationInstrument]] = relationship(
        back_populates="publication", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("year >= 1900 AND year <= 2200", name="year_plausible"),)

    @property
    def proposals(self) -> list[Proposal]:
        return [link.proposal for link in self.proposal_links]

    @property
    def instruments(self) -> list[Instrument]:
        return [link.instrument for link in self.instrument_links]


class PublicationProposal(db.Model):
    __tablename__ = "publication_proposals"

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    publication: Mapped[Publication] = relationship(back_populates="proposal_links")
    proposal: Mapped[Proposal] = relationship()


class PublicationInstrument(db.Model):
    __tablename__ = "publication_instruments"

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    publication: Mapped[Publication] = relationship(back_populates="instrument_links")
    instrument: Mapped[Instrument] = relationship(lazy="joined")
