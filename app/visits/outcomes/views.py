"""Pages of experiment reports and publications, and what this package puts in lower
domains' page slots: the proposal page links to its publications; the review pages show the
PI's overdue experiment reports (DESIGN.md §4 rule 6)."""

from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from app.core.db import utcnow
from app.core.errors import InvalidState, ValidationFailed
from app.core.permissions import require
from app.proposals import storage
from app.proposals.permissions import can_view_proposal
from app.proposals.services import get_visible_proposal
from app.visits.outcomes import permissions, queries, services
from app.visits.outcomes.forms import PublicationForm, ReportForm, ReportPdfForm
from app.visits.outcomes.queries import ReportState
from app.web import actions, navigation
from app.web.forms import ConfirmForm

bp = Blueprint("outcomes", __name__, template_folder="templates")

navigation.register(_l("Experiment reports"), "outcomes.my_reports", order=40)
navigation.register(
    _l("Experiment reports"),
    "outcomes.staff_reports",
    predicate="can_list_reports",
    order=60,
    group=navigation.PROGRAMME,
)
navigation.register(_l("Publications"), "outcomes.publications", predicate="can_read_publications", order=45)

STATE_LABELS = {
    ReportState.NOT_ENDED: _l("experiment not ended"),
    ReportState.CANCELLED: _l("experiment cancelled"),
    ReportState.DUE: _l("due"),
    ReportState.OVERDUE: _l("overdue"),
    ReportState.SUBMITTED: _l("submitted"),
}
STATE_BADGES = {
    ReportState.NOT_ENDED: "text-bg-secondary",
    ReportState.CANCELLED: "text-bg-secondary",
    ReportState.DUE: "text-bg-warning",
    ReportState.OVERDUE: "text-bg-danger",
    ReportState.SUBMITTED: "text-bg-success",
}


@bp.app_template_global()
def report_state_label(state) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.app_template_global()
def report_state_badge(state) -> str:
    return STATE_BADGES.get(state, "text-bg-secondary")


def _expired(endpoint: str, **values):
    flash(_("Your session expired; please try again. Nothing was saved."), "warning")
    return redirect(url_for(endpoint, **values))


# --- experiment reports --------------------------------------------------------------------


def _render_report(experiment, form=None, pdf_form=None, status: int = 200):
    now = utcnow()
    report = queries.find_report(experiment.booking_id)
    if form is None:
        form = ReportForm(formdata=None, data={"body": report.body_html if report else ""})
    return (
        render_template(
            "outcomes/report.html",
            experiment=experiment,
            proposal=experiment.award.proposal,
            report=report,
            state=queries.state_of(experiment, report, now),
            due_at=queries.due_at(experiment),
            form=form,
            pdf_form=pdf_form or ReportPdfForm(formdata=None),
            can_write=permissions.can_write_report(current_user, experiment),
            limits=services.pdf_limits(),
        ),
        status,
    )


@bp.get("/experiments/<int:experiment_id>/report")
@login_required
def report(experiment_id: int):
    return _render_report(services.get_readable_experiment(experiment_id, current_user))


@bp.post("/experiments/<int:experiment_id>/report")
@login_required
def save_report(experiment_id: int):
    experiment = services.get_readable_experiment(experiment_id, current_user)
    form = ReportForm()
    if not form.validate_on_submit():
        return _expired(".report", experiment_id=experiment_id)
    submit = request.form.get("action") == "submit"
    return actions.saved(
        form,
        lambda: services.save_report(experiment_id, form.body.data or "", submit=submit, actor=current_user),
        rerender=lambda form, _status: _render_report(experiment, form=form, status=422),
        done=_("Your report is submitted. Thank you.") if submit else _("Draft saved."),
        then=url_for(".report", experiment_id=experiment_id),
    )


@bp.post("/experiments/<int:experiment_id>/report/pdf")
@login_required
def upload_report_pdf(experiment_id: int):
    experiment = services.get_readable_experiment(experiment_id, current_user)
    form = ReportPdfForm()
    if not form.validate_on_submit():
        return _expired(".report", experiment_id=experiment_id)
    data, filename = actions.uploaded(form.pdf.data, services.pdf_limits().max_bytes)
    return actions.saved(
        form,
        lambda: services.upload_report_pdf(
            experiment_id, data, filename, upload_dir=current_app.config["UPLOAD_DIR"], actor=current_user
        ),
        rerender=lambda form, _status: _render_report(experiment, pdf_form=form, status=422),
        done=_("Your report is submitted. Thank you."),
        then=url_for(".report", experiment_id=experiment_id),
    )


@bp.get("/experiments/<int:experiment_id>/report.pdf")
@login_required
def report_pdf(experiment_id: int):
    experiment = services.get_readable_experiment(experiment_id, current_user)
    report = queries.find_report(experiment_id)
    if report is None or not report.pdf_key:
        abort(404)
    handle = storage.open_file(current_app.config["UPLOAD_DIR"], report.pdf_key)
    reference = experiment.award.proposal.reference or f"experiment-{experiment_id}"
    response = send_file(
        handle,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{reference}-report-{experiment_id}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/experiment-reports/mine")
@login_required
def my_reports():
    rows = queries.reports_of_member(current_user.id, utcnow())
    return render_template("outcomes/my_reports.html", rows=rows)


@bp.get("/experiment-reports")
@login_required
def staff_reports():
    require(permissions.can_list_reports, current_user)
    overdue_only = request.args.get("overdue") == "1"
    rows = queries.reports_for_staff(utcnow(), overdue_only=overdue_only)
    return render_template("outcomes/staff_reports.html", rows=rows, overdue_only=overdue_only)


# --- publications --------------------------------------------------------------------------


def _publication_form(proposal, formdata=None) -> PublicationForm:
    form = PublicationForm(formdata=formdata)
    instruments = {r.instrument_id: r.instrument for r in proposal.requests}
    form.instrument_ids.choices = [(i.id, f"{i.code} — {i.name}") for i in instruments.values()]
    return form


def _render_proposal_publications(proposal, form=None, status: int = 200):
    return (
        render_template(
            "outcomes/proposal_publications.html",
            proposal=proposal,
            publications=queries.publications_of_proposal(proposal.id),
            form=form or _publication_form(proposal),
            can_add=permissions.can_add_publication(current_user, proposal),
            remove_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/proposals/<int:proposal_id>/publications")
@login_required
def proposal_publications(proposal_id: int):
    return _render_proposal_publications(get_visible_proposal(proposal_id, current_user))


@bp.post("/proposals/<int:proposal_id>/publications")
@login_required
def add_publication(proposal_id: int):
    proposal = get_visible_proposal(proposal_id, current_user)
    require(permissions.can_add_publication, current_user, proposal)
    form = _publication_form(proposal, formdata=request.form)
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".proposal_publications", proposal_id=proposal_id)
    form.instrument_ids.errors = []  # the service says which instruments it refuses
    try:
        publication = services.add_publication(
            proposal_id,
            doi=form.doi.data,
            title=form.title.data,
            year=form.year.data,
            journal=form.journal.data,
            instrument_ids=request.form.getlist("instrument_ids"),
            actor=current_user,
        )
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _render_proposal_publications(proposal, form, 422)
    flash(_("Publication %(doi)s added.", doi=publication.doi), "success")
    return redirect(url_for(".proposal_publications", proposal_id=proposal_id))


@bp.post("/publications/<int:publication_id>/remove")
@login_required
def remove_publication(publication_id: int):
    require(permissions.can_read_publications, current_user)
    queries.get_publication(publication_id)  # 404 before anything else
    back = request.form.get("next") or ""
    if not ConfirmForm().validate_on_submit():
        return _expired(".publications")
    services.remove_publication(publication_id, actor=current_user)
    flash(_("Publication removed."), "success")
    if re.fullmatch(r"/proposals/\d+/publications", back):  # only our own pages: no open redirect
        return redirect(back)
    return redirect(url_for(".publications"))


@bp.get("/instruments/<int:instrument_id>/publications")
@login_required
def instrument_publications(instrument_id: int):
    require(permissions.can_read_publications, current_user)
    instrument = queries.get_instrument(instrument_id)
    return render_template(
        "outcomes/publications.html",
        instrument=instrument,
        publications=queries.publications_of_instrument(instrument_id),
    )


@bp.get("/publications")
@login_required
def publications():
    require(permissions.can_read_publications, current_user)
    return render_template("outcomes/publications.html", instrument=None, publications=queries.all_publications())


EXPORT_COLUMNS = ["doi", "title", "year", "journal", "proposals", "instruments"]


def _csv_safe(value):
    """A typed title like "=HYPERLINK(…)" must stay text in a spreadsheet (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_rows(publications) -> list[dict]:
    return [
        {
            "doi": p.doi,
            "title": p.title,
            "year": p.year,
            "journal": p.journal,
            "proposals": " ".join(sorted(x.reference or f"#{x.id}" for x in p.proposals)),
            "instruments": " ".join(sorted(i.code for i in p.instruments)),
        }
        for p in publications
    ]


@bp.get("/publications.<any(csv, xlsx):fmt>")
@login_required
def publications_export(fmt: str):
    require(permissions.can_read_publications, current_user)
    instrument_id = request.args.get("instrument", type=int)
    name = "publications"
    if instrument_id is not None:
        name = f"publications-{queries.get_instrument(instrument_id).code}"
    rows = export_rows(queries.all_publications(instrument_id=instrument_id))
    name = re.sub(r"[^0-9A-Za-z._-]+", "-", name).strip("-")
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("publications")
    bold = workbook.add_format({"bold": True})
    for col, title in enumerate(EXPORT_COLUMNS):
        sheet.write(0, col, title, bold)
    for number, row in enumerate(rows, start=1):
        for col, key in enumerate(EXPORT_COLUMNS):
            sheet.write(number, col, row[key])
    sheet.freeze_panes(1, 0)
    workbook.close()
    output.seek(0)
    return send_file(
        output,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{name}.xlsx",
    )


# --- page slots of lower domains -----------------------------------------------------------


def overdue_notice(*, actor, proposal):
    """On the review pages: the PI's overdue experiment reports (other proposals than this one)."""
    pi = proposal.pi
    if pi is None:
        return None
    overdue = queries.overdue_reports_of_pi(pi.user_id, utcnow(), exclude_proposal_id=proposal.id)
    if not overdue:
        return None
    items = Markup("").join(
        Markup("<li>{}</li>").format(
            _(
                "%(ref)s on %(instrument)s: due %(due)s",
                ref=o.reference,
                instrument=o.instrument,
                due=o.due_at.strftime("%Y-%m-%d"),
            )
        )
        for o in overdue
    )
    heading = _("The PI has %(n)s overdue experiment report(s):", n=len(overdue))
    return Markup('<div class="outcomes-overdue"><strong>{}</strong><ul class="mb-0">{}</ul></div>').format(
        heading, items
    )


def publications_notice(*, actor, proposal, facts=None):
    """On the proposal page: a link to its publications (the count comes with the proposal,
    `queries.publications_count_of`, or is read here when it did not)."""
    if proposal.status.value in ("draft", "withdrawn") or not can_view_proposal(actor, proposal):
        return None
    if facts is not None and "publications" in facts:
        count = facts["publications"] or 0
    else:
        count = queries.count_publications_of_proposal(proposal.id)
    text = _("Publications of this proposal: %(n)s.", n=count)
    link = url_for("outcomes.proposal_publications", proposal_id=proposal.id)
    return Markup('<a class="alert-link" href="{}">{}</a>').format(link, escape(text))


def init_app(app) -> None:
    from app.core import events
    from app.proposals import queries as proposal_queries
    from app.proposals.views import NOTICES_SLOT
    from app.reviews.views import PI_RECORD_SLOT

    proposal_queries.add_page_fact("publications", queries.publications_count_of)
    events.fill_slot(PI_RECORD_SLOT, overdue_notice)
    events.fill_slot(NOTICES_SLOT, publications_notice)
