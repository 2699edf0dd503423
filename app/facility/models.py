"""Facility settings, member contributions, instruments, cycles, the operating calendar,
bookings and capacity overrides and commitments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import JSONType, str_enum, utcnow
from app.extensions import db

DEFAULT_SHIFT_PATTERN = ["00:00", "08:00", "16:00"]
FACILITY_ID = 1


class Facility(db.Model):
    """The facility's own settings: one row (id 1)."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    host_country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    #: shift start times in facility-local time, "HH:MM", strictly increasing
    shift_pattern: Mapped[list[str]] = mapped_column(JSONType)
    #: sanitised HTML (nh3) for letters and PDFs
    letterhead: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class MemberContribution(db.Model):
    """A member country's share of the facility's budget in one year, in percent."""

    __tablename__ = "member_contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2))
    share: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    __table_args__ = (
        UniqueConstraint("year", "country"),
        CheckConstraint("share > 0 AND share <= 100", name="share_range"),
    )


class Instrument(db.Model):
    """A beamline or end-station, with its scheduling settings."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    techniques: Mapped[list[str]] = mapped_column(JSONType, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: indices into the facility's shift pattern at which a session may start
    start_shifts: Mapped[list[int]] = mapped_column(JSONType, default=list)
    #: weekdays a session may start (0 = Monday … 6 = Sunday)
    start_weekdays: Mapped[list[int]] = mapped_column(JSONType, default=list)
    changeover_shifts: Mapped[int] = mapped_column(Integer, default=0)
    min_session_shifts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("changeover_shifts >= 0", name="changeover_non_negative"),
        CheckConstraint("min_session_shifts >= 1", name="min_session_positive"),
    )

    def __repr__(self) -> str:
        return f"<Instrument {self.code}>"


class Cycle(db.Model):
    """An allocation period (`2027-I`): from the first shift of `starts_on` to the last of `ends_on`."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)

    def __repr__(self) -> str:
        return f"<Cycle {self.name}>"


class OperatingMode(db.Model):
    """A machine operating mode (multibunch, 16-bunch/timing, hybrid…): a managed list."""

    __tablename__ = "operating_modes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)


class ModePeriod(db.Model):
    """The machine runs in one operating mode from `starts_at` to `ends_at` (exclusive)."""

    __tablename__ = "mode_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    mode_id: Mapped[int] = mapped_column(ForeignKey("operating_modes.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")

    mode: Mapped[OperatingMode] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="times_in_order"),)


class DowntimeKind(enum.StrEnum):
    SHUTDOWN = "shutdown"
    MACHINE_DAY = "machine_day"


class Downtime(db.Model):
    """A facility-wide shutdown or machine day: no instrument gets beam."""

    __tablename__ = "downtimes"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DowntimeKind] = mapped_column(str_enum(DowntimeKind))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="times_in_order"),)


class BookingKind(enum.StrEnum):
    EXPERIMENT = "experiment"  # a session of an award (scheduling, a later issue)
    MAINTENANCE = "maintenance"
    IN_HOUSE = "in_house"
    RAPID_ACCESS = "rapid_access"


#: kinds that are instrument blocks, managed on the operating calendar
BLOCK_KINDS = (BookingKind.MAINTENANCE, BookingKind.IN_HOUSE, BookingKind.RAPID_ACCESS)


class BookingStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # a block on the calendar
    PLANNED = "planned"  # experiment states (DESIGN.md §3), used by scheduling
    PUBLISHED = "published"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # kept for history; no longer occupies the instrument


class Booking(db.Model):
    """Everything that occupies an instrument, half-open [starts_at, ends_at).

    No two bookings that are not cancelled overlap on one instrument: on PostgreSQL an
    exclusion constraint (btree_gist) holds it, also against races; on SQLite the services
    check inside a BEGIN IMMEDIATE transaction.
    """

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[BookingKind] = mapped_column(str_enum(BookingKind))
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus), default=BookingStatus.CONFIRMED)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="times_in_order"),
        Index("ix_bookings_instrument_id_starts_at", "instrument_id", "starts_at"),
    )

    @property
    def is_block(self) -> bool:
        return self.kind in BLOCK_KINDS


# Written by hand in the migration as well (Alembic cannot see it); declared here so that
# db.create_all() builds it for the PostgreSQL tests. Never on SQLite. Cancelled bookings
# stay for history and free the slot.
_bookings = Booking.__table__
_bookings.append_constraint(
    ExcludeConstraint(
        (_bookings.c.instrument_id, "="),
        (func.tstzrange(_bookings.c.starts_at, _bookings.c.ends_at, text("'[)'")), "&&"),
        name="ex_bookings_no_overlap",
        using="gist",
        where=text("status <> 'cancelled'"),
    ).ddl_if(dialect="postgresql")
)


class CapacityOverride(db.Model):
    """Staff replaced the computed capacity of an instrument in a cycle, with a reason."""

    __tablename__ = "capacity_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    shifts: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("cycle_id", "instrument_id"),
        CheckConstraint("shifts >= 0", name="shifts_non_negative"),
    )


class CapacityCommitment(db.Model):
    """Shifts promised on a future cycle by a long-term award of an earlier one.

    Keyed by the cycle's NAME, not its id: an award may commit shifts on `2028-I` before that
    cycle is created, and the cycle picks them up when it is. Filled by the allocation issue.
    """

    __tablename__ = "capacity_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_name: Mapped[str] = mapped_column(String(20), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    shifts: Mapped[int] = mapped_column(Integer)
    #: what made the commitment (e.g. a proposal reference and award id)
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("shifts > 0", name="shifts_positive"),)
