"""Rollups of the worked example (docs/METRICS.md §9) built from the database, and history that
does not move."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.core import events
from app.extensions import db
from app.proposals.events import ProposalSubmitted
from app.reports import queries, services
from app.reports.metrics import Mode, Unit
from app.reports.models import ReportDirtyCycle, ReportPair, ReportUsage
from tests import factories_reports as fr


def rows():
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
        for r in db.session.scalars(select(ReportUsage))
    )
    pairs = sorted(
        (r.cycle_id, r.basis, r.year, r.instrument_id, r.route, r.country_a, r.country_b, r.teams, round(r.score, 9))
        for r in db.session.scalars(select(ReportPair))
    )
    return usage, pairs


def q(**kw):
    return queries.Filters(**kw)


@pytest.fixture
def example():
    ex = fr.make_example()
    services.rebuild_all()
    return ex


def clean(d):
    return {k: round(v, 9) for k, v in d.items() if v}


def test_example_proposals_in_every_mode(example):
    f = q(years=(2027,), unit=Unit.PROPOSALS_SUBMITTED)
    assert clean(queries.by_country(f, mode=Mode.PI)) == {"DE": 1, "FR": 1, "IT": 1}
    assert clean(queries.by_country(f, mode=Mode.WHOLE)) == {"DE": 1, "FR": 2, "INTL": 1, "HOUSE": 1, "IT": 1}
    assert clean(queries.by_country(f, mode=Mode.FRACTIONAL)) == {
        "DE": 0.25,
        "FR": 1,
        "INTL": 0.25,
        "HOUSE": 0.5,
        "IT": 1,
    }
    accepted = q(years=(2027,), unit=Unit.PROPOSALS_ACCEPTED)
    assert clean(queries.by_country(accepted, mode=Mode.FRACTIONAL)) == {"DE": 0.25, "FR": 0.5, "INTL": 0.25, "IT": 1}


def test_example_shifts_and_years(example):
    f = q(years=(2027,), unit=Unit.SHIFTS_REQUESTED, mode=Mode.FRACTIONAL)
    assert clean(queries.by_country(f)) == {"DE": 3, "FR": 13, "INTL": 3, "HOUSE": 7, "IT": 3}
    awarded = q(years=(2027,), unit=Unit.SHIFTS_AWARDED, mode=Mode.FRACTIONAL)
    assert clean(queries.by_country(awarded)) == {"DE": 2.25, "FR": 4.5, "INTL": 2.25, "IT": 3}
    delivered = q(unit=Unit.SHIFTS_DELIVERED, mode=Mode.FRACTIONAL)
    assert {y: clean(v) for y, v in queries.by_year(delivered).items()} == {
        2027: {"DE": 1.5, "FR": 3, "INTL": 1.5, "IT": 3},
        2028: {"DE": 0.5, "FR": 1, "INTL": 0.5},  # E2 ran in January 2028, booked in cycle 2027
    }


def test_example_oversubscription_and_foreign_share(example):
    from tests.factories_reviews import set_capacity

    set_capacity(example.cycles["2027"], example.instruments["ID1"], 20)
    set_capacity(example.cycles["2027"], example.instruments["ID2"], 10)
    services.rebuild_all()
    table = {r["instrument"]: r for r in queries.instrument_table(q(years=(2027,)), "FR")}
    id1, id2 = (table[example.instruments[k].code] for k in ("ID1", "ID2"))
    assert (id1["requested"], id1["capacity"], id1["oversubscription"]) == (20, 20, 1.0)
    assert (id2["requested"], id2["capacity"], id2["oversubscription"]) == (9, 10, 0.9)
    assert id1["foreign_share"] == pytest.approx(0.30)
    assert id2["foreign_share"] == pytest.approx(1 / 3)


def test_example_collaboration_and_trend(example):
    c = queries.collaboration(q(base_year=2027))
    pairs = {(p["a"], p["b"]): round(p["score"], 9) for p in c["pairs"]}
    assert pairs == {("DE", "FR"): 1.75, ("DE", "INTL"): 0.5, ("FR", "INTL"): 0.75, ("FR", "HOUSE"): 1.0}
    de = next(r for r in c["countries"] if r["country"] == "DE")
    assert de["series"] == {2027: 1.25, 2028: 1.0}
    assert de["change"] == pytest.approx(-0.2)
    only_2027 = queries.collaboration(q(years=(2027,)))
    assert next(r for r in only_2027["countries"] if r["country"] == "FR")["score"] == 2.5


def test_example_fair_return(example):
    rows = {(r["year"], r["country"]): r for r in queries.fair_return(q())}
    assert rows[(2027, "FR")]["ratio"] == pytest.approx((3 / 9) / 0.60)
    assert rows[(2027, "DE")]["ratio"] == pytest.approx((1.5 / 9) / 0.25)
    assert rows[(2027, "IT")]["ratio"] == pytest.approx((3 / 9) / 0.15)


def test_a_person_who_moves_after_the_call_closed_changes_no_past_number(example):
    from app.proposals.services.team import refresh_snapshot

    before = rows()
    anna = example.people["anna"]
    fr.move(anna, example.institutions["IT"])
    p1 = example.proposals["P1"]
    p1.affiliations_frozen_at = p1.call.closes_at
    refresh_snapshot(p1, now=p1.call.closes_at)  # frozen: follows no one any more
    db.session.commit()
    services.rebuild_all()
    assert rows() == before


def test_closing_an_account_changes_no_number(example):
    from app.accounts import services as accounts

    before = rows()
    from tests.factories import PASSWORD

    gita = example.people["gita"]
    accounts.close_account(gita.id, PASSWORD, actor=gita)
    assert db.session.get(type(gita), gita.id).closed_at is not None
    services.rebuild_all()
    assert rows() == before


def test_a_submission_marks_its_cycle_dirty_and_the_refresh_catches_up(example):
    call = example.proposals["P4"].call
    late = fr.proposal(call, example.people["gita"], requests={example.instruments["ID1"]: 5})
    events.publish(ProposalSubmitted(late.id, True))
    assert db.session.scalars(select(ReportDirtyCycle.cycle_id)).all() == [call.cycle_id]
    report = services.refresh_dirty()
    assert report.cycles == 1
    assert db.session.scalars(select(ReportDirtyCycle.cycle_id)).all() == []
    f = q(years=(2028,), unit=Unit.PROPOSALS_SUBMITTED, mode=Mode.PI)
    assert clean(queries.by_country(f)) == {"DE": 1, "IT": 1}


IN_2029 = datetime(2029, 9, 1, 12, tzinfo=UTC)


def test_example_visit_units_count_the_visitors_own_snapshot_in_every_mode(example):
    expected_2027 = {
        Unit.VISITS_ON_SITE: {"DE": 1, "INTL": 1, "ES": 1},  # Hugo is not on the team, still counts
        Unit.REMOTE_PARTICIPATIONS: {"FR": 1, "IT": 1},  # Eva's remote visit never completed
        Unit.PERSON_DAYS: {"DE": 3, "INTL": 3, "ES": 2},  # Chen's cancelled visit counts nowhere
        Unit.UNIQUE_USERS: {"DE": 1, "INTL": 1, "ES": 1, "FR": 1, "IT": 1},
        Unit.NEW_USERS: {"DE": 1, "INTL": 1, "ES": 1, "FR": 1, "IT": 1},
    }
    expected_2028 = {
        Unit.VISITS_ON_SITE: {"DE": 1},  # E2 ran in January 2028, booked in cycle 2027
        Unit.REMOTE_PARTICIPATIONS: {},
        Unit.PERSON_DAYS: {"DE": 2},
        Unit.UNIQUE_USERS: {"DE": 1},
        Unit.NEW_USERS: {},  # Anna's first visit ever was in 2027
    }
    for mode in Mode:
        for year, expected in ((2027, expected_2027), (2028, expected_2028)):
            for unit, values in expected.items():
                assert clean(queries.by_country(q(years=(year,), unit=unit), mode=mode)) == values, (year, unit, mode)
    id1 = example.instruments["ID1"].id
    on_id1 = q(years=(2027,), unit=Unit.VISITS_ON_SITE, instrument_ids=(id1,))
    assert clean(queries.by_country(on_id1, mode=Mode.PI)) == {"DE": 1, "INTL": 1, "ES": 1}


def test_a_visitor_who_moves_changes_no_visit_number(example):
    before = rows()
    fr.move(example.people["dora"], example.institutions["DE"])  # the visit keeps its EMBL snapshot
    services.rebuild_all()
    assert rows() == before


def test_a_publication_through_the_outcomes_service_marks_its_cycle_and_counts_in_its_year(example):
    from app.visits.outcomes import services as outcomes

    anna, p1 = example.people["anna"], example.proposals["P1"]
    paper = outcomes.add_publication(
        p1.id,
        doi="10.1234/worked.example",
        title="The worked example",
        year=2029,
        instrument_ids=[example.instruments["ID1"].id],
        actor=anna,
        now=IN_2029,
    )
    assert db.session.scalars(select(ReportDirtyCycle.cycle_id)).all() == [p1.call.cycle_id]
    services.refresh_dirty()
    f = q(years=(2029,), unit=Unit.PUBLICATIONS)
    assert clean(queries.by_country(f, mode=Mode.PI)) == {"DE": 1}
    assert clean(queries.by_country(f, mode=Mode.WHOLE)) == {"DE": 1, "FR": 1, "INTL": 1}
    assert clean(queries.by_country(f, mode=Mode.FRACTIONAL)) == {"DE": 0.25, "FR": 0.5, "INTL": 0.25}
    on_id1 = q(years=(2029,), unit=Unit.PUBLICATIONS, instrument_ids=(example.instruments["ID1"].id,))
    assert clean(queries.by_country(on_id1, mode=Mode.PI)) == {"DE": 1}
    assert clean(queries.by_country(q(years=(2027, 2028), unit=Unit.PUBLICATIONS), mode=Mode.PI)) == {}

    outcomes.remove_publication(paper.id, actor=anna, now=IN_2029)
    assert db.session.scalars(select(ReportDirtyCycle.cycle_id)).all() == [p1.call.cycle_id]
    services.refresh_dirty()
    assert clean(queries.by_country(f, mode=Mode.PI)) == {}


def test_a_visit_decision_through_the_visits_service_marks_the_cycles_of_the_visitor(example):
    from app.accounts.models import Role
    from app.visits import services as visits
    from tests.factories import make_user

    office = make_user(roles=[Role.USER_OFFICE])
    eva = example.visits["eva"]
    visits.decide_visit(eva.id, "complete", actor=office)
    assert db.session.scalars(select(ReportDirtyCycle.cycle_id)).all() == [example.cycles["2027"].id]
    services.refresh_dirty()
    remote = q(years=(2027,), unit=Unit.REMOTE_PARTICIPATIONS)
    assert clean(queries.by_country(remote, mode=Mode.PI)) == {"FR": 2, "IT": 1}
    before = rows()
    services.rebuild_all()
    assert rows() == before


def test_a_person_visiting_experiments_of_two_cycles_in_one_year_is_one_unique_user(example):
    p4 = example.proposals["P4"]
    a4 = fr.award(p4, example.instruments["ID2"], 4)
    e4 = fr.experiment(a4, example.cycles["2028"], datetime(2028, 6, 5, 6, tzinfo=UTC), 24, 4)
    fr.visit(e4, example.people["anna"], arrives_on=date(2028, 6, 5), departs_on=date(2028, 6, 5))
    services.rebuild_all()
    assert clean(queries.by_country(q(years=(2028,), unit=Unit.VISITS_ON_SITE), mode=Mode.PI)) == {"DE": 2}
    assert clean(queries.by_country(q(years=(2028,), unit=Unit.PERSON_DAYS), mode=Mode.PI)) == {"DE": 3}
    assert clean(queries.by_country(q(years=(2028,), unit=Unit.UNIQUE_USERS), mode=Mode.PI)) == {"DE": 1}
    per_instrument = {
        i: clean(
            queries.by_country(q(years=(2028,), unit=Unit.UNIQUE_USERS, instrument_ids=(example.instruments[i].id,)))
        )
        for i in ("ID1", "ID2")
    }
    assert per_instrument == {"ID1": {"DE": 1}, "ID2": {"DE": 1}}  # once on each instrument she used


def test_the_visits_export_streams_every_visit_with_its_snapshot_key(example):
    from app.reports import exports

    found = list(queries.iter_visit_rows(batch=3))
    assert len(found) == len(example.visits)
    keys = {row[0]: row[-1] for row in found}
    assert keys[example.visits["dora"].id] == "INTL" and keys[example.visits["hugo"].id] == "ES"
    text = "".join(exports.csv_rows(queries.VISIT_EXPORT_COLUMNS, found, comments=["All visits"], chunk=2))
    lines = text.splitlines()
    assert lines[0] == "# All visits" and lines[1].startswith("visit_id,cycle,instrument")
    assert len(lines) == 2 + len(example.visits)
    # the same CSV cells on both databases: dates as ISO text, no None
    on_site = next(v for v in example.visits.values() if v.arrives_on is not None)
    line = next(line for line in lines[2:] if line.startswith(f"{on_site.id},"))
    assert f",{on_site.arrives_on.isoformat()},{on_site.departs_on.isoformat()}," in line
    assert "None" not in text


def test_the_visits_csv_is_the_same_text_through_copy_and_through_the_rows(example, db_session):
    """On PostgreSQL the export streams COPY's CSV: it must be the text the csv module writes
    (commas, quotes and line breaks quoted, empty text and NULL alike empty)."""
    from app.reports import exports

    awkward = iter(example.visits.values())
    next(awkward).institution_name = 'Institut "Laue", Langevin\nGrenoble'
    next(awkward).institution_name = ""
    next(awkward).country_code = None
    db_session.flush()
    by_rows = "".join(exports.csv_rows(queries.VISIT_EXPORT_COLUMNS, queries.iter_visit_rows(), comments=["All"]))
    streamed = "".join(queries.visit_export_csv(comments=["All"], chunk=10))
    assert streamed == by_rows
    assert '"Institut ""Laue"", Langevin\nGrenoble"' in streamed
