"""Use cases of the facility domain: the only code here that changes state."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import nh3
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import countries
from app.core import audit, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility import permissions, queries, shifts
from app.facility.models import (
    BLOCK_KINDS,
    DEFAULT_SHIFT_PATTERN,
    FACILITY_ID,
    Booking,
    BookingKind,
    BookingStatus,
    CapacityCommitment,
    CapacityOverride,
    Cycle,
    Downtime,
    DowntimeKind,
    Facility,
    Instrument,
    MemberContribution,
    ModePeriod,
    OperatingMode,
)

CYCLE_NAME_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")
MODE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_CYCLE_DAYS = 400
EXCLUSION_VIOLATION = "23P01"
LETTERHEAD_TAGS = {
    "p",
    "br",
    "div",
    "span",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "small",
    "h1",
    "h2",
    "h3",
    "h4",
    "address",
    "img",
    "a",
    "hr",
}
LETTERHEAD_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
FACILITY_FIELDS = ("name", "host_country", "timezone", "shift_pattern", "letterhead")
INSTRUMENT_FIELDS = (
    "code",
    "name",
    "techniques",
    "description",
    "active",
    "start_shifts",
    "start_weekdays",
    "changeover_shifts",
    "min_session_shifts",
)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_timezone(name: str) -> bool:
    return bool(name) and name in _zones()


def sanitise_letterhead(html: str) -> str:
    return nh3.clean(
        html or "", tags=LETTERHEAD_TAGS, attributes=LETTERHEAD_ATTRIBUTES, url_schemes={"https", "http", "mailto"}
    ).strip()


def _text(value: Any, field: str, *, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed("required", field=field)
    if len(value) > maximum:
        raise ValidationFailed("too_long", field=field, maximum=maximum)
    return value


def _lock_facility() -> Facility:
    """The facility row, locked: serialises cycle creation, pattern changes and contribution totals."""
    facility = db.session.scalar(select(Facility).where(Facility.id == FACILITY_ID).with_for_update())
    if facility is None:
        raise InvalidState("facility_not_configured")
    return facility


# --- facility settings ---------------------------------------------------------------------


@transactional
def update_facility(
    *,
    name: str,
    host_country: str,
    timezone: str,
    shift_pattern: Iterable[str] | str,
    letterhead: str = "",
    actor: Any,
    now: datetime | None = None,
) -> Facility:
    """Set the facility's name, host country, time zone, shift pattern and letterhead (admins).

    The shift pattern and the time zone define the shift grid every booking sits on: both are
    locked once a cycle exists.

    Raises: PermissionDenied, ValidationFailed (required, country_unknown, timezone_unknown,
    shift_pattern_*, shift_pattern_locked, timezone_locked).
    """
    require(permissions.can_edit_facility_settings, actor)
    name = _text(name, "name", maximum=200)
    host_country = (host_country or "").strip().upper()
    if not countries.is_valid(host_country):
        raise ValidationFailed("country_unknown", field="host_country", code=host_country or "—")
    timezone = (timezone or "").strip()
    if not is_known_timezone(timezone):
        raise ValidationFailed("timezone_unknown", field="timezone", value=timezone or "—")
    try:
        pattern = shifts.format_pattern(shifts.parse_pattern(shift_pattern))
    except shifts.PatternError as exc:
        raise ValidationFailed(exc.code, field="shift_pattern", **exc.params) from None
    letterhead = sanitise_letterhead(letterhead)
    if len(letterhead) > 20000:
        raise ValidationFailed("too_long", field="letterhead", maximum=20000)

    facility = db.session.scalar(select(Facility).where(Facility.id == FACILITY_ID).with_for_update())
    if facility is None:
        facility = Facility(
            id=FACILITY_ID,
            name=name,
            host_country=host_country,
            timezone=timezone,
            shift_pattern=pattern,
            letterhead=letterhead,
        )
        db.session.add(facility)
        audit.record(
            actor, "facility.created", facility, changes={f: getattr(facility, f) for f in FACILITY_FIELDS}, at=now
        )
        return facility
    before = audit.snapshot(facility, FACILITY_FIELDS)
    if queries.any_cycle_exists():
        if pattern != list(facility.shift_pattern):
            raise ValidationFailed("shift_pattern_locked", field="shift_pattern")
        if timezone != facility.timezone:
            raise ValidationFailed("timezone_locked", field="timezone")
    facility.name = name
    facility.host_country = host_country
    facility.timezone = timezone
    facility.shift_pattern = pattern
    facility.letterhead = letterhead
    if changes := audit.changes_since(facility, before):
        audit.record(actor, "facility.updated", facility, changes=changes, at=now)
    return facility


def _percent(raw: Any, field: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", ".")) if raw not in (None, "") else Decimal(0)
    except InvalidOperation:
        raise ValidationFailed("invalid_value", field=field) from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValidationFailed("percent_range", field=field)
    return value


@transactional
def update_partitions(*, in_house: Any, rapid_access: Any, proprietary: Any, actor: Any) -> None:
    """Set the reserved partitions (in-house %, rapid access %, proprietary %) of user shifts (admins).

    Raises: PermissionDenied, ValidationFailed (percent_range, partitions_over_100).
    """
    require(permissions.can_edit_facility_settings, actor)
    values = {
        queries.IN_HOUSE_PCT.key: _percent(in_house, "in_house"),
        queries.RAPID_ACCESS_PCT.key: _percent(rapid_access, "rapid_access"),
        queries.PROPRIETARY_PCT.key: _percent(proprietary, "proprietary"),
    }
    total = sum(values.values(), Decimal(0))
    if total > 100:
        raise ValidationFailed("partitions_over_100", field="proprietary", total=f"{total.normalize():f}")
    for key, value in values.items():
        settings.set_setting(key, float(value), actor=actor)


# --- member contributions ------------------------------------------------------------------


@transactional
def set_contribution(*, year: Any, country: str, share: Any, actor: Any) -> MemberContribution:
    """Record (or change) a member country's share of a year's budget, in percent (staff).

    Raises: PermissionDenied, ValidationFailed (year_invalid, country_unknown, share_range,
    contributions_over_100: the shares of a year add up to at most 100 %).
    """
    require(permissions.can_manage_facility, actor)
    try:
        year = int(str(year).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("year_invalid", field="year") from None
    if not 1950 <= year <= 2200:
        raise ValidationFailed("year_invalid", field="year")
    country = (country or "").strip().upper()
    if not countries.is_valid(country):
        raise ValidationFailed("country_unknown", field="country", code=country or "—")
    try:
        share = Decimal(str(share).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed("share_range", field="share") from None
    if not share.is_finite() or share <= 0 or share > 100 or share != share.quantize(Decimal("0.01")):
        raise ValidationFailed("share_range", field="share")
    _lock_facility()
    others = queries.contribution_total(year, excluding_country=country)
    if others + share > 100:
        raise ValidationFailed(
            "contributions_over_100",
            field="share",
            year=year,
            others=f"{others:.2f}",
            available=f"{max(Decimal(0), 100 - others):.2f}",
        )
    row = db.session.scalar(
        select(MemberContribution).where(MemberContribution.year == year, MemberContribution.country == country)
    )
    before = None if row is None else str(row.share)
    if row is None:
        row = MemberContribution(year=year, country=country, share=share)
        db.session.add(row)
    else:
        row.share = share
    audit.record(
        actor,
        "contribution.set",
        row,
        changes={"year": year, "country": country, "share": {"before": before, "after": str(share)}},
    )
    return row


@transactional
def remove_contribution(contribution_id: int, *, actor: Any) -> None:
    """Raises: PermissionDenied, NotFound."""
    require(permissions.can_manage_facility, actor)
    row = db.session.get(MemberContribution, contribution_id)
    if row is None:
        raise NotFound("contribution_not_found")
    audit.record(
        actor, "contribution.removed", row, changes={"year": row.year, "country": row.country, "share": str(row.share)}
    )
    db.session.delete(row)


# --- instruments ---------------------------------------------------------------------------


def bounded_int(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    """A whole number typed into `field`, within [minimum, maximum]. Raises: ValidationFailed."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("integer_range", field=field, minimum=minimum, maximum=maximum) from None
    if not minimum <= number <= maximum:
        raise ValidationFailed("integer_range", field=field, minimum=minimum, maximum=maximum)
    return number


def _int_set(values: Iterable[Any], field: str, *, maximum: int) -> list[int]:
    numbers = sorted({bounded_int(v, field, minimum=0, maximum=maximum) for v in values or []})
    if not numbers:
        raise ValidationFailed("choose_at_least_one", field=field)
    return numbers


def _pattern_length() -> int:
    facility = queries.find_facility()
    return len(facility.shift_pattern if facility else DEFAULT_SHIFT_PATTERN)


def _instrument_values(data: dict[str, Any]) -> dict[str, Any]:
    code = (data.get("code") or "").strip().upper()
    if not code:
        raise ValidationFailed("required", field="code")
    if not CODE_RE.match(code):
        raise ValidationFailed("instrument_code_format", field="code")
    techniques = data.get("techniques") or []
    if isinstance(techniques, str):
        techniques = techniques.split(",")
    techniques = [t.strip() for t in techniques if t and t.strip()]
    if any(len(t) > 100 for t in techniques):
        raise ValidationFailed("too_long", field="techniques", maximum=100)
    return {
        "code": code,
        "name": _text(data.get("name"), "name", maximum=200),
        "techniques": list(dict.fromkeys(techniques)),
        "description": _text(data.get("description"), "description", maximum=5000, required=False),
        "active": bool(data.get("active", True)),
        "start_shifts": _int_set(data.get("start_shifts") or [], "start_shifts", maximum=_pattern_length() - 1),
        "start_weekdays": _int_set(data.get("start_weekdays") or [], "start_weekdays", maximum=6),
        "changeover_shifts": bounded_int(data.get("changeover_shifts", 0), "changeover_shifts", minimum=0, maximum=99),
        "min_session_shifts": bounded_int(
            data.get("min_session_shifts", 1), "min_session_shifts", minimum=1, maximum=999
        ),
    }


@transactional
def create_instrument(data: dict[str, Any], *, actor: Any) -> Instrument:
    """Add an instrument with its scheduling settings (staff).

    Raises: PermissionDenied, ValidationFailed (required, instrument_code_format,
    instrument_code_taken, integer_range, choose_at_least_one).
    """
    require(permissions.can_manage_facility, actor)
    values = _instrument_values(data)
    if queries.find_instrument_by_code(values["code"]) is not None:
        raise ValidationFailed("instrument_code_taken", field="code", code=values["code"])
    instrument = Instrument(**values)
    db.session.add(instrument)
    audit.record(actor, "instrument.created", instrument, changes=audit.snapshot(instrument, INSTRUMENT_FIELDS))
    return instrument


@transactional
def update_instrument(instrument_id: int, data: dict[str, Any], *, actor: Any) -> Instrument:
    """Change an instrument (staff); retiring is `active=False`.

    Raises: PermissionDenied, NotFound, ValidationFailed (as create_instrument).
    """
    require(permissions.can_manage_facility, actor)
    instrument = queries.get_instrument(instrument_id)
    values = _instrument_values(data)
    other = queries.find_instrument_by_code(values["code"])
    if other is not None and other.id != instrument.id:
        raise ValidationFailed("instrument_code_taken", field="code", code=values["code"])
    before = audit.snapshot(instrument, INSTRUMENT_FIELDS)
    for key, value in values.items():
        setattr(instrument, key, value)
    if changes := audit.changes_since(instrument, before):
        audit.record(actor, "instrument.updated", instrument, changes=changes)
    return instrument


# --- cycles and operating modes ------------------------------------------------------------


@transactional
def create_cycle(*, name: str, starts_on: date | None, ends_on: date | None, actor: Any) -> Cycle:
    """Add an allocation period (staff). Cycles never overlap; the first one locks the shift pattern.

    Raises: PermissionDenied, InvalidState (facility not set up), ValidationFailed (required,
    cycle_name_format, cycle_name_taken, cycle_dates_order, cycle_too_long, cycle_overlap).
    """
    require(permissions.can_manage_facility, actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("required", field="name")
    if not CYCLE_NAME_RE.match(name):
        raise ValidationFailed("cycle_name_format", field="name")
    if starts_on is None:
        raise ValidationFailed("required", field="starts_on")
    if ends_on is None:
        raise ValidationFailed("required", field="ends_on")
    if ends_on < starts_on:
        raise ValidationFailed("cycle_dates_order", field="ends_on")
    if (ends_on - starts_on).days + 1 > MAX_CYCLE_DAYS:
        raise ValidationFailed("cycle_too_long", field="ends_on", maximum=MAX_CYCLE_DAYS)
    _lock_facility()
    if db.session.scalar(select(Cycle.id).where(Cycle.name == name)) is not None:
        raise ValidationFailed("cycle_name_taken", field="name", name=name)
    other = db.session.scalar(
        select(Cycle).where(Cycle.starts_on <= ends_on, Cycle.ends_on >= starts_on).order_by(Cycle.starts_on).limit(1)
    )
    if other is not None:
        raise ValidationFailed(
            "cycle_overlap",
            field="starts_on",
            other=other.name,
            starts=other.starts_on.isoformat(),
            ends=other.ends_on.isoformat(),
        )
    cycle = Cycle(name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(cycle)
    audit.record(actor, "cycle.created", cycle, changes={"name": name, "starts_on": starts_on, "ends_on": ends_on})
    return cycle


@transactional
def create_operating_mode(*, code: str, name: str, actor: Any) -> OperatingMode:
    """Add a machine operating mode to the managed list (staff).

    Raises: PermissionDenied, ValidationFailed (required, mode_code_format, mode_code_taken).
    """
    require(permissions.can_manage_facility, actor)
    code = (code or "").strip().lower()
    if not code:
        raise ValidationFailed("required", field="code")
    if not MODE_CODE_RE.match(code):
        raise ValidationFailed("mode_code_format", field="code")
    name = _text(name, "name", maximum=100)
    if db.session.scalar(select(OperatingMode.id).where(OperatingMode.code == code)) is not None:
        raise ValidationFailed("mode_code_taken", field="code", code=code)
    mode = OperatingMode(code=code, name=name, active=True)
    db.session.add(mode)
    audit.record(actor, "operating_mode.created", mode, changes={"code": code, "name": name})
    return mode


@transactional
def set_operating_mode_active(mode_id: int, active: bool, *, actor: Any) -> OperatingMode:
    """Retire a mode from new periods, or bring it back (staff). Raises: PermissionDenied, NotFound."""
    require(permissions.can_manage_facility, actor)
    mode = db.session.get(OperatingMode, mode_id)
    if mode is None:
        raise NotFound("operating_mode_not_found")
    if mode.active != active:
        mode.active = active
        audit.record(actor, "operating_mode.updated", mode, changes={"active": active})
    return mode


# --- the operating calendar ----------------------------------------------------------------


def _check_interval(cycle: Cycle, starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> queries.Grid:
    """On the shift grid, inside the cycle, not already started; returns the grid."""
    if starts_at is None:
        raise ValidationFailed("required", field="starts_at")
    if ends_at is None:
        raise ValidationFailed("required", field="ends_at")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed("invalid_value", field="starts_at")
    if ends_at <= starts_at:
        raise ValidationFailed("interval_order", field="ends_at")
    g = queries.grid()
    if g.locate(starts_at) is None:
        raise ValidationFailed("off_shift_grid", field="starts_at", shifts=", ".join(g.labels))
    if g.locate(ends_at) is None:
        raise ValidationFailed("off_shift_grid", field="ends_at", shifts=", ".join(g.labels))
    cycle_start, cycle_end = g.span(cycle)
    if starts_at < cycle_start or ends_at > cycle_end:
        raise ValidationFailed(
            "outside_cycle",
            field="starts_at" if starts_at < cycle_start else "ends_at",
            cycle=cycle.name,
            starts=cycle.starts_on.isoformat(),
            ends=cycle.ends_on.isoformat(),
        )
    if starts_at < now:
        raise ValidationFailed("in_past", field="starts_at")
    return g


@transactional
def add_downtime(
    cycle_id: int,
    *,
    kind: DowntimeKind | str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    title: str = "",
    actor: Any,
    now: datetime | None = None,
) -> Downtime:
    """Add a facility-wide shutdown or machine day to a cycle's calendar (staff).

    Raises: PermissionDenied, NotFound, ValidationFailed (off_shift_grid, outside_cycle, in_past,
    interval_order, downtime_overlap).
    """
    require(permissions.can_manage_facility, actor)
    now = now or utcnow()
    try:
        kind = DowntimeKind(kind)
    except ValueError:
        raise ValidationFailed("invalid_value", field="kind") from None
    cycle = queries.get_cycle(cycle_id)
    g = _check_interval(cycle, starts_at, ends_at, now)
    title = _text(title, "title", maximum=200, required=False)
    other = db.session.scalar(
        select(Downtime).where(
            Downtime.cycle_id == cycle.id, Downtime.starts_at < ends_at, Downtime.ends_at > starts_at
        )
    )
    if other is not None:
        raise ValidationFailed(
            "downtime_overlap",
            field="starts_at",
            other=other.title or other.kind.value,
            starts=g.local(other.starts_at),
            ends=g.local(other.ends_at),
        )
    downtime = Downtime(
        cycle_id=cycle.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        title=title,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    db.session.add(downtime)
    audit.record(
        actor,
        "downtime.added",
        downtime,
        changes={"cycle": cycle.name, "kind": kind, "starts_at": starts_at, "ends_at": ends_at},
    )
    return downtime


@transactional
def remove_downtime(downtime_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: PermissionDenied, NotFound, InvalidState (already started: history stays)."""
    require(permissions.can_manage_facility, actor)
    downtime = db.session.get(Downtime, downtime_id)
    if downtime is None:
        raise NotFound("not_found")
    if downtime.starts_at < (now or utcnow()):
        raise InvalidState("already_started")
    audit.record(
        actor,
        "downtime.removed",
        downtime,
        changes={"kind": downtime.kind, "starts_at": downtime.starts_at, "ends_at": downtime.ends_at},
    )
    db.session.delete(downtime)


@transactional
def add_mode_period(
    cycle_id: int,
    *,
    mode_id: int | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    note: str = "",
    actor: Any,
    now: datetime | None = None,
) -> ModePeriod:
    """Say the machine runs in a mode for a period of the cycle (staff); one mode at a time.

    Raises: PermissionDenied, NotFound, ValidationFailed (required, off_shift_grid, outside_cycle,
    in_past, interval_order, mode_period_overlap).
    """
    require(permissions.can_manage_facility, actor)
    now = now or utcnow()
    cycle = queries.get_cycle(cycle_id)
    mode = db.session.get(OperatingMode, mode_id) if mode_id else None
    if mode is None or not mode.active:
        raise ValidationFailed("required", field="mode_id")
    g = _check_interval(cycle, starts_at, ends_at, now)
    other = db.session.scalar(
        select(ModePeriod).where(
            ModePeriod.cycle_id == cycle.id, ModePeriod.starts_at < ends_at, ModePeriod.ends_at > starts_at
        )
    )
    if other is not None:
        raise ValidationFailed(
            "mode_period_overlap",
            field="starts_at",
            other=other.mode.name,
            starts=g.local(other.starts_at),
            ends=g.local(other.ends_at),
        )
    period = ModePeriod(
        cycle_id=cycle.id,
        mode_id=mode.id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=_text(note, "note", maximum=2000, required=False),
    )
    db.session.add(period)
    audit.record(
        actor,
        "mode_period.added",
        period,
        changes={"cycle": cycle.name, "mode": mode.code, "starts_at": starts_at, "ends_at": ends_at},
    )
    return period


@transactional
def remove_mode_period(period_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: PermissionDenied, NotFound, InvalidState (already started)."""
    require(permissions.can_manage_facility, actor)
    period = db.session.get(ModePeriod, period_id)
    if period is None:
        raise NotFound("not_found")
    if period.starts_at < (now or utcnow()):
        raise InvalidState("already_started")
    audit.record(
        actor,
        "mode_period.removed",
        period,
        changes={"mode": period.mode.code, "starts_at": period.starts_at, "ends_at": period.ends_at},
    )
    db.session.delete(period)


def is_exclusion_violation(exc: IntegrityError) -> bool:
    """The PostgreSQL no-overlap constraint on bookings refused the row."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        return True
    return "ex_bookings_no_overlap" in str(orig)


def place_booking(booking: Booking) -> Booking:
    """Insert a booking unless it overlaps a live booking of its instrument. Call inside a unit of work.

    The check gives a precise message; on PostgreSQL the exclusion constraint also holds against
    a concurrent insert, and its violation becomes the same Conflict (on SQLite the unit of
    work's BEGIN IMMEDIATE serialises writers, so the check suffices).

    Raises: Conflict("booking_overlap").
    """
    other = queries.overlapping_booking(booking.instrument_id, booking.starts_at, booking.ends_at)
    if other is not None:
        g = queries.grid()
        raise Conflict(
            "booking_overlap",
            other=other.title or other.kind.value,
            starts=g.local(other.starts_at),
            ends=g.local(other.ends_at),
        )
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.flush()
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            raise Conflict("booking_overlap", other="—", starts="—", ends="—") from None
        raise
    return booking


def block_target(kind: str | BookingKind, instrument_id: int, cycle_id: int) -> tuple[BookingKind, Instrument, Cycle]:
    """What an instrument block is and where it goes, checked: a block kind (not an
    experiment), an active instrument, an existing cycle. Shared by every way of adding a block.

    Raises: ValidationFailed (block_kind, instrument_retired), NotFound (instrument, cycle).
    """
    try:
        kind = BookingKind(kind)
    except ValueError:
        raise ValidationFailed("block_kind", field="kind") from None
    if kind not in BLOCK_KINDS:
        raise ValidationFailed("block_kind", field="kind")
    instrument = queries.get_instrument(instrument_id)
    if not instrument.active:
        raise ValidationFailed("instrument_retired", field="instrument_id", code=instrument.code)
    return kind, instrument, queries.get_cycle(cycle_id)


@transactional
def add_block(
    instrument_id: int,
    cycle_id: int,
    *,
    kind: BookingKind | str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    title: str = "",
    note: str = "",
    actor: Any,
    now: datetime | None = None,
) -> Booking:
    """Block an instrument for maintenance, in-house research or rapid access (staff).

    Raises: PermissionDenied, NotFound, ValidationFailed (block_kind, instrument_retired,
    off_shift_grid, outside_cycle, in_past, interval_order), Conflict (booking_overlap).
    """
    require(permissions.can_manage_facility, actor)
    now = now or utcnow()
    kind, instrument, cycle = block_target(kind, instrument_id, cycle_id)
    _check_interval(cycle, starts_at, ends_at, now)
    booking = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=kind,
        status=BookingStatus.CONFIRMED,
        starts_at=starts_at,
        ends_at=ends_at,
        title=_text(title, "title", maximum=200, required=False),
        note=_text(note, "note", maximum=2000, required=False),
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    place_booking(booking)
    audit.record(
        actor,
        "block.added",
        booking,
        changes={
            "instrument": instrument.code,
            "cycle": cycle.name,
            "kind": kind,
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
    )
    return booking


@transactional
def remove_block(booking_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Remove an instrument block (not an experiment). Raises: PermissionDenied, NotFound, InvalidState."""
    require(permissions.can_manage_facility, actor)
    booking = db.session.get(Booking, booking_id)
    if booking is None or not booking.is_block:
        raise NotFound("not_found")
    if booking.starts_at < (now or utcnow()):
        raise InvalidState("already_started")
    audit.record(
        actor,
        "block.removed",
        booking,
        changes={
            "instrument_id": booking.instrument_id,
            "kind": booking.kind,
            "starts_at": booking.starts_at,
            "ends_at": booking.ends_at,
        },
    )
    db.session.delete(booking)


# --- capacity ------------------------------------------------------------------------------


@transactional
def set_capacity_override(
    cycle_id: int, instrument_id: int, *, shifts: Any, reason: str, actor: Any, now: datetime | None = None
) -> CapacityOverride:
    """Replace the computed capacity of one instrument in one cycle, with a reason (staff).

    Raises: PermissionDenied, NotFound, ValidationFailed (integer_range, required).
    """
    require(permissions.can_manage_facility, actor)
    cycle = queries.get_cycle(cycle_id)
    instrument = queries.get_instrument(instrument_id)
    number = bounded_int(shifts, "shifts", minimum=0, maximum=100000)
    reason = _text(reason, "reason", maximum=2000)
    row = db.session.scalar(
        select(CapacityOverride).where(
            CapacityOverride.cycle_id == cycle.id, CapacityOverride.instrument_id == instrument.id
        )
    )
    before = None if row is None else row.shifts
    if row is None:
        row = CapacityOverride(cycle_id=cycle.id, instrument_id=instrument.id, shifts=number, reason=reason)
        db.session.add(row)
    row.shifts, row.reason = number, reason
    row.set_by_id, row.set_at = getattr(actor, "id", None), now or utcnow()
    audit.record(
        actor,
        "capacity.overridden",
        row,
        changes={
            "cycle": cycle.name,
            "instrument": instrument.code,
            "shifts": {"before": before, "after": number},
            "reason": reason,
        },
    )
    return row


@transactional
def clear_capacity_override(cycle_id: int, instrument_id: int, *, actor: Any) -> None:
    """Go back to the computed capacity (staff). Raises: PermissionDenied, NotFound."""
    require(permissions.can_manage_facility, actor)
    row = db.session.scalar(
        select(CapacityOverride).where(
            CapacityOverride.cycle_id == cycle_id, CapacityOverride.instrument_id == instrument_id
        )
    )
    if row is None:
        raise NotFound("not_found")
    audit.record(actor, "capacity.override_cleared", row, changes={"shifts": row.shifts})
    db.session.delete(row)


@transactional
def add_commitment(
    *, cycle_name: str, instrument_id: int, shifts: Any, source: str = "", actor: Any
) -> CapacityCommitment:
    """Promise shifts on a (possibly not yet created) cycle, for a long-term award (staff; used by allocation).

    Raises: PermissionDenied, NotFound, ValidationFailed (cycle_name_format, integer_range).
    """
    require(permissions.can_manage_facility, actor)
    cycle_name = (cycle_name or "").strip()
    if not CYCLE_NAME_RE.match(cycle_name):
        raise ValidationFailed("cycle_name_format", field="cycle_name")
    instrument = queries.get_instrument(instrument_id)
    row = CapacityCommitment(
        cycle_name=cycle_name,
        instrument_id=instrument.id,
        shifts=bounded_int(shifts, "shifts", minimum=1, maximum=100000),
        source=_text(source, "source", maximum=100, required=False),
    )
    db.session.add(row)
    audit.record(
        actor,
        "capacity.committed",
        row,
        changes={"cycle_name": cycle_name, "instrument": instrument.code, "shifts": row.shifts},
    )
    return row


@transactional
def remove_commitments(*, source_prefix: str, actor: Any) -> int:
    """Take back the commitments whose source starts with `source_prefix` (an allocation run
    again before its decisions are signed off). Returns how many were removed.

    Raises: PermissionDenied, ValidationFailed (required: an empty prefix would match everything).
    """
    require(permissions.can_manage_facility, actor)
    prefix = (source_prefix or "").strip()
    if not prefix:
        raise ValidationFailed("required", field="source_prefix")
    rows = list(db.session.scalars(select(CapacityCommitment).where(CapacityCommitment.source.startswith(prefix))))
    for row in rows:
        audit.record(
            actor, "capacity.commitment_removed", row, changes={"cycle_name": row.cycle_name, "shifts": row.shifts}
        )
        db.session.delete(row)
    return len(rows)
