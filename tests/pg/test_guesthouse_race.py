"""Two bookings racing for the last bed (PostgreSQL, committed data): both read the bed as free,
exactly one gets it, the other a clear Conflict("bed_taken") — never an IntegrityError, never
two people in one bed. The exclusion constraint holds it; the services' check alone cannot."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.visits.guesthouse import services
from app.visits.guesthouse.models import BedBooking

ARRIVES = date(2027, 3, 9)


@pytest.fixture
def two_guests(app, committed_db):
    from tests.factories_onsite import make_guest_visit, make_room, office
    from tests.factories_visits import make_published_experiment

    with app.app_context():
        experiment = make_published_experiment()
        visits = [
            make_guest_visit(experiment, ARRIVES, ARRIVES + timedelta(days=3)),
            make_guest_visit(experiment, ARRIVES + timedelta(days=1), ARRIVES + timedelta(days=2)),
        ]
        room = make_room("single")  # the last bed
        actor = office()
        ids = ([v.id for v in visits], room.beds[0].id, actor.id)
        db.session.remove()
    return ids


def race(app, two_guests, booking):
    from app.accounts.models import User

    visit_ids, bed_id, actor_id = two_guests
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    real = services._in_the_way
    local = threading.local()

    def together(*args, **kwargs):
        found = real(*args, **kwargs)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=20)  # both have seen the bed free before either inserts
        return found

    def attempt(visit_id):
        with app.app_context():
            try:
                booking(visit_id, bed_id, db.session.get(User, actor_id))
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc.code)
            except DomainError as exc:
                outcomes.append(exc.code)
            except BaseException as exc:  # noqa: BLE001 - the test demands none
                errors.append(exc)
            finally:
                db.session.remove()

    services._in_the_way = together
    try:
        threads = [threading.Thread(target=attempt, args=(v,)) for v in visit_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        services._in_the_way = real
    with app.app_context():
        rows = list(db.session.scalars(select(BedBooking)))
        overlaps = db.session.scalar(
            text(
                "SELECT count(*) FROM bed_bookings a JOIN bed_bookings b ON a.bed_id = b.bed_id AND a.id < b.id "
                "AND daterange(a.first_night, a.last_night, '[]') && daterange(b.first_night, b.last_night, '[]')"
            )
        )
        db.session.remove()
    return errors, sorted(outcomes), rows, overlaps


def test_two_office_clerks_booking_the_last_bed_at_once_one_succeeds(app, two_guests):
    def by_hand(visit_id, bed_id, actor):
        services.book_bed(visit_id, bed_id, actor=actor)

    errors, outcomes, rows, overlaps = race(app, two_guests, by_hand)
    assert errors == []
    assert outcomes == ["bed_taken", "ok"]
    assert len(rows) == 1 and overlaps == 0


def test_two_automatic_runs_at_once_never_put_two_people_in_one_bed(app, two_guests):
    def automatically(visit_id, _bed_id, actor):
        result = services.assign_automatically(actor=actor, visit_ids=[visit_id])
        if result.unplaced:
            raise Conflict("bed_taken", night="—")

    errors, outcomes, rows, overlaps = race(app, two_guests, automatically)
    assert errors == []
    assert outcomes == ["bed_taken", "ok"]
    assert overlaps == 0
