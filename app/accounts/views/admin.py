"""Staff pages: people and their roles (admins), institutions and country groups (staff)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import permissions, queries, scopes, services
from app.accounts.forms import CountryGroupForm, GrantRoleForm, InstitutionForm, MergeForm, kind_choices
from app.accounts.models import SCOPED_ROLES, Role, RoleAssignment
from app.accounts.services.reference import InstitutionInput
from app.accounts.views import ROLE_LABELS, attach_error, bp, country_choices
from app.core.errors import DomainError, ValidationFailed
from app.core.permissions import require
from app.extensions import db
from app.web import actions
from app.web.forms import ConfirmForm
from app.web.messages import message


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


# --- people and roles -----------------------------------------------------------------


@bp.get("/admin/people")
@login_required
def people():
    require(permissions.can_manage_users, current_user)
    text = request.args.get("q", "").strip()
    page = queries.search_people(text, page=_page())
    return render_template("accounts/admin/people.html", page=page, q=text)


def _grant_form(formdata=None) -> GrantRoleForm:
    form = GrantRoleForm(formdata=formdata) if formdata is not None else GrantRoleForm()
    form.role.choices = [(r.value, str(ROLE_LABELS[r.value])) for r in Role]
    for kind in ("instrument", "panel"):
        offered = scopes.choices(kind)
        getattr(form, f"scope_{kind}").choices = [("", "—")] + [(i, label) for i, label in offered or []]
    return form


def _scope_of(form: GrantRoleForm, role: Role) -> int | None:
    kind = SCOPED_ROLES.get(role)
    if kind is None:
        return None
    if scopes.has_provider(kind):
        return getattr(form, f"scope_{kind}").data
    return getattr(form, f"scope_{kind}_id").data


def _scope_label(assignment: RoleAssignment) -> str:
    kind = SCOPED_ROLES.get(assignment.role)
    if kind is None or assignment.scope_id is None:
        return ""
    return scopes.label(kind, assignment.scope_id)


def _person_page(user_id: int, form: GrantRoleForm, status: int = 200):
    user = services.get_user(user_id)
    return render_template(
        "accounts/admin/person.html",
        person=user,
        form=form,
        revoke_form=ConfirmForm(),
        scope_label=_scope_label,
        has_provider=scopes.has_provider,
    ), status


@bp.get("/admin/people/<int:user_id>")
@login_required
def person(user_id: int):
    require(permissions.can_manage_users, current_user)
    return _person_page(user_id, _grant_form())


@bp.post("/admin/people/<int:user_id>/roles")
@login_required
def grant_role(user_id: int):
    require(permissions.can_manage_users, current_user)
    form = _grant_form(request.form)
    if not form.validate_on_submit():
        return _person_page(user_id, form, 422)
    try:
        role = Role(form.role.data)
    except ValueError:
        form.role.errors = [*form.role.errors, message(ValidationFailed("invalid_value", field="role"))]
        return _person_page(user_id, form, 422)
    try:
        services.grant_role(user_id, role, _scope_of(form, role), actor=current_user)
    except ValidationFailed as exc:
        kind = SCOPED_ROLES.get(role, "instrument")
        field = f"scope_{kind}" if scopes.has_provider(kind) else f"scope_{kind}_id"
        attach_error(form, exc, {"scope_id": field})
        return _person_page(user_id, form, 422)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        form.form_errors.append(message(exc))
        return _person_page(user_id, form, 409)
    flash(_("Role %(role)s granted.", role=ROLE_LABELS[role.value]), "success")
    return redirect(url_for(".person", user_id=user_id))


@bp.post("/admin/people/<int:user_id>/roles/<int:assignment_id>/revoke")
@login_required
def revoke_role(user_id: int, assignment_id: int):
    require(permissions.can_manage_users, current_user)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user_id:
        abort(404)
    return actions.confirmed(
        lambda: services.revoke_role(user_id, assignment.role, assignment.scope_id, actor=current_user),
        back=url_for(".person", user_id=user_id),
        done=_("Role revoked."),
        refused_level="warning",
    )


# --- institutions ---------------------------------------------------------------------


def _institution_form(obj=None) -> InstitutionForm:
    form = InstitutionForm(obj=obj)
    form.kind.choices = kind_choices()
    form.country_code.choices = country_choices(_("— none (international organisation) —"))
    return form


def _institution_input(form: InstitutionForm) -> InstitutionInput:
    return InstitutionInput(
        name=form.name.data,
        kind=form.kind.data,
        country_code=form.country_code.data or None,
        parent_id=form.parent_id.data,
        ror_id=form.ror_id.data,
    )


@bp.get("/admin/institutions")
@login_required
def institutions():
    require(permissions.can_manage_reference_data, current_user)
    text = request.args.get("q", "").strip()
    unreviewed = request.args.get("unreviewed") == "1"
    page = queries.list_institutions(text=text, unreviewed_only=unreviewed, page=_page())
    counts = queries.count_people_by_institution([i.id for i in page.items])
    return render_template(
        "accounts/admin/institutions.html",
        page=page,
        counts=counts,
        q=text,
        unreviewed=unreviewed,
        unreviewed_total=queries.count_unreviewed_institutions(),
    )


@bp.route("/admin/institutions/new", methods=["GET", "POST"])
@login_required
def institution_new():
    require(permissions.can_manage_reference_data, current_user)
    form = _institution_form()
    if form.validate_on_submit():
        try:
            institution = services.create_institution(_institution_input(form), actor=current_user)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Institution %(name)s added.", name=institution.name), "success")
            return redirect(url_for(".institutions", q=institution.name))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/admin/institution_form.html", form=form, institution=None), status


def _institution_page(institution_id: int, form: InstitutionForm, merge_form: MergeForm, status: int = 200):
    institution = services.get_institution(institution_id)
    people_count = queries.count_people_by_institution([institution.id]).get(institution.id, 0)
    return render_template(
        "accounts/admin/institution_form.html",
        form=form,
        merge_form=merge_form,
        confirm_form=ConfirmForm(),
        institution=institution,
        people_count=people_count,
    ), status


@bp.route("/admin/institutions/<int:institution_id>", methods=["GET", "POST"])
@login_required
def institution_edit(institution_id: int):
    require(permissions.can_manage_reference_data, current_user)
    institution = services.get_institution(institution_id)
    form = _institution_form(obj=institution if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = institution.kind.value
        form.country_code.data = institution.country_code or ""
    if form.validate_on_submit():
        try:
            services.update_institution(institution_id, _institution_input(form), actor=current_user)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Institution saved."), "success")
            return redirect(url_for(".institution_edit", institution_id=institution_id))
    status = 200 if not (form.errors or form.form_errors) else 422
    return _institution_page(institution_id, form, MergeForm(formdata=None), status)


@bp.post("/admin/institutions/<int:institution_id>/review")
@login_required
def institution_review(institution_id: int):
    require(permissions.can_manage_reference_data, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            services.mark_institution_reviewed(institution_id, actor=current_user)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            flash(message(exc), "warning")
        else:
            flash(_("Institution confirmed."), "success")
    return redirect(url_for(".institution_edit", institution_id=institution_id))


@bp.post("/admin/institutions/<int:institution_id>/merge")
@login_required
def institution_merge(institution_id: int):
    """Merge the institution shown (a duplicate) into the survivor given in the form."""
    require(permissions.can_manage_reference_data, current_user)
    institution = services.get_institution(institution_id)
    merge_form = MergeForm()
    if merge_form.validate_on_submit():
        try:
            survivor = services.merge_institutions(merge_form.survivor_id.data, institution_id, actor=current_user)
        except ValidationFailed as exc:
            attach_error(merge_form, exc)
        except DomainError as exc:
            if exc.status == 403:
                raise
            attach_error(merge_form, ValidationFailed("institution_merge_target_unknown", field="survivor_id"))
        else:
            flash(_("Merged into %(name)s.", name=survivor.name), "success")
            return redirect(url_for(".institution_edit", institution_id=survivor.id))
    form = _institution_form(obj=institution)
    form.kind.data = institution.kind.value
    form.country_code.data = institution.country_code or ""
    return _institution_page(institution_id, form, merge_form, 422)


# --- country groups -------------------------------------------------------------------


def _group_form(obj=None) -> CountryGroupForm:
    form = CountryGroupForm(obj=obj)
    form.countries.choices = country_choices()[1:]
    return form


@bp.route("/admin/country-groups", methods=["GET", "POST"])
@login_required
def country_groups():
    require(permissions.can_manage_reference_data, current_user)
    form = _group_form()
    if form.validate_on_submit():
        try:
            group = services.create_country_group(
                form.name.data, form.countries.data or [], description=form.description.data or "", actor=current_user
            )
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Country group %(name)s created.", name=group.name), "success")
            return redirect(url_for(".country_groups"))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template(
        "accounts/admin/country_groups.html", groups=queries.list_country_groups(), form=form
    ), status


@bp.route("/admin/country-groups/<int:group_id>", methods=["GET", "POST"])
@login_required
def country_group_edit(group_id: int):
    require(permissions.can_manage_reference_data, current_user)
    group = services.get_country_group(group_id)
    form = _group_form(obj=group if request.method == "GET" else None)
    if request.method == "GET":
        form.countries.data = group.codes
    if form.validate_on_submit():
        try:
            services.update_country_group(
                group_id,
                form.name.data,
                form.countries.data or [],
                description=form.description.data or "",
                actor=current_user,
            )
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Country group saved."), "success")
            return redirect(url_for(".country_groups"))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template(
        "accounts/admin/country_group_form.html", form=form, group=group, delete_form=ConfirmForm()
    ), status


@bp.post("/admin/country-groups/<int:group_id>/delete")
@login_required
def country_group_delete(group_id: int):
    require(permissions.can_manage_reference_data, current_user)
    return actions.confirmed(
        lambda: services.delete_country_group(group_id, actor=current_user),
        back=url_for(".country_group_edit", group_id=group_id),
        done=_("Country group deleted."),
        then=url_for(".country_groups"),
        refused_level="warning",
    )
