"""The whole demo, as `flask seed-demo` runs it: every part seeds with the command's console as
its progress display (each part prints its line through it), the visits find the published
experiments, and a second run creates nothing."""

from __future__ import annotations

import io

from rich.console import Console
from sqlalchemy import func, select

from app import demo
from app.extensions import db
from app.facility.models import Booking, BookingKind, BookingStatus
from app.reports.models import ReportUsage
from app.visits.models import Visit


def test_the_whole_demo_seeds_with_a_console_and_once(app_ctx):
    out = io.StringIO()
    first = demo.seed(progress=Console(file=out, width=200))
    printed = out.getvalue()
    for part in ("demo facility", "demo proposals", "demo reviews", "demo schedules", "demo outcomes", "demo reports"):
        assert part in printed, printed
    completed = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.kind == BookingKind.EXPERIMENT, Booking.status == BookingStatus.COMPLETED)
    )
    assert completed > 0
    assert db.session.scalar(select(func.count()).select_from(Visit)) > 0  # schedules are seeded before visits
    assert first.created > 0
    assert db.session.scalar(select(func.count()).select_from(ReportUsage)) > 0  # the dashboard has figures
    again = demo.seed(progress=Console(file=io.StringIO()))
    assert again.created == 0
