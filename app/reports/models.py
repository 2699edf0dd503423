"""Rollup tables: sums of the facts of docs/METRICS.md, so the dashboard never aggregates raw rows.

Every row belongs to the cycle its source belongs to (a proposal's call's cycle, an
experiment's booking's cycle, later a visit's experiment's cycle), which is the grain of the
incremental refresh: one cycle's rows are deleted and rebuilt from its sources in one go.
The *year* column is the year the unit counts in (METRICS.md §7), which for delivered shifts,
visits and publications need not be the year the cycle starts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


class ReportUsage(db.Model):
    """country × year × instrument × route × unit, one value per counting mode.

    `instrument_id` 0 is the facility-wide row (a proposal counted once however many
    instruments it asks for); other values are instrument ids (no foreign key, because of 0).
    """

    __tablename__ = "report_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    instrument_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(32))
    pi: Mapped[float] = mapped_column(Float)
    whole: Mapped[float] = mapped_column(Float)
    fractional: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("cycle_id", "year", "instrument_id", "route", "country", "unit", name="uq_report_usage_dims"),
        Index("ix_report_usage_unit_year", "unit", "year", "instrument_id"),
    )


class ReportPair(db.Model):
    """Bilateral collaboration: one row per unordered pair of keys (country_a < country_b)."""

    __tablename__ = "report_pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    #: "proposals" (submitted proposals) or "delivered" (experiments that ran)
    basis: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    instrument_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(20))
    country_a: Mapped[str] = mapped_column(String(8))
    country_b: Mapped[str] = mapped_column(String(8))
    teams: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint(
            "cycle_id", "basis", "year", "instrument_id", "route", "country_a", "country_b", name="uq_report_pairs_dims"
        ),
        # every read of the matrix filters a basis and instrument ids (0: facility-wide) and sums
        # over the rest: an index-only scan of this index, never the whole table (bench B5: the
        # table holds ~1 M rows at L, the facility-wide rows of one basis ~150 k)
        Index(
            "ix_report_pairs_reads",
            "basis",
            "instrument_id",
            "year",
            postgresql_include=["route", "cycle_id", "country_a", "country_b", "teams", "score"],
        ),
    )


class ReportCapacity(db.Model):
    """An instrument's capacity in a cycle (the number oversubscription divides by)."""

    __tablename__ = "report_capacity"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    shifts: Mapped[int] = mapped_column(Integer)


class ReportDirtyCycle(db.Model):
    """A cycle whose rollups are behind its sources (marked by a subscriber, cleared by a refresh)."""

    __tablename__ = "report_dirty_cycles"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportRefresh(db.Model):
    """One refresh: full (every cycle) or incremental (the dirty ones), for "figures as of"."""

    __tablename__ = "report_refreshes"

    id: Mapped[int] = mapped_column(primary_key=True)
    full: Mapped[bool] = mapped_column(default=False)
    cycles: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
