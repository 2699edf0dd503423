"""Tables of the guesthouse: rooms, their beds, the nights booked on a bed, and what each
visitor answered about sharing and accessibility.

Never two people in one bed on one night, and never one visitor in two beds on one night: on
PostgreSQL two exclusion constraints (btree_gist, on `daterange(first_night, last_night, '[]')`)
hold it, also against concurrent inserts; on SQLite the services check inside the unit of
work's BEGIN IMMEDIATE transaction. Single and accessible rooms have exactly one bed (the
services refuse more), so "one visitor a night" of those rooms is the same per-bed rule.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import str_enum, utcnow
from app.extensions import db
from app.visits.guesthouse.rooming import RoomKind
from app.visits.models import Visit


class GuestRoom(db.Model):
    __tablename__ = "guest_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[RoomKind] = mapped_column(str_enum(RoomKind))
    note: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    beds: Mapped[list[GuestBed]] = relationship(
        back_populates="room", order_by="GuestBed.label", cascade="all, delete-orphan"
    )


class GuestBed(db.Model):
    __tablename__ = "guest_beds"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("guest_rooms.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(20))

    room: Mapped[GuestRoom] = relationship(back_populates="beds", lazy="joined")

    __table_args__ = (UniqueConstraint("room_id", "label"),)

    @property
    def full_label(self) -> str:
        return f"{self.room.name} / {self.label}" if len(self.room.beds) > 1 else self.room.name


class BedBooking(db.Model):
    """Nights `first_night` … `last_night` (inclusive) of one visitor on one bed."""

    __tablename__ = "bed_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("guest_beds.id", ondelete="RESTRICT"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    first_night: Mapped[date] = mapped_column(Date)
    last_night: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bed: Mapped[GuestBed] = relationship(lazy="joined")
    visit: Mapped[Visit] = relationship()

    __table_args__ = (
        CheckConstraint("last_night >= first_night", name="nights_in_order"),
        Index("ix_bed_bookings_bed_id_first_night", "bed_id", "first_night"),
    )

    @property
    def departs_on(self) -> date:
        return self.last_night + timedelta(days=1)

    def covers(self, night: date) -> bool:
        return self.first_night <= night <= self.last_night


class GuestPreference(db.Model):
    """The visitor's answers for the guesthouse (asked with the registration, kept here)."""

    __tablename__ = "guest_preferences"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)
    accepts_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# Written by hand in the migration as well (Alembic cannot see them); declared here so that
# db.create_all() builds them for the PostgreSQL tests. Never on SQLite.
_nights = BedBooking.__table__
for _name, _column in (
    ("ex_bed_bookings_bed_night", _nights.c.bed_id),
    ("ex_bed_bookings_visit_night", _nights.c.visit_id),
):
    _nights.append_constraint(
        ExcludeConstraint(
            (_column, "="),
            (func.daterange(_nights.c.first_night, _nights.c.last_night, text("'[]'")), "&&"),
            name=_name,
            using="gist",
        ).ddl_if(dialect="postgresql")
    )
EXCLUSION_NAMES = ("ex_bed_bookings_bed_night", "ex_bed_bookings_visit_night")
