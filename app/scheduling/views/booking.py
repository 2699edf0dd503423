"""Direct booking of a free block (staff blocks, rapid-access sessions) and the awards'
scheduling settings. Views parse, call one service, render or redirect."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.errors import Conflict, ValidationFailed
from app.core.permissions import require
from app.facility import queries as facility_queries
from app.scheduling import permissions, queries, services
from app.scheduling.forms import BookBlockForm, BookSessionForm, MaxSessionsForm
from app.scheduling.views import bp
from app.web import actions, templating
from app.web.messages import message


def _form(cycle, form: BookBlockForm | None = None) -> BookBlockForm:
    g = facility_queries.grid()
    if form is None:
        today = datetime.now(templating.facility_timezone()).date()
        form = BookBlockForm(formdata=None, data={"day": max(cycle.starts_on, today), "shift": 0, "length": "1"})
    form.instrument_id.choices = [
        (i.id, f"{i.code} — {i.name}") for i in facility_queries.list_instruments(active_only=True)
    ]
    form.shift.choices = list(enumerate(g.labels))
    return form


def _render(cycle, form: BookBlockForm, instrument_id: int | None, status: int = 200):
    instrument = None
    if instrument_id is None and form.instrument_id.choices:
        instrument_id = form.instrument_id.choices[0][0]
    if instrument_id is not None:
        instrument = facility_queries.get_instrument(instrument_id)
        form.instrument_id.data = form.instrument_id.data or instrument.id
    windows = queries.free_windows(cycle, instrument, now=datetime.now().astimezone()) if instrument else []
    return render_template(
        "scheduling/book.html",
        cycle=cycle,
        form=form,
        instrument=instrument,
        windows=windows,
        grid=facility_queries.grid(),
    ), status


@bp.get("/cycles/<name>/book")
@login_required
def book(name: str):
    require(permissions.can_book_blocks, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    instrument_id = request.args.get("instrument_id", type=int)
    return _render(cycle, _form(cycle), instrument_id)


@bp.post("/cycles/<name>/book")
@login_required
def book_post(name: str):
    require(permissions.can_book_blocks, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    form = _form(cycle, BookBlockForm())
    if not form.validate_on_submit():
        return _render(cycle, form, None, status=422)
    try:
        booking = services.book_block(
            form.instrument_id.data,
            cycle.id,
            kind=form.kind.data,
            day=form.day.data,
            shift=form.shift.data,
            length=form.length.data,
            title=form.title.data,
            actor=current_user,
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render(cycle, form, form.instrument_id.data, status=422)
    except Conflict as exc:
        form.form_errors.append(message(exc))
        return _render(cycle, form, form.instrument_id.data, status=409)
    flash(
        _(
            "Booked %(code)s from %(starts)s.",
            code=booking.instrument.code,
            starts=facility_queries.grid().local(booking.starts_at),
        ),
        "success",
    )
    return redirect(url_for(".book", name=cycle.name, instrument_id=booking.instrument_id))


# --- rapid access: the PI books a session inside a rapid-access slot ---------------------


def _render_session(award, form: BookSessionForm | None = None, status: int = 200):
    g = facility_queries.grid()
    cycle = award.proposal.call.cycle
    if form is None:
        form = BookSessionForm(formdata=None, data={"shift": 0, "length": "1"})
    form.shift.choices = list(enumerate(g.labels))
    now = datetime.now().astimezone()
    sessions = queries.award_sessions(award.id)
    return render_template(
        "scheduling/book_session.html",
        award=award,
        cycle=cycle,
        form=form,
        slots=queries.rapid_slots(cycle, award.instrument, now=now),
        sessions=sessions,
        grid=g,
    ), status


@bp.get("/awards/<int:award_id>/book")
@login_required
def book_session(award_id: int):
    return _render_session(queries.get_award_for_booking(award_id, current_user))


@bp.post("/awards/<int:award_id>/book")
@login_required
def book_session_post(award_id: int):
    award = queries.get_award_for_booking(award_id, current_user)
    form = BookSessionForm()
    form.shift.choices = list(enumerate(facility_queries.grid().labels))
    if not form.validate_on_submit():
        return _render_session(award, form, status=422)
    return actions.saved(
        form,
        lambda: services.book_rapid_access(
            award.id, day=form.day.data, shift=form.shift.data, length=form.length.data, actor=current_user
        ),
        rerender=lambda form, status: _render_session(award, form, status=status),
        done=lambda booking: _(
            "Your session starts %(starts)s.", starts=facility_queries.grid().local(booking.starts_at)
        ),
        then=url_for(".book_session", award_id=award.id),
    )


# --- the awards of a cycle, with the solver's setting per award --------------------------


def _render_awards(cycle, *, failed: tuple[int, MaxSessionsForm] | None = None, status: int = 200):
    rows = queries.cycle_awards(cycle)
    forms = {}
    for row in rows:
        if failed and failed[0] == row.award.id:
            forms[row.award.id] = failed[1]
        else:
            forms[row.award.id] = MaxSessionsForm(
                formdata=None, prefix=f"a{row.award.id}", data={"max_sessions": str(row.max_sessions)}
            )
    return render_template("scheduling/awards.html", cycle=cycle, rows=rows, forms=forms), status


@bp.get("/cycles/<name>/awards")
@login_required
def awards(name: str):
    require(permissions.can_view_schedule, current_user)
    return _render_awards(facility_queries.get_cycle_by_name(name))


@bp.post("/awards/<int:award_id>/max-sessions")
@login_required
def max_sessions(award_id: int):
    require(permissions.can_solve_schedule, current_user)
    award = queries.get_award_for_booking(award_id, current_user)
    cycle = award.proposal.call.cycle
    form = MaxSessionsForm(prefix=f"a{award.id}")
    if not form.validate_on_submit():
        flash(_("Your session expired; please try again."), "warning")
        return redirect(url_for(".awards", name=cycle.name))
    try:
        services.set_max_sessions(award.id, form.max_sessions.data, actor=current_user)
    except ValidationFailed as exc:
        form.max_sessions.errors = [*form.max_sessions.errors, message(exc)]
        return _render_awards(cycle, failed=(award.id, form), status=422)
    flash(_("Saved."), "success")
    return redirect(url_for(".awards", name=cycle.name))
