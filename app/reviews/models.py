"""The review-side tables (issue 5): technical reviews, panels, expertise and bids, assignments,
declared conflicts, reviews, the panel's decision, awards, decisions and the per-call review.

Panel membership is not a table of its own: a reviewer of a panel is a person holding the
`reviewer` role scoped to the panel's id, a chair holds `panel_chair` scoped to it (the accounts
role page manages both; `app.reviews` registers the "panel" scope provider). The deputy chair
is a column here, since there is no role for it; it must be a reviewer of the panel.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import JSONType, str_enum, utcnow
from app.extensions import db
from app.facility.models import Instrument
from app.proposals.models import BeamtimeRequest, Call, Proposal


class Feasibility(enum.StrEnum):
    FEASIBLE = "feasible"
    FEASIBLE_WITH_CHANGES = "feasible_with_changes"
    NOT_FEASIBLE = "not_feasible"


class BidLevel(enum.StrEnum):
    EAGER = "eager"
    WILLING = "willing"
    NOT_MY_FIELD = "not_my_field"


class AssignmentSource(enum.StrEnum):
    AUTO = "auto"
    OVERRIDE = "override"
    REPLACEMENT = "replacement"


class AssignmentState(enum.StrEnum):
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    CONFLICTED = "conflicted"  # the reviewer declared a conflict: kept, so never re-assigned
    REMOVED = "removed"  # taken off by staff (with a reason)


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    RESERVE = "reserve"
    REJECTED = "rejected"


class CallReview(db.Model):
    """The review of one call: started, then its decisions signed off and released together."""

    __tablename__ = "call_reviews"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_deadline_at: Mapped[datetime | None]
    #: the call's notification date: decisions are released to PIs from this instant on
    notify_at: Mapped[datetime | None]
    allocated_at: Mapped[datetime | None]
    signed_off_at: Mapped[datetime | None]
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship(lazy="joined")
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])


class TechnicalReview(db.Model):
    """The feasibility review of one beamtime request, by a scientist of its instrument."""

    __tablename__ = "technical_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("beamtime_requests.id", ondelete="CASCADE"), unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"), index=True)
    feasibility: Mapped[Feasibility | None] = mapped_column(str_enum(Feasibility))
    recommended_shifts: Mapped[int | None] = mapped_column(Integer)
    comment_for_panel: Mapped[str] = mapped_column(Text, default="")
    comment_for_pi: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    request: Mapped[BeamtimeRequest] = relationship(lazy="joined")
    proposal: Mapped[Proposal] = relationship()
    instrument: Mapped[Instrument] = relationship(lazy="joined")
    reviewer: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("recommended_shifts IS NULL OR recommended_shifts >= 0", name="recommended_non_negative"),
    )


class Panel(db.Model):
    """A review panel for some subject areas; members and chairs through scoped roles."""

    __tablename__ = "panels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: SubjectArea values this panel reviews (a subject area belongs to one active panel)
    subject_areas: Mapped[list[str]] = mapped_column(JSONType, default=list)
    deputy_chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deputy_chair: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Panel {self.name}>"


class ReviewerProfile(db.Model):
    """A reviewer's expertise keywords (used by the automatic assignment)."""

    __tablename__ = "reviewer_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bid(db.Model):
    """A reviewer's wish about one proposal of a call (a wish; a conflict is a rule)."""

    __tablename__ = "review_bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    level: Mapped[BidLevel] = mapped_column(str_enum(BidLevel))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)


class DeclaredConflict(db.Model):
    """A conflict of interest the reviewer declared (the others are computed, never stored)."""

    __tablename__ = "declared_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)


class ReviewAssignment(db.Model):
    """A reviewer asked to grade a proposal. The database refuses the same reviewer twice on
    one proposal (DESIGN.md §5), whatever the state of the first row."""

    __tablename__ = "review_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="RESTRICT"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    source: Mapped[AssignmentSource] = mapped_column(str_enum(AssignmentSource))
    state: Mapped[AssignmentState] = mapped_column(
        str_enum(AssignmentState), default=AssignmentState.ASSIGNED, index=True
    )
    #: staff override or removal: the visible reason
    reason: Mapped[str] = mapped_column(Text, default="")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False)

    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    @property
    def is_active(self) -> bool:
        return self.state in (AssignmentState.ASSIGNED, AssignmentState.SUBMITTED)


class Review(db.Model):
    """A reviewer's grade, 1–5 (5 outstanding), and comment for the panel."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id", ondelete="CASCADE"), unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    grade: Mapped[int] = mapped_column(Integer)
    comment_for_panel: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="review")

    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),)


class PanelDecision(db.Model):
    """Which panel reviews a proposal, and what its chair decided: final grade and rank with a
    justification (audit logged) and the comment the PI reads."""

    __tablename__ = "panel_decisions"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    #: None for proprietary proposals (feasibility and safety only) and for unrouted subjects
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panels.id", ondelete="RESTRICT"), index=True)
    final_grade: Mapped[float | None] = mapped_column(Numeric(4, 2, asdecimal=False))
    final_rank: Mapped[int | None] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text, default="")
    comment_for_pi: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship()
    panel: Mapped[Panel | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("final_grade IS NULL OR (final_grade >= 1 AND final_grade <= 5)", name="final_grade_range"),
        CheckConstraint("final_rank IS NULL OR final_rank >= 1", name="final_rank_positive"),
    )


class Award(db.Model):
    """Shifts awarded to one beamtime request, with its local contact."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("beamtime_requests.id", ondelete="RESTRICT"), unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="RESTRICT"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"), index=True)
    shifts: Mapped[int] = mapped_column(Integer)
    #: the allocation walk's reason (full, partial, reserve…) or "edited"
    basis: Mapped[str] = mapped_column(String(32), default="full")
    long_term: Mapped[bool] = mapped_column(default=False)
    cycles: Mapped[int] = mapped_column(Integer, default=1)
    local_contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    edit_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[BeamtimeRequest] = relationship(lazy="joined")
    proposal: Mapped[Proposal] = relationship()
    instrument: Mapped[Instrument] = relationship(lazy="joined")
    local_contact: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("shifts >= 1", name="shifts_positive"),
        CheckConstraint("cycles BETWEEN 1 AND 3", name="cycles_range"),
    )


class Decision(db.Model):
    """The outcome of a proposal: staged by the allocation, released with the call's decisions.
    A PI sees it only once `released_at` is set."""

    __tablename__ = "decisions"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome))
    staged_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(index=True)
    #: a later change (reserve → accepted after a withdrawal) once released
    changed_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship()
