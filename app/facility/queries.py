"""Reads of the facility domain: settings, instruments, cycles, the calendar, capacity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.accounts.models import Role, RoleAssignment, User
from app.core import settings
from app.core.errors import InvalidState, NotFound
from app.extensions import db
from app.facility import capacity as capacity_math
from app.facility import shifts
from app.facility.models import (
    FACILITY_ID,
    Booking,
    BookingKind,
    BookingStatus,
    CapacityCommitment,
    CapacityOverride,
    Cycle,
    Downtime,
    Facility,
    Instrument,
    MemberContribution,
    ModePeriod,
    OperatingMode,
)

# Reserved partitions of the user shifts (DESIGN.md §3), in percent; their sum ≤ 100.
IN_HOUSE_PCT = settings.define(
    "facility.reserve_in_house_pct", float, 0.0, "In-house research (% of user shifts)", minimum=0, maximum=100
)
RAPID_ACCESS_PCT = settings.define(
    "facility.reserve_rapid_access_pct", float, 0.0, "Rapid access (% of user shifts)", minimum=0, maximum=100
)
PROPRIETARY_PCT = settings.define(
    "facility.reserve_proprietary_pct", float, 0.0, "Proprietary research (% of user shifts)", minimum=0, maximum=100
)


#: `db.session.info` key under which the session holds the facility row strongly (see below)
_FACILITY_INFO_KEY = "facility.queries.facility"


_FACILITY_ROW = select(Facility).where(Facility.id == FACILITY_ID)


def find_facility() -> Facility | FacilityRow | None:
    """The facility's settings row, read once per session (one page = one session).

    Every page asks for it several times (its name in the title and footer, its zone for each
    date shown). The identity map holds instances only weakly, so without a reference the row
    would be dropped between calls and each `session.get` would be a SELECT. The session keeps
    one in its `info`: later calls are identity-map hits. Invalidation is SQLAlchemy's own: a
    commit or rollback expires the instance (the next call reloads it), a new session starts
    empty, and a change made in this session is the same object.
    """
    facility = db.session.info.get(_FACILITY_INFO_KEY)
    if facility is not None and (type(facility) is FacilityRow or facility in db.session):
        # an entity expired after a commit or rollback reloads on its next attribute read;
        # a read-only page's plain row has no commit to outlive (`remember_facility_values`)
        return facility
    # a prebuilt select, not `session.get`: on a miss (the first call of every request)
    # `get` builds its statement each time, which cost more than the SELECT itself
    facility = db.session.scalars(_FACILITY_ROW).one_or_none()
    if facility is not None:
        db.session.info[_FACILITY_INFO_KEY] = facility
    return facility


def remember_facility(facility: Facility) -> None:
    """Hold a facility row that a page read within its own statement (the proposal page joins
    it into its proposal's) as `find_facility` would have: the page's later calls are
    identity-map hits, with the same invalidation."""
    db.session.info[_FACILITY_INFO_KEY] = facility


@dataclass(frozen=True, slots=True)
class FacilityRow:
    """The facility's settings row as plain values, what a read-only page holds instead of the
    entity (it came with the person's statement: `accounts.services.load_session_person`); the
    same attribute names as `Facility`."""

    id: int
    name: str
    host_country: str
    timezone: str
    shift_pattern: list[str]
    letterhead: str
    updated_at: datetime


def remember_facility_values(values: dict) -> None:
    """`remember_facility` for a read-only page: the row's columns by name, held as a
    `FacilityRow` for the rest of the page."""
    db.session.info[_FACILITY_INFO_KEY] = FacilityRow(**values)


def facility_timezone_name() -> str | None:
    """The facility's IANA zone, or None before the facility is set up."""
    facility = find_facility()
    return facility.timezone if facility else None


def facility_name() -> str | None:
    facility = find_facility()
    return facility.name if facility else None


@dataclass(frozen=True)
class Grid:
    """The facility's shift grid: its pattern in local time and its zone."""

    pattern: tuple[time, ...]
    tz: ZoneInfo

    @property
    def labels(self) -> list[str]:
        return shifts.format_pattern(self.pattern)

    def start(self, day: date, index: int) -> datetime:
        return shifts.shift_start(day, index, self.pattern, self.tz)

    def end_of(self, day: date, index: int) -> datetime:
        """The end of shift `index` of `day` (the start of the next shift)."""
        return shifts.shift_end(day, index, self.pattern, self.tz)

    def span(self, cycle: Cycle) -> tuple[datetime, datetime]:
        return shifts.span(cycle.starts_on, cycle.ends_on, self.pattern, self.tz)

    def shifts(self, cycle: Cycle) -> list[shifts.Shift]:
        return shifts.grid(cycle.starts_on, cycle.ends_on, self.pattern, self.tz)

    def locate(self, instant: datetime) -> tuple[date, int] | None:
        return shifts.locate(instant, self.pattern, self.tz)

    def local(self, instant: datetime) -> str:
        return instant.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")


def grid() -> Grid:
    """Raises: InvalidState (the facility is not set up yet)."""
    facility = find_facility()
    if facility is None:
        raise InvalidState("facility_not_configured")
    return Grid(shifts.parse_pattern(facility.shift_pattern), ZoneInfo(facility.timezone))


# --- contributions -------------------------------------------------------------------------


def list_contributions(year: int | None = None) -> list[MemberContribution]:
    query = select(MemberContribution).order_by(MemberContribution.year.desc(), MemberContribution.share.desc())
    if year is not None:
        query = query.where(MemberContribution.year == year)
    return list(db.session.scalars(query))


def contribution_total(year: int, *, excluding_country: str | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(MemberContribution.share), 0)).where(MemberContribution.year == year)
    if excluding_country:
        query = query.where(MemberContribution.country != excluding_country)
    return Decimal(str(db.session.scalar(query) or 0))


def contributions_by_year() -> dict[int, list[MemberContribution]]:
    grouped: dict[int, list[MemberContribution]] = defaultdict(list)
    for row in list_contributions():
        grouped[row.year].append(row)
    return dict(grouped)


# --- instruments ---------------------------------------------------------------------------


def list_instruments(*, active_only: bool = False) -> list[Instrument]:
    query = select(Instrument).order_by(Instrument.code)
    if active_only:
        query = query.where(Instrument.active.is_(True))
    return list(db.session.scalars(query))


def get_instrument(instrument_id: int) -> Instrument:
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None:
        raise NotFound("instrument_not_found")
    return instrument


def find_instrument_by_code(code: str) -> Instrument | None:
    return db.session.scalar(select(Instrument).where(Instrument.code == code))


def instrument_scientists(instrument_ids: Sequence[int] | None = None) -> dict[int, list[User]]:
    """Instrument id → the people holding the instrument_scientist role scoped to it."""
    query = (
        select(RoleAssignment.scope_id, User)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.INSTRUMENT_SCIENTIST, User.active.is_(True))
        .order_by(User.name)
    )
    if instrument_ids is not None:
        query = query.where(RoleAssignment.scope_id.in_(list(instrument_ids)))
    found: dict[int, list[User]] = defaultdict(list)
    for scope_id, user in db.session.execute(query):
        found[scope_id].append(user)
    return dict(found)


def instrument_scope_choices() -> list[tuple[int, str]]:
    """(instrument id, "CODE — name") for the role picker's scope of instrument_scientist.

    The accounts domain cannot import facility: `app.facility.views.init_app` registers this
    with `app.accounts.scopes` for the "instrument" kind of scope.
    """
    return [(i.id, f"{i.code} — {i.name}") for i in list_instruments(active_only=True)]


def instrument_scope_label(instrument_id: int) -> str | None:
    """ "CODE — name" of an instrument, or None when there is no such instrument (role scopes)."""
    instrument = db.session.get(Instrument, instrument_id)
    return None if instrument is None else f"{instrument.code} — {instrument.name}"


# --- cycles --------------------------------------------------------------------------------


def list_cycles() -> list[Cycle]:
    return list(db.session.scalars(select(Cycle).order_by(Cycle.starts_on.desc())))


def get_cycle(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("cycle_not_found")
    return cycle


def get_cycle_by_name(name: str) -> Cycle:
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == name))
    if cycle is None:
        raise NotFound("cycle_not_found")
    return cycle


def any_cycle_exists() -> bool:
    return db.session.scalar(select(Cycle.id).limit(1)) is not None


def cycle_state(cycle: Cycle, today: date) -> str:
    """ "past", "running" or "upcoming" relative to `today` (a facility-local date)."""
    if cycle.ends_on < today:
        return "past"
    if cycle.starts_on > today:
        return "upcoming"
    return "running"


def list_operating_modes(*, active_only: bool = False) -> list[OperatingMode]:
    query = select(OperatingMode).order_by(OperatingMode.name)
    if active_only:
        query = query.where(OperatingMode.active.is_(True))
    return list(db.session.scalars(query))


def get_operating_mode(mode_id: int) -> OperatingMode:
    mode = db.session.get(OperatingMode, mode_id)
    if mode is None:
        raise NotFound("operating_mode_not_found")
    return mode


def list_downtimes(cycle_id: int) -> list[Downtime]:
    return list(db.session.scalars(select(Downtime).where(Downtime.cycle_id == cycle_id).order_by(Downtime.starts_at)))


def list_mode_periods(cycle_id: int) -> list[ModePeriod]:
    return list(
        db.session.scalars(select(ModePeriod).where(ModePeriod.cycle_id == cycle_id).order_by(ModePeriod.starts_at))
    )


def list_bookings(cycle_id: int, *, kinds: Sequence[BookingKind] | None = None) -> list[Booking]:
    query = (
        select(Booking)
        .where(Booking.cycle_id == cycle_id, Booking.status != BookingStatus.CANCELLED)
        .order_by(Booking.instrument_id, Booking.starts_at)
    )
    if kinds is not None:
        query = query.where(Booking.kind.in_(list(kinds)))
    return list(db.session.scalars(query))


def overlapping_booking(instrument_id: int, starts_at: datetime, ends_at: datetime) -> Booking | None:
    """A live booking of the instrument overlapping [starts_at, ends_at), if any."""
    return db.session.scalar(
        select(Booking)
        .where(
            Booking.instrument_id == instrument_id,
            Booking.status != BookingStatus.CANCELLED,
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
        .order_by(Booking.starts_at)
        .limit(1)
    )


# --- the calendar as a month grid ----------------------------------------------------------


@dataclass
class CalendarCell:
    kinds: list[str] = field(default_factory=list)  # CSS-friendly kinds, first one wins the colour
    labels: list[str] = field(default_factory=list)

    @property
    def css(self) -> str:
        return f"cal-{self.kinds[0]}" if self.kinds else ""


@dataclass
class CalendarRow:
    label: str
    cells: list[CalendarCell]
    is_facility: bool = False


@dataclass
class CalendarMonth:
    title: date  # the first of the month
    days: list[date]
    rows: list[CalendarRow]


def _days_touched(g: Grid, starts_at: datetime, ends_at: datetime) -> list[date]:
    """Facility-local days whose shifts overlap [starts_at, ends_at)."""
    first = starts_at.astimezone(g.tz).date() - timedelta(days=1)
    last = ends_at.astimezone(g.tz).date() + timedelta(days=1)
    days = []
    day = first
    while day <= last:
        day_start, day_end = shifts.span(day, day, g.pattern, g.tz)
        if day_start < ends_at and day_end > starts_at:
            days.append(day)
        day += timedelta(days=1)
    return days


def calendar_months(
    cycle: Cycle,
    g: Grid,
    instruments: Sequence[Instrument],
    downtimes: Sequence[Downtime],
    periods: Sequence[ModePeriod],
    bookings: Sequence[Booking],
    *,
    facility_label: str,
    mode_label: str,
) -> list[CalendarMonth]:
    """One table per month: a row for facility downtime, one for the operating mode, one per instrument."""
    marks: dict[str, dict[date, CalendarCell]] = defaultdict(lambda: defaultdict(CalendarCell))

    def mark(row_key: str, kind: str, label: str, starts_at: datetime, ends_at: datetime) -> None:
        for day in _days_touched(g, starts_at, ends_at):
            cell = marks[row_key][day]
            cell.kinds.append(kind)
            cell.labels.append(label)

    for d in downtimes:
        mark("facility", d.kind.value.replace("_", "-"), d.title or d.kind.value, d.starts_at, d.ends_at)
    for p in periods:
        mark("mode", f"mode-{p.mode_id % 6}", p.mode.name, p.starts_at, p.ends_at)
    for b in bookings:
        mark(f"i{b.instrument_id}", b.kind.value.replace("_", "-"), b.title or b.kind.value, b.starts_at, b.ends_at)

    rows_spec = [("facility", facility_label, True), ("mode", mode_label, True)]
    rows_spec += [(f"i{i.id}", i.code, False) for i in instruments]
    months: list[CalendarMonth] = []
    day = cycle.starts_on
    while day <= cycle.ends_on:
        month_days = []
        current = day
        while current <= cycle.ends_on and current.month == day.month:
            month_days.append(current)
            current += timedelta(days=1)
        rows = [
            CalendarRow(label, [marks[key].get(d, CalendarCell()) for d in month_days], is_facility)
            for key, label, is_facility in rows_spec
        ]
        months.append(CalendarMonth(day.replace(day=1), month_days, rows))
        day = current
    return months


# --- capacity ------------------------------------------------------------------------------


def partitions() -> capacity_math.Partitions:
    return capacity_math.Partitions(
        in_house=Decimal(str(settings.get(IN_HOUSE_PCT.key))),
        rapid_access=Decimal(str(settings.get(RAPID_ACCESS_PCT.key))),
        proprietary=Decimal(str(settings.get(PROPRIETARY_PCT.key))),
    )


def _intervals(rows) -> list[capacity_math.Interval]:
    return [capacity_math.Interval(r.starts_at, r.ends_at) for r in rows]


def capacity_table(
    cycle: Cycle, *, instruments: Sequence[Instrument] | None = None
) -> list[tuple[Instrument, capacity_math.Capacity]]:
    """The capacity of every active instrument (or of `instruments`) in `cycle`."""
    g = grid()
    instruments = list(instruments) if instruments is not None else list_instruments(active_only=True)
    cycle_shifts = g.shifts(cycle)
    downtime = _intervals(list_downtimes(cycle.id))
    maintenance: dict[int, list[capacity_math.Interval]] = defaultdict(list)
    for booking in list_bookings(cycle.id, kinds=[BookingKind.MAINTENANCE]):
        maintenance[booking.instrument_id].append(capacity_math.Interval(booking.starts_at, booking.ends_at))
    commitments = dict(
        db.session.execute(
            select(CapacityCommitment.instrument_id, func.sum(CapacityCommitment.shifts))
            .where(CapacityCommitment.cycle_name == cycle.name)
            .group_by(CapacityCommitment.instrument_id)
        ).all()
    )
    overrides = {
        o.instrument_id: o
        for o in db.session.scalars(select(CapacityOverride).where(CapacityOverride.cycle_id == cycle.id))
    }
    shares = partitions()
    table = []
    for instrument in instruments:
        override = overrides.get(instrument.id)
        table.append(
            (
                instrument,
                capacity_math.compute(
                    cycle_shifts,
                    downtime=downtime,
                    maintenance=maintenance.get(instrument.id, []),
                    partitions=shares,
                    commitments=int(commitments.get(instrument.id) or 0),
                    override=override.shifts if override else None,
                    override_reason=override.reason if override else None,
                ),
            )
        )
    return table


def instrument_capacity(cycle: Cycle, instrument: Instrument) -> capacity_math.Capacity:
    """The one number calls, allocation and scheduling read (see `Capacity.value`)."""
    return capacity_table(cycle, instruments=[instrument])[0][1]
