"""The schedule workflow (issue 7): solve from a job request into a draft, edit the draft with
warnings first, pins kept when solving again, drafts compared, publishing that e-mails each
team once through the real SMTP sink, later changes that e-mail only that team, the clock, and
delivered shifts."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core import events, jobrequests, outbox
from app.core.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.models import JobStatus, OutboxMessage
from app.extensions import db
from app.facility.models import Booking, BookingKind, BookingStatus
from app.jobs import registry
from app.proposals.models import MemberRole, ProposalMember
from app.scheduling import queries, services
from app.scheduling.calendar import CycleGrid
from app.scheduling.events import (
    ExperimentCancelled,
    ExperimentChanged,
    ExperimentCompleted,
    ExperimentStarted,
    SchedulePublished,
)
from app.scheduling.models import Experiment, ExperimentPin, LostTimeReason, ScheduleDraft
from tests.factories import make_user
from tests.factories_scheduling import make_scientist, make_small_cycle

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def day(d: int) -> date:
    return date(2027, 3, d)


@pytest.fixture
def small():
    world = make_small_cycle()
    a1 = world["awards"][0]
    co = make_user(name="Cora Coproposer", email="cora@example.org")
    db.session.add(ProposalMember(proposal_id=a1.proposal_id, user_id=co.id, role=MemberRole.CO_PROPOSER))
    db.session.commit()
    world["co"] = co
    return world


@pytest.fixture
def seen():
    got: list = []
    kinds = (SchedulePublished, ExperimentChanged, ExperimentCancelled, ExperimentStarted, ExperimentCompleted)
    for kind in kinds:
        events.subscribe(kind, got.append)
    yield got
    for kind in kinds:
        events.unsubscribe(kind, got.append)


class Progress:
    """What the jobs process would write on the job's row (its own connection cannot see the
    test's rolled-back transaction; the e2e test runs the real poller)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, done, total=None, message=None) -> None:
        self.calls.append((done, total, message))


def _solve(small, effort=1):
    job = services.request_solve(small["cycle"].id, effort=effort, actor=small["staff"], now=NOW)
    claimed = jobrequests.claim_next(now=NOW)
    assert claimed.id == job.id and claimed.status is JobStatus.RUNNING
    progress = Progress()
    result = registry.HANDLERS["schedule.solve"](claimed, progress)
    claimed.status = JobStatus.DONE  # what jobrequests.finish writes
    db.session.commit()
    return db.session.get(ScheduleDraft, result["draft_id"]), progress


def _planned(cycle_id):
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.cycle_id == cycle_id, Booking.status == BookingStatus.PLANNED)
            .order_by(Booking.starts_at)
        )
    )


def test_a_solve_from_the_web_runs_as_a_job_and_is_kept_as_the_applied_draft(small):
    draft, progress = _solve(small)
    assert progress.calls[0][0] == 0 and progress.calls[-1][0] == progress.calls[-1][1] >= 1
    assert "objective=" in progress.calls[-1][2] and "bound=" in progress.calls[-1][2]
    assert draft.number == 1 and draft.applied and draft.effort == 1
    planned = _planned(small["cycle"].id)
    assert {s["booking_id"] for s in draft.sessions} == {b.id for b in planned}
    assert draft.objective > 0 and draft.bound >= draft.objective
    reasons = {u["reference"]: u["reason"] for u in draft.unplaced}
    assert reasons[small["awards"][3].proposal.reference] == "mode_unavailable"
    # the second solve of the same cycle while one is queued is refused
    services.request_solve(small["cycle"].id, effort=1, actor=small["staff"], now=NOW)
    with pytest.raises(Conflict, match="solve_running"):
        services.request_solve(small["cycle"].id, effort=1, actor=small["staff"], now=NOW)


def test_only_staff_and_instrument_scientists_solve_and_effort_is_checked(small):
    user = make_user()
    with pytest.raises(PermissionDenied):
        services.request_solve(small["cycle"].id, actor=user, now=NOW)
    with pytest.raises(ValidationFailed) as error:
        services.request_solve(small["cycle"].id, effort="11", actor=small["staff"], now=NOW)
    assert error.value.field == "effort"
    assert services.find_active_solve(small["cycle"].id) is None
    scientist = make_scientist(small["id01"])
    assert services.request_solve(small["cycle"].id, effort=1, actor=scientist, now=NOW).kind == "schedule.solve"


def test_a_pinned_experiment_stays_when_solving_again_and_drafts_compare(small):
    first, _ = _solve(small)
    planned = _planned(small["cycle"].id)
    keep = planned[0]
    services.pin_experiment(keep.id, actor=small["staff"], now=NOW)
    # move another one by hand: the applied draft's snapshot follows
    other = next(b for b in planned if b.id != keep.id and b.instrument_id == small["id02"].id)
    with pytest.raises(InvalidState, match="placement_unconfirmed"):
        services.move_experiment(other.id, day=day(2), shift=0, length=1, actor=small["staff"], now=NOW)
    services.move_experiment(other.id, day=day(14), shift=0, length=1, confirm=True, actor=small["staff"], now=NOW)
    db.session.refresh(first)
    assert first.edited_at is not None
    moved = next(s for s in first.sessions if s["booking_id"] == other.id)
    assert moved["starts_at"].startswith("2027-03-1")
    second, _ = _solve(small)
    assert second.number == 2 and second.applied
    db.session.refresh(first)
    assert not first.applied
    assert db.session.get(Booking, keep.id).status is BookingStatus.PLANNED  # the pin stayed
    assert any(s["booking_id"] == keep.id and s["pinned"] for s in second.sessions)
    diff = queries.compare_drafts(first.id, second.id)
    assert diff.objective == (first.objective, second.objective)
    assert any(row.change == "moved" for row in diff.rows) or diff.rows
    # apply the first draft again: its sessions become the planned experiments
    services.apply_draft(first.id, actor=small["staff"], now=NOW)
    got = sorted((b.instrument.code, b.starts_at.isoformat()) for b in _planned(small["cycle"].id))
    assert got == sorted((s["instrument"], s["starts_at"]) for s in first.sessions)


def test_overlaps_are_refused_and_nothing_changes(small):
    _solve(small)
    id01 = [b for b in _planned(small["cycle"].id) if b.instrument_id == small["id01"].id]
    a, b = id01[0], id01[1] if len(id01) > 1 else None
    placement = services.check_move(a.id, day=day(3), shift=0, length=2, actor=small["staff"])
    assert any(w.code == "placement_overlap" and w.blocking for w in placement.warnings)  # maintenance
    before = (a.starts_at, a.ends_at)
    with pytest.raises(Conflict, match="placement_overlap"):
        services.move_experiment(a.id, day=day(3), shift=0, length=2, confirm=True, actor=small["staff"], now=NOW)
    db.session.refresh(a)
    assert (a.starts_at, a.ends_at) == before
    assert b is not None
    placements = services.check_swap(a.id, b.id, actor=small["staff"])
    b_before = b.starts_at
    if any(p.blocked for p in placements):
        with pytest.raises(Conflict):
            services.swap_experiments(a.id, b.id, confirm=True, actor=small["staff"], now=NOW)
        db.session.refresh(b)
        assert b.starts_at == b_before
    else:
        services.swap_experiments(a.id, b.id, confirm=True, actor=small["staff"], now=NOW)
        db.session.refresh(b)
        assert b.starts_at == before[0]


def test_wrong_roles_cannot_edit_or_publish_and_nothing_changes(small, smtp_sink):
    _solve(small)
    planned = _planned(small["cycle"].id)
    scientist_of_id02 = make_scientist(small["id02"])
    on_id01 = next(b for b in planned if b.instrument_id == small["id01"].id)
    with pytest.raises(PermissionDenied):
        services.pin_experiment(on_id01.id, actor=scientist_of_id02, now=NOW)
    with pytest.raises(PermissionDenied):
        services.publish_schedule(small["cycle"].id, actor=scientist_of_id02, now=NOW)
    with pytest.raises(PermissionDenied):
        services.publish_schedule(small["cycle"].id, actor=make_user(), now=NOW)
    assert db.session.get(ExperimentPin, on_id01.id) is None
    assert all(b.status is BookingStatus.PLANNED for b in _planned(small["cycle"].id))
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_publishing_emails_each_team_once_and_a_change_only_that_team(small, smtp_sink, seen):
    _solve(small)
    ids = services.publish_schedule(small["cycle"].id, actor=small["staff"], now=NOW)
    experiments = [db.session.get(Experiment, i) for i in ids]
    assert all(e.booking.status is BookingStatus.PUBLISHED and e.published_at == NOW for e in experiments)
    assert any(isinstance(e, SchedulePublished) and set(e.experiment_ids) == set(ids) for e in seen)
    with pytest.raises(InvalidState, match="nothing_to_publish"):
        services.publish_schedule(small["cycle"].id, actor=small["staff"], now=NOW)
    outbox.send_due(now=NOW + timedelta(minutes=1))
    proposals = {e.award.proposal_id for e in experiments}
    assert len(smtp_sink.messages) == len(proposals)
    a1 = small["awards"][0]
    [to_a1] = [m for m in smtp_sink.messages if a1.proposal.reference in m.subject]
    assert set(to_a1.rcpt_tos) == {a1.proposal.pi.user.email, "cora@example.org"}
    mine = next(e for e in experiments if e.award_id == a1.id)
    assert "ID01" in to_a1.text

    smtp_sink.clear()
    seen.clear()
    cal_day = mine.booking.starts_at
    services.move_experiment(
        mine.booking_id, day=day(13), shift=0, length=2, confirm=True, actor=small["staff"], now=NOW
    )
    db.session.refresh(mine)
    assert mine.sequence == 1 and mine.booking.starts_at != cal_day
    assert seen == [ExperimentChanged(experiment_id=mine.booking_id)]
    outbox.send_due(now=NOW + timedelta(minutes=2))
    [changed] = smtp_sink.messages
    assert set(changed.rcpt_tos) == {a1.proposal.pi.user.email, "cora@example.org"}
    assert "changed" in changed.subject

    smtp_sink.clear()
    with pytest.raises(ValidationFailed) as error:
        services.cancel_experiment(mine.booking_id, reason=" ", actor=small["staff"], now=NOW)
    assert error.value.field == "reason"
    with pytest.raises(PermissionDenied):
        services.cancel_experiment(mine.booking_id, reason="x", actor=make_user(), now=NOW)
    services.cancel_experiment(mine.booking_id, reason="Beamline repair", actor=small["staff"], now=NOW)
    db.session.refresh(mine)
    assert mine.booking.status is BookingStatus.CANCELLED and mine.sequence == 2
    assert seen[-1] == ExperimentCancelled(experiment_id=mine.booking_id)
    outbox.send_due(now=NOW + timedelta(minutes=3))
    [cancelled] = smtp_sink.messages
    assert "cancelled" in cancelled.subject and "Beamline repair" in cancelled.text


def test_the_clock_starts_and_completes_experiments_once(small, seen):
    _solve(small)
    services.publish_schedule(small["cycle"].id, actor=small["staff"], now=NOW)
    pinned = db.session.get(Booking, small["pinned"].id)  # published on 8 March
    during = pinned.starts_at + timedelta(hours=1)
    run = services.advance_experiments(now=during)
    assert run.started >= 1
    assert db.session.get(Booking, pinned.id).status is BookingStatus.RUNNING
    assert services.advance_experiments(now=during).started == 0  # idempotent
    seen.clear()
    after = datetime(2027, 3, 20, tzinfo=UTC)
    run = services.advance_experiments(now=after)
    assert run.completed >= 1
    assert ExperimentCompleted(experiment_id=pinned.id) in seen
    assert services.advance_experiments(now=after) == services.ClockRun(0, 0)
    statuses = set(
        db.session.scalars(
            select(Booking.status).where(Booking.kind == BookingKind.EXPERIMENT, Booking.cycle_id == pinned.cycle_id)
        )
    )
    assert statuses == {BookingStatus.COMPLETED}


def test_delivered_and_lost_shifts_are_validated(small):
    contact = small["contact"]
    pinned = small["pinned"]  # 3 shifts, local contact Lia
    with pytest.raises(InvalidState, match="experiment_not_ended"):
        services.record_delivery(pinned.id, delivered=3, lost=0, reason=None, actor=contact, now=NOW)
    services.advance_experiments(now=datetime(2027, 3, 20, tzinfo=UTC))
    with pytest.raises(NotFound):
        services.record_delivery(pinned.id, delivered=3, lost=0, reason=None, actor=make_user(), now=NOW)
    with pytest.raises(ValidationFailed) as error:
        services.record_delivery(pinned.id, delivered=2, lost=2, reason="machine_fault", actor=contact, now=NOW)
    assert error.value.field == "lost_shifts"
    with pytest.raises(ValidationFailed) as error:
        services.record_delivery(pinned.id, delivered=2, lost=1, reason="", actor=contact, now=NOW)
    assert error.value.field == "lost_reason"
    with pytest.raises(ValidationFailed) as error:
        services.record_delivery(pinned.id, delivered="x", lost=1, reason="", actor=contact, now=NOW)
    assert error.value.field == "delivered_shifts"
    experiment = db.session.get(Experiment, pinned.id)
    assert experiment.delivered_shifts is None
    services.record_delivery(
        pinned.id, delivered=2, lost=1, reason="machine_fault", note="RF trip", actor=contact, now=NOW
    )
    db.session.refresh(experiment)
    assert (experiment.delivered_shifts, experiment.lost_shifts, experiment.lost_reason) == (
        2,
        1,
        LostTimeReason.MACHINE_FAULT,
    )
    assert experiment.lost_note == "RF trip"


def test_remove_and_add_by_hand_keep_the_draft_in_step(small):
    draft, _ = _solve(small)
    a1 = small["awards"][0]
    mine = next(b for b in _planned(small["cycle"].id) if db.session.get(Experiment, b.id).award_id == a1.id)
    cal = CycleGrid.of(small["cycle"])
    span = cal.covering(mine.starts_at, mine.ends_at)
    where = {"day": cal.shifts[span.start].day, "shift": cal.shifts[span.start].index, "length": len(span)}
    services.remove_experiment(mine.id, actor=small["staff"], now=NOW)
    db.session.refresh(draft)
    assert all(s["booking_id"] != mine.id for s in draft.sessions)
    assert any(u["award_id"] == a1.id and u["reason"] == "removed_by_hand" for u in draft.unplaced)
    placement = services.check_add(a1.id, **where, actor=small["staff"])
    assert not placement.blocked
    booking = services.add_experiment(a1.id, **where, confirm=True, actor=small["staff"], now=NOW)
    db.session.refresh(draft)
    assert any(s["booking_id"] == booking.id for s in draft.sessions)
    assert all(u["award_id"] != a1.id for u in draft.unplaced)


def test_publishing_moves_a_fully_placed_proposal_to_scheduled_and_no_other(small):
    from app.proposals.status import ProposalStatus
    from app.scheduling.calendar import CycleGrid

    _solve(small)
    ids = services.publish_schedule(small["cycle"].id, actor=small["staff"], now=NOW)
    cal = CycleGrid.of(small["cycle"])
    placed: dict[int, int] = {}
    for i in ids:
        e = db.session.get(Experiment, i)
        if e.booking.status is BookingStatus.PUBLISHED:
            placed[e.award_id] = placed.get(e.award_id, 0) + len(cal.covering(e.booking.starts_at, e.booking.ends_at))
    moved = 0
    for award in small["awards"]:
        db.session.refresh(award.proposal)
        complete = placed.get(award.id, 0) >= award.shifts
        expected = ProposalStatus.SCHEDULED if complete else ProposalStatus.ACCEPTED
        assert award.proposal.status is expected, (award.proposal.reference, placed.get(award.id), award.shifts)
        moved += complete
    assert 0 < moved < len(small["awards"])  # the small cycle places some awards fully, not all
