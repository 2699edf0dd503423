"""Reads of the scheduling domain: free windows of an instrument's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.facility import queries as facility_queries
from app.facility.models import Cycle, Instrument
from app.scheduling.calendar import CycleGrid, booking_indices, free_runs, shutdown_indices


@dataclass(frozen=True)
class Window:
    """A free run of shifts: [starts_at, ends_at), `shifts` long."""

    starts_at: datetime
    ends_at: datetime
    shifts: int


def free_windows(cycle: Cycle, instrument: Instrument, *, now: datetime) -> list[Window]:
    """The runs of the cycle's shifts on `instrument` not booked, not in a shutdown, not started."""
    cal = CycleGrid.of(cycle)
    bookings = [b for b in facility_queries.list_bookings(cycle.id) if b.instrument_id == instrument.id]
    busy = booking_indices(cal, bookings) | shutdown_indices(cal, facility_queries.list_downtimes(cycle.id))
    busy |= {i for i, s in enumerate(cal.shifts) if s.starts_at < now}
    return [Window(cal.starts_at(a), cal.ends_at(b), b - a) for a, b in free_runs(len(cal), busy)]
