"""A cycle's shift grid as indices 0…n−1 and what occupies it: the bridge between instants and
the shift indices of the booking page, the direct-booking service and the solver's adapters.

Index i is the i-th shift of the cycle on the facility's shift pattern (app/facility/shifts.py);
a run [first, end) of indices spans the instants [starts_at(first), ends_at(end − 1)).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.facility import queries as facility_queries
from app.facility.models import Booking, Cycle, Downtime, DowntimeKind
from app.facility.shifts import Shift


@dataclass(frozen=True)
class CycleGrid:
    cycle: Cycle
    grid: facility_queries.Grid
    shifts: tuple[Shift, ...]
    starts: tuple[datetime, ...]

    @classmethod
    def of(cls, cycle: Cycle) -> CycleGrid:
        """Raises: InvalidState (the facility is not set up)."""
        g = facility_queries.grid()
        shifts = tuple(g.shifts(cycle))
        return cls(cycle, g, shifts, tuple(s.starts_at for s in shifts))

    def __len__(self) -> int:
        return len(self.shifts)

    def index(self, day: date, shift: int) -> int | None:
        """The index of shift `shift` of `day`, or None when the cycle has no such shift."""
        try:
            start = self.grid.start(day, shift)
        except (IndexError, OverflowError):
            return None
        return self.index_at(start)

    def index_at(self, instant: datetime) -> int | None:
        """The index of the shift starting exactly at `instant`; None off the grid or outside the cycle."""
        i = bisect_left(self.starts, instant)
        return i if i < len(self.starts) and self.starts[i] == instant else None

    def starts_at(self, index: int) -> datetime:
        return self.shifts[index].starts_at

    def ends_at(self, end: int) -> datetime:
        """The instant a run ending before index `end` ends (the end of shift end − 1)."""
        return self.shifts[end - 1].ends_at

    def covering(self, starts_at: datetime, ends_at: datetime) -> range:
        """The indices of the shifts overlapping [starts_at, ends_at) (clipped to the cycle)."""
        first = max(0, bisect_right(self.starts, starts_at) - 1)
        if first < len(self.shifts) and self.shifts[first].ends_at <= starts_at:
            first += 1
        end = bisect_left(self.starts, ends_at)
        return range(first, max(first, end))

    def indices(self, intervals: Iterable[tuple[datetime, datetime]]) -> set[int]:
        out: set[int] = set()
        for s, e in intervals:
            out.update(self.covering(s, e))
        return out

    def local(self, instant: datetime) -> str:
        return self.grid.local(instant)


def shutdown_indices(cal: CycleGrid, downtimes: Iterable[Downtime]) -> set[int]:
    return cal.indices((d.starts_at, d.ends_at) for d in downtimes if d.kind == DowntimeKind.SHUTDOWN)


def downtime_indices(cal: CycleGrid, downtimes: Iterable[Downtime]) -> set[int]:
    """Shutdowns and machine days: no beam for experiments."""
    return cal.indices((d.starts_at, d.ends_at) for d in downtimes)


def free_runs(length: int, busy: set[int]) -> list[tuple[int, int]]:
    """Maximal runs [first, end) of indices in 0…length−1 not in `busy`."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i in range(length):
        if i in busy:
            if start is not None:
                runs.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        runs.append((start, length))
    return runs


def booking_indices(cal: CycleGrid, bookings: Iterable[Booking]) -> set[int]:
    return cal.indices((b.starts_at, b.ends_at) for b in bookings)
