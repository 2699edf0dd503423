"""Reviewer assignment (automatic, overrides, conflicts declared and replaced) and reviews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.proposals.models import AccessRoute, Proposal
from app.reviews import assignment, conflicts, permissions, queries
from app.reviews.models import (
    AssignmentSource,
    AssignmentState,
    Bid,
    DeclaredConflict,
    Panel,
    Review,
    ReviewAssignment,
    ReviewerProfile,
)
from app.reviews.services.review import PER_PROPOSAL, WINDOW_YEARS, integer, text

__all__ = [
    "bidding_choices",
    "declare_conflict",
    "get_assignment_to_grade",
    "override_assignment",
    "remove_assignment",
    "run_assignment",
    "send_review_reminders",
    "submit_review",
    "visible_other_reviews",
]

#: a deterministic limit that keeps a panel of a few hundred proposals within seconds
DETERMINISTIC_LIMIT = 2.0


def _panel_proposals(call_id: int, panel_id: int) -> list[Proposal]:
    ids = [d.proposal_id for d in queries.panel_decisions(call_id, panel_id)]
    if not ids:
        return []
    return [
        p
        for p in db.session.scalars(select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.id))
        if p.call.route != AccessRoute.PROPRIETARY
    ]


def build_problem(panel: Panel, proposals: Sequence[Proposal]) -> tuple[assignment.Problem, set[tuple[int, int]]]:
    """Rows → `assignment.Problem` (the adapter): reviewers of the panel with their expertise,
    the proposals' subject and title words, computed and declared conflicts, bids, and the live
    assignments as fixed pairs. Returns the problem and the pairs already stored (any state)."""
    reviewers = queries.panel_reviewers(panel)
    window = settings.get_int(WINDOW_YEARS.key)
    inputs = queries.conflict_inputs(reviewers, proposals)
    conflicted = set(
        conflicts.conflicted_pairs(
            inputs.reviewers.values(), inputs.teams.values(), inputs.co_proposals, window_years=window
        )
    )
    stored = queries.assignments_for([p.id for p in proposals])
    existing = {(a.reviewer_id, a.proposal_id) for a in stored}
    fixed = {(a.reviewer_id, a.proposal_id) for a in stored if a.is_active}
    conflicted |= existing - fixed  # conflicted or removed: never again
    profiles = {
        p.user_id: p
        for p in db.session.scalars(
            select(ReviewerProfile).where(ReviewerProfile.user_id.in_([u.id for u in reviewers] or [0]))
        )
    }
    bids = {
        (b.reviewer_id, b.proposal_id): assignment.Bid(b.level.value)
        for b in db.session.scalars(select(Bid).where(Bid.proposal_id.in_([p.id for p in proposals] or [0])))
    }
    problem = assignment.Problem(
        reviewers=tuple(
            assignment.ReviewerProfile(u.id, frozenset(profiles[u.id].keywords if u.id in profiles else ()))
            for u in reviewers
        ),
        proposals=tuple(
            assignment.ProposalProfile(
                p.id, p.subject_area.value if p.subject_area else None, frozenset(w for w in p.title.lower().split())
            )
            for p in proposals
        ),
        per_proposal=settings.get_int(PER_PROPOSAL.key),
        conflicts=frozenset(conflicted),
        bids={k: v for k, v in bids.items() if k[0] in {u.id for u in reviewers}},
        fixed=frozenset(fixed),
    )
    return problem, existing


def _store(pairs, existing, panel_id: int, source: AssignmentSource, actor: Any, now: datetime) -> int:
    added = 0
    for reviewer_id, proposal_id in pairs:
        if (reviewer_id, proposal_id) in existing:
            continue
        db.session.add(
            ReviewAssignment(
                proposal_id=proposal_id,
                panel_id=panel_id,
                reviewer_id=reviewer_id,
                source=source,
                assigned_at=now,
                assigned_by_id=getattr(actor, "id", None),
            )
        )
        added += 1
    return added


@transactional
def run_assignment(call_id: int, panel_id: int, *, actor: Any, now: datetime | None = None) -> assignment.Solution:
    """Assign N reviewers (setting) to every proposal of the panel in this call: the pure
    optimisation, with existing assignments kept; never a conflict.

    Raises: PermissionDenied, NotFound (review not started, no panel).
    """
    now = now or utcnow()
    require(permissions.can_manage_reviews, actor)
    queries.get_call_review(call_id)
    panel = queries.get_panel(panel_id)
    proposals = _panel_proposals(call_id, panel.id)
    problem, existing = build_problem(panel, proposals)
    solution = assignment.assign(problem, deterministic_limit=DETERMINISTIC_LIMIT)
    added = _store(solution.pairs, existing, panel.id, AssignmentSource.AUTO, actor, now)
    audit.record(
        actor,
        "assignment.run",
        panel,
        changes={"call_id": call_id, "added": added, "shortfalls": len(solution.shortfalls), "method": solution.method},
    )
    return solution


def _reviewer_on_panel(panel: Panel, reviewer_id: int):
    reviewer = next((u for u in queries.panel_reviewers(panel) if u.id == reviewer_id), None)
    if reviewer is None:
        raise ValidationFailed("not_a_panel_reviewer", field="reviewer_id")
    return reviewer


@transactional
def override_assignment(
    proposal_id: int, reviewer_id: int, *, reason: Any, actor: Any, now: datetime | None = None
) -> ReviewAssignment:
    """Staff assign a reviewer by hand, with a visible reason; never a conflicted one, and the
    database refuses the same reviewer twice on one proposal.

    Raises: PermissionDenied, NotFound, ValidationFailed (reason, not_a_panel_reviewer),
    InvalidState (reviewer_conflicted), Conflict (reviewer_already_assigned).
    """
    now = now or utcnow()
    require(permissions.can_manage_reviews, actor)
    decision = queries.get_panel_decision(proposal_id)
    if decision.panel is None:
        raise InvalidState("proposal_has_no_panel")
    why = text(reason, "reason", maximum=2000)
    reviewer = _reviewer_on_panel(decision.panel, reviewer_id)
    found = queries.find_conflicts_of(reviewer, decision.proposal, window_years=settings.get_int(WINDOW_YEARS.key))
    if found:
        raise InvalidState("reviewer_conflicted", kinds=", ".join(sorted({c.kind.value for c in found})))
    row = ReviewAssignment(
        proposal_id=proposal_id,
        panel_id=decision.panel_id,
        reviewer_id=reviewer.id,
        source=AssignmentSource.OVERRIDE,
        reason=why,
        assigned_at=now,
        assigned_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise Conflict("reviewer_already_assigned") from None
    audit.record(actor, "assignment.override", row, changes={"reviewer_id": reviewer.id, "reason": why})
    return row


@transactional
def remove_assignment(assignment_id: int, *, reason: Any, actor: Any, now: datetime | None = None) -> ReviewAssignment:
    """Staff take a reviewer off a proposal (kept as "removed", with the reason).

    Raises: PermissionDenied, NotFound, ValidationFailed (reason), InvalidState (review submitted).
    """
    require(permissions.can_manage_reviews, actor)
    row = queries.get_assignment(assignment_id)
    why = text(reason, "reason", maximum=2000)
    if row.state != AssignmentState.ASSIGNED:
        raise InvalidState("assignment_not_open")
    row.state = AssignmentState.REMOVED
    row.reason = why
    audit.record(actor, "assignment.removed", row, changes={"reason": why})
    return row


@transactional
def declare_conflict(
    proposal_id: int, *, reason: Any = "", actor: Any, now: datetime | None = None
) -> ReviewAssignment | None:
    """A reviewer declares a conflict with a proposal: recorded, their assignment (if any and not
    yet graded) becomes "conflicted", and the slot goes to another reviewer of the panel
    (`assignment.replace_reviewer`, every other assignment kept). Returns the replacement, or
    None when nobody unconflicted is left (staff see the shortfall).

    Raises: NotFound (not a reviewer of the proposal's panel), InvalidState (already graded).
    """
    now = now or utcnow()
    decision = queries.get_panel_decision(proposal_id)
    panel = decision.panel
    if panel is None or not permissions.is_reviewer_of_panel(actor, panel):
        raise NotFound("proposal_not_found")
    mine = db.session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.proposal_id == proposal_id, ReviewAssignment.reviewer_id == actor.id
        )
    )
    if mine is not None and mine.state == AssignmentState.SUBMITTED:
        raise InvalidState("review_already_submitted")
    if (
        db.session.scalar(
            select(DeclaredConflict.id).where(
                DeclaredConflict.proposal_id == proposal_id, DeclaredConflict.reviewer_id == actor.id
            )
        )
        is None
    ):
        db.session.add(
            DeclaredConflict(
                proposal_id=proposal_id,
                reviewer_id=actor.id,
                reason=text(reason, "reason", maximum=2000, required=False),
                declared_at=now,
            )
        )
    audit.record(actor, "conflict.declared", decision.proposal, changes={"reviewer_id": actor.id})
    if mine is None or mine.state != AssignmentState.ASSIGNED:
        return None
    mine.state = AssignmentState.CONFLICTED
    db.session.flush()
    proposals = _panel_proposals(decision.call_id, panel.id)
    problem, existing = build_problem(panel, proposals)
    current = [pair for pair in problem.fixed]
    solution = assignment.replace_reviewer(
        problem, current, proposal_id, actor.id, deterministic_limit=DETERMINISTIC_LIMIT
    )
    new = [pair for pair in solution.pairs if pair[1] == proposal_id and pair not in existing]
    _store(new, existing, panel.id, AssignmentSource.REPLACEMENT, None, now)
    db.session.flush()
    if not new:
        return None
    return db.session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.proposal_id == proposal_id, ReviewAssignment.reviewer_id == new[0][0]
        )
    )


# --- grading -------------------------------------------------------------------------------


def get_assignment_to_grade(assignment_id: int, actor: Any) -> ReviewAssignment:
    """The reviewer's own live assignment on a non-proprietary proposal; NotFound otherwise."""
    row = db.session.get(ReviewAssignment, assignment_id)
    if row is None or not permissions.can_grade(actor, row):
        raise NotFound("assignment_not_found")
    return row


@transactional
def submit_review(
    assignment_id: int, *, grade: Any, comment_for_panel: Any, actor: Any, now: datetime | None = None
) -> Review:
    """Grade an assigned proposal 1–5 (5 outstanding) against the written scale, once.

    Raises: NotFound (not one's own live assignment), ValidationFailed (grade, comment),
    InvalidState (review_already_submitted, ranking closed by the allocation).
    """
    now = now or utcnow()
    row = get_assignment_to_grade(assignment_id, actor)
    if row.review is not None:
        raise InvalidState("review_already_submitted")
    call_review = queries.find_call_review(row.proposal.call_id)
    if call_review is not None and call_review.allocated_at is not None:
        raise InvalidState("allocation_done")
    review = Review(
        assignment_id=row.id,
        proposal_id=row.proposal_id,
        reviewer_id=actor.id,
        grade=integer(grade, "grade", minimum=1, maximum=5),
        comment_for_panel=text(comment_for_panel, "comment_for_panel"),
        submitted_at=now,
    )
    db.session.add(review)
    row.state = AssignmentState.SUBMITTED
    row.review = review
    from app.reviews.services.rapid import decide_rapid

    decide_rapid(row.proposal, now=now)
    return review


def visible_other_reviews(assignment_id: int, actor: Any) -> list[Review]:
    """Other reviews of the proposal, for a reviewer who submitted theirs.

    Raises: NotFound (not one's own), PermissionDenied (own review not submitted yet).
    """
    row = get_assignment_to_grade(assignment_id, actor)
    require(permissions.can_see_other_reviews, actor, row)
    return queries.other_reviews(row)


REMINDER_DAYS_BEFORE = 3


@transactional
def send_review_reminders(*, now: datetime | None = None) -> int:
    """The job: one reminder per open assignment, once its call's review deadline is less
    than three days away (an idempotency key keeps it to one). Returns how many were queued."""
    from datetime import timedelta

    from flask_babel import lazy_gettext as _l

    from app.core import outbox
    from app.reviews.models import CallReview

    now = now or utcnow()
    due = db.session.scalars(
        select(CallReview).where(
            CallReview.review_deadline_at.is_not(None),
            CallReview.review_deadline_at > now,
            CallReview.review_deadline_at <= now + timedelta(days=REMINDER_DAYS_BEFORE),
            CallReview.allocated_at.is_(None),
        )
    ).all()
    queued = 0
    for review in due:
        proposal_ids = [d.proposal_id for d in queries.panel_decisions(review.call_id)]
        for row in queries.assignments_for(proposal_ids):
            if row.state != AssignmentState.ASSIGNED:
                continue
            sent = outbox.enqueue(
                row.reviewer.email,
                str(_l("Reminder: a review is due")),
                str(
                    _l(
                        "Your review of proposal %(ref)s is due by %(deadline)s.",
                        ref=row.proposal.reference,
                        deadline=review.review_deadline_at.strftime("%Y-%m-%d %H:%M UTC"),
                    )
                ),
                idempotency_key=f"review-reminder:{row.id}",
                now=now,
            )
            queued += sent is not None
    return queued


def bidding_choices(actor: Any) -> list[tuple[Proposal, str | None]]:
    """What a reviewer may bid on: the proposals of their panels in calls whose review runs and
    whose allocation has not, not yet assigned to them, and never a conflicted one (nor a
    proprietary one: those go to no panel). Each with the reviewer's current bid."""
    from app.accounts.models import Role
    from app.reviews.models import CallReview, PanelDecision

    panel_ids = actor.scopes(Role.REVIEWER) if permissions.is_reviewer(actor) else set()
    if not panel_ids:
        return []
    decisions = db.session.scalars(
        select(PanelDecision)
        .join(CallReview, CallReview.call_id == PanelDecision.call_id)
        .where(PanelDecision.panel_id.in_(panel_ids), CallReview.allocated_at.is_(None))
        .order_by(PanelDecision.proposal_id)
    ).all()
    proposals = [d.proposal for d in decisions]
    assigned = {a.proposal_id for a in queries.assignments_for([p.id for p in proposals]) if a.reviewer_id == actor.id}
    proposals = [p for p in proposals if p.id not in assigned]
    if not proposals:
        return []
    inputs = queries.conflict_inputs([actor], proposals)
    window = settings.get_int(WINDOW_YEARS.key)
    bids = {
        b.proposal_id: b.level.value
        for b in db.session.scalars(
            select(Bid).where(Bid.reviewer_id == actor.id, Bid.proposal_id.in_([p.id for p in proposals]))
        )
    }
    return [
        (p, bids.get(p.id))
        for p in proposals
        if not conflicts.find_conflicts(
            inputs.reviewers[actor.id], inputs.teams[p.id], inputs.co_proposals, window_years=window
        )
    ]
