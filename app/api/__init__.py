"""JSON API v1 at /api/v1 (flask-smorest, OpenAPI 3), over the same services as the pages.

Bearer personal access tokens only: the session cookie is never accepted here, so the API
needs no CSRF token. Errors are JSON with a code, a message and the field at fault.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api as _SmorestApi

from app.api.schemas import ApiErrorSchema


class Api(_SmorestApi):
    """flask-smorest, with its error handling limited to /api/.

    Out of the box it turns every HTTP error of the whole app into JSON (HTML pages
    included) and drops the Allow header on 405. `app.web.errors` already answers JSON under
    /api/ and HTML elsewhere, keeping Allow, so smorest registers no handler of its own,
    and the error body it documents by default is that handler's (`ApiErrorSchema`).
    """

    ERROR_SCHEMA = ApiErrorSchema

    def _register_error_handlers(self) -> None:
        return None


api = Api()


def init_app(app: Flask) -> None:
    from app.api import auth, v1  # noqa: F401 - routes register on import
    from app.extensions import csrf

    api.init_app(app)
    for blueprint in v1.BLUEPRINTS:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    api.spec.components.security_scheme  # noqa: B018 - declared in config (API_SPEC_OPTIONS)
    app.register_blueprint(v1.docs_bp)
