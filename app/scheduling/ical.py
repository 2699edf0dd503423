"""iCalendar (RFC 5545) documents of experiments and instrument blocks, made with `icalendar`.

- Times are written in the facility's time zone (`DTSTART;TZID=Europe/Zurich:…`) with the
  VTIMEZONE of that zone over the years the feed spans, so a calendar shows a session that
  starts at 08:00 facility time at 08:00 facility time on both sides of a daylight-saving change.
- UID: `experiment-<booking id>@beamtime` (blocks: `booking-<id>@beamtime`): it never
  changes; the workflow raises `experiments.sequence` on every change of a published
  experiment, written as SEQUENCE, so clients replace the old version.
- A cancelled experiment stays in the feed with STATUS:CANCELLED (clients remove it).

No Flask here: the view passes plain values in and sends the bytes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from app.facility.models import BookingStatus
from app.scheduling.calendar_queries import Item

PRODID = "-//Beamtime//Schedule//EN"
UID_DOMAIN = "beamtime"
REFRESH = timedelta(hours=1)
_KIND_LABEL = {
    "maintenance": "Maintenance",
    "in_house": "In-house research",
    "rapid_access": "Rapid-access slot",
}


def uid_of(item: Item) -> str:
    prefix = "experiment" if item.experiment is not None else "booking"
    return f"{prefix}-{item.booking.id}@{UID_DOMAIN}"


def _summary(item: Item, *, instrument_code: str) -> str:
    if item.experiment is None:
        label = item.booking.title or _KIND_LABEL.get(item.kind, item.kind)
        return f"{instrument_code}: {label}"
    if not item.details:
        return f"{instrument_code}: Proprietary experiment"
    parts = [p for p in (item.reference, item.title) if p]
    return f"{instrument_code}: " + (" — ".join(parts) or "Experiment")


def _description(item: Item, *, instrument_code: str) -> str:
    lines = [f"Instrument: {instrument_code}"]
    if item.experiment is not None and item.details:
        if item.reference:
            lines.append(f"Proposal: {item.reference}")
        if item.title:
            lines.append(f"Title: {item.title}")
        if item.local_contact is not None:
            lines.append(f"Local contact: {item.local_contact.name} <{item.local_contact.email}>")
    lines.append(f"Status: {item.status}")
    return "\n".join(lines)


def event_of(item: Item, *, tz: ZoneInfo, now: datetime, instrument_code: str) -> Event:
    event = Event()
    event.add("uid", uid_of(item))
    event.add("dtstamp", now)
    event.add("dtstart", item.starts_at.astimezone(tz))
    event.add("dtend", item.ends_at.astimezone(tz))
    event.add("summary", _summary(item, instrument_code=instrument_code))
    event.add("description", _description(item, instrument_code=instrument_code))
    event.add("location", instrument_code)
    event.add("categories", [item.kind.replace("_", "-")])
    sequence = item.experiment.sequence if item.experiment is not None else 0
    event.add("sequence", sequence or 0)
    if item.experiment is not None and item.experiment.updated_at is not None:
        event.add("last-modified", item.experiment.updated_at)
    event.add("status", "CANCELLED" if item.booking.status == BookingStatus.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def calendar_of(
    items: Iterable[Item], *, name: str, tz_name: str, now: datetime, instrument_codes: dict[int, str]
) -> bytes:
    """One VCALENDAR with the facility zone's VTIMEZONE and a VEVENT per item."""
    tz = ZoneInfo(tz_name)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz_name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    items = list(items)
    for item in items:
        cal.add_component(event_of(item, tz=tz, now=now, instrument_code=instrument_codes[item.booking.instrument_id]))
    # the VTIMEZONE covers the span of the feed (a year of margin each side), not 1970–2038
    first = min((i.starts_at for i in items), default=now).astimezone(tz).date()
    last = max((i.ends_at for i in items), default=now).astimezone(tz).date()
    cal.add_missing_timezones(
        first_date=first.replace(month=1, day=1) - timedelta(days=366), last_date=last + timedelta(days=366)
    )
    if not items:
        from icalendar import Timezone

        cal.add_component(
            Timezone.from_tzid(tz_name, first_date=first - timedelta(days=366), last_date=last + timedelta(days=366))
        )
    return cal.to_ical()
