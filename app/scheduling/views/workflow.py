"""The schedule workflow (issue 7): solve a cycle from the web (a job request, progress polled
by htmx), its drafts (compare, apply), the timeline where planned experiments are moved,
swapped, pinned, removed or added with warnings checked first, publishing, cancelling, and
the delivered shifts recorded when an experiment ends. Views parse, call one service, render
or redirect."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from app.core import events, jobrequests
from app.core.errors import Conflict, InvalidState, ValidationFailed
from app.core.models import JobStatus
from app.core.permissions import require, require_named
from app.facility import queries as facility_queries
from app.scheduling import permissions, queries, services
from app.scheduling.calendar import CycleGrid
from app.scheduling.forms import AddForm, CancelForm, DeliveryForm, PlaceForm, SolveForm, SwapForm
from app.scheduling.views import bp
from app.web import actions, navigation
from app.web.forms import ConfirmForm
from app.web.messages import MESSAGES, message, unplaced_message

navigation.register(
    _l("Schedules"), "scheduling.plan_index", predicate="can_plan_schedule", order=66, group=navigation.PROGRAMME
)
TIMELINE_DAYS = 14


@bp.app_template_filter("isoinstant")
def isoinstant(text: str):
    """A draft snapshot's ISO instant back to a datetime (for |localdt)."""
    from datetime import datetime

    return datetime.fromisoformat(text)


@bp.app_template_filter("localdate_iso")
def localdate_iso(instant) -> str:
    return instant.astimezone(facility_queries.grid().tz).date().isoformat()


def warning_text(warning) -> str:
    template = MESSAGES.get(warning.code)
    return str(template % warning.params) if template is not None else warning.code


def _shift_choices():
    return list(enumerate(facility_queries.grid().labels))


# --- the cycles, the plan page of one cycle, solving ------------------------------------


@bp.get("/plan")
@login_required
def plan_index():
    require(permissions.can_plan_schedule, current_user)
    cycles = facility_queries.list_cycles()
    return render_template("scheduling/workflow_index.html", cycles=cycles)


def _render_plan(cycle, *, form: SolveForm | None = None, job=None, status: int = 200):
    job = job or services.find_active_solve(cycle.id)
    if job is None and (job_id := request.args.get("job", type=int)):
        found = jobrequests.get_job(job_id)
        if found.kind == services.SOLVE_KIND and (found.params or {}).get("cycle_id") == cycle.id:
            job = found
    drafts = queries.list_drafts(cycle.id)
    planned = queries.count_planned(cycle.id)
    return render_template(
        "scheduling/workflow_plan.html",
        cycle=cycle,
        form=form or SolveForm(formdata=None),
        job=job,
        drafts=drafts,
        planned=planned,
        confirm=ConfirmForm(),
    ), status


@bp.get("/cycles/<name>/plan")
@login_required
def plan(name: str):
    require(permissions.can_plan_schedule, current_user)
    return _render_plan(facility_queries.get_cycle_by_name(name))


@bp.post("/cycles/<name>/solve")
@login_required
def solve(name: str):
    require(permissions.can_plan_schedule, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    form = SolveForm()
    if not form.validate_on_submit():
        return _render_plan(cycle, form=form, status=422)
    try:
        job = services.request_solve(cycle.id, effort=form.effort.data, actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_plan(cycle, form=form, status=422)
    except Conflict as exc:
        flash(message(exc), "warning")
        return redirect(url_for(".plan", name=cycle.name))
    flash(_("The solve is queued; its progress shows below."), "info")
    return redirect(url_for(".plan", name=cycle.name, job=job.id))


@bp.get("/solves/<int:job_id>/progress")
@login_required
def solve_progress(job_id: int):
    job = jobrequests.get_job(job_id)
    require_named("can_view_job", current_user, job, hide=True)
    if job.kind != services.SOLVE_KIND:
        abort(404)
    figures = {}
    for part in (job.message or "").split(";"):
        key, _sep, value = part.partition("=")
        if value.strip().lstrip("-").isdigit():
            figures[key] = int(value)
    objective, bound = figures.get("objective", 0), figures.get("bound", 0)
    gap = max(0.0, (bound - objective) / bound) if bound > 0 else 0.0
    draft = None
    if job.status == JobStatus.DONE and job.result:
        draft_id = job.result.get("draft_id")
        draft = queries.get_draft(draft_id) if draft_id else None
    return render_template(
        "scheduling/workflow_progress.html", job=job, objective=objective, bound=bound, gap=gap, draft=draft
    )


# --- drafts ----------------------------------------------------------------------------


@bp.get("/drafts/<int:draft_id>")
@login_required
def draft(draft_id: int):
    require(permissions.can_plan_schedule, current_user)
    found = queries.get_draft(draft_id)
    return render_template(
        "scheduling/workflow_draft.html",
        draft=found,
        cycle=found.cycle,
        reason=lambda row: unplaced_message(row["reason"], row.get("params") or {}),
        confirm=ConfirmForm(),
    )


@bp.post("/drafts/<int:draft_id>/apply")
@login_required
def apply_draft(draft_id: int):
    require(permissions.can_plan_schedule, current_user)
    found = queries.get_draft(draft_id)
    return actions.confirmed(
        lambda: services.apply_draft(found.id, actor=current_user),
        back=url_for(".draft", draft_id=found.id),
        done=_("Draft %(number)s is now the planned schedule.", number=found.number),
        then=url_for(".timeline", name=found.cycle.name),
    )


@bp.get("/cycles/<name>/compare")
@login_required
def compare(name: str):
    require(permissions.can_plan_schedule, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    first, second = request.args.get("first", type=int), request.args.get("second", type=int)
    drafts = queries.list_drafts(cycle.id)
    comparison = None
    if first and second:
        comparison = queries.compare_drafts(first, second)
        if comparison.first.cycle_id != cycle.id:
            abort(404)
    return render_template(
        "scheduling/workflow_compare.html",
        cycle=cycle,
        drafts=drafts,
        comparison=comparison,
        first=first,
        second=second,
        reason=lambda row: unplaced_message(row["reason"], row.get("params") or {}),
    )


@bp.post("/cycles/<name>/publish")
@login_required
def publish(name: str):
    require(permissions.can_publish_schedule, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    return actions.confirmed(
        lambda: services.publish_schedule(cycle.id, actor=current_user),
        back=url_for(".plan", name=cycle.name),
        done=lambda ids: _("%(count)s experiments published; each team gets its dates by e-mail.", count=len(ids)),
        refused_level="warning",
    )


# --- the timeline ------------------------------------------------------------------------


def _add_form(cycle, form: AddForm | None = None) -> AddForm:
    form = form or AddForm(formdata=None, data={"length": "3", "shift": 0})
    form.award_id.choices = [
        (a.id, f"{a.proposal.reference or a.proposal_id} — {a.instrument.code} ({a.shifts})")
        for a in queries.schedulable_awards(cycle)
    ]
    form.shift.choices = _shift_choices()
    return form


def _render_timeline(cycle, *, add_form: AddForm | None = None, status: int = 200):
    start = None
    if raw := request.args.get("start"):
        try:
            start = date.fromisoformat(raw)
        except ValueError:
            start = None
    view = queries.timeline(cycle, start=start, days=TIMELINE_DAYS)
    previous = view.cal.shifts[max(0, view.first - 1)].day if view.first > 0 else None
    following = view.cal.shifts[view.end].day if view.end < len(view.cal) else None
    if previous is not None:
        previous = max(cycle.starts_on, view.start_day - timedelta(days=TIMELINE_DAYS))
    return render_template(
        "scheduling/workflow_timeline.html",
        cycle=cycle,
        view=view,
        previous=previous,
        following=following,
        add_form=_add_form(cycle, add_form),
        draft=queries.applied_draft(cycle.id),
    ), status


@bp.get("/cycles/<name>/timeline")
@login_required
def timeline(name: str):
    require(permissions.can_plan_schedule, current_user)
    return _render_timeline(facility_queries.get_cycle_by_name(name))


def _check_fragment(placements, *, action: str, fields: dict, title: str):
    return render_template(
        "scheduling/workflow_check.html",
        placements=placements,
        action=action,
        fields=fields,
        title=title,
        warning_text=warning_text,
        form=ConfirmForm(),
    )


@bp.post("/cycles/<name>/check-add")
@login_required
def check_add(name: str):
    require(permissions.can_plan_schedule, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    form = _add_form(cycle, AddForm())
    if not form.validate_on_submit():
        return render_template("scheduling/workflow_add_form.html", cycle=cycle, add_form=form), 422
    try:
        placement = services.check_add(
            form.award_id.data, day=form.day.data, shift=form.shift.data, length=form.length.data, actor=current_user
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return render_template("scheduling/workflow_add_form.html", cycle=cycle, add_form=form), 422
    return _check_fragment(
        [placement],
        action=url_for(".add", name=cycle.name),
        fields={
            "award_id": form.award_id.data,
            "day": form.day.data.isoformat(),
            "shift": form.shift.data,
            "length": form.length.data,
        },
        title=_("Add a session"),
    )


@bp.post("/cycles/<name>/add")
@login_required
def add(name: str):
    require(permissions.can_plan_schedule, current_user)
    cycle = facility_queries.get_cycle_by_name(name)
    form = _add_form(cycle, AddForm())
    if not form.validate_on_submit():
        return _render_timeline(cycle, add_form=form, status=422)
    return actions.saved(
        form,
        lambda: services.add_experiment(
            form.award_id.data,
            day=form.day.data,
            shift=form.shift.data,
            length=form.length.data,
            confirm=form.confirm.data == "1",
            actor=current_user,
        ),
        rerender=lambda form, status: _render_timeline(cycle, add_form=form, status=status),
        done=_("Session added."),
        then=lambda booking: url_for(".timeline", name=cycle.name, start=_day_of(booking)),
    )


def _day_of(booking) -> str:
    return booking.starts_at.astimezone(facility_queries.grid().tz).date().isoformat()


# --- one experiment ------------------------------------------------------------------------


def _render_experiment(
    booking_id: int,
    *,
    move: PlaceForm | None = None,
    swap: SwapForm | None = None,
    cancel: CancelForm | None = None,
    delivery: DeliveryForm | None = None,
    status: int = 200,
):
    booking, experiment, pinned = queries.experiment_detail(booking_id)
    may_edit = permissions.can_edit_draft(current_user, booking.instrument)
    may_record = permissions.can_record_delivery(current_user, experiment)
    if not (permissions.can_plan_schedule(current_user) or may_record):
        abort(404)
    cal_span = facility_queries.grid()
    if move is None:
        cal = CycleGrid.of(facility_queries.get_cycle(booking.cycle_id))
        span = cal.covering(booking.starts_at, booking.ends_at)
        first = cal.shifts[span.start] if span else None
        move = PlaceForm(
            formdata=None,
            data={"day": first.day if first else None, "shift": first.index if first else 0, "length": str(len(span))},
        )
    move.shift.choices = _shift_choices()
    swap = swap or SwapForm(formdata=None)
    swap.other_id.choices = [
        (b.id, f"{b.title or e.award.proposal.reference} — {cal_span.local(b.starts_at)}")
        for b, e in queries.swap_candidates(booking)
    ]
    delivery = delivery or DeliveryForm(
        formdata=None,
        data={
            "delivered_shifts": "" if experiment.delivered_shifts is None else str(experiment.delivered_shifts),
            "lost_shifts": str(experiment.lost_shifts or 0),
            "lost_reason": experiment.lost_reason.value if experiment.lost_reason else "",
            "lost_note": experiment.lost_note,
        },
    )
    return render_template(
        "scheduling/workflow_experiment.html",
        booking=booking,
        experiment=experiment,
        pinned=pinned,
        may_edit=may_edit,
        may_record=may_record,
        move=move,
        swap=swap,
        cancel=cancel or CancelForm(formdata=None),
        delivery=delivery,
        confirm=ConfirmForm(),
        cycle=facility_queries.get_cycle(booking.cycle_id),
    ), status


@bp.get("/experiments/<int:booking_id>")
@login_required
def experiment(booking_id: int):
    return _render_experiment(booking_id)


def _editable(booking_id: int):
    booking, experiment, _pinned = queries.experiment_detail(booking_id)
    require(permissions.can_edit_draft, current_user, booking.instrument)
    return booking, experiment


@bp.post("/experiments/<int:booking_id>/check-move")
@login_required
def check_move(booking_id: int):
    booking, _experiment = _editable(booking_id)
    form = PlaceForm()
    form.shift.choices = _shift_choices()
    if not form.validate_on_submit():
        return _render_experiment(booking_id, move=form, status=422)
    try:
        placement = services.check_move(
            booking.id, day=form.day.data, shift=form.shift.data, length=form.length.data, actor=current_user
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_experiment(booking_id, move=form, status=422)
    except InvalidState as exc:
        flash(message(exc), "warning")
        return redirect(url_for(".experiment", booking_id=booking.id))
    return _check_fragment(
        [placement],
        action=url_for(".move", booking_id=booking.id),
        fields={"day": form.day.data.isoformat(), "shift": form.shift.data, "length": form.length.data},
        title=_("Move %(ref)s", ref=booking.title),
    )


@bp.post("/experiments/<int:booking_id>/move")
@login_required
def move(booking_id: int):
    booking, _experiment = _editable(booking_id)
    form = PlaceForm()
    form.shift.choices = _shift_choices()
    if not form.validate_on_submit():
        return _render_experiment(booking_id, move=form, status=422)
    return actions.saved(
        form,
        lambda: services.move_experiment(
            booking.id,
            day=form.day.data,
            shift=form.shift.data,
            length=form.length.data,
            confirm=form.confirm.data == "1",
            actor=current_user,
        ),
        rerender=lambda form, status: _render_experiment(booking_id, move=form, status=status),
        done=_("Moved."),
        then=lambda _result: url_for(".timeline", name=_cycle_name(booking), start=_day_of(booking)),
    )


def _cycle_name(booking) -> str:
    return facility_queries.get_cycle(booking.cycle_id).name


@bp.post("/experiments/<int:booking_id>/check-swap")
@login_required
def check_swap(booking_id: int):
    booking, _experiment = _editable(booking_id)
    form = SwapForm()
    form.other_id.choices = [(b.id, b.title) for b, _e in queries.swap_candidates(booking)]
    if not form.validate_on_submit():
        return _render_experiment(booking_id, swap=form, status=422)
    try:
        placements = services.check_swap(booking.id, form.other_id.data, actor=current_user)
    except InvalidState as exc:
        form.form_errors.append(message(exc))
        return _render_experiment(booking_id, swap=form, status=409)
    return _check_fragment(
        placements,
        action=url_for(".swap", booking_id=booking.id),
        fields={"other_id": form.other_id.data},
        title=_("Swap %(ref)s", ref=booking.title),
    )


@bp.post("/experiments/<int:booking_id>/swap")
@login_required
def swap(booking_id: int):
    booking, _experiment = _editable(booking_id)
    form = SwapForm()
    form.other_id.choices = [(b.id, b.title) for b, _e in queries.swap_candidates(booking)]
    if not form.validate_on_submit():
        return _render_experiment(booking_id, swap=form, status=422)
    return actions.saved(
        form,
        lambda: services.swap_experiments(
            booking.id, form.other_id.data, confirm=form.confirm.data == "1", actor=current_user
        ),
        rerender=lambda form, status: _render_experiment(booking_id, swap=form, status=status),
        done=_("Swapped."),
        then=lambda _result: url_for(".timeline", name=_cycle_name(booking), start=_day_of(booking)),
    )


def _simple(booking_id: int, action, done: str):
    booking, _experiment = _editable(booking_id)
    return actions.confirmed(
        lambda: action(booking.id, actor=current_user),
        back=url_for(".experiment", booking_id=booking.id),
        done=done,
        then=url_for(".timeline", name=_cycle_name(booking), start=_day_of(booking)),
        refused_level="warning",
    )


@bp.post("/experiments/<int:booking_id>/pin")
@login_required
def pin(booking_id: int):
    return _simple(booking_id, services.pin_experiment, _("Pinned: a new solve keeps it where it is."))


@bp.post("/experiments/<int:booking_id>/unpin")
@login_required
def unpin(booking_id: int):
    return _simple(booking_id, services.unpin_experiment, _("Unpinned."))


@bp.post("/experiments/<int:booking_id>/remove")
@login_required
def remove(booking_id: int):
    return _simple(booking_id, services.remove_experiment, _("Removed from the draft."))


@bp.post("/experiments/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    booking, _experiment, _pinned = queries.experiment_detail(booking_id)
    require(permissions.can_cancel_experiment, current_user)
    form = CancelForm()
    if not form.validate_on_submit():
        return _render_experiment(booking_id, cancel=form, status=422)
    try:
        services.cancel_experiment(booking.id, reason=form.reason.data, actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_experiment(booking_id, cancel=form, status=422)
    except InvalidState as exc:
        form.form_errors.append(message(exc))
        return _render_experiment(booking_id, cancel=form, status=409)
    flash(_("Cancelled; the team is told."), "success")
    return redirect(url_for(".experiment", booking_id=booking.id))


@bp.post("/experiments/<int:booking_id>/delivery")
@login_required
def delivery(booking_id: int):
    _booking, experiment, _pinned = queries.experiment_detail(booking_id)
    if not permissions.can_record_delivery(current_user, experiment):
        abort(404)
    form = DeliveryForm()
    if not form.validate_on_submit():
        return _render_experiment(booking_id, delivery=form, status=422)
    try:
        services.record_delivery(
            booking_id,
            delivered=form.delivered_shifts.data,
            lost=form.lost_shifts.data,
            reason=form.lost_reason.data,
            note=form.lost_note.data,
            actor=current_user,
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_experiment(booking_id, delivery=form, status=422)
    except InvalidState as exc:
        form.form_errors.append(message(exc))
        return _render_experiment(booking_id, delivery=form, status=409)
    flash(_("Delivered shifts recorded."), "success")
    return redirect(url_for(".experiment", booking_id=booking_id))


# --- the proposal page tells its team the dates (the proposals domain's notices slot) -----


def _beamtime_notice(actor, proposal, facts=None):
    if proposal is None:
        return None
    if facts is not None and facts.get("published_sessions") is False:
        return None  # read with the proposal: nothing published, no statement of our own
    sessions = queries.published_sessions_of_proposal(proposal.id)
    if not sessions:
        return None
    g = facility_queries.grid()
    items = Markup("").join(
        Markup("<li>{} · {} – {}</li>").format(escape(b.instrument.code), g.local(b.starts_at), g.local(b.ends_at))
        for b in sessions
    )
    return Markup('<div class="beamtime-dates"><strong>{}</strong><ul class="mb-0">{}</ul></div>').format(
        _("Your beamtime (%(zone)s):", zone=g.tz.key), items
    )


def _register_notice() -> None:
    from app.proposals import queries as proposal_queries
    from app.proposals.views import NOTICES_SLOT

    proposal_queries.add_page_fact("published_sessions", queries.has_published_sessions)
    events.fill_slot(NOTICES_SLOT, _beamtime_notice)


_register_notice()
