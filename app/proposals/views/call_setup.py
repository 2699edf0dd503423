"""Staff pages for calls: create and edit a call of a cycle — route, opening and closing
instants entered and shown in the facility's time zone, the instruments offered with their
capacity in the cycle (from the operating calendar) and their cap per request, the
rapid-access cap per proposal and the long-term span."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.errors import InvalidState, ValidationFailed
from app.core.permissions import require
from app.facility import queries as facility_queries
from app.facility.models import Cycle
from app.facility.shifts import LocalTimeError, local_instant
from app.proposals import permissions, services
from app.proposals.forms import CallForm
from app.proposals.models import AccessRoute, Call
from app.proposals.services.calls import MAX_SHIFTS_CEILING
from app.proposals.views import ROUTE_LABELS, attach_error, bp, explain
from app.web.templating import facility_timezone


def _wall_clock(value: datetime | None) -> datetime | None:
    """An instant as the facility-local wall-clock time the form shows (naive)."""
    return value.astimezone(facility_timezone()).replace(tzinfo=None) if value else None


def _instant(form: CallForm, name: str) -> datetime | None:
    """The UTC instant of a wall-clock field. Raises: ValidationFailed (skipped or repeated time)."""
    field = getattr(form, name)
    if field.raw_data and field.raw_data[0] and field.data is None:
        raise ValidationFailed("invalid_value", field=name)
    if field.data is None:
        return None
    try:
        return local_instant(field.data, facility_timezone())
    except LocalTimeError as exc:
        raise ValidationFailed(exc.code, field=name) from None


def _offers(instruments) -> list[services.OfferInput]:
    """The instruments ticked, each with its optional cap ("max-<id>"), in the page's order.

    Raises: ValidationFailed on "offers" (a cap that is not a whole number).
    """
    ticked = set(request.form.getlist("offered"))
    out = []
    for instrument in instruments:
        if str(instrument.id) not in ticked:
            continue
        raw = (request.form.get(f"max-{instrument.id}") or "").strip()
        if raw and not raw.isdigit():
            raise ValidationFailed("number_out_of_range", field="offers", minimum=1, maximum=MAX_SHIFTS_CEILING)
        out.append(services.OfferInput(instrument.id, int(raw) if raw else None))
    return out


def _capacity(cycle: Cycle) -> dict[int, int]:
    """Instrument id → its capacity in the cycle (empty before the facility is set up)."""
    try:
        return {instrument.id: cap.value for instrument, cap in facility_queries.capacity_table(cycle)}
    except InvalidState:
        return {}


def _form(call: Call | None) -> CallForm:
    form = CallForm() if request.method == "POST" else CallForm(formdata=None)
    form.route.choices = [(r.value, str(label)) for r, label in ROUTE_LABELS.items()]
    if request.method == "GET" and call is not None:
        form.route.data = call.route.value
        form.title.data = call.title
        form.description.data = call.description
        form.opens_at.data = _wall_clock(call.opens_at)
        form.closes_at.data = _wall_clock(call.closes_at)
        form.max_shifts_per_request.data = call.max_shifts_per_request
        form.proposal_shift_cap.data = call.proposal_shift_cap
        form.max_cycles.data = call.max_cycles
    return form


def _page(form: CallForm, cycle: Cycle, call: Call | None, status: int = 200, offers_error: str | None = None):
    instruments = facility_queries.list_instruments(active_only=True)
    if request.method == "POST":
        offered = {int(v) for v in request.form.getlist("offered") if v.isdigit()}
        caps = {i.id: request.form.get(f"max-{i.id}", "") for i in instruments}
    else:
        offered = {o.instrument_id for o in call.instruments} if call else set()
        caps = {o.instrument_id: o.max_shifts or "" for o in call.instruments} if call else {}
    return render_template(
        "proposals/call_form.html",
        form=form,
        cycle=cycle,
        call=call,
        instruments=instruments,
        offered=offered,
        caps=caps,
        capacity=_capacity(cycle),
        offers_error=offers_error,
        timezone=facility_timezone().key,
    ), status


def _save(form: CallForm, cycle: Cycle, call: Call | None):
    instruments = facility_queries.list_instruments(active_only=True)
    try:
        data = services.CallInput(
            cycle_id=cycle.id,
            route=form.route.data or "",
            title=form.title.data or "",
            description=form.description.data or "",
            opens_at=_instant(form, "opens_at"),
            closes_at=_instant(form, "closes_at"),
            offers=_offers(instruments),
            max_shifts_per_request=form.max_shifts_per_request.data or 0,
            proposal_shift_cap=form.proposal_shift_cap.data,
            max_cycles=form.max_cycles.data or 1,
        )
        if call is None:
            saved = services.create_call(data, actor=current_user)
        else:
            saved = services.update_call(call.id, data, actor=current_user)
    except ValidationFailed as exc:
        if exc.field == "offers":
            return _page(form, cycle, call, 422, offers_error=explain(exc))
        if exc.field == "cycle_id":
            form.form_errors.append(explain(exc))
        else:
            attach_error(form, exc)
        return _page(form, cycle, call, 422)
    flash(_("Call saved: %(title)s.", title=saved.title), "success")
    return redirect(url_for(".staff_calls"))


@bp.route("/staff/cycles/<int:cycle_id>/calls/new", methods=["GET", "POST"])
@login_required
def call_new(cycle_id: int):
    require(permissions.can_manage_calls, current_user)
    cycle = facility_queries.get_cycle(cycle_id)
    form = _form(None)
    if request.method == "GET":
        form.route.data = AccessRoute.STANDARD.value
        form.title.data = _("Call for proposals %(cycle)s", cycle=cycle.name)
        return _page(form, cycle, None)
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        flash(_("Your session expired; please try again."), "warning")
        return redirect(url_for(".call_new", cycle_id=cycle_id))
    return _save(form, cycle, None)


@bp.route("/staff/calls/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def call_edit(call_id: int):
    require(permissions.can_manage_calls, current_user)
    call = services.get_call(call_id)
    form = _form(call)
    if request.method == "GET":
        return _page(form, call.cycle, call)
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        flash(_("Your session expired; please try again."), "warning")
        return redirect(url_for(".call_edit", call_id=call_id))
    return _save(form, call.cycle, call)
