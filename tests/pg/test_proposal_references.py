"""References under concurrency (PostgreSQL, committed data, real threads): submissions that
race for the next number of a cycle each get their own, with no error — also when the
cycle's counter row does not exist yet and the racers must create it."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select

from app.accounts.models import Institution, InstitutionKind, User
from app.extensions import db
from app.facility.models import Cycle, Instrument
from app.proposals import services
from app.proposals.models import (
    BeamtimeRequest,
    Call,
    CallInstrument,
    Hazard,
    MemberRole,
    Proposal,
    ProposalMember,
    ReferenceCounter,
    Sample,
    SampleForm,
    SubjectArea,
)
from app.proposals.services import proposals as proposal_services
from app.proposals.status import ProposalStatus

RACERS = 8
NOW = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def drafts(app, committed_db):
    """RACERS complete drafts in one open call, each with its own PI; returns (proposal id, PI id)."""
    with app.app_context():
        institution = Institution(name="Race University", kind=InstitutionKind.UNIVERSITY, country_code="FR")
        instrument = Instrument(code="RACE1", name="Racing line", techniques=[], start_shifts=[0], start_weekdays=[0])
        cycle = Cycle(name="2027-I", starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31))
        db.session.add_all([institution, instrument, cycle])
        db.session.flush()
        call = Call(
            cycle=cycle,
            route="standard",
            title="Race call",
            opens_at=datetime(2026, 9, 1, tzinfo=UTC),
            closes_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        call.instruments.append(CallInstrument(instrument=instrument))
        db.session.add(call)
        out = []
        for i in range(RACERS):
            pi = User(email=f"racer{i}@example.org", name=f"Racer {i}", institution_id=institution.id)
            proposal = Proposal(
                call=call,
                status=ProposalStatus.DRAFT,
                title=f"Race {i}",
                abstract="Fast.",
                subject_area=SubjectArea.MATERIALS,
                science_case_key="science-case/aa/" + "a" * 64 + ".pdf",
            )
            proposal.members.append(ProposalMember(user=pi, role=MemberRole.PI))
            proposal.requests.append(BeamtimeRequest(instrument=instrument, shifts=3, justification="Three."))
            proposal.samples.append(Sample(name="Si", form=SampleForm.CRYSTAL, hazards=[Hazard.NONE]))
            db.session.add(proposal)
            db.session.flush()
            out.append((proposal.id, pi.id))
        db.session.commit()
        db.session.remove()
    return out


def race(app, drafts):
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []
    real = proposal_services.problems_of

    def waiting_problems(proposal):
        found = real(proposal)
        barrier.wait(timeout=20)  # every racer holds its proposal and is about to take a number
        return found

    def attempt(proposal_id, pi_id):
        with app.app_context():
            try:
                services.submit_proposal(proposal_id, actor=db.session.get(User, pi_id), now=NOW)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    proposal_services.problems_of = waiting_problems
    try:
        threads = [threading.Thread(target=attempt, args=pair) for pair in drafts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        proposal_services.problems_of = real
    assert errors == []
    with app.app_context():
        references = db.session.scalars(select(Proposal.reference)).all()
        db.session.remove()
    return references


def test_racing_submissions_get_unique_consecutive_references(app, drafts):
    with app.app_context():
        db.session.add(ReferenceCounter(cycle_id=db.session.scalar(select(Cycle.id)), last_number=41))
        db.session.commit()
        db.session.remove()
    references = race(app, drafts)
    assert sorted(references) == [f"2027-I-{n:04d}" for n in range(42, 42 + RACERS)]


def test_racing_submissions_create_the_missing_counter_once(app, drafts):
    with app.app_context():
        db.session.execute(delete(ReferenceCounter))
        db.session.commit()
        db.session.remove()
    references = race(app, drafts)
    assert sorted(references) == [f"2027-I-{n:04d}" for n in range(1, 1 + RACERS)]
