"""Two rapid-access PIs booking in the same slot at the same moment (PostgreSQL, committed data):
the same shifts → one session and one clear "slot taken"; different shifts → both sessions,
the slot split around them. Never two sessions on one shift, never an error."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus
from app.scheduling import services

NOW = datetime(2027, 1, 15, tzinfo=UTC)


@pytest.fixture
def two_pis(app, committed_db):
    from tests import factories_proposals as fp
    from tests.factories_facility import make_facility
    from tests.factories_scheduling import add_booking, make_award, make_rapid_call

    with app.app_context():
        make_facility()
        instrument = fp.make_instrument(code="ID-RACE")
        cycle = fp.make_cycle(starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31))
        call = make_rapid_call(cycle, [instrument])
        awards = [make_award(call=call, instrument=instrument, shifts=6, number=n) for n in (1, 2)]
        g = facility_queries.grid()
        add_booking(
            instrument,
            cycle,
            g.start(date(2027, 3, 8), 0),
            g.start(date(2027, 3, 14), 0),
            kind=BookingKind.RAPID_ACCESS,
        )
        ids = [(a.id, a.proposal.pi.user_id) for a in awards]
        db.session.remove()
    return ids


def race(app, two_pis, days):
    from app.accounts.models import User

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    real = services._containing_slot
    local = threading.local()

    def together(*args, **kwargs):
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=20)  # both have read everything before either locks the slot
        return real(*args, **kwargs)

    def attempt(award_id, user_id, day):
        with app.app_context():
            try:
                services.book_rapid_access(
                    award_id, day=day, shift=0, length=3, actor=db.session.get(User, user_id), now=NOW
                )
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc.code)
            except DomainError as exc:
                outcomes.append(exc.code)
            except BaseException as exc:  # noqa: BLE001 - the test demands none
                errors.append(exc)
            finally:
                db.session.remove()

    services._containing_slot = together
    try:
        threads = [
            threading.Thread(target=attempt, args=(award_id, user_id, d))
            for (award_id, user_id), d in zip(two_pis, days, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        services._containing_slot = real
    with app.app_context():
        rows = list(db.session.scalars(select(Booking).where(Booking.status != BookingStatus.CANCELLED)))
        kinds = sorted(b.kind.value for b in rows)
        db.session.remove()
    return errors, sorted(outcomes), kinds


def test_the_same_shifts_at_once_give_one_session_and_one_slot_taken(app, two_pis):
    errors, outcomes, kinds = race(app, two_pis, [date(2027, 3, 10), date(2027, 3, 10)])
    assert errors == []
    assert outcomes == ["ok", "slot_taken"]
    assert kinds == ["experiment", "rapid_access", "rapid_access"]


def test_different_shifts_of_one_slot_at_once_both_succeed(app, two_pis):
    errors, outcomes, kinds = race(app, two_pis, [date(2027, 3, 9), date(2027, 3, 12)])
    assert errors == []
    assert outcomes == ["ok", "ok"]
    assert kinds == ["experiment", "experiment", "rapid_access", "rapid_access", "rapid_access"]
