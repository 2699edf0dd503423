"""The demo proposals: full past calls with realistic teams, an open call with the demo user's
drafts; idempotent and deterministic."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.queries import count_users_by_country
from app.demo import facility, people
from app.demo import proposals as demo
from app.extensions import db
from app.proposals import services
from app.proposals.models import BeamtimeRequest, Call, Proposal, ProposalMember, Sample
from app.proposals.status import ProposalStatus

TODAY = date(2026, 11, 29)


def _seed(tmp_path):
    people.seed_people(host_country="CH")
    admin = db.session.scalar(select(User).where(User.email == "admin@beamtime.example"))
    facility.seed(actor=admin, today=TODAY)
    return demo.seed(actor=admin, today=TODAY, upload_dir=str(tmp_path))


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_proposals_have_the_promised_shape(tmp_path):
    made = _seed(tmp_path)
    calls = list(db.session.scalars(select(Call).order_by(Call.opens_at)))
    assert [c.cycle.name for c in calls] == ["2026-I", "2026-II", "2027-I"]
    now = demo.datetime.combine(TODAY, demo.time(0), tzinfo=demo.UTC)
    assert [c.is_open(now) for c in calls] == [False, False, True]

    # past calls: 150–250 submitted proposals each, under review or submitted, references in order
    for call in calls[:2]:
        n = _count(Proposal, Proposal.call_id == call.id)
        assert 150 <= n <= 250
        statuses = set(db.session.scalars(select(Proposal.status).where(Proposal.call_id == call.id)))
        assert statuses <= {ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW}
        refs = sorted(db.session.scalars(select(Proposal.reference).where(Proposal.call_id == call.id)))
        assert refs[0] == f"{call.cycle.name}-0001" and refs[-1] == f"{call.cycle.name}-{n:04d}"
        assert all(
            p.submitted_at < call.closes_at
            for p in db.session.scalars(select(Proposal).where(Proposal.call_id == call.id))
        )

    past = [c.id for c in calls[:2]]
    members = db.session.execute(
        select(ProposalMember.proposal_id, ProposalMember.country_code, ProposalMember.role)
        .join(Proposal, Proposal.id == ProposalMember.proposal_id)
        .where(Proposal.call_id.in_(past))
    ).all()
    teams: dict[int, list] = defaultdict(list)
    for proposal_id, country, role in members:
        teams[proposal_id].append((country, role))
    sizes = Counter(len(t) for t in teams.values())
    assert min(sizes) >= 2 and max(sizes) <= 7 and len(sizes) >= 5
    assert all(sum(1 for _c, role in t if role == "pi") == 1 for t in teams.values())
    # about a third international (team members from two countries or more)
    international = sum(1 for t in teams.values() if len({c for c, _r in t if c}) >= 2) / len(teams)
    assert 0.27 <= international <= 0.40, international
    # team countries follow the community: the host's share of members like its share of users
    users = count_users_by_country()
    host_users = users["CH"] / sum(users.values())
    countries = Counter(c for c, _r in ((m[1], m[2]) for m in members))
    host_members = countries["CH"] / sum(countries.values())
    assert abs(host_members - host_users) < 0.08, (host_members, host_users)
    assert len([c for c in countries if c]) >= 30

    # requests: 3–24 shifts, median about 9, the popular instruments asked for most
    rows = db.session.execute(
        select(BeamtimeRequest.shifts, BeamtimeRequest.instrument_id)
        .join(Proposal, Proposal.id == BeamtimeRequest.proposal_id)
        .where(Proposal.call_id.in_(past))
    ).all()
    shifts = [s for s, _i in rows]
    assert min(shifts) >= 3 and max(shifts) <= 24 and 8 <= statistics.median(shifts) <= 10
    by_instrument = Counter(i for _s, i in rows).most_common()
    assert by_instrument[0][1] > 4 * by_instrument[-1][1]
    # samples with hazards declared; some hazardous
    hazards = list(db.session.scalars(select(Sample.hazards).join(Proposal).where(Proposal.call_id.in_(past))))
    assert all(hazards) and 0.25 < sum(1 for h in hazards if h != ["none"]) / len(hazards) < 0.7

    # the open call: others' submissions and the demo user's three drafts and one submission
    user = db.session.scalar(select(User).where(User.email == "user@beamtime.example"))
    mine = list(
        db.session.scalars(
            select(Proposal)
            .join(ProposalMember)
            .where(ProposalMember.user_id == user.id, Proposal.call_id == calls[2].id)
            .order_by(Proposal.id)
        )
    )
    assert sorted(p.status for p in mine) == ["draft", "draft", "draft", "submitted"]
    submitted = next(p for p in mine if p.status == ProposalStatus.SUBMITTED)
    assert submitted.reference.startswith("2027-I-") and services.problems_of(submitted) == []
    ready = [p for p in mine if p.status == ProposalStatus.DRAFT and not services.problems_of(p)]
    assert len(ready) == 1  # one draft is ready to submit, the others still miss items
    assert made == _count(Proposal)
    assert (tmp_path / submitted.science_case_key).exists()

    # seeding again changes nothing
    before = (_count(Call), _count(Proposal), _count(ProposalMember), _count(BeamtimeRequest), _count(Sample))
    assert _seed(tmp_path) == 0
    assert (_count(Call), _count(Proposal), _count(ProposalMember), _count(BeamtimeRequest), _count(Sample)) == before


def _signature(application, tmp_path) -> list[tuple]:
    """Seed an app's own (empty) database and read back the first proposals."""
    from sqlalchemy.orm import scoped_session, sessionmaker

    original = db.session
    with application.app_context():
        session = scoped_session(sessionmaker(bind=db.engine))
        db.session = session  # the test's rolled-back session is the other app's, not this one's
        try:
            assert _count(Proposal) == 0
            _seed(tmp_path)
            rows = db.session.scalars(select(Proposal).order_by(Proposal.reference).limit(40)).all()
            return [
                (
                    p.reference,
                    p.title,
                    sorted(m.user.email for m in p.members),
                    [(r.instrument.code, r.shifts) for r in p.requests],
                )
                for p in rows
            ]
        finally:
            session.remove()
            db.session = original


def test_demo_proposals_are_deterministic(app, tmp_path):
    """Two empty databases seeded on the same day hold the same proposals, teams and requests."""
    from tests.web.apps import other_app

    signatures = []
    for run in range(2):
        with other_app(app) as application:
            signatures.append(_signature(application, tmp_path / str(run)))
    assert signatures[0] == signatures[1] and len(signatures[0]) == 40
