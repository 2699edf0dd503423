"""Site-access lead times: pure date arithmetic (no Flask, no SQLAlchemy, no app imports).

A rule asks for a request `lead_days` before arrival, counted either in calendar days or in
working days (Monday to Friday, minus the holidays kept in settings). Days are facility-local:
the instant of a request becomes a date in the facility's time zone before anything is counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_day(instant: datetime, tz: str | ZoneInfo) -> date:
    """The facility-local date of an aware instant."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return instant.astimezone(zone).date()


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def parse_holidays(values: Iterable[str]) -> frozenset[date]:
    """ISO dates from the settings list; malformed entries are ignored."""
    out = set()
    for value in values:
        try:
            out.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            continue
    return frozenset(out)


def available_days(requested_on: date, arrival: date, *, working_days: bool, holidays: Iterable[date] = ()) -> int:
    """Days counted from the request day (inclusive) to arrival (exclusive)."""
    if requested_on >= arrival:
        return 0
    if not working_days:
        return (arrival - requested_on).days
    off = set(holidays)
    return sum(1 for n in range((arrival - requested_on).days) if is_working_day(requested_on + timedelta(days=n), off))


def latest_request_day(arrival: date, lead_days: int, *, working_days: bool, holidays: Iterable[date] = ()) -> date:
    """The last day on which a request still gives `lead_days` before `arrival`."""
    if lead_days <= 0:
        return arrival
    if not working_days:
        return arrival - timedelta(days=lead_days)
    off = set(holidays)
    day, counted = arrival, 0
    while counted < lead_days:
        day -= timedelta(days=1)
        if is_working_day(day, off):
            counted += 1
    return day


def days_missing(
    requested_on: date, arrival: date, lead_days: int, *, working_days: bool, holidays: Iterable[date] = ()
) -> int:
    """How many (calendar or working) days short of the lead time a request made on
    `requested_on` is: 0 when on time."""
    have = available_days(requested_on, arrival, working_days=working_days, holidays=holidays)
    return max(0, lead_days - have)
