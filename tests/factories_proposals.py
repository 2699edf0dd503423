"""Factories of the proposals domain (and the few facility and accounts rows it needs)."""

from __future__ import annotations

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
from tests.factories import make_user

_seq = itertools.count(1)
OPENS = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
CLOSES = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)


def _add(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def make_institution(*, country_code: str | None = "FR", name: str | None = None, kind=InstitutionKind.UNIVERSITY):
    n = next(_seq)
    return _add(Institution(name=name or f"University {n}", kind=kind, country_code=country_code))


def make_person(*, country_code: str | None = "FR", institution: Institution | None = None, **kwargs):
    """A user with an institution (needed for a complete proposal)."""
    if institution is None and country_code is not None:
        institution = make_institution(country_code=country_code)
    return make_user(institution_id=institution.id if institution else None, **kwargs)


def make_cycle(*, name: str | None = None, starts_on=date(2027, 1, 15), ends_on=date(2027, 6, 30)):
    n = next(_seq)
    return _add(Cycle(name=name or f"2027-{n}", starts_on=starts_on, ends_on=ends_on))


def make_instrument(*, code: str | None = None, active: bool = True):
    n = next(_seq)
    return _add(Instrument(code=code or f"ID{n:02d}", name=f"Beamline {n}", active=active))


def make_mode(*, code: str | None = None, active: bool = True):
    n = next(_seq)
    return _add(OperatingMode(code=code or f"mode{n}", name=f"Mode {n}", active=active))


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
    db.session.flush()
    return proposal
