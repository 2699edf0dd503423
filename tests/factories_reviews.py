"""Factories of the reviews domain: a closed call with submitted proposals, a panel, reviewers,
an instrument with its scientist and a capacity set by hand (an override), staff."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.accounts.models import Role, RoleAssignment
from app.extensions import db
from app.facility.models import CapacityOverride
from app.proposals.models import BeamtimeRequest, SubjectArea
from app.proposals.status import ProposalStatus
from app.reviews.models import Award, Decision, Panel, TechnicalReview
from tests import factories_facility as facility_factories
from tests import factories_proposals as fp
from tests.factories import make_user

_seq = itertools.count(1)
AFTER_CLOSE = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


def grant(user, role: Role, scope_id: int | None = None) -> None:
    user.roles.append(RoleAssignment(role=role, scope_id=scope_id))
    db.session.commit()


def make_staff():
    user = make_user(roles=[Role.USER_OFFICE])
    db.session.commit()
    return user


def make_panel(*, subjects=(SubjectArea.CHEMISTRY,), name: str | None = None) -> Panel:
    panel = Panel(name=name or f"Panel {next(_seq)}", subject_areas=[s.value for s in subjects])
    db.session.add(panel)
    db.session.commit()
    return panel


def make_reviewer(panel: Panel, **kwargs):
    person = fp.make_person(**kwargs)
    grant(person, Role.REVIEWER, panel.id)
    return person


def submitted(proposal, *, number: int, at: datetime | None = None):
    proposal.status = ProposalStatus.SUBMITTED
    proposal.reference = f"{proposal.call.cycle.name}-{number:04d}"
    proposal.submitted_at = at or datetime(2026, 9, 20, 10, number % 60, tzinfo=UTC)
    db.session.commit()
    return proposal


def set_capacity(cycle, instrument, shifts: int) -> None:
    db.session.add(CapacityOverride(cycle_id=cycle.id, instrument_id=instrument.id, shifts=shifts, reason="test"))
    db.session.commit()


@dataclass
class Setup:
    staff: Any
    call: Any
    instrument: Any
    scientist: Any
    panel: Any
    reviewers: list
    proposals: list = field(default_factory=list)


def make_review_setup(*, reviewers: int = 4, proposals: int = 3, capacity: int = 30, shifts=(6,)) -> Setup:
    """A closed standard call offering one instrument (with a scientist and `capacity` shifts), a
    chemistry panel with `reviewers` reviewers from distinct institutions, and `proposals`
    submitted chemistry proposals, each with its own PI asking `shifts[i]` shifts."""
    facility_factories.make_facility()
    staff = make_staff()
    instrument = fp.make_instrument()
    cycle = fp.make_cycle()
    call = fp.make_call(cycle=cycle, instruments=[instrument])
    scientist = fp.make_person()
    grant(scientist, Role.INSTRUMENT_SCIENTIST, instrument.id)
    panel = make_panel()
    people = [make_reviewer(panel) for _ in range(reviewers)]
    setup = Setup(staff, call, instrument, scientist, panel, people)
    for n in range(proposals):
        proposal = fp.make_proposal(call=call)
        proposal.requests[0].shifts = shifts[n % len(shifts)]
        setup.proposals.append(submitted(proposal, number=n + 1))
    set_capacity(cycle, instrument, capacity)
    return setup


def add_request(proposal, instrument, shifts: int, *, cycles: int = 1) -> BeamtimeRequest:
    request = BeamtimeRequest(instrument=instrument, shifts=shifts, cycles=cycles, justification="x")
    proposal.requests.append(request)
    db.session.commit()
    return request


def add_review_objects(world, *, owner, actor) -> None:
    """Give the permission-matrix World the review objects its rows name (tests/web/permission_matrix.py).

    A closed call `world.review_call` (cycle 2091-I, offering `world.instrument`, capacity 20)
    with one submitted chemistry proposal `world.review_proposal` whose PI is `owner` ("user");
    its review started (`world.technical_review`), the chemistry panel `world.panel` with the
    "reviewer" persona as reviewer and the "panel_chair" persona as chair (roles scoped to the
    panel's real id), the reviewer assigned (`world.assignment`); the allocation run
    (`world.award`, a staged `world.decision`, not released: the PI may not see it yet).
    The "instrument_scientist" persona also gets `world.instrument` as scope.
    """
    from datetime import date, timedelta

    from app.core.db import utcnow
    from app.facility import services as facility_services
    from app.reviews import services

    now = utcnow()
    world.panel = make_panel(name="Matrix chemistry panel")
    for persona, role, scope in (
        ("reviewer", Role.REVIEWER, world.panel.id),
        ("panel_chair", Role.PANEL_CHAIR, world.panel.id),
        ("instrument_scientist", Role.INSTRUMENT_SCIENTIST, world.instrument.id),
    ):
        if not world.users[persona].has_role(role, scope):  # the persona's own scope may be that id
            grant(world.users[persona], role, scope)
    cycle = fp.make_cycle(name="2091-I", starts_on=date(2091, 3, 1), ends_on=date(2091, 7, 31))
    world.review_call = fp.make_call(
        cycle=cycle,
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=1),
        instruments=[world.instrument],
    )
    proposal = fp.make_proposal(call=world.review_call, pi=owner, now=now - timedelta(days=30))
    world.review_proposal = submitted(proposal, number=1, at=now - timedelta(days=20))
    facility_services.set_capacity_override(cycle.id, world.instrument.id, shifts=20, reason="matrix", actor=actor)
    services.start_review(world.review_call.id, actor=actor, now=now)
    world.technical_review = db.session.scalar(
        db.select(TechnicalReview).where(TechnicalReview.proposal_id == proposal.id)
    )
    world.assignment = services.override_assignment(
        proposal.id, world.users["reviewer"].id, reason="matrix", actor=actor, now=now
    )
    services.run_allocation(world.review_call.id, actor=actor, now=now)
    world.award = db.session.scalar(db.select(Award).where(Award.proposal_id == proposal.id))
    world.decision = db.session.get(Decision, proposal.id)
    db.session.commit()
