"""B2 proposal_page and B3 list_pages (BENCHMARKS.md), in process, against hand-written SQL.

B2: the proposal page (`GET /proposals/<id>`, the team's view: texts, team with affiliation
snapshots, requests, samples, dates, links) through the Flask test client, logged in as the
PI, against the same data read with hand-written SQL on the same engine (no rendering).

B3: the staff list of a call's proposals (`GET /staff/calls/<id>/proposals?page=k`, 50 a page,
the filters' counts, the page's teams and requests), logged in as user-office staff, against
one raw SQL page (the 50 rows with PI, team countries, instruments and shifts) and its count.

Each run requests `PAGES` different pages (or proposals) and reports milliseconds per page.
"""

from __future__ import annotations

import random
import statistics
import time

from sqlalchemy import text

from bench.core import Context, Result, Target, alternate, benchmark, compare

PAGES = 20
PER_PAGE = 50


def _app(ctx: Context):
    from bench.gen import make_app

    app = make_app(ctx.database_url)
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    return app


def _client_as(app, user_id: int):
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        user = db.session.get(User, user_id)
        session_id = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def _sample_proposals(app, n: int, seed: int) -> list[tuple[int, int]]:
    """(proposal id, PI user id) of `n` proposals spread over the data."""
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT p.id, m.user_id FROM proposals p JOIN proposal_members m ON m.proposal_id = p.id "
                "AND m.role = 'pi' JOIN users u ON u.id = m.user_id WHERE u.active ORDER BY p.id"
            )
        ).all()
    return random.Random(seed).sample([tuple(r) for r in rows], n)


PROPOSAL_SQL = [
    (
        "SELECT p.id, p.reference, p.status, p.title, p.abstract, p.subject_area, p.science_case_name, "
        "p.submitted_at, p.updated_at, c.title AS call_title, c.closes_at, c.route, y.name AS cycle "
        "FROM proposals p JOIN calls c ON c.id = p.call_id JOIN cycles y ON y.id = c.cycle_id WHERE p.id = :id"
    ),
    (
        "SELECT m.role, m.institution_name, m.country_code, u.id, u.name, u.email, u.orcid "
        "FROM proposal_members m JOIN users u ON u.id = m.user_id WHERE m.proposal_id = :id ORDER BY m.id"
    ),
    (
        "SELECT r.shifts, r.cycles, r.justification, i.code, i.name, o.name AS mode "
        "FROM beamtime_requests r JOIN instruments i ON i.id = r.instrument_id "
        "LEFT JOIN operating_modes o ON o.id = r.operating_mode_id WHERE r.proposal_id = :id ORDER BY r.id"
    ),
    "SELECT name, formula, form, quantity, hazards, biological_risk_group FROM samples WHERE proposal_id = :id ORDER BY id",
    "SELECT kind, starts_on, ends_on, note FROM proposal_dates WHERE proposal_id = :id ORDER BY kind, starts_on",
    (
        "SELECT e.reference FROM proposal_links l JOIN proposals e ON e.id = l.earlier_id "
        "WHERE l.proposal_id = :id ORDER BY l.earlier_id"
    ),
]


@benchmark("B2", "proposal_page", needs_data=True)
def proposal_page(ctx: Context) -> Result:
    from app.extensions import db

    app = _app(ctx)
    targets = _sample_proposals(app, PAGES, ctx.seed)
    clients = {user_id: _client_as(app, user_id) for _pid, user_id in targets}

    def run_app() -> float:
        started = time.perf_counter()
        for proposal_id, user_id in targets:
            response = clients[user_id].get(f"/proposals/{proposal_id}")
            assert response.status_code == 200, response.status_code
        return (time.perf_counter() - started) * 1000 / len(targets)

    def run_sql() -> float:
        started = time.perf_counter()
        with app.app_context(), db.engine.connect() as conn:
            for proposal_id, _user in targets:
                data = [
                    [dict(row._mapping) for row in conn.execute(text(sql), {"id": proposal_id})] for sql in PROPOSAL_SQL
                ]
                assert data[0], proposal_id
        return (time.perf_counter() - started) * 1000 / len(targets)

    run_app(), run_sql()  # warm up: templates compiled, statements cached, pages in the cache
    app_runs, sql_runs = alternate(run_app, run_sql, ctx.runs)
    result = compare("B2 proposal_page", app_runs, sql_runs, unit="ms/page", target=Target("<=", 2.0))
    result.note = f"{PAGES} proposals per run, PI's view; hand SQL: {len(PROPOSAL_SQL)} statements, no rendering"
    return result


def _page_sql(dialect: str) -> tuple[str, str]:
    concat = "string_agg({0}, ' ' ORDER BY {0})" if dialect == "postgresql" else "group_concat({0}, ' ')"
    page = (
        "SELECT p.id, p.reference, p.status, p.title, p.submitted_at, "
        "(SELECT u.name FROM proposal_members m JOIN users u ON u.id = m.user_id "
        " WHERE m.proposal_id = p.id AND m.role = 'pi') AS pi, "
        f"(SELECT {concat.format('x.country_code')} FROM (SELECT DISTINCT country_code FROM proposal_members "
        " WHERE proposal_id = p.id AND country_code IS NOT NULL) x) AS countries, "
        f"(SELECT {concat.format('i.code')} FROM beamtime_requests r JOIN instruments i ON i.id = r.instrument_id "
        " WHERE r.proposal_id = p.id) AS instruments, "
        "(SELECT sum(r.shifts * r.cycles) FROM beamtime_requests r WHERE r.proposal_id = p.id) AS shifts "
        "FROM proposals p WHERE p.call_id = :call AND p.status <> 'draft' "
        "ORDER BY p.reference, p.id LIMIT :limit OFFSET :offset"
    )
    count = "SELECT count(*) FROM proposals p WHERE p.call_id = :call AND p.status <> 'draft'"
    return page, count


@benchmark("B3", "list_pages", needs_data=True)
def list_pages(ctx: Context) -> Result:
    from app.extensions import db

    app = _app(ctx)
    with app.app_context():
        call_id, total = db.session.execute(
            text(
                "SELECT call_id, count(*) FROM proposals WHERE status <> 'draft' "
                "GROUP BY call_id ORDER BY count(*) DESC, call_id DESC LIMIT 1"
            )
        ).one()
        dialect = db.engine.dialect.name
    pages = max(1, -(-total // PER_PAGE))
    wanted = [1 + (k * 7) % pages for k in range(PAGES)]
    client = _client_as(app, 1)  # user-office staff (bench.gen)
    page_sql, count_sql = _page_sql(dialect)

    def run_app() -> float:
        started = time.perf_counter()
        for page in wanted:
            response = client.get(f"/staff/calls/{call_id}/proposals?page={page}")
            assert response.status_code == 200, response.status_code
        return (time.perf_counter() - started) * 1000 / len(wanted)

    def run_sql() -> float:
        started = time.perf_counter()
        with app.app_context(), db.engine.connect() as conn:
            for page in wanted:
                rows = [
                    dict(r._mapping)
                    for r in conn.execute(
                        text(page_sql), {"call": call_id, "limit": PER_PAGE, "offset": (page - 1) * PER_PAGE}
                    )
                ]
                conn.execute(text(count_sql), {"call": call_id}).scalar()
                assert rows
        return (time.perf_counter() - started) * 1000 / len(wanted)

    run_app(), run_sql()
    app_runs, sql_runs = alternate(run_app, run_sql, ctx.runs)
    result = compare("B3 list_pages", app_runs, sql_runs, unit="ms/page", target=Target("<=", 1.5))
    result.note = f"call of {total} proposals, {PER_PAGE} a page, {PAGES} pages per run; spread {statistics.pstdev(app_runs):.2f} ms"
    return result
