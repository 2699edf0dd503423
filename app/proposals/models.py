"""Calls, proposals, their team and invitations, beamtime requests, dates, samples, links."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Institution, User
from app.core.db import JSONType, str_enum, utcnow
from app.extensions import db
from app.facility.models import Cycle, Instrument, OperatingMode
from app.proposals.status import WITHDRAWABLE, ProposalStatus


class AccessRoute(enum.StrEnum):
    STANDARD = "standard"
    RAPID_ACCESS = "rapid_access"
    LONG_TERM = "long_term"
    PROPRIETARY = "proprietary"


class SubjectArea(enum.StrEnum):
    BIOLOGY = "biology"
    CHEMISTRY = "chemistry"
    CONDENSED_MATTER = "condensed_matter"
    MATERIALS = "materials"
    EARTH_ENVIRONMENT = "earth_environment"
    ENGINEERING = "engineering"
    MEDICINE = "medicine"
    CULTURAL_HERITAGE = "cultural_heritage"
    METHODS = "methods"
    OTHER = "other"


class MemberRole(enum.StrEnum):
    PI = "pi"
    CO_PROPOSER = "co_proposer"


class DateKind(enum.StrEnum):
    PREFERRED = "preferred"
    UNACCEPTABLE = "unacceptable"


class SampleForm(enum.StrEnum):
    CRYSTAL = "crystal"
    POWDER = "powder"
    SOLID = "solid"
    THIN_FILM = "thin_film"
    LIQUID = "liquid"
    SOLUTION = "solution"
    GAS = "gas"
    OTHER = "other"


class Hazard(enum.StrEnum):
    TOXIC = "toxic"
    RADIOACTIVE = "radioactive"
    BIOLOGICAL = "biological"
    NANOMATERIAL = "nanomaterial"
    CRYOGENIC = "cryogenic"
    HIGH_PRESSURE = "high_pressure"
    NONE = "none"


class Call(db.Model):
    """A call for proposals for a cycle, by one access route, open on [opens_at, closes_at)."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="RESTRICT"), index=True)
    route: Mapped[AccessRoute] = mapped_column(str_enum(AccessRoute))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    #: default cap on the shifts of one request (an instrument may set its own)
    max_shifts_per_request: Mapped[int] = mapped_column(Integer, default=21)
    #: rapid access: the most shifts one proposal may ask for, all requests together
    proposal_shift_cap: Mapped[int | None] = mapped_column(Integer)
    #: long-term: over how many cycles a request may run (1 elsewhere)
    max_cycles: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: set by the job that opened the call (announcements) and the one that closed it (snapshots frozen)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    cycle: Mapped[Cycle] = relationship(lazy="joined")
    instruments: Mapped[list[CallInstrument]] = relationship(
        back_populates="call", cascade="all, delete-orphan", lazy="selectin", order_by="CallInstrument.position"
    )

    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="times_in_order"),
        CheckConstraint("max_shifts_per_request >= 1", name="max_shifts_positive"),
        CheckConstraint("max_cycles BETWEEN 1 AND 3", name="max_cycles_range"),
        UniqueConstraint("cycle_id", "route"),
    )

    def is_open(self, now: datetime) -> bool:
        """Half-open: open from the opening instant, closed from the closing instant on."""
        return self.opens_at <= now < self.closes_at

    def has_closed(self, now: datetime) -> bool:
        return now >= self.closes_at

    def offer(self, instrument_id: int) -> CallInstrument | None:
        return next((ci for ci in self.instruments if ci.instrument_id == instrument_id), None)

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.route}>"


class CallInstrument(db.Model):
    """An instrument offered in a call, with its own cap on shifts per request."""

    __tablename__ = "call_instruments"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"), primary_key=True)
    max_shifts: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    call: Mapped[Call] = relationship(back_populates="instruments")
    instrument: Mapped[Instrument] = relationship(lazy="joined")

    def shift_limit(self) -> int:
        return self.max_shifts or self.call.max_shifts_per_request


class ReferenceCounter(db.Model):
    """The last reference number given in a cycle: one row, updated atomically at submission."""

    __tablename__ = "proposal_reference_counters"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Proposal(db.Model):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="RESTRICT"), index=True)
    #: "2027-I-0042", given at the first submission and never again
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus), default=ProposalStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    abstract: Mapped[str] = mapped_column(Text, default="")
    subject_area: Mapped[SubjectArea | None] = mapped_column(str_enum(SubjectArea))
    science_case_key: Mapped[str | None] = mapped_column(String(120))
    science_case_name: Mapped[str | None] = mapped_column(String(200))
    science_case_size: Mapped[int | None] = mapped_column(Integer)
    science_case_pages: Mapped[int | None] = mapped_column(Integer)
    science_case_uploaded_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    #: the team's affiliation snapshot stops following the people from this instant on
    affiliations_frozen_at: Mapped[datetime | None]
    cloned_from_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))

    call: Mapped[Call] = relationship(lazy="joined")
    members: Mapped[list[ProposalMember]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalMember.id"
    )
    requests: Mapped[list[BeamtimeRequest]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="BeamtimeRequest.id"
    )
    dates: Mapped[list[DateConstraint]] = relationship(
        cascade="all, delete-orphan", order_by="(DateConstraint.kind, DateConstraint.starts_on)"
    )
    samples: Mapped[list[Sample]] = relationship(cascade="all, delete-orphan", order_by="Sample.id")
    links: Mapped[list[ProposalLink]] = relationship(
        cascade="all, delete-orphan", foreign_keys="ProposalLink.proposal_id", order_by="ProposalLink.earlier_id"
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Invitation.id"
    )

    __table_args__ = (Index("ix_proposals_call_id_status", "call_id", "status"),)

    @property
    def pi(self) -> ProposalMember | None:
        return next((m for m in self.members if m.role == MemberRole.PI), None)

    def member(self, user_id: int) -> ProposalMember | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    @property
    def is_draft(self) -> bool:
        return self.status == ProposalStatus.DRAFT

    def is_editable(self, now: datetime) -> bool:
        """A draft while its call has not closed; a submitted proposal while the call is open
        (rapid access excepted: its review starts at submission)."""
        if self.status == ProposalStatus.DRAFT:
            return not self.call.has_closed(now)
        return (
            self.status == ProposalStatus.SUBMITTED
            and self.call.is_open(now)
            and self.call.route != AccessRoute.RAPID_ACCESS
        )

    @property
    def is_withdrawable(self) -> bool:
        return self.status in WITHDRAWABLE

    @property
    def label(self) -> str:
        return self.reference or f"draft #{self.id}"

    @property
    def total_shifts(self) -> int:
        return sum(r.shifts * r.cycles for r in self.requests)

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.reference or 'draft'} {self.status}>"


class ProposalMember(db.Model):
    """A person on the team, with an affiliation snapshot for statistics.

    The snapshot (institution and its country) follows the person while the call is open and
    stays as it was when the call closed, so a person who moves never rewrites history.
    """

    __tablename__ = "proposal_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"), index=True)
    institution_name: Mapped[str | None] = mapped_column(String(300))
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    snapshot_at: Mapped[datetime | None]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")
    institution: Mapped[Institution | None] = relationship()

    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        # one PI per proposal, held by the database
        Index(
            "uq_proposal_members_one_pi",
            "proposal_id",
            unique=True,
            sqlite_where=text("role = 'pi'"),
            postgresql_where=text("role = 'pi'"),
        ),
    )


class Invitation(db.Model):
    """An e-mailed invitation to join a team: signed link, expiry, one reminder."""

    __tablename__ = "proposal_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    #: random, carried in the signed link: a revoked invitation's link stops working
    nonce: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship(back_populates="invitations")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def is_pending(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class BeamtimeRequest(db.Model):
    __tablename__ = "beamtime_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"), index=True)
    shifts: Mapped[int] = mapped_column(Integer)
    #: long-term proposals ask for `shifts` in each of this many cycles
    cycles: Mapped[int] = mapped_column(Integer, default=1)
    justification: Mapped[str] = mapped_column(Text, default="")
    operating_mode_id: Mapped[int | None] = mapped_column(ForeignKey("operating_modes.id", ondelete="RESTRICT"))

    proposal: Mapped[Proposal] = relationship(back_populates="requests")
    instrument: Mapped[Instrument] = relationship(lazy="joined")
    operating_mode: Mapped[OperatingMode | None] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("proposal_id", "instrument_id"),
        CheckConstraint("shifts >= 1", name="shifts_positive"),
        CheckConstraint("cycles BETWEEN 1 AND 3", name="cycles_range"),
    )


class DateConstraint(db.Model):
    """Dates the team prefers, or cannot come (inclusive, facility-local days)."""

    __tablename__ = "proposal_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DateKind] = mapped_column(str_enum(DateKind))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)


class Sample(db.Model):
    __tablename__ = "samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    formula: Mapped[str] = mapped_column(String(200), default="")
    form: Mapped[SampleForm] = mapped_column(str_enum(SampleForm))
    quantity: Mapped[str] = mapped_column(String(100), default="")
    #: Hazard values; ["none"] is an explicit declaration, [] is "not declared yet"
    hazards: Mapped[list[str]] = mapped_column(JSONType, default=list)
    biological_risk_group: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("biological_risk_group IS NULL OR biological_risk_group BETWEEN 1 AND 4", name="risk_group"),
    )

    @property
    def is_hazardous(self) -> bool:
        return any(h != Hazard.NONE for h in self.hazards)


class ProposalLink(db.Model):
    """This proposal continues an earlier one (results, same samples, a follow-up)."""

    __tablename__ = "proposal_links"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    earlier_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)

    earlier: Mapped[Proposal] = relationship(foreign_keys=[earlier_id], lazy="joined")

    __table_args__ = (CheckConstraint("proposal_id <> earlier_id", name="not_itself"),)
