"""Drafts of a cycle's schedule: solved from the web, kept, compared, applied, edited by hand.

A solve runs in the jobs process (`request_solve` queues it; `run_solve` is the handler's
work) and ends in a `ScheduleDraft`: the solver's figures, the awards it could not place with
its reasons, and a snapshot of the planned experiments it wrote. Exactly one draft of a cycle
is applied: the cycle's planned experiments are its sessions. The timeline's edits change
those experiments and re-take the applied draft's snapshot and value together, so two drafts
always compare on the same terms (docs/SCHEDULING.md "Drafts").

Edits are checked first (`check_placement`): an overlap is refused (and the database refuses
it too: the exclusion constraint on PostgreSQL, BEGIN IMMEDIATE and the check on SQLite); the
other warnings (changeover, downtime, mode, the team's unacceptable dates, the start rule, a
person already busy, more shifts than awarded) must be confirmed by the person saving.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.core import audit, jobrequests
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound
from app.core.models import JobRequest, JobStatus
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Booking, BookingKind, BookingStatus, Cycle, Downtime
from app.proposals.models import DateKind
from app.reviews.models import Award
from app.scheduling import adapters, permissions, solver
from app.scheduling.calendar import CycleGrid
from app.scheduling.models import Experiment, ExperimentPin, ScheduleDraft

__all__ = [
    "SOLVE_KIND",
    "Placement",
    "PlacementWarning",
    "add_experiment",
    "apply_draft",
    "check_add",
    "check_move",
    "check_swap",
    "find_active_solve",
    "move_experiment",
    "pin_experiment",
    "refresh_applied_draft",
    "remove_experiment",
    "request_solve",
    "run_solve",
    "save_draft",
    "swap_experiments",
    "unpin_experiment",
]

SOLVE_KIND = "schedule.solve"
EDITABLE = (BookingStatus.PLANNED, BookingStatus.PUBLISHED)


# --- solving from the web -----------------------------------------------------------------


@transactional
def request_solve(
    cycle_id: int, *, effort: Any = solver.DEFAULT_EFFORT, actor: Any, now: datetime | None = None
) -> JobRequest:
    """Queue a solve of the cycle for the jobs process (never in a web worker).

    Raises: PermissionDenied, NotFound (cycle), ValidationFailed (integer_range: effort),
    Conflict (solve_running: this cycle is being solved already).
    """
    require(permissions.can_plan_schedule, actor)
    cycle = facility_queries.get_cycle(cycle_id)
    effort = facility_services.bounded_int(effort, "effort", minimum=1, maximum=10)
    if find_active_solve(cycle.id) is not None:
        raise Conflict("solve_running", cycle=cycle.name)
    job = jobrequests.request_job(SOLVE_KIND, {"cycle_id": cycle.id, "effort": effort}, actor=actor, now=now)
    audit.record(actor, "schedule.solve_requested", cycle, changes={"job": job.id, "effort": effort}, at=now)
    return job


def find_active_solve(cycle_id: int) -> JobRequest | None:
    """The queued or running solve of this cycle, if any."""
    jobs = db.session.scalars(
        select(JobRequest)
        .where(JobRequest.kind == SOLVE_KIND, JobRequest.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .order_by(JobRequest.id)
    )
    return next((j for j in jobs if (j.params or {}).get("cycle_id") == cycle_id), None)


def run_solve(job: JobRequest, progress) -> dict:
    """The jobs process's work for a solve request: build, solve with progress, save the draft.

    `progress(done, total, message)` writes the groups solved and, in `message`, the objective
    and bound so far as `objective=…;bound=…` (the page formats them).
    Raises: PermissionDenied (the requester lost the right), NotFound (cycle), Conflict
    (schedule_stale: the calendar changed meanwhile; nothing stored).
    """
    params = job.params or {}
    actor = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    require(permissions.can_plan_schedule, actor)
    cycle = facility_queries.get_cycle(int(params["cycle_id"]))
    effort = int(params.get("effort", 5))
    built = adapters.build_problem(cycle)
    totals = {"objective": 0, "bound": 0}

    def on_progress(done: int, total: int, report: solver.GroupReport | None) -> None:
        if report is not None:
            totals["objective"] += report.objective
            totals["bound"] += report.bound
        progress(done, total, f"objective={totals['objective']};bound={totals['bound']}")

    solution = solver.solve(built.problem, effort=effort, progress=on_progress)
    draft = save_draft(built, solution, job_id=job.id, effort=effort, actor=actor)
    return {
        "draft": draft.number,
        "draft_id": draft.id,
        "objective": draft.objective,
        "sessions": len(draft.sessions),
        "unplaced": len(draft.unplaced),
    }


def _unplaced_rows(built: adapters.Built, unplaced) -> list[dict]:
    rows = []
    for u in unplaced:
        award = built.awards.get(u.award)
        params: dict[str, Any] = {}
        for key, value in u.params:
            if key == "person":
                value = built.people.get(str(value), str(value))
            elif isinstance(value, (tuple, list, frozenset, set)):
                value = ", ".join(str(v).split("#")[0] for v in value)
            elif not isinstance(value, (int, float, str)) and value is not None:
                value = str(value)
            params[key] = value
        rows.append(
            {
                "award_id": award.id if award is not None else None,
                "reference": award.proposal.reference if award is not None else u.award,
                "instrument": award.instrument.code if award is not None else "",
                "placed": u.placed,
                "missing": u.missing,
                "reason": u.reason,
                "params": params,
            }
        )
    return rows


@transactional
def save_draft(
    built: adapters.Built,
    solution: solver.Solution,
    *,
    job_id: int | None = None,
    effort: int = solver.DEFAULT_EFFORT,
    actor: Any = None,
    now: datetime | None = None,
) -> ScheduleDraft:
    """Store `solution` as the cycle's planned experiments and keep it as a new, applied draft.

    Raises: Conflict (schedule_stale).
    """
    now = now or utcnow()
    cycle = built.cycle
    adapters.store_solution(built, solution, actor=actor, now=now)
    number = (
        db.session.scalar(select(func.max(ScheduleDraft.number)).where(ScheduleDraft.cycle_id == cycle.id)) or 0
    ) + 1
    _unapply(cycle.id)
    draft = ScheduleDraft(
        cycle_id=cycle.id,
        number=number,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        job_id=job_id,
        effort=effort,
        greedy_objective=solution.greedy_objective,
        wall_time=round(solution.wall_time, 3),
        groups=[
            {
                "instruments": list(g.instruments),
                "awards": g.awards,
                "objective": g.objective,
                "greedy": g.greedy_objective,
                "bound": g.bound,
                "gap": round(g.gap, 4),
                "status": g.status,
                "winner": g.winner,
            }
            for g in solution.groups
        ],
        unplaced=_unplaced_rows(built, solution.unplaced),
        applied=True,
    )
    _take_snapshot(draft, cycle)
    # the solver's bound covers what it placed; the pinned sessions add their own value
    draft.bound = max(draft.objective, solution.bound + (draft.objective - solution.objective))
    db.session.add(draft)
    db.session.flush()
    audit.record(
        actor,
        "schedule.draft_saved",
        cycle,
        changes={"draft": number, "objective": draft.objective, "sessions": len(draft.sessions)},
        at=now,
    )
    return draft


def _unapply(cycle_id: int) -> None:
    db.session.execute(
        update(ScheduleDraft)
        .where(ScheduleDraft.cycle_id == cycle_id, ScheduleDraft.applied.is_(True))
        .values(applied=False)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()


def _planned(cycle_id: int) -> list[tuple[Booking, Experiment]]:
    return list(
        db.session.execute(
            select(Booking, Experiment)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(
                Booking.cycle_id == cycle_id,
                Booking.kind == BookingKind.EXPERIMENT,
                Booking.status == BookingStatus.PLANNED,
            )
            .order_by(Booking.instrument_id, Booking.starts_at)
        ).tuples()
    )


def _take_snapshot(draft: ScheduleDraft, cycle: Cycle) -> None:
    """The draft's sessions and value = the cycle's planned experiments now."""
    rows = _planned(cycle.id)
    pinned = adapters.pinned_ids(b.id for b, _ in rows)
    draft.sessions = [
        {
            "booking_id": b.id,
            "award_id": e.award_id,
            "reference": e.award.proposal.reference or "",
            "instrument": b.instrument.code,
            "instrument_id": b.instrument_id,
            "starts_at": b.starts_at.isoformat(),
            "ends_at": b.ends_at.isoformat(),
            "pinned": b.id in pinned,
        }
        for b, e in rows
    ]
    built = adapters.build_problem(cycle, pin_planned=False)
    sessions = [s for b, e in rows if (s := adapters.session_of(built, b, e.award)) is not None]
    draft.objective = adapters.evaluate(built, sessions)


def refresh_applied_draft(cycle: Cycle, *, now: datetime) -> ScheduleDraft | None:
    """After an edit: the applied draft's snapshot, value and unplaced awards follow the bookings.

    An award that lost shifts by hand keeps the solver's reason, or gets `removed_by_hand`.
    Call inside a unit of work.
    """
    draft = db.session.scalar(
        select(ScheduleDraft).where(ScheduleDraft.cycle_id == cycle.id, ScheduleDraft.applied.is_(True))
    )
    if draft is None:
        return None
    db.session.flush()
    _take_snapshot(draft, cycle)
    draft.bound = max(draft.bound, draft.objective)
    draft.edited_at = now
    placed: dict[int, int] = {}
    cal = CycleGrid.of(cycle)
    for b, e in db.session.execute(
        select(Booking, Experiment)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .where(Booking.cycle_id == cycle.id, Booking.status != BookingStatus.CANCELLED)
    ).tuples():
        placed[e.award_id] = placed.get(e.award_id, 0) + len(cal.covering(b.starts_at, b.ends_at))
    before = {row["award_id"]: row for row in draft.unplaced}
    rows = []
    built = adapters.build_problem(cycle, pin_planned=False)
    for key, award in built.awards.items():
        wanted = built.award_shifts[key]
        got = placed.get(award.id, 0)
        if got >= wanted:
            continue
        row = dict(before.get(award.id) or {"reason": "removed_by_hand", "params": {}})
        row.update(
            award_id=award.id,
            reference=award.proposal.reference or "",
            instrument=award.instrument.code,
            placed=got,
            missing=wanted - got,
        )
        rows.append(row)
    draft.unplaced = rows
    return draft


@transactional
def apply_draft(draft_id: int, *, actor: Any, now: datetime | None = None) -> ScheduleDraft:
    """Make an earlier draft the cycle's planned experiments again (the current ones go; the
    current draft keeps its snapshot).

    Raises: PermissionDenied, NotFound (draft), Conflict (schedule_stale: a session of the
    draft now collides with a booking; nothing changes).
    """
    require(permissions.can_plan_schedule, actor)
    now = now or utcnow()
    draft = db.session.get(ScheduleDraft, draft_id)
    if draft is None:
        raise NotFound("draft_not_found")
    cycle = draft.cycle
    cal = CycleGrid.of(cycle)
    old = [b.id for b, _ in _planned(cycle.id)]
    if old:
        db.session.execute(delete(ExperimentPin).where(ExperimentPin.booking_id.in_(old)))
        db.session.execute(delete(Experiment).where(Experiment.booking_id.in_(old)))
        db.session.execute(delete(Booking).where(Booking.id.in_(old)))
    for row in draft.sessions:
        award = db.session.get(Award, row["award_id"])
        if award is None or award.withdrawn_at is not None:
            continue
        starts_at, ends_at = datetime.fromisoformat(row["starts_at"]), datetime.fromisoformat(row["ends_at"])
        span = cal.covering(starts_at, ends_at)
        booking = Booking(
            instrument_id=row["instrument_id"],
            cycle_id=cycle.id,
            kind=BookingKind.EXPERIMENT,
            status=BookingStatus.PLANNED,
            starts_at=starts_at,
            ends_at=ends_at,
            title=award.proposal.reference or "",
            created_by_id=getattr(actor, "id", None),
            created_at=now,
        )
        try:
            _insert(booking, cal, span.start, span.stop)
        except Conflict:
            raise Conflict("schedule_stale") from None
        db.session.add(Experiment(booking_id=booking.id, award_id=award.id, local_contact_id=award.local_contact_id))
        if row.get("pinned"):
            db.session.flush()
            db.session.add(ExperimentPin(booking_id=booking.id, pinned_by_id=getattr(actor, "id", None), pinned_at=now))
    _unapply(cycle.id)
    draft.applied = True
    db.session.flush()
    _take_snapshot(draft, cycle)
    audit.record(actor, "schedule.draft_applied", cycle, changes={"draft": draft.number}, at=now)
    return draft


def _insert(booking: Booking, cal: CycleGrid, first: int, end: int) -> Booking:
    from app.scheduling.services import insert_booking

    return insert_booking(booking, cal, first, end)


# --- checks before saving -----------------------------------------------------------------


@dataclass(frozen=True)
class PlacementWarning:
    """Something wrong with a placement; `blocking` ones (an overlap) cannot be saved."""

    code: str
    params: dict = field(default_factory=dict)
    blocking: bool = False


@dataclass
class Placement:
    """Where an experiment would go, and what is wrong with it."""

    award: Award
    instrument_id: int
    first: int
    end: int
    starts_at: datetime
    ends_at: datetime
    warnings: list[PlacementWarning]

    @property
    def blocked(self) -> bool:
        return any(w.blocking for w in self.warnings)


def _warnings(cal: CycleGrid, award: Award, first: int, end: int, ignore: set[int]) -> list[PlacementWarning]:
    instrument = award.instrument
    starts_at, ends_at = cal.starts_at(first), cal.ends_at(end)
    out: list[PlacementWarning] = []
    live = [
        b
        for b in db.session.scalars(
            select(Booking).where(
                Booking.instrument_id == instrument.id,
                Booking.status != BookingStatus.CANCELLED,
                Booking.starts_at < cal.ends_at(min(len(cal), end + instrument.changeover_shifts)),
                Booking.ends_at > cal.starts_at(max(0, first - instrument.changeover_shifts)),
            )
        )
        if b.id not in ignore
    ]
    for b in live:
        if b.starts_at < ends_at and starts_at < b.ends_at:
            out.append(
                PlacementWarning(
                    "placement_overlap",
                    {"other": b.title or b.kind.value, "starts": cal.local(b.starts_at), "ends": cal.local(b.ends_at)},
                    blocking=True,
                )
            )
        elif b.kind == BookingKind.EXPERIMENT:
            out.append(
                PlacementWarning("placement_changeover", {"other": b.title, "changeover": instrument.changeover_shifts})
            )
    downtime = db.session.scalar(
        select(Downtime)
        .where(Downtime.cycle_id == cal.cycle.id, Downtime.starts_at < ends_at, Downtime.ends_at > starts_at)
        .limit(1)
    )
    if downtime is not None:
        out.append(PlacementWarning("placement_downtime", {"title": downtime.title or downtime.kind.value}))
    mode = award.request.operating_mode
    if mode is not None:
        wrong = [
            p
            for p in facility_queries.list_mode_periods(cal.cycle.id)
            if p.starts_at < ends_at and starts_at < p.ends_at and p.mode_id != mode.id
        ]
        covered = sum(
            len(cal.covering(max(p.starts_at, starts_at), min(p.ends_at, ends_at)))
            for p in facility_queries.list_mode_periods(cal.cycle.id)
            if p.starts_at < ends_at and starts_at < p.ends_at and p.mode_id == mode.id
        )
        if wrong or covered < end - first:
            out.append(PlacementWarning("placement_mode", {"mode": mode.name}))
    days = {cal.shifts[i].day for i in range(first, end)}
    for d in award.proposal.dates:
        if d.kind == DateKind.UNACCEPTABLE and any(d.starts_on <= day <= d.ends_on for day in days):
            out.append(
                PlacementWarning(
                    "placement_unacceptable", {"starts": d.starts_on.isoformat(), "ends": d.ends_on.isoformat()}
                )
            )
            break
    shift = cal.shifts[first]
    if (instrument.start_shifts and shift.index not in instrument.start_shifts) or (
        instrument.start_weekdays and shift.day.weekday() not in instrument.start_weekdays
    ):
        out.append(PlacementWarning("placement_start_rule", {"code": instrument.code}))
    people = {u for u in (award.local_contact_id, award.proposal.pi.user_id if award.proposal.pi else None) if u}
    if people:
        for b, e in db.session.execute(
            select(Booking, Experiment)
            .join(Experiment, Experiment.booking_id == Booking.id)
            .where(
                Booking.status != BookingStatus.CANCELLED,
                Booking.starts_at < ends_at,
                Booking.ends_at > starts_at,
                Experiment.award_id != award.id,
            )
        ).tuples():
            if b.id in ignore:
                continue
            other_people = {e.local_contact_id, e.award.proposal.pi.user_id if e.award.proposal.pi else None}
            if people & other_people:
                out.append(PlacementWarning("placement_person_busy", {"other": b.title, "code": b.instrument.code}))
                break
    booked = 0
    for b in db.session.scalars(
        select(Booking)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .where(
            Experiment.award_id == award.id,
            Booking.cycle_id == cal.cycle.id,
            Booking.status != BookingStatus.CANCELLED,
        )
    ):
        if b.id not in ignore:
            booked += len(cal.covering(b.starts_at, b.ends_at))
    awarded = adapters.award_shifts_in(cal.cycle, award)
    if booked + (end - first) > awarded:
        out.append(PlacementWarning("placement_award_exceeded", {"awarded": awarded, "booked": booked + end - first}))
    return out


def _cycle_of(booking: Booking) -> Cycle:
    return db.session.get(Cycle, booking.cycle_id)


def _experiment(booking_id: int) -> tuple[Booking, Experiment]:
    experiment = db.session.get(Experiment, booking_id)
    if experiment is None:
        raise NotFound("experiment_not_found")
    return experiment.booking, experiment


def _require_edit(actor: Any, booking: Booking) -> None:
    require(permissions.can_edit_draft, actor, booking.instrument)
    if booking.status not in EDITABLE:
        raise InvalidState("experiment_not_editable", status=booking.status.value)
    if booking.status != BookingStatus.PLANNED:
        require(permissions.can_publish_schedule, actor)


def _place(cal: CycleGrid, award: Award, day: date | None, shift: Any, length: Any, ignore: set[int]) -> Placement:
    from app.scheduling.services import resolve_run

    first, end = resolve_run(cal, day, shift, length)
    return Placement(
        award,
        award.instrument_id,
        first,
        end,
        cal.starts_at(first),
        cal.ends_at(end),
        _warnings(cal, award, first, end, ignore),
    )


def check_move(booking_id: int, *, day: date | None, shift: Any, length: Any, actor: Any) -> Placement:
    """Where the experiment would go and what is wrong there (nothing is saved).

    Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable), ValidationFailed.
    """
    booking, experiment = _experiment(booking_id)
    _require_edit(actor, booking)
    cal = CycleGrid.of(_cycle_of(booking))
    return _place(cal, experiment.award, day, shift, length, {booking.id})


def check_add(award_id: int, *, day: date | None, shift: Any, length: Any, actor: Any) -> Placement:
    """Raises: NotFound (award), PermissionDenied, ValidationFailed."""
    award = db.session.get(Award, award_id)
    if award is None or award.withdrawn_at is not None:
        raise NotFound("award_not_found")
    require(permissions.can_edit_draft, actor, award.instrument)
    cal = CycleGrid.of(award.proposal.call.cycle)
    return _place(cal, award, day, shift, length, set())


def check_swap(first_id: int, second_id: int, *, actor: Any) -> list[Placement]:
    """Each experiment at the other's start (its own length kept), with the warnings.

    Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable, swap_instruments).
    """
    a, ea = _experiment(first_id)
    b, eb = _experiment(second_id)
    _require_edit(actor, a)
    _require_edit(actor, b)
    if a.id == b.id or a.instrument_id != b.instrument_id or a.cycle_id != b.cycle_id:
        raise InvalidState("swap_instruments")
    cal = CycleGrid.of(_cycle_of(a))
    sa, sb = cal.covering(a.starts_at, a.ends_at), cal.covering(b.starts_at, b.ends_at)
    pa = (sb.start, min(len(cal), sb.start + len(sa)))
    pb = (sa.start, min(len(cal), sa.start + len(sb)))
    out = []
    for (first, end), award, other_first, other_end in ((pa, ea.award, *pb), (pb, eb.award, *pa)):
        warnings = _warnings(cal, award, first, end, {a.id, b.id})
        if first < other_end and other_first < end:
            warnings.insert(0, PlacementWarning("placement_swap_overlap", {}, blocking=True))
        out.append(Placement(award, award.instrument_id, first, end, cal.starts_at(first), cal.ends_at(end), warnings))
    return out


def _refuse(placements: list[Placement], confirm: bool) -> None:
    for p in placements:
        for w in p.warnings:
            if w.blocking:
                raise Conflict(w.code, **w.params)
    if not confirm and any(p.warnings for p in placements):
        raise InvalidState("placement_unconfirmed", count=sum(len(p.warnings) for p in placements))


def _set_times(booking: Booking, starts_at: datetime, ends_at: datetime) -> None:
    """Move a booking; PostgreSQL's exclusion constraint refuses a concurrent overlap."""
    try:
        with db.session.begin_nested():
            booking.starts_at, booking.ends_at = starts_at, ends_at
            db.session.flush()
    except IntegrityError as exc:
        if not facility_services.is_exclusion_violation(exc):
            raise
        raise Conflict("placement_overlap", other="—", starts="—", ends="—") from None


def _after_edit(booking: Booking, changes: dict, *, actor: Any, now: datetime, action: str) -> None:
    from app.scheduling.services.lifecycle import published_changed

    if booking.status != BookingStatus.PLANNED:
        published_changed(booking, now=now)
    else:
        refresh_applied_draft(_cycle_of(booking), now=now)
    audit.record(actor, action, booking, changes=changes, at=now)


@transactional
def move_experiment(
    booking_id: int,
    *,
    day: date | None,
    shift: Any,
    length: Any,
    confirm: bool = False,
    actor: Any,
    now: datetime | None = None,
) -> Booking:
    """Move (and resize) a planned experiment — or a published one (staff; the team is told).

    Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable,
    placement_unconfirmed: warnings not confirmed), ValidationFailed (day, shift, length),
    Conflict (placement_overlap).
    """
    now = now or utcnow()
    booking, experiment = _experiment(booking_id)
    _require_edit(actor, booking)
    cal = CycleGrid.of(_cycle_of(booking))
    placement = _place(cal, experiment.award, day, shift, length, {booking.id})
    _refuse([placement], confirm)
    before = {"starts_at": booking.starts_at, "ends_at": booking.ends_at}
    _set_times(booking, placement.starts_at, placement.ends_at)
    _after_edit(
        booking,
        {
            "starts_at": {"before": before["starts_at"], "after": booking.starts_at},
            "ends_at": {"before": before["ends_at"], "after": booking.ends_at},
        },
        actor=actor,
        now=now,
        action="experiment.moved",
    )
    return booking


@transactional
def swap_experiments(
    first_id: int, second_id: int, *, confirm: bool = False, actor: Any, now: datetime | None = None
) -> tuple[Booking, Booking]:
    """Swap two experiments of one instrument: each starts where the other started.

    Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable, swap_instruments,
    placement_unconfirmed), Conflict (placement_overlap, placement_swap_overlap).
    """
    now = now or utcnow()
    placements = check_swap(first_id, second_id, actor=actor)
    _refuse(placements, confirm)
    a, _ = _experiment(first_id)
    b, _ = _experiment(second_id)
    # Out of the exclusion constraint while the two trade places (cancelled rows do not count)
    status_b = b.status
    b.status = BookingStatus.CANCELLED
    db.session.flush()
    _set_times(a, placements[0].starts_at, placements[0].ends_at)
    b.starts_at, b.ends_at = placements[1].starts_at, placements[1].ends_at
    db.session.flush()
    b.status = status_b
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        if not facility_services.is_exclusion_violation(exc):
            raise
        raise Conflict("placement_overlap", other="—", starts="—", ends="—") from None
    for booking in (a, b):
        _after_edit(
            booking, {"swapped_with": (b if booking is a else a).id}, actor=actor, now=now, action="experiment.swapped"
        )
    return a, b


@transactional
def pin_experiment(booking_id: int, *, actor: Any, now: datetime | None = None) -> ExperimentPin:
    """Keep a planned experiment where it is when the cycle is solved again.

    Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable: not planned).
    """
    now = now or utcnow()
    booking, _ = _experiment(booking_id)
    _require_edit(actor, booking)
    if booking.status != BookingStatus.PLANNED:
        raise InvalidState("experiment_not_editable", status=booking.status.value)
    pin = db.session.get(ExperimentPin, booking.id)
    if pin is None:
        pin = ExperimentPin(booking_id=booking.id, pinned_by_id=getattr(actor, "id", None), pinned_at=now)
        db.session.add(pin)
        db.session.flush()
        refresh_applied_draft(_cycle_of(booking), now=now)
        audit.record(actor, "experiment.pinned", booking, at=now)
    return pin


@transactional
def unpin_experiment(booking_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable)."""
    now = now or utcnow()
    booking, _ = _experiment(booking_id)
    _require_edit(actor, booking)
    pin = db.session.get(ExperimentPin, booking.id)
    if pin is not None:
        db.session.delete(pin)
        db.session.flush()
        refresh_applied_draft(_cycle_of(booking), now=now)
        audit.record(actor, "experiment.unpinned", booking, at=now)


@transactional
def remove_experiment(booking_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Take a planned experiment out of the draft (a published one is cancelled instead).

    Raises: NotFound, PermissionDenied, InvalidState (experiment_not_editable: not planned).
    """
    now = now or utcnow()
    booking, _ = _experiment(booking_id)
    _require_edit(actor, booking)
    if booking.status != BookingStatus.PLANNED:
        raise InvalidState("experiment_not_editable", status=booking.status.value)
    cycle = _cycle_of(booking)
    audit.record(actor, "experiment.removed", booking, changes={"starts_at": booking.starts_at}, at=now)
    db.session.execute(delete(ExperimentPin).where(ExperimentPin.booking_id == booking.id))
    db.session.execute(delete(Experiment).where(Experiment.booking_id == booking.id))
    db.session.execute(delete(Booking).where(Booking.id == booking.id))
    db.session.expire_all()
    refresh_applied_draft(cycle, now=now)


@transactional
def add_experiment(
    award_id: int,
    *,
    day: date | None,
    shift: Any,
    length: Any,
    confirm: bool = False,
    actor: Any,
    now: datetime | None = None,
) -> Booking:
    """Add a planned session of an award by hand.

    Raises: NotFound (award), PermissionDenied, InvalidState (placement_unconfirmed),
    ValidationFailed, Conflict (placement_overlap).
    """
    now = now or utcnow()
    placement = check_add(award_id, day=day, shift=shift, length=length, actor=actor)
    _refuse([placement], confirm)
    award = placement.award
    cycle = award.proposal.call.cycle
    cal = CycleGrid.of(cycle)
    booking = Booking(
        instrument_id=award.instrument_id,
        cycle_id=cycle.id,
        kind=BookingKind.EXPERIMENT,
        status=BookingStatus.PLANNED,
        starts_at=placement.starts_at,
        ends_at=placement.ends_at,
        title=award.proposal.reference or "",
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    try:
        _insert(booking, cal, placement.first, placement.end)
    except Conflict as exc:
        raise Conflict("placement_overlap", **{k: v for k, v in exc.params.items()}) from None
    db.session.add(Experiment(booking_id=booking.id, award_id=award.id, local_contact_id=award.local_contact_id))
    db.session.flush()
    refresh_applied_draft(cycle, now=now)
    audit.record(
        actor, "experiment.added", booking, changes={"award": award.id, "starts_at": booking.starts_at}, at=now
    )
    return booking
