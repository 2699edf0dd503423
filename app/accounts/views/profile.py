"""One's own account: profile, e-mail, password, tokens, data export, closing the account."""

from __future__ import annotations

import json

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import queries, services
from app.accounts.forms import CloseAccountForm, EmailChangeForm, PasswordChangeForm, ProfileForm, TokenForm
from app.accounts.services.reference import InstitutionInput
from app.accounts.views import attach_error, bp, setup_picker
from app.core.errors import InvalidState, ValidationFailed
from app.web import actions
from app.web.forms import ConfirmForm
from app.web.messages import message


@bp.get("/profile")
@login_required
def profile():
    return render_template("accounts/profile.html", user=current_user)


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = ProfileForm(obj=current_user)
    languages = current_app.config["LANGUAGES"]
    form.locale.choices = [("", _("as my browser asks"))] + [(code, code) for code in languages]
    setup_picker(form, selected_id=current_user.institution_id)
    if form.validate_on_submit():
        new = None
        if (form.new_institution_name.data or "").strip():
            new = InstitutionInput(
                name=form.new_institution_name.data,
                kind=form.new_institution_kind.data or "",
                country_code=form.new_institution_country_code.data or None,
            )
        change = services.ProfileChange(
            name=form.name.data,
            institution_id=form.institution_id.data,
            new_institution=new,
            orcid=form.orcid.data,
            locale=form.locale.data or None,
        )
        try:
            services.update_profile(current_user.id, change, actor=current_user)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for(".profile"))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/profile_edit.html", form=form), status


@bp.route("/profile/email", methods=["GET", "POST"])
@login_required
def change_email():
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            services.request_email_change(current_user.id, form.email.data, form.password.data, actor=current_user)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            flash(
                _("We sent a link to %(email)s. Your address changes when you open it.", email=form.email.data),
                "info",
            )
            return redirect(url_for(".profile"))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/change_email.html", form=form), status


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = services.change_password(
                current_user.id, form.current_password.data, form.password.data, actor=current_user
            )
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            login_user(user)  # the session version changed: stay logged in here, nowhere else
            flash(_("Your password has been changed; your other sessions were logged out."), "success")
            return redirect(url_for(".profile"))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/profile/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            _token, secret = services.create_token(current_user.id, form.name.data, actor=current_user)
        except ValidationFailed as exc:
            form.name.errors.append(message(exc))
        else:
            flash(_("Token created. Copy it now: it will not be shown again."), "success")
            form = TokenForm(formdata=None)
    status = 422 if form.errors else 200
    return render_template(
        "accounts/tokens.html",
        form=form,
        secret=secret,
        tokens=services.list_tokens(current_user.id),
        revoke_form=ConfirmForm(),
    ), status


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    return actions.confirmed(
        lambda: services.revoke_token(token_id, actor=current_user),
        back=url_for(".tokens"),
        done=_("Token revoked."),
        refused_level="warning",
    )


@bp.get("/profile/data")
@login_required
def my_data():
    """Download my data: a JSON file of everything kept about the person."""
    data = queries.personal_data(current_user)
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="beamtime-my-data-{current_user.id}.json"'},
    )


@bp.route("/profile/close", methods=["GET", "POST"])
@login_required
def close_account():
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            services.close_account(current_user.id, form.password.data, actor=current_user)
        except ValidationFailed as exc:
            attach_error(form, exc)
        except InvalidState as exc:
            form.form_errors.append(message(exc))
        else:
            logout_user()
            flash(_("Your account has been closed. Goodbye."), "info")
            return redirect(url_for("web.home"))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/close_account.html", form=form), status
