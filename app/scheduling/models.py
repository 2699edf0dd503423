"""Tables of the scheduling domain.

An experiment is a booking of kind `experiment` (facility's `bookings`, which holds the
no-overlap rule) plus the row here that says which award it is a session of and who its local
contact is. `AwardSchedule` holds what staff set per award for the solver (the maximum number
of sessions; default 1 when there is no row).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import JSONType, str_enum, utcnow
from app.extensions import db
from app.facility.models import Booking, Cycle, Instrument
from app.reviews.models import Award

DEFAULT_MAX_SESSIONS = 1


class LostTimeReason(enum.StrEnum):
    """Why shifts of an experiment were not delivered (recorded by the local contact)."""

    MACHINE_FAULT = "machine_fault"
    INSTRUMENT_FAULT = "instrument_fault"
    USER_NO_SHOW = "user_no_show"
    OTHER = "other"


class Experiment(db.Model):
    """One session of an award on an instrument: its booking, its award, its local contact."""

    __tablename__ = "experiments"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="RESTRICT"), index=True)
    local_contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: when it was first published (None while planned)
    published_at: Mapped[datetime | None]
    #: iCal SEQUENCE: raised on every change of a published experiment (the UID never changes)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    #: recorded by the local contact when it ends; feeds the reports
    delivered_shifts: Mapped[int | None] = mapped_column(Integer)
    lost_shifts: Mapped[int | None] = mapped_column(Integer)
    lost_reason: Mapped[LostTimeReason | None] = mapped_column(str_enum(LostTimeReason))
    lost_note: Mapped[str] = mapped_column(Text, default="")

    booking: Mapped[Booking] = relationship(lazy="joined")
    award: Mapped[Award] = relationship()
    local_contact: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint("delivered_shifts IS NULL OR delivered_shifts >= 0", name="delivered_not_negative"),
        CheckConstraint("lost_shifts IS NULL OR lost_shifts >= 0", name="lost_not_negative"),
    )


class AwardSchedule(db.Model):
    """Staff's scheduling settings of one award: into how many sessions it may be split."""

    __tablename__ = "award_schedules"

    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), primary_key=True)
    max_sessions: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_SESSIONS)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("max_sessions >= 1", name="max_sessions_positive"),)


class FeedKind(enum.StrEnum):
    """What an iCal feed lists: one person's experiments, or one instrument's schedule."""

    USER = "user"
    INSTRUMENT = "instrument"


class CalendarFeed(db.Model):
    """A secret, revocable iCal feed URL (`/scheduling/ical/<secret>.ics`).

    Only the SHA-256 of the secret is stored: the URL is shown once, when the feed is made (like
    a personal access token); a lost URL is revoked and a new feed made. A revoked feed, or one
    whose owner is no longer active, answers 404.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FeedKind] = mapped_column(str_enum(FeedKind))
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    #: the first characters of the secret, to tell feeds apart on the page
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    instrument: Mapped[Instrument | None] = relationship()

    __table_args__ = (
        CheckConstraint("(kind = 'instrument') = (instrument_id IS NOT NULL)", name="instrument_iff_instrument_feed"),
    )


class ScheduleDraft(db.Model):
    """One solve of a cycle (or the hand-edited state of one), kept so that drafts compare.

    `sessions` is the snapshot of the cycle's planned experiments the draft stands for (award,
    instrument, start and end as ISO instants, pinned); `unplaced` the awards not fully placed
    with the solver's reason; `groups` the solver's per-group figures. Exactly one draft of a
    cycle is `applied`: the planned experiments in `bookings` are its sessions (edits on the
    timeline update the bookings and this snapshot together). See docs/SCHEDULING.md.
    """

    __tablename__ = "schedule_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job_requests.id", ondelete="SET NULL"))
    effort: Mapped[int] = mapped_column(Integer, default=2)
    #: the value of every planned session of the draft (pinned ones included), on the solver's objective
    objective: Mapped[int] = mapped_column(Integer, default=0)
    greedy_objective: Mapped[int] = mapped_column(Integer, default=0)
    #: the solver's bound plus the value of the pinned sessions (a bound of schedules keeping them)
    bound: Mapped[int] = mapped_column(Integer, default=0)
    wall_time: Mapped[float] = mapped_column(default=0.0)
    groups: Mapped[list] = mapped_column(JSONType, default=list)
    unplaced: Mapped[list] = mapped_column(JSONType, default=list)
    sessions: Mapped[list] = mapped_column(JSONType, default=list)
    applied: Mapped[bool] = mapped_column(default=False)
    edited_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    cycle: Mapped[Cycle] = relationship()
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("cycle_id", "number", name="uq_schedule_drafts_cycle_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        # exactly one applied draft per cycle (at most one, by the database)
        Index(
            "uq_schedule_drafts_applied",
            "cycle_id",
            unique=True,
            sqlite_where=text("applied"),
            postgresql_where=text("applied"),
        ),
    )

    @property
    def gap(self) -> float:
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)


class ExperimentPin(db.Model):
    """A planned experiment staff pinned: a new solve keeps it where it is."""

    __tablename__ = "experiment_pins"

    booking_id: Mapped[int] = mapped_column(ForeignKey("experiments.booking_id", ondelete="CASCADE"), primary_key=True)
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)
