"""The panel meeting (ranking, the chair's decisions), allocation within capacity, decisions
staged / signed off / released, and award edits and withdrawals (the reserve rule)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit, events, outbox, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Cycle, Instrument
from app.proposals.models import AccessRoute, BeamtimeRequest, Proposal
from app.proposals.status import ProposalStatus, check_move
from app.reviews import allocation, conflicts, permissions, queries, ranking
from app.reviews.events import AwardsChanged, DecisionsReleased
from app.reviews.models import Award, CallReview, Decision, Outcome, Panel, PanelDecision
from app.reviews.services.review import MINIMUM_AWARD, RESERVE_THRESHOLD, STOP_AT_FIRST, WINDOW_YEARS, integer, text

__all__ = [
    "Meeting",
    "MeetingRow",
    "following_cycle_names",
    "chair_for",
    "chairs_for",
    "edit_award",
    "meeting",
    "release_due_decisions",
    "run_allocation",
    "set_panel_decision",
    "sign_off_decisions",
    "withdraw_award",
]


# --- the panel meeting ---------------------------------------------------------------------


@dataclass
class MeetingRow:
    """One proposal at the panel meeting. Marks are listed without reviewer names."""

    decision: PanelDecision
    proposal: Proposal
    position: int
    reviews: int
    mean: float | None
    normalised_mean: float | None
    spread: float | None
    marks: list[tuple[int, bool]] = field(default_factory=list)  # (grade, reviewer left unnormalised)
    requested: dict[int, int] = field(default_factory=dict)  # instrument id → shifts asked
    recommended: dict[int, int | None] = field(default_factory=dict)


@dataclass
class Meeting:
    panel: Panel
    call_id: int
    rows: list[MeetingRow]
    capacity: dict[int, int]
    lines: dict[int, allocation.CapacityLine]
    instruments: dict[int, Instrument]


def meeting(call_id: int, panel_id: int, *, actor: Any) -> Meeting:
    """The ranking table of a panel in a call: mean, normalised mean, spread, number of reviews,
    the marks; the capacity line and oversubscription per instrument. A chair does not see the
    rows of proposals they are conflicted with (their own among them): the deputy handles those.
    Staff and directors see every row.

    Raises: NotFound (the panel, or an actor who may not see it).
    """
    panel = queries.get_panel(panel_id)
    if not permissions.can_view_panel_meeting(actor, panel):
        raise NotFound("panel_not_found")
    review = queries.get_call_review(call_id)
    call = review.call
    decisions = {d.proposal_id: d for d in queries.panel_decisions(call_id, panel.id)}
    grades = queries.panel_grades(panel.id, call.cycle_id)
    ranked = ranking.rank(grades, proposal_ids=list(decisions))
    by_proposal: dict[int, list[ranking.Grade]] = defaultdict(list)
    for grade in grades:
        by_proposal[grade.proposal_id].append(grade)
    proposals = {p.id: p for p in db.session.scalars(select(Proposal).where(Proposal.id.in_(list(decisions) or [0])))}
    if not permissions.can_read_review_results(actor):
        hidden = _conflicted_for(actor, list(proposals.values()))
        decisions = {pid: d for pid, d in decisions.items() if pid not in hidden}
    technical = queries.technical_reviews_of(list(decisions))
    rows = []
    for item in ranked.proposals:
        if item.proposal_id not in decisions:
            continue
        proposal = proposals[item.proposal_id]
        row = MeetingRow(
            decisions[item.proposal_id],
            proposal,
            item.position,
            item.reviews,
            item.mean,
            item.normalised_mean,
            item.spread,
            marks=[
                (int(g.grade), ranked.reviewers[g.reviewer_id].unnormalised is not None)
                for g in sorted(by_proposal[item.proposal_id], key=lambda g: g.grade)
            ],
        )
        for request in proposal.requests:
            row.requested[request.instrument_id] = request.shifts
            tr = technical.get(request.id)
            row.recommended[request.instrument_id] = tr.recommended_shifts if tr and tr.submitted_at else None
        rows.append(row)
    rows.sort(key=lambda r: (r.decision.final_rank or 10**9, r.position))
    instruments = {i.id: i for r in rows for i in (q.instrument for q in r.proposal.requests)}
    capacity = {i.id: facility_queries.instrument_capacity(call.cycle, i).value for i in instruments.values()}
    lines = {}
    for instrument_id in instruments:
        requests = [
            _allocation_request(r.proposal, req, r.decision, r.mean, technical, fallback_rank=n)
            for n, r in enumerate(rows, start=1)
            for req in r.proposal.requests
            if req.instrument_id == instrument_id
        ]
        lines[instrument_id] = allocation.capacity_line(requests, capacity[instrument_id])
    return Meeting(panel, call_id, rows, capacity, lines, instruments)


def _conflicted_for(person: Any, proposals: list[Proposal]) -> set[int]:
    """Ids of the proposals `person` is conflicted with (any kind, declared included)."""
    inputs = queries.conflict_inputs([person], proposals)
    window = settings.get_int(WINDOW_YEARS.key)
    return {
        p.id
        for p in proposals
        if conflicts.find_conflicts(
            inputs.reviewers[person.id], inputs.teams[p.id], inputs.co_proposals, window_years=window
        )
    }


def chair_for(proposal: Proposal, panel: Panel) -> int | None:
    """Who chairs this proposal: the chair, unless conflicted with it; then the deputy (unless
    conflicted too). None when nobody unconflicted holds either seat."""
    return chairs_for([proposal], panel)[proposal.id]


def chairs_for(proposals: list[Proposal], panel: Panel) -> dict[int, int | None]:
    """`chair_for` of many proposals at once (one conflict computation for the whole table)."""
    seats = [p for p in [*queries.panel_chairs(panel), panel.deputy_chair] if p is not None]
    seats = list({p.id: p for p in seats}.values())
    inputs = queries.conflict_inputs(seats, proposals)
    window = settings.get_int(WINDOW_YEARS.key)
    out: dict[int, int | None] = {}
    for proposal in proposals:
        out[proposal.id] = next(
            (
                person.id
                for person in seats
                if not conflicts.find_conflicts(
                    inputs.reviewers[person.id], inputs.teams[proposal.id], inputs.co_proposals, window_years=window
                )
            ),
            None,
        )
    return out


@transactional
def set_panel_decision(
    proposal_id: int,
    *,
    final_grade: Any,
    final_rank: Any,
    justification: Any,
    comment_for_pi: Any,
    actor: Any,
    now: datetime | None = None,
) -> PanelDecision:
    """The chair's final grade and rank with a justification (audit logged) and the comment the
    PI will read. A conflicted chair hands the proposal to the deputy.

    Raises: NotFound (not a chair of the panel), PermissionDenied (conflicted: the deputy
    decides), ValidationFailed, InvalidState (allocation done).
    """
    now = now or utcnow()
    decision = queries.get_panel_decision(proposal_id)
    panel = decision.panel
    if panel is None or not permissions.is_chair_of_panel(actor, panel):
        raise NotFound("proposal_not_found")
    if chair_for(decision.proposal, panel) != actor.id:
        raise PermissionDenied("chair_conflicted")
    review = queries.get_call_review(decision.call_id)
    if review.allocated_at is not None:
        raise InvalidState("allocation_done")
    try:
        grade = round(float(str(final_grade).strip()), 2)
    except ValueError:
        raise ValidationFailed("grade_range", field="final_grade") from None
    if not 1 <= grade <= 5:
        raise ValidationFailed("grade_range", field="final_grade")
    before = audit.snapshot(decision, ("final_grade", "final_rank", "justification", "comment_for_pi"))
    decision.final_grade = grade
    decision.final_rank = integer(final_rank, "final_rank", minimum=1, maximum=100000)
    decision.justification = text(justification, "justification")
    decision.comment_for_pi = text(comment_for_pi, "comment_for_pi")
    decision.decided_by_id = actor.id
    decision.decided_at = now
    audit.record(actor, "panel.decided", decision, object_id=proposal_id, changes=audit.changes_since(decision, before))
    return decision


# --- allocation ----------------------------------------------------------------------------


def _allocation_request(
    proposal: Proposal,
    request: BeamtimeRequest,
    decision: PanelDecision,
    mean: float | None,
    technical: dict,
    *,
    fallback_rank: int,
) -> allocation.Request:
    tr = technical.get(request.id)
    recommended = tr.recommended_shifts if tr is not None and tr.submitted_at is not None else None
    return allocation.Request(
        key=f"{proposal.reference}/{request.instrument.code}#{request.id}",
        reference=proposal.reference or "",
        instrument=str(request.instrument_id),
        rank=decision.final_rank or 100000 + fallback_rank,
        mean_grade=mean,
        submitted_at=proposal.submitted_at or proposal.created_at,
        requested=request.shifts,
        recommended=recommended,
        cycles=request.cycles,
    )


_ROMAN = ["I", "II", "III", "IV"]


def following_cycle_names(cycle: Cycle, count: int) -> list[str]:
    """The names of the `count` cycles after `cycle`: the created ones in date order, then, for
    names like "2027-I", the next ones by the same pattern (a cycle created later picks them up).

    Raises: InvalidState (long_term_cycles_unknown) when neither gives enough names.
    """
    cycles = facility_queries.list_cycles()
    names = [c.name for c in sorted(cycles, key=lambda c: c.starts_on) if c.starts_on > cycle.starts_on][:count]
    pattern = re.compile(r"(\d{4})-(I|II|III|IV)")
    match = pattern.fullmatch(names[-1] if names else cycle.name)
    if len(names) < count and match:
        per_year = max([_ROMAN.index(m.group(2)) + 1 for c in cycles if (m := pattern.fullmatch(c.name))] + [2])
        year, index = int(match.group(1)), _ROMAN.index(match.group(2))
        while len(names) < count:
            index += 1
            if index >= per_year:
                year, index = year + 1, 0
            names.append(f"{year}-{_ROMAN[index]}")
    if len(names) < count:
        raise InvalidState("long_term_cycles_unknown", cycle=cycle.name)
    return names


def _means(call_id: int) -> dict[int, float | None]:
    means: dict[int, float | None] = {}
    for decision in queries.panel_decisions(call_id):
        if decision.panel_id is None or decision.proposal_id in means:
            continue
        ranked = ranking.rank(
            queries.panel_grades(decision.panel_id, decision.proposal.call.cycle_id),
            proposal_ids=[d.proposal_id for d in queries.panel_decisions(call_id, decision.panel_id)],
        )
        for item in ranked.proposals:
            means[item.proposal_id] = item.mean
    return means


def _contacts(instrument_ids: Sequence[int]) -> dict[int, list[int]]:
    return {i: [u.id for u in people] for i, people in facility_queries.instrument_scientists(instrument_ids).items()}


def _pick_contact(instrument_id: int, contacts: dict[int, list[int]], load: dict[int, int]) -> int | None:
    people = contacts.get(instrument_id) or []
    if not people:
        return None
    chosen = min(people, key=lambda person: (load[person], person))
    load[chosen] += 1
    return chosen


def _outcome(awarded: bool, final_grade: float | None) -> Outcome:
    if awarded:
        return Outcome.ACCEPTED
    threshold = settings.get_float(RESERVE_THRESHOLD.key)
    return Outcome.RESERVE if final_grade is not None and final_grade >= threshold else Outcome.REJECTED


def _commitment_prefix(call_id: int) -> str:
    return f"allocation {call_id}: "


def _policy() -> allocation.Policy:
    return allocation.Policy(
        minimum_award=settings.get_int(MINIMUM_AWARD.key), stop_at_first_misfit=settings.get_bool(STOP_AT_FIRST.key)
    )


@transactional
def run_allocation(call_id: int, *, actor: Any, now: datetime | None = None) -> allocation.Allocation:
    """Award shifts per instrument in final rank order within capacity (`allocation.allocate`),
    with a local contact each (the instrument's scientist with the fewest awards so far) and the
    long-term commitments on the following cycles; stage a decision per proposal. Run again
    (before sign-off) to start over.

    Raises: PermissionDenied, NotFound (review not started), InvalidState (signed_off).
    """
    now = now or utcnow()
    require(permissions.can_manage_reviews, actor)
    review = queries.get_call_review(call_id)
    if review.signed_off_at is not None:
        raise InvalidState("decisions_signed_off")
    cycle = review.call.cycle
    for old in queries.awards_of_call(call_id, live_only=False):
        db.session.delete(old)
    for old in queries.decisions_of_call(call_id):
        db.session.delete(old)
    facility_services.remove_commitments(source_prefix=_commitment_prefix(call_id), actor=actor)
    try:
        db.session.flush()
    except IntegrityError as exc:  # an award already has sessions on the calendar (scheduling)
        raise Conflict("awards_have_sessions") from exc
    # proprietary calls: no panel and no grade — first come, within the proprietary partition
    proprietary = review.call.route == AccessRoute.PROPRIETARY
    panel_decisions = [
        d
        for d in queries.panel_decisions(call_id)
        if d.proposal.status == ProposalStatus.UNDER_REVIEW and (proprietary or d.panel_id is not None)
    ]
    means = _means(call_id)
    technical = queries.technical_reviews_of([d.proposal_id for d in panel_decisions])
    requests: list[allocation.Request] = []
    by_key: dict[str, tuple[PanelDecision, BeamtimeRequest]] = {}
    if proprietary:
        ordered = sorted(
            panel_decisions, key=lambda d: (d.proposal.submitted_at or d.proposal.created_at, d.proposal_id)
        )
    else:
        ordered = sorted(panel_decisions, key=lambda d: (d.final_rank or 10**9, -(means.get(d.proposal_id) or 0)))
    for n, decision in enumerate(ordered, start=1):
        for request in decision.proposal.requests:
            item = _allocation_request(
                decision.proposal, request, decision, means.get(decision.proposal_id), technical, fallback_rank=n
            )
            requests.append(item)
            by_key[item.key] = (decision, request)
    instruments = {req.instrument_id: req.instrument for _, req in by_key.values()}
    if proprietary:
        table = facility_queries.capacity_table(cycle, instruments=list(instruments.values()))
        capacity = {str(inst.id): cap.proprietary for inst, cap in table}
    else:
        capacity = {str(i): facility_queries.instrument_capacity(cycle, inst).value for i, inst in instruments.items()}
    longest = max([r.cycles for r in requests] or [1])
    following = following_cycle_names(cycle, longest - 1) if longest > 1 else []
    result = allocation.allocate(requests, capacity, _policy(), following)
    contacts = _contacts(list(instruments))
    load: dict[int, int] = defaultdict(int)
    awarded: set[int] = set()
    for item in result.awards:
        if not item.awarded:
            continue
        decision, request = by_key[item.request_key]
        award = Award(
            request_id=request.id,
            proposal_id=decision.proposal_id,
            call_id=call_id,
            instrument_id=request.instrument_id,
            shifts=item.awarded,
            basis=item.reason.value,
            long_term=request.cycles > 1,
            cycles=request.cycles,
            local_contact_id=_pick_contact(request.instrument_id, contacts, load),
            created_at=now,
        )
        db.session.add(award)
        awarded.add(decision.proposal_id)
        for cycle_name, shifts in item.commitments:
            facility_services.add_commitment(
                cycle_name=cycle_name,
                instrument_id=request.instrument_id,
                shifts=shifts,
                source=f"{_commitment_prefix(call_id)}{decision.proposal.reference}/{request.instrument.code}",
                actor=actor,
            )
    for decision in panel_decisions:
        db.session.add(
            Decision(
                proposal_id=decision.proposal_id,
                call_id=call_id,
                outcome=_outcome(decision.proposal_id in awarded, decision.final_grade),
                staged_at=now,
            )
        )
    review.allocated_at = now
    audit.record(
        actor, "allocation.run", review, object_id=call_id, changes={"awards": len(awarded), "capacity": capacity}
    )
    return result


@transactional
def edit_award(
    award_id: int,
    *,
    shifts: Any,
    local_contact_id: int | None,
    reason: Any,
    actor: Any,
    now: datetime | None = None,
) -> Award:
    """Staff change an award's shifts or local contact (an instrument scientist of that
    instrument), with a reason (audit logged).

    Raises: PermissionDenied, NotFound, ValidationFailed (reason, shifts, local_contact_id).
    """
    require(permissions.can_manage_reviews, actor)
    award = queries.get_award(award_id)
    if award.withdrawn_at is not None:
        raise InvalidState("award_withdrawn")
    why = text(reason, "reason", maximum=2000)
    before = audit.snapshot(award, ("shifts", "local_contact_id"))
    award.shifts = integer(shifts, "shifts", minimum=1, maximum=100000)
    if local_contact_id is not None and local_contact_id not in _contacts([award.instrument_id]).get(
        award.instrument_id, []
    ):
        raise ValidationFailed("not_an_instrument_scientist", field="local_contact_id")
    award.local_contact_id = local_contact_id
    award.basis = "edited"
    award.edit_reason = why
    audit.record(actor, "award.edited", award, changes={**audit.changes_since(award, before), "reason": why})
    events.publish(AwardsChanged(award.call_id))
    return award


# --- decisions -----------------------------------------------------------------------------


@transactional
def sign_off_decisions(call_id: int, *, notify_at: datetime, actor: Any, now: datetime | None = None) -> CallReview:
    """The user office signs the staged decisions off and sets the call's notification date:
    the release job sends them from that instant on, all together.

    Raises: PermissionDenied, NotFound, InvalidState (not allocated, already released), ValidationFailed.
    """
    now = now or utcnow()
    require(permissions.can_manage_reviews, actor)
    review = queries.get_call_review(call_id)
    if review.allocated_at is None:
        raise InvalidState("allocation_not_run")
    if review.released_at is not None:
        raise InvalidState("decisions_released")
    if notify_at is None:
        raise ValidationFailed("required", field="notify_at")
    review.notify_at = notify_at
    review.signed_off_at = now
    review.signed_off_by_id = actor.id
    audit.record(actor, "decisions.signed_off", review, object_id=call_id, changes={"notify_at": notify_at})
    return review


def _letter(decision: Decision, awards: list[Award], panel: PanelDecision | None) -> tuple[str, str]:
    """The decision letter to a PI: the outcome, the awards and the chair's comment; never a
    reviewer's name or words."""
    proposal = decision.proposal
    lines = [
        str(_l("Dear %(name)s,", name=proposal.pi.user.name if proposal.pi else "")),
        "",
        str(
            {
                Outcome.ACCEPTED: _l("Your proposal %(ref)s has been accepted.", ref=proposal.reference),
                Outcome.RESERVE: _l("Your proposal %(ref)s is on the reserve list.", ref=proposal.reference),
                Outcome.REJECTED: _l("Your proposal %(ref)s could not be given beamtime.", ref=proposal.reference),
            }[decision.outcome]
        ),
    ]
    for award in awards:
        lines.append(
            str(_l("- %(instrument)s: %(shifts)s shifts", instrument=award.instrument.code, shifts=award.shifts))
        )
    if panel is not None and panel.comment_for_pi:
        lines += ["", str(_l("The panel's comment:")), panel.comment_for_pi]
    subject = str(_l("Decision on proposal %(ref)s", ref=proposal.reference))
    return subject, "\n".join(lines)


def _send_letter(decision: Decision, now: datetime, key: str) -> None:
    proposal = decision.proposal
    if proposal.pi is None:
        return
    awards = [a for a in queries.awards_of_call(decision.call_id) if a.proposal_id == proposal.id]
    subject, body = _letter(decision, awards, db.session.get(PanelDecision, proposal.id))
    outbox.enqueue(proposal.pi.user.email, subject, body, idempotency_key=key, now=now)


@transactional
def release_due_decisions(*, now: datetime | None = None) -> int:
    """The job: release the signed-off decisions of every call whose notification date has come,
    move the proposals to accepted / reserve / rejected and queue one letter per PI. Idempotent:
    a released call is not released again, and letters carry an idempotency key.

    Returns the number of decisions released.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(CallReview).where(
            CallReview.signed_off_at.is_not(None),
            CallReview.released_at.is_(None),
            CallReview.notify_at <= now,
        )
    ).all()
    released = 0
    for review in due:
        for decision in queries.decisions_of_call(review.call_id):
            proposal = decision.proposal
            if proposal.status == ProposalStatus.UNDER_REVIEW:
                proposal.status = check_move(proposal.status, ProposalStatus(decision.outcome.value))
            elif proposal.status == ProposalStatus.WITHDRAWN:
                continue
            decision.released_at = now
            _send_letter(decision, now, f"decision-letter:{proposal.id}")
            released += 1
        review.released_at = now
        audit.record(None, "decisions.released", review, object_id=review.call_id, changes={"count": released})
        events.publish(DecisionsReleased(review.call_id))
    return released


@transactional
def withdraw_award(award_id: int, *, reason: Any, actor: Any, now: datetime | None = None) -> list[Award]:
    """Withdraw an award; the freed shifts go by the same rule to the highest-ranked reserve
    proposals on that instrument (`allocation.reallocate`), whose PIs are told once the
    decisions are out. Returns the new awards.

    Raises: PermissionDenied, NotFound, ValidationFailed (reason), InvalidState (already withdrawn).
    """
    now = now or utcnow()
    require(permissions.can_manage_reviews, actor)
    award = queries.get_award(award_id)
    if award.withdrawn_at is not None:
        raise InvalidState("award_withdrawn")
    return _withdraw(award, text(reason, "reason", maximum=2000), actor, now)


def _withdraw(award: Award, why: str, actor: Any, now: datetime) -> list[Award]:
    award.withdrawn_at = now
    award.withdrawn_reason = why
    events.publish(AwardsChanged(award.call_id))
    audit.record(actor, "award.withdrawn", award, changes={"shifts": award.shifts, "reason": why})
    review = queries.get_call_review(award.call_id)
    reserve = [
        d
        for d in queries.decisions_of_call(award.call_id)
        if d.outcome == Outcome.RESERVE
        and d.proposal_id != award.proposal_id
        and d.proposal.status != ProposalStatus.WITHDRAWN
    ]
    if not reserve:
        return []
    technical = queries.technical_reviews_of([d.proposal_id for d in reserve])
    means = _means(award.call_id)
    requests: list[allocation.Request] = []
    by_key: dict[str, tuple[Decision, BeamtimeRequest]] = {}
    for n, decision in enumerate(reserve, start=1):
        panel = db.session.get(PanelDecision, decision.proposal_id)
        for request in decision.proposal.requests:
            if request.instrument_id != award.instrument_id:
                continue
            item = _allocation_request(
                decision.proposal, request, panel, means.get(decision.proposal_id), technical, fallback_rank=n
            )
            requests.append(item)
            by_key[item.key] = (decision, request)
    left = sum(a.shifts for a in queries.awards_of_call(award.call_id) if a.instrument_id == award.instrument_id)
    capacity = facility_queries.instrument_capacity(review.call.cycle, award.instrument).value
    freed = max(capacity - left, 0)
    result = allocation.reallocate(str(award.instrument_id), freed, requests, _policy())
    contacts = _contacts([award.instrument_id])
    load: dict[int, int] = defaultdict(int)
    for other in queries.awards_of_call(award.call_id):
        if other.local_contact_id:
            load[other.local_contact_id] += 1
    created = []
    for item in result.awards:
        if not item.awarded:
            continue
        decision, request = by_key[item.request_key]
        new = Award(
            request_id=request.id,
            proposal_id=decision.proposal_id,
            call_id=award.call_id,
            instrument_id=request.instrument_id,
            shifts=item.awarded,
            basis="reserve",
            long_term=request.cycles > 1,
            cycles=request.cycles,
            local_contact_id=_pick_contact(request.instrument_id, contacts, load),
            created_at=now,
        )
        db.session.add(new)
        created.append(new)
        decision.outcome = Outcome.ACCEPTED
        if decision.released_at is not None:
            decision.changed_at = now
            proposal = decision.proposal
            if proposal.status == ProposalStatus.RESERVE:
                proposal.status = check_move(proposal.status, ProposalStatus.ACCEPTED)
            db.session.flush()
            _send_letter(decision, now, f"decision-letter:{proposal.id}:reserve:{award.id}")
        audit.record(actor, "award.from_reserve", new, changes={"shifts": new.shifts, "freed_by": award.id})
    return created


def on_proposal_withdrawn(event: Any) -> None:
    """A proposal was withdrawn (proposals domain event, same transaction): its open review
    assignments end and its live awards are withdrawn, their shifts going to the reserve list."""
    from app.reviews.models import AssignmentState

    now = utcnow()
    for row in queries.assignments_for([event.proposal_id]):
        if row.state == AssignmentState.ASSIGNED:
            row.state = AssignmentState.REMOVED
            row.reason = "proposal withdrawn"
    for award in queries.awards_of_call_for_proposal(event.proposal_id):
        _withdraw(award, "proposal withdrawn", None, now)
