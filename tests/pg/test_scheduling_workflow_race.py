"""Races of the schedule workflow on PostgreSQL (committed data): two staff publishing the same
cycle at the same moment publish it once and each team is e-mailed once; two clocks running at
once start and complete each experiment once. Never an error."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.core.errors import DomainError
from app.core.models import OutboxMessage
from app.extensions import db
from app.facility.models import Booking, BookingStatus
from app.reviews.models import Award
from app.scheduling import adapters, events, services, solver
from app.scheduling.models import Experiment

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def planned(app, committed_db):
    from tests.factories_scheduling import make_small_cycle

    with app.app_context():
        small = make_small_cycle()
        built = adapters.build_problem(small["cycle"])
        services.save_draft(built, solver.solve(built.problem, use_cpsat=False), actor=small["staff"], now=NOW)
        ids = {"cycle": small["cycle"].id, "staff": small["staff"].id}
        db.session.remove()
    return ids


def _together(app, n: int, work) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes.append(work())
            except DomainError as exc:
                outcomes.append(exc.code)
            except BaseException as exc:  # noqa: BLE001 - the test reports it
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes), errors


def test_two_staff_publishing_at_once_publish_once_and_mail_each_team_once(app, planned):
    from app.accounts.models import User

    def publish() -> str:
        staff = db.session.get(User, planned["staff"])
        services.publish_schedule(planned["cycle"], actor=staff, now=NOW)
        return "ok"

    outcomes, errors = _together(app, 2, publish)
    assert errors == []
    assert outcomes == ["nothing_to_publish", "ok"]
    with app.app_context():
        proposals = db.session.scalar(
            select(func.count(func.distinct(Award.proposal_id)))
            .join(Experiment, Experiment.award_id == Award.id)
            .where(Experiment.published_at == NOW)
        )
        letters = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.subject.like("Beamtime scheduled%"))
        )
        db.session.remove()
    assert letters == proposals > 0


def test_two_clocks_at_once_start_and_complete_each_experiment_once(app, planned):
    from app.core import events as core_events

    with app.app_context():
        from app.accounts.models import User

        services.publish_schedule(planned["cycle"], actor=db.session.get(User, planned["staff"]), now=NOW)
        db.session.remove()
    seen: list = []
    lock = threading.Lock()

    def record(event) -> None:
        with lock:
            seen.append(event)

    core_events.subscribe(events.ExperimentCompleted, record)
    try:
        after = datetime(2027, 3, 20, tzinfo=UTC)
        outcomes, errors = _together(app, 2, lambda: str(services.advance_experiments(now=after).completed))
    finally:
        core_events.unsubscribe(events.ExperimentCompleted, record)
    assert errors == []
    with app.app_context():
        total = db.session.scalar(
            select(func.count()).where(Booking.cycle_id == planned["cycle"], Booking.status == BookingStatus.COMPLETED)
        )
        db.session.remove()
    assert sorted(int(o) for o in outcomes) == [0, total]
    assert len(seen) == total == len({e.experiment_id for e in seen})
