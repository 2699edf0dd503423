"""Pages of the facility domain: settings, contributions, instruments, cycles, the operating
calendar and capacity. Views parse, call one service, render or redirect."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.accounts import countries, scopes
from app.accounts import services as account_services
from app.core.errors import Conflict, DomainError, ValidationFailed
from app.core.permissions import require
from app.facility import permissions, queries, services
from app.facility.forms import (
    BlockForm,
    ContributionForm,
    CycleForm,
    DowntimeForm,
    FacilityForm,
    InstrumentForm,
    IntervalForm,
    ModeForm,
    ModePeriodForm,
    OverrideForm,
    PartitionsForm,
)
from app.facility.models import DEFAULT_SHIFT_PATTERN, FACILITY_ID, Facility
from app.web import navigation, templating
from app.web.forms import ConfirmForm
from app.web.messages import message

bp = Blueprint("facility", __name__, url_prefix="/facility", template_folder="templates")

_FACILITY = navigation.FACILITY
navigation.register(
    _l("Instruments"), "facility.instruments", predicate="can_view_instruments", order=60, group=_FACILITY
)
navigation.register(_l("Cycles"), "facility.cycles", predicate="can_view_cycles", order=61, group=_FACILITY)
navigation.register(_l("Operating modes"), "facility.modes", predicate="can_view_calendar", order=62, group=_FACILITY)
navigation.register(
    _l("Facility settings"), "facility.settings_page", predicate="can_view_facility_setup", order=63, group=_FACILITY
)
navigation.register(
    _l("Member contributions"), "facility.contributions", predicate="can_view_facility_setup", order=64, group=_FACILITY
)

DOWNTIME_LABELS = {"shutdown": _l("Shutdown"), "machine_day": _l("Machine day")}
BLOCK_LABELS = {
    "maintenance": _l("Maintenance"),
    "in_house": _l("In-house research"),
    "rapid_access": _l("Rapid-access slot"),
    "experiment": _l("Experiment"),
}
CYCLE_STATE_LABELS = {"past": _l("past"), "running": _l("running"), "upcoming": _l("upcoming")}


def init_app(app: Flask) -> None:
    """The UI's time zone and the facility's name come from the facility settings (config until set)."""
    templating.set_timezone_provider(queries.facility_timezone_name)
    # every logged-in page shows the facility's name and dates in its zone: its row comes with
    # the person's (one round trip less per page)
    account_services.add_session_companion(
        Facility, Facility.id == FACILITY_ID, queries.remember_facility, queries.remember_facility_values
    )
    # the role picker offers instruments for the instrument_scientist scope
    scopes.register("instrument", choices=queries.instrument_scope_choices, label=queries.instrument_scope_label)

    @app.context_processor
    def _facility_name():
        return {"facility_name": lambda: queries.facility_name() or app.config["FACILITY_NAME"]}

    app.jinja_env.globals["downtime_label"] = lambda kind: str(DOWNTIME_LABELS.get(kind, kind))
    app.jinja_env.globals["block_label"] = lambda kind: str(BLOCK_LABELS.get(kind, kind))
    app.jinja_env.globals["cycle_state_label"] = lambda state: str(CYCLE_STATE_LABELS.get(state, state))


def _session_expired(endpoint: str, **values):
    flash(_("Your session expired; please try again."), "warning")
    return redirect(url_for(endpoint, **values))


def _show_error(form, exc: ValidationFailed, aliases: dict[str, str] | None = None) -> None:
    """Put the message next to the field the service named (or above the form)."""
    name = (aliases or {}).get(exc.field, exc.field)
    field = form._fields.get(name) if form is not None else None
    if field is not None:
        field.errors = [*field.errors, message(exc)]
    elif form is not None:
        form.form_errors.append(message(exc))
    else:
        flash(message(exc), "danger")


def _today():
    return datetime.now(templating.facility_timezone()).date()


# --- settings and contributions ------------------------------------------------------------


def _facility_form(formdata=None) -> FacilityForm:
    facility = queries.find_facility()
    data = {}
    if formdata is None:
        data = {
            "name": facility.name if facility else current_app.config["FACILITY_NAME"],
            "host_country": facility.host_country if facility else "CH",
            "timezone": facility.timezone if facility else current_app.config["FACILITY_TIMEZONE"],
            "shift_pattern": ", ".join(facility.shift_pattern if facility else DEFAULT_SHIFT_PATTERN),
            "letterhead": facility.letterhead if facility else "",
        }
    form = FacilityForm(formdata=formdata, data=data) if formdata is None else FacilityForm()
    form.host_country.choices = countries.choices()
    form.host_country.validate_choice = False
    form.timezone.choices = sorted(services._zones())
    form.timezone.validate_choice = False
    return form


def _partitions_form() -> PartitionsForm:
    p = queries.partitions()
    return PartitionsForm(
        formdata=None,
        data={
            "in_house": f"{p.in_house.normalize():f}",
            "rapid_access": f"{p.rapid_access.normalize():f}",
            "proprietary": f"{p.proprietary.normalize():f}",
        },
    )


def _render_settings(form=None, partitions_form=None, status=200):
    return render_template(
        "facility/settings.html",
        facility=queries.find_facility(),
        form=form or _facility_form(),
        partitions_form=partitions_form or _partitions_form(),
        locked=queries.any_cycle_exists(),
    ), status


@bp.get("/settings")
@login_required
def settings_page():
    require(permissions.can_view_facility_setup, current_user)
    return _render_settings()


@bp.post("/settings")
@login_required
def settings_update():
    require(permissions.can_edit_facility_settings, current_user)
    form = _facility_form(request.form)
    if not form.validate_on_submit():
        return _render_settings(form=form, status=422)
    try:
        services.update_facility(
            name=form.name.data,
            host_country=form.host_country.data,
            timezone=form.timezone.data,
            shift_pattern=form.shift_pattern.data,
            letterhead=form.letterhead.data,
            actor=current_user,
        )
    except ValidationFailed as exc:
        _show_error(form, exc)
        return _render_settings(form=form, status=422)
    flash(_("Facility settings saved."), "success")
    return redirect(url_for(".settings_page"))


@bp.post("/settings/partitions")
@login_required
def partitions_update():
    require(permissions.can_edit_facility_settings, current_user)
    form = PartitionsForm()
    if not form.validate_on_submit():
        return _session_expired(".settings_page")
    try:
        services.update_partitions(
            in_house=form.in_house.data,
            rapid_access=form.rapid_access.data,
            proprietary=form.proprietary.data,
            actor=current_user,
        )
    except ValidationFailed as exc:
        _show_error(form, exc)
        return _render_settings(partitions_form=form, status=422)
    flash(_("Reserved partitions saved."), "success")
    return redirect(url_for(".settings_page"))


def _contribution_form(**kwargs) -> ContributionForm:
    form = ContributionForm(**kwargs)
    form.country.choices = countries.choices()
    form.country.validate_choice = False
    return form


def _render_contributions(form=None, status=200):
    by_year = queries.contributions_by_year()
    totals = {year: sum((r.share for r in rows), start=0) for year, rows in by_year.items()}
    return render_template(
        "facility/contributions.html",
        by_year=by_year,
        totals=totals,
        form=form or _contribution_form(formdata=None, data={"year": str(_today().year)}),
        remove_form=ConfirmForm(),
        country_name=countries.name,
    ), status


@bp.get("/contributions")
@login_required
def contributions():
    require(permissions.can_view_facility_setup, current_user)
    return _render_contributions()


@bp.post("/contributions")
@login_required
def contribution_set():
    require(permissions.can_manage_facility, current_user)
    form = _contribution_form()
    if not form.validate_on_submit():
        return _session_expired(".contributions")
    try:
        row = services.set_contribution(
            year=form.year.data, country=form.country.data, share=form.share.data, actor=current_user
        )
    except ValidationFailed as exc:
        _show_error(form, exc)
        return _render_contributions(form=form, status=422)
    flash(_("Contribution of %(country)s in %(year)s saved.", country=row.country, year=row.year), "success")
    return redirect(url_for(".contributions"))


@bp.post("/contributions/<int:contribution_id>/remove")
@login_required
def contribution_remove(contribution_id: int):
    require(permissions.can_manage_facility, current_user)
    if not ConfirmForm().validate_on_submit():
        return _session_expired(".contributions")
    services.remove_contribution(contribution_id, actor=current_user)
    flash(_("Contribution removed."), "success")
    return redirect(url_for(".contributions"))


# --- instruments ---------------------------------------------------------------------------


def _pattern_labels() -> list[str]:
    facility = queries.find_facility()
    return list(facility.shift_pattern if facility else DEFAULT_SHIFT_PATTERN)


def _instrument_form(instrument=None, **kwargs) -> InstrumentForm:
    if instrument is not None and "formdata" in kwargs:
        kwargs["data"] = {
            "code": instrument.code,
            "name": instrument.name,
            "techniques": ", ".join(instrument.techniques),
            "description": instrument.description,
            "active": instrument.active,
            "start_shifts": instrument.start_shifts,
            "start_weekdays": instrument.start_weekdays,
            "changeover_shifts": str(instrument.changeover_shifts),
            "min_session_shifts": str(instrument.min_session_shifts),
        }
    elif "formdata" in kwargs:
        labels = _pattern_labels()
        kwargs["data"] = {"start_shifts": list(range(len(labels))), "start_weekdays": list(range(7))}
    form = InstrumentForm(**kwargs)
    form.start_shifts.choices = list(enumerate(_pattern_labels()))
    return form


def _instrument_data(form: InstrumentForm) -> dict:
    return {
        "code": form.code.data,
        "name": form.name.data,
        "techniques": form.techniques.data,
        "description": form.description.data,
        "active": form.active.data,
        "start_shifts": form.start_shifts.data or [],
        "start_weekdays": form.start_weekdays.data or [],
        "changeover_shifts": form.changeover_shifts.data,
        "min_session_shifts": form.min_session_shifts.data,
    }


@bp.get("/instruments")
@login_required
def instruments():
    require(permissions.can_view_instruments, current_user)
    rows = queries.list_instruments()
    return render_template(
        "facility/instruments.html",
        instruments=rows,
        scientists=queries.instrument_scientists([i.id for i in rows]),
        pattern=_pattern_labels(),
    )


@bp.route("/instruments/new", methods=["GET", "POST"])
@login_required
def instrument_new():
    require(permissions.can_manage_facility, current_user)
    form = _instrument_form() if request.method == "POST" else _instrument_form(formdata=None)
    if form.validate_on_submit():
        try:
            instrument = services.create_instrument(_instrument_data(form), actor=current_user)
        except ValidationFailed as exc:
            _show_error(form, exc)
        else:
            flash(_("Instrument %(code)s created.", code=instrument.code), "success")
            return redirect(url_for(".instrument", instrument_id=instrument.id))
    status = 422 if request.method == "POST" else 200
    return render_template("facility/instrument_form.html", form=form, instrument=None), status


@bp.route("/instruments/<int:instrument_id>", methods=["GET", "POST"])
@login_required
def instrument(instrument_id: int):
    require(permissions.can_view_instruments, current_user)
    instrument = queries.get_instrument(instrument_id)
    if request.method == "POST":
        require(permissions.can_manage_facility, current_user)
        form = _instrument_form(instrument)
        if form.validate_on_submit():
            try:
                services.update_instrument(instrument.id, _instrument_data(form), actor=current_user)
            except ValidationFailed as exc:
                _show_error(form, exc)
            else:
                flash(_("Instrument %(code)s saved.", code=instrument.code), "success")
                return redirect(url_for(".instrument", instrument_id=instrument.id))
        status = 422
    else:
        form = _instrument_form(instrument, formdata=None)
        status = 200
    return render_template(
        "facility/instrument_form.html",
        form=form,
        instrument=instrument,
        scientists=queries.instrument_scientists([instrument.id]).get(instrument.id, []),
        pattern=_pattern_labels(),
    ), status


# --- cycles and operating modes ------------------------------------------------------------


def _render_cycles(form=None, status=200):
    today = _today()
    return render_template(
        "facility/cycles.html",
        cycles=[(c, queries.cycle_state(c, today)) for c in queries.list_cycles()],
        form=form or CycleForm(formdata=None),
        configured=queries.find_facility() is not None,
    ), status


@bp.get("/cycles")
@login_required
def cycles():
    require(permissions.can_view_cycles, current_user)
    return _render_cycles()


@bp.post("/cycles")
@login_required
def cycle_create():
    require(permissions.can_manage_facility, current_user)
    form = CycleForm()
    if not form.validate_on_submit():
        return _render_cycles(form=form, status=422)
    try:
        cycle = services.create_cycle(
            name=form.name.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data, actor=current_user
        )
    except ValidationFailed as exc:
        _show_error(form, exc)
        return _render_cycles(form=form, status=422)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        form.form_errors.append(message(exc))
        return _render_cycles(form=form, status=409)
    flash(_("Cycle %(name)s created.", name=cycle.name), "success")
    return redirect(url_for(".calendar", name=cycle.name))


def _render_modes(form=None, status=200):
    return render_template(
        "facility/modes.html",
        modes=queries.list_operating_modes(),
        form=form or ModeForm(formdata=None),
        toggle_form=ConfirmForm(),
    ), status


@bp.get("/modes")
@login_required
def modes():
    require(permissions.can_view_calendar, current_user)
    return _render_modes()


@bp.post("/modes")
@login_required
def mode_create():
    require(permissions.can_manage_facility, current_user)
    form = ModeForm()
    if not form.validate_on_submit():
        return _session_expired(".modes")
    try:
        mode = services.create_operating_mode(code=form.code.data, name=form.name.data, actor=current_user)
    except ValidationFailed as exc:
        _show_error(form, exc)
        return _render_modes(form=form, status=422)
    flash(_("Operating mode %(name)s added.", name=mode.name), "success")
    return redirect(url_for(".modes"))


@bp.post("/modes/<int:mode_id>/toggle")
@login_required
def mode_toggle(mode_id: int):
    require(permissions.can_manage_facility, current_user)
    if not ConfirmForm().validate_on_submit():
        return _session_expired(".modes")
    mode = queries.get_operating_mode(mode_id)
    services.set_operating_mode_active(mode.id, not mode.active, actor=current_user)
    flash(_("Operating mode updated."), "success")
    return redirect(url_for(".modes"))


# --- the operating calendar ----------------------------------------------------------------

INTERVAL_ALIASES = {"starts_at": "first_day", "ends_at": "last_day"}


def _interval_forms(cycle, g, *, downtime=None, period=None, block=None):
    shift_choices = list(enumerate(g.labels))
    defaults = {
        "first_day": max(cycle.starts_on, _today()),
        "last_day": max(cycle.starts_on, _today()),
        "first_shift": 0,
        "last_shift": len(g.labels) - 1,
    }
    downtime = downtime or DowntimeForm(formdata=None, data=defaults, prefix="downtime")
    period = period or ModePeriodForm(formdata=None, data=defaults, prefix="period")
    block = block or BlockForm(formdata=None, data=defaults, prefix="block")
    for form in (downtime, period, block):
        form.first_shift.choices = shift_choices
        form.last_shift.choices = shift_choices
    period.mode_id.choices = [(m.id, m.name) for m in queries.list_operating_modes(active_only=True)]
    block.instrument_id.choices = [(i.id, f"{i.code} — {i.name}") for i in queries.list_instruments(active_only=True)]
    return downtime, period, block


def _render_calendar(cycle, *, downtime=None, period=None, block=None, status=200):
    g = queries.grid()
    instruments = queries.list_instruments(active_only=True)
    downtimes = queries.list_downtimes(cycle.id)
    periods = queries.list_mode_periods(cycle.id)
    bookings = queries.list_bookings(cycle.id)
    months = queries.calendar_months(
        cycle,
        g,
        instruments,
        downtimes,
        periods,
        bookings,
        facility_label=_("Facility"),
        mode_label=_("Mode"),
    )
    downtime, period, block = _interval_forms(cycle, g, downtime=downtime, period=period, block=block)
    return render_template(
        "facility/calendar.html",
        cycle=cycle,
        grid=g,
        months=months,
        downtimes=downtimes,
        periods=periods,
        blocks=[b for b in bookings if b.is_block],
        downtime_form=downtime,
        period_form=period,
        block_form=block,
        remove_form=ConfirmForm(),
        now=datetime.now(g.tz),
    ), status


@bp.get("/cycles/<name>/calendar")
@login_required
def calendar(name: str):
    require(permissions.can_view_calendar, current_user)
    return _render_calendar(queries.get_cycle_by_name(name))


def _interval(form: IntervalForm, g) -> tuple[datetime, datetime]:
    return g.start(form.first_day.data, form.first_shift.data), g.end_of(form.last_day.data, form.last_shift.data)


def _calendar_write(name: str, form_cls, prefix: str, call):
    """Shared body of the three "add to the calendar" posts."""
    require(permissions.can_manage_facility, current_user)
    cycle = queries.get_cycle_by_name(name)
    g = queries.grid()
    form = form_cls(prefix=prefix)
    forms = {"downtime": None, "period": None, "block": None}
    forms[prefix] = form
    _interval_forms(cycle, g, **forms)  # the choices of the select fields, before validating
    if not form.validate_on_submit():
        return _render_calendar(cycle, status=422, **forms)
    starts_at, ends_at = _interval(form, g)
    try:
        call(cycle, form, starts_at, ends_at)
    except ValidationFailed as exc:
        _show_error(form, exc, INTERVAL_ALIASES)
        return _render_calendar(cycle, status=422, **forms)
    except Conflict as exc:
        form.first_day.errors = [*form.first_day.errors, message(exc)]
        return _render_calendar(cycle, status=409, **forms)
    flash(_("Added to the calendar of %(name)s.", name=cycle.name), "success")
    return redirect(url_for(".calendar", name=cycle.name))


@bp.post("/cycles/<name>/downtimes")
@login_required
def downtime_add(name: str):
    return _calendar_write(
        name,
        DowntimeForm,
        "downtime",
        lambda cycle, form, s, e: services.add_downtime(
            cycle.id, kind=form.kind.data, starts_at=s, ends_at=e, title=form.title.data, actor=current_user
        ),
    )


@bp.post("/cycles/<name>/periods")
@login_required
def period_add(name: str):
    return _calendar_write(
        name,
        ModePeriodForm,
        "period",
        lambda cycle, form, s, e: services.add_mode_period(
            cycle.id, mode_id=form.mode_id.data, starts_at=s, ends_at=e, note=form.note.data, actor=current_user
        ),
    )


@bp.post("/cycles/<name>/blocks")
@login_required
def block_add(name: str):
    return _calendar_write(
        name,
        BlockForm,
        "block",
        lambda cycle, form, s, e: services.add_block(
            form.instrument_id.data,
            cycle.id,
            kind=form.kind.data,
            starts_at=s,
            ends_at=e,
            title=form.title.data,
            actor=current_user,
        ),
    )


def _calendar_remove(name: str, remove):
    require(permissions.can_manage_facility, current_user)
    cycle = queries.get_cycle_by_name(name)
    if not ConfirmForm().validate_on_submit():
        return _session_expired(".calendar", name=cycle.name)
    try:
        remove()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash(message(exc), "warning")
    else:
        flash(_("Removed from the calendar."), "success")
    return redirect(url_for(".calendar", name=cycle.name))


@bp.post("/cycles/<name>/downtimes/<int:item_id>/remove")
@login_required
def downtime_remove(name: str, item_id: int):
    return _calendar_remove(name, lambda: services.remove_downtime(item_id, actor=current_user))


@bp.post("/cycles/<name>/periods/<int:item_id>/remove")
@login_required
def period_remove(name: str, item_id: int):
    return _calendar_remove(name, lambda: services.remove_mode_period(item_id, actor=current_user))


@bp.post("/cycles/<name>/blocks/<int:item_id>/remove")
@login_required
def block_remove(name: str, item_id: int):
    return _calendar_remove(name, lambda: services.remove_block(item_id, actor=current_user))


# --- capacity ------------------------------------------------------------------------------


def _render_capacity(cycle, *, failed: tuple[int, OverrideForm] | None = None, status=200):
    rows = queries.capacity_table(cycle)
    forms = {}
    for instrument, cap in rows:
        if failed and failed[0] == instrument.id:
            forms[instrument.id] = failed[1]
        else:
            forms[instrument.id] = OverrideForm(
                formdata=None,
                prefix=f"o{instrument.id}",
                data={
                    "instrument_id": instrument.id,
                    "shifts": cap.override if cap.overridden else "",
                    "reason": cap.override_reason or "",
                },
            )
    return render_template(
        "facility/capacity.html",
        cycle=cycle,
        rows=rows,
        forms=forms,
        clear_form=ConfirmForm(),
        partitions=queries.partitions(),
        pct=lambda value: f"{value.normalize():f}",
    ), status


@bp.get("/cycles/<name>/capacity")
@login_required
def capacity(name: str):
    require(permissions.can_view_capacity, current_user)
    return _render_capacity(queries.get_cycle_by_name(name))


@bp.post("/cycles/<name>/capacity/<int:instrument_id>/override")
@login_required
def capacity_override(name: str, instrument_id: int):
    require(permissions.can_manage_facility, current_user)
    cycle = queries.get_cycle_by_name(name)
    instrument = queries.get_instrument(instrument_id)
    form = OverrideForm(prefix=f"o{instrument.id}")
    if not form.validate_on_submit():
        return _session_expired(".capacity", name=cycle.name)
    try:
        services.set_capacity_override(
            cycle.id, instrument.id, shifts=form.shifts.data, reason=form.reason.data, actor=current_user
        )
    except ValidationFailed as exc:
        _show_error(form, exc)
        return _render_capacity(cycle, failed=(instrument.id, form), status=422)
    flash(_("Capacity of %(code)s overridden.", code=instrument.code), "warning")
    return redirect(url_for(".capacity", name=cycle.name))


@bp.post("/cycles/<name>/capacity/<int:instrument_id>/clear")
@login_required
def capacity_clear(name: str, instrument_id: int):
    require(permissions.can_manage_facility, current_user)
    cycle = queries.get_cycle_by_name(name)
    if not ConfirmForm().validate_on_submit():
        return _session_expired(".capacity", name=cycle.name)
    services.clear_capacity_override(cycle.id, instrument_id, actor=current_user)
    flash(_("The computed capacity applies again."), "success")
    return redirect(url_for(".capacity", name=cycle.name))
