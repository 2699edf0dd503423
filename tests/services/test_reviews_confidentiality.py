"""Confidentiality of the review (issue 5), through the services and the shared predicates."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.core.errors import NotFound, PermissionDenied
from app.proposals import services as proposal_services
from app.proposals.models import AccessRoute
from app.reviews import permissions, services
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_reviews import AFTER_CLOSE, grant, make_review_setup, submitted


def _started(**kwargs):
    setup = make_review_setup(**kwargs)
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    return setup


def test_a_reviewer_reads_only_assigned_proposals():
    setup = _started(reviewers=2, proposals=2)
    mine, other = setup.proposals
    reviewer = setup.reviewers[0]
    services.override_assignment(mine.id, reviewer.id, reason="r", actor=setup.staff)
    assert proposal_services.get_visible_proposal(mine.id, reviewer).id == mine.id
    with pytest.raises(NotFound):
        proposal_services.get_visible_proposal(other.id, reviewer)


def test_a_reviewer_cannot_open_a_conflicted_proposal():
    setup = _started(reviewers=2, proposals=1)
    proposal, reviewer = setup.proposals[0], setup.reviewers[0]
    row = services.override_assignment(proposal.id, reviewer.id, reason="r", actor=setup.staff)
    services.declare_conflict(proposal.id, reason="my cousin", actor=reviewer)
    with pytest.raises(NotFound):
        proposal_services.get_visible_proposal(proposal.id, reviewer)
    with pytest.raises(NotFound):
        services.submit_review(row.id, grade=5, comment_for_panel="x", actor=reviewer)


def test_a_reviewer_never_reads_a_proprietary_proposal_even_when_assigned_by_mistake():
    setup = make_review_setup(reviewers=1, proposals=0)
    call = fp.make_call(cycle=fp.make_cycle(), route=AccessRoute.PROPRIETARY, instruments=[setup.instrument])
    proposal = submitted(fp.make_proposal(call=call), number=77)
    services.start_review(call.id, actor=setup.staff, now=AFTER_CLOSE)
    from app.extensions import db
    from app.reviews.models import AssignmentSource, ReviewAssignment

    row = ReviewAssignment(
        proposal_id=proposal.id,
        panel_id=setup.panel.id,
        reviewer_id=setup.reviewers[0].id,
        source=AssignmentSource.AUTO,
    )
    db.session.add(row)
    db.session.commit()
    with pytest.raises(NotFound):
        proposal_services.get_visible_proposal(proposal.id, setup.reviewers[0])
    with pytest.raises(NotFound):
        services.get_assignment_to_grade(row.id, setup.reviewers[0])


def test_other_reviews_only_after_submitting_ones_own():
    setup = _started(reviewers=2, proposals=1)
    proposal = setup.proposals[0]
    a = services.override_assignment(proposal.id, setup.reviewers[0].id, reason="r", actor=setup.staff)
    b = services.override_assignment(proposal.id, setup.reviewers[1].id, reason="r", actor=setup.staff)
    services.submit_review(b.id, grade=4, comment_for_panel="Solid.", actor=setup.reviewers[1])
    with pytest.raises(PermissionDenied):
        services.visible_other_reviews(a.id, setup.reviewers[0])
    with pytest.raises(NotFound):  # nobody else's assignment either
        services.visible_other_reviews(b.id, setup.reviewers[0])
    services.submit_review(a.id, grade=3, comment_for_panel="Fine.", actor=setup.reviewers[0])
    others = services.visible_other_reviews(a.id, setup.reviewers[0])
    assert [(r.grade, r.comment_for_panel) for r in others] == [(4, "Solid.")]


def test_instrument_scientists_see_only_their_instruments_proposals():
    setup = _started(proposals=1)
    proposal = setup.proposals[0]
    assert proposal_services.get_visible_proposal(proposal.id, setup.scientist).id == proposal.id
    elsewhere = fp.make_person()
    grant(elsewhere, Role.INSTRUMENT_SCIENTIST, fp.make_instrument().id)
    with pytest.raises(NotFound):
        proposal_services.get_visible_proposal(proposal.id, elsewhere)
    # and never a draft, even on their instrument
    draft = fp.make_proposal(call=setup.call)
    with pytest.raises(NotFound):
        proposal_services.get_visible_proposal(draft.id, setup.scientist)


def test_decisions_are_for_staff_and_directors_and_for_the_team_only_once_released():
    setup = _started(proposals=1)
    from app.reviews.models import Decision, Outcome

    decision = Decision(proposal_id=setup.proposals[0].id, call_id=setup.call.id, outcome=Outcome.ACCEPTED)
    decision.proposal = setup.proposals[0]
    pi = setup.proposals[0].pi.user
    director = make_user(roles=[Role.DIRECTOR])
    assert permissions.can_view_decision(setup.staff, decision)
    assert permissions.can_view_decision(director, decision)
    assert not permissions.can_view_decision(pi, decision)
    decision.released_at = AFTER_CLOSE
    assert permissions.can_view_decision(pi, decision)
    assert not permissions.can_view_decision(setup.reviewers[0], decision)
