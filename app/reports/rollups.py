"""Build the rollup rows of one cycle from its sources (Core queries, no ORM entities).

`build_cycle` reads a cycle's proposals, teams (affiliation snapshots), requests, released
awards, delivered experiments, visits (the visit's own snapshot), publications, capacities and
any extra registered visit and publication sources,
turns them into `metrics` inputs and returns the summed rows. `write_cycle` replaces the
cycle's rows. The incremental refresh and the full rebuild both go through these two
functions, so they agree by construction; what the tests check is that every change marks
the right cycle dirty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, String, delete, insert, select, type_coerce

from app.accounts.models import Institution
from app.core.errors import DomainError
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingStatus, Cycle, Instrument
from app.proposals.models import BeamtimeRequest, Call, MemberRole, Proposal, ProposalMember
from app.proposals.status import ProposalStatus
from app.reports import metrics, sources
from app.reports.models import ReportCapacity, ReportPair, ReportUsage
from app.reviews.models import Award
from app.scheduling.models import Experiment
from app.visits.models import Visit, VisitMode
from app.visits.outcomes.models import Publication, PublicationInstrument, PublicationProposal
from app.visits.status import VisitStatus

#: a proposal counts as submitted in these states (withdrawn and draft do not)
SUBMITTED = tuple(s for s in ProposalStatus if s not in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN))
#: decisions released with at least one award
ACCEPTED = (ProposalStatus.ACCEPTED, ProposalStatus.SCHEDULED, ProposalStatus.COMPLETED)
PROPOSALS_BASIS = "proposals"
DELIVERED_BASIS = "delivered"


@dataclass
class CycleRows:
    cycle_id: int
    usage: list[dict] = field(default_factory=list)
    pairs: list[dict] = field(default_factory=list)
    capacity: list[dict] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.usage) + len(self.pairs) + len(self.capacity)


def _teams(proposal_ids: list[int]) -> dict[int, tuple[tuple[str, ...], str | None]]:
    """Each proposal's team as attribution keys (snapshot country + institution kind)."""
    teams: dict[int, list[str]] = defaultdict(list)
    pis: dict[int, str] = {}
    if not proposal_ids:
        return {}
    rows = db.session.connection().execute(
        select(ProposalMember.proposal_id, ProposalMember.role, ProposalMember.country_code, Institution.kind)
        .outerjoin(Institution, Institution.id == ProposalMember.institution_id)
        .where(ProposalMember.proposal_id.in_(proposal_ids))
        .order_by(ProposalMember.proposal_id, ProposalMember.id)
    )
    for proposal_id, role, country, kind in rows:
        key = metrics.attribution_key(metrics.Affiliation(country, kind.value if kind is not None else None))
        teams[proposal_id].append(key)
        if role == MemberRole.PI:
            pis[proposal_id] = key
    return {pid: (tuple(team), pis.get(pid)) for pid, team in teams.items()}


def _local_year(at: datetime, zone: ZoneInfo | None) -> int:
    return (at.astimezone(zone) if zone else at).year


def _zone() -> ZoneInfo | None:
    name = facility_queries.facility_timezone_name()
    return ZoneInfo(name) if name else None


def proposal_inputs(cycle: Cycle) -> list[metrics.ProposalInput]:
    year = cycle.starts_on.year
    found = db.session.execute(
        select(Proposal.id, Proposal.status, Call.route)
        .join(Call, Call.id == Proposal.call_id)
        .where(Call.cycle_id == cycle.id, Proposal.status.in_(SUBMITTED))
        .order_by(Proposal.id)
    ).all()
    ids = [row.id for row in found]
    teams = _teams(ids)
    requested: dict[int, dict[int, int]] = defaultdict(dict)
    awarded: dict[int, dict[int, int]] = defaultdict(dict)
    if ids:
        for pid, instrument, shifts in db.session.execute(
            select(BeamtimeRequest.proposal_id, BeamtimeRequest.instrument_id, BeamtimeRequest.shifts).where(
                BeamtimeRequest.proposal_id.in_(ids)
            )
        ):
            requested[pid][instrument] = shifts
        for pid, instrument, shifts in db.session.execute(
            select(Award.proposal_id, Award.instrument_id, Award.shifts).where(
                Award.proposal_id.in_(ids), Award.withdrawn_at.is_(None)
            )
        ):
            awarded[pid][instrument] = awarded[pid].get(instrument, 0) + shifts
    out = []
    for row in found:
        team, pi = teams.get(row.id, ((), None))
        accepted = row.status in ACCEPTED
        out.append(
            metrics.ProposalInput(
                row.id,
                year,
                row.route.value,
                team,
                pi,
                accepted,
                dict(requested[row.id]),
                dict(awarded[row.id]) if accepted else {},
            )
        )
    return out


def experiment_inputs(cycle: Cycle, zone: ZoneInfo | None) -> list[metrics.ExperimentInput]:
    """Experiments booked in this cycle that ran (completed, delivered shifts recorded)."""
    found = db.session.execute(
        select(
            Experiment.booking_id,
            Experiment.delivered_shifts,
            Booking.instrument_id,
            Booking.starts_at,
            Award.proposal_id,
            Call.route,
        )
        .join(Booking, Booking.id == Experiment.booking_id)
        .join(Award, Award.id == Experiment.award_id)
        .join(Call, Call.id == Award.call_id)
        .where(
            Booking.cycle_id == cycle.id,
            Booking.status == BookingStatus.COMPLETED,
            Experiment.delivered_shifts.is_not(None),
        )
        .order_by(Experiment.booking_id)
    ).all()
    teams = _teams(sorted({row.proposal_id for row in found}))
    out = []
    for row in found:
        team, pi = teams.get(row.proposal_id, ((), None))
        out.append(
            metrics.ExperimentInput(
                row.booking_id,
                _local_year(row.starts_at, zone),
                row.instrument_id,
                row.route.value,
                team,
                pi,
                row.delivered_shifts,
            )
        )
    return out


#: a visit counts once it happened: on site (arrived, or completed on site), remote (completed)
VISIT_HAPPENED = (
    (Visit.mode == VisitMode.ON_SITE) & Visit.status.in_((VisitStatus.ON_SITE, VisitStatus.COMPLETED))
) | ((Visit.mode == VisitMode.REMOTE) & (Visit.status == VisitStatus.COMPLETED))


def _local_date(at: datetime, zone: ZoneInfo | None) -> date:
    return (at.astimezone(zone) if zone else at).date()


def _utc(at: datetime) -> datetime:
    """What `UTCDateTime` gives back, for the instants the visits read leaves untyped."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def happened_visits_statement(*where):
    """Visits that happened, with their own snapshot, experiment's instrument, cycle and route
    (Core columns, no entities: the rollups' largest read, measured per row by bench B8).

    The enum columns come back as their plain text (a `StrEnum` equals its value) and the
    instants untouched by `UTCDateTime` (`_utc` converts the few that are used): converting
    every cell of ~10^5 rows cost more than reading them."""
    return (
        select(
            Visit.id,
            Visit.user_id,
            type_coerce(Visit.mode, String()).label("mode"),
            Visit.arrives_on,
            Visit.departs_on,
            Visit.country_code,
            type_coerce(Institution.kind, String()).label("kind"),
            Booking.cycle_id,
            Booking.instrument_id,
            type_coerce(Booking.starts_at, DateTime(timezone=True)).label("starts_at"),
            type_coerce(Booking.ends_at, DateTime(timezone=True)).label("ends_at"),
            type_coerce(Call.route, String()).label("route"),
        )
        .join(Booking, Booking.id == Visit.experiment_id)
        .join(Experiment, Experiment.booking_id == Visit.experiment_id)
        .join(Award, Award.id == Experiment.award_id)
        .join(Call, Call.id == Award.call_id)
        .outerjoin(Institution, Institution.id == Visit.institution_id)
        .where(VISIT_HAPPENED, *where)
        .order_by(Visit.id)
    )


def _happened_visits(*where) -> list:
    """Through the session's connection (Core rows), not the ORM's result machinery."""
    return db.session.connection().execute(happened_visits_statement(*where)).all()


def visit_inputs(cycle: Cycle, zone: ZoneInfo | None) -> list[metrics.VisitInput]:
    """Visits of the experiments booked in this cycle that happened, with the visit's own
    affiliation snapshot (never the visitor's current profile).

    The visitors' visits in every cycle are read too: a person is a new user on their first
    visit ever, and counts as a unique user of a (key, year, instrument, route) row on their
    first visit of that row only — so that summing the rows of several cycles counts each
    person once."""
    users = sorted(
        set(
            db.session.scalars(
                select(Visit.user_id)
                .join(Booking, Booking.id == Visit.experiment_id)
                .where(Booking.cycle_id == cycle.id, VISIT_HAPPENED)
            )
        )
    )
    found = []
    for start in range(0, len(users), 500):
        found += _happened_visits(Visit.user_id.in_(users[start : start + 500]))
    first_ever: dict[int, tuple[date, int]] = {}
    first_in_row: dict[tuple, tuple[date, int]] = {}
    visits = []

    def first_day(row) -> date:
        return row.arrives_on or _local_date(_utc(row.starts_at), zone)  # remote: the experiment's first day

    # a visit of another cycle can only come first in a row of this cycle's visits in the same
    # person and year: the others only count for the first visit ever (most of the rows at L)
    own_years = {(row.user_id, first_day(row).year) for row in found if row.cycle_id == cycle.id}
    for row in found:
        day = first_day(row)
        order = (day, row.id)
        first_ever[row.user_id] = min(first_ever.get(row.user_id, order), order)
        if row.cycle_id != cycle.id and (row.user_id, day.year) not in own_years:
            continue
        on_site = row.mode == VisitMode.ON_SITE
        days = 0
        if on_site:
            last = row.departs_on or _local_date(_utc(row.ends_at) - timedelta(microseconds=1), zone)
            days = max((last - day).days + 1, 1)
        key = metrics.attribution_key(metrics.Affiliation(row.country_code, row.kind))
        for instrument in (metrics.ALL_INSTRUMENTS, row.instrument_id):
            group = (row.user_id, key, day.year, instrument, row.route)
            first_in_row[group] = min(first_in_row.get(group, order), order)
        visits.append((row, on_site, day, days, key, order))
    out = []
    for row, on_site, day, days, key, order in visits:
        if row.cycle_id != cycle.id:
            continue
        rows = frozenset(
            instrument
            for instrument in (metrics.ALL_INSTRUMENTS, row.instrument_id)
            if first_in_row[(row.user_id, key, day.year, instrument, row.route)] == order
        )
        out.append(
            metrics.VisitInput(
                row.id,
                row.user_id,
                key,
                day.year,
                row.instrument_id,
                row.route,
                on_site,
                days,
                first_ever[row.user_id] == order,
                user_rows=rows,
            )
        )
    return out


def publication_inputs(cycle: Cycle) -> list[metrics.PublicationInput]:
    """Publications linked to this cycle's submitted proposals, over each proposal's frozen team
    (a publication linked to two proposals counts once for each)."""
    found = db.session.execute(
        select(Publication.id, Publication.year, PublicationProposal.proposal_id, Call.route)
        .join(PublicationProposal, PublicationProposal.publication_id == Publication.id)
        .join(Proposal, Proposal.id == PublicationProposal.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .where(Call.cycle_id == cycle.id, Proposal.status.in_(SUBMITTED))
        .order_by(Publication.id, PublicationProposal.proposal_id)
    ).all()
    if not found:
        return []
    instruments: dict[int, list[int]] = defaultdict(list)
    for publication_id, instrument_id in db.session.execute(
        select(PublicationInstrument.publication_id, PublicationInstrument.instrument_id)
        .where(PublicationInstrument.publication_id.in_(sorted({row.id for row in found})))
        .order_by(PublicationInstrument.publication_id, PublicationInstrument.instrument_id)
    ):
        instruments[publication_id].append(instrument_id)
    teams = _teams(sorted({row.proposal_id for row in found}))
    out = []
    for row in found:
        team, pi = teams.get(row.proposal_id, ((), None))
        linked = instruments.get(row.id, [])
        out.append(
            metrics.PublicationInput(
                row.id,
                row.year,
                linked[0] if linked else metrics.ALL_INSTRUMENTS,
                row.route.value,
                team,
                pi,
                tuple(linked[1:]),
            )
        )
    return out


def _capacity_rows(cycle: Cycle, instrument_ids: Iterable[int]) -> list[dict]:
    ids = sorted(set(instrument_ids))
    if not ids:
        return []
    instruments = db.session.scalars(select(Instrument).where(Instrument.id.in_(ids))).all()
    try:
        table = facility_queries.capacity_table(cycle, instruments=instruments)
    except DomainError:  # no facility set up yet (no shift grid): no capacity to divide by
        return []
    return [
        {"cycle_id": cycle.id, "instrument_id": instrument.id, "year": cycle.starts_on.year, "shifts": cap.value}
        for instrument, cap in table
    ]


def build_cycle(cycle: Cycle) -> CycleRows:
    zone = _zone()
    proposals = proposal_inputs(cycle)
    experiments = experiment_inputs(cycle, zone)
    facts: list[metrics.Fact] = []
    pairs: list[metrics.PairFact] = []
    for p in proposals:
        facts += metrics.proposal_facts(p)
        for instrument in (metrics.ALL_INSTRUMENTS, *sorted(p.requested)):
            pairs += [
                (PROPOSALS_BASIS, f) for f in metrics.pair_facts(metrics.TeamInput(p.year, p.team, instrument, p.route))
            ]
    for e in experiments:
        facts += metrics.experiment_facts(e)
        for instrument in (metrics.ALL_INSTRUMENTS, e.instrument):
            pairs += [
                (DELIVERED_BASIS, f) for f in metrics.pair_facts(metrics.TeamInput(e.year, e.team, instrument, e.route))
            ]
    facts += metrics.visit_facts([*visit_inputs(cycle, zone), *sources.visits_of_cycle(cycle.id)])
    for publication in [*publication_inputs(cycle), *sources.publications_of_cycle(cycle.id)]:
        facts += metrics.publication_facts(publication)
    rows = CycleRows(cycle.id)
    for (key, unit, year, instrument, route), (pi, whole, fractional) in sorted(metrics.rollup(facts).items()):
        rows.usage.append(
            {
                "cycle_id": cycle.id,
                "year": year,
                "instrument_id": instrument,
                "route": route,
                "country": key,
                "unit": unit,
                "pi": pi,
                "whole": whole,
                "fractional": fractional,
            }
        )
    by_basis: dict[str, list[metrics.PairFact]] = defaultdict(list)
    for basis, fact in pairs:
        by_basis[basis].append(fact)
    for basis in sorted(by_basis):
        for (a, b, year, instrument, route), (teams, score) in sorted(metrics.pair_rollup(by_basis[basis]).items()):
            rows.pairs.append(
                {
                    "cycle_id": cycle.id,
                    "basis": basis,
                    "year": year,
                    "instrument_id": instrument,
                    "route": route,
                    "country_a": a,
                    "country_b": b,
                    "teams": teams,
                    "score": score,
                }
            )
    rows.capacity = _capacity_rows(cycle, [i for p in proposals for i in p.requested])
    return rows


def write_cycle(rows: CycleRows) -> int:
    """Replace the cycle's rollup rows (inside the caller's transaction)."""
    for model in (ReportUsage, ReportPair, ReportCapacity):
        db.session.execute(delete(model).where(model.cycle_id == rows.cycle_id))
    if rows.usage:
        db.session.execute(insert(ReportUsage), rows.usage)
    if rows.pairs:
        db.session.execute(insert(ReportPair), rows.pairs)
    if rows.capacity:
        db.session.execute(insert(ReportCapacity), rows.capacity)
    return rows.count
