"""The adapters: a small cycle built with factories goes into the solver and back into
bookings; the independent validator finds no broken rule, pins stay, the previous draft is
replaced, every award not fully placed comes with its reason."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.core.errors import Conflict
from app.extensions import db
from app.facility.models import Booking, BookingKind, BookingStatus
from app.scheduling import adapters, solver
from app.scheduling.calendar import CycleGrid
from app.scheduling.models import Experiment
from tests.factories_scheduling import add_booking, make_small_cycle
from tests.unit.scheduling_validator import violations

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def day(d: int) -> date:
    return date(2027, 3, d)


@pytest.fixture
def small():
    return make_small_cycle()


def test_the_problem_maps_the_calendar_onto_shift_indices(small):
    built = adapters.build_problem(small["cycle"])
    p = built.problem
    cal = CycleGrid.of(small["cycle"])
    assert p.horizon == 42 == len(cal) and p.shifts_per_day == 3
    assert p.downtime == frozenset(range(12, 15))  # 5 March
    assert p.modes[:21] == ("multibunch",) * 21 and p.modes[21:] == ("timing",) * 21
    assert p.weekdays[0] == 0  # 1 March 2027 is a Monday
    id01 = next(i for i in p.instruments if i.key == "ID01")
    assert id01.unavailable == frozenset(range(6, 9)) and id01.start_shifts == frozenset({0})
    assert (id01.changeover, id01.min_session, id01.weekdays) == (1, 2, None)
    a1, a2, a3, a4, a5 = (built.problem.awards[i] for i in range(5))
    assert a2.unacceptable == frozenset(range(0, 12)) and a2.preferred == frozenset(range(27, 36))
    assert a2.max_sessions == 2 and a1.max_sessions == 1
    assert a3.mode == "timing" and a1.score == 4.5
    assert a1.local_contact == a3.local_contact == f"u{small['contact'].id}"
    [pin] = p.pins
    assert (pin.instrument, pin.start, pin.length, pin.award) == ("ID02", 21, 3, a5.key)
    assert built.people[a1.local_contact] == "Lia Contact"


def test_round_trip_keeps_every_rule_and_the_pins_and_replaces_the_draft(small):
    built = adapters.build_problem(small["cycle"])
    solution = solver.solve(built.problem, effort=1)
    assert violations(built.problem, solution) == []
    stored = adapters.store_solution(built, solution, actor=small["staff"], now=NOW)
    assert stored.replaced == 1 and stored.created == len(solution.sessions) > 0
    # (the draft's row is gone: the planned rows below are exactly the solution's sessions)
    assert db.session.get(Booking, small["pinned"].id).status is BookingStatus.PUBLISHED
    cal = built.cal
    planned = list(
        db.session.scalars(
            select(Booking).where(Booking.kind == BookingKind.EXPERIMENT, Booking.status == BookingStatus.PLANNED)
        )
    )
    got = sorted(
        (
            b.instrument.code,
            cal.index_at(b.starts_at),
            len(cal.covering(b.starts_at, b.ends_at)),
            adapters.award_key(db.session.get(Experiment, b.id).award),
        )
        for b in planned
    )
    assert got == sorted((s.instrument, s.start, s.length, s.award) for s in solution.sessions)
    # what the database holds now, read back as a problem, still satisfies the rules
    again = adapters.build_problem(small["cycle"])
    assert len(again.problem.pins) == 1  # planned sessions are a draft, not pins


def test_unplaced_awards_come_with_their_reason(small):
    built = adapters.build_problem(small["cycle"])
    solution = solver.solve(built.problem, effort=1)
    reasons = {u.award: u.reason for u in solution.unplaced}
    a4 = adapters.award_key(small["awards"][3])
    assert reasons[a4] == "mode_unavailable"  # nobody runs the machine in hybrid mode
    for u in solution.unplaced:
        assert u.reason in {
            "no_window",
            "mode_unavailable",
            "unacceptable_dates",
            "capacity_used",
            "person_busy",
            "split_limit",
            "objective_tradeoff",
        }


def test_a_calendar_changed_meanwhile_stores_nothing(small):
    built = adapters.build_problem(small["cycle"])
    solution = solver.solve(built.problem, effort=1)
    first = solution.sessions[0]
    inst = built.instruments[first.instrument]
    add_booking(inst, small["cycle"], built.cal.starts_at(first.start), built.cal.ends_at(first.start + 1))
    with pytest.raises(Conflict, match="schedule_stale"):
        adapters.store_solution(built, solution, actor=small["staff"], now=NOW)
    assert db.session.get(Booking, small["draft"].id) is not None  # the old draft is still there


def test_a_long_term_award_of_an_earlier_cycle_is_scheduled_with_the_shifts_it_committed(small):
    """A long-term award of 2026-II committed 4 shifts on 2027-I (the allocation's commitment
    row): the 2027-I problem holds it with those 4 shifts, its dates and grade, and its sessions
    are stored as experiments of the earlier award."""
    from app.facility.models import CapacityCommitment
    from tests import factories_proposals as fp
    from tests.factories_scheduling import make_award

    earlier = fp.make_cycle(name="2026-II", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 20))
    call = fp.make_call(cycle=earlier, instruments=[small["id02"]])
    award = make_award(call=call, instrument=small["id02"], shifts=9, grade=4.8, number=77)
    award.long_term, award.cycles = True, 2
    db.session.add(
        CapacityCommitment(
            cycle_name="2027-I",
            instrument_id=small["id02"].id,
            shifts=4,
            source=f"allocation {call.id}: {award.proposal.reference}/ID02",
        )
    )
    # a commitment on another cycle, and one whose award was withdrawn, are not this cycle's
    db.session.add(
        CapacityCommitment(
            cycle_name="2027-II",
            instrument_id=small["id02"].id,
            shifts=5,
            source=f"allocation {call.id}: {award.proposal.reference}/ID02",
        )
    )
    db.session.commit()

    built = adapters.build_problem(small["cycle"])
    [long_term] = [a for a in built.problem.awards if built.awards[a.key].id == award.id]
    assert long_term.shifts == 4 and long_term.score == 4.8 and long_term.instrument == "ID02"
    assert built.award_shifts[long_term.key] == 4
    assert adapters.award_shifts_in(small["cycle"], award) == 4
    assert adapters.award_shifts_in(earlier, award) == 9

    solution = solver.solve(built.problem, effort=1)
    assert violations(built.problem, solution) == []
    adapters.store_solution(built, solution, actor=small["staff"], now=NOW)
    placed = [s for s in solution.sessions if s.award == long_term.key]
    assert placed and sum(s.length for s in placed) <= 4
    sessions = db.session.scalars(select(Experiment).where(Experiment.award_id == award.id)).all()
    assert len(sessions) == len(placed)
    assert {db.session.get(Booking, e.booking_id).cycle_id for e in sessions} == {small["cycle"].id}

    award.withdrawn_at = NOW
    db.session.commit()
    assert not [a for a in adapters.build_problem(small["cycle"]).problem.awards if a.key == long_term.key]
