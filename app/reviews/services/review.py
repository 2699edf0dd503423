"""Starting the review of a call, technical reviews, panels, expertise and bids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit, outbox, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require, require_visible
from app.core.transaction import transactional
from app.extensions import db
from app.facility import queries as facility_queries
from app.proposals.models import AccessRoute, Call, Proposal, SubjectArea
from app.proposals.status import ProposalStatus, check_move
from app.reviews import permissions, queries
from app.reviews.models import (
    Bid,
    BidLevel,
    CallReview,
    Feasibility,
    Panel,
    PanelDecision,
    ReviewerProfile,
    TechnicalReview,
)

__all__ = [
    "PER_PROPOSAL",
    "WINDOW_YEARS",
    "create_panel",
    "get_visible_technical_review",
    "place_bid",
    "set_expertise",
    "start_review",
    "submit_technical_review",
    "update_panel",
]

PER_PROPOSAL = settings.define(
    "reviews.reviewers_per_proposal", int, 3, _l("Reviewers per proposal"), minimum=1, maximum=10
)
WINDOW_YEARS = settings.define(
    "reviews.conflict_window_years", int, 3, _l("Co-proposers conflict for this many years"), minimum=0, maximum=20
)
DEADLINE_DAYS = settings.define(
    "reviews.review_deadline_days", int, 21, _l("Days reviewers have to grade"), minimum=1, maximum=120
)
MINIMUM_AWARD = settings.define(
    "reviews.minimum_award", int, 3, _l("Smallest award, in shifts"), minimum=1, maximum=100
)
STOP_AT_FIRST = settings.define(
    "reviews.stop_at_first_misfit", bool, False, _l("Allocation stops at the first request that does not fit")
)
RESERVE_THRESHOLD = settings.define(
    "reviews.reserve_threshold", float, 3.5, _l("Lowest final grade for the reserve list"), minimum=1, maximum=5
)

COUNTRY_TOLERANCE = settings.define(
    "reviews.country_share_tolerance",
    float,
    5.0,
    _l("Warn when a member country's share of awarded shifts is this many points below its contribution"),
    minimum=0,
    maximum=100,
)
NON_MEMBER_MAX = settings.define(
    "reviews.non_member_share_max",
    float,
    20.0,
    _l("Warn when more than this percentage of awarded shifts goes to PIs outside the member countries"),
    minimum=0,
    maximum=100,
)

NAME_MAX = 200
COMMENT_MAX = 10000


def text(value: Any, field: str, *, maximum: int = COMMENT_MAX, required: bool = True) -> str:
    cleaned = str(value or "").strip()
    if required and not cleaned:
        raise ValidationFailed("required", field=field)
    if len(cleaned) > maximum:
        raise ValidationFailed("too_long", field=field, maximum=maximum)
    return cleaned


def integer(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("integer_range", field=field, minimum=minimum, maximum=maximum) from None
    if not minimum <= number <= maximum:
        raise ValidationFailed("integer_range", field=field, minimum=minimum, maximum=maximum)
    return number


# --- starting the review of a call ---------------------------------------------------------


def _get_call(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound("call_not_found")
    return call


@transactional
def start_review(call_id: int, *, actor: Any, now: datetime | None = None) -> CallReview:
    """After the call closes: a technical review task per beamtime request for the instrument's
    scientists (who are told by e-mail), each proposal routed to the panel of its subject area
    (proprietary ones to none: feasibility only), and every submitted proposal → under_review.

    Raises: PermissionDenied, NotFound, InvalidState (call_still_open), Conflict (review_already_started).
    """
    now = now or utcnow()
    require(permissions.can_manage_reviews, actor)
    call = _get_call(call_id)
    if not call.has_closed(now):
        raise InvalidState("call_still_open", closes_at=call.closes_at)
    if queries.find_call_review(call.id) is not None:
        raise Conflict("review_already_started")
    review = CallReview(
        call_id=call.id,
        started_at=now,
        started_by_id=actor.id,
        review_deadline_at=now + timedelta(days=settings.get_int(DEADLINE_DAYS.key)),
    )
    db.session.add(review)
    proposals = list(
        db.session.scalars(
            select(Proposal).where(Proposal.call_id == call.id, Proposal.status == ProposalStatus.SUBMITTED)
        )
    )
    tasks: dict[int, int] = {}
    for proposal in proposals:
        proposal.status = check_move(proposal.status, ProposalStatus.UNDER_REVIEW)
        panel = None if call.route == AccessRoute.PROPRIETARY else queries.panel_for_subject(proposal.subject_area)
        db.session.add(PanelDecision(proposal_id=proposal.id, call_id=call.id, panel_id=panel.id if panel else None))
        for request in proposal.requests:
            db.session.add(
                TechnicalReview(
                    request_id=request.id, proposal_id=proposal.id, instrument_id=request.instrument_id, created_at=now
                )
            )
            tasks[request.instrument_id] = tasks.get(request.instrument_id, 0) + 1
    for instrument_id, people in facility_queries.instrument_scientists(list(tasks)).items():
        for person in people:
            outbox.enqueue(
                person.email,
                str(_l("Technical reviews to write")),
                str(
                    _l(
                        "%(count)s beamtime request(s) of %(call)s wait for your technical review.",
                        count=tasks[instrument_id],
                        call=call.title,
                    )
                ),
                idempotency_key=f"technical-review-tasks:{call.id}:{instrument_id}:{person.id}",
                now=now,
            )
    audit.record(actor, "review.started", review, object_id=call.id, changes={"proposals": len(proposals)})
    return review


# --- technical review ----------------------------------------------------------------------


def get_visible_technical_review(technical_review_id: int, actor: Any) -> TechnicalReview:
    found = queries.get_technical_review(technical_review_id)
    require_visible(permissions.can_view_technical_review, actor, found)
    return found


@transactional
def submit_technical_review(
    technical_review_id: int,
    *,
    feasibility: Any,
    recommended_shifts: Any,
    comment_for_panel: Any,
    comment_for_pi: Any = "",
    actor: Any,
    now: datetime | None = None,
) -> TechnicalReview:
    """Write (or correct, until allocation) a request's feasibility review: only the
    instrument's scientists. Not feasible means 0 shifts recommended.

    Raises: NotFound (not one's instrument), PermissionDenied, ValidationFailed, InvalidState (allocated).
    """
    now = now or utcnow()
    found = get_visible_technical_review(technical_review_id, actor)
    require(permissions.can_submit_technical_review, actor, found)
    review = queries.find_call_review(found.proposal.call_id)
    if review is not None and review.allocated_at is not None:
        raise InvalidState("allocation_done")
    try:
        verdict = Feasibility(str(feasibility or ""))
    except ValueError:
        raise ValidationFailed("choose_one", field="feasibility") from None
    if verdict == Feasibility.NOT_FEASIBLE:
        shifts = 0
    else:
        shifts = integer(recommended_shifts, "recommended_shifts", minimum=1, maximum=found.request.shifts)
    found.feasibility = verdict
    found.recommended_shifts = shifts
    found.comment_for_panel = text(comment_for_panel, "comment_for_panel")
    found.comment_for_pi = text(comment_for_pi, "comment_for_pi", required=False)
    found.reviewer_id = actor.id
    found.submitted_at = now
    from app.reviews.services.rapid import decide_rapid

    decide_rapid(found.proposal, now=now)
    return found


# --- panels --------------------------------------------------------------------------------


def _subjects(values: Iterable[Any]) -> list[str]:
    out = []
    for value in values or []:
        try:
            out.append(SubjectArea(str(value)).value)
        except ValueError:
            raise ValidationFailed("choose_one", field="subject_areas") from None
    return sorted(set(out))


def _check_subjects_free(subjects: list[str], panel_id: int | None) -> None:
    for other in queries.list_panels(active_only=True):
        if other.id != panel_id and set(other.subject_areas or []) & set(subjects):
            raise ValidationFailed("subject_area_taken", field="subject_areas", panel=other.name)


@transactional
def create_panel(name: Any, subject_areas: Iterable[Any], *, actor: Any) -> Panel:
    """A panel for some subject areas (each subject area belongs to one active panel).

    Raises: PermissionDenied, ValidationFailed (required, subject_area_taken), Conflict (panel_name_taken).
    """
    require(permissions.can_manage_reviews, actor)
    subjects = _subjects(subject_areas)
    _check_subjects_free(subjects, None)
    panel = Panel(name=text(name, "name", maximum=NAME_MAX), subject_areas=subjects)
    try:
        with db.session.begin_nested():
            db.session.add(panel)
    except IntegrityError:
        raise Conflict("panel_name_taken") from None
    audit.record(actor, "panel.created", panel, changes={"name": panel.name, "subject_areas": subjects})
    return panel


@transactional
def update_panel(
    panel_id: int,
    *,
    name: Any,
    subject_areas: Iterable[Any],
    deputy_chair_id: int | None = None,
    active: bool = True,
    actor: Any,
) -> Panel:
    """Rename, change subject areas, name the deputy chair (a reviewer of the panel), retire.

    Raises: PermissionDenied, NotFound, ValidationFailed (deputy_not_reviewer…), Conflict (panel_name_taken).
    """
    require(permissions.can_manage_reviews, actor)
    panel = queries.get_panel(panel_id)
    before = audit.snapshot(panel, ("name", "subject_areas", "deputy_chair_id", "active"))
    subjects = _subjects(subject_areas)
    if active:
        _check_subjects_free(subjects, panel.id)
    if deputy_chair_id is not None and deputy_chair_id not in {u.id for u in queries.panel_reviewers(panel)}:
        raise ValidationFailed("deputy_not_reviewer", field="deputy_chair_id")
    panel.name = text(name, "name", maximum=NAME_MAX)
    panel.subject_areas = subjects
    panel.deputy_chair_id = deputy_chair_id
    panel.active = bool(active)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("panel_name_taken") from None
    audit.record(actor, "panel.updated", panel, changes=audit.changes_since(panel, before))
    return panel


# --- expertise and bids --------------------------------------------------------------------


@transactional
def set_expertise(keywords: Any, *, actor: Any, now: datetime | None = None) -> ReviewerProfile:
    """A reviewer states their expertise (comma-separated keywords, at most 30).

    Raises: PermissionDenied (not a reviewer), ValidationFailed (too_many_keywords).
    """
    require(permissions.is_reviewer, actor)
    words = keywords.split(",") if isinstance(keywords, str) else list(keywords or [])
    cleaned = sorted({w.strip().lower() for w in words if w and w.strip()})
    if len(cleaned) > 30 or any(len(w) > 60 for w in cleaned):
        raise ValidationFailed("too_many_keywords", field="keywords", maximum=30)
    profile = db.session.get(ReviewerProfile, actor.id)
    if profile is None:
        profile = ReviewerProfile(user_id=actor.id)
        db.session.add(profile)
    profile.keywords = cleaned
    profile.updated_at = now or utcnow()
    return profile


@transactional
def place_bid(proposal_id: int, level: Any, *, actor: Any, now: datetime | None = None) -> Bid:
    """A reviewer of the proposal's panel bids eager / willing / not my field.

    Raises: NotFound (not on that panel, proprietary), ValidationFailed (choose_one).
    """
    decision = queries.find_panel_decision(proposal_id)
    if decision is None or decision.panel is None or not permissions.is_reviewer_of_panel(actor, decision.panel):
        raise NotFound("proposal_not_found")
    window = settings.get_int(WINDOW_YEARS.key)
    if queries.find_conflicts_of(actor, decision.proposal, window_years=window):
        raise NotFound("proposal_not_found")
    try:
        chosen = BidLevel(str(level or ""))
    except ValueError:
        raise ValidationFailed("choose_one", field="level") from None
    bid = db.session.scalar(select(Bid).where(Bid.proposal_id == proposal_id, Bid.reviewer_id == actor.id))
    if bid is None:
        bid = Bid(proposal_id=proposal_id, reviewer_id=actor.id, level=chosen, created_at=now or utcnow())
        db.session.add(bid)
    bid.level = chosen
    return bid
