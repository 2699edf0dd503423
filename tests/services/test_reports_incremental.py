"""Rollups refreshed incrementally (subscribers mark cycles dirty, the refresh rebuilds those)
equal a full rebuild after random sequences of changes (hypothesis; SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.accounts.models import InstitutionKind
from app.core import events
from app.extensions import db
from app.facility.models import BookingStatus
from app.proposals.events import CallClosed, ProposalSubmitted, ProposalWithdrawn
from app.proposals.status import ProposalStatus
from app.reports import rollups, services
from app.reports.models import ReportCapacity, ReportPair, ReportUsage
from app.reviews.events import AwardsChanged, DecisionsReleased
from app.scheduling.events import ExperimentCancelled, ExperimentChanged, ExperimentCompleted
from app.visits.events import PublicationChanged, VisitChanged
from app.visits.models import VisitMode
from app.visits.outcomes.models import Publication, PublicationInstrument, PublicationProposal
from app.visits.status import VisitStatus
from tests import factories_facility as ff
from tests import factories_proposals as fp
from tests import factories_reports as fr

_seq = itertools.count(1)
KINDS = [
    ("FR", InstitutionKind.UNIVERSITY),
    ("DE", InstitutionKind.UNIVERSITY),
    ("XK", InstitutionKind.RESEARCH_INSTITUTE),
    (None, InstitutionKind.INTERNATIONAL_ORGANISATION),
    ("FR", InstitutionKind.FACILITY),
    None,  # a person without an institution: key NONE
]

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "submit",
                "withdraw",
                "accept",
                "withdraw_award",
                "run",
                "cancel",
                "close",
                "refresh",
                "visit",
                "visit_status",
                "move",
                "publish",
                "unpublish",
            ]
        ),
        st.integers(0, 50),
        st.lists(st.integers(0, len(KINDS) - 1), min_size=1, max_size=4),
        st.integers(1, 12),
    ),
    min_size=1,
    max_size=14,
)
VISIT_STATES = [
    (VisitMode.ON_SITE, VisitStatus.COMPLETED),
    (VisitMode.ON_SITE, VisitStatus.ON_SITE),
    (VisitMode.ON_SITE, VisitStatus.REQUESTED),
    (VisitMode.ON_SITE, VisitStatus.CANCELLED),
    (VisitMode.REMOTE, VisitStatus.COMPLETED),
    (VisitMode.REMOTE, VisitStatus.REGISTERED),
]


def snapshot(cycle_ids):
    usage = sorted(
        (
            r.cycle_id,
            r.year,
            r.instrument_id,
            r.route,
            r.country,
            r.unit,
            round(r.pi, 9),
            round(r.whole, 9),
            round(r.fractional, 9),
        )
        for r in db.session.scalars(select(ReportUsage).where(ReportUsage.cycle_id.in_(cycle_ids)))
    )
    pairs = sorted(
        (r.cycle_id, r.basis, r.year, r.instrument_id, r.route, r.country_a, r.country_b, r.teams, round(r.score, 9))
        for r in db.session.scalars(select(ReportPair).where(ReportPair.cycle_id.in_(cycle_ids)))
    )
    capacity = sorted(
        (r.cycle_id, r.instrument_id, r.shifts)
        for r in db.session.scalars(select(ReportCapacity).where(ReportCapacity.cycle_id.in_(cycle_ids)))
    )
    return usage, pairs, capacity


def rebuilt(cycles):
    """What a full rebuild would store for these cycles (computed, not written)."""
    usage, pairs, capacity = [], [], []
    for cycle in cycles:
        rows = rollups.build_cycle(cycle)
        usage += [
            (r["cycle_id"], r["year"], r["instrument_id"], r["route"], r["country"], r["unit"])
            + tuple(round(r[m], 9) for m in ("pi", "whole", "fractional"))
            for r in rows.usage
        ]
        pairs += [
            (r["cycle_id"], r["basis"], r["year"], r["instrument_id"], r["route"], r["country_a"], r["country_b"])
            + (r["teams"], round(r["score"], 9))
            for r in rows.pairs
        ]
        capacity += [(r["cycle_id"], r["instrument_id"], r["shifts"]) for r in rows.capacity]
    return sorted(usage), sorted(pairs), sorted(capacity)


@settings(max_examples=12)
@given(ops=OPS)
def test_incremental_refresh_equals_a_full_rebuild(app_ctx, db_session, ops):
    ff.make_facility(host_country="FR", timezone="Europe/Paris")
    n = next(_seq)
    cycles = [
        fp.make_cycle(name=f"H{n}-A", starts_on=date(2030, 3, 1), ends_on=date(2030, 12, 31)),
        fp.make_cycle(name=f"H{n}-B", starts_on=date(2031, 3, 1), ends_on=date(2031, 12, 31)),
    ]
    instruments = [fp.make_instrument(code=f"H{n}-I1"), fp.make_instrument(code=f"H{n}-I2")]
    calls = [fp.make_call(cycle=c, instruments=instruments) for c in cycles]
    institutions = [fp.make_institution(country_code=k[0], kind=k[1]) if k else None for k in KINDS]
    services.refresh_dirty()
    proposals, awards, experiments, visits, papers = [], [], [], [], []
    # visitors come back across experiments and cycles: who is a new user depends on all of them
    visitors = [fr.person(institutions[i], f"v{i}") for i in (0, 1, 3, 5)]
    for i, (call, cycle) in enumerate(zip(calls, cycles, strict=True)):  # something to visit from the start
        p = fr.proposal(call, visitors[i], [visitors[i + 2]], requests={instruments[i]: 6})
        a = fr.award(p, instruments[i], 6)
        p.status = ProposalStatus.ACCEPTED
        proposals.append(p)
        awards.append(a)
        starts = datetime(2030 + i, 6, 1, 6, tzinfo=UTC)
        experiments.append(fr.experiment(a, cycle, starts, 24, None, status=BookingStatus.PUBLISHED))
    db.session.commit()
    services.rebuild_all()
    ids = [c.id for c in cycles]

    for kind, pick, team, shifts in ops:
        if kind == "submit":
            call = calls[pick % 2]
            people = [fr.person(institutions[i], f"p{i}") for i in team]
            requests = {instruments[pick % 2]: shifts} | ({instruments[1]: shifts + 1} if pick % 3 == 0 else {})
            p = fr.proposal(call, people[0], people[1:], requests=requests)
            proposals.append(p)
            events.publish(ProposalSubmitted(p.id, True))
        elif kind == "withdraw" and proposals:
            p = proposals[pick % len(proposals)]
            if p.status == ProposalStatus.SUBMITTED:  # (an accepted one needs the reviews' call review)
                p.status = ProposalStatus.WITHDRAWN
                events.publish(ProposalWithdrawn(p.id))
        elif kind == "accept" and proposals:
            p = proposals[pick % len(proposals)]
            if p.status == ProposalStatus.SUBMITTED:
                a = fr.award(p, p.requests[0].instrument, min(shifts, p.requests[0].shifts))
                p.status = ProposalStatus.ACCEPTED
                awards.append(a)
                events.publish(DecisionsReleased(p.call_id))
        elif kind == "withdraw_award" and awards:
            a = awards[pick % len(awards)]
            if a.withdrawn_at is None:
                a.withdrawn_at = datetime(2030, 5, 1, tzinfo=UTC)
                events.publish(AwardsChanged(a.call_id))
        elif kind == "run" and awards:
            a = awards[pick % len(awards)]
            cycle = cycles[pick % 2]
            starts = datetime(2030 + pick % 2, 1 + pick % 12, 1, 6, tzinfo=UTC) + timedelta(days=len(experiments) * 2)
            e = fr.experiment(a, cycle, starts, 24, shifts)
            experiments.append(e)
            events.publish(ExperimentCompleted(e.booking_id))
        elif kind == "cancel" and experiments:
            e = experiments[pick % len(experiments)]
            e.booking.status = BookingStatus.CANCELLED
            events.publish(ExperimentCancelled(e.booking_id))
        elif kind == "close":
            events.publish(CallClosed(calls[pick % 2].id))
        elif kind == "visit" and experiments:
            e = experiments[pick % len(experiments)]
            user = visitors[team[0] % len(visitors)]
            live = [
                v
                for v in visits
                if v.experiment_id == e.booking_id
                and v.user_id == user.id
                and v.status not in (VisitStatus.CANCELLED, VisitStatus.REFUSED)
            ]
            if not live:
                mode, status = VISIT_STATES[shifts % len(VISIT_STATES)]
                first = e.booking.starts_at.date()
                on_site = mode == VisitMode.ON_SITE and pick % 3
                v = fr.visit(
                    e,
                    user,
                    mode=mode,
                    status=status,
                    arrives_on=first if on_site else None,
                    departs_on=first + timedelta(days=shifts % 4) if on_site else None,
                    institution=institutions[team[-1]] if len(team) > 1 else None,
                )
                visits.append(v)
                events.publish(VisitChanged(v.id, v.experiment_id, v.user_id))
        elif kind == "visit_status" and visits:
            v = visits[pick % len(visits)]
            mode, status = VISIT_STATES[shifts % len(VISIT_STATES)]
            dead = (VisitStatus.CANCELLED, VisitStatus.REFUSED)
            if v.mode == mode and (status in dead or v.status not in dead):
                v.status = status  # (back to life could clash with another live visit of the person)
                events.publish(VisitChanged(v.id, v.experiment_id, v.user_id))
        elif kind == "move" and experiments:
            e = experiments[pick % len(experiments)]
            e.booking.starts_at = e.booking.starts_at + timedelta(days=shifts * 30)
            e.booking.ends_at = e.booking.starts_at + timedelta(hours=24)
            events.publish(ExperimentChanged(e.booking_id))
        elif kind == "publish" and proposals:
            linked = [proposals[pick % len(proposals)]]
            if len(proposals) > 1 and pick % 2:
                linked.append(proposals[(pick + 1) % len(proposals)])
            paper = Publication(doi=f"10.1/h{n}.{next(_seq)}", title="t", year=2030 + shifts % 3)
            paper.proposal_links = [PublicationProposal(proposal_id=p.id) for p in dict.fromkeys(linked)]
            paper.instrument_links = [PublicationInstrument(instrument_id=i.id) for i in instruments[: pick % 3]]
            db.session.add(paper)
            db.session.flush()
            papers.append(paper)
            events.publish(PublicationChanged(paper.id, tuple(p.id for p in linked)))
        elif kind == "unpublish" and papers:
            paper = papers.pop(pick % len(papers))
            linked = tuple(link.proposal_id for link in paper.proposal_links)
            db.session.delete(paper)
            events.publish(PublicationChanged(paper.id, linked))
        db.session.commit()
        if kind == "refresh" or pick % 2:  # the job runs at random moments; it must catch up whenever it runs
            services.refresh_dirty()
            assert snapshot(ids) == rebuilt(cycles)

    services.refresh_dirty()
    incremental = snapshot(ids)
    services.rebuild_all()
    assert snapshot(ids) == incremental
