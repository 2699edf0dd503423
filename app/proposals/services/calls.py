"""Calls for proposals: created by the user office, opened and closed by a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.core import audit, events
from app.core.db import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility.models import Cycle, Instrument
from app.proposals import permissions
from app.proposals.events import CallClosed
from app.proposals.models import AccessRoute, Call, CallInstrument, Proposal, ReferenceCounter
from app.proposals.status import ProposalStatus

__all__ = [
    "CallInput",
    "OfferInput",
    "create_call",
    "get_call",
    "open_and_close_calls",
    "update_call",
]

MAX_SHIFTS_CEILING = 500


@dataclass(frozen=True, slots=True)
class OfferInput:
    instrument_id: int
    max_shifts: int | None = None


@dataclass(frozen=True, slots=True)
class CallInput:
    cycle_id: int | None
    route: str
    title: str
    opens_at: datetime | None
    closes_at: datetime | None
    offers: Sequence[OfferInput] = field(default_factory=tuple)
    description: str = ""
    max_shifts_per_request: int = 21
    proposal_shift_cap: int | None = None
    max_cycles: int = 1


def get_call(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound("call_not_found")
    return call


def _clean(data: CallInput, *, current: Call | None) -> dict[str, Any]:
    try:
        route = AccessRoute(data.route)
    except ValueError:
        raise ValidationFailed("invalid_value", field="route") from None
    if data.cycle_id is None or db.session.get(Cycle, data.cycle_id) is None:
        raise ValidationFailed("cycle_unknown", field="cycle_id")
    title = (data.title or "").strip()
    if not title:
        raise ValidationFailed("required", field="title")
    if len(title) > 200:
        raise ValidationFailed("too_long", field="title", maximum=200)
    for name in ("opens_at", "closes_at"):
        value = getattr(data, name)
        if value is None:
            raise ValidationFailed("required", field=name)
        if value.tzinfo is None:
            raise ValidationFailed("datetime_needs_zone", field=name)
    if data.closes_at <= data.opens_at:
        raise ValidationFailed("call_closes_before_opening", field="closes_at")
    if not 1 <= data.max_shifts_per_request <= MAX_SHIFTS_CEILING:
        raise ValidationFailed("number_out_of_range", field="max_shifts_per_request", minimum=1, maximum=500)
    cap = data.proposal_shift_cap
    if route == AccessRoute.RAPID_ACCESS:
        if cap is None:
            raise ValidationFailed("rapid_access_needs_cap", field="proposal_shift_cap")
        if not 1 <= cap <= MAX_SHIFTS_CEILING:
            raise ValidationFailed("number_out_of_range", field="proposal_shift_cap", minimum=1, maximum=500)
    else:
        cap = None
    max_cycles = data.max_cycles if route == AccessRoute.LONG_TERM else 1
    if not 1 <= max_cycles <= 3:
        raise ValidationFailed("number_out_of_range", field="max_cycles", minimum=1, maximum=3)
    clash = db.session.scalar(
        select(Call.id).where(Call.cycle_id == data.cycle_id, Call.route == route, Call.id != getattr(current, "id", 0))
    )
    if clash is not None:
        raise ValidationFailed("call_exists_for_route", field="route")
    if not data.offers:
        raise ValidationFailed("call_needs_instruments", field="offers")
    seen: set[int] = set()
    for offer in data.offers:
        instrument = db.session.get(Instrument, offer.instrument_id)
        if instrument is None or not instrument.active:
            raise ValidationFailed("instrument_unknown", field="offers")
        if offer.instrument_id in seen:
            raise ValidationFailed("instrument_twice", field="offers", instrument=instrument.code)
        seen.add(offer.instrument_id)
        if offer.max_shifts is not None and not 1 <= offer.max_shifts <= MAX_SHIFTS_CEILING:
            raise ValidationFailed("number_out_of_range", field="offers", minimum=1, maximum=500)
    return {
        "cycle_id": data.cycle_id,
        "route": route,
        "title": title,
        "description": (data.description or "").strip(),
        "opens_at": data.opens_at,
        "closes_at": data.closes_at,
        "max_shifts_per_request": data.max_shifts_per_request,
        "proposal_shift_cap": cap,
        "max_cycles": max_cycles,
    }


def _set_offers(call: Call, offers: Sequence[OfferInput]) -> None:
    wanted = {o.instrument_id: o for o in offers}
    for existing in list(call.instruments):
        if existing.instrument_id not in wanted:
            call.instruments.remove(existing)
    for position, offer in enumerate(offers):
        current = call.offer(offer.instrument_id)
        if current is None:
            current = CallInstrument(instrument_id=offer.instrument_id)
            call.instruments.append(current)
        current.max_shifts = offer.max_shifts
        current.position = position


def _ensure_counter(cycle_id: int) -> None:
    if db.session.get(ReferenceCounter, cycle_id) is None:
        db.session.add(ReferenceCounter(cycle_id=cycle_id, last_number=0))


@transactional
def create_call(data: CallInput, *, actor: Any, now: datetime | None = None) -> Call:
    """Create a call for a cycle with its instruments. Audit logged.

    Raises: PermissionDenied (not staff), ValidationFailed (the field at fault).
    """
    require(permissions.can_manage_calls, actor)
    values = _clean(data, current=None)
    call = Call(**values, created_by_id=getattr(actor, "id", None), created_at=now or utcnow())
    db.session.add(call)
    _set_offers(call, data.offers)
    _ensure_counter(call.cycle_id)
    db.session.flush()
    audit.record(actor, "call.created", call, changes={k: v for k, v in values.items()})
    return call


@transactional
def update_call(call_id: int, data: CallInput, *, actor: Any, now: datetime | None = None) -> Call:
    """Change a call. The cycle and route of a call with submitted proposals stay as they are.

    Raises: PermissionDenied, NotFound, ValidationFailed.
    """
    require(permissions.can_manage_calls, actor)
    call = get_call(call_id)
    values = _clean(data, current=call)
    submitted = db.session.scalar(
        select(Proposal.id).where(Proposal.call_id == call.id, Proposal.status != ProposalStatus.DRAFT).limit(1)
    )
    if submitted is not None and (values["cycle_id"] != call.cycle_id or values["route"] != call.route):
        raise ValidationFailed("call_has_proposals", field="cycle_id")
    before = audit.snapshot(call, tuple(values))
    for key, value in values.items():
        setattr(call, key, value)
    _set_offers(call, data.offers)
    _ensure_counter(call.cycle_id)
    if call.closed_at is not None and not call.has_closed(now or utcnow()):
        call.closed_at = None  # reopened by moving the deadline; snapshots follow people again
    if changes := audit.changes_since(call, before):
        audit.record(actor, "call.updated", call, changes=changes)
    return call


@dataclass
class CallRun:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


@transactional
def open_and_close_calls(*, now: datetime | None = None) -> CallRun:
    """The periodic job: mark calls that opened, and close those whose deadline passed —
    a last refresh of each submitted proposal's affiliation snapshot, then frozen.

    Submission never depends on this job: it checks the instants itself.
    """
    from app.proposals.services.team import refresh_snapshot

    now = now or utcnow()
    run = CallRun()
    for call in db.session.scalars(select(Call).where(Call.opened_at.is_(None), Call.opens_at <= now)):
        call.opened_at = now
        run.opened.append(call.id)
    closing = db.session.scalars(select(Call).where(Call.closed_at.is_(None), Call.closes_at <= now)).all()
    for call in closing:
        proposals = db.session.scalars(
            select(Proposal).where(
                Proposal.call_id == call.id,
                Proposal.status != ProposalStatus.DRAFT,
                Proposal.affiliations_frozen_at.is_(None),
            )
        )
        for proposal in proposals:
            refresh_snapshot(proposal, now=call.closes_at)
            proposal.affiliations_frozen_at = call.closes_at
        call.closed_at = now
        events.publish(CallClosed(call.id))
        audit.record(None, "call.closed", call, at=now)
        run.closed.append(call.id)
    return run
