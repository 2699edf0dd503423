"""Reads of the scheduling domain: free windows of an instrument's calendar."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import selectinload

from app.core.errors import NotFound
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus, Cycle, Instrument
from app.proposals.models import Call
from app.reviews.models import Award, Decision, PanelDecision
from app.scheduling import permissions
from app.scheduling.calendar import CycleGrid, booking_indices, free_runs, shutdown_indices
from app.scheduling.models import DEFAULT_MAX_SESSIONS, AwardSchedule, Experiment, ScheduleDraft


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


def get_award_for_booking(award_id: int, actor: Any) -> Award:
    """An award its PI (or staff) may book sessions of. Raises: NotFound (also someone else's)."""
    award = db.session.get(Award, award_id)
    if award is None or award.withdrawn_at is not None or not permissions.can_book_rapid_access(actor, award):
        raise NotFound("award_not_found")
    if not permissions.can_book_blocks(actor) and not _released(award):
        raise NotFound("award_not_found")  # the PI learns of an award with the released decision
    return award


def _released(award: Award) -> bool:
    decision = db.session.get(Decision, award.proposal_id)
    return decision is not None and decision.released_at is not None


def rapid_slots(cycle: Cycle, instrument: Instrument, *, now: datetime) -> list[Booking]:
    """The rapid-access slots of `instrument` in `cycle` that have not ended."""
    return [
        b
        for b in facility_queries.list_bookings(cycle.id, kinds=[BookingKind.RAPID_ACCESS])
        if b.instrument_id == instrument.id and b.ends_at > now
    ]


def award_sessions(award_id: int) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(Experiment.award_id == award_id, Booking.status != BookingStatus.CANCELLED)
            .order_by(Booking.starts_at)
        )
    )


@dataclass(frozen=True)
class AwardRow:
    award: Award
    grade: float | None
    max_sessions: int
    sessions: list[Booking]


def cycle_awards(cycle: Cycle) -> list[AwardRow]:
    """The awards of the cycle's calls (not withdrawn) with grade, max sessions and sessions booked."""
    awards = list(
        db.session.scalars(
            select(Award)
            .join(Call, Call.id == Award.call_id)
            .where(Call.cycle_id == cycle.id, Award.withdrawn_at.is_(None))
            .order_by(Award.instrument_id, Award.id)
            .options(selectinload(Award.proposal), selectinload(Award.local_contact))
        )
    )
    ids = [a.id for a in awards]
    grades = dict(
        db.session.execute(
            select(PanelDecision.proposal_id, PanelDecision.final_grade).where(
                PanelDecision.proposal_id.in_({a.proposal_id for a in awards})
            )
        ).all()
    )
    limits = dict(
        db.session.execute(
            select(AwardSchedule.award_id, AwardSchedule.max_sessions).where(AwardSchedule.award_id.in_(ids))
        ).all()
    )
    sessions: dict[int, list[Booking]] = {a.id: [] for a in awards}
    for award_id, booking in db.session.execute(
        select(Experiment.award_id, Booking)
        .join(Booking, Booking.id == Experiment.booking_id)
        .where(Experiment.award_id.in_(ids), Booking.status != BookingStatus.CANCELLED)
        .order_by(Booking.starts_at)
    ):
        sessions[award_id].append(booking)
    return [
        AwardRow(a, grades.get(a.proposal_id), limits.get(a.id, DEFAULT_MAX_SESSIONS), sessions[a.id]) for a in awards
    ]


# --- the schedule workflow (issue 7): drafts, their comparison, the timeline -------------


def list_drafts(cycle_id: int) -> list[ScheduleDraft]:
    return list(
        db.session.scalars(
            select(ScheduleDraft).where(ScheduleDraft.cycle_id == cycle_id).order_by(ScheduleDraft.number.desc())
        )
    )


def get_draft(draft_id: int) -> ScheduleDraft:
    """Raises: NotFound."""
    draft = db.session.get(ScheduleDraft, draft_id)
    if draft is None:
        raise NotFound("draft_not_found")
    return draft


def applied_draft(cycle_id: int) -> ScheduleDraft | None:
    return db.session.scalar(
        select(ScheduleDraft).where(ScheduleDraft.cycle_id == cycle_id, ScheduleDraft.applied.is_(True))
    )


@dataclass(frozen=True)
class DraftChange:
    """One award whose sessions differ between two drafts."""

    award_id: int
    reference: str
    instrument: str
    change: str  # "moved", "added" (only in the second), "removed" (only in the first)
    before: list[tuple[datetime, datetime]]
    after: list[tuple[datetime, datetime]]


@dataclass(frozen=True)
class DraftComparison:
    first: ScheduleDraft
    second: ScheduleDraft
    objective: tuple[int, int]
    rows: list[DraftChange]
    unchanged: int
    unplaced_first_only: list[dict]
    unplaced_second_only: list[dict]
    unplaced_both: list[tuple[dict, dict]]


def _sessions_by_award(draft: ScheduleDraft) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for s in draft.sessions:
        row = out.setdefault(s["award_id"], {"reference": s["reference"], "instrument": s["instrument"], "times": []})
        row["times"].append((datetime.fromisoformat(s["starts_at"]), datetime.fromisoformat(s["ends_at"])))
    for row in out.values():
        row["times"].sort()
    return out


def compare_drafts(first_id: int, second_id: int) -> DraftComparison:
    """What moved between two drafts of a cycle, their objectives, and their unplaced awards.

    Raises: NotFound (a draft, or drafts of different cycles).
    """
    first, second = get_draft(first_id), get_draft(second_id)
    if first.cycle_id != second.cycle_id:
        raise NotFound("draft_not_found")
    a, b = _sessions_by_award(first), _sessions_by_award(second)
    rows: list[DraftChange] = []
    unchanged = 0
    for award_id in sorted(set(a) | set(b), key=lambda k: (a.get(k) or b.get(k))["reference"]):
        x, y = a.get(award_id), b.get(award_id)
        if x is not None and y is not None and x["times"] == y["times"]:
            unchanged += 1
            continue
        info = x or y
        change = "moved" if x and y else ("added" if y else "removed")
        rows.append(
            DraftChange(
                award_id,
                info["reference"],
                info["instrument"],
                change,
                x["times"] if x else [],
                y["times"] if y else [],
            )
        )
    ua = {u["award_id"]: u for u in first.unplaced}
    ub = {u["award_id"]: u for u in second.unplaced}
    return DraftComparison(
        first,
        second,
        (first.objective, second.objective),
        rows,
        unchanged,
        [ua[k] for k in ua if k not in ub],
        [ub[k] for k in ub if k not in ua],
        [(ua[k], ub[k]) for k in ua if k in ub],
    )


@dataclass
class TimelineCell:
    """A run of shifts on one instrument: free, downtime, a block, or an experiment."""

    span: int
    booking: Booking | None = None
    experiment: Experiment | None = None
    pinned: bool = False
    downtime: bool = False


@dataclass
class TimelineRow:
    instrument: Instrument
    cells: list[TimelineCell]


@dataclass
class Timeline:
    cycle: Cycle
    cal: CycleGrid
    first: int
    end: int
    days: list[tuple[Any, int]]  # (facility-local day, shifts shown that day)
    rows: list[TimelineRow]
    experiments: list[tuple[Booking, Experiment, bool]]  # in view, by start (the phone list)

    @property
    def start_day(self):
        return self.cal.shifts[self.first].day if self.end > self.first else self.cycle.starts_on


def timeline(cycle: Cycle, *, start=None, days: int = 14) -> Timeline:
    """Instruments × shifts of `days` days from `start` (default: the cycle's first day)."""
    from collections import Counter

    from app.scheduling.calendar import downtime_indices
    from app.scheduling.models import ExperimentPin

    cal = CycleGrid.of(cycle)
    first = 0
    if start is not None:
        first = next((i for i, s in enumerate(cal.shifts) if s.day >= start), len(cal))
    first = min(first, max(0, len(cal) - 1))
    last_day = cal.shifts[first].day if len(cal) else cycle.starts_on
    end = first
    shown: Counter = Counter()
    while end < len(cal) and (cal.shifts[end].day - last_day).days < days:
        shown[cal.shifts[end].day] += 1
        end += 1
    bookings = facility_queries.list_bookings(cycle.id)
    experiments = {
        e.booking_id: e
        for e in db.session.scalars(
            select(Experiment)
            .where(Experiment.booking_id.in_([b.id for b in bookings if b.kind == BookingKind.EXPERIMENT]))
            .options(selectinload(Experiment.award).selectinload(Award.proposal))
        )
    }
    pinned = set(
        db.session.scalars(select(ExperimentPin.booking_id).where(ExperimentPin.booking_id.in_(list(experiments))))
    )
    down = downtime_indices(cal, facility_queries.list_downtimes(cycle.id))
    instruments = {i.id: i for i in facility_queries.list_instruments(active_only=True)}
    for b in bookings:
        instruments.setdefault(b.instrument_id, b.instrument)
    at: dict[int, dict[int, Booking]] = {i: {} for i in instruments}
    for b in bookings:
        for i in cal.covering(b.starts_at, b.ends_at):
            if first <= i < end:
                at[b.instrument_id][i] = b
    rows = []
    for inst in sorted(instruments.values(), key=lambda i: i.code):
        cells: list[TimelineCell] = []
        for i in range(first, end):
            b = at[inst.id].get(i)
            key = ("b", b.id) if b is not None else ("d",) if i in down else ("f",)
            if cells and getattr(cells[-1], "_key", None) == key:
                cells[-1].span += 1
                continue
            cell = TimelineCell(
                1,
                booking=b,
                experiment=experiments.get(b.id) if b is not None else None,
                pinned=b is not None and b.id in pinned,
                downtime=b is None and i in down,
            )
            cell._key = key  # type: ignore[attr-defined]
            cells.append(cell)
        rows.append(TimelineRow(inst, cells))
    listed = sorted(
        (
            (b, experiments[b.id], b.id in pinned)
            for b in bookings
            if b.id in experiments
            and b.ends_at > cal.starts_at(first)
            and (end >= len(cal) or b.starts_at < cal.starts_at(end))
        ),
        key=lambda t: (t[0].starts_at, t[0].instrument.code),
    )
    return Timeline(cycle, cal, first, end, sorted(shown.items()), rows, listed)


def experiment_detail(booking_id: int) -> tuple[Booking, Experiment, bool]:
    """Raises: NotFound."""
    from app.scheduling.models import ExperimentPin

    experiment = db.session.get(Experiment, booking_id)
    if experiment is None:
        raise NotFound("experiment_not_found")
    return experiment.booking, experiment, db.session.get(ExperimentPin, booking_id) is not None


def swap_candidates(booking: Booking) -> list[tuple[Booking, Experiment]]:
    return [
        (b, e)
        for b, e in db.session.execute(
            select(Booking, Experiment)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(
                Booking.cycle_id == booking.cycle_id,
                Booking.instrument_id == booking.instrument_id,
                Booking.id != booking.id,
                Booking.status.in_([BookingStatus.PLANNED, BookingStatus.PUBLISHED]),
            )
            .order_by(Booking.starts_at)
        ).tuples()
    ]


@functools.cache
def _published_sessions_of_proposal() -> Select:
    return (
        select(Booking)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .join(Award, Award.id == Experiment.award_id)
        .where(
            Award.proposal_id == bindparam("proposal_id", type_=Integer),
            Booking.status.in_([BookingStatus.PUBLISHED, BookingStatus.RUNNING, BookingStatus.COMPLETED]),
        )
        .order_by(Booking.starts_at)
    )


def has_published_sessions(proposal_id):
    """Whether the proposal has experiments its team may see, as an EXISTS correlated on
    `proposal_id` (a column): the proposal page's fact (`proposals.queries.add_page_fact`), so
    that a proposal with none (most of them) runs no statement for its beamtime notice."""
    return (
        select(Booking.id)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .join(Award, Award.id == Experiment.award_id)
        .where(
            Award.proposal_id == proposal_id,
            Booking.status.in_([BookingStatus.PUBLISHED, BookingStatus.RUNNING, BookingStatus.COMPLETED]),
        )
        .exists()
    )


def published_sessions_of_proposal(proposal_id: int) -> list[Booking]:
    """The proposal's experiments its team may see: published, running, completed (the
    proposal page asks on every view: the statement is built once per process)."""
    return list(db.session.scalars(_published_sessions_of_proposal(), {"proposal_id": proposal_id}))


def schedulable_awards(cycle: Cycle) -> list[Award]:
    """Awards of the cycle that may get sessions by hand (not withdrawn)."""
    return [row.award for row in cycle_awards(cycle)]


def count_planned(cycle_id: int) -> int:
    """The cycle's planned experiments (what publishing would publish)."""
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.cycle_id == cycle_id,
            Booking.kind == BookingKind.EXPERIMENT,
            Booking.status == BookingStatus.PLANNED,
        )
    )
