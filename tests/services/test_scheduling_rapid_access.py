"""A rapid-access PI books a session inside a rapid-access slot, within the award; the slot
is split or replaced in the same transaction; everything else is refused and nothing changes."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus
from app.scheduling import services
from app.scheduling.models import Experiment
from app.web.messages import message
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_facility import make_facility
from tests.factories_scheduling import add_booking, make_award, make_rapid_call

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
SLOT_DAY = date(2027, 3, 8)  # a Monday


@pytest.fixture
def rapid():
    """ID-RA (changeover 1), cycle 1 March – 31 July 2027, a rapid-access slot 8–14 March (18
    shifts), and an accepted, released rapid-access award of 6 shifts with its PI."""
    make_facility()
    instrument = fp.make_instrument(code="ID-RA", changeover_shifts=1)
    cycle = fp.make_cycle(starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31))
    call = make_rapid_call(cycle, [instrument])
    contact = make_user()
    award = make_award(call=call, instrument=instrument, shifts=6, local_contact=contact)
    g = facility_queries.grid()
    slot = add_booking(
        instrument,
        cycle,
        g.start(SLOT_DAY, 0),
        g.start(date(2027, 3, 14), 0),
        kind=BookingKind.RAPID_ACCESS,
        title="RA week",
    )
    pi = award.proposal.pi.user
    return {"award": award, "pi": pi, "slot": slot, "instrument": instrument, "cycle": cycle, "g": g}


def live(kind):
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.kind == kind, Booking.status != BookingStatus.CANCELLED)
            .order_by(Booking.starts_at)
        )
    )


def book(r, **kwargs):
    values = {"day": date(2027, 3, 9), "shift": 0, "length": 3, "actor": r["pi"], "now": NOW}
    values.update(kwargs)
    return services.book_rapid_access(r["award"].id, **values)


def test_booking_in_the_middle_splits_the_slot(rapid):
    r = rapid
    booking = book(r)
    g = r["g"]
    assert (booking.kind, booking.status) == (BookingKind.EXPERIMENT, BookingStatus.PUBLISHED)
    assert booking.starts_at == g.start(date(2027, 3, 9), 0) and booking.ends_at == g.start(date(2027, 3, 10), 0)
    slots = live(BookingKind.RAPID_ACCESS)
    assert [(s.starts_at, s.ends_at) for s in slots] == [
        (g.start(SLOT_DAY, 0), booking.starts_at),
        (booking.ends_at, g.start(date(2027, 3, 14), 0)),
    ]
    experiment = db.session.get(Experiment, booking.id)
    assert experiment.award_id == r["award"].id and experiment.local_contact_id == r["award"].local_contact_id


def test_booking_the_whole_slot_replaces_it(rapid):
    r = rapid
    r["award"].shifts = 18
    db.session.commit()
    book(r, day=SLOT_DAY, length=18)
    assert live(BookingKind.RAPID_ACCESS) == []
    assert len(live(BookingKind.EXPERIMENT)) == 1


def test_booking_at_the_start_of_the_slot_shrinks_it(rapid):
    r = rapid
    booking = book(r, day=SLOT_DAY)
    [slot] = live(BookingKind.RAPID_ACCESS)
    assert slot.id == r["slot"].id and slot.starts_at == booking.ends_at


def test_a_second_session_keeps_the_changeover_and_the_award(rapid):
    r = rapid
    book(r, day=date(2027, 3, 9), length=3)
    with pytest.raises(Conflict) as caught:  # right after the first: no changeover shift
        book(r, day=date(2027, 3, 10), shift=0, length=1)
    assert caught.value.code == "slot_taken"
    with pytest.raises(ValidationFailed) as caught:
        book(r, day=date(2027, 3, 11), length=4)
    assert (caught.value.code, caught.value.params["remaining"]) == ("award_exceeded", 3)
    book(r, day=date(2027, 3, 11), length=3)
    assert len(live(BookingKind.EXPERIMENT)) == 2


def test_the_same_time_twice_is_slot_taken(rapid):
    r = rapid
    r["award"].shifts = 12
    db.session.commit()
    book(r)
    with pytest.raises(Conflict) as caught:
        book(r)
    assert caught.value.code == "slot_taken" and "could not be completed" not in message(caught.value)
    assert len(live(BookingKind.EXPERIMENT)) == 1


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"day": date(2027, 3, 20)}, "not_in_rapid_slot", "day"),
        ({"day": date(2027, 3, 13), "length": 6}, "not_in_rapid_slot", "day"),
        ({"length": 7}, "award_exceeded", "length"),
        ({"length": 0}, "integer_range", "length"),
        ({"shift": 5}, "integer_range", "shift"),
        ({"day": None}, "required", "day"),
        ({"day": date(2027, 8, 3)}, "outside_cycle", "day"),
        ({"now": datetime(2027, 3, 10, tzinfo=UTC)}, "in_past", "day"),
    ],
)
def test_bad_input_is_refused_and_the_slot_stays(rapid, kwargs, code, field):
    r = rapid
    with pytest.raises(ValidationFailed) as caught:
        book(r, **kwargs)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert "could not be completed" not in message(caught.value)
    assert live(BookingKind.EXPERIMENT) == []
    [slot] = live(BookingKind.RAPID_ACCESS)
    assert (slot.starts_at, slot.ends_at) == (r["slot"].starts_at, r["slot"].ends_at)


def test_start_shifts_and_weekdays_of_the_instrument_hold(rapid):
    r = rapid
    r["instrument"].start_shifts = [0]
    r["instrument"].start_weekdays = [0, 1]
    db.session.commit()
    with pytest.raises(ValidationFailed, match="start_not_allowed"):
        book(r, shift=1)
    with pytest.raises(ValidationFailed, match="start_not_allowed"):
        book(r, day=date(2027, 3, 10))  # a Wednesday
    book(r, day=date(2027, 3, 9), shift=0)


def test_someone_else_cannot_book_the_award(rapid):
    r = rapid
    with pytest.raises(NotFound):
        book(r, actor=make_user())
    assert live(BookingKind.EXPERIMENT) == []


def test_an_unreleased_or_standard_award_is_not_bookable(rapid):
    r = rapid
    from app.reviews.models import Decision

    decision = db.session.get(Decision, r["award"].proposal_id)
    decision.released_at = None
    db.session.commit()
    with pytest.raises(NotFound):  # the PI does not know of the award before the release
        book(r)
    staff = make_user(roles=[Role.USER_OFFICE])
    db.session.commit()
    with pytest.raises(InvalidState, match="award_not_bookable"):
        book(r, actor=staff)
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0
