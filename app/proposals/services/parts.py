"""The parts of a proposal: beamtime requests, preferred and unacceptable dates, samples with
their hazards, links to earlier proposals. Each change checks the same rules as submission,
so a problem is named as soon as it is typed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.core import audit
from app.core.db import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.transaction import transactional
from app.extensions import db
from app.facility.models import OperatingMode
from app.proposals import permissions
from app.proposals.models import (
    BeamtimeRequest,
    DateConstraint,
    DateKind,
    Hazard,
    Proposal,
    ProposalLink,
    Sample,
    SampleForm,
)
from app.proposals.services.proposals import editable_proposal, touch
from app.proposals.status import ProposalStatus

__all__ = [
    "DateInput",
    "RequestInput",
    "SampleInput",
    "add_date",
    "add_request",
    "add_sample",
    "link_earlier_proposal",
    "remove_date",
    "remove_request",
    "remove_sample",
    "unlink_earlier_proposal",
    "update_request",
    "update_sample",
]

JUSTIFICATION_MAX = 4000


@dataclass(frozen=True, slots=True)
class RequestInput:
    instrument_id: int | None
    shifts: int | None
    justification: str = ""
    operating_mode_id: int | None = None
    cycles: int = 1


@dataclass(frozen=True, slots=True)
class SampleInput:
    name: str
    form: str
    formula: str = ""
    quantity: str = ""
    hazards: Iterable[str] = field(default_factory=tuple)
    biological_risk_group: int | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class DateInput:
    kind: str
    starts_on: date | None
    ends_on: date | None
    note: str = ""


# --- beamtime requests ----------------------------------------------------------------------


def _clean_request(proposal: Proposal, data: RequestInput, *, current: BeamtimeRequest | None) -> dict[str, Any]:
    call = proposal.call
    if data.instrument_id is None:
        raise ValidationFailed("required", field="instrument_id")
    offer = call.offer(data.instrument_id)
    if offer is None:
        raise ValidationFailed("instrument_not_offered", field="instrument_id")
    if any(r.instrument_id == data.instrument_id and r is not current for r in proposal.requests):
        raise ValidationFailed("request_duplicate_instrument", field="instrument_id", instrument=offer.instrument.code)
    if data.shifts is None:
        raise ValidationFailed("required", field="shifts")
    if data.shifts < 1:
        raise ValidationFailed("shifts_too_few", field="shifts")
    if data.shifts > offer.shift_limit():
        raise ValidationFailed(
            "shifts_over_limit", field="shifts", maximum=offer.shift_limit(), instrument=offer.instrument.code
        )
    cycles = data.cycles or 1
    if not 1 <= cycles <= call.max_cycles:
        raise ValidationFailed("cycles_over_limit", field="cycles", maximum=call.max_cycles)
    cap = call.proposal_shift_cap
    if cap is not None:
        others = sum(r.shifts * r.cycles for r in proposal.requests if r is not current)
        if others + data.shifts * cycles > cap:
            raise ValidationFailed("shifts_over_cap", field="shifts", maximum=cap, left=max(0, cap - others))
    justification = (data.justification or "").replace("\r\n", "\n").strip()
    if len(justification) > JUSTIFICATION_MAX:
        raise ValidationFailed("too_long", field="justification", maximum=JUSTIFICATION_MAX)
    if data.operating_mode_id is not None:
        mode = db.session.get(OperatingMode, data.operating_mode_id)
        if mode is None or not mode.active:
            raise ValidationFailed("operating_mode_unknown", field="operating_mode_id")
    return {
        "instrument_id": data.instrument_id,
        "shifts": data.shifts,
        "cycles": cycles,
        "justification": justification,
        "operating_mode_id": data.operating_mode_id,
    }


def _editable_request(request_id: int, actor: Any, now: datetime) -> tuple[Proposal, BeamtimeRequest]:
    request = db.session.get(BeamtimeRequest, request_id)
    if request is None:
        raise NotFound("not_found")
    proposal = editable_proposal(request.proposal_id, actor, now)
    return proposal, request


def _keep_one(proposal: Proposal, items: list, code: str) -> None:
    """A submitted proposal keeps at least one request and one sample."""
    if proposal.status != ProposalStatus.DRAFT and len(items) <= 1:
        raise ValidationFailed(code, field="proposal")


@transactional
def add_request(proposal_id: int, data: RequestInput, *, actor: Any, now: datetime | None = None) -> BeamtimeRequest:
    """Ask for shifts on an instrument offered by the call, within its limits.

    Raises: NotFound, PermissionDenied, InvalidState (not editable), ValidationFailed (field named).
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    request = BeamtimeRequest(**_clean_request(proposal, data, current=None))
    proposal.requests.append(request)
    touch(proposal, now)
    db.session.flush()
    return request


@transactional
def update_request(request_id: int, data: RequestInput, *, actor: Any, now: datetime | None = None) -> BeamtimeRequest:
    """Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed."""
    now = now or utcnow()
    proposal, request = _editable_request(request_id, actor, now)
    for key, value in _clean_request(proposal, data, current=request).items():
        setattr(request, key, value)
    touch(proposal, now)
    return request


@transactional
def remove_request(request_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed (the last one of a submitted proposal)."""
    now = now or utcnow()
    proposal, request = _editable_request(request_id, actor, now)
    _keep_one(proposal, proposal.requests, "submitted_needs_request")
    proposal.requests.remove(request)
    touch(proposal, now)


# --- samples ------------------------------------------------------------------------------


def _clean_sample(data: SampleInput) -> dict[str, Any]:
    name = " ".join((data.name or "").split())
    if not name:
        raise ValidationFailed("required", field="name")
    if len(name) > 200:
        raise ValidationFailed("too_long", field="name", maximum=200)
    try:
        form = SampleForm(data.form)
    except ValueError:
        raise ValidationFailed("required" if not data.form else "invalid_value", field="form") from None
    formula = (data.formula or "").strip()
    quantity = (data.quantity or "").strip()
    for name_, value, maximum in (("formula", formula, 200), ("quantity", quantity, 100)):
        if len(value) > maximum:
            raise ValidationFailed("too_long", field=name_, maximum=maximum)
    hazards: list[str] = []
    for raw in data.hazards or ():
        try:
            hazard = Hazard(raw)
        except ValueError:
            raise ValidationFailed("invalid_value", field="hazards") from None
        if hazard.value not in hazards:
            hazards.append(hazard.value)
    if Hazard.NONE in hazards and len(hazards) > 1:
        raise ValidationFailed("hazards_none_and_others", field="hazards")
    risk_group = data.biological_risk_group
    if Hazard.BIOLOGICAL in hazards:
        if risk_group is None:
            raise ValidationFailed("risk_group_required", field="biological_risk_group")
        if not 1 <= risk_group <= 4:
            raise ValidationFailed("number_out_of_range", field="biological_risk_group", minimum=1, maximum=4)
    else:
        risk_group = None
    order = [h.value for h in Hazard]
    return {
        "name": name,
        "form": form,
        "formula": formula,
        "quantity": quantity,
        "hazards": sorted(hazards, key=order.index),
        "biological_risk_group": risk_group,
        "notes": (data.notes or "").strip()[:4000],
    }


def _editable_sample(sample_id: int, actor: Any, now: datetime) -> tuple[Proposal, Sample]:
    sample = db.session.get(Sample, sample_id)
    if sample is None:
        raise NotFound("not_found")
    return editable_proposal(sample.proposal_id, actor, now), sample


@transactional
def add_sample(proposal_id: int, data: SampleInput, *, actor: Any, now: datetime | None = None) -> Sample:
    """Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed (field named)."""
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    sample = Sample(**_clean_sample(data))
    proposal.samples.append(sample)
    touch(proposal, now)
    db.session.flush()
    if proposal.status != ProposalStatus.DRAFT:
        audit.record(actor, "proposal.sample_added", proposal, changes={"sample": sample.name})
    return sample


@transactional
def update_sample(sample_id: int, data: SampleInput, *, actor: Any, now: datetime | None = None) -> Sample:
    """Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed."""
    now = now or utcnow()
    proposal, sample = _editable_sample(sample_id, actor, now)
    before = audit.snapshot(sample, ("name", "hazards", "biological_risk_group"))
    for key, value in _clean_sample(data).items():
        setattr(sample, key, value)
    touch(proposal, now)
    if proposal.status != ProposalStatus.DRAFT and (diff := audit.changes_since(sample, before)):
        audit.record(actor, "proposal.sample_updated", sample, changes=diff)
    return sample


@transactional
def remove_sample(sample_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed (the last one of a submitted proposal)."""
    now = now or utcnow()
    proposal, sample = _editable_sample(sample_id, actor, now)
    _keep_one(proposal, proposal.samples, "submitted_needs_sample")
    proposal.samples.remove(sample)
    touch(proposal, now)


# --- dates --------------------------------------------------------------------------------


@transactional
def add_date(proposal_id: int, data: DateInput, *, actor: Any, now: datetime | None = None) -> DateConstraint:
    """A period the team prefers or cannot come (inclusive days, inside the cycle).

    Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed.
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    try:
        kind = DateKind(data.kind)
    except ValueError:
        raise ValidationFailed("invalid_value", field="kind") from None
    if data.starts_on is None:
        raise ValidationFailed("required", field="starts_on")
    ends_on = data.ends_on or data.starts_on
    if ends_on < data.starts_on:
        raise ValidationFailed("dates_out_of_order", field="ends_on")
    cycle = proposal.call.cycle
    if ends_on < cycle.starts_on or data.starts_on > cycle.ends_on:
        raise ValidationFailed(
            "date_outside_cycle", field="starts_on", starts_on=cycle.starts_on, ends_on=cycle.ends_on
        )
    for other in proposal.dates:
        if other.kind != kind and other.starts_on <= ends_on and data.starts_on <= other.ends_on:
            raise ValidationFailed("dates_contradict", field="starts_on")
    constraint = DateConstraint(kind=kind, starts_on=data.starts_on, ends_on=ends_on, note=(data.note or "")[:300])
    proposal.dates.append(constraint)
    touch(proposal, now)
    db.session.flush()
    return constraint


@transactional
def remove_date(date_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: NotFound, PermissionDenied, InvalidState."""
    now = now or utcnow()
    constraint = db.session.get(DateConstraint, date_id)
    if constraint is None:
        raise NotFound("not_found")
    proposal = editable_proposal(constraint.proposal_id, actor, now)
    proposal.dates.remove(constraint)
    touch(proposal, now)


# --- links to earlier proposals -------------------------------------------------------------


@transactional
def link_earlier_proposal(proposal_id: int, reference: str, *, actor: Any, now: datetime | None = None) -> ProposalLink:
    """Link an earlier submitted proposal the actor can see, by its reference.

    Raises: NotFound, PermissionDenied, InvalidState, ValidationFailed ("reference": unknown
    or not visible — the same answer —, itself), Conflict (already linked).
    """
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed("required", field="reference")
    earlier = db.session.scalar(select(Proposal).where(Proposal.reference == reference))
    if earlier is None or not permissions.can_view_proposal(actor, earlier):
        raise ValidationFailed("proposal_reference_unknown", field="reference", reference=reference)
    if earlier.id == proposal.id:
        raise ValidationFailed("proposal_link_itself", field="reference")
    if any(link.earlier_id == earlier.id for link in proposal.links):
        raise Conflict("proposal_already_linked", reference=reference)
    link = ProposalLink(proposal_id=proposal.id, earlier_id=earlier.id)
    proposal.links.append(link)
    touch(proposal, now)
    return link


@transactional
def unlink_earlier_proposal(proposal_id: int, earlier_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: NotFound, PermissionDenied, InvalidState."""
    now = now or utcnow()
    proposal = editable_proposal(proposal_id, actor, now)
    link = next((lk for lk in proposal.links if lk.earlier_id == earlier_id), None)
    if link is None:
        raise NotFound("not_found")
    proposal.links.remove(link)
    touch(proposal, now)
