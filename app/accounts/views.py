"""Log-in, log-out, profile and personal access tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import services
from app.accounts.forms import LoginForm, TokenForm
from app.accounts.models import Role
from app.core.errors import DomainError, ValidationFailed
from app.extensions import limiter
from app.web.forms import ConfirmForm
from app.web.messages import message

bp = Blueprint("accounts", __name__, template_folder="templates")

ROLE_LABELS = {
    "user": _l("user"),
    Role.REVIEWER.value: _l("reviewer"),
    Role.PANEL_CHAIR.value: _l("panel chair"),
    Role.INSTRUMENT_SCIENTIST.value: _l("instrument scientist"),
    Role.USER_OFFICE.value: _l("user office"),
    Role.ACCESS_APPROVER.value: _l("access approver"),
    Role.SAFETY_REVIEWER.value: _l("safety reviewer"),
    Role.DIRECTOR.value: _l("director"),
    Role.ADMIN.value: _l("admin"),
}


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _safe_next(target: str | None) -> str | None:
    """A local path to go back to after log-in, or None.

    Browsers read a backslash as a slash and drop tabs and newlines, so a backslash or a
    space anywhere could lead off the site: such targets are refused like `//evil.example`.
    """
    if not target or "\\" in target or any(ch.isspace() or ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("E-mail or password is not right."))
        else:
            login_user(user, remember=form.remember.data)
            services.record_login(user.id)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("web.home"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash(_("You have been logged out."), "info")
    return redirect(url_for("web.home"))


@bp.get("/profile")
@login_required
def profile():
    return render_template("accounts/profile.html", user=current_user)


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
    if not ConfirmForm().validate_on_submit():
        flash(_("Your session expired; please try again."), "warning")
        return redirect(url_for(".tokens"))
    try:
        services.revoke_token(token_id, actor=current_user)
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(message(exc), "warning")
    else:
        flash(_("Token revoked."), "success")
    return redirect(url_for(".tokens"))
