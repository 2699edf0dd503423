"""Reads of the reports: every figure is a sum over rollup rows (never raw proposals or visits).

`Filters` is shared by the dashboard, the exports and the API. The mode picks the column
(pi / whole / fractional); instruments pick rows by instrument id, none = the facility-wide
rows (instrument 0, a proposal counted once).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, distinct, func, select

from app.accounts import queries as accounts_queries
from app.accounts.models import Institution
from app.core.errors import ValidationFailed
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, Cycle, Instrument
from app.proposals.models import Call
from app.reports import metrics
from app.reports.metrics import Mode, Unit
from app.reports.models import ReportCapacity, ReportPair, ReportRefresh, ReportUsage
from app.reports.rollups import DELIVERED_BASIS, PROPOSALS_BASIS
from app.reviews.models import Award
from app.scheduling.models import Experiment
from app.visits.models import Visit

BASES = (PROPOSALS_BASIS, DELIVERED_BASIS)


@dataclass(frozen=True)
class Filters:
    years: tuple[int, ...] = ()
    cycle_ids: tuple[int, ...] = ()
    instrument_ids: tuple[int, ...] = ()
    routes: tuple[str, ...] = ()
    mode: Mode = Mode.FRACTIONAL
    group_id: int | None = None
    unit: Unit = Unit.PROPOSALS_SUBMITTED
    basis: str = PROPOSALS_BASIS
    base_year: int | None = None
    countries: tuple[str, ...] = field(default=())  # resolved from group_id by `resolve`


def resolve(f: Filters) -> Filters:
    """Fill the country list of the chosen country group (the non-country groups always stay)."""
    if f.group_id is None:
        return f
    codes = tuple(sorted(set(accounts_queries.country_codes_of_group(f.group_id)) | set(metrics.GROUPS)))
    return Filters(**{**f.__dict__, "countries": codes})


def _column(model, mode: Mode):
    return getattr(model, Mode(mode).value)


def _period_where(f: Filters, query):
    """The filters every usage read shares: years, cycles, access routes."""
    if f.years:
        query = query.where(ReportUsage.year.in_(f.years))
    if f.cycle_ids:
        query = query.where(ReportUsage.cycle_id.in_(f.cycle_ids))
    if f.routes:
        query = query.where(ReportUsage.route.in_(f.routes))
    return query


def _usage_where(f: Filters, query, *, unit: str | None = None, units: tuple[str, ...] = (), instruments: bool = True):
    if units:
        query = query.where(ReportUsage.unit.in_(units))
    else:
        query = query.where(ReportUsage.unit == (unit or f.unit))
    query = _period_where(f, query)
    if f.countries:
        query = query.where(ReportUsage.country.in_(f.countries))
    if instruments:
        ids = f.instrument_ids or (metrics.ALL_INSTRUMENTS,)
        query = query.where(ReportUsage.instrument_id.in_(ids))
    return query


def by_country(f: Filters, unit: str | None = None, mode: Mode | None = None) -> dict[str, float]:
    """The chosen unit by attribution key."""
    value = func.sum(_column(ReportUsage, mode or f.mode))
    query = _usage_where(f, select(ReportUsage.country, value).group_by(ReportUsage.country), unit=unit)
    return {country: float(total or 0) for country, total in db.session.execute(query)}


def by_year(f: Filters, unit: str | None = None) -> dict[int, dict[str, float]]:
    """year → key → value (the time series)."""
    value = func.sum(_column(ReportUsage, f.mode))
    query = _usage_where(
        f,
        select(ReportUsage.year, ReportUsage.country, value).group_by(ReportUsage.year, ReportUsage.country),
        unit=unit,
    )
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for year, country, total in db.session.execute(query):
        out[year][country] = float(total or 0)
    return dict(sorted(out.items()))


COUNTRY_TABLE_UNITS = (
    Unit.PROPOSALS_SUBMITTED,
    Unit.PROPOSALS_ACCEPTED,
    Unit.SHIFTS_REQUESTED,
    Unit.SHIFTS_AWARDED,
    Unit.SHIFTS_DELIVERED,
    Unit.INTERNATIONAL_TEAMS,
    Unit.VISITS_ON_SITE,
    Unit.REMOTE_PARTICIPATIONS,
    Unit.PERSON_DAYS,
    Unit.UNIQUE_USERS,
    Unit.NEW_USERS,
    Unit.PUBLICATIONS,
)


def country_table(f: Filters) -> list[dict]:
    """One row per key: every unit in the chosen mode, and the success rate. One query."""
    value = func.sum(_column(ReportUsage, f.mode))
    query = select(ReportUsage.country, ReportUsage.unit, value).group_by(ReportUsage.country, ReportUsage.unit)
    query = _usage_where(f, query, units=tuple(u.value for u in COUNTRY_TABLE_UNITS))
    cells: dict[str, dict[str, float]] = defaultdict(dict)
    for country, unit, total in db.session.execute(query):
        cells[country][unit] = float(total or 0)
    rows = []
    for country, values in cells.items():
        row = {"country": country, **{u.value: values.get(u.value, 0.0) for u in COUNTRY_TABLE_UNITS}}
        row["success_rate"] = metrics.success_rate(row[Unit.PROPOSALS_ACCEPTED], row[Unit.PROPOSALS_SUBMITTED])
        rows.append(row)
    return sorted(rows, key=lambda r: (-r.get(Unit(f.unit).value, 0.0), r["country"]))


def instrument_table(f: Filters, host: str | None) -> list[dict]:
    """Per instrument and cycle: requested shifts, capacity, oversubscription, foreign share
    (fractional requested shifts, whatever the chosen mode: a share is only meaningful there)."""
    query = (
        select(ReportUsage.cycle_id, ReportUsage.instrument_id, ReportUsage.country, func.sum(ReportUsage.fractional))
        .where(ReportUsage.unit == Unit.SHIFTS_REQUESTED, ReportUsage.instrument_id != metrics.ALL_INSTRUMENTS)
        .group_by(ReportUsage.cycle_id, ReportUsage.instrument_id, ReportUsage.country)
    )
    query = _period_where(f, query)
    if f.instrument_ids:
        query = query.where(ReportUsage.instrument_id.in_(f.instrument_ids))
    cells: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for cycle_id, instrument_id, country, total in db.session.execute(query):
        cells[(cycle_id, instrument_id)][country] = float(total or 0)
    capacity = {(c.cycle_id, c.instrument_id): c.shifts for c in db.session.scalars(select(ReportCapacity))}
    cycles = {c.id: c.name for c in facility_queries.list_cycles()}
    codes = dict(db.session.execute(select(Instrument.id, Instrument.code)).all())
    rows = []
    for (cycle_id, instrument_id), by_key in cells.items():
        requested = sum(by_key.values())
        cap = capacity.get((cycle_id, instrument_id))
        rows.append(
            {
                "cycle": cycles.get(cycle_id, str(cycle_id)),
                "instrument": codes.get(instrument_id, str(instrument_id)),
                "requested": requested,
                "capacity": cap,
                "oversubscription": metrics.oversubscription(requested, cap or 0),
                "foreign_share": metrics.foreign_share(by_key, host) if host else None,
            }
        )
    return sorted(rows, key=lambda r: (r["cycle"], r["instrument"]))


def _pairs_query(f: Filters, *columns):
    query = select(*columns).where(ReportPair.basis == f.basis)
    if f.years:
        query = query.where(ReportPair.year.in_(f.years))
    if f.cycle_ids:
        query = query.where(ReportPair.cycle_id.in_(f.cycle_ids))
    if f.routes:
        query = query.where(ReportPair.route.in_(f.routes))
    if f.countries:
        query = query.where(ReportPair.country_a.in_(f.countries) | ReportPair.country_b.in_(f.countries))
    ids = f.instrument_ids or (metrics.ALL_INSTRUMENTS,)
    return query.where(ReportPair.instrument_id.in_(ids))


def pairs(f: Filters) -> dict[tuple[str, str], tuple[float, int]]:
    """(a, b) with a < b → (bilateral score, number of teams)."""
    query = _pairs_query(
        f, ReportPair.country_a, ReportPair.country_b, func.sum(ReportPair.score), func.sum(ReportPair.teams)
    ).group_by(ReportPair.country_a, ReportPair.country_b)
    return {(a, b): (float(s or 0), int(n or 0)) for a, b, s, n in db.session.execute(query)}


def pairs_by_year(f: Filters) -> dict[int, dict[tuple[str, str], float]]:
    query = _pairs_query(
        f, ReportPair.year, ReportPair.country_a, ReportPair.country_b, func.sum(ReportPair.score)
    ).group_by(ReportPair.year, ReportPair.country_a, ReportPair.country_b)
    out: dict[int, dict[tuple[str, str], float]] = defaultdict(dict)
    for year, a, b, score in db.session.execute(query):
        out[year][(a, b)] = float(score or 0)
    return dict(sorted(out.items()))


def collaboration(f: Filters) -> dict:
    """Matrix, country scores with their yearly trend and change since the base year, top partners.

    One pass over the pairs per year: no per-country rescans (120 countries × 20 years stay fast)."""
    found = pairs(f)
    scores = {pair: s for pair, (s, _n) in found.items()}
    full = metrics.matrix(scores)
    keys = sorted(full)
    yearly = pairs_by_year(f)
    years = sorted(yearly)
    base = f.base_year if f.base_year in yearly else (years[0] if years else None)
    per_year = {y: metrics.matrix(yearly[y]) for y in years}
    countries = []
    for key in keys:
        row = full.get(key, {})
        series = {y: sum(per_year[y].get(key, {}).values()) for y in years}
        top = sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        countries.append(
            {
                "country": key,
                "score": sum(row.values()),
                "series": series,
                "change": metrics.change_since(series, base, years[-1]) if base is not None else None,
                "partners": [
                    {
                        "country": partner,
                        "score": score,
                        "series": {y: per_year[y].get(key, {}).get(partner, 0.0) for y in years},
                    }
                    for partner, score in top
                ],
            }
        )
    countries.sort(key=lambda r: (-r["score"], r["country"]))
    return {
        "basis": f.basis,
        "years": years,
        "base_year": base,
        "pairs": [
            {"a": a, "b": b, "score": s, "teams": n}
            for (a, b), (s, n) in sorted(found.items(), key=lambda kv: -kv[1][0])
        ],
        "countries": countries,
        "keys": [c["country"] for c in countries],
        "matrix": full,
    }


def fair_return(f: Filters) -> list[dict]:
    """Members' fair return per year: fractional delivered shifts on peer-reviewed routes over
    the same year's contribution."""
    query = (
        select(ReportUsage.year, ReportUsage.country, func.sum(ReportUsage.fractional))
        .where(
            ReportUsage.unit == Unit.SHIFTS_DELIVERED,
            ReportUsage.instrument_id == metrics.ALL_INSTRUMENTS,
            ReportUsage.route.in_(sorted(metrics.PEER_REVIEWED_ROUTES)),
        )
        .group_by(ReportUsage.year, ReportUsage.country)
    )
    if f.years:
        query = query.where(ReportUsage.year.in_(f.years))
    delivered: dict[int, dict[str, float]] = defaultdict(dict)
    for year, country, total in db.session.execute(query):
        delivered[year][country] = float(total or 0)
    contributions: dict[int, dict[str, float]] = defaultdict(dict)
    for c in facility_queries.list_contributions():
        if not f.years or c.year in f.years:
            contributions[c.year][c.country] = float(c.share)
    rows = []
    for year in sorted(set(delivered) | set(contributions)):
        for r in metrics.fair_return(delivered.get(year, {}), contributions.get(year, {}), year):
            rows.append(
                {
                    "year": r.year,
                    "country": r.country,
                    "delivered_share": r.delivered_share,
                    "contribution_share": r.contribution_share,
                    "ratio": r.ratio,
                }
            )
    return rows


def available_years() -> list[int]:
    return list(db.session.scalars(select(distinct(ReportUsage.year)).order_by(ReportUsage.year)))


def cycles() -> list[Cycle]:
    return facility_queries.list_cycles()


def last_refresh() -> ReportRefresh | None:
    return db.session.scalar(select(ReportRefresh).order_by(ReportRefresh.id.desc()).limit(1))


def host_country() -> str | None:
    facility = facility_queries.find_facility()
    return facility.host_country if facility else None


# --- filters from text (the dashboard's query string and the API's) ----------------------------


def _ints(values, field_name: str) -> tuple[int, ...]:
    out = []
    for value in values or ():
        try:
            year = int(str(value).strip())
        except ValueError:
            raise ValidationFailed("report_year_invalid", field=field_name, value=str(value)) from None
        if not 1900 <= year <= 2200:
            raise ValidationFailed("report_year_invalid", field=field_name, value=str(value))
        out.append(year)
    return tuple(sorted(set(out)))


def _choice(value, allowed, field_name: str):
    if value in (None, ""):
        return None
    if str(value) not in allowed:
        raise ValidationFailed("report_filter_invalid", field=field_name, value=str(value))
    return str(value)


def parse_filters(
    *,
    years=(),
    cycles=(),
    instruments=(),
    routes=(),
    mode=None,
    group=None,
    unit=None,
    basis=None,
    base_year=None,
) -> Filters:
    """Filters from text: years (numbers), cycles (names), instruments (codes), routes, mode,
    country group (name), unit, basis ("proposals" / "delivered"), base year.

    Raises: ValidationFailed naming the field of the first value that is not a valid choice."""
    from app.proposals.models import AccessRoute

    cycle_ids = []
    by_name = {c.name: c.id for c in facility_queries.list_cycles()}
    for name in cycles or ():
        if name not in by_name:
            raise ValidationFailed("report_filter_invalid", field="cycles", value=str(name))
        cycle_ids.append(by_name[name])
    instrument_ids = []
    by_code = dict(db.session.execute(select(Instrument.code, Instrument.id)).all())
    for code in instruments or ():
        if code not in by_code:
            raise ValidationFailed("report_filter_invalid", field="instruments", value=str(code))
        instrument_ids.append(by_code[code])
    for route in routes or ():
        _choice(route, {r.value for r in AccessRoute}, "routes")
    group_id = None
    if group and ("\x00" in str(group) or len(str(group)) > 100):  # never sent to the database as is
        raise ValidationFailed("report_filter_invalid", field="group", value=str(group).replace("\x00", ""))
    if group:
        found = accounts_queries.find_country_group(str(group))
        if found is None:
            raise ValidationFailed("report_filter_invalid", field="group", value=str(group))
        group_id = found.id
    base = _ints([base_year], "base_year")[0] if base_year not in (None, "") else None
    return resolve(
        Filters(
            years=_ints(years, "years"),
            cycle_ids=tuple(sorted(cycle_ids)),
            instrument_ids=tuple(sorted(instrument_ids)),
            routes=tuple(sorted(set(routes or ()))),
            mode=Mode(_choice(mode, {m.value for m in Mode}, "mode") or Mode.FRACTIONAL),
            group_id=group_id,
            unit=Unit(_choice(unit, {u.value for u in Unit}, "unit") or Unit.PROPOSALS_SUBMITTED),
            basis=_choice(basis, set(BASES), "basis") or PROPOSALS_BASIS,
            base_year=base,
        )
    )


# --- the raw visits export (the one read of raw rows: streamed, never aggregated here) ----------

VISIT_EXPORT_COLUMNS = (
    "visit_id",
    "cycle",
    "instrument",
    "route",
    "mode",
    "status",
    "arrives_on",
    "departs_on",
    "country",
    "institution",
    "key",
)


def visit_export_statement():
    """Every visit with its experiment's cycle, instrument and route and the visit's own
    affiliation snapshot and attribution key (no names: visit ids only)."""
    kind = Institution.kind
    key = case(
        (kind == metrics.KIND_INTERNATIONAL, metrics.INTERNATIONAL),
        (kind == metrics.KIND_FACILITY, metrics.IN_HOUSE),
        else_=func.coalesce(Visit.country_code, metrics.UNKNOWN),
    )
    return (
        select(
            Visit.id,
            Cycle.name,
            Instrument.code,
            Call.route,
            Visit.mode,
            Visit.status,
            Visit.arrives_on,
            Visit.departs_on,
            Visit.country_code,
            Visit.institution_name,
            key,
        )
        .join(Booking, Booking.id == Visit.experiment_id)
        .join(Cycle, Cycle.id == Booking.cycle_id)
        .join(Instrument, Instrument.id == Booking.instrument_id)
        .join(Experiment, Experiment.booking_id == Visit.experiment_id)
        .join(Award, Award.id == Experiment.award_id)
        .join(Call, Call.id == Award.call_id)
        .outerjoin(Institution, Institution.id == Visit.institution_id)
        .order_by(Visit.id)
    )


def iter_visit_rows(statement=None, *, batch: int = 5000):
    """The export's rows as plain tuples, streamed in batches (flat memory whatever the number
    of visits): on PostgreSQL from a named (server-side) cursor of the session's connection —
    measured flat where SQLAlchemy's `stream_results` was not (bench B7); elsewhere (SQLite
    reads lazily) through `yield_per`. The statement holds no user input (constants only), so
    it is compiled with its literals for the named cursor.

    On PostgreSQL the cursor is planned for reading every row (`cursor_tuple_fraction` 1, for
    this transaction: the default plans a cursor for its first 10 % and chose nested loops,
    twice as slow as the hash joins COPY uses over 1.1 M visits), and dates arrive as their
    ISO text (what the CSV writes anyway, without a `date` object per cell)."""
    statement = statement if statement is not None else visit_export_statement()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        from psycopg.types.string import TextLoader

        sql = statement if isinstance(statement, str) else str(getattr(statement, "text", None) or "")
        if not sql:
            sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
        with connection.connection.dbapi_connection.cursor(name="reports_visit_export") as cursor:
            cursor.adapters.register_loader("date", TextLoader)
            cursor.itersize = batch
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield from rows
        return
    result = db.session.execute(statement, execution_options={"yield_per": batch})
    for part in result.partitions():
        for row in part:
            yield tuple(v.value if hasattr(v, "value") else v for v in row)


def _copy_statement(limit: int | None = None) -> str:
    """The export's SELECT for PostgreSQL's COPY: text cells NULLIF '' (COPY writes an empty
    string as `""` and NULL as nothing, the csv module writes both as nothing)."""
    from sqlalchemy import String, type_coerce
    from sqlalchemy.dialects import postgresql

    sub = visit_export_statement().subquery()
    columns = [func.nullif(type_coerce(c, String()), "") if isinstance(c.type, String) else c for c in sub.c]
    statement = select(*columns).order_by(sub.c.id).limit(limit)
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def visit_export_csv(*, comments=(), chunk: int = 1 << 16, limit: int | None = None):
    """Every visit as CSV text, streamed in chunks of about `chunk` characters, the `# `
    comments and the header first (`exports.csv_rows` over `iter_visit_rows`).

    On PostgreSQL the rows are PostgreSQL's own CSV (`COPY … TO STDOUT`, streamed as it comes,
    flat memory): the same text the csv module writes for these columns (numbers, ISO dates,
    text quoted when it holds a comma, a quote or a line break), without a Python object per
    cell — bench B7. The statement holds constants only (no user input)."""
    from app.reports import exports

    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        rows = iter_visit_rows(visit_export_statement().limit(limit))
        yield from exports.csv_rows(VISIT_EXPORT_COLUMNS, rows, comments=comments)
        return
    import codecs

    header = exports.csv_rows(VISIT_EXPORT_COLUMNS, (), comments=comments)
    parts = ["".join(header)]
    size = len(parts[0])
    decoder = codecs.getincrementaldecoder("utf-8")()
    with connection.connection.dbapi_connection.cursor() as cursor:
        with cursor.copy(f"COPY ({_copy_statement(limit)}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                text = decoder.decode(block)
                parts.append(text)
                size += len(text)
                if size >= chunk:
                    yield "".join(parts)
                    parts, size = [], 0
    parts.append(decoder.decode(b"", final=True))
    if any(parts):
        yield "".join(parts)
