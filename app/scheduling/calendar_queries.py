"""Reads behind the calendars, the iCal feeds and the schedule API: what occupies instruments
over a range of time, and who may see which of it.

Visibility (one rule, used by pages, feeds and the API):
- experiments `published`, `running` and `completed` are seen by every logged-in person;
  `planned` ones (the solver's draft) only by staff (user office, admin), directors and the
  scientists of that instrument; `cancelled` ones free the slot and are not drawn (feeds send
  them as STATUS:CANCELLED once they had been published);
- an experiment's reference and title are shown to everyone, except for a proprietary
  (confidential) proposal, whose details only its own people (team, local contact) and those
  who may see drafts see — to others it is "Proprietary experiment";
- blocks (maintenance, in-house research, rapid-access slots), mode periods and shutdowns are
  facility information: everyone logged in sees them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.core.errors import NotFound
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus, Cycle, Downtime, Instrument, ModePeriod
from app.proposals.models import AccessRoute, Proposal, ProposalMember
from app.reviews.models import Award
from app.scheduling import permissions
from app.scheduling.models import Experiment

#: statuses every logged-in person sees
PUBLIC_STATUSES = (BookingStatus.PUBLISHED, BookingStatus.RUNNING, BookingStatus.COMPLETED)
#: statuses of an experiment that is (or is about to be) on the instrument
ON_INSTRUMENT = (BookingStatus.PUBLISHED, BookingStatus.RUNNING)
#: the longest range one request may ask for (pages and API): a long cycle and some margin
MAX_RANGE = timedelta(days=190)

_CSS = {
    BookingKind.EXPERIMENT: "experiment",
    BookingKind.MAINTENANCE: "maintenance",
    BookingKind.IN_HOUSE: "in-house",
    BookingKind.RAPID_ACCESS: "rapid-access",
}


@dataclass(frozen=True)
class Item:
    """One booking as a person may see it."""

    booking: Booking
    experiment: Experiment | None = None
    proposal: Proposal | None = None
    #: reference and title may be shown to this reader
    details: bool = True

    @property
    def starts_at(self) -> datetime:
        return self.booking.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.booking.ends_at

    @property
    def kind(self) -> str:
        return self.booking.kind.value

    @property
    def css(self) -> str:
        return _CSS[self.booking.kind]

    @property
    def status(self) -> str:
        return self.booking.status.value

    @property
    def is_planned(self) -> bool:
        return self.booking.status == BookingStatus.PLANNED

    @property
    def reference(self) -> str | None:
        return self.proposal.reference if self.proposal is not None and self.details else None

    @property
    def title(self) -> str:
        if self.proposal is not None:
            return self.proposal.title if self.details else ""
        return self.booking.title

    @property
    def local_contact(self) -> User | None:
        return self.experiment.local_contact if self.experiment is not None and self.details else None


@dataclass(frozen=True)
class Span:
    """A mode period or a downtime over [starts_at, ends_at)."""

    starts_at: datetime
    ends_at: datetime
    label: str
    css: str


@dataclass
class Timeline:
    start: datetime
    end: datetime
    instruments: list[Instrument]
    items: dict[int, list[Item]] = field(default_factory=dict)  # instrument id → items
    modes: list[Span] = field(default_factory=list)
    downtimes: list[Span] = field(default_factory=list)


# --- ranges --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    view: str  # week | month | cycle
    start: datetime
    end: datetime
    first_day: date
    last_day: date  # included
    previous: date | None = None
    next: date | None = None
    cycle: Cycle | None = None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant `day` begins in `tz`, in UTC (arithmetic on one zone's aware datetimes
    ignores daylight-saving changes; on UTC ones it does not)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def view_range(view: str, day: date, tz: ZoneInfo, *, cycle: Cycle | None = None) -> Range:
    """The week (Monday to Sunday) or the month around `day`, or the cycle, as instants."""
    if view == "cycle" and cycle is not None:
        first, last = cycle.starts_on, cycle.ends_on
        return Range(
            "cycle", local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz), first, last, cycle=cycle
        )
    if view == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        return Range(
            "month",
            local_midnight(first, tz),
            local_midnight(following, tz),
            first,
            following - timedelta(days=1),
            previous,
            following,
        )
    first = day - timedelta(days=day.weekday())
    return Range(
        "week",
        local_midnight(first, tz),
        local_midnight(first + timedelta(days=7), tz),
        first,
        first + timedelta(days=6),
        first - timedelta(days=7),
        first + timedelta(days=7),
    )


def cycle_at(day: date) -> Cycle | None:
    """The cycle containing `day`, else the next one to start, else the last one."""
    cycles = facility_queries.list_cycles()
    for c in cycles:
        if c.starts_on <= day <= c.ends_on:
            return c
    upcoming = [c for c in cycles if c.starts_on > day]
    if upcoming:
        return min(upcoming, key=lambda c: c.starts_on)
    return cycles[0] if cycles else None


# --- who sees what -------------------------------------------------------------------------


def _person_id(actor: Any) -> int | None:
    return getattr(actor, "id", None) if getattr(actor, "is_authenticated", False) else None


def _own_proposal_ids(actor: Any, proposal_ids: Iterable[int]) -> set[int]:
    person = _person_id(actor)
    ids = set(proposal_ids)
    if person is None or not ids:
        return set()
    return set(
        db.session.scalars(
            select(ProposalMember.proposal_id).where(
                ProposalMember.user_id == person, ProposalMember.proposal_id.in_(ids)
            )
        )
    )


def _items(
    rows: Sequence[tuple[Booking, Experiment | None]], actor: Any, *, keep_cancelled: bool = False
) -> list[Item]:
    """Rows the actor may see, as items with the details they may read."""
    planned_ok: dict[int, bool] = {}
    proposals = [e.award.proposal for _b, e in rows if e is not None]
    own = _own_proposal_ids(actor, (p.id for p in proposals))
    person = _person_id(actor)
    out: list[Item] = []
    for booking, experiment in rows:
        if booking.status == BookingStatus.CANCELLED and not keep_cancelled:
            continue
        if booking.kind != BookingKind.EXPERIMENT or experiment is None:
            if booking.kind == BookingKind.EXPERIMENT:
                continue  # an experiment booking without its row: nothing to say about it
            out.append(Item(booking))
            continue
        if booking.instrument_id not in planned_ok:
            planned_ok[booking.instrument_id] = permissions.can_view_planned(actor, booking.instrument)
        privileged = planned_ok[booking.instrument_id]
        if booking.status == BookingStatus.PLANNED and not privileged:
            continue
        proposal = experiment.award.proposal
        mine = proposal.id in own or (person is not None and experiment.local_contact_id == person)
        confidential = proposal.call.route == AccessRoute.PROPRIETARY
        out.append(Item(booking, experiment, proposal, details=privileged or mine or not confidential))
    return out


def _booking_rows(
    *,
    instrument_ids: Sequence[int] | None,
    start: datetime,
    end: datetime | None,
    include_cancelled: bool = False,
    kinds: Sequence[BookingKind] | None = None,
    statuses: Sequence[BookingStatus] | None = None,
) -> list[tuple[Booking, Experiment | None]]:
    query = (
        select(Booking, Experiment)
        .outerjoin(Experiment, Experiment.booking_id == Booking.id)
        .where(Booking.ends_at > start)
        .order_by(Booking.starts_at, Booking.id)
        .options(
            selectinload(Experiment.award).selectinload(Award.proposal),
            selectinload(Experiment.local_contact),
        )
    )
    if end is not None:
        query = query.where(Booking.starts_at < end)
    if instrument_ids is not None:
        query = query.where(Booking.instrument_id.in_(list(instrument_ids)))
    if not include_cancelled:
        query = query.where(Booking.status != BookingStatus.CANCELLED)
    if kinds is not None:
        query = query.where(Booking.kind.in_(list(kinds)))
    if statuses is not None:
        query = query.where(Booking.status.in_(list(statuses)))
    return [(b, e) for b, e in db.session.execute(query).all()]


def _spans(start: datetime, end: datetime) -> tuple[list[Span], list[Span]]:
    periods = db.session.scalars(
        select(ModePeriod).where(ModePeriod.starts_at < end, ModePeriod.ends_at > start).order_by(ModePeriod.starts_at)
    )
    # a mode keeps its colour in every view and period (by its id, not by order of appearance)
    modes = [Span(p.starts_at, p.ends_at, p.mode.name, f"mode-{p.mode_id % 6}") for p in periods]
    downtimes = [
        Span(d.starts_at, d.ends_at, d.title or d.kind.value, d.kind.value.replace("_", "-"))
        for d in db.session.scalars(
            select(Downtime).where(Downtime.starts_at < end, Downtime.ends_at > start).order_by(Downtime.starts_at)
        )
    ]
    return modes, downtimes


def timeline(instruments: Sequence[Instrument], start: datetime, end: datetime, *, actor: Any) -> Timeline:
    """What occupies `instruments` over [start, end), as `actor` may see it, with the mode
    periods and downtimes (facility-wide) of that time."""
    out = Timeline(start, end, list(instruments))
    out.items = {i.id: [] for i in instruments}
    for item in _items(_booking_rows(instrument_ids=[i.id for i in instruments], start=start, end=end), actor):
        out.items[item.booking.instrument_id].append(item)
    out.modes, out.downtimes = _spans(start, end)
    return out


def get_instrument_by_code(code: str) -> Instrument:
    """Raises: NotFound (no instrument with that code)."""
    instrument = db.session.scalar(select(Instrument).where(Instrument.code == code))
    if instrument is None:
        raise NotFound("instrument_not_found")
    return instrument


def schedule(instrument: Instrument, start: datetime, end: datetime, *, actor: Any) -> list[Item]:
    """The instrument's bookings over [start, end) as `actor` may see them (the API's schedule)."""
    return timeline([instrument], start, end, actor=actor).items[instrument.id]


# --- people --------------------------------------------------------------------------------


def _experiment_rows_of(user_id: int, *, statuses: Sequence[BookingStatus] | None) -> list[tuple[Booking, Experiment]]:
    team = select(ProposalMember.proposal_id).where(ProposalMember.user_id == user_id)
    query = (
        select(Booking, Experiment)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .join(Award, Award.id == Experiment.award_id)
        .where(or_(Award.proposal_id.in_(team), Experiment.local_contact_id == user_id))
        .order_by(Booking.starts_at, Booking.id)
        .options(
            selectinload(Experiment.award).selectinload(Award.proposal),
            selectinload(Experiment.local_contact),
        )
    )
    if statuses is not None:
        query = query.where(Booking.status.in_(list(statuses)))
    return [(b, e) for b, e in db.session.execute(query).all()]


@dataclass(frozen=True)
class MyExperiment:
    item: Item
    role: str  # "team" | "local_contact"


def my_experiments(actor: Any, *, since: datetime | None = None) -> list[MyExperiment]:
    """The experiments of `actor`'s proposals (published and later) and those they support as
    local contact (drafts too where they may see drafts), oldest first; `since`: ending after."""
    person = _person_id(actor)
    if person is None:
        return []
    rows = _experiment_rows_of(person, statuses=None)
    if since is not None:
        rows = [(b, e) for b, e in rows if b.ends_at > since]
    out = []
    for item in _items(rows, actor):
        role = "local_contact" if item.experiment.local_contact_id == person else "team"
        out.append(MyExperiment(item, role))
    return out


# --- now -----------------------------------------------------------------------------------


def running_now(now: datetime, *, actor: Any) -> list[tuple[Instrument, Item | None]]:
    """Every active instrument with what occupies it at `now` (an experiment, a block), or None."""
    instruments = facility_queries.list_instruments(active_only=True)
    tl = timeline(instruments, now, now + timedelta(microseconds=1), actor=actor)
    out: list[tuple[Instrument, Item | None]] = []
    for instrument in instruments:
        here = [i for i in tl.items[instrument.id] if i.starts_at <= now < i.ends_at]
        here.sort(key=lambda i: (i.is_planned, i.booking.kind != BookingKind.EXPERIMENT))
        out.append((instrument, here[0] if here else None))
    return out


def current_experiment(instrument: Instrument, now: datetime) -> Experiment | None:
    """The published or running experiment on `instrument` whose [starts_at, ends_at) holds `now`."""
    return db.session.scalar(
        select(Experiment)
        .join(Booking, Booking.id == Experiment.booking_id)
        .where(
            Booking.instrument_id == instrument.id,
            Booking.kind == BookingKind.EXPERIMENT,
            Booking.status.in_(list(ON_INSTRUMENT)),
            Booking.starts_at <= now,
            Booking.ends_at > now,
        )
        .options(
            selectinload(Experiment.award).selectinload(Award.proposal).selectinload(Proposal.members),
            joinedload(Experiment.local_contact),
        )
    )


def experiment_sessions(award_id: int) -> list[Booking]:
    """Every session (not cancelled) of one award: the dates of the whole experiment."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(Experiment.award_id == award_id, Booking.status != BookingStatus.CANCELLED)
            .order_by(Booking.starts_at)
        )
    )


# --- feeds ---------------------------------------------------------------------------------


#: how far back a feed goes: calendars keep what they had; a feed need not resend years
FEED_HISTORY = timedelta(days=400)


def feed_rows_of_user(user_id: int, *, now: datetime) -> list[tuple[Booking, Experiment]]:
    """A person's experiments (team member or local contact) that have been published —
    cancelled ones included, so calendars remove them — ending after `now` − FEED_HISTORY."""
    since = now - FEED_HISTORY
    return [
        (b, e) for b, e in _experiment_rows_of(user_id, statuses=None) if b.ends_at > since and _published_once(b, e)
    ]


def feed_rows_of_instrument(instrument_id: int, *, now: datetime) -> list[tuple[Booking, Experiment | None]]:
    """An instrument's published experiments (cancelled ones too, once published) and its
    blocks, ending after `now` − FEED_HISTORY."""
    rows = _booking_rows(instrument_ids=[instrument_id], start=now - FEED_HISTORY, end=None, include_cancelled=True)
    out = []
    for b, e in rows:
        if b.kind == BookingKind.EXPERIMENT:
            if _published_once(b, e):
                out.append((b, e))
        elif b.status != BookingStatus.CANCELLED:
            out.append((b, e))
    return out


def feed_items(rows: Sequence[tuple[Booking, Experiment | None]], owner: Any) -> list[Item]:
    """Feed rows as items, with the details the feed's owner may read."""
    return _items(rows, owner, keep_cancelled=True)


def _published_once(booking: Booking, experiment: Experiment | None) -> bool:
    if experiment is None:
        return False
    if booking.status in PUBLIC_STATUSES:
        return True
    return booking.status == BookingStatus.CANCELLED and experiment.published_at is not None


def team_of(proposal: Proposal) -> list[ProposalMember]:
    return sorted(proposal.members, key=lambda m: (m.role.value != "pi", m.user.name))


def group_by_instrument(items: Iterable[Item]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        out[item.booking.instrument_id].append(item)
    return out
