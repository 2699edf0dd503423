"""Factories of experiment outcomes: experiments that ran, with their team, and the World's
objects for the permission matrix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.facility.models import BookingKind, BookingStatus, Cycle, Instrument
from app.proposals.models import Call, MemberRole, Proposal, ProposalMember
from app.reviews.models import Award
from app.scheduling.models import Experiment
from tests import factories_proposals as fp
from tests.factories_scheduling import add_booking, make_award

ENDED = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)
_numbers = iter(range(1, 10_000))


def make_experiment(
    *,
    pi=None,
    co_proposers=(),
    ends_at: datetime = ENDED,
    hours: int = 24,
    status: BookingStatus = BookingStatus.COMPLETED,
    instrument=None,
    call=None,
    local_contact=None,
    award=None,
) -> Experiment:
    """An experiment of an accepted proposal (PI `pi`, with `co_proposers`) on `instrument`,
    booked [ends_at - hours, ends_at) with booking status `status`."""
    if award is None:
        instrument = instrument or fp.make_instrument()
        call = call or fp.make_call(cycle=fp.make_cycle(), instruments=[instrument])
        award = make_award(call=call, instrument=instrument, shifts=3, pi=pi, number=next(_numbers))
        proposal = db.session.get(Proposal, award.proposal_id)
        for person in co_proposers:
            proposal.members.append(ProposalMember(user=person, role=MemberRole.CO_PROPOSER))
        db.session.commit()
    award = db.session.get(Award, award.id)
    instrument = db.session.get(Instrument, award.instrument_id)
    cycle = db.session.get(Cycle, db.session.get(Call, award.call_id).cycle_id)
    booking = add_booking(
        instrument, cycle, ends_at - timedelta(hours=hours), ends_at, kind=BookingKind.EXPERIMENT, status=status
    )
    experiment = Experiment(
        booking_id=booking.id,
        award_id=award.id,
        local_contact_id=local_contact.id if local_contact else None,
        published_at=ends_at - timedelta(days=30),
    )
    db.session.add(experiment)
    db.session.commit()
    return experiment


def add_outcome_objects(world, *, owner, actor) -> None:
    """Give the permission-matrix World the outcome objects its rows name:
    `world.ended_experiment` (an experiment of an accepted proposal of the "user" persona on `world.instrument`, ended in
    the past on `world.instrument`, with "other" as nothing: not on the team),
    `world.publication` (added by staff to `world.review_proposal` and `world.instrument`)."""
    from app.core.db import utcnow
    from app.visits.outcomes import services

    now = utcnow()
    world.ended_experiment = make_experiment(
        pi=owner, instrument=world.instrument, ends_at=now - timedelta(days=3), status=BookingStatus.COMPLETED
    )
    world.publication = services.add_publication(
        world.review_proposal.id,
        doi="10.5555/matrix.0001",
        title="Matrix paper",
        year=now.year,
        journal="J. Matrix",
        actor=actor,
        now=now,
    )
