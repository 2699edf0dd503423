"""The reviews part of the demo facility: four panels with reviewers, an instrument scientist
for every instrument, and the two past calls' review.

- The older past call is reviewed to the end: technical reviews for every request, three
  reviewers per proposal assigned by the real optimisation (never a conflict), every assignment
  graded (each reviewer with a bias of their own), final grades and ranks with a comment for the
  PI, then the real allocation (`run_allocation`: awards within capacity with local contacts),
  sign-off and release, all dated in the past. Capacity commitments leave room for some 47 % of
  the recommended shifts, so about 45 % are accepted (BENCHMARKS.md). The release queues a
  letter per PI; those outbox rows are deleted in the same transaction (the history sends no mail).
- The newer past call is under review: technical reviews, assignments and most grades. The demo
  reviewer (reviewer@…) still has proposals to grade there; the demo chair (panel-chair@…) runs
  panel 1's meeting; allocation is the user office's to run.

Deterministic (seeded) and idempotent (nothing is done once the demo panels exist).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from app.accounts.models import Role, RoleAssignment, User
from app.core.transaction import unit_of_work
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals.models import AccessRoute, Call, Proposal, SubjectArea
from app.proposals.status import ProposalStatus
from app.reviews import assignment
from app.reviews.models import (
    AssignmentSource,
    AssignmentState,
    CallReview,
    Feasibility,
    Panel,
    PanelDecision,
    Review,
    ReviewAssignment,
    ReviewerProfile,
    TechnicalReview,
)

SEED = 5151
PANELS = [
    ("Chemistry and materials", [SubjectArea.CHEMISTRY, SubjectArea.MATERIALS], ["catalysis", "batteries", "xafs"]),
    ("Life sciences", [SubjectArea.BIOLOGY, SubjectArea.MEDICINE], ["crystallography", "saxs", "proteins"]),
    (
        "Physics and methods",
        [SubjectArea.CONDENSED_MATTER, SubjectArea.METHODS, SubjectArea.ENGINEERING],
        ["magnetism", "arpes", "detectors"],
    ),
    (
        "Earth, environment and heritage",
        [SubjectArea.EARTH_ENVIRONMENT, SubjectArea.CULTURAL_HERITAGE, SubjectArea.OTHER],
        ["geochemistry", "pigments", "imaging"],
    ),
]
REVIEWERS_PER_PANEL = 9
GRADED_SHARE = 0.8
#: the share of the older past call's recommended shifts its cycle still has room for
AVAILABLE_SHARE = 0.47
DEMO_REVIEWER = "reviewer@beamtime.example"
DEMO_CHAIR = "panel-chair@beamtime.example"
COMMENTS = [
    "Clear scientific case; the beamtime request is well justified.",
    "Interesting question, but the sample preparation needs more detail.",
    "Strong team with relevant track record; methods appropriate.",
    "The expected outcome is not clearly stated.",
    "Ambitious and timely; feasibility depends on the detector.",
]

PI_COMMENTS = [
    "An outstanding proposal; the panel looks forward to the results.",
    "A strong proposal with a clear case; the requested time is well justified.",
    "A good proposal; the panel asks for a sharper statement of the expected outcome.",
    "The panel found the case promising but not yet convincing; please strengthen the methods.",
    "The panel could not rank the proposal high enough; the scientific case needs more work.",
]


def _reviewers(rng: random.Random, count: int) -> list[User]:
    """People of the demo population (not the demo log-ins) to sit on the panels."""
    people = list(
        db.session.scalars(
            select(User).where(User.email.not_like("%@beamtime.example"), User.active.is_(True)).order_by(User.id)
        )
    )
    rng.shuffle(people)
    return people[:count]


def seed(*, actor: Any, today: date | None = None, progress=None) -> int:
    """Create the demo panels and the review of the older past call; returns the reviews made."""
    today = today or date.today()
    made = 0
    with unit_of_work():
        if db.session.scalar(select(Panel.id).limit(1)) is not None:
            return 0
        from app.demo.facility import demo_cycles

        names = [name for name, _s, _e in demo_cycles(today)]
        calls = []
        for name in names[:2]:
            cycle = facility_queries.get_cycle_by_name(name)
            calls.append(
                db.session.scalar(select(Call).where(Call.cycle_id == cycle.id, Call.route == AccessRoute.STANDARD))
                if cycle is not None
                else None
            )
        call, newer = calls
        rng = random.Random(SEED)
        pool = _reviewers(rng, REVIEWERS_PER_PANEL * len(PANELS))
        panels = []
        for index, (name, subjects, keywords) in enumerate(PANELS):
            panel = Panel(name=name, subject_areas=[s.value for s in subjects])
            db.session.add(panel)
            db.session.flush()
            panels.append(panel)
            for person in pool[index * REVIEWERS_PER_PANEL : (index + 1) * REVIEWERS_PER_PANEL]:
                db.session.add(RoleAssignment(user_id=person.id, role=Role.REVIEWER, scope_id=panel.id))
                db.session.add(ReviewerProfile(user_id=person.id, keywords=rng.sample(keywords, 2)))
        # the demo log-ins sit on the first panel (people.py gives them scope 1: a fresh database's)
        for email, role in (
            (DEMO_REVIEWER, Role.REVIEWER),
            (DEMO_CHAIR, Role.PANEL_CHAIR),
            (DEMO_CHAIR, Role.REVIEWER),
        ):
            user = db.session.scalar(select(User).where(User.email == email))
            if user is not None and not user.has_role(role, panels[0].id):
                db.session.add(RoleAssignment(user_id=user.id, role=role, scope_id=panels[0].id))
        db.session.flush()
        _staff_instruments(set(p.id for p in pool))
        if call is None:
            return 0
        # the older past call: reviewed to the end, decisions released in the past
        made = _review_call(call, panels, actor, rng, complete=True)
        decided = _decide_call(call, panels, actor, rng)
        # the newer past call: under review, the demo reviewer's grades and panel 1's meeting to come
        if newer is not None:
            made += _review_call(newer, panels, actor, rng, complete=False)
    if progress is not None:
        progress.print(f"demo reviews: {len(PANELS)} panels, {made} review(s), {decided} decision(s) released")
    return made


def _decide_call(
    call: Call, panels: list[Panel], actor: Any, rng: random.Random, *, commit_capacity: bool = True
) -> int:
    """The panels' final grades and ranks, the allocation, sign-off and release through the real
    services, dated in the past; the decision letters the release queues are deleted in the same
    transaction (the demo's history sends no mail). With `commit_capacity` the cycle's capacity
    is first cut to the call's share (`_commit_capacity`); a second call of the same cycle (the
    long-term one, app/demo/longterm.py) meets the capacity as the first left it."""
    from app.core.models import OutboxMessage
    from app.reviews.services import decisions

    meeting_at = call.closes_at + timedelta(days=75)
    grades: dict[int, list[int]] = {}
    for proposal_id, grade in db.session.execute(
        select(Review.proposal_id, Review.grade)
        .join(Proposal, Proposal.id == Review.proposal_id)
        .where(Proposal.call_id == call.id)
    ):
        grades.setdefault(proposal_id, []).append(grade)
    for panel in panels:
        rows = list(
            db.session.scalars(
                select(PanelDecision)
                .where(PanelDecision.call_id == call.id, PanelDecision.panel_id == panel.id)
                .order_by(PanelDecision.proposal_id)
            )
        )
        means = {
            row.proposal_id: sum(grades.get(row.proposal_id, [])) / len(grades[row.proposal_id])
            if grades.get(row.proposal_id)
            else 1.0
            for row in rows
        }
        rows.sort(key=lambda row: (-means[row.proposal_id], row.proposal_id))
        for rank, row in enumerate(rows, start=1):
            row.final_grade = round(means[row.proposal_id], 2)
            row.final_rank = rank
            row.justification = "Mean grade of the panel's reviews; discussed at the meeting."
            row.comment_for_pi = PI_COMMENTS[min(4, max(0, 5 - round(means[row.proposal_id])))]
            row.decided_by_id = getattr(actor, "id", None)
            row.decided_at = meeting_at
    db.session.flush()
    if commit_capacity:
        _commit_capacity(call, actor)
    last_mail = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    decisions.run_allocation(call.id, actor=actor, now=meeting_at + timedelta(days=3))
    notify_at = meeting_at + timedelta(days=10)
    decisions.sign_off_decisions(call.id, notify_at=notify_at, actor=actor, now=meeting_at + timedelta(days=5))
    released = decisions.release_due_decisions(now=notify_at)
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_mail))
    db.session.flush()
    return released


def _staff_instruments(taken: set[int]) -> None:
    """Every instrument gets an instrument scientist (technical reviews, local contacts): people of
    the demo population who sit on no panel, in id order."""
    from app.facility.models import Instrument

    staffed = facility_queries.instrument_scientists()
    spare = iter(
        db.session.scalars(
            select(User)
            .where(User.email.not_like("%@beamtime.example"), User.active.is_(True), User.id.not_in(taken or {0}))
            .order_by(User.id.desc())
        )
    )
    for instrument in db.session.scalars(select(Instrument).order_by(Instrument.id)):
        if staffed.get(instrument.id):
            continue
        person = next(spare, None)
        if person is None:
            return
        db.session.add(RoleAssignment(user_id=person.id, role=Role.INSTRUMENT_SCIENTIST, scope_id=instrument.id))
    db.session.flush()


def _commit_capacity(call: Call, actor: Any) -> None:
    """The demo call asks for far less than a cycle holds: most of each instrument's capacity is
    promised to in-house research and earlier long-term programmes (capacity commitments), so the
    call is oversubscribed about as much as BENCHMARKS.md says (some 45 % accepted)."""
    from app.facility import services as facility_services
    from app.proposals.models import BeamtimeRequest

    demand: dict[int, int] = {}
    recommended = {
        tr.request_id: tr.recommended_shifts
        for tr in db.session.scalars(
            select(TechnicalReview)
            .join(Proposal, Proposal.id == TechnicalReview.proposal_id)
            .where(Proposal.call_id == call.id)
        )
    }
    for request in db.session.scalars(
        select(BeamtimeRequest)
        .join(Proposal, Proposal.id == BeamtimeRequest.proposal_id)
        .where(Proposal.call_id == call.id, Proposal.status == ProposalStatus.UNDER_REVIEW)
    ):
        shifts = recommended.get(request.id, request.shifts)
        demand[request.instrument_id] = demand.get(request.instrument_id, 0) + shifts
    for instrument_id in sorted(demand):
        instrument = facility_queries.get_instrument(instrument_id)
        capacity = facility_queries.instrument_capacity(call.cycle, instrument).value
        available = round(demand[instrument_id] * AVAILABLE_SHARE)
        if capacity > available:
            facility_services.add_commitment(
                cycle_name=call.cycle.name,
                instrument_id=instrument_id,
                shifts=capacity - available,
                source="demo: in-house research and earlier long-term programmes",
                actor=actor,
            )
    db.session.flush()


def _review_call(call: Call, panels: list[Panel], actor: Any, rng: random.Random, *, complete: bool) -> int:
    from app.reviews.services.grading import build_problem

    started = call.closes_at + timedelta(days=1)
    db.session.add(
        CallReview(
            call_id=call.id,
            started_at=started,
            started_by_id=getattr(actor, "id", None),
            review_deadline_at=started + timedelta(days=60),
        )
    )
    proposals = list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.call_id == call.id, Proposal.status == ProposalStatus.UNDER_REVIEW)
            .order_by(Proposal.id)
        )
    )
    by_subject = {s: p for p in panels for s in p.subject_areas}
    scientists = facility_queries.instrument_scientists()
    quality: dict[int, float] = {}
    by_panel: dict[int, list[Proposal]] = {}
    for proposal in proposals:
        panel = by_subject.get(proposal.subject_area.value if proposal.subject_area else "other")
        db.session.add(PanelDecision(proposal_id=proposal.id, call_id=call.id, panel_id=panel.id if panel else None))
        if panel is not None:
            by_panel.setdefault(panel.id, []).append(proposal)
        quality[proposal.id] = rng.gauss(3.3, 0.8)
        for request in proposal.requests:
            verdict = rng.choices(list(Feasibility), weights=[80, 15, 5])[0]
            people = scientists.get(request.instrument_id, [])
            db.session.add(
                TechnicalReview(
                    request_id=request.id,
                    proposal_id=proposal.id,
                    instrument_id=request.instrument_id,
                    feasibility=verdict,
                    recommended_shifts=0
                    if verdict == Feasibility.NOT_FEASIBLE
                    else max(1, request.shifts - rng.choice([0, 0, 0, 1, 2])),
                    comment_for_panel="Standard set-up; no special requirements."
                    if verdict == Feasibility.FEASIBLE
                    else "Needs a different sample environment.",
                    comment_for_pi="",
                    reviewer_id=people[0].id if people else None,
                    created_at=started,
                    submitted_at=started + timedelta(days=rng.randint(3, 20)),
                )
            )
    db.session.flush()
    bias: dict[int, float] = {}
    made = 0
    demo_reviewer = db.session.scalar(select(User.id).where(User.email == DEMO_REVIEWER))
    for panel in panels:
        members = by_panel.get(panel.id, [])
        if not members:
            continue
        problem, _existing = build_problem(panel, members)
        solution = assignment.assign(problem, deterministic_limit=0.5)
        for reviewer_id, proposal_id in solution.pairs:
            row = ReviewAssignment(
                proposal_id=proposal_id,
                panel_id=panel.id,
                reviewer_id=reviewer_id,
                source=AssignmentSource.AUTO,
                assigned_at=started + timedelta(days=2),
            )
            db.session.add(row)
            # the demo reviewer keeps their proposals to grade; most others are graded
            if not complete and (reviewer_id == demo_reviewer or rng.random() > GRADED_SHARE):
                continue
            b = bias.setdefault(reviewer_id, rng.gauss(0, 0.5))
            grade = min(5, max(1, round(quality[proposal_id] + b + rng.gauss(0, 0.5))))
            db.session.flush()
            db.session.add(
                Review(
                    assignment_id=row.id,
                    proposal_id=proposal_id,
                    reviewer_id=reviewer_id,
                    grade=grade,
                    comment_for_panel=rng.choice(COMMENTS),
                    submitted_at=started + timedelta(days=rng.randint(10, 40)),
                )
            )
            row.state = AssignmentState.SUBMITTED
            made += 1
    db.session.flush()
    return made
