"""The whole demo, as `flask seed-demo` runs it: every part seeds with the command's console as
its progress display (each part prints its line through it), the visits find the published
experiments, and a second run creates nothing. The schedules: each ended cycle published and
run, with delivered shifts and some lost time; the coming cycle a draft of planned experiments
of the long-term programmes (awarded on the older past cycle), nothing of it published."""

from __future__ import annotations

import io
from datetime import date

from rich.console import Console
from sqlalchemy import func, select

from app import demo
from app.demo.facility import demo_cycles
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingKind, BookingStatus, CapacityCommitment
from app.proposals.models import AccessRoute, Call, Proposal, ProposalMember
from app.proposals.status import ProposalStatus
from app.reports.models import ReportUsage
from app.reviews.models import Award
from app.scheduling.models import Experiment, ScheduleDraft
from app.visits.models import Visit


def test_the_whole_demo_seeds_with_a_console_and_once(app_ctx):
    out = io.StringIO()
    first = demo.seed(progress=Console(file=out, width=200))
    printed = out.getvalue()
    for part in (
        "demo facility",
        "demo proposals",
        "demo reviews",
        "demo long-term programmes",
        "demo schedules",
        "demo outcomes",
        "demo reports",
    ):
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
    _assert_long_term_programmes()
    _assert_schedules()
    again = demo.seed(progress=Console(file=io.StringIO()))
    assert again.created == 0
    assert db.session.scalar(select(func.count()).select_from(ScheduleDraft)) == len(demo_cycles(date.today()))


def _cycles():
    return [facility_queries.get_cycle_by_name(name) for name, _s, _e in demo_cycles(date.today())]


def _assert_long_term_programmes() -> None:
    """A long-term call on the older past cycle: a handful of proposals by international teams,
    decided, the awards committing shifts on the following cycles; the standard call of that cycle
    still accepts about 45 %."""
    older, *later = _cycles()
    calls = {c.route: c for c in db.session.scalars(select(Call).where(Call.cycle_id == older.id))}
    call = calls[AccessRoute.LONG_TERM]
    assert call.max_cycles == 3
    proposals = list(db.session.scalars(select(Proposal).where(Proposal.call_id == call.id)))
    assert 8 <= len(proposals) <= 12
    assert ProposalStatus.UNDER_REVIEW not in {p.status for p in proposals}
    international = 0
    for proposal in proposals:
        countries = set(
            db.session.scalars(select(ProposalMember.country_code).where(ProposalMember.proposal_id == proposal.id))
        )
        international += len(countries) > 1
    assert international >= len(proposals) * 0.7
    awards = list(db.session.scalars(select(Award).where(Award.call_id == call.id)))
    assert awards and all(a.long_term and a.cycles > 1 for a in awards)
    sources = set(
        db.session.scalars(select(CapacityCommitment.source).where(CapacityCommitment.cycle_name == later[0].name))
    )
    assert all(s.startswith(f"allocation {call.id}: ") for s in sources) and len(sources) == len(awards)
    standard = list(
        db.session.scalars(select(Proposal.status).where(Proposal.call_id == calls[AccessRoute.STANDARD].id))
    )
    assert 0.35 <= standard.count(ProposalStatus.ACCEPTED) / len(standard) <= 0.55


def _experiments(cycle):
    return db.session.execute(
        select(Booking, Experiment)
        .join(Experiment, Experiment.booking_id == Booking.id)
        .where(Booking.cycle_id == cycle.id, Booking.kind == BookingKind.EXPERIMENT)
    ).all()


def _assert_schedules() -> None:
    """Every ended cycle published and run (delivered shifts, some lost time); the coming one a
    draft of the long-term programmes' planned experiments, nothing published."""
    today = date.today()
    *past, coming = _cycles()
    for cycle in past:
        if cycle.ends_on >= today:
            continue
        drafts = list(db.session.scalars(select(ScheduleDraft).where(ScheduleDraft.cycle_id == cycle.id)))
        assert drafts and all(d.published_at is not None for d in drafts), cycle.name
        rows = _experiments(cycle)
        assert rows and {b.status for b, _e in rows} == {BookingStatus.COMPLETED}, cycle.name
        assert all(e.published_at is not None and e.delivered_shifts is not None for _b, e in rows)
        assert sum(e.delivered_shifts for _b, e in rows) > 0, cycle.name
        assert any(e.lost_shifts > 0 and e.lost_reason is not None for _b, e in rows), cycle.name
    draft = db.session.scalar(select(ScheduleDraft).where(ScheduleDraft.cycle_id == coming.id))
    assert draft is not None and draft.published_at is None
    rows = _experiments(coming)
    assert rows and {b.status for b, _e in rows} == {BookingStatus.PLANNED}
    assert all(e.published_at is None for _b, e in rows)
    # the coming cycle's call is open: its sessions are the long-term awards of an earlier cycle
    calls = {db.session.get(Call, e.award.call_id) for _b, e in rows}
    assert {c.route for c in calls} == {AccessRoute.LONG_TERM} and all(c.cycle_id != coming.id for c in calls)
    assert all(e.award.long_term for _b, e in rows)
