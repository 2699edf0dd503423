"""Pages of the guesthouse: rooms, visitors waiting for a bed (by hand or automatically), the
occupancy per night and per room, and the visitor's answers about sharing and accessibility."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.core.db import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.permissions import require
from app.extensions import db
from app.visits import queries as visit_queries
from app.visits.guesthouse import permissions, queries, services
from app.visits.guesthouse.forms import BookBedForm, RoomForm, StayForm
from app.visits.models import Visit
from app.web import actions, navigation
from app.web.forms import ConfirmForm

bp = Blueprint("guesthouse", __name__, template_folder="templates", url_prefix="/guesthouse")

navigation.register(
    _l("Guesthouse"), "guesthouse.index", predicate="can_manage_guesthouse", order=62, group=navigation.PROGRAMME
)
KIND_LABELS = {"single": _l("single"), "shared": _l("shared"), "accessible": _l("accessible")}
MAX_DAYS = 62


def _bed_choices() -> list[tuple[str, str]]:
    return [
        (str(b.id), f"{b.full_label} ({KIND_LABELS[r.kind.value]})")
        for r in queries.list_rooms(active_only=True)
        for b in r.beds
    ]


def _index(room_form=None, book_forms=None, status: int = 200):
    now = utcnow()
    waiting = queries.visits_needing_beds(today=visit_queries.today(now))
    forms = book_forms or {}
    for visit, _missing in waiting:
        if visit.id not in forms:
            form = BookBedForm(formdata=None, prefix=f"v{visit.id}")
            form.bed_id.choices = _bed_choices()
            forms[visit.id] = form
    return (
        render_template(
            "guesthouse/index.html",
            rooms=queries.list_rooms(),
            kind_labels=KIND_LABELS,
            waiting=[(v, m, queries.preference(v.id), queries.nights_of(v.id)) for v, m in waiting],
            book_forms=forms,
            room_form=room_form or RoomForm(formdata=None),
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.get("")
@login_required
def index():
    require(permissions.can_manage_guesthouse, current_user)
    return _index()


@bp.post("/rooms")
@login_required
def create_room():
    require(permissions.can_manage_guesthouse, current_user)
    form = RoomForm()
    if not form.validate_on_submit():
        flash(_("Your session expired; please try again. Nothing was saved."), "warning")
        return redirect(url_for(".index"))
    try:
        services.create_room(
            form.name.data or "", form.kind.data or "", form.beds.data, note=form.note.data or "", actor=current_user
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _index(room_form=form, status=422)
    flash(_("Room added."), "success")
    return redirect(url_for(".index"))


@bp.post("/assign")
@login_required
def assign():
    require(permissions.can_manage_guesthouse, current_user)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".index"))
    result = services.assign_automatically(actor=current_user)
    flash(
        _(
            "%(placed)s night(s) placed; %(unplaced)s could not be placed.",
            placed=result.placed_nights,
            unplaced=len(result.unplaced),
        ),
        "success" if not result.unplaced else "warning",
    )
    return redirect(url_for(".index"))


@bp.post("/visits/<int:visit_id>/beds")
@login_required
def book(visit_id: int):
    require(permissions.can_manage_guesthouse, current_user)
    form = BookBedForm(prefix=f"v{visit_id}")
    form.bed_id.choices = _bed_choices()
    if not form.validate_on_submit():
        # a date that does not parse is a field error, not an expired session
        if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
            flash(_("Your session expired; please try again. Nothing was saved."), "warning")
            return redirect(url_for(".index"))
        return _index(book_forms={visit_id: form}, status=422)
    try:
        services.book_bed(
            visit_id,
            form.bed_id.data,
            first_night=form.first_night.data,
            last_night=form.last_night.data,
            actor=current_user,
        )
    except (ValidationFailed, Conflict) as exc:
        actions.attach_error(form, exc)
        return _index(book_forms={visit_id: form}, status=422 if isinstance(exc, ValidationFailed) else 409)
    flash(_("Bed assigned."), "success")
    return redirect(url_for(".index"))


@bp.post("/nights/<int:booking_id>/free")
@login_required
def free(booking_id: int):
    require(permissions.can_manage_guesthouse, current_user)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".index"))
    services.free_nights(booking_id, actor=current_user)
    flash(_("The nights are free again."), "success")
    return redirect(
        request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for(".index")
    )


def _parse_day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


@bp.get("/occupancy")
@login_required
def occupancy():
    require(permissions.can_manage_guesthouse, current_user)
    today = visit_queries.today(utcnow())
    first = _parse_day(request.args.get("from"), today)
    try:
        days = max(1, min(MAX_DAYS, int(request.args.get("days", "14"))))
    except ValueError:
        days = 14
    grid = queries.occupancy(first, days)
    return render_template(
        "guesthouse/occupancy.html",
        grid=grid,
        first=first,
        days=days,
        previous=first - timedelta(days=days),
        following=first + timedelta(days=days),
        kind_labels=KIND_LABELS,
        confirm=ConfirmForm(),
    )


@bp.route("/visits/<int:visit_id>/stay", methods=["GET", "POST"])
@login_required
def stay(visit_id: int):
    visit = db.session.get(Visit, visit_id)
    if visit is None or not permissions.can_answer_stay(current_user, visit):
        raise NotFound("visit_not_found")
    pref = queries.preference(visit_id)
    form = StayForm(
        formdata=request.form if request.method == "POST" else None,
        data={
            "accepts_sharing": bool(pref and pref.accepts_sharing),
            "needs_accessible": bool(pref and pref.needs_accessible),
        },
    )
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Your session expired; please try again. Nothing was saved."), "warning")
            return redirect(url_for(".stay", visit_id=visit_id))
        services.answer_stay(
            visit_id,
            accepts_sharing=form.accepts_sharing.data,
            needs_accessible=form.needs_accessible.data,
            actor=current_user,
        )
        flash(_("Your answers are saved."), "success")
        return redirect(url_for("visits.visit", visit_id=visit_id))
    return render_template(
        "guesthouse/stay.html",
        visit=visit,
        form=form,
        nights=queries.nights_of(visit_id),
        room=queries.room_label(visit),
    )
