"""Pages of the accounts domain, one blueprint in three modules:

auth     log-in, registration, e-mail verification, password reset, privacy notice
profile  one's own profile, e-mail, password, tokens, data export, closing the account
admin    people and roles (admins), institutions and country groups (staff)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app.accounts import countries, links, queries
from app.accounts.forms import KIND_LABELS, kind_choices
from app.accounts.models import Institution, Role
from app.core.errors import DomainError, ValidationFailed
from app.extensions import db
from app.web import navigation
from app.web.messages import message

bp = Blueprint("accounts", __name__, template_folder="../templates")

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

navigation.register(_l("People and roles"), "accounts.people", predicate="is_admin", order=80, group=navigation.PEOPLE)
navigation.register(
    _l("Institutions"), "accounts.institutions", predicate="is_staff", order=81, group=navigation.PEOPLE
)
navigation.register(
    _l("Country groups"), "accounts.country_groups", predicate="is_staff", order=82, group=navigation.PEOPLE
)


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_global()
def country_name(code: str | None) -> str:
    return countries.name(code, str(get_locale() or "en")) if code else ""


@bp.app_template_global()
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def institution_label(institution: Institution | None) -> str:
    return queries.institution_label(institution)


def external_url(endpoint: str, **values) -> str:
    """Absolute links for e-mails: BASE_URL when configured (never trust the Host header of
    the request that triggered a reset), else the current request's host."""
    base = current_app.config.get("BASE_URL")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or "http://localhost")
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


@bp.record_once
def _configure(state) -> None:
    app: Flask = state.app
    links.configure(secret_key=app.config["SECRET_KEY"], url_builder=external_url)


def safe_next(target: str | None) -> str | None:
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


def attach_error(form: FlaskForm, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a domain error next to its field (or above the form when no field matches)."""
    text = message(exc)
    name = exc.field if isinstance(exc, ValidationFailed) else None
    name = (aliases or {}).get(name, name) if name else None
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, text]
    else:
        form.form_errors.append(text)


def country_choices(blank: object = None) -> list[tuple[str, str]]:
    locale = str(get_locale() or "en")
    return [("", str(blank or _l("— choose —")))] + countries.choices(locale)


def setup_picker(form, *, selected_id: int | None = None, include_facility: bool = False) -> None:
    """Fill the institution picker's choices: the chosen one and what the search finds."""
    form.new_institution_kind.choices = [("", str(_l("— choose —"))), *kind_choices(include_facility)]
    form.new_institution_country_code.choices = country_choices()
    options: list[Institution] = []
    chosen = form.institution_id.data or selected_id
    if chosen:
        found = db.session.get(Institution, chosen)
        if found is not None:
            options.append(found)
    if form.institution_search.data:
        options += [i for i in queries.search_institutions(form.institution_search.data) if i.id != chosen]
    form.institution_id.choices = [("", str(_l("— search above, then choose —")))] + [
        (i.id, queries.institution_label(i)) for i in options
    ]
    if chosen and form.institution_id.data is None:
        form.institution_id.data = chosen


from app.accounts.views import admin, auth, profile  # noqa: E402, F401 - routes register on import
