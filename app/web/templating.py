"""Template globals and filters: permissions by name, dates in the facility time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from app.core import permissions

_tz_provider = None


def set_timezone_provider(provider) -> None:
    """A later domain (facility settings) supplies the zone; until then it comes from config."""
    global _tz_provider
    _tz_provider = provider


def facility_timezone() -> ZoneInfo:
    name = _tz_provider() if _tz_provider else None
    return ZoneInfo(name or current_app.config["FACILITY_TIMEZONE"])


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """An instant shown in the facility's zone, with the zone named ("3 Feb 2027, 14:00 CET")."""
    if value is None:
        return ""
    tz = facility_timezone()
    local = value.astimezone(tz)
    text = format_datetime(
        local, format="d MMM y, HH:mm" if fmt == "medium" else fmt, tzinfo=tz, locale=str(get_locale() or "en")
    )
    return f"{text} {local.tzname()}"


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(facility_timezone()).date()
    return format_date(value, format="d MMM y", locale=str(get_locale() or "en"))


def can(name: str, obj=None) -> bool:
    """`{% if can("is_staff") %}`: the same predicates the services enforce."""
    # the person itself, not the proxy (each attribute read through it is a context lookup)
    return permissions.check(name, current_user._get_current_object(), obj)


JOB_STATUS_LABELS = {
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
}


#: the layout's static files' URLs by (the app's root URL, file name): the same on every page,
#: built once instead of through the URL map on each (five a page)
_static_urls: dict[tuple[str, str], str] = {}


def static_url(filename: str) -> str:
    key = (request.script_root, filename)
    url = _static_urls.get(key)
    if url is None:
        url = _static_urls[key] = url_for("static", filename=filename)
    return url


def pager(page, endpoint: str, **kwargs) -> Markup:
    """Previous / next links of a `queries.Page` (nothing when it has one page), the rest of
    the list's query in `kwargs`. Python, not a Jinja macro: every list page shows it, and the
    macro's call cost more than its markup."""
    if page.pages <= 1:
        return Markup("")

    def link(enabled: bool, number: int, label: str) -> str:
        href = escape(url_for(endpoint, page=number, **kwargs)) if enabled else "#"
        state = "" if enabled else " disabled"
        return f'<li class="page-item{state}"><a class="page-link" href="{href}">{escape(label)}</a></li>'

    where = escape(_("Page %(n)s of %(total)s", n=page.page, total=page.pages))
    return Markup(
        f'<nav aria-label="{escape(_("Pages"))}"><ul class="pagination">'
        f"{link(page.has_prev, page.page - 1, _('Previous'))}"
        f'<li class="page-item disabled"><span class="page-link">{where}</span></li>'
        f"{link(page.has_next, page.page + 1, _('Next'))}</ul></nav>"
    )


def job_status_label(status: str) -> str:
    return str(JOB_STATUS_LABELS.get(status, status))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["job_status_label"] = job_status_label
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["pager"] = pager
    app.jinja_env.filters["localdt"] = local_datetime
    app.jinja_env.filters["localdate"] = local_date
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["facility_timezone"] = lambda: facility_timezone().key
    app.jinja_env.globals["facility_name"] = lambda: app.config["FACILITY_NAME"]
