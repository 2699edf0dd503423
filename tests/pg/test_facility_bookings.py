"""The no-overlap rule of bookings held by PostgreSQL itself (DESIGN.md §5)."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.core.errors import Conflict
from app.extensions import db
from app.facility import queries, services
from app.facility.models import Booking, Cycle, Facility, Instrument

NOW = datetime(2027, 1, 15, tzinfo=UTC)
INSERT = text(
    "INSERT INTO bookings (instrument_id, cycle_id, kind, status, starts_at, ends_at, title, note, created_at) "
    "VALUES (:instrument, :cycle, 'maintenance', :status, :starts, :ends, 'sql', '', now())"
)


@pytest.fixture
def world(app, committed_db):
    from app.accounts import services as accounts

    with app.app_context():
        db.session.add(
            Facility(
                id=1,
                name="PG facility",
                host_country="CH",
                timezone="Europe/Zurich",
                shift_pattern=["00:00", "08:00", "16:00"],
                letterhead="",
            )
        )
        instrument = Instrument(code="ID01", name="One", techniques=[], start_shifts=[0], start_weekdays=[0])
        cycle = Cycle(name="2027-I", starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31))
        db.session.add_all([instrument, cycle])
        db.session.commit()
        staff = accounts.create_user(
            email="uo@example.org", name="Ursula Office", password=None, roles=[(Role.USER_OFFICE, None)]
        )
        ids = {"instrument": instrument.id, "cycle": cycle.id, "staff": staff.id}
        db.session.remove()
    return ids


def at(y, m, d, h):
    return datetime(y, m, d, h, tzinfo=UTC)


def insert(conn, ids, starts, ends, status="confirmed"):
    conn.execute(
        INSERT,
        {"instrument": ids["instrument"], "cycle": ids["cycle"], "status": status, "starts": starts, "ends": ends},
    )


def test_overlapping_booking_inserted_in_sql_is_refused(app, world):
    with app.app_context():
        with db.engine.begin() as conn:
            insert(conn, world, at(2027, 3, 2, 7), at(2027, 3, 2, 15))
        with pytest.raises(IntegrityError) as caught:
            with db.engine.begin() as conn:
                insert(conn, world, at(2027, 3, 2, 14), at(2027, 3, 2, 23))
        assert caught.value.orig.sqlstate == "23P01"
        assert "ex_bookings_no_overlap" in str(caught.value.orig)
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM bookings")).scalar() == 1


def test_back_to_back_and_cancelled_bookings_are_accepted(app, world):
    with app.app_context():
        with db.engine.begin() as conn:
            insert(conn, world, at(2027, 3, 2, 7), at(2027, 3, 2, 15))
            insert(conn, world, at(2027, 3, 2, 15), at(2027, 3, 2, 23))  # starts when the other ends
            insert(conn, world, at(2027, 3, 2, 0), at(2027, 3, 2, 7))  # ends when the other starts
            insert(conn, world, at(2027, 3, 2, 8), at(2027, 3, 2, 12), status="cancelled")  # frees its slot
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM bookings")).scalar() == 4


def test_constraint_violation_becomes_a_conflict_not_a_500(app, world, monkeypatch):
    """When the service's own check misses a concurrent booking, the constraint answers."""
    with app.app_context():
        with db.engine.begin() as conn:
            insert(conn, world, at(2027, 3, 2, 7), at(2027, 3, 2, 15))
        monkeypatch.setattr(queries, "overlapping_booking", lambda *a, **k: None)
        staff = db.session.get(User, world["staff"])
        g = queries.grid()
        with pytest.raises(Conflict) as caught:
            services.add_block(
                world["instrument"],
                world["cycle"],
                kind="maintenance",
                starts_at=g.start(date(2027, 3, 2), 1),
                ends_at=g.start(date(2027, 3, 2), 2),
                actor=staff,
                now=NOW,
            )
        assert caught.value.code == "booking_overlap"
        db.session.remove()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM bookings")).scalar() == 1


def test_two_people_booking_the_same_slot_at_once_get_one_success_and_one_conflict(app, world):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    real_check = queries.overlapping_booking

    def slow_check(*args, **kwargs):
        found = real_check(*args, **kwargs)
        barrier.wait(timeout=10)  # both have checked before either inserts
        return found

    def attempt():
        with app.app_context():
            try:
                staff = db.session.get(User, world["staff"])
                g = queries.grid()
                services.add_block(
                    world["instrument"],
                    world["cycle"],
                    kind="maintenance",
                    starts_at=g.start(date(2027, 3, 2), 1),
                    ends_at=g.start(date(2027, 3, 3), 0),
                    actor=staff,
                    now=NOW,
                )
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    queries.overlapping_booking = slow_check
    try:
        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        queries.overlapping_booking = real_check
    assert sorted(outcomes) == ["conflict", "ok"]
    with app.app_context():
        assert db.session.query(Booking).count() == 1
        db.session.remove()


def test_twenty_people_booking_the_same_block_get_one_booking_and_nineteen_clear_refusals(app, world):
    """Direct booking (scheduling, issue 6): every thread checks before any inserts, so the
    exclusion constraint decides; each refusal is Conflict("slot_taken"), never an error."""
    from app.scheduling import services as scheduling

    people = 20
    barrier = threading.Barrier(people)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    local = threading.local()
    real_check = queries.overlapping_booking

    def slow_check(*args, **kwargs):
        found = real_check(*args, **kwargs)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=30)  # everyone has checked before anyone inserts
        return found

    def attempt():
        with app.app_context():
            try:
                staff = db.session.get(User, world["staff"])
                scheduling.book_block(
                    world["instrument"],
                    world["cycle"],
                    kind="maintenance",
                    day=date(2027, 3, 2),
                    shift=1,
                    length=3,
                    title="race",
                    actor=staff,
                    now=NOW,
                )
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc.code)
            except BaseException as exc:  # noqa: BLE001 - counted: the test demands none
                errors.append(exc)
            finally:
                db.session.remove()

    queries.overlapping_booking = slow_check
    try:
        threads = [threading.Thread(target=attempt) for _ in range(people)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        queries.overlapping_booking = real_check
    assert errors == []
    assert sorted(outcomes) == ["ok"] + ["slot_taken"] * (people - 1)
    with app.app_context():
        assert db.session.query(Booking).count() == 1
        db.session.remove()
