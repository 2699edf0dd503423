"""Named permission predicates of the reviews domain (who; the services check when).

Confidentiality is the point of this module (issue 5):
- a reviewer sees a proposal only while assigned to it (not conflicted, not removed), never a
  proprietary one; other reviews of a proposal only once their own is submitted;
- an instrument scientist sees only the proposals and technical reviews of their instruments;
- PIs see their decision only once released, and never who reviewed them: nothing a PI can
  reach carries a reviewer's name or words (the chair's comment is written for them);
- directors see rankings, allocation and decisions — with reviewers shown as "R1, R2…".

The predicates that need the database (is the actor assigned to this proposal?) call
`app.reviews.queries`; the others look only at the objects they are given.
"""

from __future__ import annotations

from typing import Any

from app.accounts.models import Role
from app.accounts.permissions import is_director, is_staff
from app.proposals.models import AccessRoute
from app.proposals.status import ProposalStatus


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def can_manage_reviews(actor: Any) -> bool:
    """Start reviews, panels, assignment, allocation, decisions: the user office."""
    return is_staff(actor)


def can_read_review_results(actor: Any) -> bool:
    """Rankings, allocation, decisions of every call (no reviewer identities): staff, directors."""
    return is_staff(actor) or is_director(actor)


def is_reviewer_of_panel(actor: Any, panel: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.REVIEWER, panel.id)


def is_chair_of_panel(actor: Any, panel: Any) -> bool:
    """The chair (panel_chair role scoped to the panel) or the deputy chair."""
    return _is_person(actor) and (actor.has_role(Role.PANEL_CHAIR, panel.id) or panel.deputy_chair_id == actor.id)


def is_reviewer(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.REVIEWER)


def is_panel_chair(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.PANEL_CHAIR)


def is_instrument_scientist(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.INSTRUMENT_SCIENTIST)


def can_view_panel_meeting(actor: Any, panel: Any) -> bool:
    return can_read_review_results(actor) or is_chair_of_panel(actor, panel)


def can_view_technical_review(actor: Any, technical_review: Any) -> bool:
    return is_staff(actor) or (
        _is_person(actor) and actor.has_role(Role.INSTRUMENT_SCIENTIST, technical_review.instrument_id)
    )


def can_submit_technical_review(actor: Any, technical_review: Any) -> bool:
    """Only the instrument's scientists write its feasibility reviews."""
    return _is_person(actor) and actor.has_role(Role.INSTRUMENT_SCIENTIST, technical_review.instrument_id)


def can_grade(actor: Any, assignment: Any) -> bool:
    """The assigned reviewer, while the assignment is live and the proposal not proprietary."""
    return (
        _is_person(actor)
        and assignment.reviewer_id == actor.id
        and assignment.is_active
        and assignment.proposal.call.route != AccessRoute.PROPRIETARY
    )


def can_see_other_reviews(actor: Any, assignment: Any) -> bool:
    """Other reviews of a proposal: only after submitting one's own."""
    return can_grade(actor, assignment) and assignment.review is not None


def can_view_decision(actor: Any, decision: Any) -> bool:
    """Staff and directors always; the team only once the decision is released."""
    if can_read_review_results(actor):
        return True
    return (
        _is_person(actor)
        and decision.released_at is not None
        and any(m.user_id == actor.id for m in decision.proposal.members)
    )


def can_view_decision_of(actor: Any, proposal: Any, *, released_at: Any) -> bool:
    """`can_view_decision` on the decision's proposal and release instant (the proposal page
    reads them with the proposal, not the decision entity)."""
    if can_read_review_results(actor):
        return True
    return _is_person(actor) and released_at is not None and any(m.user_id == actor.id for m in proposal.members)


def can_read_proposal_for_review(actor: Any, proposal: Any) -> bool:
    """Who may read a proposal because of the review: its assigned, unconflicted reviewers (not
    for proprietary proposals) and the scientists of its instruments once it is handed in.
    Filled into the proposals domain's "proposals.readers" slot (see `app.reviews.slots`)."""
    if not _is_person(actor) or proposal.status == ProposalStatus.DRAFT:
        return False
    instruments = {r.instrument_id for r in proposal.requests}
    if any(actor.has_role(Role.INSTRUMENT_SCIENTIST, i) for i in instruments):
        return True
    if proposal.call.route == AccessRoute.PROPRIETARY or not actor.has_role(Role.REVIEWER):
        return False
    from app.reviews import queries

    return queries.has_live_assignment(actor.id, proposal.id)
