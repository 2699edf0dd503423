"""The demo's older past call is reviewed to the end: every request technically reviewed, every
assignment graded, ranked, allocated within capacity and released in the past without mail; the
newer past call is under review."""

from __future__ import annotations

from sqlalchemy import select

from app.core.models import OutboxMessage
from app.demo import reviews as demo
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals.models import BeamtimeRequest, Call, Proposal
from app.proposals.status import ProposalStatus
from app.reviews import queries
from app.reviews.models import (
    AssignmentState,
    Award,
    CallReview,
    Decision,
    PanelDecision,
    ReviewAssignment,
    TechnicalReview,
)
from tests.services.test_demo_proposals import TODAY
from tests.services.test_demo_reviews import _count, _seed


def test_the_older_past_call_is_decided_and_released_quietly(tmp_path):
    admin, _made = _seed(tmp_path)
    older, newer = db.session.scalars(select(Call).order_by(Call.opens_at)).all()[:2]
    proposals = list(db.session.scalars(select(Proposal).where(Proposal.call_id == older.id)))
    ids = [p.id for p in proposals]
    # technical reviews for every request, every assignment graded, every proposal ranked
    requests = _count(BeamtimeRequest, BeamtimeRequest.proposal_id.in_(ids))
    assert (
        _count(TechnicalReview, TechnicalReview.proposal_id.in_(ids), TechnicalReview.submitted_at.is_not(None))
        == requests
    )
    states = set(db.session.scalars(select(ReviewAssignment.state).where(ReviewAssignment.proposal_id.in_(ids))))
    assert states == {AssignmentState.SUBMITTED}
    assert _count(PanelDecision, PanelDecision.call_id == older.id, PanelDecision.final_rank.is_(None)) == 0
    # released in the past; statuses follow; about 45 % accepted
    review = db.session.get(CallReview, older.id)
    assert review.released_at is not None and review.released_at.date() < TODAY
    statuses = [p.status for p in proposals]
    assert ProposalStatus.UNDER_REVIEW not in statuses
    accepted = statuses.count(ProposalStatus.ACCEPTED)
    assert 0.35 <= accepted / len(statuses) <= 0.55
    assert ProposalStatus.RESERVE in statuses and ProposalStatus.REJECTED in statuses
    # every accepted proposal has awards, each with a local contact, within each instrument's capacity
    awards = list(db.session.scalars(select(Award).where(Award.call_id == older.id)))
    awarded = {a.proposal_id for a in awards}
    assert awarded == {p.id for p in proposals if p.status == ProposalStatus.ACCEPTED}
    assert all(a.local_contact_id is not None for a in awards)
    used: dict[int, int] = {}
    for award in awards:
        used[award.instrument_id] = used.get(award.instrument_id, 0) + award.shifts
    for instrument_id, shifts in used.items():
        instrument = facility_queries.get_instrument(instrument_id)
        assert shifts <= facility_queries.instrument_capacity(older.cycle, instrument).value
    # the PI sees the released decision; no letter is queued for the history
    assert _count(Decision, Decision.call_id == older.id, Decision.released_at.is_(None)) == 0
    for proposal in proposals:
        decision = queries.released_decision(proposal.id, review.released_at)
        assert decision is not None and decision.outcome.value == proposal.status.value
    assert _count(OutboxMessage, OutboxMessage.idempotency_key.like("decision-letter:%")) == 0
    # the newer past call is under review, the demo reviewer with grades to give there
    assert db.session.get(CallReview, newer.id).released_at is None
    # idempotent
    before = (_count(Award), _count(Decision), _count(OutboxMessage))
    assert demo.seed(actor=admin, today=TODAY) == 0
    assert (_count(Award), _count(Decision), _count(OutboxMessage)) == before
