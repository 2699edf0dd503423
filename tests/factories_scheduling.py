"""Factories of the scheduling domain: awards ready to schedule, with the rows around them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.accounts.models import Role
from app.extensions import db
from app.facility.models import Booking, BookingKind, BookingStatus
from app.proposals.models import AccessRoute, DateConstraint, DateKind
from app.proposals.status import ProposalStatus
from app.reviews.models import Award, Decision, Outcome, PanelDecision
from tests import factories_proposals as fp
from tests.factories import make_user

RELEASED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def make_award(
    *,
    call,
    instrument,
    shifts: int,
    grade: float | None = 4.0,
    local_contact=None,
    pi=None,
    mode=None,
    released: bool = True,
    number: int = 1,
) -> Award:
    """An accepted proposal of `call` with one request on `instrument`, its award of `shifts`
    and its released decision; `grade` becomes the panel's final grade (the solver's score)."""
    proposal = fp.make_proposal(call=call, pi=pi)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.reference = f"{call.cycle.name}-{number:04d}"
    request = proposal.requests[0]
    request.instrument = instrument
    request.shifts = shifts
    request.operating_mode = mode
    db.session.flush()
    award = Award(
        request_id=request.id,
        proposal_id=proposal.id,
        call_id=call.id,
        instrument_id=instrument.id,
        shifts=shifts,
        local_contact_id=local_contact.id if local_contact else None,
    )
    db.session.add(award)
    db.session.add(
        Decision(
            proposal_id=proposal.id,
            call_id=call.id,
            outcome=Outcome.ACCEPTED,
            staged_at=RELEASED,
            released_at=RELEASED if released else None,
        )
    )
    if grade is not None:
        db.session.add(PanelDecision(proposal_id=proposal.id, call_id=call.id, final_grade=grade))
    db.session.commit()
    return award


def add_dates(award: Award, kind: DateKind, first: date, last: date) -> None:
    db.session.add(DateConstraint(proposal_id=award.proposal_id, kind=kind, starts_on=first, ends_on=last))
    db.session.commit()


def make_rapid_call(cycle, instruments):
    return fp.make_call(cycle=cycle, route=AccessRoute.RAPID_ACCESS, instruments=instruments)


def add_booking(instrument, cycle, starts_at, ends_at, *, kind=BookingKind.MAINTENANCE, status=None, title=""):
    status = status or (BookingStatus.PLANNED if kind == BookingKind.EXPERIMENT else BookingStatus.CONFIRMED)
    booking = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=kind,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        title=title,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def make_scientist(instrument):
    user = make_user(roles=[(Role.INSTRUMENT_SCIENTIST, instrument.id)])
    db.session.commit()
    return user
