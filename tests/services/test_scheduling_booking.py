"""Direct booking of a free block: on the grid, inside the cycle, never in a shutdown, never
overlapping; every bad input refused with a clear message and nothing stored."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Booking, BookingKind, BookingStatus
from app.scheduling import queries, services
from app.scheduling.calendar import CycleGrid
from app.web.messages import message
from tests.factories import make_user
from tests.factories_facility import make_cycle, make_facility, make_instrument

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
DAY = date(2027, 3, 2)


@pytest.fixture
def staff():
    user = make_user(roles=[Role.USER_OFFICE])
    db.session.commit()
    return user


@pytest.fixture
def setup():
    """Zurich, shifts 00/08/16, instrument ID01 (changeover 1), cycle 2027-I (1 March – 31 July)."""
    make_facility()
    instrument = make_instrument(code="ID01", changeover_shifts=1)
    cycle = make_cycle()
    db.session.commit()
    return instrument, cycle


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def book(instrument, cycle, actor, **kwargs):
    values = {"kind": "maintenance", "day": DAY, "shift": 1, "length": 2, "title": "Vacuum work", "now": NOW}
    values.update(kwargs)
    return services.book_block(instrument.id, cycle.id, actor=actor, **values)


def test_staff_book_a_free_block_on_the_shift_grid(setup, staff):
    instrument, cycle = setup
    booking = book(instrument, cycle, staff, length=3)
    g = facility_queries.grid()
    assert booking.starts_at == g.start(DAY, 1)
    assert booking.ends_at == g.start(date(2027, 3, 3), 1)
    assert booking.kind is BookingKind.MAINTENANCE and booking.status is BookingStatus.CONFIRMED
    assert count() == 1


def test_back_to_back_blocks_are_accepted(setup, staff):
    instrument, cycle = setup
    book(instrument, cycle, staff, shift=0, length=1)
    book(instrument, cycle, staff, shift=1, length=1, kind="in_house")
    assert count() == 2


def test_the_same_block_twice_is_slot_taken(setup, staff):
    instrument, cycle = setup
    book(instrument, cycle, staff)
    with pytest.raises(Conflict) as caught:
        book(instrument, cycle, staff, shift=2, length=1)
    assert caught.value.code == "slot_taken"
    assert "Vacuum work" in message(caught.value)
    assert count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"kind": "experiment"}, "block_kind", "kind"),
        ({"kind": "party"}, "block_kind", "kind"),
        ({"day": None}, "required", "day"),
        ({"shift": 3}, "integer_range", "shift"),
        ({"shift": "x"}, "integer_range", "shift"),
        ({"length": 0}, "integer_range", "length"),
        ({"length": "two"}, "integer_range", "length"),
        ({"day": date(2027, 2, 28)}, "outside_cycle", "day"),
        ({"day": date(2027, 8, 1)}, "outside_cycle", "day"),
        ({"day": date(2027, 7, 31), "shift": 2, "length": 2}, "outside_cycle", "length"),
        ({"title": "x" * 201}, "too_long", "title"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(setup, staff, kwargs, code, field):
    instrument, cycle = setup
    with pytest.raises(ValidationFailed) as caught:
        book(instrument, cycle, staff, **kwargs)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert "could not be completed" not in message(caught.value)  # a real sentence
    assert count() == 0


def test_a_block_in_the_past_is_refused(setup, staff):
    instrument, cycle = setup
    with pytest.raises(ValidationFailed, match="in_past"):
        book(instrument, cycle, staff, now=datetime(2027, 3, 5, tzinfo=UTC))
    assert count() == 0


def test_a_block_in_a_shutdown_is_refused(setup, staff):
    instrument, cycle = setup
    g = facility_queries.grid()
    facility_services.add_downtime(
        cycle.id,
        kind="shutdown",
        starts_at=g.start(DAY, 2),
        ends_at=g.start(date(2027, 3, 4), 0),
        title="Winter shutdown",
        actor=staff,
        now=NOW,
    )
    with pytest.raises(ValidationFailed) as caught:
        book(instrument, cycle, staff)
    assert caught.value.code == "in_shutdown"
    assert "Winter shutdown" in message(caught.value)
    assert count() == 0


def test_a_retired_instrument_cannot_be_booked(setup, staff):
    instrument, cycle = setup
    instrument.active = False
    db.session.commit()
    with pytest.raises(ValidationFailed, match="instrument_retired"):
        book(instrument, cycle, staff)


def test_unknown_instrument_or_cycle_is_not_found(setup, staff):
    instrument, cycle = setup
    with pytest.raises(NotFound):
        services.book_block(9999, cycle.id, kind="maintenance", day=DAY, shift=0, length=1, actor=staff, now=NOW)
    with pytest.raises(NotFound):
        services.book_block(instrument.id, 9999, kind="maintenance", day=DAY, shift=0, length=1, actor=staff, now=NOW)


def test_only_staff_book_blocks(setup):
    instrument, cycle = setup
    scientist = make_user(roles=[(Role.INSTRUMENT_SCIENTIST, instrument.id)])
    db.session.commit()
    for actor in (make_user(), scientist):
        with pytest.raises(PermissionDenied):
            book(instrument, cycle, actor)
    assert count() == 0


def test_an_experiment_keeps_the_changeover_from_another_experiment(setup, staff):
    instrument, cycle = setup
    cal = CycleGrid.of(cycle)
    first = cal.index(DAY, 0)
    db.session.add(
        Booking(
            instrument_id=instrument.id,
            cycle_id=cycle.id,
            kind=BookingKind.EXPERIMENT,
            status=BookingStatus.PLANNED,
            starts_at=cal.starts_at(first),
            ends_at=cal.ends_at(first + 2),
        )
    )
    db.session.flush()
    too_close = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=BookingKind.EXPERIMENT,
        status=BookingStatus.PLANNED,
        starts_at=cal.starts_at(first + 2),
        ends_at=cal.ends_at(first + 3),
    )
    with pytest.raises(Conflict, match="slot_taken"):
        services.insert_booking(too_close, cal, first + 2, first + 3, changeover=1)
    fine = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=BookingKind.EXPERIMENT,
        status=BookingStatus.PLANNED,
        starts_at=cal.starts_at(first + 3),
        ends_at=cal.ends_at(first + 4),
    )
    services.insert_booking(fine, cal, first + 3, first + 4, changeover=1)
    assert count() == 2


def test_free_windows_leave_out_bookings_and_shutdowns(setup, staff):
    instrument, cycle = setup
    book(instrument, cycle, staff, day=date(2027, 3, 10), shift=0, length=3)
    windows = queries.free_windows(cycle, instrument, now=NOW)
    cal = CycleGrid.of(cycle)
    assert len(windows) == 2
    assert windows[0].starts_at == cal.starts_at(0)
    assert windows[0].ends_at == facility_queries.grid().start(date(2027, 3, 10), 0)
    assert windows[1].starts_at == facility_queries.grid().start(date(2027, 3, 11), 0)
    assert sum(w.shifts for w in windows) == len(cal) - 3


def test_cycle_grid_maps_instants_to_indices_across_daylight_saving(setup):
    _instrument, cycle = setup
    cal = CycleGrid.of(cycle)
    g = facility_queries.grid()
    # 2027-03-28: Zurich springs forward; the 00:00 shift lasts 7 hours
    i = cal.index(date(2027, 3, 28), 0)
    assert cal.index_at(g.start(date(2027, 3, 28), 1)) == i + 1
    assert (cal.ends_at(i + 1) - cal.starts_at(i)).total_seconds() == 7 * 3600
    assert list(cal.covering(cal.starts_at(i), cal.ends_at(i + 2))) == [i, i + 1]
    assert len(cal) == (date(2027, 7, 31) - date(2027, 3, 1)).days * 3 + 3


def test_staff_set_the_maximum_number_of_sessions_of_an_award(staff):
    from app.scheduling.models import AwardSchedule
    from tests import factories_proposals as fp
    from tests.factories_scheduling import make_award

    make_facility()
    instrument = fp.make_instrument()
    award = make_award(call=fp.make_call(instruments=[instrument]), instrument=instrument, shifts=6)
    services.set_max_sessions(award.id, "3", actor=staff)
    assert db.session.get(AwardSchedule, award.id).max_sessions == 3
    for bad in ("0", "7", "many"):
        with pytest.raises(ValidationFailed, match="integer_range"):
            services.set_max_sessions(award.id, bad, actor=staff)
    with pytest.raises(PermissionDenied):
        services.set_max_sessions(award.id, 2, actor=make_user())
    with pytest.raises(NotFound):
        services.set_max_sessions(99999, 2, actor=staff)
    assert db.session.get(AwardSchedule, award.id).max_sessions == 3
