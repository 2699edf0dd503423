"""Capacity of an instrument in a cycle (DESIGN.md §3): pure arithmetic, no Flask, no
SQLAlchemy, no `app.` imports.

    shifts in cycle
  − downtime      (shifts touching a facility-wide shutdown or machine day)
  − maintenance   (other shifts touching a maintenance block of the instrument)
  = user shifts
  − partitions    (in-house %, rapid access %, proprietary % of the user shifts; each rounded
                   half up to a whole shift, computed exactly with Decimal)
  − commitments   (shifts promised on this cycle by earlier cycles' long-term awards)
  = capacity      (never below 0)

A shift counts as lost when any part of it overlaps downtime or maintenance: a part-shift
cannot be given to users. A shift lost to both is counted once, as downtime. Staff may
override the result with a reason; the override then is the number everyone reads, and the
computed value stays visible beside it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Interval:
    starts_at: datetime
    ends_at: datetime  # exclusive


@dataclass(frozen=True, slots=True)
class Partitions:
    """Reserved shares of the user shifts, in percent."""

    in_house: Decimal = Decimal(0)
    rapid_access: Decimal = Decimal(0)
    proprietary: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Capacity:
    shifts_in_cycle: int
    downtime: int
    maintenance: int
    user_shifts: int
    in_house: int
    rapid_access: int
    proprietary: int
    commitments: int
    computed: int
    override: int | None = None
    override_reason: str | None = None

    @property
    def partitions(self) -> int:
        return self.in_house + self.rapid_access + self.proprietary

    @property
    def overridden(self) -> bool:
        return self.override is not None

    @property
    def value(self) -> int:
        """The number calls, allocation and scheduling read."""
        return self.computed if self.override is None else self.override


def reserve(user_shifts: int, percent: Decimal) -> int:
    """`percent` of `user_shifts`, rounded half up to a whole shift (12.5 → 13, 12.49 → 12)."""
    return int((Decimal(user_shifts) * Decimal(percent) / HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def touched(shifts: Sequence[Interval], intervals: Sequence[Interval]) -> set[int]:
    """Indices of the `shifts` (sorted, non-overlapping) that overlap any of `intervals`."""
    starts = [s.starts_at for s in shifts]
    ends = [s.ends_at for s in shifts]
    hit: set[int] = set()
    for interval in intervals:
        if interval.ends_at <= interval.starts_at:
            continue
        first = bisect_right(ends, interval.starts_at)  # first shift ending after the interval starts
        last = bisect_left(starts, interval.ends_at)  # shifts starting before the interval ends
        hit.update(range(first, last))
    return hit


def compute(
    shifts: Sequence[Interval],
    *,
    downtime: Sequence[Interval] = (),
    maintenance: Sequence[Interval] = (),
    partitions: Partitions = Partitions(),
    commitments: int = 0,
    override: int | None = None,
    override_reason: str | None = None,
) -> Capacity:
    """The arithmetic of the module docstring, for one instrument in one cycle."""
    lost_down = touched(shifts, downtime)
    lost_maint = touched(shifts, maintenance) - lost_down
    user = len(shifts) - len(lost_down) - len(lost_maint)
    in_house = reserve(user, partitions.in_house)
    rapid = reserve(user, partitions.rapid_access)
    proprietary = reserve(user, partitions.proprietary)
    computed = max(0, user - in_house - rapid - proprietary - commitments)
    return Capacity(
        shifts_in_cycle=len(shifts),
        downtime=len(lost_down),
        maintenance=len(lost_maint),
        user_shifts=user,
        in_house=in_house,
        rapid_access=rapid,
        proprietary=proprietary,
        commitments=commitments,
        computed=computed,
        override=override,
        override_reason=override_reason,
    )
