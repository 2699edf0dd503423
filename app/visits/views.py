"""Pages of the visits domain: views parse, call one service, render or redirect."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.accounts import countries
from app.accounts import queries as accounts_queries
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed
from app.core.permissions import require
from app.visits import checklist, permissions, queries, services
from app.visits.forms import (
    AccessDecisionForm,
    AccessRuleForm,
    AddVisitorForm,
    ConfirmForm,
    CourseForm,
    DecisionForm,
    RegistrationForm,
    SafetyForm,
    TrainingRecordForm,
)
from app.visits.models import AccessStatus
from app.visits.status import Party, VisitStatus, actions_for
from app.web import actions, navigation
from app.web.messages import message

bp = Blueprint("visits", __name__, url_prefix="/visits", template_folder="templates")

_VISITS = _l("Visits")
navigation.register(_l("My visits"), "visits.mine", order=35)
navigation.register(_l("Visit requests"), "visits.office", predicate="can_view_office_queue", order=70, group=_VISITS)
navigation.register(
    _l("Site access"), "visits.access_queue", predicate="can_view_access_queue", order=71, group=_VISITS
)
navigation.register(
    _l("Experiment safety"), "visits.safety_queue", predicate="can_view_safety_queue", order=72, group=_VISITS
)
navigation.register(_l("Access rules"), "visits.rules", predicate="can_view_access_rules", order=73, group=_VISITS)
navigation.register(_l("Training"), "visits.training", predicate="can_record_training", order=74, group=_VISITS)

ITEM_LABELS = {
    "registration": _l("Registration"),
    "access": _l("Site access"),
    "training": _l("Training"),
    "safety": _l("Experiment safety"),
    "accommodation": _l("Accommodation"),
}
ACTOR_LABELS = {
    "visitor": _l("the visitor"),
    "team": _l("the team (PI or co-proposer)"),
    "instrument_scientist": _l("the instrument scientist"),
    "safety_reviewer": _l("the safety reviewer"),
    "access_approver": _l("the access approver"),
    "user_office": _l("the user office"),
}
STATE_LABELS = {
    "done": _l("done"),
    "todo": _l("to do"),
    "overdue": _l("overdue"),
    "not_needed": _l("not needed"),
    "refused": _l("refused"),
}
STATUS_LABELS = {
    "registered": _l("registered (remote)"),
    "requested": _l("requested"),
    "approved": _l("approved"),
    "changes_requested": _l("changes requested"),
    "refused": _l("refused"),
    "cancelled": _l("cancelled"),
    "on_site": _l("on site"),
    "completed": _l("completed"),
}
DETAIL_LABELS = {
    "form": _l("waits for the registration form"),
    "changes_requested": _l("the user office asked for changes"),
    "decision": _l("waits for a decision"),
    "waits_for_safety": _l("waits for the experiment's safety sign-off"),
    "waits_for_access": _l("waits for the site-access approval"),
    "approved": _l("approved"),
    "remote": _l("remote participation"),
    "room_to_be_assigned": _l("requested, room to be assigned"),
    "not_needed": _l("not needed"),
    "cancelled": _l("cancelled"),
}


def _now() -> datetime:
    return utcnow()


def detail_label(item: checklist.Item) -> str:
    if item.detail.startswith("late:"):
        return _("late request: %(days)s day(s) short of the lead time; the approver decides", days=item.detail[5:])
    if item.key == checklist.ItemKey.TRAINING and item.detail:
        return _("expired or missing by arrival: %(courses)s", courses=item.detail)
    label = DETAIL_LABELS.get(item.detail)
    return str(label) if label else ""


@bp.app_context_processor
def _labels():
    return {
        "visit_item_labels": ITEM_LABELS,
        "visit_actor_labels": ACTOR_LABELS,
        "visit_state_labels": STATE_LABELS,
        "visit_status_labels": STATUS_LABELS,
        "visit_detail_label": detail_label,
    }


# --- the visitor and the team -------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    now = _now()
    visits = queries.list_my_visits(current_user.id)
    return render_template(
        "visits/mine.html",
        visits=queries.checklists(visits, now),
        experiments=queries.list_team_experiments(current_user.id),
    )


def _add_form(experiment, form: AddVisitorForm | None = None) -> AddVisitorForm:
    form = form or AddVisitorForm(formdata=None)
    members = experiment.award.proposal.members
    form.user_id.choices = [("", _("— choose —"))] + [(str(m.user_id), m.user.name) for m in members]
    return form


def _render_experiment(experiment, *, add_form=None, safety_form=None, status: int = 200):
    now = _now()
    safety = queries.find_safety(experiment.booking_id)
    if safety_form is None:
        safety_form = SafetyForm(
            formdata=None, data={"samples": services.format_samples(queries.declared_samples(experiment))}
        )
    visits = queries.list_visits(experiment.booking_id)
    starts_on, ends_on = queries.experiment_days(experiment)
    return render_template(
        "visits/experiment.html",
        experiment=experiment,
        proposal=experiment.award.proposal,
        starts_on=starts_on,
        ends_on=ends_on,
        visits=queries.checklists(visits, now),
        invitations=queries.list_invitations(experiment.booking_id, now),
        add_form=_add_form(experiment, add_form),
        safety_form=safety_form,
        safety=safety,
        safety_done=queries.safety_done(safety),
        needs_reviewer=queries.needs_safety_reviewer(safety),
        samples=queries.declared_samples(experiment),
        confirm_form=ConfirmForm(formdata=None),
    ), status


@bp.get("/experiments/<int:experiment_id>")
@login_required
def experiment(experiment_id: int):
    return _render_experiment(queries.get_experiment(experiment_id, current_user))


@bp.post("/experiments/<int:experiment_id>/visitors")
@login_required
def add_visitor(experiment_id: int):
    experiment = queries.get_experiment(experiment_id, current_user)
    require(permissions.can_manage_visitors, current_user, experiment)
    form = _add_form(experiment, AddVisitorForm())
    if not form.validate_on_submit():
        return _render_experiment(experiment, add_form=form, status=422)
    user_id = int(form.user_id.data) if (form.user_id.data or "").isdigit() else None
    email = (form.email.data or "").strip() or None
    if user_id is None and email is None:
        form.user_id.errors = [_("Choose a team member or enter an e-mail address.")]
        return _render_experiment(experiment, add_form=form, status=422)
    try:
        result = services.add_visitor(
            experiment.booking_id,
            mode=form.mode.data,
            user_id=user_id,
            email=email if user_id is None else None,
            actor=current_user,
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_experiment(experiment, add_form=form, status=422)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".experiment", experiment_id=experiment_id))
    if isinstance(result, tuple):
        flash(_("Invitation sent to %(email)s.", email=result[0].email), "success")
    else:
        flash(_("%(name)s is named for this experiment.", name=result.user.name), "success")
    return redirect(url_for(".experiment", experiment_id=experiment_id))


@bp.post("/experiments/<int:experiment_id>/safety")
@login_required
def confirm_safety(experiment_id: int):
    experiment = queries.get_experiment(experiment_id, current_user)
    require(permissions.can_confirm_safety, current_user, experiment)
    form = SafetyForm()
    if not form.validate_on_submit():
        return _render_experiment(experiment, safety_form=form, status=422)
    try:
        samples = services.parse_samples(form.samples.data or "")
        services.confirm_safety(experiment.booking_id, samples, actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_experiment(experiment, safety_form=form, status=422)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".experiment", experiment_id=experiment_id))
    flash(_("Samples and hazards confirmed."), "success")
    return redirect(url_for(".experiment", experiment_id=experiment_id))


@bp.post("/experiments/<int:experiment_id>/safety/sign")
@login_required
def sign_safety(experiment_id: int):
    experiment = queries.get_experiment(experiment_id, current_user)
    require(permissions.can_sign_safety, current_user, experiment)
    back = url_for(".experiment", experiment_id=experiment_id)
    target = request.form.get("next") or ""
    if not target.startswith("/visits/") or "//" in target:
        target = back
    return actions.confirmed(
        lambda: services.sign_safety(experiment.booking_id, actor=current_user),
        back=back,
        done=_("Safety signed off."),
        then=target,
    )


@bp.get("/experiments/<int:experiment_id>/visitors.csv")
@login_required
def export(experiment_id: int):
    """The experiment's visitors as CSV: never citizenship, never an emergency contact."""
    experiment = queries.get_experiment(experiment_id, current_user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "name",
            "email",
            "mode",
            "status",
            "institution",
            "country",
            "arrives_on",
            "departs_on",
            "accommodation",
            "dosimeter",
            "access",
            "late_days",
        ]
    )
    for v in queries.list_visits(experiment.booking_id):
        writer.writerow(
            [
                v.user.name,
                v.user.email,
                v.mode.value,
                v.status.value,
                v.institution_name or "",
                v.country_code or "",
                v.arrives_on or "",
                v.departs_on or "",
                "" if v.accommodation_wanted is None else int(v.accommodation_wanted),
                int(v.dosimeter_needed),
                v.access_status.value,
                v.access_late_days,
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="visitors-{experiment.booking_id}.csv"'},
    )


# --- one visit ------------------------------------------------------------------------------


def _registration_form(visit, form: RegistrationForm | None = None) -> RegistrationForm:
    if form is None:
        form = RegistrationForm(
            formdata=None,
            data={
                "arrives_on": visit.arrives_on,
                "departs_on": visit.departs_on,
                "emergency_contact_name": visit.emergency_contact_name or "",
                "emergency_contact_phone": visit.emergency_contact_phone or "",
                "accommodation_wanted": bool(visit.accommodation_wanted),
                "dosimeter_needed": visit.dosimeter_needed,
                "citizenship": visit.citizenship or "",
            },
        )
    form.citizenship.choices = [("", _("— choose —"))] + countries.choices(str(get_locale() or "en"))
    return form


def _render_visit(visit, *, form=None, decision_form=None, access_form=None, status: int = 200):
    now = _now()
    items = queries.visit_checklist(visit, now)
    starts_on, ends_on = queries.experiment_days(visit.experiment)
    party = Party.OFFICE
    return render_template(
        "visits/visit.html",
        visit=visit,
        experiment=visit.experiment,
        proposal=visit.experiment.award.proposal,
        starts_on=starts_on,
        ends_on=ends_on,
        items=items,
        all_green=checklist.all_green(items),
        form=_registration_form(visit, form),
        ask_citizenship=queries.needs_citizenship(),
        editable=visit.status in (VisitStatus.REQUESTED, VisitStatus.CHANGES_REQUESTED) and not visit.is_remote,
        decision_form=decision_form or DecisionForm(formdata=None),
        office_actions=[a.value for a in actions_for(visit.status, party)],
        access_form=access_form or AccessDecisionForm(formdata=None),
        access_pending=visit.access_status == AccessStatus.PENDING,
        can_cancel=visit.status in (VisitStatus.REQUESTED, VisitStatus.CHANGES_REQUESTED, VisitStatus.REGISTERED),
        confirm_form=ConfirmForm(formdata=None),
        country_name=lambda code: countries.name(code, str(get_locale() or "en")) if code else "",
    ), status


@bp.get("/<int:visit_id>")
@login_required
def visit(visit_id: int):
    return _render_visit(queries.get_visit(visit_id, current_user))


@bp.post("/<int:visit_id>/register")
@login_required
def register(visit_id: int):
    visit = queries.get_visit(visit_id, current_user)
    require(permissions.can_edit_registration, current_user, visit)
    form = _registration_form(visit, RegistrationForm())
    if not form.validate_on_submit():
        return _render_visit(visit, form=form, status=422)
    data = services.RegistrationInput(
        arrives_on=form.arrives_on.data,
        departs_on=form.departs_on.data,
        emergency_contact_name=form.emergency_contact_name.data or "",
        emergency_contact_phone=form.emergency_contact_phone.data or "",
        accommodation_wanted=bool(form.accommodation_wanted.data),
        dosimeter_needed=bool(form.dosimeter_needed.data),
        citizenship=form.citizenship.data or None,
    )
    try:
        services.complete_registration(visit.id, data, actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_visit(queries.get_visit(visit_id, current_user), form=form, status=422)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".visit", visit_id=visit_id))
    flash(_("Registration saved."), "success")
    return redirect(url_for(".visit", visit_id=visit_id))


@bp.post("/<int:visit_id>/cancel")
@login_required
def cancel(visit_id: int):
    visit = queries.get_visit(visit_id, current_user)
    require(permissions.can_cancel_visit, current_user, visit)
    return actions.confirmed(
        lambda: services.cancel_visit(visit.id, actor=current_user),
        back=url_for(".visit", visit_id=visit_id),
        done=_("Visit cancelled."),
    )


@bp.post("/<int:visit_id>/decide")
@login_required
def decide(visit_id: int):
    visit = queries.get_visit(visit_id, current_user)
    require(permissions.can_decide_visits, current_user, visit)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_visit(visit, decision_form=form, status=422)
    try:
        services.decide_visit(visit.id, form.action.data, reason=form.reason.data or "", actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_visit(visit, decision_form=form, status=422)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".visit", visit_id=visit_id))
    flash(_("Decision recorded."), "success")
    return redirect(url_for(".visit", visit_id=visit_id))


@bp.post("/<int:visit_id>/access")
@login_required
def decide_access(visit_id: int):
    visit = queries.get_visit(visit_id, current_user)
    require(permissions.can_decide_access, current_user, visit)
    form = AccessDecisionForm()
    if not form.validate_on_submit():
        return _render_visit(visit, access_form=form, status=422)
    try:
        services.decide_access(visit.id, form.decision.data == "approve", note=form.note.data or "", actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_visit(visit, access_form=form, status=422)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".visit", visit_id=visit_id))
    flash(_("Site-access decision recorded."), "success")
    return redirect(url_for(".visit", visit_id=visit_id))


# --- invitations ------------------------------------------------------------------------------


@bp.get("/invitations/<token>")
@login_required
def invitation(token: str):
    try:
        invitation = services.invitation_for_token(token)
    except InvalidState as exc:
        return render_template("visits/invitation.html", invitation=None, error=message(exc)), 400
    return render_template(
        "visits/invitation.html", invitation=invitation, error=None, form=ConfirmForm(formdata=None), token=token
    )


@bp.post("/invitations/<token>")
@login_required
def accept_invitation(token: str):
    if not ConfirmForm().validate_on_submit():
        return actions.session_expired(url_for(".invitation", token=token))
    try:
        visit = services.accept_invitation(token, actor=current_user)
    except (InvalidState, Conflict) as exc:
        return render_template("visits/invitation.html", invitation=None, error=message(exc)), 400
    except PermissionDenied as exc:
        return render_template("visits/invitation.html", invitation=None, error=message(exc)), 403
    flash(_("You take part in this experiment: complete your registration."), "success")
    return redirect(url_for(".visit", visit_id=visit.id))


# --- staff queues ------------------------------------------------------------------------------


@bp.get("/office")
@login_required
def office():
    require(permissions.can_view_office_queue, current_user)
    now = _now()
    return render_template(
        "visits/queue.html",
        title=_("Visit requests"),
        rows=queries.checklists(queries.office_queue(), now),
        show_citizenship=False,
    )


@bp.get("/access")
@login_required
def access_queue():
    require(permissions.can_view_access_queue, current_user)
    now = _now()
    return render_template(
        "visits/queue.html",
        title=_("Site access requests"),
        rows=queries.checklists(queries.access_queue(), now),
        show_citizenship=True,
        country_name=lambda code: countries.name(code, str(get_locale() or "en")) if code else "",
    )


@bp.get("/safety")
@login_required
def safety_queue():
    require(permissions.can_view_safety_queue, current_user)
    return render_template(
        "visits/safety_queue.html", rows=queries.safety_queue(current_user), confirm_form=ConfirmForm(formdata=None)
    )


# --- access rules and training -----------------------------------------------------------------


def _rule_form(form: AccessRuleForm | None = None) -> AccessRuleForm:
    form = form or AccessRuleForm(formdata=None)
    form.country_group_id.choices = [(g.id, g.name) for g in accounts_queries.list_country_groups()]
    return form


def _render_rules(form=None, status: int = 200):
    return render_template(
        "visits/rules.html",
        rules=queries.list_access_rules(),
        form=_rule_form(form),
        confirm_form=ConfirmForm(formdata=None),
    ), status


@bp.get("/rules")
@login_required
def rules():
    require(permissions.can_view_access_rules, current_user)
    return _render_rules()


@bp.post("/rules")
@login_required
def create_rule():
    require(permissions.can_manage_access_rules, current_user)
    form = _rule_form(AccessRuleForm())
    if not form.validate_on_submit():
        return _render_rules(form, 422)
    raw = (form.lead_days.data or "").strip()
    if not raw.isdigit():
        form.lead_days.errors = [_("Enter a whole number of days from 0 to 365.")]
        return _render_rules(form, 422)
    try:
        services.create_access_rule(
            form.country_group_id.data,
            lead_days=int(raw),
            working_days=form.working_days.data,
            needs_approval=form.needs_approval.data,
            by_citizenship=form.by_citizenship.data,
            actor=current_user,
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_rules(form, 422)
    flash(_("Access rule added."), "success")
    return redirect(url_for(".rules"))


@bp.post("/rules/<int:rule_id>/delete")
@login_required
def delete_rule(rule_id: int):
    require(permissions.can_manage_access_rules, current_user)
    return actions.confirmed(
        lambda: services.delete_access_rule(rule_id, actor=current_user),
        back=url_for(".rules"),
        done=_("Access rule removed."),
    )


def _record_form(form: TrainingRecordForm | None = None) -> TrainingRecordForm:
    form = form or TrainingRecordForm(formdata=None)
    form.course_id.choices = [(c.id, c.name) for c in queries.list_courses(active_only=True)]
    return form


def _render_training(course_form=None, record_form=None, status: int = 200):
    return render_template(
        "visits/training.html",
        courses=queries.list_courses(),
        records=queries.list_records(),
        course_form=course_form or CourseForm(formdata=None),
        record_form=_record_form(record_form),
    ), status


@bp.get("/training")
@login_required
def training():
    require(permissions.can_record_training, current_user)
    return _render_training()


@bp.post("/training/courses")
@login_required
def create_course():
    require(permissions.can_manage_training, current_user)
    form = CourseForm()
    if not form.validate_on_submit():
        return _render_training(course_form=form, status=422)
    raw = (form.validity_days.data or "").strip()
    if not raw.isdigit():
        form.validity_days.errors = [_("Enter a whole number of days.")]
        return _render_training(course_form=form, status=422)
    try:
        services.create_course(
            form.name.data or "", int(raw), required_on_site=form.required_on_site.data, actor=current_user
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_training(course_form=form, status=422)
    flash(_("Course added."), "success")
    return redirect(url_for(".training"))


@bp.post("/training/records")
@login_required
def record_training():
    require(permissions.can_record_training, current_user)
    form = _record_form(TrainingRecordForm())
    if not form.validate_on_submit():
        return _render_training(record_form=form, status=422)
    try:
        services.record_training(
            form.user_email.data or "", form.course_id.data, form.completed_on.data, actor=current_user
        )
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        return _render_training(record_form=form, status=422)
    flash(_("Training recorded."), "success")
    return redirect(url_for(".training"))
