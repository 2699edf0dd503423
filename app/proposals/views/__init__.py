"""Pages of the proposals domain: open calls, my proposals, the editor (autosave with htmx),
team, requests, samples, dates, links, science case upload and download, submit, withdraw,
clone, print view, invitations; for staff, a call's proposals with filters and exports."""

from __future__ import annotations

import csv
import functools
import io
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.core.db import utcnow
from app.core.errors import Conflict, DomainError, InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import require
from app.extensions import login_manager
from app.facility import queries as facility_queries
from app.facility.models import OperatingMode
from app.proposals import permissions, queries, services, storage
from app.proposals.forms import (
    DATE_KIND_LABELS,
    FORM_LABELS,
    HAZARD_LABELS,
    SUBJECT_LABELS,
    CloneForm,
    DateForm,
    InviteForm,
    LinkForm,
    ProposalTextForm,
    RequestForm,
    SampleFormFields,
    UploadForm,
)
from app.proposals.models import AccessRoute
from app.proposals.status import ProposalStatus
from app.proposals.views import fragments
from app.web import actions, navigation
from app.web.forms import ConfirmForm
from app.web.messages import MESSAGES, message
from app.web.reads import read_only
from app.web.templating import local_datetime

bp = Blueprint("proposals", __name__, template_folder="../templates")

navigation.register(_l("Open calls"), "proposals.calls", order=10)
navigation.register(_l("My proposals"), "proposals.mine", order=11)
navigation.register(
    _l("Calls"), "proposals.staff_calls", predicate="can_list_call_proposals", order=30, group=navigation.PROGRAMME
)

STATUS_LABELS = {
    ProposalStatus.DRAFT: _l("draft"),
    ProposalStatus.SUBMITTED: _l("submitted"),
    ProposalStatus.UNDER_REVIEW: _l("under review"),
    ProposalStatus.ACCEPTED: _l("accepted"),
    ProposalStatus.RESERVE: _l("reserve"),
    ProposalStatus.REJECTED: _l("rejected"),
    ProposalStatus.SCHEDULED: _l("scheduled"),
    ProposalStatus.COMPLETED: _l("completed"),
    ProposalStatus.WITHDRAWN: _l("withdrawn"),
}
ROUTE_LABELS = {
    AccessRoute.STANDARD: _l("standard"),
    AccessRoute.RAPID_ACCESS: _l("rapid access"),
    AccessRoute.LONG_TERM: _l("long-term"),
    AccessRoute.PROPRIETARY: _l("proprietary"),
}


#: the proposal page's slot for notices from higher domains (reviews: the released decision);
#: fillers take (actor=, proposal=, facts=) and return markup or None (DESIGN.md §4 rule 6).
#: `facts` holds the values their `queries.add_page_fact` columns read with the proposal (no
#: statement of their own), or is None when the page was loaded another way (a form's error):
#: then a filler reads what it needs itself.
NOTICES_SLOT = "proposals.edit.notices"


@bp.app_template_global()
def proposal_notices(proposal, facts=None) -> list:
    from app.core import events

    return events.slot_contents(NOTICES_SLOT, actor=current_user._get_current_object(), proposal=proposal, facts=facts)


@bp.app_template_global()
def proposal_status_label(status) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global()
def access_route_label(route) -> str:
    return str(ROUTE_LABELS.get(route, route))


@functools.lru_cache(maxsize=32)
def _list_labels(locale: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The staff list's status labels and route choices, translated once per locale (called
    within a request of that locale): 13 lazy strings a page were ~3 % of it."""
    return (
        {s.value: str(STATUS_LABELS[s]) for s in ProposalStatus},
        [(r.value, access_route_label(r)) for r in AccessRoute],
    )


@bp.app_template_filter("time_left")
def time_left(closes_at: datetime) -> str:
    seconds = int((closes_at - utcnow()).total_seconds())
    if seconds <= 0:
        return _("closed")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return ngettext("%(num)s day %(hours)s h left", "%(num)s days %(hours)s h left", days, hours=hours)
    return _("%(hours)s h %(minutes)s min left", hours=hours, minutes=rest // 60)


def explain(exc: DomainError) -> str:
    """The error's sentence, with instants shown in the facility's time zone."""
    params = {k: local_datetime(v) if isinstance(v, datetime) else v for k, v in exc.params.items()}
    return message(type(exc)(exc.code, **params) if not isinstance(exc, ValidationFailed) else _copy(exc, params))


def _copy(exc: ValidationFailed, params: dict) -> ValidationFailed:
    params = dict(params)
    field = params.pop("field", exc.field)
    return ValidationFailed(exc.code, field=field, **params)


def problem_texts(items: list[dict]) -> list[str]:
    out = []
    for item in items:
        params = {k: v for k, v in item.items() if k != "code"}
        template = MESSAGES.get(item["code"])
        out.append(str(template % params) if template is not None and params else str(template or item["code"]))
    return out


def _session_expired_redirect(endpoint: str, **values):
    flash(_("Your session expired; please try again."), "warning")
    return redirect(url_for(endpoint, **values))


def attach_error(form, exc: DomainError) -> None:
    name = exc.field if isinstance(exc, ValidationFailed) else None
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, explain(exc)]
    else:
        form.form_errors.append(explain(exc))


# --- calls and my proposals ---------------------------------------------------------------


@bp.get("/calls")
@login_required
def calls():
    return render_template("proposals/calls.html", calls=queries.list_open_calls(), form=ConfirmForm())


@bp.get("/proposals")
@login_required
def mine():
    return render_template("proposals/mine.html", proposals=queries.list_my_proposals(current_user.id))


@bp.post("/calls/<int:call_id>/proposals")
@login_required
def create(call_id: int):
    if not ConfirmForm().validate_on_submit():
        return _session_expired_redirect(".calls")
    try:
        proposal = services.create_proposal(call_id, actor=current_user)
    except InvalidState as exc:
        flash(explain(exc), "warning")
        return redirect(url_for(".calls"))
    flash(_("Your draft is started. It saves as you type."), "success")
    return redirect(url_for(".edit", proposal_id=proposal.id))


# --- the editor ---------------------------------------------------------------------------


def _request_form(proposal, formdata=None) -> RequestForm:
    form = RequestForm(formdata=formdata, prefix="req")
    form.instrument_id.choices = [
        (o.instrument_id, f"{o.instrument.code} — {o.instrument.name}") for o in proposal.call.instruments
    ]
    modes = OperatingMode.query.filter_by(active=True).order_by(OperatingMode.name).all()
    form.operating_mode_id.choices = [("", _("any"))] + [(m.id, m.name) for m in modes]
    return form


def _edits(proposal, now) -> bool:
    """Whether the current person gets the editor: the proposal still editable, and theirs to edit."""
    return proposal.is_editable(now) and permissions.can_edit_proposal(current_user, proposal)


def _render_editor(proposal, status: int = 200, facts=None, parts=None, now=None, **forms):
    """The proposal page, of a `Proposal` or of the plain `queries.PageProposal` (when the
    person does not edit it). What only the editor shows (forms, completeness, suggestions) is
    built only when the person may edit; the clone form only for the team. `parts` (read at
    `now`) when the caller has them already."""
    now = now or utcnow()
    editable = _edits(proposal, now)
    is_pi = permissions.is_proposal_pi(current_user, proposal)
    editor: dict = {}
    if editable:
        editor = {
            "text_form": forms.get("text_form")
            or ProposalTextForm(
                formdata=None,
                data={
                    "title": proposal.title,
                    "abstract": proposal.abstract,
                    "subject_area": proposal.subject_area.value if proposal.subject_area else "",
                },
            ),
            "problems": problem_texts([p.as_dict() for p in services.problems_of(proposal)]),
            "upload_form": forms.get("upload_form") or UploadForm(formdata=None),
            "request_form": forms.get("request_form") or _request_form(proposal),
            "sample_form": forms.get("sample_form") or SampleFormFields(formdata=None, prefix="smp"),
            "date_form": forms.get("date_form") or DateForm(formdata=None, prefix="dt"),
            "invite_form": forms.get("invite_form") or InviteForm(formdata=None, prefix="inv"),
            "link_form": forms.get("link_form") or LinkForm(formdata=None, prefix="lnk"),
            "suggestions": queries.previous_collaborators(current_user.id, limit=10)
            if is_pi and forms.get("with_suggestions", True)
            else [],
        }
    if parts is None:
        parts = queries.proposal_parts(proposal.id, now)  # with the open calls, for the clone form
    clone_form = None
    if permissions.is_team_member(current_user, proposal):
        other_calls = [(i, title) for i, title in parts.open_calls if i != proposal.call_id]
        if other_calls:
            clone_form = CloneForm(formdata=None)
            clone_form.call_id.choices = other_calls
    return render_template(
        "proposals/edit.html",
        proposal=proposal,
        parts=parts,
        editable=editable,
        is_pi=is_pi,
        clone_form=clone_form,
        confirm=ConfirmForm(),
        submit_problems=forms.get("submit_problems"),
        facts=facts,
        now=now,
        labels={"hazard": HAZARD_LABELS, "form": FORM_LABELS, "date": DATE_KIND_LABELS, "subject": SUBJECT_LABELS},
        **editor,
    ), status


@bp.get("/proposals/<int:proposal_id>")
@read_only
@login_required
def edit(proposal_id: int):
    # the same rule and the same answer as services.get_visible_proposal, on the proposal read
    # as plain rows with everything the page shows (queries.proposal_page)
    now = utcnow()
    found = queries.proposal_page(proposal_id, now)
    if found is None or not permissions.can_view_proposal(current_user, found.proposal):
        raise NotFound("proposal_not_found")
    if _edits(found.proposal, now):
        # the editor's forms and completeness check work on the entity: one statement more
        entity = queries.proposal_for_page(proposal_id)
        if entity is None:  # deleted in between
            raise NotFound("proposal_not_found")
        return _render_editor(entity[0], facts=entity[1], parts=found.parts, now=now)
    return _render_editor(found.proposal, facts=found.facts, parts=found.parts, now=now)


@bp.post("/proposals/<int:proposal_id>/autosave")
def autosave(proposal_id: int):
    """htmx: save one field; answers a small status fragment (never a redirect to log in,
    so the text on the page stays where it is)."""
    if not current_user.is_authenticated:
        if not request.headers.get("HX-Request"):
            return login_manager.unauthorized()
        return render_template(
            "proposals/_saved.html",
            error=_(
                "Your session expired. Nothing on this page is lost: log in again in another tab, then keep typing."
            ),
        ), 401
    field = next((name for name in ("title", "abstract", "subject_area") if name in request.form), None)
    if field is None:
        return render_template("proposals/_saved.html", error=_("Nothing to save.")), 400
    try:
        services.update_proposal(proposal_id, {field: request.form[field]}, actor=current_user)
    except (ValidationFailed, InvalidState) as exc:
        return render_template("proposals/_saved.html", error=explain(exc), field=field)
    return render_template("proposals/_saved.html", saved_at=utcnow(), field=field)


@bp.post("/proposals/<int:proposal_id>/text")
@login_required
def save_text(proposal_id: int):
    """The same save without JavaScript: the whole text form at once."""
    proposal = services.get_visible_proposal(proposal_id, current_user)
    form = ProposalTextForm()
    if not form.validate_on_submit():
        return _session_expired_redirect(".edit", proposal_id=proposal_id)
    try:
        services.update_proposal(
            proposal_id,
            {"title": form.title.data, "abstract": form.abstract.data, "subject_area": form.subject_area.data},
            actor=current_user,
        )
    except (ValidationFailed, InvalidState) as exc:
        attach_error(form, exc)
        return _render_editor(proposal, 422, text_form=form)
    flash(_("Saved."), "success")
    return redirect(url_for(".edit", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/science-case")
@login_required
def upload(proposal_id: int):
    proposal = services.get_visible_proposal(proposal_id, current_user)
    form = UploadForm()
    if not form.validate_on_submit():
        return _session_expired_redirect(".edit", proposal_id=proposal_id)
    data, filename = actions.uploaded(form.science_case.data, services.pdf_limits().max_bytes)
    try:
        services.upload_science_case(
            proposal_id, data, filename, upload_dir=current_app.config["UPLOAD_DIR"], actor=current_user
        )
    except (ValidationFailed, InvalidState) as exc:
        attach_error(form, exc)
        return _render_editor(proposal, 422, upload_form=form)
    flash(_("Science case uploaded."), "success")
    return redirect(url_for(".edit", proposal_id=proposal_id, _anchor="science-case"))


@bp.get("/proposals/<int:proposal_id>/science-case")
@login_required
def science_case(proposal_id: int):
    proposal = services.get_visible_proposal(proposal_id, current_user)
    if not proposal.science_case_key:
        return render_template("errors/404.html", message=message(DomainError("file_not_found")), status=404), 404
    handle = storage.open_file(current_app.config["UPLOAD_DIR"], proposal.science_case_key)
    name = f"{proposal.reference or f'draft-{proposal.id}'}-science-case.pdf"
    response = send_file(handle, mimetype="application/pdf", as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _part_post(proposal_id: int, form, call, anchor: str, form_key: str, done: str):
    proposal = services.get_visible_proposal(proposal_id, current_user)
    if "csrf_token" in form.errors:
        return _session_expired_redirect(".edit", proposal_id=proposal_id)
    try:
        call()
    except (ValidationFailed, InvalidState) as exc:
        attach_error(form, exc)
        return _render_editor(proposal, 422, **{form_key: form})
    flash(done, "success")
    return redirect(url_for(".edit", proposal_id=proposal_id, _anchor=anchor))


@bp.post("/proposals/<int:proposal_id>/requests")
@login_required
def add_request(proposal_id: int):
    proposal = services.get_visible_proposal(proposal_id, current_user)
    form = _request_form(proposal, formdata=request.form)
    form.validate_on_submit()
    data = services.RequestInput(
        instrument_id=form.instrument_id.data,
        shifts=form.shifts.data,
        cycles=form.cycles.data or 1,
        justification=form.justification.data or "",
        operating_mode_id=form.operating_mode_id.data,
    )
    return _part_post(
        proposal_id,
        form,
        lambda: services.add_request(proposal_id, data, actor=current_user),
        "requests",
        "request_form",
        _("Request added."),
    )


@bp.post("/proposals/<int:proposal_id>/requests/<int:request_id>/delete")
@login_required
def remove_request(proposal_id: int, request_id: int):
    return _simple(proposal_id, lambda: services.remove_request(request_id, actor=current_user), _("Request removed."))


@bp.post("/proposals/<int:proposal_id>/samples")
@login_required
def add_sample(proposal_id: int):
    form = SampleFormFields(prefix="smp")
    form.validate_on_submit()
    data = services.SampleInput(
        name=form.name.data or "",
        form=form.form.data or "",
        formula=form.formula.data or "",
        quantity=form.quantity.data or "",
        hazards=form.hazards.data or [],
        biological_risk_group=form.biological_risk_group.data,
    )
    return _part_post(
        proposal_id,
        form,
        lambda: services.add_sample(proposal_id, data, actor=current_user),
        "samples",
        "sample_form",
        _("Sample added."),
    )


@bp.post("/proposals/<int:proposal_id>/samples/<int:sample_id>/delete")
@login_required
def remove_sample(proposal_id: int, sample_id: int):
    return _simple(proposal_id, lambda: services.remove_sample(sample_id, actor=current_user), _("Sample removed."))


@bp.post("/proposals/<int:proposal_id>/dates")
@login_required
def add_date(proposal_id: int):
    form = DateForm(prefix="dt")
    form.validate_on_submit()
    data = services.DateInput(
        kind=form.kind.data or "", starts_on=form.starts_on.data, ends_on=form.ends_on.data, note=form.note.data or ""
    )
    return _part_post(
        proposal_id,
        form,
        lambda: services.add_date(proposal_id, data, actor=current_user),
        "dates",
        "date_form",
        _("Dates added."),
    )


@bp.post("/proposals/<int:proposal_id>/dates/<int:date_id>/delete")
@login_required
def remove_date(proposal_id: int, date_id: int):
    return _simple(proposal_id, lambda: services.remove_date(date_id, actor=current_user), _("Dates removed."))


@bp.post("/proposals/<int:proposal_id>/links")
@login_required
def add_link(proposal_id: int):
    form = LinkForm(prefix="lnk")
    form.validate_on_submit()
    return _part_post(
        proposal_id,
        form,
        lambda: services.link_earlier_proposal(proposal_id, form.reference.data or "", actor=current_user),
        "links",
        "link_form",
        _("Earlier proposal linked."),
    )


@bp.post("/proposals/<int:proposal_id>/invitations")
@login_required
def invite(proposal_id: int):
    form = InviteForm(prefix="inv")
    form.validate_on_submit()
    return _part_post(
        proposal_id,
        form,
        lambda: services.invite_member(proposal_id, form.email.data or "", actor=current_user),
        "team",
        "invite_form",
        _("Invitation sent."),
    )


@bp.post("/proposals/<int:proposal_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(proposal_id: int, invitation_id: int):
    return _simple(
        proposal_id,
        lambda: services.revoke_invitation(invitation_id, actor=current_user),
        _("Invitation withdrawn."),
    )


@bp.post("/proposals/<int:proposal_id>/members/<int:user_id>/pi")
@login_required
def hand_over(proposal_id: int, user_id: int):
    return _simple(
        proposal_id,
        lambda: services.hand_over_pi(proposal_id, user_id, actor=current_user),
        _("The principal investigator role was handed over."),
    )


@bp.post("/proposals/<int:proposal_id>/members/<int:user_id>/remove")
@login_required
def remove_member(proposal_id: int, user_id: int):
    leaving = user_id == current_user.id
    return _simple(
        proposal_id,
        lambda: services.remove_member(proposal_id, user_id, actor=current_user),
        _("You left the team.") if leaving else _("Removed from the team."),
        then=url_for(".mine") if leaving else None,
    )


def _simple(proposal_id: int, call, done: str, *, then: str | None = None):
    """A button: CSRF, one service call, a message, back to the editor (or `then` on success)."""
    services.get_visible_proposal(proposal_id, current_user)
    if not ConfirmForm().validate_on_submit():
        return _session_expired_redirect(".edit", proposal_id=proposal_id)
    try:
        call()
    except (ValidationFailed, InvalidState, Conflict) as exc:
        flash(explain(exc), "danger")
    else:
        flash(done, "success")
        if then:
            return redirect(then)
    return redirect(url_for(".edit", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    proposal = services.get_visible_proposal(proposal_id, current_user)
    if not ConfirmForm().validate_on_submit():
        return _session_expired_redirect(".edit", proposal_id=proposal_id)
    try:
        proposal = services.submit_proposal(proposal_id, actor=current_user)
    except InvalidState as exc:
        flash(explain(exc), "danger")
        if exc.code == "proposal_incomplete":
            proposal = services.get_visible_proposal(proposal_id, current_user)
            return _render_editor(proposal, 409, submit_problems=problem_texts(exc.params["items"]))
        return redirect(url_for(".edit", proposal_id=proposal_id))
    flash(_("Proposal %(ref)s submitted.", ref=proposal.reference), "success")
    return redirect(url_for(".edit", proposal_id=proposal.id))


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    return _simple(
        proposal_id, lambda: services.withdraw_proposal(proposal_id, actor=current_user), _("Proposal withdrawn.")
    )


@bp.post("/proposals/<int:proposal_id>/clone")
@login_required
def clone(proposal_id: int):
    require(permissions.is_team_member, current_user, services.get_visible_proposal(proposal_id, current_user))
    form = CloneForm()
    form.call_id.choices = queries.open_call_choices()
    if not form.validate_on_submit():
        flash(_("Choose an open call."), "warning")
        return redirect(url_for(".edit", proposal_id=proposal_id))
    try:
        result = services.clone_proposal(proposal_id, form.call_id.data, actor=current_user)
    except InvalidState as exc:
        flash(explain(exc), "danger")
        return redirect(url_for(".edit", proposal_id=proposal_id))
    flash(_("A new draft was made from the proposal."), "success")
    if result.dropped:
        flash(
            _(
                "Requests for %(instruments)s were not copied: the new call does not offer them.",
                instruments=", ".join(result.dropped),
            ),
            "warning",
        )
    return redirect(url_for(".edit", proposal_id=result.proposal.id))


@bp.get("/proposals/<int:proposal_id>/print")
@login_required
def print_view(proposal_id: int):
    proposal = services.get_visible_proposal(proposal_id, current_user)
    return render_template(
        "proposals/print.html",
        proposal=proposal,
        labels={"hazard": HAZARD_LABELS, "form": FORM_LABELS, "date": DATE_KIND_LABELS, "subject": SUBJECT_LABELS},
    )


# --- invitations --------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str):
    """Opened from the e-mail. Without an account, log-in offers registration and comes back here."""
    form = ConfirmForm()
    problem, status = None, 200
    try:
        found = services.invitation_for_token(token)
    except InvalidState as exc:
        return render_template("proposals/invitation.html", problem=explain(exc), invitation=None, form=form), 400
    if form.validate_on_submit():
        try:
            proposal = services.accept_invitation(token, actor=current_user)
        except (InvalidState, Conflict, PermissionDenied) as exc:
            problem = explain(exc)
            status = exc.status
        else:
            flash(_("Welcome to the team of %(title)s.", title=proposal.title or proposal.label), "success")
            return redirect(url_for(".edit", proposal_id=proposal.id))
    return render_template("proposals/invitation.html", invitation=found, problem=problem, form=form), status


# --- staff --------------------------------------------------------------------------------


@bp.get("/staff/calls")
@login_required
def staff_calls():
    require(permissions.can_list_call_proposals, current_user)
    calls = queries.list_calls()
    by_cycle: dict[int, list] = {}
    for call in calls:
        by_cycle.setdefault(call.cycle_id, []).append(call)
    return render_template(
        "proposals/staff_calls.html",
        cycles=facility_queries.list_cycles(),
        by_cycle=by_cycle,
        counts=queries.count_submitted_by_call(),
        now=utcnow(),
    )


_STATUS_VALUES = frozenset(s.value for s in ProposalStatus)
_ROUTE_VALUES = frozenset(r.value for r in AccessRoute)


def _filters(call_id: int) -> queries.ProposalFilters:
    args = request.args
    instrument = args.get("instrument", type=int)
    return queries.ProposalFilters(
        call_id=call_id,
        instrument_id=instrument,
        country=(args.get("country") or "").strip().upper()[:2] or None,
        status=args.get("status") if args.get("status") in _STATUS_VALUES else None,
        route=args.get("route") if args.get("route") in _ROUTE_VALUES else None,
        text=(args.get("q") or "")[:200],
        include_drafts=args.get("drafts") == "1",
    )


@bp.get("/staff/calls/<int:call_id>/proposals")
@read_only
@login_required
def call_proposals(call_id: int):
    require(permissions.can_list_call_proposals, current_user)
    filters = _filters(call_id)
    per_page = min(max(request.args.get("per_page", 50, type=int), 10), 200)
    # the page's rows, then the call's header (title, offers, counts) with the rows' requests
    # and countries: two statements
    call, page = queries.staff_page(filters, page=request.args.get("page", 1, type=int), per_page=per_page)
    status_labels, route_choices = _list_labels(str(get_locale()))
    return render_template(
        "proposals/call_proposals.html",
        call=call,
        page=page,
        filters=filters,
        # translated once per locale, in the order of the statuses
        status_labels=status_labels,
        instrument_choices=[(offer.instrument_id, offer.code) for offer in call.instruments],
        route_choices=route_choices,
        proposal_rows=fragments.proposal_rows,
        option_tags=fragments.option_tags,
        counts=call.counts,
        args={k: v for k, v in request.args.items() if k != "page"},
    )


def _csv_safe(value):
    """A typed title like "=HYPERLINK(…)" must stay text in a spreadsheet (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.get("/staff/calls/<int:call_id>/proposals.<any(csv, xlsx):fmt>")
@login_required
def export(call_id: int, fmt: str):
    require(permissions.can_list_call_proposals, current_user)
    call = services.get_call(call_id)
    filters = _filters(call_id)
    name = f"proposals-{call.cycle.name}-{call.route.value}"
    if fmt == "csv":
        # built in memory: a call has a few thousand proposals at most (a few MB), and a
        # streamed response would outlive the request's database session
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel reads UTF-8 only with a BOM
        writer = csv.DictWriter(buffer, fieldnames=queries.EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in queries.export_rows(filters))
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("proposals")
    bold = workbook.add_format({"bold": True})
    for col, title in enumerate(queries.EXPORT_COLUMNS):
        sheet.write(0, col, title, bold)
    for row_number, row in enumerate(queries.export_rows(filters), start=1):
        for col, key in enumerate(queries.EXPORT_COLUMNS):
            sheet.write(row_number, col, row[key])
    sheet.freeze_panes(1, 0)
    workbook.close()
    output.seek(0)
    return send_file(
        output,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{name}.xlsx",
    )


from app.proposals.views import call_setup  # noqa: E402, F401 - routes register on import (staff call pages)
