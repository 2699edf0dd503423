"""Pages of the reports: the directors' dashboard, its CSV/XLSX exports, the annual report page
(and its PDF when WeasyPrint is installed), the staff's "refresh the figures now" button.

Directors, the user office and admins only. Every figure comes from the rollups
(app/reports/queries.py); docs/METRICS.md defines them, and the definitions below travel with
every export.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.accounts import countries
from app.accounts import queries as accounts_queries
from app.core.errors import ValidationFailed
from app.core.permissions import require
from app.facility import queries as facility_queries
from app.proposals.models import AccessRoute
from app.reports import exports, metrics, pdf, permissions, queries, services
from app.reports.metrics import Mode, Unit
from app.web import actions, navigation
from app.web.forms import ConfirmForm
from app.web.messages import message

bp = Blueprint("reports", __name__, template_folder="templates", static_folder="static", url_prefix="/reports")
navigation.register(_l("Reports"), "reports.dashboard", predicate="can_view_reports", order=70)

GEOJSON = "vendor/world-atlas-2.0.2/countries-110m.alpha2.geo.json"


def unit_labels() -> dict[str, str]:
    return {
        Unit.PROPOSALS_SUBMITTED: _("Proposals submitted"),
        Unit.PROPOSALS_ACCEPTED: _("Proposals accepted"),
        Unit.INTERNATIONAL_TEAMS: _("International teams"),
        Unit.SHIFTS_REQUESTED: _("Shifts requested"),
        Unit.SHIFTS_AWARDED: _("Shifts awarded"),
        Unit.SHIFTS_DELIVERED: _("Shifts delivered"),
        Unit.EXPERIMENTS_DELIVERED: _("Experiments delivered"),
        Unit.PUBLICATIONS: _("Publications"),
        Unit.VISITS_ON_SITE: _("User visits (on site)"),
        Unit.REMOTE_PARTICIPATIONS: _("Remote participations"),
        Unit.PERSON_DAYS: _("Person-days on site"),
        Unit.UNIQUE_USERS: _("Unique users"),
        Unit.NEW_USERS: _("New users"),
    }


def mode_labels() -> dict[str, str]:
    return {Mode.PI: _("PI country"), Mode.WHOLE: _("Whole counting"), Mode.FRACTIONAL: _("Fractional counting")}


def route_labels() -> dict[str, str]:
    return {
        AccessRoute.STANDARD: _("Standard"),
        AccessRoute.RAPID_ACCESS: _("Rapid access"),
        AccessRoute.LONG_TERM: _("Long-term"),
        AccessRoute.PROPRIETARY: _("Proprietary"),
    }


def key_name(key: str) -> str:
    if key == metrics.INTERNATIONAL:
        return _("International organisations")
    if key == metrics.IN_HOUSE:
        return _("In-house (facility staff)")
    if key == metrics.UNKNOWN:
        return _("Unknown affiliation")
    return _country_name(key, str(get_locale() or "en"))


@lru_cache(maxsize=8192)
def _country_name(code: str, locale: str) -> str:
    return countries.name(code, locale)  # Babel parses the locale on every call: once per pair here


def definitions(f: queries.Filters) -> list[str]:
    return [
        _("Definitions: docs/METRICS.md. Counting mode: %(mode)s.", mode=mode_labels()[f.mode]),
        _(
            "PI: the PI's country gets the whole unit. Whole: every country on the team counts one. "
            "Fractional: each member carries 1/n of the unit; a country's share is the sum of its members'."
        ),
        _(
            "Attribution by the affiliation snapshot frozen when the call closed (proposal units) or the "
            "visit's own snapshot (visit units), never a person's current profile."
        ),
        _(
            "International organisations count as their own group, never as their seat's country; "
            "the facility's own staff count as in-house."
        ),
        _(
            "Proposals and awards count in the year their cycle starts; delivered shifts, visits and "
            "publications in the year they happen."
        ),
        _(
            "Foreign share: countries other than the host and international organisations, over "
            "everything attributed except unknown affiliations."
        ),
        _("Oversubscription: shifts requested ÷ capacity of the instrument in the cycle."),
        _(
            "Bilateral collaboration score of A and B: over the teams with both, the sum of A's and B's "
            "fractional shares; a country's score is the sum over its partners."
        ),
        _(
            "Fair return: a member's fractional share of delivered shifts on peer-reviewed routes "
            "(standard, rapid access, long-term) ÷ its contribution share of the same year."
        ),
    ]


def _filters() -> tuple[queries.Filters, dict[str, str]]:
    args = request.args
    try:
        return (
            queries.parse_filters(
                years=[y for y in args.getlist("years") if y],
                cycles=[c for c in args.getlist("cycles") if c],
                instruments=[i for i in args.getlist("instruments") if i],
                routes=[r for r in args.getlist("routes") if r],
                mode=args.get("mode"),
                group=args.get("group") or None,
                unit=args.get("unit"),
                basis=args.get("basis"),
                base_year=args.get("base_year"),
            ),
            {},
        )
    except ValidationFailed as exc:
        return queries.Filters(), {exc.field: message(exc)}


def _filters_text(f: queries.Filters) -> str:
    parts = [_("mode: %(mode)s", mode=mode_labels()[f.mode])]
    if f.years:
        parts.append(_("years: %(years)s", years=", ".join(map(str, f.years))))
    if f.routes:
        parts.append(_("routes: %(routes)s", routes=", ".join(f.routes)))
    if f.instrument_ids:
        parts.append(_("instruments: %(n)s chosen", n=len(f.instrument_ids)))
    if f.cycle_ids:
        parts.append(_("cycles: %(n)s chosen", n=len(f.cycle_ids)))
    return "; ".join(parts)


C = exports.Column


def compute(f: queries.Filters) -> dict:
    """The reads one page needs, each done once."""
    return {"by_country": queries.by_country(f), "series": queries.by_year(f), "collab": queries.collaboration(f)}


def build_tables(f: queries.Filters, computed: dict | None = None) -> dict[str, exports.Table]:
    """Every table behind a chart, keyed by its export name."""
    computed = computed or compute(f)
    units = unit_labels()
    defs = definitions(f)
    host = queries.host_country()
    filters = _filters_text(f)
    country_rows = [{**row, "name": key_name(row["country"])} for row in queries.country_table(f)]
    collab = computed["collab"]
    series = computed["series"]
    tables = {
        "countries": exports.Table(
            "countries",
            _("Use of the facility by country"),
            [C("country", _("Code")), C("name", _("Country or group"))]
            + [C(u.value, units[u], "number") for u in queries.COUNTRY_TABLE_UNITS]
            + [C("success_rate", _("Success rate"), "share")],
            country_rows,
            defs,
            filters,
        ),
        "series": exports.Table(
            "series",
            _("%(unit)s by year", unit=units[Unit(f.unit)]),
            [
                C("year", _("Year"), "int"),
                C("country", _("Code")),
                C("name", _("Country or group")),
                C("value", units[Unit(f.unit)], "number"),
            ],
            [
                {"year": year, "country": key, "name": key_name(key), "value": value}
                for year, by_key in series.items()
                for key, value in sorted(by_key.items(), key=lambda kv: -kv[1])
            ],
            defs,
            filters,
        ),
        "instruments": exports.Table(
            "instruments",
            _("Oversubscription and foreign share per instrument and cycle"),
            [
                C("cycle", _("Cycle")),
                C("instrument", _("Instrument")),
                C("requested", _("Shifts requested"), "number"),
                C("capacity", _("Capacity"), "int"),
                C("oversubscription", _("Oversubscription"), "number"),
                C("foreign_share", _("Foreign share"), "share"),
            ],
            queries.instrument_table(f, host),
            defs,
            filters,
        ),
        "pairs": exports.Table(
            "pairs",
            _("Bilateral collaboration scores"),
            [
                C("a", _("Country A")),
                C("b", _("Country B")),
                C("score", _("Bilateral score"), "number"),
                C("teams", _("Shared teams"), "int"),
            ],
            [{**p, "a": key_name(p["a"]), "b": key_name(p["b"])} for p in collab["pairs"]],
            defs,
            filters,
        ),
        "partners": exports.Table(
            "partners",
            _("Collaboration score per country and its top partners"),
            [
                C("country", _("Country or group")),
                C("score", _("Collaboration score"), "number"),
                C("change", _("Change since %(year)s", year=collab["base_year"] or "—"), "share"),
                C("partners", _("Top partners")),
            ],
            [
                {
                    "country": key_name(c["country"]),
                    "score": c["score"],
                    "change": c["change"],
                    "partners": "; ".join(f"{key_name(p['country'])} {p['score']:.2f}" for p in c["partners"]),
                }
                for c in collab["countries"]
            ],
            defs,
            filters,
        ),
        "fair_return": exports.Table(
            "fair_return",
            _("Fair return of the members"),
            [
                C("year", _("Year"), "int"),
                C("name", _("Member")),
                C("delivered_share", _("Share of delivered shifts"), "share"),
                C("contribution_share", _("Contribution share"), "share"),
                C("ratio", _("Fair-return ratio"), "number"),
            ],
            [{**r, "name": key_name(r["country"])} for r in queries.fair_return(f)],
            defs,
            filters,
        ),
    }
    return tables


def _chart_data(f: queries.Filters, tables: dict[str, exports.Table], computed: dict) -> dict:
    by_country = computed["by_country"]
    series = computed["series"]
    drawable = _drawable()
    collab = computed["collab"]
    keys = collab["keys"][:30]
    return {
        "unit": unit_labels()[Unit(f.unit)],
        "map": [
            {"name": k, "value": round(v, 4), "label": key_name(k)} for k, v in by_country.items() if k in drawable
        ],
        "series": {str(y): v for y, v in series.items()},
        "names": {
            k: key_name(k) for k in set(by_country) | set(collab["keys"]) | {k for v in series.values() for k in v}
        },
        "matrix": {
            "keys": keys,
            "cells": [
                [i, j, round(collab["matrix"].get(a, {}).get(b, 0.0), 4)]
                for i, a in enumerate(keys)
                for j, b in enumerate(keys)
                if a != b and collab["matrix"].get(a, {}).get(b)
            ],
        },
        "links": [{"source": p["a"], "target": p["b"], "value": round(p["score"], 4)} for p in collab["pairs"][:60]],
        "fair_return": list(tables["fair_return"].rows),
        "instruments": list(tables["instruments"].rows),
        "geojson": url_for("static", filename=GEOJSON),
    }


_DRAWABLE: set[str] | None = None


def _drawable() -> set[str]:
    """The alpha-2 codes the vendored map has a shape for."""
    global _DRAWABLE
    if _DRAWABLE is None:
        from flask import current_app

        with current_app.open_resource("web/static/" + GEOJSON) as fh:
            _DRAWABLE = {feature["properties"]["name"] for feature in json.load(fh)["features"]}
    return _DRAWABLE


@bp.get("/")
@login_required
def dashboard():
    require(permissions.can_view_reports, current_user)
    f, errors = _filters()
    computed = compute(f)
    tables = build_tables(f, computed)
    by_country = computed["by_country"]
    drawable = _drawable()
    host = queries.host_country()
    not_drawn = sorted(
        ({"key": k, "name": key_name(k), "value": v} for k, v in by_country.items() if k not in drawable),
        key=lambda r: (metrics.is_country(r["key"]), -r["value"]),
    )
    return render_template(
        "reports/dashboard.html",
        f=f,
        errors=errors,
        tables=tables,
        data=_chart_data(f, tables, computed),
        not_drawn=not_drawn,
        total=sum(by_country.values()),
        foreign_share=metrics.foreign_share(by_country, host) if host else None,
        host=host,
        units=unit_labels(),
        modes=mode_labels(),
        routes=route_labels(),
        years=queries.available_years(),
        cycles=facility_queries.list_cycles(),
        instruments=facility_queries.list_instruments(),
        groups=accounts_queries.list_country_groups(),
        export_args=request.args.to_dict(flat=False),
        **_refresh_context(),
    )


# --- refreshing the rollups from the page: a job request the jobs process runs --------------


def _refresh_context() -> dict:
    job = services.find_active_refresh() or services.find_latest_refresh_request()
    return {"refresh_job": job, "last_refresh": queries.last_refresh(), "refresh_form": ConfirmForm()}


def _refresh_fragment(status: int = 200):
    return render_template("reports/_refresh_status.html", **_refresh_context()), status


@bp.get("/refresh")
@login_required
def refresh_status():
    """The refresh's status (polled by htmx while one is queued or running)."""
    require(permissions.can_view_reports, current_user)
    return _refresh_fragment()


@bp.post("/refresh")
@login_required
def refresh():
    """Queue a refresh of the rollups (incremental; `full=1` rebuilds every cycle: admins)."""
    require(permissions.can_refresh_reports, current_user)
    htmx = bool(request.headers.get("HX-Request"))
    if not ConfirmForm().validate_on_submit():
        return _refresh_fragment(400) if htmx else actions.session_expired(url_for(".dashboard"))
    result = services.request_refresh(actor=current_user, full=request.form.get("full") == "1")
    if not htmx:
        if result.queued:
            flash(_("The refresh is queued; the jobs process runs it in a moment."), "info")
        else:
            flash(_("A refresh is already queued or running; nothing more was queued."), "info")
        return redirect(url_for(".dashboard"))
    return _refresh_fragment()


@bp.get("/export/visits.csv")
@login_required
def export_visits():
    """Every visit ever, one row each, streamed (flat memory over 20 years of history; on
    PostgreSQL PostgreSQL's own CSV): the raw material behind the visit units, without names."""
    require(permissions.can_view_reports, current_user)
    stamp = date.today().isoformat()
    comments = [
        _("Beamtime: every visit, one row each (no names), exported %(date)s.", date=stamp),
        _(
            "country and institution: the visit's own affiliation snapshot; key: the country a visit "
            "counts for (%(intl)s international organisations, %(house)s in-house staff, %(none)s unknown).",
            intl=metrics.INTERNATIONAL,
            house=metrics.IN_HOUSE,
            none=metrics.UNKNOWN,
        ),
    ]
    return Response(
        stream_with_context(queries.visit_export_csv(comments=comments)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="beamtime-visits-{stamp}.csv"'},
    )


@bp.get("/export/<name>.<fmt>")
@login_required
def export(name: str, fmt: str):
    """One table (or with name `all`, every table as one workbook) as CSV or XLSX."""
    require(permissions.can_view_reports, current_user)
    f, _errors = _filters()
    tables = build_tables(f)
    stamp = date.today().isoformat()
    if fmt == "xlsx":
        if name != "all" and name not in tables:
            abort(404)
        chosen = list(tables.values()) if name == "all" else [tables[name]]
        body = exports.xlsx_bytes(chosen, definitions_title=_("Definitions"))
        return Response(
            body,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="beamtime-{name}-{stamp}.xlsx"'},
        )
    if fmt == "csv" and name in tables:
        return Response(
            exports.csv_lines(tables[name]),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="beamtime-{name}-{stamp}.csv"'},
        )
    abort(404)


def _annual_context() -> dict:
    years = queries.available_years()
    try:
        year = int(request.args.get("year") or (years[-1] if years else date.today().year))
    except ValueError:
        abort(404)
    if not 1900 <= year <= 2200:
        abort(404)
    mode = request.args.get("mode")
    f = queries.Filters(years=(year,), mode=Mode(mode) if mode in {m.value for m in Mode} else Mode.FRACTIONAL)
    tables = build_tables(f)
    host = queries.host_country()
    by_unit = {u: queries.by_country(f, unit=u) for u in queries.COUNTRY_TABLE_UNITS}
    totals = {u: sum(values.values()) for u, values in by_unit.items()}
    submitted = by_unit[Unit.PROPOSALS_SUBMITTED]
    charts = [
        (unit_labels()[unit], bars(by_unit[unit]))
        for unit in (Unit.PROPOSALS_SUBMITTED, Unit.SHIFTS_DELIVERED, Unit.VISITS_ON_SITE)
    ]
    return {
        "year": year,
        "years": years,
        "f": f,
        "tables": tables,
        "totals": totals,
        "units": unit_labels(),
        "modes": mode_labels(),
        "foreign_share": metrics.foreign_share(submitted, host) if host else None,
        "facility": facility_queries.facility_name(),
        "charts": [(title, rows) for title, rows in charts if rows],
        "fair_return_bars": bars(
            {r["name"]: r["ratio"] for r in tables["fair_return"].rows if r.get("ratio") is not None}, named=True
        ),
        "pdf_available": pdf.available(),
    }


def bars(values: dict[str, float], *, top: int = 12, named: bool = False) -> list[dict]:
    """The biggest values as rows of a server-drawn SVG bar chart (print and PDF: no JavaScript)."""
    chosen = sorted(((k, v) for k, v in values.items() if v), key=lambda kv: -kv[1])[:top]
    biggest = max((v for _k, v in chosen), default=0) or 1
    return [{"label": k if named else key_name(k), "value": v, "width": round(300 * v / biggest, 1)} for k, v in chosen]


@bp.get("/annual")
@login_required
def annual():
    """The printable annual report of one year (print stylesheet)."""
    require(permissions.can_view_reports, current_user)
    return render_template("reports/annual.html", **_annual_context())


def _static_folders() -> dict[str, str]:
    """URL prefix → folder of the app's static files and its blueprints' (for the PDF)."""
    folders: dict[str, str] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint == "static":
            folder = current_app.static_folder
        elif rule.endpoint.endswith(".static"):
            blueprint = current_app.blueprints.get(rule.endpoint.rsplit(".", 1)[0])
            folder = blueprint.static_folder if blueprint else None
        else:
            continue
        if folder:
            folders[rule.rule.split("<", 1)[0]] = folder
    return folders


@bp.get("/annual.pdf")
@login_required
def annual_pdf():
    """The annual report page as a PDF (WeasyPrint, print stylesheet); 404 when not installed."""
    require(permissions.can_view_reports, current_user)
    if not pdf.available():
        text = _("PDF export is not available here: WeasyPrint is not installed. Use your browser's Print command.")
        return render_template("errors/404.html", message=text, status=404), 404
    context = _annual_context()
    html = render_template("reports/annual.html", **context)
    body = pdf.render(html, base_url=request.url, static=_static_folders())
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="beamtime-annual-report-{context["year"]}.pdf"'},
    )
