"""B4 country_dashboard, B5 collaboration_matrix, B6 rollup_refresh, B7 export_csv and B8
row_cost (BENCHMARKS.md, issue 10), on `bench.gen`'s proposals plus the awards, completed
experiments and visits `generate_visits` adds set-based (INSERT … SELECT; M: 200 k visits in
about 80 s; L: awards delivered in two-shift sessions, 1.1 M visits in about 3 minutes).

- B4 ``country_dashboard``: user visits on site by country for every year through
  `app.reports.queries.by_country` against the same sums by hand over `report_usage` (≤ 3×),
  and the live aggregate over the visits (details: speed-up, target ≥ 20× on L).
- B7 ``export_csv``: every visit as CSV, streamed, against `COPY (the same SELECT) TO STDOUT`
  (≤ 3×), with the export's peak RSS in a fresh process at 100 k and 1 M rows (≤ 1.2×).
- B4p ``country_dashboard_proposals``: proposals submitted by country for every year, in the
  three counting modes, through `app.reports.queries.by_country`, against the same sums written
  by hand over `report_usage` (target ≤ 3×). The live aggregate over `proposal_members`
  (shares computed per proposal at request time) is printed as a second baseline in details.
- B5 ``collaboration_matrix``: the country-pair matrix with bilateral scores over all years
  through `app.reports.queries.pairs`, against the live self-join over proposal members
  (fractional shares per proposal, pairs of countries, summed) — target ≤ 0.1×.
- B6 ``rollup_refresh``: the incremental refresh after one cycle's data changed (one cycle
  marked dirty, `refresh_dirty`) against a full rebuild (`rebuild_all`) — target ≤ 0.1×.
- B8 ``row_cost``: the rollups' largest read and the export's rows per row against raw psycopg
  over the same SELECT (≤ 2.5×), and the ORM entities the bulk paths load.

Run: ``python -m bench.reports --size S`` (SQLite) or with BENCH_DATABASE_URL on PostgreSQL
(M, L). Add "bench.reports" to bench.MODULES to run it with the others.
"""

from __future__ import annotations

import statistics
import sys
import time

from sqlalchemy import text

from bench.core import MIN_RUNS, Context, Result, Target, alternate, benchmark, compare


def _app(ctx: Context):
    from bench.gen import make_app

    return make_app(ctx.database_url)


def _ensure_rollups(app) -> None:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.reports import services
    from app.reports.models import ReportUsage

    with app.app_context():
        if not db.session.scalar(select(func.count()).select_from(ReportUsage)):
            services.rebuild_all()


HAND_BY_COUNTRY = (
    "SELECT country, sum({mode}) FROM report_usage "
    "WHERE unit = 'proposals_submitted' AND year = :year AND instrument_id = 0 GROUP BY country"
)

#: fractional share of each country in each submitted proposal, computed live
LIVE_SHARES = (
    "WITH team AS ("
    "  SELECT m.proposal_id, COALESCE(m.country_code, 'NONE') AS country, count(*) OVER (PARTITION BY m.proposal_id) AS n"
    "  FROM proposal_members m JOIN proposals p ON p.id = m.proposal_id"
    "  WHERE p.status NOT IN ('draft', 'withdrawn')"
    "), shares AS ("
    "  SELECT proposal_id, country, count(*) * 1.0 / max(n) AS share FROM team GROUP BY proposal_id, country"
    ")"
)
LIVE_PAIRS = (
    LIVE_SHARES + " SELECT a.country, b.country, sum(a.share + b.share), count(*) FROM shares a "
    "JOIN shares b ON a.proposal_id = b.proposal_id AND a.country < b.country GROUP BY a.country, b.country"
)
LIVE_BY_COUNTRY = (
    LIVE_SHARES + " SELECT s.country, sum(s.share) FROM shares s JOIN proposals p ON p.id = s.proposal_id "
    "JOIN calls c ON c.id = p.call_id JOIN cycles y ON y.id = c.cycle_id GROUP BY s.country"
)


def _years(app) -> list[int]:
    from app.extensions import db
    from app.reports import queries

    with app.app_context():
        years = queries.available_years()
        db.session.remove()
    return years


# --- visits: a set-based generator (BENCHMARKS.md: L ≈ 1.1 M visits, INSERT … SELECT) ----------

VISIT_TARGET = {"S": 10_000, "M": 200_000, "L": 1_100_000}
VISITS_META = "visits-v2"

#: awards for accepted (scheduled, completed) proposals: every request, ¾ of the shifts asked
GEN_AWARDS = """
INSERT INTO awards (request_id, proposal_id, call_id, instrument_id, shifts, basis, long_term, cycles,
                    edit_reason, created_at, withdrawn_reason)
WITH done AS MATERIALIZED (SELECT request_id FROM awards)
SELECT r.id, p.id, p.call_id, r.instrument_id, GREATEST(1, r.shifts * 3 / 4), 'full', false, 1, '', now(), ''
FROM beamtime_requests r JOIN proposals p ON p.id = r.proposal_id
WHERE p.status IN ('accepted', 'scheduled', 'completed')
  AND NOT EXISTS (SELECT 1 FROM done WHERE done.request_id = r.id)
"""
#: each award is delivered in sessions of at most :per_session shifts (S, M: one session per
#: award; L: two-shift sessions, as facilities that split an award into several visits); one
#: completed booking per session, back to back per instrument from its cycle's start, each 8 hours
#: long or shorter when an instrument's sessions would not fit in the cycle otherwise (the
#: bookings of an instrument never overlap, across cycles too)
GEN_BOOKINGS = """
INSERT INTO bookings (instrument_id, cycle_id, kind, status, starts_at, ends_at, title, note, created_at)
SELECT s.instrument_id, s.cycle_id, 'experiment', 'completed',
       s.cycle_start + s.slot * (s.rn - 1), s.cycle_start + s.slot * s.rn,
       'bench-award-' || s.award_id || '-' || s.k || '-' || s.shifts, '', now()
FROM (
  SELECT t.*, interval '1 minute' * LEAST(480, floor(t.minutes / t.n)) AS slot
  FROM (
    SELECT a.id AS award_id, a.instrument_id, c.cycle_id, k.k,
           LEAST(:per_session, a.shifts - :per_session * (k.k - 1)) AS shifts,
           (y.starts_on + time '06:00') AT TIME ZONE 'UTC' AS cycle_start,
           (y.ends_on - y.starts_on) * 1440 AS minutes,
           row_number() OVER (PARTITION BY a.instrument_id, c.cycle_id ORDER BY a.id, k.k) AS rn,
           count(*) OVER (PARTITION BY a.instrument_id, c.cycle_id) AS n
    FROM awards a JOIN calls c ON c.id = a.call_id JOIN cycles y ON y.id = c.cycle_id
    CROSS JOIN LATERAL generate_series(1, GREATEST(1, CAST(ceil(a.shifts / CAST(:per_session AS numeric)) AS int))) AS k(k)
    WHERE NOT EXISTS (SELECT 1 FROM experiments e WHERE e.award_id = a.id)
  ) t
) s
"""
#: delivered: the session's shifts, some lost (0, 1 or 2 by the award and session)
GEN_EXPERIMENTS = """
INSERT INTO experiments (booking_id, award_id, created_at, updated_at, sequence, delivered_shifts, lost_note)
SELECT b.id, split_part(b.title, '-', 3)::int, now(), now(), 0,
       GREATEST(0, split_part(b.title, '-', 5)::int - ((split_part(b.title, '-', 3)::int + split_part(b.title, '-', 4)::int - 1) % 3)),
       ''
FROM bookings b
WHERE b.title LIKE 'bench-award-%' AND b.id NOT IN (SELECT booking_id FROM experiments)
"""
#: shifts per session by size
SESSION_SHIFTS = {"S": 1000, "M": 1000, "L": 2}
#: the team members of each experiment's proposal visit it (a share of them, to reach the
#: size's target): 35 % remote, on site 1–6 nights, with their frozen snapshot as the visit's
GEN_VISITS = """
INSERT INTO visits (experiment_id, user_id, mode, status, institution_id, institution_name, country_code,
                    arrives_on, departs_on, dosimeter_needed, access_status, access_late_days, access_note,
                    reason, created_at, updated_at)
SELECT e.booking_id, m.user_id, v.mode, 'completed', m.institution_id, i.name, m.country_code,
       CASE WHEN v.mode = 'on_site' THEN (b.starts_at AT TIME ZONE 'UTC')::date END,
       CASE WHEN v.mode = 'on_site' THEN (b.starts_at AT TIME ZONE 'UTC')::date + (1 + v.h % 6) END,
       false, 'not_needed', 0, '', '', now(), now()
FROM experiments e
JOIN bookings b ON b.id = e.booking_id
JOIN awards a ON a.id = e.award_id
JOIN proposal_members m ON m.proposal_id = a.proposal_id
LEFT JOIN institutions i ON i.id = m.institution_id
CROSS JOIN LATERAL (SELECT abs(hashtext(e.booking_id || ':' || m.user_id)) AS h) hh
CROSS JOIN LATERAL (SELECT hh.h AS h, CASE WHEN hh.h % 100 < 35 THEN 'remote' ELSE 'on_site' END AS mode) v
WHERE v.h % 10000 < :keep
"""


def generate_visits(app, size: str, log=print) -> int:
    """Awards, completed experiments and visits on top of `bench.gen`'s proposals, set-based
    (idempotent: skipped when this database already holds them)."""
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_meta (key VARCHAR(50) PRIMARY KEY, value TEXT NOT NULL)"))
        done = conn.execute(text("SELECT value FROM bench_meta WHERE key = 'visits'")).scalar()
        if done == f"{VISITS_META} {size}":
            return conn.execute(text("SELECT count(*) FROM visits")).scalar()
        started = time.perf_counter()
        for name, sql in (("awards", GEN_AWARDS), ("bookings", GEN_BOOKINGS), ("experiments", GEN_EXPERIMENTS)):
            n = conn.execute(text(sql), {"per_session": SESSION_SHIFTS[size]}).rowcount
            log(f"  {name}: {n} rows ({time.perf_counter() - started:.1f} s)")
        candidates = conn.execute(
            text(
                "SELECT count(*) FROM experiments e JOIN awards a ON a.id = e.award_id "
                "JOIN proposal_members m ON m.proposal_id = a.proposal_id"
            )
        ).scalar()
        keep = min(10000, int(10000 * VISIT_TARGET[size] / max(candidates, 1)) + 1)
        n = conn.execute(text("DELETE FROM visits")).rowcount
        n = conn.execute(text(GEN_VISITS), {"keep": keep}).rowcount
        log(f"  visits: {n} rows ({time.perf_counter() - started:.1f} s)")
        for table in ("report_usage", "report_pairs", "report_capacity"):  # rebuilt by _ensure_rollups
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text(
                "INSERT INTO bench_meta (key, value) VALUES ('visits', :v) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"v": f"{VISITS_META} {size}"},
        )
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return n


@benchmark("B4p", "country_dashboard_proposals", needs_data=True)
def country_dashboard(ctx: Context) -> Result:
    from app.extensions import db
    from app.reports import queries
    from app.reports.metrics import Mode, Unit

    app = _app(ctx)
    _ensure_rollups(app)
    years = _years(app)

    def run_app() -> float:
        with app.app_context():
            started = time.perf_counter()
            for year in years:
                for mode in Mode:
                    queries.by_country(queries.Filters(years=(year,), mode=mode, unit=Unit.PROPOSALS_SUBMITTED))
            elapsed = time.perf_counter() - started
            db.session.remove()
        return elapsed * 1000

    def run_hand() -> float:
        with app.app_context(), db.engine.connect() as conn:
            started = time.perf_counter()
            for year in years:
                for mode in ("pi", "whole", "fractional"):
                    conn.execute(text(HAND_BY_COUNTRY.format(mode=mode)), {"year": year}).all()
            return (time.perf_counter() - started) * 1000

    def run_live() -> float:
        with app.app_context(), db.engine.connect() as conn:
            started = time.perf_counter()
            conn.execute(text(LIVE_BY_COUNTRY)).all()  # one mode, all years at once: a lower bound
            return (time.perf_counter() - started) * 1000

    run_app(), run_hand()
    app_runs, hand_runs = alternate(run_app, run_hand, ctx.runs)
    live = sorted(run_live() for _ in range(3))[1]
    result = compare(
        "B4p country_dashboard",
        app_runs,
        hand_runs,
        unit="ms",
        target=Target("<=", 3.0),
        details={"live_aggregate_ms": live, "years": len(years)},
    )
    result.note = f"{len(years)} years × 3 modes; live fractional aggregate over members once: {live:.1f} ms"
    return result


@benchmark("B5", "collaboration_matrix", needs_data=True)
def collaboration_matrix(ctx: Context) -> Result:
    from app.extensions import db
    from app.reports import queries

    app = _app(ctx)
    _ensure_rollups(app)

    def run_app() -> float:
        with app.app_context():
            started = time.perf_counter()
            found = queries.pairs(queries.Filters())
            elapsed = time.perf_counter() - started
            assert found
            db.session.remove()
        return elapsed * 1000

    def run_live() -> float:
        with app.app_context(), db.engine.connect() as conn:
            started = time.perf_counter()
            rows = conn.execute(text(LIVE_PAIRS)).all()
            elapsed = time.perf_counter() - started
            assert rows
        return elapsed * 1000

    run_app(), run_live()
    app_runs, live_runs = alternate(run_app, run_live, ctx.runs)
    with app.app_context():
        found = queries.pairs(queries.Filters())
        db.session.remove()
    result = compare(
        "B5 collaboration_matrix",
        app_runs,
        live_runs,
        unit="ms",
        target=Target("<=", 0.1),
        details={"p95_ms": _p95(app_runs), "pairs": len(found)},
    )
    result.note = (
        f"all years, facility rows, proposals basis, {len(found)} pairs; live: self-join of fractional shares "
        f"over members; p95 {_p95(app_runs):.1f} ms"
    )
    return result


@benchmark("B6", "rollup_refresh", needs_data=True)
def rollup_refresh(ctx: Context) -> Result:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.facility.models import Cycle
    from app.reports import services

    app = _app(ctx)
    with app.app_context():
        cycle_id = db.session.scalar(select(Cycle.id).order_by(Cycle.starts_on.desc()).limit(1))
        db.session.remove()

    def run_incremental() -> float:
        with app.app_context():
            services.mark_cycle_dirty(cycle_id)
            db.session.commit()
            started = time.perf_counter()
            report = services.refresh_dirty()
            elapsed = time.perf_counter() - started
            assert report.cycles == 1
            db.session.remove()
        return elapsed * 1000

    def run_full() -> float:
        with app.app_context():
            started = time.perf_counter()
            services.rebuild_all()
            elapsed = time.perf_counter() - started
            db.session.remove()
        return elapsed * 1000

    with app.app_context():
        cycles = db.session.scalar(select(func.count()).select_from(Cycle))
        db.session.remove()
    if ctx.size == "L":
        # a full rebuild of L (60 cycles, 1.1 M visits) takes a quarter of an hour on a busy
        # 2-core machine: one full rebuild between three incremental refreshes (the ratio is
        # far enough from the target for that to decide; the generator's first rebuild is a
        # second figure for the full side)
        inc_runs = [run_incremental()]
        full_runs = [run_full()]
        inc_runs += [run_incremental(), run_incremental()]
    else:
        inc_runs, full_runs = alternate(run_incremental, run_full, max(3, min(ctx.runs, 5)))
    result = compare(
        "B6 rollup_refresh",
        inc_runs,
        full_runs,
        unit="ms",
        target=Target("<=", 0.1),
        details={"cycles": cycles, "one_cycle_of_full_ms": statistics.median(full_runs) / max(cycles, 1)},
    )
    result.note = (
        f"one cycle marked dirty and refreshed vs every cycle ({cycles}) rebuilt; a full rebuild's mean per "
        f"cycle {statistics.median(full_runs) / max(cycles, 1) / 1000:.1f} s"
    )
    return result


HAND_VISITS_BY_COUNTRY = (
    "SELECT country, sum(pi) FROM report_usage "
    "WHERE unit = :unit AND year = :year AND instrument_id = 0 GROUP BY country"
)
#: visits by snapshot key and year of arrival, computed live over the visits (all years at once)
LIVE_VISITS_BY_COUNTRY = """
SELECT CASE WHEN i.kind = 'international_organisation' THEN 'INTL' WHEN i.kind = 'facility' THEN 'HOUSE'
            ELSE COALESCE(v.country_code, 'NONE') END AS key,
       extract(year FROM COALESCE(v.arrives_on, (b.starts_at AT TIME ZONE 'UTC')::date)) AS year, count(*)
FROM visits v JOIN bookings b ON b.id = v.experiment_id LEFT JOIN institutions i ON i.id = v.institution_id
WHERE v.mode = 'on_site' AND v.status IN ('on_site', 'completed')
GROUP BY 1, 2
"""


def _visit_data(ctx: Context):
    app = _app(ctx)
    generate_visits(app, ctx.size, ctx.log)
    _ensure_rollups(app)
    return app


@benchmark("B4", "country_dashboard", needs_data=True)
def country_dashboard_visits(ctx: Context) -> Result:
    """User visits on site by country for every year through `app.reports.queries.by_country`
    (what the dashboard reads) against the same sums by hand over `report_usage` (≤ 3×); the
    live aggregate over the visits is the second baseline (target: ≥ 20× faster than it)."""
    from app.extensions import db
    from app.reports import queries
    from app.reports.metrics import Mode, Unit

    app = _visit_data(ctx)
    years = _years(app)

    def run_app() -> float:
        with app.app_context():
            started = time.perf_counter()
            for year in years:
                queries.by_country(queries.Filters(years=(year,), mode=Mode.PI, unit=Unit.VISITS_ON_SITE))
            elapsed = time.perf_counter() - started
            db.session.remove()
        return elapsed * 1000

    def run_hand() -> float:
        with app.app_context(), db.engine.connect() as conn:
            started = time.perf_counter()
            for year in years:
                conn.execute(text(HAND_VISITS_BY_COUNTRY), {"year": year, "unit": "visits_on_site"}).all()
            return (time.perf_counter() - started) * 1000

    def run_live() -> float:
        with app.app_context(), db.engine.connect() as conn:
            started = time.perf_counter()
            conn.execute(text(LIVE_VISITS_BY_COUNTRY)).all()
            return (time.perf_counter() - started) * 1000

    run_app(), run_hand(), run_live()
    app_runs, hand_runs = alternate(run_app, run_hand, ctx.runs)
    app_live, live_runs = alternate(run_app, run_live, max(3, min(ctx.runs, 5)))
    live = sorted(live_runs)[len(live_runs) // 2]
    app_median = sorted(app_live)[len(app_live) // 2]
    with app.app_context(), db.engine.connect() as conn:
        visits = conn.execute(text("SELECT count(*) FROM visits")).scalar()
    result = compare(
        "B4 country_dashboard",
        app_runs,
        hand_runs,
        unit="ms",
        target=Target("<=", 3.0),
        details={
            "live_aggregate_ms": live,
            "speedup_vs_live": live / app_median,
            "years": len(years),
            "visits": visits,
            "p95_ms": _p95(app_runs + app_live),
        },
    )
    result.note = (
        f"visits on site by country, {len(years)} years, {visits} visits; live aggregate over visits (all years "
        f"at once) {live:.1f} ms = {live / app_median:.1f}× the dashboard read (target ≥ 20×); "
        f"p95 {_p95(app_runs + app_live):.1f} ms"
    )
    return result


def _export_statement_sql(app, multiply: int) -> str:
    """The export's SELECT as PostgreSQL text (for COPY), optionally each row `multiply` times."""
    from sqlalchemy.dialects import postgresql

    from app.reports import queries

    with app.app_context():
        statement = queries.visit_export_statement()
        sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    if multiply > 1:
        sql = f"SELECT s.* FROM ({sql}) s CROSS JOIN generate_series(1, {multiply})"
    return sql


def export_visits(url: str, limit: int) -> tuple[int, int]:
    """Stream `limit` rows of the visits CSV export to nowhere; (bytes written, peak RSS in kB).
    Run in a fresh process so that the peak RSS is this export's."""
    import resource

    from app.extensions import db
    from app.reports import exports, queries

    app = _app(Context(size="M", runs=MIN_RUNS, database_url=url))
    with app.app_context():
        written = 0
        if db.session.scalar(text("SELECT count(*) FROM visits")) >= limit:  # the export itself (L)
            for chunk in queries.visit_export_csv(limit=limit):
                written += len(chunk)
        else:  # fewer visits (M): the row path over the visits repeated
            statement = text(f"{_export_statement_sql(app, 1 + limit // 200_000)} LIMIT {int(limit)}")
            for chunk in exports.csv_rows(queries.VISIT_EXPORT_COLUMNS, queries.iter_visit_rows(statement)):
                written += len(chunk)
    return written, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss_of_export(url: str, limit: int) -> tuple[int, int]:
    import subprocess

    code = f"import sys; from bench.reports import export_visits; print(*export_visits({url!r}, {limit}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    written, rss = out.stdout.split()[-2:]
    return int(written), int(rss)


@benchmark("B7", "export_csv", needs_data=True)
def export_csv(ctx: Context) -> Result:
    """The full visits CSV, streamed (`queries.visit_export_csv`: on PostgreSQL COPY's own CSV
    of the export statement, streamed in chunks), against PostgreSQL `COPY (the same SELECT) TO
    STDOUT` (≤ 3×); details: the row path (`iter_visit_rows`: server-side cursor, tuples, the
    csv module — SQLite's path, and what the export was before) against the same COPY; memory:
    peak RSS of the export in a fresh process at 100 k rows and at 1 M rows (at L the export
    itself; with fewer visits the row path over the visits repeated)."""
    from app.extensions import db
    from app.reports import exports, queries

    app = _visit_data(ctx)
    if db_dialect(app) != "postgresql":
        raise SystemExit("B7 needs PostgreSQL (COPY)")
    copy_sql = _export_statement_sql(app, 1)

    def run_app() -> float:
        with app.app_context():
            started = time.perf_counter()
            written = 0
            for chunk in queries.visit_export_csv():
                written += len(chunk)
            elapsed = time.perf_counter() - started
            db.session.remove()
        return elapsed * 1000

    def run_copy() -> float:
        with app.app_context():
            raw = db.engine.raw_connection()
            try:
                started = time.perf_counter()
                with raw.cursor() as cur, cur.copy(f"COPY ({copy_sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                    written = sum(len(block) for block in copy)
                elapsed = time.perf_counter() - started
                assert written
            finally:
                raw.close()
        return elapsed * 1000

    def run_rows() -> float:
        with app.app_context():
            started = time.perf_counter()
            written = 0
            for chunk in exports.csv_rows(queries.VISIT_EXPORT_COLUMNS, queries.iter_visit_rows()):
                written += len(chunk)
            elapsed = time.perf_counter() - started
            db.session.remove()
        return elapsed * 1000

    runs = max(3, min(ctx.runs, 5))
    app_runs, copy_runs = alternate(run_app, run_copy, runs)
    rows_runs, rows_copy_runs = alternate(run_rows, run_copy, 3)
    rows_ratio = statistics.median(rows_runs) / statistics.median(rows_copy_runs)
    small = _rss_of_export(ctx.database_url, 100_000)
    large = _rss_of_export(ctx.database_url, 1_000_000)
    with app.app_context(), db.engine.connect() as conn:
        visits = conn.execute(text("SELECT count(*) FROM visits")).scalar()
    result = compare(
        "B7 export_csv",
        app_runs,
        copy_runs,
        unit="ms",
        target=Target("<=", 3.0),
        details={
            "visits": visits,
            "rss_100k_kb": small[1],
            "rss_1m_kb": large[1],
            "rss_ratio": large[1] / small[1],
            "row_path_ratio": rows_ratio,
            "row_path_ms": statistics.median(rows_runs),
        },
    )
    result.note = (
        f"{visits} visits; row path (cursor + csv module) {rows_ratio:.2f}× COPY; peak RSS 100 k rows {small[1] / 1024:.0f} MB, 1 M rows {large[1] / 1024:.0f} MB "
        f"(ratio {large[1] / small[1]:.2f}, target ≤ 1.2)"
    )
    return result


def _p95(runs: list[float]) -> float:
    ordered = sorted(runs)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _entity_loads(app, action) -> int:
    """How many ORM entities `action()` loads (the `load` event of every mapped class)."""
    from sqlalchemy import event

    from app.extensions import db

    loads = 0

    def count(_target, _context) -> None:
        nonlocal loads
        loads += 1

    event.listen(db.Model, "load", count, propagate=True)
    try:
        with app.app_context():
            action()
            db.session.remove()
    finally:
        event.remove(db.Model, "load", count)
    return loads


@benchmark("B8", "row_cost", needs_data=True)
def row_cost(ctx: Context) -> Result:
    """The report code's bulk reads per row against raw psycopg rows over the same SELECT:

    - the rollups' largest source read (`rollups.happened_visits_statement`, what a refresh reads
      for the visitors of a cycle) through the session, Core rows with the app's types (enums),
      against the same SQL on a raw psycopg cursor, `fetchall` (the verdict: ≤ 2.5× per row);
    - the visits export's row iteration (`queries.iter_visit_rows`) against a raw psycopg
      server-side cursor over the same SQL (details);
    - ORM entities loaded while one cycle is rebuilt and while the export runs (details: a
      handful for the rebuild — the cycle and its instruments' capacity — and none per row)."""
    from sqlalchemy import func, select
    from sqlalchemy.dialects import postgresql

    from app.extensions import db
    from app.facility.models import Booking
    from app.reports import queries, rollups, services

    app = _visit_data(ctx)
    if db_dialect(app) != "postgresql":
        raise SystemExit("B8 needs PostgreSQL (raw psycopg baseline)")
    with app.app_context():
        per_cycle = db.session.execute(
            select(Booking.cycle_id, func.count())
            .select_from(rollups.Visit)
            .join(Booking, Booking.id == rollups.Visit.experiment_id)
            .group_by(Booking.cycle_id)
            .order_by(Booking.cycle_id.desc())
        ).all()
        chosen, total, rows_wanted = [], 0, {"S": 5_000, "M": 50_000, "L": 100_000}[ctx.size]
        for cycle_id, n in per_cycle:  # the latest cycles, until about `rows_wanted` visits
            chosen.append(cycle_id)
            total += n
            if total >= rows_wanted:
                break
        where = Booking.cycle_id.in_(chosen)
        source_sql = str(
            rollups.happened_visits_statement(where).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
            )
        )
        source_rows = len(rollups._happened_visits(where))
        db.session.remove()
    export_limit = {"S": 10_000, "M": 100_000, "L": 200_000}[ctx.size]
    export_sql = f"{_export_statement_sql(app, 1)} LIMIT {export_limit}"

    def run_source_app() -> float:
        with app.app_context():
            started = time.perf_counter()
            found = rollups._happened_visits(where)
            elapsed = time.perf_counter() - started
            assert len(found) == source_rows
            db.session.remove()
        return elapsed * 1000

    def run_source_raw() -> float:
        with app.app_context():
            raw = db.engine.raw_connection()
            try:
                started = time.perf_counter()
                with raw.cursor() as cur:
                    cur.execute(source_sql)
                    found = cur.fetchall()
                elapsed = time.perf_counter() - started
                assert len(found) == source_rows
            finally:
                raw.close()
        return elapsed * 1000

    def run_export_app() -> float:
        with app.app_context():
            started = time.perf_counter()
            n = sum(1 for _ in queries.iter_visit_rows(text(export_sql)))
            elapsed = time.perf_counter() - started
            assert n
            db.session.remove()
        return elapsed * 1000

    def run_export_raw() -> float:
        with app.app_context():
            raw = db.engine.raw_connection()
            try:
                started = time.perf_counter()
                with raw.cursor(name="bench_raw_export") as cur:
                    cur.itersize = 5000
                    cur.execute(export_sql)
                    n = 0
                    while rows := cur.fetchmany(5000):
                        n += len(rows)
                elapsed = time.perf_counter() - started
                assert n
            finally:
                raw.close()
        return elapsed * 1000

    run_source_app(), run_source_raw()
    source_app, source_raw = alternate(run_source_app, run_source_raw, ctx.runs)
    export_app, export_raw = alternate(run_export_app, run_export_raw, max(3, min(ctx.runs, 5)))
    export_ratio = statistics.median(export_app) / statistics.median(export_raw)
    rebuild_loads = _entity_loads(app, lambda: services.refresh_cycles(chosen[:1]))
    export_loads = _entity_loads(app, lambda: sum(1 for _ in queries.iter_visit_rows(text(export_sql))))
    result = compare(
        "B8 row_cost",
        source_app,
        source_raw,
        unit="ms",
        target=Target("<=", 2.5),
        details={
            "source_rows": source_rows,
            "source_cycles": len(chosen),
            "source_us_per_row_app": statistics.median(source_app) * 1000 / max(source_rows, 1),
            "source_us_per_row_raw": statistics.median(source_raw) * 1000 / max(source_rows, 1),
            "export_rows": export_limit,
            "export_ratio": export_ratio,
            "export_app_ms": statistics.median(export_app),
            "export_raw_ms": statistics.median(export_raw),
            "entities_loaded_rebuild_one_cycle": rebuild_loads,
            "entities_loaded_export": export_loads,
        },
    )
    if export_loads or rebuild_loads > 1_000:
        result.verdict = "MISS"
    result.note = (
        f"rollup source read, {source_rows} visits of {len(chosen)} cycles: "
        f"{statistics.median(source_app) * 1000 / max(source_rows, 1):.2f} µs/row vs raw "
        f"{statistics.median(source_raw) * 1000 / max(source_rows, 1):.2f}; export rows ({export_limit}) "
        f"{export_ratio:.2f}× a raw server-side cursor; ORM entities loaded: rebuild of one cycle "
        f"{rebuild_loads}, export {export_loads}"
    )
    return result


def db_dialect(app) -> str:
    from app.extensions import db

    with app.app_context():
        return db.engine.dialect.name


if __name__ == "__main__":
    import bench
    from bench.__main__ import main

    if "bench.reports" not in bench.MODULES:
        bench.MODULES.append("bench.reports")
    sys.exit(main([*sys.argv[1:], "B4p", "B4", "B5", "B6", "B7", "B8"]))
