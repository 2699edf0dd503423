"""The adapters: a small cycle built with factories goes into the solver and back into
bookings; the independent validator finds no broken rule, pins stay, the previous draft is
replaced, every award not fully placed comes with its reason."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.core.errors import Conflict
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Booking, BookingKind, BookingStatus
from app.proposals.models import DateKind
from app.scheduling import adapters, solver
from app.scheduling.calendar import CycleGrid
from app.scheduling.models import AwardSchedule, Experiment
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_facility import make_facility
from tests.factories_reviews import make_staff
from tests.factories_scheduling import add_booking, add_dates, make_award
from tests.unit.scheduling_validator import violations

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def day(d: int) -> date:
    return date(2027, 3, d)


@pytest.fixture
def small():
    """Cycle 1–14 March 2027 (42 shifts): multibunch the first week, timing the second, a
    shutdown on 5 March; ID01 (sessions start at 00:00, changeover 1, minimum 2 shifts, a
    maintenance day on 3 March, a planned draft session on 12 March) and ID02 (a published
    experiment on 8 March that stays). Awards share a local contact across the instruments."""
    make_facility()
    staff = make_staff()
    id01 = fp.make_instrument(code="ID01", start_shifts=[0], changeover_shifts=1, min_session_shifts=2)
    id02 = fp.make_instrument(code="ID02")
    cycle = fp.make_cycle(name="2027-I", starts_on=day(1), ends_on=day(14))
    call = fp.make_call(cycle=cycle, instruments=[id01, id02])
    multibunch = facility_services.create_operating_mode(code="multibunch", name="Multibunch", actor=staff)
    timing = facility_services.create_operating_mode(code="timing", name="Timing", actor=staff)
    hybrid = facility_services.create_operating_mode(code="hybrid", name="Hybrid", actor=staff)
    g = facility_queries.grid()
    facility_services.add_mode_period(
        cycle.id, mode_id=multibunch.id, starts_at=g.start(day(1), 0), ends_at=g.start(day(8), 0), actor=staff, now=NOW
    )
    facility_services.add_mode_period(
        cycle.id, mode_id=timing.id, starts_at=g.start(day(8), 0), ends_at=g.start(day(15), 0), actor=staff, now=NOW
    )
    facility_services.add_downtime(
        cycle.id, kind="shutdown", starts_at=g.start(day(5), 0), ends_at=g.start(day(6), 0), actor=staff, now=NOW
    )
    add_booking(id01, cycle, g.start(day(3), 0), g.start(day(4), 0), title="Maintenance")
    contact = make_user(name="Lia Contact")
    a1 = make_award(call=call, instrument=id01, shifts=6, grade=4.5, local_contact=contact, number=1)
    a2 = make_award(call=call, instrument=id01, shifts=9, grade=3.0, number=2)
    add_dates(a2, DateKind.UNACCEPTABLE, day(1), day(4))
    add_dates(a2, DateKind.PREFERRED, day(10), day(12))
    db.session.add(AwardSchedule(award_id=a2.id, max_sessions=2))
    a3 = make_award(call=call, instrument=id02, shifts=6, grade=4.0, local_contact=contact, mode=timing, number=3)
    a4 = make_award(call=call, instrument=id02, shifts=3, grade=5.0, mode=hybrid, number=4)
    a5 = make_award(call=call, instrument=id02, shifts=3, grade=2.0, number=5)
    pinned = add_booking(
        id02,
        cycle,
        g.start(day(8), 0),
        g.start(day(9), 0),
        kind=BookingKind.EXPERIMENT,
        status=BookingStatus.PUBLISHED,
        title="pinned",
    )
    db.session.add(Experiment(booking_id=pinned.id, award_id=a5.id, local_contact_id=contact.id))
    draft = add_booking(id01, cycle, g.start(day(12), 0), g.start(day(13), 0), kind=BookingKind.EXPERIMENT)
    db.session.add(Experiment(booking_id=draft.id, award_id=a1.id))
    db.session.commit()
    return {
        "staff": staff,
        "cycle": cycle,
        "id01": id01,
        "id02": id02,
        "awards": (a1, a2, a3, a4, a5),
        "pinned": pinned,
        "draft": draft,
        "contact": contact,
    }


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
