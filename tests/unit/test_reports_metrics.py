"""The worked example of docs/METRICS.md, unit by unit and mode by mode, plus properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reports import metrics as m
from app.reports.metrics import Mode, Unit

ID1, ID2 = 1, 2
HOST = "FR"

# --- the worked example (docs/METRICS.md §9) ---------------------------------------------

P1 = m.ProposalInput(1, 2027, "standard", ("DE", "FR", "FR", "INTL"), "DE", True, {ID1: 12}, {ID1: 9})
P2 = m.ProposalInput(2, 2027, "standard", ("FR", "HOUSE"), "FR", False, {ID1: 8, ID2: 6}, {})
P3 = m.ProposalInput(3, 2027, "rapid_access", ("IT",), "IT", True, {ID2: 3}, {ID2: 3})
P4 = m.ProposalInput(4, 2028, "standard", ("DE", "FR"), "DE", False, {ID2: 4}, {})
PROPOSALS = [P1, P2, P3, P4]
E1 = m.ExperimentInput(11, 2027, ID1, "standard", P1.team, P1.pi, 6)
E2 = m.ExperimentInput(12, 2028, ID1, "standard", P1.team, P1.pi, 2)
E3 = m.ExperimentInput(13, 2027, ID2, "rapid_access", P3.team, P3.pi, 3)
VISITS = [
    m.VisitInput(21, 101, "DE", 2027, ID1, "standard", True, 3, first_ever=True),  # Anna
    m.VisitInput(22, 104, "INTL", 2027, ID1, "standard", True, 3, first_ever=True),  # Dora (EMBL)
    m.VisitInput(23, 102, "FR", 2027, ID1, "standard", False, 0, first_ever=True),  # Bruno, remote
    m.VisitInput(24, 108, "ES", 2027, ID1, "standard", True, 2, first_ever=True),  # Hugo, not on the team
    m.VisitInput(25, 101, "DE", 2028, ID1, "standard", True, 2),  # Anna again
    m.VisitInput(26, 107, "IT", 2027, ID2, "rapid_access", False, 0, first_ever=True),  # Gita, remote
]
PAPER = m.PublicationInput(31, 2029, ID1, "standard", P1.team, P1.pi)
CONTRIBUTIONS_2027 = {"FR": 60, "DE": 25, "IT": 15}


def facts():
    out = []
    for p in PROPOSALS:
        out += m.proposal_facts(p)
    for e in (E1, E2, E3):
        out += m.experiment_facts(e)
    out += m.visit_facts(VISITS)
    out += m.publication_facts(PAPER)
    return out


def by_key(unit, mode, year=2027, instrument=m.ALL_INSTRUMENTS, route=None):
    out: dict[str, float] = {}
    for f in facts():
        if f.unit == unit and f.year == year and f.instrument == instrument and (route is None or f.route == route):
            out[f.key] = round(out.get(f.key, 0.0) + f.value(mode), 9)
    return {k: v for k, v in out.items() if v}


def test_attribution_uses_groups_not_seats():
    assert m.attribution_key(m.Affiliation(None, "international_organisation")) == "INTL"
    assert m.attribution_key(m.Affiliation("DE", "international_organisation")) == "INTL"  # never the seat
    assert m.attribution_key(m.Affiliation("FR", "facility")) == "HOUSE"
    assert m.attribution_key(m.Affiliation(None, None)) == "NONE"
    assert m.attribution_key(m.Affiliation("XK", "university")) == "XK"


def test_shares_of_p1_in_every_mode():
    assert m.shares(P1.team, P1.pi, Mode.PI) == {"DE": 1.0}
    assert m.shares(P1.team, P1.pi, Mode.WHOLE) == {"DE": 1.0, "FR": 1.0, "INTL": 1.0}
    assert m.shares(P1.team, P1.pi, Mode.FRACTIONAL) == {"DE": 0.25, "FR": 0.5, "INTL": 0.25}


@pytest.mark.parametrize(
    "mode, expected",
    [
        (Mode.PI, {"DE": 1, "FR": 1, "IT": 1}),
        (Mode.WHOLE, {"DE": 1, "FR": 2, "INTL": 1, "HOUSE": 1, "IT": 1}),
        (Mode.FRACTIONAL, {"DE": 0.25, "FR": 1.0, "INTL": 0.25, "HOUSE": 0.5, "IT": 1}),
    ],
)
def test_proposals_submitted(mode, expected):
    assert by_key(Unit.PROPOSALS_SUBMITTED, mode) == expected


@pytest.mark.parametrize(
    "mode, expected",
    [
        (Mode.PI, {"DE": 1, "IT": 1}),
        (Mode.WHOLE, {"DE": 1, "FR": 1, "INTL": 1, "IT": 1}),
        (Mode.FRACTIONAL, {"DE": 0.25, "FR": 0.5, "INTL": 0.25, "IT": 1}),
    ],
)
def test_proposals_accepted(mode, expected):
    assert by_key(Unit.PROPOSALS_ACCEPTED, mode) == expected


def test_success_rate_per_mode():
    sub, acc = Unit.PROPOSALS_SUBMITTED, Unit.PROPOSALS_ACCEPTED
    assert m.success_rate(by_key(acc, Mode.PI).get("FR", 0), by_key(sub, Mode.PI)["FR"]) == 0
    assert m.success_rate(by_key(acc, Mode.FRACTIONAL)["FR"], by_key(sub, Mode.FRACTIONAL)["FR"]) == 0.5
    assert m.success_rate(by_key(acc, Mode.WHOLE)["FR"], by_key(sub, Mode.WHOLE)["FR"]) == 0.5
    assert m.success_rate(0, 0) is None


def test_international_teams():
    assert by_key(Unit.INTERNATIONAL_TEAMS, Mode.PI) == {"DE": 1}
    assert by_key(Unit.INTERNATIONAL_TEAMS, Mode.WHOLE) == {"DE": 1, "FR": 1, "INTL": 1}
    assert not m.is_international_team(P2.team)  # FR + the facility's own staff
    assert m.is_international_team(("FR", "INTL"))


@pytest.mark.parametrize(
    "mode, instrument, expected",
    [
        (Mode.PI, 0, {"DE": 12, "FR": 14, "IT": 3}),
        (Mode.WHOLE, 0, {"DE": 12, "FR": 26, "INTL": 12, "HOUSE": 14, "IT": 3}),
        (Mode.FRACTIONAL, 0, {"DE": 3, "FR": 13, "INTL": 3, "HOUSE": 7, "IT": 3}),
        (Mode.FRACTIONAL, ID1, {"DE": 3, "FR": 10, "INTL": 3, "HOUSE": 4}),
        (Mode.FRACTIONAL, ID2, {"FR": 3, "HOUSE": 3, "IT": 3}),
    ],
)
def test_shifts_requested(mode, instrument, expected):
    assert by_key(Unit.SHIFTS_REQUESTED, mode, instrument=instrument) == expected


def test_shifts_awarded():
    assert by_key(Unit.SHIFTS_AWARDED, Mode.FRACTIONAL) == {"DE": 2.25, "FR": 4.5, "INTL": 2.25, "IT": 3}
    assert by_key(Unit.SHIFTS_AWARDED, Mode.PI) == {"DE": 9, "IT": 3}
    assert by_key(Unit.SHIFTS_AWARDED, Mode.WHOLE) == {"DE": 9, "FR": 9, "INTL": 9, "IT": 3}


def test_shifts_delivered_count_in_the_year_they_happen():
    assert by_key(Unit.SHIFTS_DELIVERED, Mode.FRACTIONAL) == {"DE": 1.5, "FR": 3, "INTL": 1.5, "IT": 3}
    assert by_key(Unit.SHIFTS_DELIVERED, Mode.FRACTIONAL, year=2028) == {"DE": 0.5, "FR": 1, "INTL": 0.5}
    assert by_key(Unit.SHIFTS_DELIVERED, Mode.PI) == {"DE": 6, "IT": 3}
    assert by_key(Unit.SHIFTS_DELIVERED, Mode.WHOLE) == {"DE": 6, "FR": 6, "INTL": 6, "IT": 3}
    assert by_key(Unit.EXPERIMENTS_DELIVERED, Mode.PI) == {"DE": 1, "IT": 1}


def test_oversubscription_and_foreign_share_per_instrument():
    requested = {i: sum(by_key(Unit.SHIFTS_REQUESTED, Mode.PI, instrument=i).values()) for i in (ID1, ID2)}
    assert m.oversubscription(requested[ID1], 20) == 1.0
    assert m.oversubscription(requested[ID2], 10) == 0.9
    assert m.oversubscription(5, 0) is None
    frac = {i: by_key(Unit.SHIFTS_REQUESTED, Mode.FRACTIONAL, instrument=i) for i in (0, ID1, ID2)}
    assert m.foreign_share(frac[0], HOST) == pytest.approx(9 / 29)
    assert m.foreign_share(frac[ID1], HOST) == pytest.approx(0.30)
    assert m.foreign_share(frac[ID2], HOST) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "unit, year, expected",
    [
        (Unit.VISITS_ON_SITE, 2027, {"DE": 1, "INTL": 1, "ES": 1}),
        (Unit.REMOTE_PARTICIPATIONS, 2027, {"FR": 1, "IT": 1}),
        (Unit.PERSON_DAYS, 2027, {"DE": 3, "INTL": 3, "ES": 2}),
        (Unit.UNIQUE_USERS, 2027, {"DE": 1, "INTL": 1, "ES": 1, "FR": 1, "IT": 1}),
        (Unit.NEW_USERS, 2027, {"DE": 1, "INTL": 1, "ES": 1, "FR": 1, "IT": 1}),
        (Unit.VISITS_ON_SITE, 2028, {"DE": 1}),
        (Unit.PERSON_DAYS, 2028, {"DE": 2}),
        (Unit.UNIQUE_USERS, 2028, {"DE": 1}),
        (Unit.NEW_USERS, 2028, {}),
    ],
)
@pytest.mark.parametrize("mode", list(Mode))
def test_visit_units_count_the_visitors_own_key_in_every_mode(unit, year, expected, mode):
    assert by_key(unit, mode, year=year) == expected


@pytest.mark.parametrize(
    "mode, expected",
    [
        (Mode.PI, {"DE": 1}),
        (Mode.WHOLE, {"DE": 1, "FR": 1, "INTL": 1}),
        (Mode.FRACTIONAL, {"DE": 0.25, "FR": 0.5, "INTL": 0.25}),
    ],
)
def test_publications_count_in_their_year(mode, expected):
    assert by_key(Unit.PUBLICATIONS, mode, year=2029) == expected
    assert by_key(Unit.PUBLICATIONS, mode, year=2027) == {}


def pairs_of(year):
    rolled = m.pair_rollup(f for p in PROPOSALS if p.year == year for f in m.pair_facts(m.TeamInput(p.year, p.team)))
    return {(a, b): score for (a, b, _y, _i, _r), (_n, score) in rolled.items()}


def test_bilateral_scores_and_country_totals():
    pairs = pairs_of(2027)
    assert pairs == {("DE", "FR"): 0.75, ("DE", "INTL"): 0.5, ("FR", "INTL"): 0.75, ("FR", "HOUSE"): 1.0}
    assert m.bilateral(pairs, "FR", "DE") == m.bilateral(pairs, "DE", "FR") == 0.75
    assert m.collaboration_score(pairs, "FR") == 2.5
    assert m.collaboration_score(pairs, "DE") == 1.25
    assert m.collaboration_score(pairs, "INTL") == 1.25
    assert m.collaboration_score(pairs, "IT") == 0  # alone on P3
    assert m.top_partners(pairs, "FR", 2) == [("HOUSE", 1.0), ("DE", 0.75)]
    assert m.matrix(pairs)["DE"]["FR"] == m.matrix(pairs)["FR"]["DE"]


def test_trend_against_a_base_year():
    series = {2027: m.bilateral(pairs_of(2027), "DE", "FR"), 2028: m.bilateral(pairs_of(2028), "DE", "FR")}
    assert series == {2027: 0.75, 2028: 1.0}
    assert m.change_since(series, 2027, 2028) == pytest.approx(1 / 3)
    assert m.change_since(series, 2026, 2028) is None


def test_fair_return_against_the_same_years_contribution():
    delivered = by_key(Unit.SHIFTS_DELIVERED, Mode.FRACTIONAL)  # standard + rapid access: both peer reviewed
    rows = {r.country: r for r in m.fair_return(delivered, CONTRIBUTIONS_2027, 2027)}
    assert rows["FR"].delivered_share == pytest.approx(1 / 3)
    assert rows["FR"].ratio == pytest.approx((1 / 3) / 0.60)
    assert rows["DE"].ratio == pytest.approx((1.5 / 9) / 0.25)
    assert rows["IT"].ratio == pytest.approx((3 / 9) / 0.15)
    assert "INTL" not in rows  # not a member: shown in the table, no ratio


def test_proposal_counts_once_for_the_facility_and_per_instrument():
    assert sum(by_key(Unit.PROPOSALS_SUBMITTED, Mode.PI, instrument=ID1).values()) == 2
    assert sum(by_key(Unit.PROPOSALS_SUBMITTED, Mode.PI, instrument=ID2).values()) == 2  # P2, P3
    assert sum(by_key(Unit.PROPOSALS_SUBMITTED, Mode.PI).values()) == 3


# --- properties -------------------------------------------------------------------------

KEYS = st.sampled_from(["FR", "DE", "IT", "XK", "INTL", "HOUSE", "NONE"])
TEAMS = st.lists(KEYS, min_size=1, max_size=7)


@given(TEAMS)
def test_fractional_shares_of_a_team_sum_to_one(team):
    assert sum(m.shares(team, team[0], Mode.FRACTIONAL).values()) == pytest.approx(1.0)
    assert sum(m.shares(team, team[0], Mode.PI).values()) == 1.0


@given(TEAMS)
def test_whole_is_at_least_fractional_and_pi_for_every_key(team):
    whole = m.shares(team, team[0], Mode.WHOLE)
    for mode in (Mode.FRACTIONAL, Mode.PI):
        for key, value in m.shares(team, team[0], mode).items():
            assert whole[key] >= value


@given(TEAMS, st.integers(1, 30), st.integers(0, 30))
def test_proposal_totals_per_mode(team, requested, awarded):
    p = m.ProposalInput(1, 2030, "standard", tuple(team), team[0], bool(awarded), {7: requested}, {7: awarded})
    got = m.proposal_facts(p)
    for unit, amount in ((Unit.PROPOSALS_SUBMITTED, 1), (Unit.SHIFTS_REQUESTED, requested)):
        for mode in (Mode.PI, Mode.FRACTIONAL):
            assert sum(f.value(mode) for f in got if f.unit == unit and f.instrument == 0) == pytest.approx(amount)
        assert sum(f.whole for f in got if f.unit == unit and f.instrument == 0) == amount * len(set(team))


@given(st.lists(TEAMS, min_size=1, max_size=6))
def test_bilateral_score_is_symmetric_and_totals_add_up(teams):
    facts = [f for t in teams for f in m.pair_facts(m.TeamInput(2030, tuple(t)))]
    pairs = {(a, b): s for (a, b, *_), (_n, s) in m.pair_rollup(facts).items()}
    keys = {k for t in teams for k in t}
    for a in keys:
        for b in keys:
            assert m.bilateral(pairs, a, b) == m.bilateral(pairs, b, a)
    # every pair counted twice over the countries' totals
    assert sum(m.collaboration_score(pairs, k) for k in keys) == pytest.approx(2 * sum(pairs.values()))
    for a, b in pairs:
        assert a < b


@given(st.dictionaries(KEYS, st.floats(0, 100), min_size=1))
def test_foreign_share_is_a_share(by):
    share = m.foreign_share(by, "FR")
    assert share is None or 0.0 <= share <= 1.0 + 1e-9
