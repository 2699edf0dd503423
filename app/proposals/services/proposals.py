"""Drafts, autosave, the science case, completeness, submission, withdrawal and cloning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit, events, settings
from app.core.db import utcnow
from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.proposals import notifications, pdfcheck, permissions, storage
from app.proposals.events import ProposalChanged, ProposalSubmitted, ProposalWithdrawn
from app.proposals.models import (
    AccessRoute,
    BeamtimeRequest,
    Call,
    Hazard,
    MemberRole,
    Proposal,
    ProposalLink,
    ProposalMember,
    ReferenceCounter,
    Sample,
    SubjectArea,
)
from app.proposals.status import ProposalStatus, check_move

__all__ = [
    "CloneResult",
    "Problem",
    "clone_proposal",
    "create_proposal",
    "ensure_editable",
    "get_proposal",
    "get_proposal_by_reference",
    "get_visible_proposal",
    "pdf_limits",
    "problems_of",
    "remove_science_case",
    "submit_proposal",
    "touch",
    "update_proposal",
    "upload_science_case",
    "withdraw_proposal",
]

settings.define("proposals.science_case_max_mb", int, 10, _l("Largest science case PDF, in MB"), minimum=1, maximum=40)
settings.define(
    "proposals.science_case_max_pages", int, 5, _l("Most pages of a science case PDF"), minimum=1, maximum=100
)
settings.define(
    "proposals.abstract_max_chars", int, 3000, _l("Longest abstract, in characters"), minimum=200, maximum=20000
)

TEXT_FIELDS = ("title", "abstract", "subject_area")
TITLE_MAX = 300


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a proposal cannot be submitted: a message code and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, **self.params}


# --- reading ------------------------------------------------------------------------------


def get_proposal(proposal_id: int, *, for_update: bool = False) -> Proposal:
    query = select(Proposal).where(Proposal.id == proposal_id)
    if for_update:
        # FOR UPDATE OF proposals: the joined call may sit on the nullable side of an outer join
        query = query.with_for_update(of=Proposal).execution_options(populate_existing=True)
    proposal = db.session.scalar(query)
    if proposal is None:
        raise NotFound("proposal_not_found")
    return proposal


def get_visible_proposal(proposal_id: int, actor: Any, *, for_update: bool = False) -> Proposal:
    """The proposal if the actor may see it; otherwise NotFound, exactly like a missing one."""
    proposal = get_proposal(proposal_id, for_update=for_update)
    _require_visible(actor, proposal)
    return proposal


def _require_visible(actor: Any, proposal: Proposal) -> None:
    """One answer for "hidden" and "missing": the same code, the same sentence."""
    if not permissions.can_view_proposal(actor, proposal):
        raise NotFound("proposal_not_found")


def get_proposal_by_reference(reference: str, actor: Any) -> Proposal:
    proposal = db.session.scalar(select(Proposal).where(Proposal.reference == (reference or "").strip()))
    if proposal is None:
        raise NotFound("proposal_not_found")
    _require_visible(actor, proposal)
    return proposal


# --- editing ------------------------------------------------------------------------------


def ensure_editable(proposal: Proposal, now: datetime) -> None:
    """Raises: InvalidState (call closed, rapid access already submitted, decided proposal)."""
    if proposal.is_editable(now):
        return
    if proposal.status in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED) and proposal.call.has_closed(now):
        raise InvalidState("call_closed", closed_at=proposal.call.closes_at)
    if (
        proposal.status in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW)
        and proposal.call.route == AccessRoute.RAPID_ACCESS
    ):  # the reviews domain starts a rapid-access review at submission
        raise InvalidState("rapid_access_locked")
    if proposal.status == ProposalStatus.SUBMITTED and not proposal.call.is_open(now):
        raise InvalidState("call_not_open", opens_at=proposal.call.opens_at)
    raise InvalidState("proposal_not_editable", status=proposal.status.value)


def editable_proposal(proposal_id: int, actor: Any, now: datetime) -> Proposal:
    """Visible, editable by the actor, and in a state that takes edits (row locked)."""
    proposal = get_visible_proposal(proposal_id, actor, for_update=True)
    require(permissions.can_edit_proposal, actor, proposal)
    ensure_editable(proposal, now)
    return proposal


def touch(proposal: Proposal, now: datetime, *, publish: bool = True) -> None:
    """After every edit: the timestamp, the team's snapshot while it still follows people, and,
    once the proposal is past its draft, `ProposalChanged` (the reports' rollups follow it)."""
    from app.proposals.services.team import refresh_snapshot

    proposal.updated_at = now
    refresh_snapshot(proposal, now=now)
    if publish and proposal.status != ProposalStatus.DRAFT:
        events.publish(ProposalChanged(proposal.id))


@transactional
def create_proposal(call_id: int, *, actor: Any, title: str = "", now: datetime | None = None) -> Proposal:
    """Start a draft in a call that has not closed, with the actor as PI.

    Raises: PermissionDenied, NotFound (call), InvalidState (call closed), ValidationFailed (title).
    """
    from app.proposals.services.team import snapshot_member

    now = now or utcnow()
    require(permissions.can_write_proposals, actor)
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound("call_not_found")
    if call.has_closed(now):
        raise InvalidState("call_closed", closed_at=call.closes_at)
    proposal = Proposal(
        call=call,
        status=ProposalStatus.DRAFT,
        title=_clean_title(title, required=False),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(proposal)
    member = ProposalMember(user=actor, role=MemberRole.PI, joined_at=now)
    proposal.members.append(member)
    snapshot_member(member, now=now)
    db.session.flush()
    audit.record(actor, "proposal.created", proposal, changes={"call_id": call.id})
    return proposal


def _clean_title(value: Any, *, required: bool) -> str:
    title = " ".join(str(value or "").split())
    if required and not title:
        raise ValidationFailed("required", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed("too_long", field="title", maximum=TITLE_MAX)
    return title


def _clean_text_fields(changes: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    unknown = set(changes) - set(TEXT_FIELDS)
    if unknown:
        raise ValidationFailed("field_unknown", field=sorted(unknown)[0])
    clean: dict[str, Any] = {}
    if "title" in changes:
        clean["title"] = _clean_title(changes["title"], required=required)
    if "abstract" in changes:
        abstract = str(changes["abstract"] or "").replace("\r\n", "\n").strip()
        maximum = settings.get_int("proposals.abstract_max_chars")
        if len(abstract) > maximum:
            raise ValidationFailed("too_long", field="abstract", maximum=maximum)
        if required and not abstract:
            raise ValidationFailed("required", field="abstract")
        clean["abstract"] = abstract
    if "subject_area" in changes:
        raw = changes["subject_area"]
        if raw in (None, ""):
            if required:
                raise ValidationFailed("required", field="subject_area")
            clean["subject_area"] = None
        else:
            try:
                clean["subject_area"] = SubjectArea(raw)
            except ValueError:
                raise ValidationFailed("invalid_value", field="subject_area") from None
    return clean


@transactional
def update_proposal(
    proposal_id: int, changes: Mapping[str, Any], *, actor: Any, now: datetime | None = None
) -> Proposal:
    """Save title, abstract and subject area (autosave sends one field at a time).

    A refused save changes nothing and names the field; the draft stays as it was. A submitted
    proposal must stay complete: its required fields cannot be emptied.

    Raises: NotFound, PermissionDenied, InvalidState (not editable now), ValidationFailed.
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    clean = _clean_text_fields(changes, required=proposal.status != ProposalStatus.DRAFT)
    before = audit.snapshot(proposal, tuple(clean))
    for key, value in clean.items():
        setattr(proposal, key, value)
    touch(proposal, now)
    if proposal.status != ProposalStatus.DRAFT and (diff := audit.changes_since(proposal, before)):
        audit.record(actor, "proposal.updated", proposal, changes=diff)
    return proposal


# --- the science case ---------------------------------------------------------------------


def pdf_limits() -> pdfcheck.PdfLimits:
    return pdfcheck.PdfLimits(
        max_bytes=settings.get_int("proposals.science_case_max_mb") * 1024 * 1024,
        max_pages=settings.get_int("proposals.science_case_max_pages"),
    )


def _display_name(filename: str | None) -> str:
    name = Path((filename or "").replace("\\", "/")).name.strip() or "science-case.pdf"
    return name[:200]


@transactional
def upload_science_case(
    proposal_id: int,
    data: bytes,
    filename: str | None,
    *,
    upload_dir: str,
    actor: Any,
    now: datetime | None = None,
) -> Proposal:
    """Check the PDF by its content and attach it (replacing the previous one).

    Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed on "science_case"
    (empty, too large, not a PDF — with what it is —, malformed, encrypted, too many pages).
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    checked = pdfcheck.check_pdf(data, pdf_limits())
    key = storage.store(upload_dir, checked.sha256, checked.data)
    before = audit.snapshot(proposal, ("science_case_key",))
    proposal.science_case_key = key
    proposal.science_case_name = _display_name(filename)
    proposal.science_case_size = checked.size
    proposal.science_case_pages = checked.pages
    proposal.science_case_uploaded_at = now
    touch(proposal, now)
    audit.record(actor, "proposal.science_case_uploaded", proposal, changes=audit.changes_since(proposal, before))
    return proposal


@transactional
def remove_science_case(proposal_id: int, *, actor: Any, now: datetime | None = None) -> Proposal:
    """Raises: NotFound, PermissionDenied, InvalidState (not editable, or submitted: replace it instead)."""
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    if proposal.status != ProposalStatus.DRAFT:
        raise InvalidState("science_case_required_after_submission")
    proposal.science_case_key = None
    proposal.science_case_name = proposal.science_case_size = proposal.science_case_pages = None
    proposal.science_case_uploaded_at = None
    touch(proposal, now)
    return proposal


# --- completeness and submission ----------------------------------------------------------


def problems_of(proposal: Proposal) -> list[Problem]:
    """Everything that stands between this proposal and a submission, in page order."""
    out: list[Problem] = []
    if not proposal.title.strip():
        out.append(Problem("missing_title"))
    if not proposal.abstract.strip():
        out.append(Problem("missing_abstract"))
    if proposal.subject_area is None:
        out.append(Problem("missing_subject_area"))
    if not proposal.science_case_key:
        out.append(Problem("missing_science_case"))
    for member in proposal.members:
        if member.user.institution_id is None:
            out.append(Problem("missing_member_affiliation", {"name": member.user.name}))
    out.extend(_request_problems(proposal))
    if not proposal.samples:
        out.append(Problem("missing_samples"))
    for sample in proposal.samples:
        if not sample.hazards:
            out.append(Problem("missing_sample_hazards", {"sample": sample.name}))
        elif Hazard.BIOLOGICAL in sample.hazards and sample.biological_risk_group is None:
            out.append(Problem("missing_risk_group", {"sample": sample.name}))
    return out


def _request_problems(proposal: Proposal) -> list[Problem]:
    call = proposal.call
    out: list[Problem] = []
    if not proposal.requests:
        out.append(Problem("missing_requests"))
    for request in proposal.requests:
        code = request.instrument.code
        offer = call.offer(request.instrument_id)
        if offer is None:
            out.append(Problem("request_instrument_not_offered", {"instrument": code}))
            continue
        if request.shifts > offer.shift_limit():
            out.append(Problem("request_over_limit", {"instrument": code, "maximum": offer.shift_limit()}))
        if request.cycles > call.max_cycles:
            out.append(Problem("request_too_many_cycles", {"instrument": code, "maximum": call.max_cycles}))
        if not request.justification.strip():
            out.append(Problem("missing_justification", {"instrument": code}))
        if request.operating_mode is not None and not request.operating_mode.active:
            out.append(Problem("request_mode_retired", {"instrument": code, "mode": request.operating_mode.name}))
    cap = call.proposal_shift_cap
    if cap is not None and proposal.total_shifts > cap:
        out.append(Problem("proposal_over_cap", {"total": proposal.total_shifts, "maximum": cap}))
    return out


def next_reference(cycle_id: int, cycle_name: str) -> str:
    """The next reference of a cycle: one atomic UPDATE … RETURNING on the counter row (a row
    lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), so two submissions never share a number."""
    for _attempt in range(3):
        number = db.session.scalar(
            update(ReferenceCounter)
            .where(ReferenceCounter.cycle_id == cycle_id)
            .values(last_number=ReferenceCounter.last_number + 1)
            .returning(ReferenceCounter.last_number)
            .execution_options(synchronize_session=False)
        )
        if number is not None:
            return f"{cycle_name}-{number:04d}"
        try:  # no counter yet (a call made before counters existed): create it, once
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(cycle_id=cycle_id, last_number=0))
        except IntegrityError:
            pass  # another submission created it first; take the next number from it
    raise RuntimeError("could not take a proposal reference")  # pragma: no cover


@transactional
def submit_proposal(proposal_id: int, *, actor: Any, now: datetime | None = None) -> Proposal:
    """Submit a draft (or submit again after edits) before the call closes.

    The call is open on [opens_at, closes_at): a submission at the closing instant is late.
    The reference is given at the first submission. Nothing is changed when refused.

    Raises: NotFound, PermissionDenied (not the PI), InvalidState (call_not_open, call_closed,
    proposal_not_draft, proposal_incomplete with `items`, every problem).
    """
    now = now or utcnow()
    proposal = get_visible_proposal(proposal_id, actor, for_update=True)
    require(permissions.can_submit_proposal, actor, proposal)
    call = proposal.call
    if proposal.status not in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED):
        raise InvalidState("proposal_not_draft", status=proposal.status.value)
    if now < call.opens_at:
        raise InvalidState("call_not_open", opens_at=call.opens_at)
    if not call.is_open(now):
        raise InvalidState("call_closed", closed_at=call.closes_at)
    if proposal.status == ProposalStatus.SUBMITTED:
        ensure_editable(proposal, now)  # rapid access: submitted once, then locked
    if problems := problems_of(proposal):
        raise InvalidState("proposal_incomplete", count=len(problems), items=[p.as_dict() for p in problems])
    first_time = proposal.status == ProposalStatus.DRAFT
    if first_time:
        proposal.status = check_move(proposal.status, ProposalStatus.SUBMITTED)
        proposal.submitted_at = now
        if proposal.reference is None:
            proposal.reference = next_reference(call.cycle_id, call.cycle.name)
    touch(proposal, now, publish=False)  # ProposalSubmitted below says it
    if call.route == AccessRoute.RAPID_ACCESS:
        proposal.affiliations_frozen_at = now  # reviewed at once: the team is counted as it is now
    notifications.enqueue_submitted(proposal, first_time=first_time, now=now)
    audit.record(actor, "proposal.submitted", proposal, changes={"reference": proposal.reference}, at=now)
    events.publish(ProposalSubmitted(proposal.id, first_time))
    return proposal


@transactional
def withdraw_proposal(proposal_id: int, *, actor: Any, now: datetime | None = None) -> Proposal:
    """Withdraw a proposal in any state before `scheduled`; the team is told.

    Raises: NotFound, PermissionDenied (not the PI), InvalidState (scheduled or decided).
    """
    now = now or utcnow()
    proposal = get_visible_proposal(proposal_id, actor, for_update=True)
    require(permissions.can_withdraw_proposal, actor, proposal)
    before = proposal.status
    proposal.status = check_move(proposal.status, ProposalStatus.WITHDRAWN)
    proposal.withdrawn_at = now
    proposal.updated_at = now
    notifications.enqueue_withdrawn(proposal, actor=actor, now=now)
    audit.record(actor, "proposal.withdrawn", proposal, changes={"status": {"before": before, "after": "withdrawn"}})
    events.publish(ProposalWithdrawn(proposal.id))
    return proposal


# --- cloning ------------------------------------------------------------------------------


@dataclass
class CloneResult:
    proposal: Proposal
    #: codes of instruments whose requests were dropped: not offered in the new call
    dropped: list[str] = field(default_factory=list)


@transactional
def clone_proposal(source_id: int, call_id: int, *, actor: Any, now: datetime | None = None) -> CloneResult:
    """A new draft in another call from an earlier proposal: texts, science case, team, the
    requests for instruments the new call offers (the others are dropped and named), samples,
    and a link to the source. Dates belong to the old cycle and are not copied.

    Raises: NotFound (source not visible, call), PermissionDenied (not on the team),
    InvalidState (call closed).
    """
    from app.proposals.services.team import snapshot_member

    now = now or utcnow()
    source = get_visible_proposal(source_id, actor)
    require(permissions.is_team_member, actor, source)
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound("call_not_found")
    if call.has_closed(now):
        raise InvalidState("call_closed", closed_at=call.closes_at)
    clone = Proposal(
        call=call,
        status=ProposalStatus.DRAFT,
        title=source.title,
        abstract=source.abstract,
        subject_area=source.subject_area,
        science_case_key=source.science_case_key,
        science_case_name=source.science_case_name,
        science_case_size=source.science_case_size,
        science_case_pages=source.science_case_pages,
        science_case_uploaded_at=source.science_case_uploaded_at,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        cloned_from_id=source.id,
    )
    db.session.add(clone)
    # the one who clones leads the new proposal; the rest of the team comes along
    members = [ProposalMember(user=actor, role=MemberRole.PI, joined_at=now)]
    members += [
        ProposalMember(user=m.user, role=MemberRole.CO_PROPOSER, joined_at=now)
        for m in source.members
        if m.user_id != actor.id and m.user.active
    ]
    for member in members:
        clone.members.append(member)
        snapshot_member(member, now=now)
    result = CloneResult(clone)
    for request in source.requests:
        offer = call.offer(request.instrument_id)
        if offer is None:
            result.dropped.append(request.instrument.code)
            continue
        clone.requests.append(
            BeamtimeRequest(
                instrument_id=request.instrument_id,
                shifts=request.shifts,
                cycles=min(request.cycles, call.max_cycles),
                justification=request.justification,
                operating_mode_id=request.operating_mode_id,
            )
        )
    for sample in source.samples:
        clone.samples.append(
            Sample(
                name=sample.name,
                formula=sample.formula,
                form=sample.form,
                quantity=sample.quantity,
                hazards=list(sample.hazards),
                biological_risk_group=sample.biological_risk_group,
                notes=sample.notes,
            )
        )
    if source.reference is not None:
        db.session.flush()
        clone.links.append(ProposalLink(proposal_id=clone.id, earlier_id=source.id))
    db.session.flush()
    audit.record(
        actor, "proposal.cloned", clone, changes={"source_id": source.id, "dropped_instruments": result.dropped}
    )
    return result
