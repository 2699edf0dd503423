"""Reads of the reviews domain, and the adapters from rows to the pure cores' dataclasses.

`conflict_inputs` is the only bridge from the tables to `conflicts.py` (institution parents
from the team's affiliation snapshot, co-proposals from the proposals tables); `ranking_rows`
feeds `ranking.py`; the allocation adapter lives with its service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased, selectinload

from app.accounts.models import Institution, Role, RoleAssignment, User
from app.core.errors import NotFound
from app.extensions import db
from app.facility.models import Cycle
from app.proposals.models import Call, Proposal, ProposalMember
from app.proposals.status import ProposalStatus
from app.reviews import conflicts, ranking
from app.reviews.models import (
    AssignmentState,
    Award,
    CallReview,
    Decision,
    DeclaredConflict,
    Panel,
    PanelDecision,
    Review,
    ReviewAssignment,
    TechnicalReview,
)

LIVE = (AssignmentState.ASSIGNED, AssignmentState.SUBMITTED)


# --- panels ------------------------------------------------------------------------------


def list_panels(*, active_only: bool = False) -> list[Panel]:
    query = select(Panel).order_by(Panel.name)
    if active_only:
        query = query.where(Panel.active.is_(True))
    return list(db.session.scalars(query))


def get_panel(panel_id: int) -> Panel:
    panel = db.session.get(Panel, panel_id)
    if panel is None:
        raise NotFound("panel_not_found")
    return panel


def panel_for_subject(subject: str | None) -> Panel | None:
    if subject is None:
        return None
    return next((p for p in list_panels(active_only=True) if subject in (p.subject_areas or [])), None)


def _role_holders(role: Role, scope_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == role, RoleAssignment.scope_id == scope_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def panel_reviewers(panel: Panel) -> list[User]:
    return _role_holders(Role.REVIEWER, panel.id)


def panel_chairs(panel: Panel) -> list[User]:
    return _role_holders(Role.PANEL_CHAIR, panel.id)


def panel_scope_choices() -> list[tuple[int, str]]:
    """(panel id, name) for the role picker's "panel" scope (reviewer, panel_chair)."""
    return [(p.id, p.name) for p in list_panels(active_only=True)]


def panel_scope_label(panel_id: int) -> str | None:
    panel = db.session.get(Panel, panel_id)
    return None if panel is None else panel.name


# --- the review of a call ------------------------------------------------------------------


def find_call_review(call_id: int) -> CallReview | None:
    return db.session.get(CallReview, call_id)


def get_call_review(call_id: int) -> CallReview:
    found = find_call_review(call_id)
    if found is None:
        raise NotFound("review_not_started")
    return found


def list_call_reviews() -> list[CallReview]:
    return list(db.session.scalars(select(CallReview).order_by(CallReview.started_at.desc())))


def get_technical_review(technical_review_id: int) -> TechnicalReview:
    found = db.session.get(TechnicalReview, technical_review_id)
    if found is None:
        raise NotFound("technical_review_not_found")
    return found


def technical_queue(instrument_ids: Iterable[int]) -> list[TechnicalReview]:
    """Technical reviews of these instruments, open ones first."""
    ids = list(instrument_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(TechnicalReview)
            .where(TechnicalReview.instrument_id.in_(ids))
            .order_by(TechnicalReview.submitted_at.is_not(None), TechnicalReview.id)
        )
    )


def technical_reviews_of(proposal_ids: Iterable[int]) -> dict[int, TechnicalReview]:
    """Request id → its technical review."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(TechnicalReview).where(TechnicalReview.proposal_id.in_(ids)))
    return {t.request_id: t for t in rows}


def panel_decisions(call_id: int, panel_id: int | None = None) -> list[PanelDecision]:
    """The proposals in review of a call (optionally of one panel), with their requests loaded."""
    query = (
        select(PanelDecision)
        .where(PanelDecision.call_id == call_id)
        .options(selectinload(PanelDecision.proposal).selectinload(Proposal.requests))
    )
    if panel_id is not None:
        query = query.where(PanelDecision.panel_id == panel_id)
    return list(db.session.scalars(query.order_by(PanelDecision.proposal_id)))


def get_panel_decision(proposal_id: int) -> PanelDecision:
    found = db.session.get(PanelDecision, proposal_id)
    if found is None:
        raise NotFound("proposal_not_in_review")
    return found


# --- assignments and reviews ---------------------------------------------------------------


def has_live_assignment(reviewer_id: int, proposal_id: int) -> bool:
    return (
        db.session.scalar(
            select(ReviewAssignment.id).where(
                ReviewAssignment.reviewer_id == reviewer_id,
                ReviewAssignment.proposal_id == proposal_id,
                ReviewAssignment.state.in_(LIVE),
            )
        )
        is not None
    )


def get_assignment(assignment_id: int) -> ReviewAssignment:
    found = db.session.get(ReviewAssignment, assignment_id)
    if found is None:
        raise NotFound("assignment_not_found")
    return found


def assignments_of_reviewer(reviewer_id: int) -> list[ReviewAssignment]:
    return list(
        db.session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.state.in_(LIVE))
            .order_by(ReviewAssignment.state, ReviewAssignment.proposal_id)
        )
    )


def assignments_for(proposal_ids: Iterable[int]) -> list[ReviewAssignment]:
    ids = list(proposal_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.proposal_id.in_(ids))
            .order_by(ReviewAssignment.proposal_id, ReviewAssignment.id)
        )
    )


def other_reviews(assignment: ReviewAssignment) -> list[Review]:
    return list(
        db.session.scalars(
            select(Review)
            .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
            .where(
                Review.proposal_id == assignment.proposal_id,
                Review.assignment_id != assignment.id,
                ReviewAssignment.state.in_(LIVE),
            )
            .order_by(Review.id)
        )
    )


def declared_conflicts(proposal_ids: Iterable[int]) -> set[tuple[int, int]]:
    ids = list(proposal_ids)
    if not ids:
        return set()
    rows = db.session.execute(
        select(DeclaredConflict.reviewer_id, DeclaredConflict.proposal_id).where(DeclaredConflict.proposal_id.in_(ids))
    )
    return {(r, p) for r, p in rows}


# --- conflicts: rows → conflicts.Reviewer / Team / CoProposals ------------------------------


def _parents(institution_ids: Iterable[int | None]) -> dict[int, int | None]:
    ids = {i for i in institution_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(Institution.id, Institution.parent_id).where(Institution.id.in_(ids))).all()
    return {i: parent for i, parent in rows}


@dataclass(frozen=True, slots=True)
class ConflictInputs:
    reviewers: dict[int, conflicts.Reviewer]
    teams: dict[int, conflicts.Team]
    co_proposals: conflicts.CoProposals


def conflict_inputs(reviewers: Sequence[User], proposals: Sequence[Proposal]) -> ConflictInputs:
    """Everything `conflicts.find_conflicts` needs for these reviewers and proposals: the teams'
    affiliation snapshots with their parent institutions, declared conflicts, and every pair of
    (reviewer, person) who were on one handed-in proposal (the window is applied by the core)."""
    proposal_ids = [p.id for p in proposals]
    declared: dict[int, set[int]] = defaultdict(set)
    for reviewer_id, proposal_id in declared_conflicts(proposal_ids):
        declared[reviewer_id].add(proposal_id)
    members_by_proposal: dict[int, list[ProposalMember]] = defaultdict(list)
    if proposal_ids:
        for member in db.session.scalars(select(ProposalMember).where(ProposalMember.proposal_id.in_(proposal_ids))):
            members_by_proposal[member.proposal_id].append(member)
    parents = _parents(
        [u.institution_id for u in reviewers] + [m.institution_id for ms in members_by_proposal.values() for m in ms]
    )
    reviewer_inputs = {
        u.id: conflicts.Reviewer(
            u.id,
            u.institution_id,
            parents.get(u.institution_id) if u.institution_id else None,
            frozenset(declared.get(u.id, ())),
        )
        for u in reviewers
    }
    teams = {
        p.id: conflicts.Team(
            p.id,
            p.call.cycle.starts_on,
            tuple(
                conflicts.Member(
                    m.user_id, m.institution_id, parents.get(m.institution_id) if m.institution_id else None
                )
                for m in members_by_proposal[p.id]
            ),
        )
        for p in proposals
    }
    mine = aliased(ProposalMember)
    theirs = aliased(ProposalMember)
    pairs: list[conflicts.CoProposal] = []
    reviewer_ids = [u.id for u in reviewers]
    if reviewer_ids:
        rows = db.session.execute(
            select(mine.user_id, theirs.user_id, Cycle.starts_on)
            .join(theirs, and_(theirs.proposal_id == mine.proposal_id, theirs.user_id != mine.user_id))
            .join(Proposal, Proposal.id == mine.proposal_id)
            .join(Call, Call.id == Proposal.call_id)
            .join(Cycle, Cycle.id == Call.cycle_id)
            .where(mine.user_id.in_(reviewer_ids), Proposal.status != ProposalStatus.DRAFT)
        )
        pairs = [conflicts.CoProposal(a, b, on) for a, b, on in rows]
    return ConflictInputs(reviewer_inputs, teams, conflicts.CoProposals.from_pairs(pairs))


def find_conflicts_of(reviewer: User, proposal: Proposal, *, window_years: int) -> list[conflicts.Conflict]:
    inputs = conflict_inputs([reviewer], [proposal])
    return conflicts.find_conflicts(
        inputs.reviewers[reviewer.id], inputs.teams[proposal.id], inputs.co_proposals, window_years=window_years
    )


# --- ranking ------------------------------------------------------------------------------


def panel_grades(panel_id: int, cycle_id: int) -> list[ranking.Grade]:
    """Every submitted grade in this panel and cycle (the normalisation's population)."""
    rows = db.session.execute(
        select(Review.reviewer_id, Review.proposal_id, Review.grade)
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .join(Proposal, Proposal.id == Review.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .where(
            ReviewAssignment.panel_id == panel_id,
            ReviewAssignment.state == AssignmentState.SUBMITTED,
            Call.cycle_id == cycle_id,
        )
    )
    return [ranking.Grade(r, p, float(g)) for r, p, g in rows]


# --- awards and decisions ------------------------------------------------------------------


def awards_of_call(call_id: int, *, live_only: bool = True) -> list[Award]:
    query = select(Award).where(Award.call_id == call_id)
    if live_only:
        query = query.where(Award.withdrawn_at.is_(None))
    return list(db.session.scalars(query.order_by(Award.instrument_id, Award.id)))


def awards_of_call_for_proposal(proposal_id: int) -> list[Award]:
    """The live awards of a proposal."""
    return list(
        db.session.scalars(
            select(Award).where(Award.proposal_id == proposal_id, Award.withdrawn_at.is_(None)).order_by(Award.id)
        )
    )


def get_award(award_id: int) -> Award:
    found = db.session.get(Award, award_id)
    if found is None:
        raise NotFound("award_not_found")
    return found


def decisions_of_call(call_id: int) -> list[Decision]:
    return list(db.session.scalars(select(Decision).where(Decision.call_id == call_id).order_by(Decision.proposal_id)))


def find_decision(proposal_id: int) -> Decision | None:
    return db.session.get(Decision, proposal_id)


def _decision_outcome(proposal_id):
    return select(Decision.outcome).where(Decision.proposal_id == proposal_id).scalar_subquery()


def _decision_released_at(proposal_id):
    return select(Decision.released_at).where(Decision.proposal_id == proposal_id).scalar_subquery()


def decision_facts() -> dict:
    """The proposal page's facts for the decision notice (`proposals.queries.add_page_fact`):
    the outcome (None: no decision yet) and when it was released, read with the proposal."""
    return {"decision_outcome": _decision_outcome, "decision_released_at": _decision_released_at}


def released_decision(proposal_id: int, now: datetime) -> Decision | None:
    """The decision a PI may read: only once released."""
    decision = find_decision(proposal_id)
    if decision is None or decision.released_at is None or decision.released_at > now:
        return None
    return decision


def find_panel_decision(proposal_id: int) -> PanelDecision | None:
    return db.session.get(PanelDecision, proposal_id)


def closed_calls(now: datetime) -> list[Call]:
    """Calls that have closed (their review may start), newest first."""
    return list(db.session.scalars(select(Call).where(Call.closes_at <= now).order_by(Call.closes_at.desc())))


def call_reviews_by_call() -> dict[int, CallReview]:
    return {r.call_id: r for r in db.session.scalars(select(CallReview))}


def pi_history(proposal: Proposal) -> list[Proposal]:
    """The PI's earlier handed-in proposals (reviewers see them and their outcome)."""
    pi = proposal.pi
    if pi is None:
        return []
    return list(
        db.session.scalars(
            select(Proposal)
            .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
            .where(
                ProposalMember.user_id == pi.user_id,
                ProposalMember.role == "pi",
                Proposal.id != proposal.id,
                Proposal.status != ProposalStatus.DRAFT,
                Proposal.submitted_at < (proposal.submitted_at or proposal.created_at),
            )
            .order_by(Proposal.submitted_at.desc())
            .limit(20)
        )
    )
