"""API v1 routes. Each handler: authenticate, call one service or query, serialise."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_smorest import Blueprint as ApiBlueprint

from app.api.auth import bearer_user, token_required
from app.api.facility import BLUEPRINTS as FACILITY_BLUEPRINTS
from app.api.schemas import ApiErrorSchema, MeSchema

me_bp = ApiBlueprint("api_me", __name__, url_prefix="/api/v1", description="The token's owner")
BLUEPRINTS = [me_bp, *FACILITY_BLUEPRINTS]


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


docs_bp = Blueprint("api", __name__, template_folder="templates")


@docs_bp.get("/api/v1/docs")
def docs():
    """A readable page generated from the OpenAPI document (no external assets, CSP-safe)."""
    from app.api import api

    spec = api.spec.to_dict()
    return render_template("api/docs.html", spec=spec, base=current_app.config["OPENAPI_URL_PREFIX"])
