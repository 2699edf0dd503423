"""Rapid access: a light review at submission, first come first served within the partition,
the decision at once."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role
from app.core.models import OutboxMessage
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.proposals import services as proposal_services
from app.proposals.models import AccessRoute
from app.proposals.status import ProposalStatus
from app.reviews import queries, services
from app.reviews.models import Outcome, ReviewAssignment, TechnicalReview
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_reviews import make_review_setup

DURING = fp.DURING


def _rapid(setup, *, shifts: int):
    call = getattr(setup, "rapid_call", None)
    if call is None:
        call = fp.make_call(cycle=setup.call.cycle, route=AccessRoute.RAPID_ACCESS, instruments=[setup.instrument])
        setup.rapid_call = call
    proposal = fp.make_proposal(call=call, now=DURING)
    proposal.requests[0].shifts = shifts
    db.session.commit()
    proposal_services.submit_proposal(proposal.id, actor=proposal.pi.user, now=DURING)
    return proposal


def _review(setup, proposal, *, grade: int, recommended: int):
    task = db.session.scalar(select(TechnicalReview).where(TechnicalReview.proposal_id == proposal.id))
    services.submit_technical_review(
        task.id,
        feasibility="feasible",
        recommended_shifts=recommended,
        comment_for_panel="ok",
        comment_for_pi="Bring a reference sample.",
        actor=setup.scientist,
        now=DURING,
    )
    row = db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.proposal_id == proposal.id))
    services.submit_review(row.id, grade=grade, comment_for_panel="Reviewer words.", actor=row.reviewer, now=DURING)


def test_rapid_access_is_reviewed_at_submission_and_awarded_first_come_within_the_partition():
    setup = make_review_setup(reviewers=2, proposals=0)
    admin = make_user(roles=[Role.ADMIN])
    facility_services.update_partitions(in_house="0", rapid_access="2", proprietary="0", actor=admin)
    partition = facility_queries.capacity_table(setup.call.cycle, instruments=[setup.instrument])[0][1].rapid_access
    assert 6 < partition <= 21
    first = _rapid(setup, shifts=partition - 3)
    assert first.status == ProposalStatus.UNDER_REVIEW
    assert len(queries.assignments_for([first.id])) == 1  # one reviewer
    _review(setup, first, grade=4, recommended=partition - 3)
    decision = queries.find_decision(first.id)
    assert decision.outcome == Outcome.ACCEPTED and decision.released_at is not None
    assert first.status == ProposalStatus.ACCEPTED
    assert [a.shifts for a in queries.awards_of_call_for_proposal(first.id)] == [partition - 3]

    second = _rapid(setup, shifts=6)  # 3 shifts left, the minimum award is 3
    _review(setup, second, grade=5, recommended=6)
    assert [a.shifts for a in queries.awards_of_call_for_proposal(second.id)] == [3]

    third = _rapid(setup, shifts=6)  # nothing left
    _review(setup, third, grade=5, recommended=6)
    assert queries.find_decision(third.id).outcome == Outcome.REJECTED
    assert third.status == ProposalStatus.REJECTED
    letter = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == f"decision-letter:{first.id}")
    )
    assert "Bring a reference sample." in letter.body_text and "Reviewer words." not in letter.body_text


def test_a_low_grade_gets_no_rapid_award():
    setup = make_review_setup(reviewers=2, proposals=0)
    admin = make_user(roles=[Role.ADMIN])
    facility_services.update_partitions(in_house="0", rapid_access="10", proprietary="0", actor=admin)
    proposal = _rapid(setup, shifts=3)
    _review(setup, proposal, grade=2, recommended=3)
    assert queries.find_decision(proposal.id).outcome == Outcome.REJECTED
