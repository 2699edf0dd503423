"""Pages of the front desk (search, check-in and check-out, "on site now" for roll call,
printable and CSV), invitation letters, and the visitors' feedback with its results."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.extensions import db
from app.facility import queries as facility_queries
from app.visits import queries as visit_queries
from app.visits.desk import permissions, queries, services
from app.visits.desk.forms import CheckInForm, FeedbackForm
from app.visits.guesthouse import queries as guest_queries
from app.visits.models import Visit
from app.visits.status import VisitStatus
from app.web import actions, navigation
from app.web.forms import ConfirmForm
from app.web.messages import message

bp = Blueprint("desk", __name__, template_folder="templates", static_folder="static", url_prefix="/desk")

navigation.register(_l("Front desk"), "desk.index", predicate="can_use_desk", order=63, group=navigation.PROGRAMME)
navigation.register(_l("On site now"), "desk.on_site", predicate="can_use_desk", order=64, group=navigation.PROGRAMME)
navigation.register(
    _l("Visitor feedback"),
    "desk.feedback_results",
    predicate="can_read_feedback_results",
    order=65,
    group=navigation.PROGRAMME,
)
ONSITE_COLUMNS = ["name", "email", "instrument", "proposal", "local_contact", "room", "arrived_at"]


def _csv_safe(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- the desk ---------------------------------------------------------------------------------


def _index(forms=None, status: int = 200):
    now = utcnow()
    text = request.args.get("q", "")
    visits = queries.search(text, now=now)
    forms = forms or {}
    rows = []
    for visit in visits:
        items = visit_queries.visit_checklist(visit, now)
        form = forms.get(visit.id) or CheckInForm(formdata=None, prefix=f"v{visit.id}")
        rows.append((visit, items, all(i.is_green for i in items), queries.presence(visit.id), form))
    return render_template(
        "desk/index.html", rows=rows, q=text, confirm=ConfirmForm(), guest_queries=guest_queries
    ), status


@bp.get("")
@login_required
def index():
    require(permissions.can_use_desk, current_user)
    return _index()


@bp.post("/visits/<int:visit_id>/check-in")
@login_required
def check_in(visit_id: int):
    require(permissions.can_use_desk, current_user)
    form = CheckInForm(prefix=f"v{visit_id}")
    if not form.validate_on_submit():
        flash(_("Your session expired; please try again. Nothing was saved."), "warning")
        return redirect(url_for(".index"))
    try:
        services.check_in(visit_id, override_reason=form.override_reason.data or "", actor=current_user)
    except (ValidationFailed, InvalidState, Conflict) as exc:
        actions.attach_error(form, exc)
        form.override_reason.errors = [*form.override_reason.errors, *form.form_errors]
        form.form_errors = []
        return _index(forms={visit_id: form}, status=exc.status)
    visit = db.session.get(Visit, visit_id)
    flash(_("%(name)s is checked in.", name=visit.user.name), "success")
    return redirect(url_for(".index", q=request.args.get("q", "")))


@bp.post("/visits/<int:visit_id>/check-out")
@login_required
def check_out(visit_id: int):
    require(permissions.can_use_desk, current_user)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".index"))
    try:
        services.check_out(visit_id, actor=current_user)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".index"))
    visit = db.session.get(Visit, visit_id)
    flash(_("%(name)s is checked out.", name=visit.user.name), "success")
    return redirect(url_for(".index", q=request.args.get("q", "")))


# --- on site now ------------------------------------------------------------------------------


def _at() -> datetime:
    """`?at=2027-03-10T14:00` (facility-local) for the roll call at an instant; now otherwise."""
    value = request.args.get("at")
    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return utcnow()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=visit_queries.facility_zone())
    return parsed.astimezone(UTC)


@bp.get("/on-site")
@login_required
def on_site():
    require(permissions.can_use_desk, current_user)
    at = _at()
    return render_template("desk/on_site.html", rows=queries.on_site_at(at), at=at, fixed=bool(request.args.get("at")))


@bp.get("/on-site/rows")
@login_required
def on_site_rows():
    require(permissions.can_use_desk, current_user)
    at = _at()
    return render_template(
        "desk/_on_site_rows.html", rows=queries.on_site_at(at), at=at, fixed=bool(request.args.get("at"))
    )


@bp.get("/on-site.csv")
@login_required
def on_site_csv():
    require(permissions.can_use_desk, current_user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ONSITE_COLUMNS)
    for r in queries.on_site_at(_at()):
        writer.writerow(
            [_csv_safe(v) for v in (r.name, r.email, r.instrument, r.proposal, r.local_contact, r.room)]
            + [r.arrived_at.isoformat()]
        )
    response = Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="on-site.csv"'}
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- invitation letters -----------------------------------------------------------------------


def _letter_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or not permissions.can_read_letter(current_user, visit):
        raise NotFound("visit_not_found")
    if visit.status not in (VisitStatus.APPROVED, VisitStatus.ON_SITE, VisitStatus.COMPLETED) or visit.is_remote:
        raise NotFound("visit_not_found")
    return visit


@bp.get("/visits/<int:visit_id>/letter")
@login_required
def letter(visit_id: int):
    visit = _letter_visit(visit_id)
    facility = facility_queries.find_facility()
    html = render_template(
        "desk/letter.html",
        visit=visit,
        experiment=visit.experiment,
        proposal=visit.experiment.award.proposal,
        facility=facility,
        letterhead=Markup(facility.letterhead) if facility and facility.letterhead else "",  # sanitised when saved
        today=visit_queries.today(utcnow()),
    )
    if request.args.get("format") == "pdf":
        try:
            from weasyprint import HTML  # optional: not in requirements
        except ImportError:
            abort(404)
        pdf = HTML(string=html, base_url=request.host_url).write_pdf()
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="invitation-{visit.id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )
    return html


# --- feedback ---------------------------------------------------------------------------------


def _feedback_page(visit: Visit, form=None, status: int = 200):
    existing = queries.feedback(visit.id)
    if form is None:
        data = {}
        if existing is not None:
            data = {
                "instrument": str(existing.instrument),
                "support": str(existing.support),
                "accommodation": str(existing.accommodation or ""),
                "overall": str(existing.overall),
                "comments": existing.comments,
            }
        form = FeedbackForm(formdata=None, data=data)
    open_now, last_day = queries.feedback_window(visit, utcnow())
    return (
        render_template(
            "desk/feedback.html",
            visit=visit,
            form=form,
            existing=existing,
            open_now=open_now,
            last_day=last_day,
            ask_accommodation=services.stayed_in_guesthouse(visit),
        ),
        status,
    )


@bp.route("/visits/<int:visit_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback(visit_id: int):
    visit = db.session.get(Visit, visit_id)
    if visit is None or not permissions.can_give_feedback(current_user, visit):
        raise NotFound("visit_not_found")
    if request.method == "GET":
        return _feedback_page(visit)
    form = FeedbackForm()
    if not form.validate_on_submit():
        flash(_("Your session expired; please try again. Nothing was saved."), "warning")
        return redirect(url_for(".feedback", visit_id=visit_id))
    data = {
        name: getattr(form, name).data for name in ("instrument", "support", "accommodation", "overall", "comments")
    }
    try:
        services.give_feedback(visit_id, data, actor=current_user)
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _feedback_page(visit, form=form, status=exc.status)
    flash(_("Thank you for your feedback."), "success")
    return redirect(url_for(".feedback", visit_id=visit_id))


@bp.get("/feedback")
@login_required
def feedback_results():
    require(permissions.can_read_feedback_results, current_user)
    rows = queries.feedback_results()
    chart = {
        "labels": [f"{r.instrument} {r.cycle}" for r in rows],
        "series": {
            "instrument": [r.instrument_avg for r in rows],
            "support": [r.support_avg for r in rows],
            "accommodation": [r.accommodation_avg for r in rows],
            "overall": [r.overall_avg for r in rows],
        },
        "names": {
            "instrument": _("Instrument"),
            "support": _("Support"),
            "accommodation": _("Accommodation"),
            "overall": _("Overall"),
        },
    }
    return render_template("desk/feedback_results.html", rows=rows, chart=chart)


@bp.get("/feedback.csv")
@login_required
def feedback_csv():
    require(permissions.can_read_feedback_results, current_user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["cycle", "instrument", "count", "instrument_avg", "support_avg", "accommodation_avg", "overall_avg"]
    )
    for r in queries.feedback_results():
        writer.writerow(
            [_csv_safe(r.cycle), _csv_safe(r.instrument), r.count]
            + ["" if v is None else v for v in (r.instrument_avg, r.support_avg, r.accommodation_avg, r.overall_avg)]
        )
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="feedback.csv"'}
    )
