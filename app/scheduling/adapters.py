"""The only bridge between the database and the pure solver (STYLE.md: the solver).

`build_problem(cycle)` reads a cycle's awards, calendar and bookings into a solver `Problem`
on the cycle's shift indices (app/scheduling/calendar.py maps indices ↔ instants);
`store_solution(built, solution)` writes a `Solution` as planned experiments, replacing the
previous draft's planned ones and keeping everything else (pins) — in one transaction.

What goes in:
- awards of the cycle's calls (rapid access excepted: those PIs book their own slots) that are
  not withdrawn, of proposals accepted or scheduled with an accepted decision; score = the
  panel's final grade (0 without one); required mode = the request's operating mode; max
  sessions = staff's AwardSchedule (default 1); min session = the instrument's;
- long-term awards of EARLIER cycles that committed shifts on this one (the allocation's
  `CapacityCommitment` rows for this cycle's name): the committed shifts, as an award of its own
  with the earlier award's team, dates, score and local contact — its sessions here are
  experiments of that award;
- the team's unacceptable dates (hard) and preferred dates (soft), as shift indices of those
  facility-local days; the award's local contact and the proposal's PI (as "u<user id>", one
  space: a person is never in two sessions at once, whatever the role);
- per instrument: its blocks (maintenance, in-house, rapid-access slots) as unavailable, its
  start shifts and weekdays (an empty or full list = any), changeover, minimum session;
- facility-wide shutdowns and machine days as downtime; the mode of every shift from the mode
  periods (no period at all = unknown, as the solver reads an empty tuple);
- experiments that stay (published, running, completed — rapid-access sessions are published
  at booking) as pins, and the planned experiments staff pinned (`ExperimentPin`); the other
  planned experiments are the draft the new solution replaces.

`evaluate(built, sessions)` scores sessions with the solver's own objective (the drafts of the
web workflow compare by it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.core import audit
from app.core.db import utcnow
from app.core.errors import Conflict
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus, CapacityCommitment, Cycle, Instrument
from app.facility.services import is_exclusion_violation
from app.proposals.models import AccessRoute, Call, DateKind, Proposal
from app.proposals.status import ProposalStatus
from app.reviews.models import Award, Decision, Outcome, PanelDecision
from app.scheduling import solver
from app.scheduling.calendar import CycleGrid, downtime_indices
from app.scheduling.models import DEFAULT_MAX_SESSIONS, AwardSchedule, Experiment, ExperimentPin
from app.scheduling.solver.grid import Grid, objective

SCHEDULABLE = (ProposalStatus.ACCEPTED, ProposalStatus.SCHEDULED)
STAYING = (BookingStatus.PUBLISHED, BookingStatus.RUNNING, BookingStatus.COMPLETED)


def person_key(user_id: int | None) -> str | None:
    return None if user_id is None else f"u{user_id}"


def award_key(award: Award) -> str:
    return f"{award.proposal.reference or f'P{award.proposal_id}'}/{award.instrument.code}#{award.id}"


@dataclass
class Built:
    """A Problem and what is needed to read its answer back into rows."""

    cycle: Cycle
    cal: CycleGrid
    problem: solver.Problem
    awards: dict[str, Award] = field(default_factory=dict)  # award key → row
    award_shifts: dict[str, int] = field(default_factory=dict)  # award key → shifts to place in this cycle
    instruments: dict[str, Instrument] = field(default_factory=dict)  # instrument key (code) → row
    people: dict[str, str] = field(default_factory=dict)  # person key → name


def _indices_of_days(by_day: dict[date, list[int]], first: date, last: date) -> set[int]:
    out: set[int] = set()
    day = first
    while day <= last:
        out.update(by_day.get(day, ()))
        day += timedelta(days=1)
    return out


def _allowed(values: list[int] | None, size: int) -> frozenset[int] | None:
    """None (= any) for an empty list or one that allows everything."""
    chosen = frozenset(values or ())
    return None if not chosen or chosen >= frozenset(range(size)) else chosen


def _awards(cycle: Cycle) -> list[Award]:
    return list(
        db.session.scalars(
            select(Award)
            .join(Proposal, Proposal.id == Award.proposal_id)
            .join(Call, Call.id == Award.call_id)
            .join(Decision, Decision.proposal_id == Award.proposal_id)
            .where(
                Call.cycle_id == cycle.id,
                Call.route != AccessRoute.RAPID_ACCESS,
                Award.withdrawn_at.is_(None),
                Proposal.status.in_(SCHEDULABLE),
                Decision.outcome == Outcome.ACCEPTED,
            )
            .order_by(Award.id)
            # one query per relation, not per award (thousands of awards in a large cycle)
            .options(
                selectinload(Award.proposal).selectinload(Proposal.members),
                selectinload(Award.proposal).selectinload(Proposal.dates),
                selectinload(Award.local_contact),
            )
        )
    )


def _commitment_source(source: str) -> tuple[int, str, str] | None:
    """(call id, proposal reference, instrument code) of an allocation's commitment source
    (`allocation <call id>: <reference>/<instrument code>`, app/reviews/services/decisions.py)."""
    head, sep, rest = source.partition(": ")
    if not sep or not head.startswith("allocation ") or "/" not in rest:
        return None
    try:
        call_id = int(head.removeprefix("allocation "))
    except ValueError:
        return None
    reference, _, code = rest.rpartition("/")
    return call_id, reference, code


def _committed_awards(cycle: Cycle) -> list[tuple[Award, int]]:
    """Long-term awards of earlier cycles with the shifts they committed on `cycle`."""
    wanted: dict[tuple[int, str, str], int] = defaultdict(int)
    for row in db.session.scalars(select(CapacityCommitment).where(CapacityCommitment.cycle_name == cycle.name)):
        parsed = _commitment_source(row.source)
        if parsed is not None:
            wanted[parsed] += row.shifts
    if not wanted:
        return []
    rows = db.session.scalars(
        select(Award)
        .join(Proposal, Proposal.id == Award.proposal_id)
        .join(Call, Call.id == Award.call_id)
        .join(Decision, Decision.proposal_id == Award.proposal_id)
        .where(
            Award.call_id.in_({call_id for call_id, _, _ in wanted}),
            Call.cycle_id != cycle.id,
            Award.long_term.is_(True),
            Award.withdrawn_at.is_(None),
            Proposal.status.in_(SCHEDULABLE),
            Decision.outcome == Outcome.ACCEPTED,
        )
        .order_by(Award.id)
        .options(
            selectinload(Award.proposal).selectinload(Proposal.members),
            selectinload(Award.proposal).selectinload(Proposal.dates),
            selectinload(Award.local_contact),
        )
    )
    out = []
    for award in rows:
        shifts = wanted.get((award.call_id, award.proposal.reference or "", award.instrument.code), 0)
        if shifts > 0:
            out.append((award, shifts))
    return out


def award_shifts_in(cycle: Cycle, award: Award) -> int:
    """The shifts `award` has to place in `cycle`: all of them in its own call's cycle, the
    committed ones in a later cycle of a long-term award, none elsewhere."""
    call = db.session.get(Call, award.call_id)
    if call is not None and call.cycle_id == cycle.id:
        return award.shifts
    return sum(shifts for a, shifts in _committed_awards(cycle) if a.id == award.id)


def build_problem(cycle: Cycle, *, weights: solver.Weights | None = None, pin_planned: bool = True) -> Built:
    """The solver's Problem for `cycle`, read from the database (see the module docstring).
    With `pin_planned=False` the pinned planned experiments are left out like the others (to
    score a whole draft with `evaluate`).

    Raises: InvalidState (facility not set up).
    """
    cal = CycleGrid.of(cycle)
    horizon = len(cal)
    spd = len(cal.grid.pattern)
    awards = _awards(cycle)
    committed = _committed_awards(cycle)
    shifts_here = {a.id: a.shifts for a in awards} | {a.id: shifts for a, shifts in committed}
    awards += [a for a, _ in committed if a.id not in {x.id for x in awards}]
    proposal_ids = {a.proposal_id for a in awards}
    grades = dict(
        db.session.execute(
            select(PanelDecision.proposal_id, PanelDecision.final_grade).where(
                PanelDecision.proposal_id.in_(proposal_ids)
            )
        ).all()
    )
    max_sessions = dict(
        db.session.execute(
            select(AwardSchedule.award_id, AwardSchedule.max_sessions).where(
                AwardSchedule.award_id.in_([a.id for a in awards])
            )
        ).all()
    )
    bookings = facility_queries.list_bookings(cycle.id)
    experiments = {
        e.booking_id: e
        for e in db.session.scalars(
            select(Experiment).where(
                Experiment.booking_id.in_([b.id for b in bookings if b.kind == BookingKind.EXPERIMENT])
            )
        )
    }
    pinned = pinned_ids(experiments) if pin_planned else set()
    instruments = {i.code: i for i in facility_queries.list_instruments(active_only=True)}
    for a in awards:
        instruments.setdefault(a.instrument.code, a.instrument)
    for b in bookings:
        instruments.setdefault(b.instrument.code, b.instrument)

    built = Built(cycle, cal, solver.Problem(horizon=max(horizon, 1), instruments=(), awards=()))
    built.instruments = instruments

    by_day: dict[date, list[int]] = defaultdict(list)
    for i, shift in enumerate(cal.shifts):
        by_day[shift.day].append(i)
    unavailable: dict[int, set[int]] = defaultdict(set)
    pins: list[solver.Pin] = []
    key_of_award: dict[int, str] = {}
    solver_awards: list[solver.Award] = []
    for award in awards:
        key = award_key(award)
        key_of_award[award.id] = key
        built.awards[key] = award
        built.award_shifts[key] = shifts_here[award.id]
        proposal = award.proposal
        pi = proposal.pi
        unacceptable: set[int] = set()
        preferred: set[int] = set()
        for d in proposal.dates:
            (unacceptable if d.kind == DateKind.UNACCEPTABLE else preferred).update(
                _indices_of_days(by_day, d.starts_on, d.ends_on)
            )
        mode = award.request.operating_mode
        for user in (pi.user if pi else None, award.local_contact):
            if user is not None:
                built.people[person_key(user.id)] = user.name
        solver_awards.append(
            solver.Award(
                key=key,
                instrument=award.instrument.code,
                shifts=shifts_here[award.id],
                score=float(grades.get(award.proposal_id) or 0.0),
                min_session=1,  # the instrument's minimum applies (the solver takes the larger)
                max_sessions=max_sessions.get(award.id, DEFAULT_MAX_SESSIONS),
                mode=mode.code if mode is not None else None,
                unacceptable=frozenset(unacceptable),
                preferred=frozenset(preferred - unacceptable),
                local_contact=person_key(award.local_contact_id),
                pi=person_key(pi.user_id if pi else None),
            )
        )
    for b in bookings:
        span = cal.covering(b.starts_at, b.ends_at)
        if not span:
            continue
        if b.kind != BookingKind.EXPERIMENT:
            unavailable[b.instrument_id].update(span)
        elif b.status in STAYING or (b.status == BookingStatus.PLANNED and b.id in pinned):
            experiment = experiments.get(b.id)
            award_row = experiment.award if experiment is not None else None
            pi = award_row.proposal.pi if award_row is not None else None
            pins.append(
                solver.Pin(
                    key=f"booking-{b.id}",
                    instrument=b.instrument.code,
                    start=span.start,
                    length=len(span),
                    award=key_of_award.get(award_row.id) if award_row is not None else None,
                    local_contact=person_key(experiment.local_contact_id) if experiment else None,
                    pi=person_key(pi.user_id) if pi else None,
                )
            )
        # planned experiments are the previous draft: replaced, so not in the problem

    solver_instruments = tuple(
        solver.Instrument(
            key=code,
            unavailable=frozenset(unavailable.get(inst.id, ())),
            start_shifts=_allowed(inst.start_shifts, spd),
            weekdays=_allowed(inst.start_weekdays, 7),
            changeover=inst.changeover_shifts,
            min_session=inst.min_session_shifts,
        )
        for code, inst in sorted(instruments.items())
    )
    periods = facility_queries.list_mode_periods(cycle.id)
    modes: tuple[str | None, ...] = ()
    if periods:
        per_shift: list[str | None] = [None] * horizon
        for p in periods:
            for i in cal.covering(p.starts_at, p.ends_at):
                per_shift[i] = p.mode.code
        modes = tuple(per_shift)
    built.problem = solver.Problem(
        horizon=horizon,
        instruments=solver_instruments,
        awards=tuple(solver_awards),
        pins=tuple(sorted(pins, key=lambda p: (p.instrument, p.start))),
        shifts_per_day=spd,
        downtime=frozenset(downtime_indices(cal, facility_queries.list_downtimes(cycle.id))),
        modes=modes,
        weekdays=tuple(s.day.weekday() for s in cal.shifts),
        positions=tuple(s.index for s in cal.shifts),
        weights=weights or solver.Weights(),
    )
    return built


@dataclass(frozen=True)
class Stored:
    replaced: int  # planned experiments removed
    created: int  # planned experiments written


@transactional
def store_solution(
    built: Built, solution: solver.Solution, *, actor: Any = None, now: datetime | None = None
) -> Stored:
    """Write `solution` as planned experiments of `built.cycle`, replacing the previous draft's
    planned ones; pins and blocks stay. One transaction: all of it or nothing.

    Raises: Conflict("schedule_stale") when the calendar changed since the problem was built
    and a session now collides with a booking (nothing is stored; solve again).
    """
    now = now or utcnow()
    cal = built.cal
    old = list(
        db.session.scalars(
            select(Booking.id).where(
                Booking.cycle_id == built.cycle.id,
                Booking.kind == BookingKind.EXPERIMENT,
                Booking.status == BookingStatus.PLANNED,
            )
        )
    )
    keep = pinned_ids(old)  # pinned planned experiments stay
    old = [i for i in old if i not in keep]
    if old:
        db.session.execute(delete(Experiment).where(Experiment.booking_id.in_(old)))
        db.session.execute(delete(Booking).where(Booking.id.in_(old)))
    live: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for b in facility_queries.list_bookings(built.cycle.id):
        live[b.instrument_id].append((b.starts_at, b.ends_at))
    rows: list[tuple[Booking, Award]] = []
    for s in solution.sessions:
        award = built.awards[s.award]
        instrument = built.instruments[s.instrument]
        starts_at, ends_at = cal.starts_at(s.start), cal.ends_at(s.end)
        if any(a < ends_at and starts_at < b for a, b in live[instrument.id]):
            raise Conflict("schedule_stale")
        live[instrument.id].append((starts_at, ends_at))
        booking = Booking(
            instrument_id=instrument.id,
            cycle_id=built.cycle.id,
            kind=BookingKind.EXPERIMENT,
            status=BookingStatus.PLANNED,
            starts_at=starts_at,
            ends_at=ends_at,
            title=award.proposal.reference or "",
            created_by_id=getattr(actor, "id", None),
            created_at=now,
        )
        rows.append((booking, award))
    try:
        with db.session.begin_nested():
            db.session.add_all(b for b, _ in rows)
            db.session.flush()
            db.session.add_all(
                Experiment(booking_id=b.id, award_id=a.id, local_contact_id=a.local_contact_id, created_at=now)
                for b, a in rows
            )
            db.session.flush()
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            raise Conflict("schedule_stale") from None
        raise
    audit.record(
        actor,
        "schedule.stored",
        built.cycle,
        changes={"replaced": len(old), "created": len(rows), "objective": solution.objective},
        at=now,
    )
    return Stored(replaced=len(old), created=len(rows))


def pinned_ids(booking_ids) -> set[int]:
    """Which of these experiments (booking ids) staff pinned."""
    ids = list(booking_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(ExperimentPin.booking_id).where(ExperimentPin.booking_id.in_(ids))))


def session_of(built: Built, booking: Booking, award: Award) -> solver.Session | None:
    """A stored experiment as a solver Session on `built`'s grid (None off the grid or when its
    award is not in the problem)."""
    span = built.cal.covering(booking.starts_at, booking.ends_at)
    key = award_key(award)
    if not span or key not in built.awards:
        return None
    return solver.Session(booking.instrument.code, span.start, len(span), key)


def evaluate(built: Built, sessions) -> int:
    """The solver's objective of `sessions` on `built.problem` (its pins are the constant)."""
    grid = Grid(built.problem)
    contexts = {a.key: grid.context(a) for a in built.problem.awards}
    return objective(built.problem, [s for s in sessions if s.award in contexts], contexts)
