"""The worked example of docs/METRICS.md §9 in the database, and small builders for report tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.accounts.models import InstitutionKind
from app.extensions import db
from app.facility.models import BookingKind, BookingStatus, MemberContribution
from app.proposals.models import AccessRoute, BeamtimeRequest, MemberRole, ProposalMember
from app.proposals.services.team import snapshot_member
from app.proposals.status import ProposalStatus
from app.reviews.models import Award, Decision, Outcome
from app.scheduling.models import Experiment
from app.visits.models import Visit, VisitMode
from app.visits.status import VisitStatus
from tests import factories_facility as ff
from tests import factories_proposals as fp
from tests import factories_scheduling as fs

_seq = itertools.count(1)


@dataclass
class Example:
    cycles: dict = field(default_factory=dict)
    instruments: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)
    institutions: dict = field(default_factory=dict)
    proposals: dict = field(default_factory=dict)
    experiments: dict = field(default_factory=dict)
    visits: dict = field(default_factory=dict)


def person(inst, name: str):
    return fp.make_person(institution=inst, name=name, country_code=None)


def proposal(call, pi, members=(), *, requests: dict, status=ProposalStatus.SUBMITTED, reference=None):
    """A proposal of `call` with its PI, co-proposers and requests {instrument: shifts}, in `status`."""
    p = fp.make_proposal(call=call, pi=pi, co_proposers=tuple(members), complete=False)
    p.status = status
    p.reference = reference or f"{call.cycle.name}-{next(_seq):04d}"
    for instrument, shifts in requests.items():
        p.requests.append(BeamtimeRequest(instrument=instrument, shifts=shifts, justification="x"))
    db.session.commit()
    return p


def award(p, instrument, shifts: int, *, outcome=Outcome.ACCEPTED):
    request = next(r for r in p.requests if r.instrument_id == instrument.id)
    a = Award(request_id=request.id, proposal_id=p.id, call_id=p.call_id, instrument_id=instrument.id, shifts=shifts)
    db.session.add(a)
    db.session.add(
        Decision(proposal_id=p.id, call_id=p.call_id, outcome=outcome, staged_at=fs.RELEASED, released_at=fs.RELEASED)
    )
    db.session.commit()
    return a


def experiment(a, cycle, starts_at: datetime, hours: int, delivered: int | None, *, status=BookingStatus.COMPLETED):
    booking = fs.add_booking(
        a.instrument, cycle, starts_at, starts_at + timedelta(hours=hours), kind=BookingKind.EXPERIMENT, status=status
    )
    e = Experiment(booking_id=booking.id, award_id=a.id, delivered_shifts=delivered)
    db.session.add(e)
    db.session.commit()
    return e


def visit(
    e,
    user,
    *,
    mode=VisitMode.ON_SITE,
    status=VisitStatus.COMPLETED,
    arrives_on: date | None = None,
    departs_on: date | None = None,
    institution=None,
):
    """A visit row of experiment `e` with its own affiliation snapshot (`institution`, default
    the visitor's current one), as the visits domain stores it."""
    institution = institution or user.institution
    v = Visit(
        experiment_id=e.booking_id,
        user_id=user.id,
        mode=mode,
        status=status,
        institution_id=institution.id if institution else None,
        institution_name=institution.name if institution else None,
        country_code=institution.country_code if institution else None,
        arrives_on=arrives_on,
        departs_on=departs_on,
    )
    db.session.add(v)
    db.session.commit()
    return v


def make_example() -> Example:
    """Facility in France; cycles 2027-I and 2028-I; instruments ID1 and ID2; proposals P1–P4;
    experiments E1 (2027), E2 (January 2028, booked in 2027-I), E3 (2027); their visits (§9).
    The publication of 2029 is added by the tests through the outcomes service."""
    ff.make_facility(host_country="FR", timezone="Europe/Paris")
    ex = Example()
    ex.cycles["2027"] = fp.make_cycle(name=f"27-{next(_seq)}", starts_on=date(2027, 3, 1), ends_on=date(2027, 12, 31))
    ex.cycles["2028"] = fp.make_cycle(name=f"28-{next(_seq)}", starts_on=date(2028, 3, 1), ends_on=date(2028, 12, 31))
    id1 = fp.make_instrument(code=f"ID1-{next(_seq)}")
    id2 = fp.make_instrument(code=f"ID2-{next(_seq)}")
    ex.instruments = {"ID1": id1, "ID2": id2}
    inst = {
        "DE": fp.make_institution(country_code="DE"),
        "FR": fp.make_institution(country_code="FR"),
        "IT": fp.make_institution(country_code="IT"),
        "EMBL": fp.make_institution(country_code=None, kind=InstitutionKind.INTERNATIONAL_ORGANISATION, name="EMBL"),
        "HOUSE": fp.make_institution(country_code="FR", kind=InstitutionKind.FACILITY, name="The facility"),
    }
    ex.institutions = inst
    people = {
        "anna": person(inst["DE"], "Anna"),
        "bruno": person(inst["FR"], "Bruno"),
        "chen": person(inst["FR"], "Chen"),
        "dora": person(inst["EMBL"], "Dora"),
        "eva": person(inst["FR"], "Eva"),
        "femi": person(inst["HOUSE"], "Femi"),
        "gita": person(inst["IT"], "Gita"),
    }
    ex.people = people
    standard = fp.make_call(cycle=ex.cycles["2027"], instruments=[id1, id2])
    rapid = fp.make_call(cycle=ex.cycles["2027"], route=AccessRoute.RAPID_ACCESS, instruments=[id2])
    standard28 = fp.make_call(cycle=ex.cycles["2028"], instruments=[id1, id2])
    p1 = proposal(standard, people["anna"], [people["bruno"], people["chen"], people["dora"]], requests={id1: 12})
    p2 = proposal(standard, people["eva"], [people["femi"]], requests={id1: 8, id2: 6}, status=ProposalStatus.REJECTED)
    p3 = proposal(rapid, people["gita"], requests={id2: 3})
    p4 = proposal(standard28, people["anna"], [people["bruno"]], requests={id2: 4})
    a1 = award(p1, id1, 9)
    a3 = award(p3, id2, 3)
    p1.status = p3.status = ProposalStatus.ACCEPTED
    db.session.commit()
    ex.proposals = {"P1": p1, "P2": p2, "P3": p3, "P4": p4}
    c27 = ex.cycles["2027"]
    ex.experiments = {
        "E1": experiment(a1, c27, datetime(2027, 6, 1, 6, tzinfo=UTC), 64, 6),
        "E2": experiment(a1, c27, datetime(2028, 1, 10, 6, tzinfo=UTC), 24, 2),
        "E3": experiment(a3, c27, datetime(2027, 6, 10, 6, tzinfo=UTC), 24, 3),
    }
    e1, e2, e3 = (ex.experiments[k] for k in ("E1", "E2", "E3"))
    hugo = person(fp.make_institution(country_code="ES"), "Hugo")  # a visitor, not on the team
    people["hugo"] = hugo
    remote = VisitMode.REMOTE
    ex.visits = {
        "anna1": visit(e1, people["anna"], arrives_on=date(2027, 6, 1), departs_on=date(2027, 6, 3)),
        "dora": visit(e1, people["dora"], arrives_on=date(2027, 6, 1), departs_on=date(2027, 6, 3)),
        "bruno": visit(e1, people["bruno"], mode=remote),
        "hugo": visit(e1, hugo, status=VisitStatus.ON_SITE, arrives_on=date(2027, 6, 2), departs_on=date(2027, 6, 3)),
        "gita": visit(e3, people["gita"], mode=remote),
        "anna2": visit(e2, people["anna"], arrives_on=date(2028, 1, 10), departs_on=date(2028, 1, 11)),
        # visits that did not happen count nowhere
        "chen": visit(e1, people["chen"], status=VisitStatus.CANCELLED, arrives_on=date(2027, 6, 1)),
        "eva": visit(e3, people["eva"], mode=remote, status=VisitStatus.REGISTERED),
    }
    for year, shares in {2027: {"FR": 60, "DE": 25, "IT": 15}}.items():
        for country, share in shares.items():
            db.session.add(MemberContribution(year=year, country=country, share=Decimal(share)))
    db.session.commit()
    return ex


def move(user, institution) -> None:
    """A person changes institution (their profile; snapshots frozen by a closed call stay)."""
    user.institution_id = institution.id
    db.session.commit()


def member_keys(p) -> list[tuple[str, str | None]]:
    return [(m.role.value, m.country_code) for m in db.session.query(ProposalMember).filter_by(proposal_id=p.id)]


__all__ = ["Example", "make_example", "move", "member_keys", "snapshot_member", "MemberRole"]
