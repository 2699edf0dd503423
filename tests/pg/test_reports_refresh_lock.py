"""Rebuilds of one cycle never interleave: the jobs process runs the minute refresh, a refresh
asked from the dashboard and the nightly rebuild in threads, and two delete-and-insert of the
same rows at once would collide on the rollups' unique keys."""

from __future__ import annotations

import threading

from sqlalchemy import text

from app.extensions import db
from app.reports import services as reports
from tests.factories_reports import make_example


def test_a_cycle_rebuild_waits_for_the_one_in_progress(app, committed_db):
    with app.app_context():
        ex = make_example()
        db.session.commit()
        cycle_id = ex.cycles["2027"].id

    finished = threading.Event()
    errors: list[BaseException] = []

    def refresh():
        try:
            with app.app_context():
                reports.refresh_cycles([cycle_id])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)
        finally:
            finished.set()

    with app.app_context(), db.engine.connect() as other:
        with other.begin():  # another rebuild of the same cycle holds its lock
            other.execute(
                text("SELECT pg_advisory_xact_lock(:space, :cycle)"),
                {"space": reports.CYCLE_LOCK_SPACE, "cycle": cycle_id},
            )
            thread = threading.Thread(target=refresh)
            thread.start()
            assert not finished.wait(1.0), "the rebuild did not wait for the one in progress"
        assert finished.wait(30), "the rebuild never went on after the lock was released"
        thread.join(5)
    assert errors == []
    with app.app_context():
        assert reports.dirty_cycle_ids() == []


def test_two_clicks_at_once_queue_one_refresh(app, committed_db):
    from sqlalchemy import func, select

    from app.accounts.models import Role
    from app.core.models import JobRequest
    from tests.factories import make_user

    with app.app_context():
        staff = make_user(roles=[Role.USER_OFFICE])
        db.session.commit()
        staff_id = staff.id

    results: list = []
    errors: list[BaseException] = []

    def click():
        try:
            with app.app_context():
                from app.accounts.models import User

                outcome = reports.request_refresh(actor=db.session.get(User, staff_id))
                results.append(outcome.queued)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    with app.app_context(), db.engine.connect() as other:
        with other.begin():  # both clicks arrive while the lock is held, then race for it
            other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": reports.REFRESH_REQUEST_LOCK})
            threads = [threading.Thread(target=click) for _ in range(2)]
            for thread in threads:
                thread.start()
            threading.Event().wait(0.5)
            assert results == []
        for thread in threads:
            thread.join(30)
    assert errors == [] and sorted(results) == [False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(JobRequest.kind == reports.REFRESH_KIND)) == 1
