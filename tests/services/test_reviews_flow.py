"""Issue 5 through the services: start, technical review, assignment, conflicts, grading."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.core import settings
from app.core.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.models import OutboxMessage
from app.extensions import db
from app.proposals.status import ProposalStatus
from app.reviews import queries, services
from app.reviews.models import (
    AssignmentSource,
    AssignmentState,
    Feasibility,
    PanelDecision,
    ReviewAssignment,
    TechnicalReview,
)
from tests import factories_proposals as fp
from tests.factories_reviews import AFTER_CLOSE, grant, make_review_setup

BEFORE_CLOSE = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)


def _started(**kwargs):
    setup = make_review_setup(**kwargs)
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    return setup


def _assignments(proposal_id=None):
    query = select(ReviewAssignment)
    if proposal_id is not None:
        query = query.where(ReviewAssignment.proposal_id == proposal_id)
    return list(db.session.scalars(query))


def test_start_review_refuses_an_open_call():
    setup = make_review_setup(proposals=1)
    with pytest.raises(InvalidState, match="call_still_open"):
        services.start_review(setup.call.id, actor=setup.staff, now=BEFORE_CLOSE)
    assert setup.proposals[0].status == ProposalStatus.SUBMITTED


def test_start_review_makes_technical_tasks_routes_to_the_panel_and_moves_proposals():
    setup = _started(proposals=2)
    for proposal in setup.proposals:
        assert proposal.status == ProposalStatus.UNDER_REVIEW
        assert db.session.get(PanelDecision, proposal.id).panel_id == setup.panel.id
    assert db.session.scalar(select(func.count(TechnicalReview.id))) == 2
    mails = list(db.session.scalars(select(OutboxMessage)))
    assert [m.recipients for m in mails] == [[setup.scientist.email]]
    with pytest.raises(Conflict):
        services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)


def test_start_review_is_for_staff_only():
    setup = make_review_setup(proposals=1)
    with pytest.raises(PermissionDenied):
        services.start_review(setup.call.id, actor=setup.reviewers[0], now=AFTER_CLOSE)


def test_only_the_instruments_scientists_write_its_technical_reviews():
    setup = _started(proposals=1)
    task = db.session.scalar(select(TechnicalReview))
    stranger = fp.make_person()
    grant(stranger, Role.INSTRUMENT_SCIENTIST, fp.make_instrument().id)
    with pytest.raises(NotFound):
        services.submit_technical_review(
            task.id, feasibility="feasible", recommended_shifts=4, comment_for_panel="ok", actor=stranger
        )
    with pytest.raises(PermissionDenied):  # staff see it, but do not write it
        services.submit_technical_review(
            task.id, feasibility="feasible", recommended_shifts=4, comment_for_panel="ok", actor=setup.staff
        )
    with pytest.raises(ValidationFailed) as info:
        services.submit_technical_review(
            task.id, feasibility="feasible", recommended_shifts=99, comment_for_panel="ok", actor=setup.scientist
        )
    assert info.value.field == "recommended_shifts"
    services.submit_technical_review(
        task.id, feasibility="not_feasible", recommended_shifts="", comment_for_panel="no", actor=setup.scientist
    )
    assert task.feasibility == Feasibility.NOT_FEASIBLE and task.recommended_shifts == 0


def test_assignment_gives_every_proposal_n_reviewers_and_never_a_conflict():
    setup = make_review_setup(reviewers=4, proposals=3)
    settings.set_setting("reviews.reviewers_per_proposal", 2, actor=setup.staff)
    # reviewer 0 is on the team of proposal 0; reviewer 1 works where proposal 1's PI works
    from app.proposals.models import MemberRole, ProposalMember

    setup.proposals[0].members.append(
        ProposalMember(user_id=setup.reviewers[0].id, role=MemberRole.CO_PROPOSER, institution_id=None)
    )
    setup.reviewers[1].institution_id = setup.proposals[1].pi.institution_id
    db.session.commit()
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    solution = services.run_assignment(setup.call.id, setup.panel.id, actor=setup.staff, now=AFTER_CLOSE)
    assert not solution.shortfalls
    pairs = {(a.reviewer_id, a.proposal_id) for a in _assignments()}
    assert len(pairs) == 6
    assert (setup.reviewers[0].id, setup.proposals[0].id) not in pairs
    assert (setup.reviewers[1].id, setup.proposals[1].id) not in pairs
    assert all(a.source == AssignmentSource.AUTO for a in _assignments())
    # running again keeps what is there
    services.run_assignment(setup.call.id, setup.panel.id, actor=setup.staff, now=AFTER_CLOSE)
    assert {(a.reviewer_id, a.proposal_id) for a in _assignments()} == pairs


def test_the_database_refuses_the_same_reviewer_twice_and_the_service_says_conflict():
    setup = _started(reviewers=2, proposals=1)
    proposal, reviewer = setup.proposals[0], setup.reviewers[0]
    row = services.override_assignment(proposal.id, reviewer.id, reason="expert in Pt", actor=setup.staff)
    assert row.source == AssignmentSource.OVERRIDE and row.reason == "expert in Pt"
    with pytest.raises(Conflict, match="reviewer_already_assigned"):
        services.override_assignment(proposal.id, reviewer.id, reason="again", actor=setup.staff)
    assert len(_assignments(proposal.id)) == 1
    db.session.add(
        ReviewAssignment(
            proposal_id=proposal.id, panel_id=setup.panel.id, reviewer_id=reviewer.id, source=AssignmentSource.AUTO
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_override_needs_a_reason_and_refuses_a_conflicted_reviewer():
    setup = _started(reviewers=2, proposals=1)
    proposal = setup.proposals[0]
    with pytest.raises(ValidationFailed) as info:
        services.override_assignment(proposal.id, setup.reviewers[0].id, reason=" ", actor=setup.staff)
    assert info.value.field == "reason"
    setup.reviewers[1].institution_id = proposal.pi.institution_id
    db.session.commit()
    with pytest.raises(InvalidState, match="reviewer_conflicted"):
        services.override_assignment(proposal.id, setup.reviewers[1].id, reason="why not", actor=setup.staff)


def test_a_reviewer_declaring_a_conflict_is_replaced():
    setup = make_review_setup(reviewers=3, proposals=1)
    settings.set_setting("reviews.reviewers_per_proposal", 2, actor=setup.staff)
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    services.run_assignment(setup.call.id, setup.panel.id, actor=setup.staff)
    proposal = setup.proposals[0]
    first = {a.reviewer_id for a in _assignments(proposal.id)}
    leaving = db.session.get(type(setup.reviewers[0]), sorted(first)[0])
    replacement = services.declare_conflict(proposal.id, reason="former student", actor=leaving)
    assert replacement is not None
    assert replacement.reviewer_id not in first
    assert replacement.source == AssignmentSource.REPLACEMENT
    states = {a.reviewer_id: a.state for a in _assignments(proposal.id)}
    assert states[leaving.id] == AssignmentState.CONFLICTED
    assert sum(s == AssignmentState.ASSIGNED for s in states.values()) == 2
    # and the leaving reviewer can no longer open it
    from app.proposals import services as proposal_services

    with pytest.raises(NotFound):
        proposal_services.get_visible_proposal(proposal.id, leaving)


def test_grades_follow_the_scale_and_are_given_once():
    setup = _started(reviewers=1, proposals=1)
    row = services.override_assignment(setup.proposals[0].id, setup.reviewers[0].id, reason="r", actor=setup.staff)
    for bad in ("0", "6", "x"):
        with pytest.raises(ValidationFailed) as info:
            services.submit_review(row.id, grade=bad, comment_for_panel="c", actor=setup.reviewers[0])
        assert info.value.field == "grade"
    services.submit_review(row.id, grade="5", comment_for_panel="Outstanding.", actor=setup.reviewers[0])
    assert row.state == AssignmentState.SUBMITTED and row.review.grade == 5
    with pytest.raises(InvalidState, match="review_already_submitted"):
        services.submit_review(row.id, grade="4", comment_for_panel="c", actor=setup.reviewers[0])


def test_panels_keep_subject_areas_apart_and_name_a_deputy_among_reviewers():
    setup = make_review_setup(reviewers=1, proposals=0)
    with pytest.raises(ValidationFailed, match="subject_area_taken"):
        services.create_panel("Chemistry bis", ["chemistry"], actor=setup.staff)
    panel = services.create_panel("Biology", ["biology"], actor=setup.staff)
    with pytest.raises(Conflict):
        services.create_panel("Biology", ["medicine"], actor=setup.staff)
    with pytest.raises(ValidationFailed, match="deputy_not_reviewer"):
        services.update_panel(
            panel.id,
            name="Biology",
            subject_areas=["biology"],
            deputy_chair_id=setup.reviewers[0].id,
            actor=setup.staff,
        )
    services.update_panel(
        setup.panel.id,
        name=setup.panel.name,
        subject_areas=["chemistry"],
        deputy_chair_id=setup.reviewers[0].id,
        actor=setup.staff,
    )
    assert setup.panel.deputy_chair_id == setup.reviewers[0].id


def test_one_reminder_per_open_assignment_before_the_deadline():
    from datetime import timedelta

    setup = _started(reviewers=2, proposals=1)
    a = services.override_assignment(setup.proposals[0].id, setup.reviewers[0].id, reason="r", actor=setup.staff)
    b = services.override_assignment(setup.proposals[0].id, setup.reviewers[1].id, reason="r", actor=setup.staff)
    services.submit_review(b.id, grade=3, comment_for_panel="ok", actor=setup.reviewers[1])
    deadline = queries.find_call_review(setup.call.id).review_deadline_at
    assert services.send_review_reminders(now=deadline - timedelta(days=5)) == 0
    assert services.send_review_reminders(now=deadline - timedelta(days=2)) == 1
    assert services.send_review_reminders(now=deadline - timedelta(days=1)) == 0
    reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("review-reminder:%")))
    assert [m.recipients for m in reminders] == [[a.reviewer.email]]


def test_reviewers_bid_only_on_unconflicted_proposals_of_their_panels_and_bids_steer_assignment():
    setup = make_review_setup(reviewers=3, proposals=2)
    settings.set_setting("reviews.reviewers_per_proposal", 1, actor=setup.staff)
    mine, conflicted = setup.proposals
    reviewer = setup.reviewers[0]
    reviewer.institution_id = conflicted.pi.institution_id
    db.session.commit()
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    assert [p.id for p, _bid in services.bidding_choices(reviewer)] == [mine.id]
    with pytest.raises(NotFound):
        services.place_bid(conflicted.id, "eager", actor=reviewer)
    outsider = fp.make_person()
    grant(outsider, Role.REVIEWER, setup.panel.id + 1000)  # a reviewer of another panel
    with pytest.raises(NotFound):
        services.place_bid(mine.id, "eager", actor=outsider)
    services.place_bid(mine.id, "eager", actor=reviewer)
    for other in setup.reviewers[1:]:
        services.place_bid(mine.id, "not_my_field", actor=other)
    assert [(p.id, bid) for p, bid in services.bidding_choices(reviewer)] == [(mine.id, "eager")]
    services.run_assignment(setup.call.id, setup.panel.id, actor=setup.staff)
    assert [a.reviewer_id for a in _assignments(mine.id)] == [reviewer.id]
