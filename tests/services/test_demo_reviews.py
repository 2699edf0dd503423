"""The demo reviews: panels with reviewers, the newer past call's review under way, the demo
reviewer with proposals left to grade; never a conflict; idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.demo import facility, people
from app.demo import proposals as demo_proposals
from app.demo import reviews as demo
from app.extensions import db
from app.proposals.models import Call, Proposal
from app.proposals.status import ProposalStatus
from app.reviews import conflicts, queries, services
from app.reviews.models import AssignmentState, Panel, PanelDecision, Review, ReviewAssignment, TechnicalReview
from tests.services.test_demo_proposals import TODAY


def _seed(tmp_path):
    people.seed_people(host_country="CH")
    admin = db.session.scalar(select(User).where(User.email == "admin@beamtime.example"))
    facility.seed(actor=admin, today=TODAY)
    demo_proposals.seed(actor=admin, today=TODAY, upload_dir=str(tmp_path))
    return admin, demo.seed(actor=admin, today=TODAY)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_reviews_have_the_promised_shape(tmp_path):
    admin, made = _seed(tmp_path)
    assert _count(Panel) == 4 and made > 100
    # the newer past call is the one under review (the older one is decided: test_demo_decisions)
    call = db.session.scalars(select(Call).order_by(Call.opens_at)).all()[1]
    in_review = _count(Proposal, Proposal.call_id == call.id, Proposal.status == ProposalStatus.UNDER_REVIEW)
    assert _count(PanelDecision, PanelDecision.call_id == call.id) == in_review
    assert _count(TechnicalReview, TechnicalReview.submitted_at.is_not(None)) > in_review
    # three reviewers each, none conflicted
    for panel in db.session.scalars(select(Panel)):
        proposals = [d.proposal for d in queries.panel_decisions(call.id, panel.id)]
        rows = queries.assignments_for([p.id for p in proposals])
        reviewers = queries.panel_reviewers(panel)
        inputs = queries.conflict_inputs(reviewers, proposals)
        bad = conflicts.conflicted_pairs(inputs.reviewers.values(), inputs.teams.values(), inputs.co_proposals)
        assert not {(r.reviewer_id, r.proposal_id) for r in rows} & bad
        counts = {p.id: 0 for p in proposals}
        for row in rows:
            counts[row.proposal_id] += 1
        assert set(counts.values()) <= {3}
    # the demo reviewer has proposals to grade; the demo chair sees panel 1's ranking
    reviewer = db.session.scalar(select(User).where(User.email == demo.DEMO_REVIEWER))
    mine = [row for row in queries.assignments_of_reviewer(reviewer.id) if row.proposal.call_id == call.id]
    assert mine and all(row.state == AssignmentState.ASSIGNED for row in mine)
    chair = db.session.scalar(select(User).where(User.email == demo.DEMO_CHAIR))
    first = db.session.scalar(select(Panel).order_by(Panel.id))
    meeting = services.meeting(call.id, first.id, actor=chair)
    assert any(row.reviews >= 2 for row in meeting.rows)
    assert any(row.normalised_mean is not None for row in meeting.rows)
    # idempotent
    before = (_count(Review), _count(ReviewAssignment))
    assert demo.seed(actor=admin, today=TODAY) == 0
    assert (_count(Review), _count(ReviewAssignment)) == before
