"""Factories of the proposals domain (and the few facility and accounts rows it needs)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime

from app.accounts.models import Institution, InstitutionKind
from app.extensions import db
from app.facility.models import Cycle, Instrument, OperatingMode
from app.proposals.models import (
    AccessRoute,
    BeamtimeRequest,
    Call,
    CallInstrument,
    Hazard,
    MemberRole,
    Proposal,
    ProposalMember,
    Sample,
    SampleForm,
    SubjectArea,
)
from app.proposals.services.team import snapshot_member
from app.proposals.status import ProposalStatus
from tests import factories_facility as facility_factories
from tests.factories import make_user

_seq = itertools.count(1)
OPENS = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
CLOSES = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)


def _add(obj):
    db.session.add(obj)
    db.session.commit()  # the test's savepoint: a refused use case rolls back to here, not further
    return obj


def make_institution(*, country_code: str | None = "FR", name: str | None = None, kind=InstitutionKind.UNIVERSITY):
    n = next(_seq)
    return _add(Institution(name=name or f"University {n}", kind=kind, country_code=country_code))


def make_person(*, country_code: str | None = "FR", institution: Institution | None = None, **kwargs):
    """A user with an institution (needed for a complete proposal)."""
    if institution is None and country_code is not None:
        institution = make_institution(country_code=country_code)
    user = make_user(institution_id=institution.id if institution else None, **kwargs)
    db.session.commit()  # see _add
    return user


def make_cycle(*, name: str | None = None, starts_on=date(2027, 1, 15), ends_on=date(2027, 6, 30)) -> Cycle:
    """A cycle with a name of its own (the facility factory's default name is fixed)."""
    return facility_factories.make_cycle(name=name or f"2027-{next(_seq)}", starts_on=starts_on, ends_on=ends_on)


def make_instrument(**kwargs) -> Instrument:
    return facility_factories.make_instrument(**kwargs)


def make_mode(**kwargs) -> OperatingMode:
    return facility_factories.make_mode(**kwargs)


def make_call(
    *,
    cycle: Cycle | None = None,
    route: AccessRoute = AccessRoute.STANDARD,
    opens_at: datetime = OPENS,
    closes_at: datetime = CLOSES,
    instruments: list[Instrument] | None = None,
    max_shifts_per_request: int = 21,
    proposal_shift_cap: int | None = None,
    max_cycles: int = 1,
) -> Call:
    cycle = cycle or make_cycle()
    call = Call(
        cycle=cycle,
        route=route,
        title=f"{cycle.name} {route.value} call",
        opens_at=opens_at,
        closes_at=closes_at,
        max_shifts_per_request=max_shifts_per_request,
        proposal_shift_cap=proposal_shift_cap,
        max_cycles=max_cycles,
    )
    for position, instrument in enumerate(instruments if instruments is not None else [make_instrument()]):
        call.instruments.append(CallInstrument(instrument=instrument, position=position))
    return _add(call)


def make_proposal(
    *,
    call: Call | None = None,
    pi=None,
    complete: bool = True,
    status: ProposalStatus = ProposalStatus.DRAFT,
    co_proposers: tuple = (),
    now: datetime = DURING,
    **call_kwargs,
) -> Proposal:
    """A draft (by default complete, ready to submit) with its PI and optional co-proposers."""
    call = call or make_call(**call_kwargs)
    pi = pi or make_person()
    proposal = Proposal(call=call, status=status, created_by_id=pi.id, created_at=now, updated_at=now)
    db.session.add(proposal)
    people = [(pi, MemberRole.PI)] + [(p, MemberRole.CO_PROPOSER) for p in co_proposers]
    for user, role in people:
        member = ProposalMember(user=user, role=role, joined_at=now)
        proposal.members.append(member)
        snapshot_member(member, now=now)
    if complete:
        proposal.title = "Operando XAS of single-atom catalysts"
        proposal.abstract = "We will follow the oxidation state of Pt single atoms under reaction conditions."
        proposal.subject_area = SubjectArea.CHEMISTRY
        proposal.science_case_key = "science-case/aa/" + "a" * 64 + ".pdf"
        proposal.science_case_name = "case.pdf"
        proposal.science_case_size = 1000
        proposal.science_case_pages = 2
        proposal.requests.append(
            BeamtimeRequest(instrument=call.instruments[0].instrument, shifts=6, justification="Six shifts: ...")
        )
        proposal.samples.append(
            Sample(name="Pt/CeO2", formula="Pt/CeO2", form=SampleForm.POWDER, quantity="50 mg", hazards=[Hazard.NONE])
        )
    db.session.commit()  # see _add
    return proposal


def add_proposal_objects(world, *, owner, other, actor) -> None:
    """Give the permission-matrix World the proposal objects its rows name (tests/web/permission_matrix.py).

    `owner` is the "user" persona: PI of `world.proposal`, a draft in `world.call` (open from a
    day ago for 30 days, offering `world.instrument`) with a stored science case, a request, a
    sample, dates, a co-proposer `world.co_proposer`, and a pending invitation to `other`'s
    address (`world.invitation`, `world.invitation_token`). `actor` is a staff person.
    """
    from datetime import timedelta

    from flask import current_app

    from app.core.db import utcnow
    from app.proposals import services, storage
    from app.proposals.models import DateConstraint, DateKind
    from tests.pdfs import make_pdf

    now = utcnow()
    instrument = getattr(world, "instrument", None) or make_instrument()
    world.call = make_call(
        cycle=make_cycle(name="2090-P"),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        instruments=[instrument],
    )
    world.co_proposer = make_person(country_code="IT")
    if getattr(owner, "institution_id", None) is None:
        owner.institution_id = make_institution(country_code="CH").id
    world.proposal = make_proposal(call=world.call, pi=owner, co_proposers=(world.co_proposer,), now=now)
    data = make_pdf(1)
    sha = hashlib.sha256(data).hexdigest()
    world.proposal.science_case_key = storage.store(current_app.config["UPLOAD_DIR"], sha, data)
    world.request = world.proposal.requests[0]
    world.sample = world.proposal.samples[0]
    world.date = DateConstraint(
        kind=DateKind.PREFERRED, starts_on=world.call.cycle.starts_on, ends_on=world.call.cycle.starts_on
    )
    world.proposal.dates.append(world.date)
    db.session.flush()
    world.invitation, world.invitation_token = services.invite_member(
        world.proposal.id, other.email, actor=owner, now=now
    )
