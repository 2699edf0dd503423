"""`flask schedule solve`: progress, a summary per instrument, planned experiments stored
(or, with --dry-run, nothing)."""

from sqlalchemy import func, select

from app.extensions import db
from app.facility.models import Booking, BookingKind, BookingStatus
from tests.factories_scheduling import make_small_cycle


def planned() -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.kind == BookingKind.EXPERIMENT, Booking.status == BookingStatus.PLANNED)
            .order_by(Booking.instrument_id, Booking.starts_at)
        )
    )


def test_dry_run_shows_the_summary_and_stores_nothing(app):
    small = make_small_cycle()
    before = [(b.id, b.starts_at) for b in planned()]
    result = app.test_cli_runner().invoke(args=["schedule", "solve", "--cycle", "2027-I", "--effort", "1", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps at the terminal width
    assert "groups solved" in out and "objective" in out and "gap" in out
    assert "ID01" in out and "ID02" in out and "mode_unavailable 1" in out
    assert "never runs in the required mode hybrid" in out  # the reason in words
    assert "Dry run" in out
    assert [(b.id, b.starts_at) for b in planned()] == before
    assert small["draft"].id in {b.id for b in planned()}


def test_solve_stores_planned_experiments_replacing_the_draft(app):
    make_small_cycle()
    result = app.test_cli_runner().invoke(args=["schedule", "solve", "--cycle", "2027-I", "--effort", "1"])
    assert result.exit_code == 0, result.output
    assert "Stored 3 planned experiments (replacing 1" in " ".join(result.output.split())
    assert len(planned()) == 3
    published = db.session.scalar(
        select(func.count()).select_from(Booking).where(Booking.status == BookingStatus.PUBLISHED)
    )
    assert published == 1  # the pin stays


def test_unknown_cycle_and_bad_effort_are_clear_errors(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["schedule", "solve", "--cycle", "1999-X"])
    assert result.exit_code != 0 and "No such cycle." in result.output
    result = runner.invoke(args=["schedule", "solve", "--cycle", "2027-I", "--effort", "11"])
    assert result.exit_code != 0 and "--effort" in result.output
