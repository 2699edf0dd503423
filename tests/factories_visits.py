"""Factories of the visits domain: published experiments with their team, visits, rules, training."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from app.accounts.models import Role
from app.extensions import db
from app.facility.models import Booking, BookingKind, BookingStatus
from app.proposals.models import Hazard, Sample, SampleForm
from app.proposals.status import ProposalStatus
from app.reviews.models import Award
from app.scheduling.models import Experiment
from app.visits import services
from app.visits.models import AccessRule, TrainingCourse, TrainingRecord
from tests import factories_proposals as fp
from tests.factories import make_country_group, make_user
from tests.factories_facility import make_facility

_seq = itertools.count(1)
#: the experiments of these factories start on 10 March 2027, 08:00 in Zurich (07:00 UTC)
STARTS = datetime(2027, 3, 10, 7, 0, tzinfo=UTC)
#: a moment well before: 1 February 2027, 09:00 UTC
EARLY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def make_published_experiment(
    *,
    pi=None,
    co_proposers: tuple = (),
    instrument=None,
    starts_at: datetime = STARTS,
    shifts: int = 6,
    local_contact=None,
    hazards: tuple[str, ...] = (),
    status: BookingStatus = BookingStatus.PUBLISHED,
    cycle=None,
) -> Experiment:
    """A published experiment of an accepted proposal (PI from France, samples with `hazards`)."""
    make_facility()
    n = next(_seq)
    instrument = instrument or fp.make_instrument(code=f"VX{n:03d}")
    cycle = cycle or fp.make_cycle(name=f"V{n}-I", starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31))
    call = fp.make_call(cycle=cycle, instruments=[instrument])
    pi = pi or fp.make_person(country_code="FR")
    proposal = fp.make_proposal(call=call, pi=pi, co_proposers=co_proposers)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.reference = f"V{n}-{n:04d}"
    if hazards:
        proposal.samples.append(
            Sample(name="Uranyl nitrate", form=SampleForm.POWDER, hazards=[Hazard(h) for h in hazards])
        )
    request = proposal.requests[0]
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
    db.session.flush()
    booking = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=BookingKind.EXPERIMENT,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8 * shifts),
        title=proposal.reference,
    )
    db.session.add(booking)
    db.session.flush()
    experiment = Experiment(
        booking_id=booking.id,
        award_id=award.id,
        local_contact_id=local_contact.id if local_contact else None,
        published_at=EARLY if status != BookingStatus.PLANNED else None,
    )
    db.session.add(experiment)
    db.session.commit()
    return experiment


def make_scientist(experiment: Experiment):
    user = make_user(name="Ines Scientist", roles=[(Role.INSTRUMENT_SCIENTIST, experiment.booking.instrument_id)])
    db.session.commit()
    return user


def make_role(role: Role, **kwargs):
    user = make_user(roles=[role], **kwargs)
    db.session.commit()
    return user


def make_rule(codes=("IR",), *, lead_days=30, working_days=False, needs_approval=True, by_citizenship=False, name=None):
    group = make_country_group(name=name or f"Group {next(_seq)}", codes=tuple(codes))
    rule = AccessRule(
        country_group_id=group.id,
        lead_days=lead_days,
        working_days=working_days,
        needs_approval=needs_approval,
        by_citizenship=by_citizenship,
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def make_course(name=None, validity_days=365, required_on_site=True) -> TrainingCourse:
    course = TrainingCourse(
        name=name or f"Radiation safety {next(_seq)}", validity_days=validity_days, required_on_site=required_on_site
    )
    db.session.add(course)
    db.session.commit()
    return course


def add_record(user, course, completed_on: date) -> TrainingRecord:
    record = TrainingRecord(
        user_id=user.id,
        course_id=course.id,
        completed_on=completed_on,
        expires_on=completed_on + timedelta(days=course.validity_days),
    )
    db.session.add(record)
    db.session.commit()
    return record


def registration(**overrides) -> services.RegistrationInput:
    values = {
        "arrives_on": date(2027, 3, 9),
        "departs_on": date(2027, 3, 12),
        "emergency_contact_name": "Marta Example",
        "emergency_contact_phone": "+33 6 12 34 56 78",
        "accommodation_wanted": False,
        "dosimeter_needed": True,
        "citizenship": None,
    }
    values.update(overrides)
    return services.RegistrationInput(**values)


def name_visitor(experiment: Experiment, user=None, *, mode="on_site", now=EARLY):
    """The PI names `user` (a co-proposer, added to the team if needed) or themself."""
    proposal = experiment.award.proposal
    pi = proposal.pi.user
    user = user or pi
    if proposal.member(user.id) is None:
        from app.proposals.models import MemberRole, ProposalMember

        proposal.members.append(ProposalMember(user=user, role=MemberRole.CO_PROPOSER))
        db.session.commit()
    return services.add_visitor(experiment.booking_id, mode=mode, user_id=user.id, actor=pi, now=now)


def sign_off(experiment: Experiment, *, scientist=None, now=EARLY):
    """The team confirms the proposal's samples; the instrument scientist signs off."""
    from app.visits import queries

    pi = experiment.award.proposal.pi.user
    services.confirm_safety(experiment.booking_id, queries.proposal_samples(experiment), actor=pi, now=now)
    scientist = scientist or make_scientist(experiment)
    services.sign_safety(experiment.booking_id, actor=scientist, now=now)
    return scientist


def add_visit_objects(world, *, owner, actor) -> None:
    """Give the permission-matrix World the visit objects its rows name (tests/web/permission_matrix.py).

    `world.experiment`: a published experiment on `world.instrument` (2090) of a proposal whose PI
    is `owner` ("user"), samples confirmed but not signed off; `world.visit`: owner's own on-site
    visit (requested, registration not completed); `world.visit_invitation_token`: a pending
    invitation to "other"'s address; `world.access_rule` and `world.course`.
    """
    from app.core.db import utcnow

    now = utcnow()
    experiment = make_published_experiment(
        pi=owner,
        instrument=world.instrument,
        cycle=world.cycle,
        starts_at=datetime(2090, 6, 10, 6, 0, tzinfo=UTC),
    )
    world.experiment = experiment
    world.visit = services.add_visitor(experiment.booking_id, mode="on_site", user_id=owner.id, actor=owner, now=now)
    invitation, token = services.add_visitor(
        experiment.booking_id, mode="remote", email=world.users["other"].email, actor=owner, now=now
    )
    world.visit_invitation_token = token
    from app.visits import queries

    services.confirm_safety(experiment.booking_id, queries.proposal_samples(experiment), actor=owner, now=now)
    world.access_rule = make_rule(("KP",), name="Matrix access group")
    world.course = make_course(name="Matrix safety course")
