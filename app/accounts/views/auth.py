"""Log-in, registration, e-mail verification, password reset, the privacy notice."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts import queries, services
from app.accounts.forms import EmailForm, LoginForm, RegisterForm, ResetPasswordForm
from app.accounts.services.reference import InstitutionInput
from app.accounts.views import attach_error, bp, safe_next, setup_picker
from app.core.errors import DomainError, InvalidState, ValidationFailed
from app.extensions import limiter
from app.web.forms import ConfirmForm
from app.web.messages import message


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config.get("REGISTER_RATE_LIMIT", "5 per hour")


def _reset_limit() -> str:
    return current_app.config.get("RESET_RATE_LIMIT", "5 per hour")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    unverified_email = None
    if form.validate_on_submit():
        try:
            user = services.check_login(form.email.data, form.password.data)
        except ValidationFailed as exc:
            attach_error(form, exc)
        except InvalidState as exc:
            unverified_email = exc.params.get("email")
            form.form_errors.append(message(exc))
        else:
            login_user(user, remember=form.remember.data)
            services.record_login(user.id)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("web.home"))
    resend_form = EmailForm(formdata=None, data={"email": unverified_email}) if unverified_email else None
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template(
        "accounts/login.html", form=form, resend_form=resend_form, next=safe_next(request.args.get("next"))
    ), status


@bp.post("/logout")
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash(_("You have been logged out."), "info")
    return redirect(url_for("web.home"))


@bp.get("/privacy")
def privacy():
    return render_template("accounts/privacy.html")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = RegisterForm()
    setup_picker(form)
    if form.validate_on_submit():
        new = None
        if (form.new_institution_name.data or "").strip():
            new = InstitutionInput(
                name=form.new_institution_name.data,
                kind=form.new_institution_kind.data or "",
                country_code=form.new_institution_country_code.data or None,
            )
        data = services.Registration(
            name=form.name.data,
            email=form.email.data,
            password=form.password.data,
            accept_privacy=bool(form.accept_privacy.data),
            institution_id=form.institution_id.data,
            new_institution=new,
            orcid=form.orcid.data,
            locale=str(get_locale() or "") or None,
            continue_to=safe_next(request.args.get("next")),
        )
        try:
            services.register_user(data)
        except ValidationFailed as exc:
            attach_error(form, exc)
        else:
            return render_template("accounts/check_email.html", email=form.email.data.strip())
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/register.html", form=form, next=safe_next(request.args.get("next"))), status


@bp.get("/institutions/search")
def institution_search():
    """htmx: the <option>s of the institution picker for what was typed (public: registration uses it)."""
    text = request.args.get("q") or request.args.get("institution_search") or ""
    found = queries.search_institutions(text)
    return render_template("accounts/_institution_options.html", institutions=found, text=text)


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user = services.verify_email(token)
    except DomainError as exc:
        if not isinstance(exc, InvalidState | ValidationFailed):
            raise
        return render_template(
            "accounts/link_problem.html", problem=message(exc), code=exc.code, resend_form=EmailForm(formdata=None)
        ), 400
    flash(_("Thank you: %(email)s is confirmed.", email=user.email), "success")
    onward = safe_next(request.args.get("next"))  # where the person was going (an invitation)
    if current_user.is_authenticated:
        return redirect(onward or url_for(".profile"))
    return redirect(url_for(".login", next=onward) if onward else url_for(".login"))


@bp.post("/verify/resend")
@limiter.limit(_reset_limit)
def resend_verification():
    form = EmailForm()
    if form.validate_on_submit():
        services.resend_verification(form.email.data)
    flash(
        _("If an account waiting for confirmation has this address, a new link is on its way. Check your inbox."),
        "info",
    )
    return redirect(url_for(".login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(_("If an account has this address, a link to choose a new password is on its way."), "info")
        return redirect(url_for(".login"))
    status = 200 if not form.errors else 422
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.check_reset_link(token)
    except InvalidState as exc:
        return render_template("accounts/link_problem.html", problem=message(exc), code=exc.code, reset=True), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ValidationFailed as exc:
            attach_error(form, exc)
        except InvalidState as exc:
            return render_template("accounts/link_problem.html", problem=message(exc), code=exc.code, reset=True), 400
        else:
            logout_user()
            flash(_("Your password has been changed. Log in with the new one."), "success")
            return redirect(url_for(".login"))
    status = 200 if not form.errors else 422
    return render_template("accounts/reset_password.html", form=form), status
