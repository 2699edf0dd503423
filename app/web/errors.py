"""Domain errors and HTTP errors mapped once: an HTML page, or JSON under /api/."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError, ValidationFailed
from app.web.messages import item_messages, message

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, text: str, *, field: str | None = None, errors: dict | None = None):
    body: dict = {"code": code, "message": text, "status": status}
    if field:
        body["field"] = field
        body["errors"] = errors or {field: [text]}
    elif errors:
        body["errors"] = errors
    return jsonify(body), status


def _nul_field(value, name: str = "") -> str | None:
    """The name of the first field whose name or value holds a NUL character (PostgreSQL text
    cannot store one, so it would fail deep inside a query), or None."""
    if isinstance(value, str):
        return name or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_field(str(key), str(key)) or _nul_field(item, str(key))
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _nul_field(item, name)
            if found:
                return found
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters():
        sources = [request.args.to_dict(flat=False)]
        if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
            if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                sources.append(request.form.to_dict(flat=False))
            elif request.is_json:
                sources.append(request.get_json(silent=True))
        for source in sources:
            field = _nul_field(source)
            if field:
                raise ValidationFailed("nul_character", field=field)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        text = message(exc)
        field = exc.field if isinstance(exc, ValidationFailed) else None
        if wants_json():
            response, status = json_error(exc.status, exc.code, text, field=field)
            if isinstance(exc.params.get("items"), list):  # e.g. proposal_incomplete: every missing item
                body = response.get_json()
                body["missing"] = item_messages(exc.params["items"])
                response = jsonify(body)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="beamtime"'
            return response, status
        template = {404: "errors/404.html", 403: "errors/403.html"}.get(exc.status, "errors/error.html")
        return render_template(template, message=text, status=exc.status), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        text = _(
            "This form has expired or was not sent from this site, so nothing was saved. "
            "Go back, reload the page and try again."
        )
        if wants_json():
            return json_error(400, "csrf_failed", text)
        return render_template("errors/error.html", message=text, status=400), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if wants_json():
            response = exc.get_response()
            data = getattr(exc, "data", None) or {}
            errors = _flatten(data.get("messages") if isinstance(data, dict) else None)
            payload, status = json_error(
                exc.code or 500,
                (exc.name or "error").lower().replace(" ", "_"),
                exc.description or exc.name,
                field=next(iter(errors)) if errors and len(errors) == 1 else None,
                errors=errors,
            )
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response.headers:
                    payload.headers[header] = response.headers[header]
            return payload, status
        template = {404: "errors/404.html", 403: "errors/403.html"}.get(exc.code, "errors/error.html")
        response = exc.get_response()
        html = render_template(template, message=_describe(exc), status=exc.code)
        response.set_data(html)
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", _("Something went wrong on our side. It has been logged."))
        return render_template("errors/500.html", status=500), 500


def _describe(exc: HTTPException) -> str:
    return {
        400: _("The request was not understood."),
        401: _("Please log in."),
        403: _("You are not allowed to see this page."),
        404: _("That page does not exist, or you may not see it."),
        405: _("That action is not available here."),
        413: _("The file is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
    }.get(exc.code or 500, exc.description or "")


def _flatten(errors):
    """webargs nests messages by location ({"json": {"field": [...]}}): keep field → messages."""
    if not isinstance(errors, dict):
        return None
    flat: dict = {}
    for location, fields in errors.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat
