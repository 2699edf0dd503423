"""API v1 routes. Each handler: authenticate, call one service or query, serialise."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE

from app.accounts import queries as accounts_queries
from app.api.auth import bearer_user, token_required
from app.api.facility import BLUEPRINTS as FACILITY_BLUEPRINTS
from app.api.onsite import BLUEPRINTS as ONSITE_BLUEPRINTS
from app.api.proposals import BLUEPRINTS as PROPOSALS_BLUEPRINTS
from app.api.publications import BLUEPRINTS as PUBLICATIONS_BLUEPRINTS
from app.api.reports import BLUEPRINTS as REPORTS_BLUEPRINTS
from app.api.reviews import BLUEPRINTS as REVIEWS_BLUEPRINTS
from app.api.schedule import BLUEPRINTS as SCHEDULE_BLUEPRINTS
from app.api.schemas import ApiErrorSchema, CountryQuerySchema, CountrySchema, MeSchema
from app.api.visits import BLUEPRINTS as VISITS_BLUEPRINTS

me_bp = ApiBlueprint("api_me", __name__, url_prefix="/api/v1", description="The token's owner")
countries_bp = ApiBlueprint("api_countries", __name__, url_prefix="/api/v1", description="Reference data: countries")
BLUEPRINTS = [
    me_bp,
    countries_bp,
    *FACILITY_BLUEPRINTS,
    *PROPOSALS_BLUEPRINTS,
    *REVIEWS_BLUEPRINTS,
    *PUBLICATIONS_BLUEPRINTS,
    *VISITS_BLUEPRINTS,
    *SCHEDULE_BLUEPRINTS,
    *REPORTS_BLUEPRINTS,
    *ONSITE_BLUEPRINTS,
]


@me_bp.get("/me")
@me_bp.response(200, MeSchema)
@me_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@token_required
def me():
    """Who am I: the person the token belongs to, with their roles."""
    user = bearer_user()
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "roles": [{"role": a.role.value, "scope_id": a.scope_id} for a in user.roles],
    }


@countries_bp.get("/countries")
# unknown=RAISE: a misspelt filter (`?gruop=`) is refused with a 422 naming it, not ignored
@countries_bp.arguments(CountryQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@countries_bp.response(200, CountrySchema(many=True))
@countries_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@countries_bp.alt_response(422, schema=ApiErrorSchema, description="Unknown country group (field: group)")
@token_required
def countries(group: str | None = None):
    """Countries (ISO 3166-1 and XK), sorted by name; `?group=Members` keeps those of a country group."""
    return accounts_queries.list_countries(group=group, locale=str(get_locale() or "en"))


docs_bp = Blueprint("api", __name__, template_folder="templates")


@docs_bp.get("/api/v1/docs")
def docs():
    """A readable page generated from the OpenAPI document (no external assets, CSP-safe)."""
    from app.api import api

    spec = api.spec.to_dict()
    return render_template("api/docs.html", spec=spec, base=current_app.config["OPENAPI_URL_PREFIX"])
