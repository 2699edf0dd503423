"""Rapid access (DESIGN.md §3): a light review per proposal as it is submitted — the technical
review by the instrument's scientists and one reviewer of the panel of its subject, within
days — then an award first come, first served within the instrument's rapid-access partition
of the cycle, and the decision released at once.

Driven by the proposals domain's `ProposalSubmitted` event (same transaction) and by the two
review services, which call `decide_rapid` when the last piece of review comes in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.core import audit, events, outbox, settings
from app.core.db import utcnow
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals.models import AccessRoute, Call, Proposal
from app.proposals.status import ProposalStatus, check_move
from app.reviews import assignment, queries
from app.reviews.events import DecisionsReleased
from app.reviews.models import (
    AssignmentSource,
    AssignmentState,
    Award,
    CallReview,
    Decision,
    Feasibility,
    Outcome,
    PanelDecision,
    ReviewAssignment,
    TechnicalReview,
)
from app.reviews.services.review import MINIMUM_AWARD

__all__ = ["decide_rapid", "on_proposal_submitted", "rapid_remaining"]

RAPID_DAYS = settings.define(
    "reviews.rapid_review_days", int, 7, _l("Days a rapid-access review may take"), minimum=1, maximum=60
)
RAPID_MIN_GRADE = settings.define(
    "reviews.rapid_minimum_grade",
    int,
    3,
    _l("Lowest grade a rapid-access proposal is awarded with"),
    minimum=1,
    maximum=5,
)


def on_proposal_submitted(event) -> None:
    """A rapid-access proposal handed in for the first time starts its light review."""
    if not event.first_time:
        return
    proposal = db.session.get(Proposal, event.proposal_id)
    if proposal is None or proposal.call.route != AccessRoute.RAPID_ACCESS:
        return
    start_rapid_review(proposal, now=utcnow())


def start_rapid_review(proposal: Proposal, *, now: datetime) -> None:
    from app.reviews.services.grading import build_problem

    if db.session.get(CallReview, proposal.call_id) is None:
        db.session.add(CallReview(call_id=proposal.call_id, started_at=now))
    deadline = now + timedelta(days=settings.get_int(RAPID_DAYS.key))
    proposal.status = check_move(proposal.status, ProposalStatus.UNDER_REVIEW)
    panel = queries.panel_for_subject(proposal.subject_area)
    db.session.add(
        PanelDecision(proposal_id=proposal.id, call_id=proposal.call_id, panel_id=panel.id if panel else None)
    )
    for request in proposal.requests:
        db.session.add(
            TechnicalReview(
                request_id=request.id, proposal_id=proposal.id, instrument_id=request.instrument_id, created_at=now
            )
        )
    people = facility_queries.instrument_scientists([r.instrument_id for r in proposal.requests])
    for instrument_people in people.values():
        for person in instrument_people:
            outbox.enqueue(
                person.email,
                str(_l("Rapid access: a technical review to write")),
                str(
                    _l(
                        "Rapid-access proposal %(ref)s needs your technical review by %(deadline)s.",
                        ref=proposal.reference,
                        deadline=deadline.strftime("%Y-%m-%d"),
                    )
                ),
                idempotency_key=f"rapid-technical:{proposal.id}:{person.id}",
                now=now,
            )
    if panel is None:
        return
    db.session.flush()
    problem, existing = build_problem(panel, [proposal])
    problem = assignment.Problem(
        reviewers=problem.reviewers,
        proposals=problem.proposals,
        per_proposal=1,
        conflicts=problem.conflicts,
        bids=problem.bids,
        fixed=problem.fixed,
    )
    solution = assignment.assign(problem, deterministic_limit=1.0)
    for reviewer_id, proposal_id in solution.pairs:
        if (reviewer_id, proposal_id) in existing:
            continue
        row = ReviewAssignment(
            proposal_id=proposal_id,
            panel_id=panel.id,
            reviewer_id=reviewer_id,
            source=AssignmentSource.AUTO,
            assigned_at=now,
        )
        db.session.add(row)
        db.session.flush()
        outbox.enqueue(
            row.reviewer.email,
            str(_l("Rapid access: a proposal to review")),
            str(
                _l(
                    "Please review rapid-access proposal %(ref)s by %(deadline)s.",
                    ref=proposal.reference,
                    deadline=deadline.strftime("%Y-%m-%d"),
                )
            ),
            idempotency_key=f"rapid-review:{row.id}",
            now=now,
        )


def rapid_remaining(call: Call, instrument) -> int:
    """What is left of the instrument's rapid-access partition in the call's cycle."""
    partition = facility_queries.capacity_table(call.cycle, instruments=[instrument])[0][1].rapid_access
    used = db.session.scalar(
        select(func.coalesce(func.sum(Award.shifts), 0))
        .join(Call, Call.id == Award.call_id)
        .where(
            Call.cycle_id == call.cycle_id,
            Call.route == AccessRoute.RAPID_ACCESS,
            Award.instrument_id == instrument.id,
            Award.withdrawn_at.is_(None),
        )
    )
    return max(partition - int(used or 0), 0)


def decide_rapid(proposal: Proposal, *, now: datetime) -> Decision | None:
    """Once every technical review and the review are in: award each feasible request
    min(recommended, what is left of the partition) — at least the minimum award — when the
    grade reaches the setting; accepted with an award, otherwise rejected; released at once.
    """
    if proposal.call.route != AccessRoute.RAPID_ACCESS or proposal.status != ProposalStatus.UNDER_REVIEW:
        return None
    if queries.find_decision(proposal.id) is not None:
        return None
    technical = queries.technical_reviews_of([proposal.id])
    if any(t.submitted_at is None for t in technical.values()) or len(technical) < len(proposal.requests):
        return None
    reviews = [
        a.review for a in queries.assignments_for([proposal.id]) if a.state == AssignmentState.SUBMITTED and a.review
    ]
    panel = queries.find_panel_decision(proposal.id)
    if panel is not None and panel.panel_id is not None and not reviews:
        return None
    grade = min((r.grade for r in reviews), default=None)
    good = grade is None or grade >= settings.get_int(RAPID_MIN_GRADE.key)
    minimum = settings.get_int(MINIMUM_AWARD.key)
    awarded = False
    for request in proposal.requests:
        review = technical[request.id]
        if not good or review.feasibility == Feasibility.NOT_FEASIBLE:
            continue
        asked = review.recommended_shifts or request.shifts
        shifts = min(asked, rapid_remaining(proposal.call, request.instrument))
        if shifts < max(minimum, 1):
            continue
        people = facility_queries.instrument_scientists([request.instrument_id]).get(request.instrument_id, [])
        db.session.add(
            Award(
                request_id=request.id,
                proposal_id=proposal.id,
                call_id=proposal.call_id,
                instrument_id=request.instrument_id,
                shifts=shifts,
                basis="rapid_access",
                local_contact_id=review.reviewer_id or (people[0].id if people else None),
                created_at=now,
            )
        )
        db.session.flush()
        awarded = True
    outcome = Outcome.ACCEPTED if awarded else Outcome.REJECTED
    decision = Decision(
        proposal_id=proposal.id, call_id=proposal.call_id, outcome=outcome, staged_at=now, released_at=now
    )
    db.session.add(decision)
    if panel is not None and not panel.comment_for_pi:
        panel.comment_for_pi = "\n".join(t.comment_for_pi for t in technical.values() if t.comment_for_pi)
    proposal.status = check_move(proposal.status, ProposalStatus(outcome.value))
    db.session.flush()
    from app.reviews.services.decisions import _send_letter

    _send_letter(decision, now, f"decision-letter:{proposal.id}")
    audit.record(None, "rapid.decided", proposal, changes={"outcome": outcome.value})
    events.publish(DecisionsReleased(proposal.call_id, (proposal.id,)))
    return decision
