"""The numbers of the reports, as docs/METRICS.md defines them. Pure: plain dataclasses in and
out, no Flask, no SQLAlchemy, no `app.` imports.

Everything is counted per *attribution key*: an ISO 3166-1 alpha-2 country code (plus XK), or
one of the three groups that are not countries — international organisations (`INTL`), the
facility's own staff (`HOUSE`) and unknown affiliations (`NONE`). The key comes from an
affiliation snapshot (the proposal member's, frozen when the call closed; the visit's own),
never from a person's current profile.

Units are *facts* (`Fact`: key, unit, year, instrument, route and one value per counting mode);
rollups store sums of facts, so every figure the dashboard shows is a sum of stored values.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

INTERNATIONAL = "INTL"  # members from international organisations, never their seat's country
IN_HOUSE = "HOUSE"  # the facility's own staff
UNKNOWN = "NONE"  # no institution / no country in the snapshot
GROUPS = (INTERNATIONAL, IN_HOUSE, UNKNOWN)

#: institution kinds as stored by accounts (InstitutionKind values)
KIND_INTERNATIONAL = "international_organisation"
KIND_FACILITY = "facility"

#: access routes whose beamtime is peer reviewed: the basis of fair return
PEER_REVIEWED_ROUTES = frozenset({"standard", "rapid_access", "long_term"})
#: "all instruments": the row of a proposal unit that counts the proposal once for the facility
ALL_INSTRUMENTS = 0


class Mode(enum.StrEnum):
    PI = "pi"  # the PI's key gets the whole unit
    WHOLE = "whole"  # every key on the team gets one whole unit
    FRACTIONAL = "fractional"  # every member carries 1/n; a key gets the sum of its members'


MODES = tuple(Mode)


class Unit(enum.StrEnum):
    # proposal units (counting modes apply; year = the year the cycle starts)
    PROPOSALS_SUBMITTED = "proposals_submitted"
    PROPOSALS_ACCEPTED = "proposals_accepted"
    INTERNATIONAL_TEAMS = "international_teams"
    SHIFTS_REQUESTED = "shifts_requested"
    SHIFTS_AWARDED = "shifts_awarded"
    # delivered experiments (counting modes over the proposal team; year = the year it ran)
    SHIFTS_DELIVERED = "shifts_delivered"
    EXPERIMENTS_DELIVERED = "experiments_delivered"
    # publications (counting modes over the proposal team; year = the year of publication)
    PUBLICATIONS = "publications"
    # visit units (the visitor's own key, the same in every mode; year = the year of the visit)
    VISITS_ON_SITE = "visits_on_site"
    REMOTE_PARTICIPATIONS = "remote_participations"
    PERSON_DAYS = "person_days"
    UNIQUE_USERS = "unique_users"
    NEW_USERS = "new_users"


PROPOSAL_UNITS = (
    Unit.PROPOSALS_SUBMITTED,
    Unit.PROPOSALS_ACCEPTED,
    Unit.INTERNATIONAL_TEAMS,
    Unit.SHIFTS_REQUESTED,
    Unit.SHIFTS_AWARDED,
)
EXPERIMENT_UNITS = (Unit.SHIFTS_DELIVERED, Unit.EXPERIMENTS_DELIVERED)
VISIT_UNITS = (Unit.VISITS_ON_SITE, Unit.REMOTE_PARTICIPATIONS, Unit.PERSON_DAYS, Unit.UNIQUE_USERS, Unit.NEW_USERS)


# --- attribution ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Affiliation:
    """An affiliation snapshot: the institution's country (None for international
    organisations) and kind."""

    country: str | None
    kind: str | None = None


def attribution_key(affiliation: Affiliation) -> str:
    """The key a snapshot counts under: INTL for international organisations (whatever their
    seat), HOUSE for the facility's own staff, NONE without a country, else the country."""
    if affiliation.kind == KIND_INTERNATIONAL:
        return INTERNATIONAL
    if affiliation.kind == KIND_FACILITY:
        return IN_HOUSE
    return affiliation.country or UNKNOWN


def is_country(key: str) -> bool:
    return key not in GROUPS


def shares(team: Sequence[str], pi: str | None, mode: Mode) -> dict[str, float]:
    """What each key of a team gets for one unit, in a counting mode.

    `team` holds one key per member (PI included); `pi` the PI's key. An empty team gives
    nothing (a unit with no team is not attributed)."""
    if not team:
        return {}
    if mode is Mode.PI:
        return {pi if pi is not None else team[0]: 1.0}
    if mode is Mode.WHOLE:
        return dict.fromkeys(sorted(set(team)), 1.0)
    n = len(team)
    return {key: count / n for key, count in sorted(Counter(team).items())}


def is_international_team(team: Sequence[str]) -> bool:
    """Two or more different countries on the team; international organisations count as one
    more "country", the facility's staff and unknown affiliations do not."""
    return len({k for k in team if k not in (IN_HOUSE, UNKNOWN)}) >= 2


# --- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposalInput:
    """One submitted (not withdrawn) proposal with its frozen team.

    `requested`/`awarded`: shifts per instrument id (awarded: released, not withdrawn)."""

    proposal_id: int
    year: int  # the year its cycle starts
    route: str
    team: tuple[str, ...]  # one attribution key per member
    pi: str | None
    accepted: bool = False
    requested: Mapping[int, int] = field(default_factory=dict)
    awarded: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExperimentInput:
    """A delivered (completed, not cancelled) experiment with its proposal's frozen team."""

    experiment_id: int
    year: int  # the year it ran (its start, facility time)
    instrument: int
    route: str
    team: tuple[str, ...]
    pi: str | None
    delivered_shifts: int


@dataclass(frozen=True, slots=True)
class VisitInput:
    """One visit (visits domain): the visitor's own snapshot key, on site or remote.

    Only visits that happened count: on site = reached on_site or completed; remote = completed."""

    visit_id: int
    person_id: int
    key: str
    year: int  # the year of arrival (facility time)
    instrument: int
    route: str
    on_site: bool
    days: int  # person-days on site: calendar days from arrival to departure, both included
    first_ever: bool = False  # the person's first visit ever (on site or remote)
    #: the rows (instrument 0 and/or `instrument`) where this visit carries the person's unique-
    #: user count: only their first visit of that (key, year, instrument, route) row over every
    #: cycle does, so rows of several cycles add up; None = every row (one set of visits)
    user_rows: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class PublicationInput:
    """A publication linked to a proposal, counted over that proposal's frozen team.

    `instrument` (and `other_instruments`): the instruments the publication is linked to;
    `ALL_INSTRUMENTS` when it names none (then it counts on the facility row only)."""

    publication_id: int
    year: int  # the year of publication
    instrument: int
    route: str
    team: tuple[str, ...]
    pi: str | None
    other_instruments: tuple[int, ...] = ()


# --- facts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fact:
    key: str
    unit: str
    year: int
    instrument: int
    route: str
    pi: float
    whole: float
    fractional: float

    def value(self, mode: Mode) -> float:
        return {Mode.PI: self.pi, Mode.WHOLE: self.whole, Mode.FRACTIONAL: self.fractional}[Mode(mode)]

    @property
    def dims(self) -> tuple[str, str, int, int, str]:
        return (self.key, self.unit, self.year, self.instrument, self.route)


def _team_facts(
    unit: str, year: int, instrument: int, route: str, team: Sequence[str], pi: str | None, amount: float
) -> list[Fact]:
    per_mode = {mode: shares(team, pi, mode) for mode in MODES}
    keys = sorted(set(team) | set(per_mode[Mode.PI]))
    return [
        Fact(
            key,
            unit,
            year,
            instrument,
            route,
            pi=per_mode[Mode.PI].get(key, 0.0) * amount,
            whole=per_mode[Mode.WHOLE].get(key, 0.0) * amount,
            fractional=per_mode[Mode.FRACTIONAL].get(key, 0.0) * amount,
        )
        for key in keys
    ]


def proposal_facts(p: ProposalInput) -> list[Fact]:
    """Proposals count once for the facility (instrument 0) and once per instrument asked for;
    shifts per instrument (and their facility total on instrument 0)."""
    facts: list[Fact] = []
    instruments = sorted(set(p.requested) | set(p.awarded))
    for instrument in [ALL_INSTRUMENTS, *instruments]:
        on = instrument == ALL_INSTRUMENTS or instrument in p.requested
        if on:
            facts += _team_facts(Unit.PROPOSALS_SUBMITTED, p.year, instrument, p.route, p.team, p.pi, 1)
            if is_international_team(p.team):
                facts += _team_facts(Unit.INTERNATIONAL_TEAMS, p.year, instrument, p.route, p.team, p.pi, 1)
        if p.accepted and (instrument == ALL_INSTRUMENTS or p.awarded.get(instrument)):
            facts += _team_facts(Unit.PROPOSALS_ACCEPTED, p.year, instrument, p.route, p.team, p.pi, 1)
        requested = sum(p.requested.values()) if instrument == ALL_INSTRUMENTS else p.requested.get(instrument, 0)
        if requested:
            facts += _team_facts(Unit.SHIFTS_REQUESTED, p.year, instrument, p.route, p.team, p.pi, requested)
        awarded = sum(p.awarded.values()) if instrument == ALL_INSTRUMENTS else p.awarded.get(instrument, 0)
        if p.accepted and awarded:
            facts += _team_facts(Unit.SHIFTS_AWARDED, p.year, instrument, p.route, p.team, p.pi, awarded)
    return facts


def experiment_facts(e: ExperimentInput) -> list[Fact]:
    facts: list[Fact] = []
    for instrument in (ALL_INSTRUMENTS, e.instrument):
        facts += _team_facts(Unit.EXPERIMENTS_DELIVERED, e.year, instrument, e.route, e.team, e.pi, 1)
        if e.delivered_shifts:
            facts += _team_facts(Unit.SHIFTS_DELIVERED, e.year, instrument, e.route, e.team, e.pi, e.delivered_shifts)
    return facts


def publication_facts(p: PublicationInput) -> list[Fact]:
    """Once for the facility (instrument 0) and once per instrument it is linked to."""
    facts: list[Fact] = []
    linked = sorted({p.instrument, *p.other_instruments} - {ALL_INSTRUMENTS})
    for instrument in (ALL_INSTRUMENTS, *linked):
        facts += _team_facts(Unit.PUBLICATIONS, p.year, instrument, p.route, p.team, p.pi, 1)
    return facts


def _single(key: str, unit: str, year: int, instrument: int, route: str, amount: float) -> Fact:
    return Fact(key, unit, year, instrument, route, amount, amount, amount)


def visit_facts(visits: Iterable[VisitInput]) -> list[Fact]:
    """Visit units of a set of visits: the visitor's own key, the same in every mode.

    Unique and new users are distinct people per (key, year, instrument, route) row; the
    instrument-0 row counts a person once for the facility."""
    facts: list[Fact] = []
    people: dict[tuple[str, int, int, str], set[int]] = defaultdict(set)
    newcomers: dict[tuple[str, int, int, str], set[int]] = defaultdict(set)
    for v in visits:
        for instrument in (ALL_INSTRUMENTS, v.instrument):
            if v.on_site:
                facts.append(_single(v.key, Unit.VISITS_ON_SITE, v.year, instrument, v.route, 1))
                facts.append(_single(v.key, Unit.PERSON_DAYS, v.year, instrument, v.route, v.days))
            else:
                facts.append(_single(v.key, Unit.REMOTE_PARTICIPATIONS, v.year, instrument, v.route, 1))
            if v.user_rows is None or instrument in v.user_rows:
                people[(v.key, v.year, instrument, v.route)].add(v.person_id)
            if v.first_ever:
                newcomers[(v.key, v.year, instrument, v.route)].add(v.person_id)
    for (key, year, instrument, route), ids in people.items():
        facts.append(_single(key, Unit.UNIQUE_USERS, year, instrument, route, len(ids)))
    for (key, year, instrument, route), ids in newcomers.items():
        facts.append(_single(key, Unit.NEW_USERS, year, instrument, route, len(ids)))
    return facts


def rollup(facts: Iterable[Fact]) -> dict[tuple[str, str, int, int, str], tuple[float, float, float]]:
    """Sum facts over equal dimensions (what the rollup table stores)."""
    out: dict[tuple[str, str, int, int, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for f in facts:
        row = out[f.dims]
        row[0] += f.pi
        row[1] += f.whole
        row[2] += f.fractional
    return {dims: (v[0], v[1], v[2]) for dims, v in out.items()}


def totals_by_key(
    facts: Iterable[Fact], unit: str, mode: Mode, *, instrument: int = ALL_INSTRUMENTS
) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for f in facts:
        if f.unit == unit and f.instrument == instrument:
            out[f.key] += f.value(mode)
    return dict(out)


# --- derived figures --------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def success_rate(accepted: float, submitted: float) -> float | None:
    """Accepted ÷ submitted, in the same counting mode (None when nothing was submitted)."""
    return ratio(accepted, submitted)


def foreign_share(by_key: Mapping[str, float], host: str) -> float | None:
    """The part of a total that is not the host country's: countries other than the host and
    international organisations over everything attributed (the facility's staff count in the
    total, on the host side; unknown affiliations are left out of both)."""
    total = sum(v for k, v in by_key.items() if k != UNKNOWN)
    foreign = sum(v for k, v in by_key.items() if k not in (host, IN_HOUSE, UNKNOWN))
    return ratio(foreign, total)


def oversubscription(requested: float, capacity: float) -> float | None:
    """Requested shifts ÷ capacity of an instrument in a cycle."""
    return ratio(requested, capacity)


# --- collaboration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamInput:
    """A team that collaborated (a proposal, or a delivered experiment), with its year."""

    year: int
    team: tuple[str, ...]
    instrument: int = ALL_INSTRUMENTS
    route: str = ""


@dataclass(frozen=True, slots=True)
class PairFact:
    a: str  # a < b
    b: str
    year: int
    instrument: int
    route: str
    teams: int
    score: float


def pair_facts(t: TeamInput) -> list[PairFact]:
    """Bilateral scores of one team, Nature-Index style: for every pair of keys on the team,
    the sum of the two keys' fractional shares. One fact per unordered pair (a < b)."""
    fractional = shares(t.team, None, Mode.FRACTIONAL)
    return [
        PairFact(a, b, t.year, t.instrument, t.route, 1, fractional[a] + fractional[b])
        for a, b in combinations(sorted(fractional), 2)
    ]


def pair_rollup(facts: Iterable[PairFact]) -> dict[tuple[str, str, int, int, str], tuple[int, float]]:
    out: dict[tuple[str, str, int, int, str], list] = defaultdict(lambda: [0, 0.0])
    for f in facts:
        row = out[(f.a, f.b, f.year, f.instrument, f.route)]
        row[0] += f.teams
        row[1] += f.score
    return {k: (v[0], v[1]) for k, v in out.items()}


def bilateral(pairs: Mapping[tuple[str, str], float], a: str, b: str) -> float:
    """The bilateral score of A and B from a table keyed by unordered pairs; symmetric."""
    if a == b:
        return 0.0
    return pairs.get((a, b), pairs.get((b, a), 0.0))


def matrix(pairs: Mapping[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    """The symmetric country-pair matrix of bilateral scores."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (a, b), score in pairs.items():
        out[a][b] = out[a].get(b, 0.0) + score
        out[b][a] = out[b].get(a, 0.0) + score
    return {k: dict(v) for k, v in out.items()}


def collaboration_score(pairs: Mapping[tuple[str, str], float], key: str) -> float:
    """A key's collaboration score: the sum of its bilateral scores over all its partners."""
    return sum(score for (a, b), score in pairs.items() if key in (a, b) and a != b)


def top_partners(pairs: Mapping[tuple[str, str], float], key: str, n: int = 5) -> list[tuple[str, float]]:
    row = matrix(pairs).get(key, {})
    return sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def change_since(series: Mapping[int, float], base_year: int, year: int) -> float | None:
    """Relative change of a yearly figure against a base year ("−15 % since 2020" is −0.15);
    None when the base year is zero or missing."""
    base = series.get(base_year, 0.0)
    if not base:
        return None
    return (series.get(year, 0.0) - base) / base


# --- fair return ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FairReturn:
    country: str
    year: int
    delivered_share: float  # the member's fractional share of delivered shifts (0..1)
    contribution_share: float  # its share of the budget that year (0..1)
    ratio: float | None  # delivered ÷ contribution; 1 = fair, None without a contribution


def fair_return(
    delivered_fractional: Mapping[str, float], contributions: Mapping[str, float], year: int
) -> list[FairReturn]:
    """Fair return of the members in one year.

    `delivered_fractional`: delivered shifts on peer-reviewed routes in that year, fractional
    mode, by key (all keys, so the total is every delivered shift); `contributions`: each
    member's budget share that year, in per cent (as stored)."""
    total = sum(delivered_fractional.values())
    out = []
    for country in sorted(contributions):
        delivered = delivered_fractional.get(country, 0.0) / total if total else 0.0
        contribution = float(contributions[country]) / 100
        out.append(FairReturn(country, year, delivered, contribution, ratio(delivered, contribution)))
    return out
