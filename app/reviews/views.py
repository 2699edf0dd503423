"""Pages of the reviews domain: the instrument scientist's technical reviews, the reviewer's
"my reviews" and grading form, the chair's panel meeting, the user office's panels,
assignment, allocation and decisions, the PI's released decision; ranking and allocation
exports (never with reviewer names)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.accounts.models import Role
from app.core.db import utcnow
from app.core.errors import DomainError, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.facility import queries as facility_queries
from app.proposals.models import AccessRoute
from app.reviews import permissions, queries, services
from app.reviews.forms import (
    BID_LABELS,
    FEASIBILITY_LABELS,
    GRADE_SCALE,
    OUTCOME_LABELS,
    AwardForm,
    BidForm,
    ConflictForm,
    ExpertiseForm,
    GradeForm,
    OverrideForm,
    PanelDecisionForm,
    PanelForm,
    SignOffForm,
    TechnicalReviewForm,
    WithdrawForm,
)
from app.web import actions, navigation
from app.web.forms import ConfirmForm
from app.web.messages import message

bp = Blueprint("reviews", __name__, template_folder="templates", url_prefix="/reviews")

navigation.register(_l("My reviews"), "reviews.mine", predicate="is_reviewer", order=12)
navigation.register(_l("Technical reviews"), "reviews.technical_queue", predicate="is_instrument_scientist", order=13)
navigation.register(
    _l("Review and allocation"),
    "reviews.staff_calls",
    predicate="can_read_review_results",
    order=31,
    group=navigation.PROGRAMME,
)


#: the review pages' slot for what higher domains know of the PI's record (visits: overdue
#: experiment reports); fillers take (actor=, proposal=) and return markup or None (DESIGN.md §4 rule 6)
PI_RECORD_SLOT = "reviews.pi_record"


@bp.app_template_global()
def review_pi_record(proposal) -> list:
    from app.core import events

    return events.slot_contents(PI_RECORD_SLOT, actor=current_user, proposal=proposal)


@bp.app_template_global()
def outcome_label(outcome) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome))


@bp.app_template_global()
def feasibility_label(value) -> str:
    return str(FEASIBILITY_LABELS.get(value, value or "—"))


def _expired(endpoint: str, **values):
    flash(_("Your session expired; please try again."), "warning")
    return redirect(url_for(endpoint, **values))


def _anonymous_marks(row) -> str:
    return ", ".join(f"{g}{'*' if unnormalised else ''}" for g, unnormalised in row.marks)


# --- reviewers -----------------------------------------------------------------------------


@bp.get("/mine")
@login_required
def mine():
    assignments = queries.assignments_of_reviewer(current_user.id)
    profile = services.find_profile(current_user.id)
    form = ExpertiseForm(formdata=None, data={"keywords": ", ".join(profile.keywords) if profile else ""})
    return render_template("reviews/mine.html", assignments=assignments, form=form, **_bidding())


def _bidding() -> dict:
    choices = services.bidding_choices(current_user)
    forms = {p.id: BidForm(formdata=None, prefix=f"b{p.id}", data={"level": bid or "willing"}) for p, bid in choices}
    return {"bidding": choices, "bid_forms": forms, "bid_labels": BID_LABELS}


@bp.post("/expertise")
@login_required
def expertise():
    require(permissions.is_reviewer, current_user)
    form = ExpertiseForm()
    if not form.validate_on_submit():
        return _expired(".mine")
    try:
        services.set_expertise(form.keywords.data or "", actor=current_user)
    except ValidationFailed as exc:
        actions.attach_error(form, exc)
        assignments = queries.assignments_of_reviewer(current_user.id)
        return render_template("reviews/mine.html", assignments=assignments, form=form, **_bidding()), 422
    flash(_("Your expertise is saved."), "success")
    return redirect(url_for(".mine"))


def _render_grade(row, form=None, status: int = 200):
    others = services.visible_other_reviews(row.id, current_user) if row.review is not None else None
    technical = [t for t in queries.technical_reviews_of([row.proposal_id]).values() if t.submitted_at]
    return (
        render_template(
            "reviews/grade.html",
            row=row,
            proposal=row.proposal,
            form=form or GradeForm(formdata=None),
            conflict_form=ConflictForm(formdata=None),
            others=others,
            technical=technical,
            scale=GRADE_SCALE,
            history=services.pi_history(row.proposal),
        ),
        status,
    )


@bp.get("/assignments/<int:assignment_id>")
@login_required
def grade(assignment_id: int):
    return _render_grade(services.get_assignment_to_grade(assignment_id, current_user))


@bp.post("/assignments/<int:assignment_id>")
@login_required
def submit_grade(assignment_id: int):
    row = services.get_assignment_to_grade(assignment_id, current_user)
    form = GradeForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".grade", assignment_id=assignment_id)
    try:
        services.submit_review(
            assignment_id, grade=form.grade.data, comment_for_panel=form.comment_for_panel.data, actor=current_user
        )
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _render_grade(row, form, 422)
    flash(_("Your review is submitted. The other reviews of this proposal are shown below."), "success")
    return redirect(url_for(".grade", assignment_id=assignment_id))


@bp.post("/proposals/<int:proposal_id>/conflict")
@login_required
def declare_conflict(proposal_id: int):
    form = ConflictForm()
    if not form.validate_on_submit():
        return _expired(".mine")
    try:
        services.declare_conflict(proposal_id, reason=form.reason.data, actor=current_user)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".mine"))
    flash(_("Your conflict of interest is recorded; the proposal goes to another reviewer."), "success")
    return redirect(url_for(".mine"))


@bp.post("/proposals/<int:proposal_id>/bid")
@login_required
def bid(proposal_id: int):
    form = BidForm(prefix=f"b{proposal_id}")
    if not form.validate_on_submit():
        flash(_("Choose eager, willing or not my field."), "warning")
        return redirect(url_for(".mine"))
    services.place_bid(proposal_id, form.level.data, actor=current_user)
    flash(_("Your bid is saved."), "success")
    return redirect(url_for(".mine"))


# --- instrument scientists -----------------------------------------------------------------


@bp.get("/technical")
@login_required
def technical_queue():
    if not (permissions.is_instrument_scientist(current_user) or permissions.can_manage_reviews(current_user)):
        abort(403)
    tasks = queries.technical_queue(current_user.scopes(Role.INSTRUMENT_SCIENTIST))
    return render_template("reviews/technical_queue.html", tasks=tasks)


def _render_technical(task, form=None, status: int = 200):
    if form is None:
        form = TechnicalReviewForm(
            formdata=None,
            data={
                "feasibility": task.feasibility.value if task.feasibility else None,
                "recommended_shifts": task.recommended_shifts,
                "comment_for_panel": task.comment_for_panel,
                "comment_for_pi": task.comment_for_pi,
            },
        )
    return render_template("reviews/technical_form.html", task=task, form=form), status


@bp.get("/technical/<int:technical_review_id>")
@login_required
def technical_form(technical_review_id: int):
    return _render_technical(services.get_visible_technical_review(technical_review_id, current_user))


@bp.post("/technical/<int:technical_review_id>")
@login_required
def submit_technical(technical_review_id: int):
    task = services.get_visible_technical_review(technical_review_id, current_user)
    form = TechnicalReviewForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".technical_form", technical_review_id=technical_review_id)
    try:
        services.submit_technical_review(
            technical_review_id,
            feasibility=form.feasibility.data,
            recommended_shifts=form.recommended_shifts.data,
            comment_for_panel=form.comment_for_panel.data,
            comment_for_pi=form.comment_for_pi.data,
            actor=current_user,
        )
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _render_technical(task, form, 422)
    flash(_("Technical review saved."), "success")
    return redirect(url_for(".technical_queue"))


# --- the panel meeting ---------------------------------------------------------------------


def _render_meeting(call_id: int, panel_id: int, forms=None, status: int = 200):
    meeting = services.meeting(call_id, panel_id, actor=current_user)
    forms = forms or {}
    for row in meeting.rows:
        if row.proposal.id not in forms:
            d = row.decision
            forms[row.proposal.id] = PanelDecisionForm(
                formdata=None,
                prefix=f"p{row.proposal.id}",
                data={
                    "final_grade": d.final_grade,
                    "final_rank": d.final_rank or row.position,
                    "justification": d.justification,
                    "comment_for_pi": d.comment_for_pi,
                },
            )
    chairs = services.chairs_for([row.proposal for row in meeting.rows], meeting.panel)
    return (
        render_template("reviews/meeting.html", meeting=meeting, forms=forms, chairs=chairs, marks=_anonymous_marks),
        status,
    )


@bp.get("/calls/<int:call_id>/panels/<int:panel_id>/meeting")
@login_required
def meeting(call_id: int, panel_id: int):
    return _render_meeting(call_id, panel_id)


@bp.post("/proposals/<int:proposal_id>/panel-decision")
@login_required
def panel_decision(proposal_id: int):
    decision = queries.get_panel_decision(proposal_id)
    form = PanelDecisionForm(prefix=f"p{proposal_id}")
    if decision.panel is None or not permissions.is_chair_of_panel(current_user, decision.panel):
        raise NotFound("proposal_not_found")
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".meeting", call_id=decision.call_id, panel_id=decision.panel_id)
    try:
        services.set_panel_decision(
            proposal_id,
            final_grade=form.final_grade.data,
            final_rank=form.final_rank.data,
            justification=form.justification.data,
            comment_for_pi=form.comment_for_pi.data,
            actor=current_user,
        )
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _render_meeting(decision.call_id, decision.panel_id, {proposal_id: form}, 422)
    flash(_("Decision saved."), "success")
    return redirect(url_for(".meeting", call_id=decision.call_id, panel_id=decision.panel_id))


def _csv_safe(value):
    """A typed title like "=HYPERLINK(…)" must stay text in a spreadsheet (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export(name: str, columns: list[str], rows: list[dict], fmt: str):
    name = re.sub(r"[^0-9A-Za-z._-]+", "-", name).strip("-") or "export"  # a panel named "Bio / Med"
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.DictWriter(buffer, fieldnames=columns)
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
    sheet = workbook.add_worksheet(name.split("-")[0][:31])
    bold = workbook.add_format({"bold": True})
    for col, title in enumerate(columns):
        sheet.write(0, col, title, bold)
    for number, row in enumerate(rows, start=1):
        for col, key in enumerate(columns):
            value = row[key]
            sheet.write(number, col, "" if value is None else value)
    sheet.freeze_panes(1, 0)
    workbook.close()
    output.seek(0)
    return send_file(
        output,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{name}.xlsx",
    )


@bp.get("/calls/<int:call_id>/panels/<int:panel_id>/ranking.<any(csv, xlsx):fmt>")
@login_required
def ranking_export(call_id: int, panel_id: int, fmt: str):
    meeting = services.meeting(call_id, panel_id, actor=current_user)
    rows = services.ranking_rows(meeting)
    return _export(f"ranking-{meeting.panel.name}", services.RANKING_COLUMNS, rows, fmt)


# --- the user office -----------------------------------------------------------------------


@bp.get("/staff")
@login_required
def staff_calls():
    require(permissions.can_read_review_results, current_user)
    return render_template(
        "reviews/staff_calls.html",
        calls=queries.closed_calls(utcnow()),
        reviews=queries.call_reviews_by_call(),
        panels=queries.list_panels(active_only=True),
        form=ConfirmForm(),
    )


@bp.post("/staff/calls/<int:call_id>/start")
@login_required
def start(call_id: int):
    require(permissions.can_manage_reviews, current_user)
    if not ConfirmForm().validate_on_submit():
        return _expired(".staff_calls")
    try:
        services.start_review(call_id, actor=current_user)
    except (InvalidState, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        flash(message(exc), "danger")
        return redirect(url_for(".staff_calls"))
    flash(_("The review has started: technical review tasks are out."), "success")
    return redirect(url_for(".staff_calls"))


def _panel_form(panel=None, formdata=None):
    data = None
    if panel is not None and formdata is None:
        data = {
            "name": panel.name,
            "subject_areas": panel.subject_areas,
            "deputy_chair_id": str(panel.deputy_chair_id or ""),
            "active": "1" if panel.active else "0",
        }
    form = PanelForm(formdata=formdata, data=data, prefix=f"panel{panel.id}" if panel else "new")
    reviewers = queries.panel_reviewers(panel) if panel else []
    form.deputy_chair_id.choices = [("", _("none"))] + [(str(u.id), u.name) for u in reviewers]
    return form


def _render_panels(forms=None, new_form=None, status: int = 200):
    panels = queries.list_panels()
    forms = forms or {}
    for panel in panels:
        forms.setdefault(panel.id, _panel_form(panel))
    members = {p.id: (queries.panel_chairs(p), queries.panel_reviewers(p)) for p in panels}
    return (
        render_template(
            "reviews/panels.html",
            panels=panels,
            forms=forms,
            members=members,
            new_form=new_form or PanelForm(formdata=None, prefix="new"),
        ),
        status,
    )


@bp.get("/staff/panels")
@login_required
def panels():
    require(permissions.can_manage_reviews, current_user)
    return _render_panels()


@bp.post("/staff/panels")
@login_required
def create_panel():
    require(permissions.can_manage_reviews, current_user)
    form = PanelForm(prefix="new")
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".panels")
    try:
        services.create_panel(form.name.data, form.subject_areas.data or [], actor=current_user)
    except (ValidationFailed, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        actions.attach_error(form, exc)
        return _render_panels(new_form=form, status=422)
    flash(_("Panel created. Give its members the reviewer role scoped to it."), "success")
    return redirect(url_for(".panels"))


@bp.post("/staff/panels/<int:panel_id>")
@login_required
def update_panel(panel_id: int):
    require(permissions.can_manage_reviews, current_user)
    panel = queries.get_panel(panel_id)
    form = _panel_form(panel, formdata=request.form)
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".panels")
    try:
        services.update_panel(
            panel_id,
            name=form.name.data,
            subject_areas=form.subject_areas.data or [],
            deputy_chair_id=int(form.deputy_chair_id.data) if (form.deputy_chair_id.data or "").isdigit() else None,
            active=form.active.data != "0",
            actor=current_user,
        )
    except (ValidationFailed, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        actions.attach_error(form, exc)
        return _render_panels(forms={panel_id: form}, status=422)
    flash(_("Panel saved."), "success")
    return redirect(url_for(".panels"))


def _render_assignment(call_id: int, override_forms=None, status: int = 200):
    review = queries.get_call_review(call_id)
    decisions = queries.panel_decisions(call_id)
    rows = queries.assignments_for([d.proposal_id for d in decisions])
    by_proposal: dict[int, list] = {}
    for row in rows:
        by_proposal.setdefault(row.proposal_id, []).append(row)
    override_forms = override_forms or {}
    for d in decisions:
        if d.panel is not None and d.proposal_id not in override_forms:
            form = OverrideForm(formdata=None, prefix=f"o{d.proposal_id}")
            form.reviewer_id.choices = [(u.id, u.name) for u in queries.panel_reviewers(d.panel)]
            override_forms[d.proposal_id] = form
    return (
        render_template(
            "reviews/assignment.html",
            review=review,
            decisions=decisions,
            by_proposal=by_proposal,
            forms=override_forms,
            panels=queries.list_panels(active_only=True),
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.get("/staff/calls/<int:call_id>/assignment")
@login_required
def assignment(call_id: int):
    require(permissions.can_manage_reviews, current_user)
    return _render_assignment(call_id)


@bp.post("/staff/calls/<int:call_id>/panels/<int:panel_id>/assign")
@login_required
def run_assignment(call_id: int, panel_id: int):
    require(permissions.can_manage_reviews, current_user)
    if not ConfirmForm().validate_on_submit():
        return _expired(".staff_calls")
    solution = services.run_assignment(call_id, panel_id, actor=current_user)
    if solution.shortfalls:
        flash(
            _("%(n)s proposal(s) could not get enough unconflicted reviewers.", n=len(solution.shortfalls)), "warning"
        )
    flash(_("Reviewers assigned."), "success")
    return redirect(url_for(".assignment", call_id=call_id))


@bp.post("/staff/proposals/<int:proposal_id>/override")
@login_required
def override(proposal_id: int):
    require(permissions.can_manage_reviews, current_user)
    decision = queries.get_panel_decision(proposal_id)
    form = OverrideForm(prefix=f"o{proposal_id}")
    if decision.panel is not None:
        form.reviewer_id.choices = [(u.id, u.name) for u in queries.panel_reviewers(decision.panel)]
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".assignment", call_id=decision.call_id)
    try:
        services.override_assignment(
            proposal_id, form.reviewer_id.data or 0, reason=form.reason.data, actor=current_user
        )
    except (ValidationFailed, InvalidState, DomainError) as exc:
        if isinstance(exc, NotFound):
            raise
        actions.attach_error(form, exc)
        return _render_assignment(decision.call_id, {proposal_id: form}, 422)
    flash(_("Reviewer assigned by hand."), "success")
    return redirect(url_for(".assignment", call_id=decision.call_id))


def _award_form(award, formdata=None):
    form = AwardForm(
        formdata=formdata,
        prefix=f"a{award.id}",
        data=None
        if formdata is not None
        else {"shifts": award.shifts, "local_contact_id": str(award.local_contact_id or "")},
    )
    people = facility_queries.instrument_scientists([award.instrument_id]).get(award.instrument_id, [])
    form.local_contact_id.choices = [("", _("none"))] + [(str(u.id), u.name) for u in people]
    return form


def _render_allocation(call_id: int, award_forms=None, sign_off_form=None, status: int = 200):
    review = queries.get_call_review(call_id)
    awards = queries.awards_of_call(call_id, live_only=False)
    award_forms = award_forms or {}
    for award in awards:
        award_forms.setdefault(award.id, _award_form(award))
    decisions = queries.decisions_of_call(call_id)
    return (
        render_template(
            "reviews/allocation.html",
            review=review,
            awards=awards,
            forms=award_forms,
            withdraw_form=WithdrawForm(formdata=None),
            decisions=decisions,
            sign_off_form=sign_off_form or SignOffForm(formdata=None),
            confirm=ConfirmForm(),
            capacity=services.capacity_summary(review),
            fair=services.fair_return(review),
        ),
        status,
    )


@bp.get("/staff/calls/<int:call_id>/allocation")
@login_required
def allocation(call_id: int):
    require(permissions.can_read_review_results, current_user)
    return _render_allocation(call_id)


@bp.post("/staff/calls/<int:call_id>/allocate")
@login_required
def allocate(call_id: int):
    require(permissions.can_manage_reviews, current_user)
    if not ConfirmForm().validate_on_submit():
        return _expired(".allocation", call_id=call_id)
    try:
        services.run_allocation(call_id, actor=current_user)
    except InvalidState as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".allocation", call_id=call_id))
    flash(_("Allocation done; decisions are staged."), "success")
    return redirect(url_for(".allocation", call_id=call_id))


@bp.post("/staff/awards/<int:award_id>")
@login_required
def edit_award(award_id: int):
    require(permissions.can_manage_reviews, current_user)
    award = queries.get_award(award_id)
    form = _award_form(award, formdata=request.form)
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".allocation", call_id=award.call_id)
    contact = form.local_contact_id.data
    try:
        services.edit_award(
            award_id,
            shifts=form.shifts.data,
            local_contact_id=int(contact) if (contact or "").isdigit() else None,
            reason=form.reason.data,
            actor=current_user,
        )
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _render_allocation(award.call_id, {award_id: form}, status=422)
    flash(_("Award changed."), "success")
    return redirect(url_for(".allocation", call_id=award.call_id))


@bp.post("/staff/awards/<int:award_id>/withdraw")
@login_required
def withdraw_award(award_id: int):
    require(permissions.can_manage_reviews, current_user)
    award = queries.get_award(award_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _expired(".allocation", call_id=award.call_id)
    try:
        created = services.withdraw_award(award_id, reason=form.reason.data, actor=current_user)
    except (ValidationFailed, InvalidState) as exc:
        flash(message(exc), "danger")
        return redirect(url_for(".allocation", call_id=award.call_id))
    flash(_("Award withdrawn; %(n)s reserve award(s) made.", n=len(created)), "success")
    return redirect(url_for(".allocation", call_id=award.call_id))


@bp.post("/staff/calls/<int:call_id>/sign-off")
@login_required
def sign_off(call_id: int):
    require(permissions.can_manage_reviews, current_user)
    form = SignOffForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _expired(".allocation", call_id=call_id)
    notify_at = None
    if form.notify_on.data is not None:
        tz = facility_queries.grid().tz
        notify_at = datetime.combine(form.notify_on.data, time(0), tzinfo=tz).astimezone(UTC)
    try:
        services.sign_off_decisions(call_id, notify_at=notify_at, actor=current_user)
    except (ValidationFailed, InvalidState) as exc:
        actions.attach_error(form, exc)
        return _render_allocation(call_id, sign_off_form=form, status=422)
    flash(_("Decisions signed off; they go out on the notification date."), "success")
    return redirect(url_for(".allocation", call_id=call_id))


@bp.get("/staff/calls/<int:call_id>/allocation.<any(csv, xlsx):fmt>")
@login_required
def allocation_export(call_id: int, fmt: str):
    require(permissions.can_read_review_results, current_user)
    review = queries.get_call_review(call_id)
    return _export(
        f"allocation-{review.call.cycle.name}", services.ALLOCATION_COLUMNS, services.allocation_rows(call_id), fmt
    )


# --- the PI --------------------------------------------------------------------------------


@bp.get("/proposals/<int:proposal_id>/decision")
@login_required
def decision(proposal_id: int):
    found = queries.find_decision(proposal_id)
    if found is None or not permissions.can_view_decision(current_user, found):
        raise NotFound("proposal_not_found")
    awards = [a for a in queries.awards_of_call(found.call_id) if a.proposal_id == proposal_id]
    panel = queries.find_panel_decision(proposal_id)
    return render_template(
        "reviews/decision.html",
        decision=found,
        awards=awards,
        comment=panel.comment_for_pi if panel else "",
        proprietary=found.proposal.call.route == AccessRoute.PROPRIETARY,
        bids=BID_LABELS,
    )


def _decision_notice(*, actor, proposal, facts=None):
    """On the proposal page: a link to the decision, once it may be seen (released, for the
    team; always for staff and directors). The outcome and release come with the proposal
    (`queries.decision_facts`); without them, from the decision itself."""
    from markupsafe import Markup, escape

    if facts is not None and "decision_outcome" in facts:
        outcome = facts["decision_outcome"]
        if outcome is None or not permissions.can_view_decision_of(
            actor, proposal, released_at=facts["decision_released_at"]
        ):
            return None
    else:
        found = queries.find_decision(proposal.id)
        if found is None or not permissions.can_view_decision(actor, found):
            return None
        outcome = found.outcome
    link = url_for("reviews.decision", proposal_id=proposal.id)
    text = _("The decision on this proposal: %(outcome)s.", outcome=outcome_label(outcome))
    return Markup('<a href="{}">{}</a>').format(link, escape(text))


def init_app(app) -> None:
    """The role page offers panels as the scope of reviewer and panel chair; the proposal page
    shows the decision once it may be seen (the proposals domain's notices slot)."""
    from app.accounts import scopes
    from app.core import events
    from app.proposals import queries as proposal_queries
    from app.proposals.views import NOTICES_SLOT

    scopes.register("panel", choices=queries.panel_scope_choices, label=queries.panel_scope_label)
    for name, build in queries.decision_facts().items():
        proposal_queries.add_page_fact(name, build)
    events.fill_slot(NOTICES_SLOT, _decision_notice)
