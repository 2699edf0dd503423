"""The shift grid of a facility: pure (no Flask, no SQLAlchemy, no `app.` imports).

A shift pattern is a list of start times in facility-local time ("00:00", "08:00", "16:00");
a shift lasts until the next start, and the last shift of a day until the first start of the
next day. Instants are computed with zoneinfo, so on daylight-saving days a shift lasts 7 or
9 hours of real time. A run of days [first_day, last_day] spans from the first shift of
`first_day` to the first shift of the day after `last_day`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_SHIFTS_PER_DAY = 24


class PatternError(ValueError):
    """A shift pattern that cannot be used; `code` names the reason (for a translated message)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def parse_pattern(values: Iterable[str] | str) -> tuple[time, ...]:
    """["00:00", "08:00", "16:00"] (or the same comma- or space-separated) → times, strictly increasing.

    Raises: PatternError (empty, a value not HH:MM, not increasing, more than 24 shifts).
    """
    if isinstance(values, str):
        values = [v for v in re.split(r"[,\s/;]+", values) if v]
    parsed: list[time] = []
    for raw in values:
        match = _HHMM.match(str(raw).strip())
        if not match:
            raise PatternError("shift_pattern_format", value=str(raw))
        parsed.append(time(int(match.group(1)), int(match.group(2))))
    if not parsed:
        raise PatternError("shift_pattern_empty")
    if len(parsed) > MAX_SHIFTS_PER_DAY:
        raise PatternError("shift_pattern_too_many", maximum=MAX_SHIFTS_PER_DAY)
    if any(b <= a for a, b in zip(parsed, parsed[1:], strict=False)):
        raise PatternError("shift_pattern_order")
    return tuple(parsed)


def format_pattern(pattern: Sequence[time]) -> list[str]:
    return [t.strftime("%H:%M") for t in pattern]


def shift_start(day: date, index: int, pattern: Sequence[time], tz: ZoneInfo) -> datetime:
    """The UTC instant shift `index` of `day` starts (facility-local wall time → UTC).

    An index past the end of the pattern rolls over to the next days, so
    `shift_start(d, len(pattern), …)` is the first shift of the next day.
    """
    days, index = divmod(index, len(pattern))
    local = datetime.combine(day + timedelta(days=days), pattern[index], tzinfo=tz)
    return local.astimezone(UTC)


def shift_end(day: date, index: int, pattern: Sequence[time], tz: ZoneInfo) -> datetime:
    return shift_start(day, index + 1, pattern, tz)


@dataclass(frozen=True, slots=True)
class Shift:
    day: date  # the facility-local day the shift belongs to
    index: int  # its position in the pattern
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC, exclusive

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def grid(first_day: date, last_day: date, pattern: Sequence[time], tz: ZoneInfo) -> list[Shift]:
    """Every shift from the first of `first_day` to the last of `last_day`, in order.

    A start that falls in a daylight-saving gap can coincide with the next one; such
    zero-length shifts are left out.
    """
    shifts: list[Shift] = []
    day = first_day
    while day <= last_day:
        for index in range(len(pattern)):
            start = shift_start(day, index, pattern, tz)
            end = shift_end(day, index, pattern, tz)
            if end > start:
                shifts.append(Shift(day, index, start, end))
        day += timedelta(days=1)
    return shifts


def span(first_day: date, last_day: date, pattern: Sequence[time], tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the days `first_day`…`last_day` on the shift grid, in UTC."""
    return shift_start(first_day, 0, pattern, tz), shift_start(last_day + timedelta(days=1), 0, pattern, tz)


def locate(instant: datetime, pattern: Sequence[time], tz: ZoneInfo) -> tuple[date, int] | None:
    """(day, index) of the shift starting exactly at `instant`, or None when it is off the grid."""
    local_day = instant.astimezone(tz).date()
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        for index in range(len(pattern)):
            if shift_start(day, index, pattern, tz) == instant:
                return day, index
    return None


def is_on_grid(instant: datetime, pattern: Sequence[time], tz: ZoneInfo) -> bool:
    return locate(instant, pattern, tz) is not None


class LocalTimeError(ValueError):
    """A wall-clock time that names no single instant: `code` is datetime_nonexistent (skipped
    when the clocks go forward) or datetime_ambiguous (lived twice when they go back)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def local_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a facility-local wall-clock time (naive), refusing the times a
    clock change skips or repeats rather than guessing one.

    Raises: LocalTimeError.
    """
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise LocalTimeError("datetime_nonexistent")
    if first.utcoffset() != second.utcoffset():
        raise LocalTimeError("datetime_ambiguous")
    return first.astimezone(UTC)
