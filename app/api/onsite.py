"""API v1 over the front desk: who is on site now, or at an instant (emergency roll call).

Staff tokens only (user office, admins): anyone else gets 403. No e-mail of the visitor's
emergency contact, no citizenship: the schema has no field for them.
"""

from __future__ import annotations

from datetime import UTC

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields

from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.db import utcnow
from app.core.errors import ValidationFailed
from app.core.permissions import require
from app.visits.desk import permissions, queries

onsite_bp = ApiBlueprint("api_onsite", __name__, url_prefix="/api/v1", description="Front desk: on site now")
BLUEPRINTS = [onsite_bp]


class OnSiteQuerySchema(Schema):
    at = fields.AwareDateTime(
        metadata={"description": "The instant of the roll call, ISO 8601 with its offset; now when absent"}
    )


class OnSiteSchema(Schema):
    visit_id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    instrument = fields.String(required=True)
    proposal = fields.String(required=True)
    local_contact = fields.String(required=True)
    room = fields.String(required=True, metadata={"description": "Guesthouse room and bed, empty when none"})
    arrived_at = fields.DateTime(required=True)


class OnSiteListSchema(Schema):
    at = fields.DateTime(required=True)
    count = fields.Integer(required=True)
    people = fields.List(fields.Nested(OnSiteSchema), required=True)


@onsite_bp.get("/on-site")
@onsite_bp.arguments(OnSiteQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@onsite_bp.response(200, OnSiteListSchema)
@onsite_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@onsite_bp.alt_response(403, schema=ApiErrorSchema, description="Not a staff token")
@onsite_bp.alt_response(422, schema=ApiErrorSchema, description="`at` is not an ISO 8601 instant with an offset")
@token_required
def on_site(at=None):
    """Everyone checked in at the front desk and not yet checked out, at `at` (default: now)."""
    require(permissions.can_use_desk, bearer_user())
    if at is not None and at.tzinfo is None:  # AwareDateTime refuses it; kept for clarity
        raise ValidationFailed("invalid_value", field="at")
    instant = (at or utcnow()).astimezone(UTC)
    rows = queries.on_site_at(instant)
    return {"at": instant, "count": len(rows), "people": [r.__dict__ for r in rows]}
