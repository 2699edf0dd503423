"""Demo schedules: every demo cycle with awards gets a solved draft (greedy, so seeding stays
fast); a cycle that has ended is published (long ago, so no e-mail is queued), its experiments
completed with delivered shifts and, for some (at least one per cycle), lost time; a cycle still
to come keeps its draft as planned experiments for staff to adjust and publish. The awards of a
cycle are its own calls' and the long-term awards of earlier cycles that committed shifts on it
(app/demo/longterm.py): the newer past cycle, whose standard call is still under review, and the
coming one, whose call is open, are scheduled with those. Idempotent: a cycle that has a draft
is left alone."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.core.transaction import unit_of_work
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingStatus
from app.scheduling import adapters, solver
from app.scheduling.calendar import CycleGrid
from app.scheduling.models import Experiment, LostTimeReason, ScheduleDraft
from app.scheduling.services import save_draft

SEED = 7007
LOST_SHARE = 0.15  # experiments that lost some shifts
REASONS = [
    LostTimeReason.MACHINE_FAULT,
    LostTimeReason.MACHINE_FAULT,
    LostTimeReason.INSTRUMENT_FAULT,
    LostTimeReason.USER_NO_SHOW,
    LostTimeReason.OTHER,
]
NOTES = {
    LostTimeReason.MACHINE_FAULT: "Beam lost after an RF trip; refill took the rest of the shift.",
    LostTimeReason.INSTRUMENT_FAULT: "Detector cooling failed overnight.",
    LostTimeReason.USER_NO_SHOW: "The team's flight was cancelled.",
    LostTimeReason.OTHER: "Sample environment not ready.",
}


def seed(*, actor: Any, today: date | None = None, progress=None) -> int:
    """Schedule the demo cycles that have awards and no draft yet; returns the experiments made."""
    from app.demo.facility import demo_cycles

    today = today or date.today()
    now = datetime.combine(today, time(0), tzinfo=UTC)
    made = 0
    rng = random.Random(SEED)
    for name, _starts, ends in demo_cycles(today):
        cycle = facility_queries.get_cycle_by_name(name)
        if db.session.scalar(select(ScheduleDraft.id).where(ScheduleDraft.cycle_id == cycle.id).limit(1)):
            continue
        built = adapters.build_problem(cycle)
        if not built.problem.awards:
            continue
        solution = solver.solve(built.problem, use_cpsat=False)  # greedy: milliseconds
        planned_at = datetime.combine(cycle.starts_on - timedelta(days=45), time(9), tzinfo=UTC)
        with unit_of_work():
            draft = save_draft(built, solution, effort=1, actor=actor, now=min(planned_at, now))
            made += len(draft.sessions)
            if ends < today:
                _publish_and_run(cycle, draft, rng, published_at=min(planned_at + timedelta(days=3), now))
    if progress is not None:
        progress.print(f"demo schedules: {made} experiment(s)")
    return made


def _publish_and_run(cycle, draft: ScheduleDraft, rng: random.Random, *, published_at: datetime) -> None:
    """A past cycle as it happened: published without e-mail (long ago), run, delivered."""
    cal = CycleGrid.of(cycle)
    rows = db.session.execute(
        select(Booking, Experiment)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .where(Booking.cycle_id == cycle.id, Booking.status == BookingStatus.PLANNED)
        .order_by(Booking.id)
    ).tuples()
    longest: tuple[int, Experiment] | None = None
    lost_any = False
    for booking, experiment in rows:
        booking.status = BookingStatus.COMPLETED
        experiment.published_at = published_at
        booked = len(cal.covering(booking.starts_at, booking.ends_at))
        if rng.random() < LOST_SHARE and booked > 1:
            reason = rng.choice(REASONS)
            _lose(experiment, booked, rng.randint(1, max(1, booked // 3)), reason)
            lost_any = True
        else:
            experiment.delivered_shifts, experiment.lost_shifts = booked, 0
            if longest is None or booked > longest[0]:
                longest = (booked, experiment)
    # no cycle runs without a fault: a small one (few experiments) still lost a shift somewhere
    if not lost_any and longest is not None and longest[0] > 1:
        _lose(longest[1], longest[0], 1, LostTimeReason.MACHINE_FAULT)
    draft.published_at = published_at


def _lose(experiment: Experiment, booked: int, lost: int, reason: LostTimeReason) -> None:
    experiment.lost_shifts, experiment.lost_reason, experiment.lost_note = lost, reason, NOTES[reason]
    experiment.delivered_shifts = booked - lost
