"""B2 proposal_page and B3 list_pages (BENCHMARKS.md), in process, against hand-written SQL.

B2: the proposal page (`GET /proposals/<id>`, the team's view: texts, team with affiliation
snapshots, pending invitations, requests, samples, dates, links, the released decision) through
the Flask test client, logged in as the PI, against the same data read with hand-written SQL on
the same engine and printed as HTML by plain string building (same data, same output).

B3: the staff list of a call's proposals (`GET /staff/calls/<id>/proposals?page=k`, 50 a page:
the call's title, the counts by status, the instrument filter, the page's rows and the total),
logged in as user-office staff, against the same by raw SQL (one statement for the 50 rows with
PI, team countries, instruments and shifts by correlated subqueries) printed the same way.

Why the baselines print: the page's cost is reading AND showing; a baseline that only reads
would charge the app for producing output at all. What the ratio measures is everything the
app adds on top: the request (session, log-in, permission checks), the ORM, forms, Jinja, the
layout with its navigation, translations. See bench/README.md.

Each run requests `PAGES` different pages (or proposals) and reports milliseconds per page; the
app's per-request p95 over all measured runs is given in the note.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.core import Context, Result, Target, alternate, benchmark, compare

PAGES = 20
PER_PAGE = 50


LAYOUT_PATH = "/bench/layout"


def _app(ctx: Context):
    from flask import render_template
    from flask_login import login_required

    from bench.gen import make_app

    app = make_app(ctx.database_url)
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)

    # compiled once, like a template file (render_template_string compiles on every call,
    # which no real page does: it charged the "empty layout page" ~1 ms of Jinja compiling)
    layout = app.jinja_env.from_string('{% extends "base.html" %}{% block content %}{% endblock %}')

    @app.get(LAYOUT_PATH)
    @login_required
    def bench_layout():
        """For information: what any logged-in page costs before it shows anything (the
        request, the session and its person, the layout with its navigation)."""
        return render_template(layout)

    return app


def _floor(client, n: int, runs: int) -> float:
    """Median ms of the empty layout page, as the same person (informational)."""
    client.get(LAYOUT_PATH)
    medians = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(n):
            assert client.get(LAYOUT_PATH).status_code == 200
        medians.append((time.perf_counter() - started) * 1000 / n)
    return sorted(medians)[len(medians) // 2]


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


def _hand_reads(app):
    """The baseline's connection: on PostgreSQL in autocommit, the way the app's read-only pages
    read (`app.web.reads`). Not for speed: a run that ended in a transaction gave its connection
    back with a ROLLBACK, and psycopg drops every statement it has prepared on a connection at
    each ROLLBACK. The baseline and the app share the pool's one idle connection, so each
    baseline run left the app's next requests planning all their statements again (the app's
    page 3.0 → 4.7 ms at M, and the baseline's own 1.7 → 2.5 ms): a cost neither side has once
    warm, which the alternation put on both. See bench/README.md, seventh round."""
    from app.extensions import db

    connection = db.engine.connect()
    if connection.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


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
        "SELECT p.id, p.reference, p.status, p.title, p.abstract, p.subject_area, p.science_case_key, "
        "p.science_case_name, p.science_case_pages, p.science_case_uploaded_at, p.submitted_at, p.updated_at, "
        "c.title AS call_title, c.closes_at, c.route, y.name AS cycle "
        "FROM proposals p JOIN calls c ON c.id = p.call_id JOIN cycles y ON y.id = c.cycle_id WHERE p.id = :id"
    ),
    (
        "SELECT m.role, m.institution_name, m.country_code, u.id, u.name "
        "FROM proposal_members m JOIN users u ON u.id = m.user_id WHERE m.proposal_id = :id ORDER BY m.id"
    ),
    (
        "SELECT r.shifts, r.cycles, r.justification, i.code, o.name AS mode "
        "FROM beamtime_requests r JOIN instruments i ON i.id = r.instrument_id "
        "LEFT JOIN operating_modes o ON o.id = r.operating_mode_id WHERE r.proposal_id = :id ORDER BY r.id"
    ),
    "SELECT name, formula, form, quantity, hazards, biological_risk_group FROM samples WHERE proposal_id = :id ORDER BY id",
    "SELECT kind, starts_on, ends_on, note FROM proposal_dates WHERE proposal_id = :id ORDER BY kind, starts_on",
    (
        "SELECT e.reference, e.title FROM proposal_links l JOIN proposals e ON e.id = l.earlier_id "
        "WHERE l.proposal_id = :id ORDER BY l.earlier_id"
    ),
    (
        "SELECT email, expires_at FROM proposal_invitations WHERE proposal_id = :id AND accepted_at IS NULL "
        "AND revoked_at IS NULL AND expires_at > CURRENT_TIMESTAMP ORDER BY id"
    ),
    "SELECT outcome, released_at FROM decisions WHERE proposal_id = :id",
]


def _when(value, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite hands instants back as text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    return f"{local:%d %b %Y, %H:%M} {local.tzname()}"


def _render_proposal(data: list[list[dict]], user_id: int, zone: ZoneInfo) -> str:
    """The PI's read-only proposal page from the hand-read rows: the same information as the
    app's page body, by string building (what any page has to do to show the data)."""
    (p,), team, requests, samples, dates, links, invitations, decision = data
    if not any(m["id"] == user_id for m in team):  # the same visibility rule: the team sees it
        raise LookupError(p["id"])
    out = [
        f"<h1>{escape(p['reference'] or 'Draft proposal')} <span>{escape(p['status'])}</span></h1>",
        f"<p>{escape(p['call_title'])} · closes {_when(p['closes_at'], zone)}</p>",
    ]
    for d in decision:
        if d["released_at"] is not None:
            out.append(f"<div class='alert'>The decision on this proposal: {escape(d['outcome'])}.</div>")
    out.append(
        f"<dl><dt>Title</dt><dd>{escape(p['title'])}</dd><dt>Subject area</dt><dd>{escape(p['subject_area'] or '')}</dd>"
        f"<dt>Abstract</dt><dd>{escape(p['abstract'])}</dd></dl>"
    )
    if p["science_case_key"]:
        out.append(
            f"<p><a href='/proposals/{p['id']}/science-case'>{escape(p['science_case_name'] or '')}</a> · "
            f"{p['science_case_pages']} pages · uploaded {_when(p['science_case_uploaded_at'], zone)}</p>"
        )
    out.append("<ul>")
    for m in team:
        role = "principal investigator" if m["role"] == "pi" else "co-proposer"
        country = f" ({escape(m['country_code'])})" if m["country_code"] else ""
        out.append(
            f"<li>{escape(m['name'])} · {role} <span>{escape(m['institution_name'] or 'no institution')}{country}</span></li>"
        )
    for i in invitations:
        out.append(f"<li>{escape(i['email'])} · invited, until {_when(i['expires_at'], zone)}</li>")
    out.append("</ul><ul>")
    for r in requests:
        cycles = f" × {r['cycles']} cycles" if r["cycles"] > 1 else ""
        mode = f" · {escape(r['mode'])}" if r["mode"] else ""
        out.append(
            f"<li><strong>{escape(r['code'])}</strong> · {r['shifts']} shifts{cycles}{mode}"
            f"<div>{escape(r['justification'])}</div></li>"
        )
    out.append("</ul><ul>")
    for s in samples:
        formula = f" ({escape(s['formula'])})" if s["formula"] else ""
        hazards = s["hazards"]
        if isinstance(hazards, str):
            hazards = json.loads(hazards)
        listed = ", ".join(
            escape(h) + (f" (risk group {s['biological_risk_group']})" if h == "biological" else "") for h in hazards
        )
        out.append(
            f"<li><strong>{escape(s['name'])}</strong>{formula} · {escape(s['form'])} · {escape(s['quantity'])}"
            f" · hazards: {listed or 'not declared'}</li>"
        )
    out.append("</ul><ul>")
    for d in dates:
        out.append(f"<li>{escape(d['kind'])}: {d['starts_on']} – {d['ends_on']} {escape(d['note'])}</li>")
    out.append("</ul><ul>")
    for link in links:
        out.append(f"<li>{escape(link['reference'] or '')} — {escape(link['title'])}</li>")
    out.append("</ul>")
    return "".join(out)


def _zone(app) -> ZoneInfo:
    from app.web.templating import facility_timezone

    with app.app_context():
        return facility_timezone()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


@benchmark("B2", "proposal_page", needs_data=True)
def proposal_page(ctx: Context) -> Result:

    app = _app(ctx)
    targets = _sample_proposals(app, PAGES, ctx.seed)
    clients = {user_id: _client_as(app, user_id) for _pid, user_id in targets}
    zone = _zone(app)
    latencies: list[float] = []

    def run_app() -> float:
        started = time.perf_counter()
        for proposal_id, user_id in targets:
            one = time.perf_counter()
            response = clients[user_id].get(f"/proposals/{proposal_id}")
            latencies.append((time.perf_counter() - one) * 1000)
            assert response.status_code == 200, response.status_code
        return (time.perf_counter() - started) * 1000 / len(targets)

    def run_sql() -> float:
        started = time.perf_counter()
        with app.app_context(), _hand_reads(app) as conn:
            for proposal_id, user_id in targets:
                data = [
                    [dict(row._mapping) for row in conn.execute(text(sql), {"id": proposal_id})] for sql in PROPOSAL_SQL
                ]
                page = _render_proposal(data, user_id, zone)
                assert page, proposal_id
        return (time.perf_counter() - started) * 1000 / len(targets)

    run_app(), run_sql()  # warm up: templates compiled, statements cached, pages in the cache
    latencies.clear()
    app_runs, sql_runs = alternate(run_app, run_sql, ctx.runs)
    floor = _floor(clients[targets[0][1]], PAGES, ctx.runs)
    result = compare(
        "B2 proposal_page",
        app_runs,
        sql_runs,
        unit="ms/page",
        target=Target("<=", 2.0),
        details={"app_p95_ms": _p95(latencies), "requests": len(latencies), "layout_floor_ms": floor},
    )
    result.note = (
        f"{PAGES} proposals per run, PI's view; app p95 {_p95(latencies):.1f} ms/request; "
        f"hand SQL: {len(PROPOSAL_SQL)} statements + string building; empty layout page {floor:.1f} ms"
    )
    return result


def _page_sql(dialect: str) -> dict[str, str]:
    """The staff list page by hand: call header, offered instruments, counts by status, the page's
    rows (correlated subqueries for PI, countries, requests, shifts) and the filtered total."""
    if dialect == "postgresql":
        countries = (
            "(SELECT string_agg(x.country_code, ' ' ORDER BY x.country_code) FROM (SELECT DISTINCT country_code "
            " FROM proposal_members WHERE proposal_id = p.id AND country_code IS NOT NULL) x)"
        )
        instruments = (
            "(SELECT string_agg(i.code || ' (' || r.shifts || ')', ', ' ORDER BY r.id) FROM beamtime_requests r "
            " JOIN instruments i ON i.id = r.instrument_id WHERE r.proposal_id = p.id)"
        )
    else:  # SQLite < 3.44 has no ORDER BY inside an aggregate: aggregate an ordered subquery
        countries = (
            "(SELECT group_concat(x.country_code, ' ') FROM (SELECT DISTINCT country_code FROM proposal_members "
            " WHERE proposal_id = p.id AND country_code IS NOT NULL ORDER BY country_code) x)"
        )
        instruments = (
            "(SELECT group_concat(x.t, ', ') FROM (SELECT i.code || ' (' || r.shifts || ')' AS t "
            " FROM beamtime_requests r JOIN instruments i ON i.id = r.instrument_id WHERE r.proposal_id = p.id "
            " ORDER BY r.id) x)"
        )
    return {
        "call": "SELECT id, title FROM calls WHERE id = :call",
        "offers": (
            "SELECT i.id, i.code FROM call_instruments ci JOIN instruments i ON i.id = ci.instrument_id "
            "WHERE ci.call_id = :call ORDER BY ci.position"
        ),
        "counts": "SELECT status, count(*) AS n FROM proposals WHERE call_id = :call GROUP BY status ORDER BY status",
        # the page's ids first, then the subqueries for those 50 rows only (with LIMIT/OFFSET
        # over the whole select, PostgreSQL computes them for every row the offset skips)
        "page": (
            "SELECT p.id, p.reference, p.status, p.title, pu.name AS pi, pm.institution_name AS pi_institution, "
            f"{countries} AS countries, {instruments} AS instruments, "
            "(SELECT sum(r.shifts * r.cycles) FROM beamtime_requests r WHERE r.proposal_id = p.id) AS shifts "
            "FROM (SELECT id FROM proposals WHERE call_id = :call AND status <> 'draft' "
            " ORDER BY reference IS NULL, reference, id LIMIT :limit OFFSET :offset) page "
            "JOIN proposals p ON p.id = page.id "
            "LEFT JOIN proposal_members pm ON pm.proposal_id = p.id AND pm.role = 'pi' "
            "LEFT JOIN users pu ON pu.id = pm.user_id "
            "ORDER BY p.reference IS NULL, p.reference, p.id"
        ),
        "total": "SELECT count(*) FROM proposals p WHERE p.call_id = :call AND p.status <> 'draft'",
    }


def _render_list(call: dict, offers: list, counts: list, rows: list[dict], total: int, page: int) -> str:
    """The staff list's body from the hand-read rows, by string building: header, counts,
    instrument filter, the table, the pager (the same information as the app's page)."""
    out = [f"<h1>{escape(call['title'])}</h1><p>"]
    out.extend(f"<span>{escape(status)}: {n}</span>" for status, n in counts)
    out.append("</p><form><select name='instrument'><option value=''>all</option>")
    out.extend(f"<option value='{i}'>{escape(code)}</option>" for i, code in offers)
    out.append(f"</select></form><p>{total} proposals</p><table><tbody>")
    for r in rows:
        institution = f"<br><span>{escape(r['pi_institution'])}</span>" if r["pi_institution"] else ""
        out.append(
            f"<tr><td><a href='/proposals/{r['id']}'>{escape(r['reference'] or 'draft')}</a></td>"
            f"<td>{escape(r['title'])}</td><td>{escape(r['pi'] or '')}{institution}</td>"
            f"<td>{escape(r['countries'] or '')}</td><td>{escape(r['instruments'] or '')}</td>"
            f"<td>{r['shifts'] or 0}</td><td>{escape(r['status'])}</td></tr>"
        )
    out.append(f"</tbody></table><nav>Page {page} of {max(1, -(-total // PER_PAGE))}</nav>")
    return "".join(out)


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
    sql = {name: text(statement) for name, statement in _page_sql(dialect).items()}
    latencies: list[float] = []

    def run_app() -> float:
        started = time.perf_counter()
        for page in wanted:
            one = time.perf_counter()
            response = client.get(f"/staff/calls/{call_id}/proposals?page={page}")
            latencies.append((time.perf_counter() - one) * 1000)
            assert response.status_code == 200, response.status_code
        return (time.perf_counter() - started) * 1000 / len(wanted)

    def run_sql() -> float:
        started = time.perf_counter()
        with app.app_context(), _hand_reads(app) as conn:
            for page in wanted:
                call = dict(conn.execute(sql["call"], {"call": call_id}).one()._mapping)
                offers = conn.execute(sql["offers"], {"call": call_id}).all()
                counts = conn.execute(sql["counts"], {"call": call_id}).all()
                rows = [
                    dict(r._mapping)
                    for r in conn.execute(
                        sql["page"], {"call": call_id, "limit": PER_PAGE, "offset": (page - 1) * PER_PAGE}
                    )
                ]
                found = conn.execute(sql["total"], {"call": call_id}).scalar()
                assert rows and _render_list(call, offers, counts, rows, found, page)
        return (time.perf_counter() - started) * 1000 / len(wanted)

    run_app(), run_sql()
    latencies.clear()
    app_runs, sql_runs = alternate(run_app, run_sql, ctx.runs)
    floor = _floor(client, PAGES, ctx.runs)
    result = compare(
        "B3 list_pages",
        app_runs,
        sql_runs,
        unit="ms/page",
        target=Target("<=", 1.5),
        details={
            "app_p95_ms": _p95(latencies),
            "requests": len(latencies),
            "call_proposals": total,
            "layout_floor_ms": floor,
        },
    )
    result.note = (
        f"call of {total} proposals, {PER_PAGE} a page, {PAGES} pages per run; app p95 {_p95(latencies):.1f} "
        f"ms/request; hand SQL: {len(sql)} statements + string building; empty layout page {floor:.1f} ms"
    )
    return result
