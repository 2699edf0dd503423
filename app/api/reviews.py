"""API v1 over the reviews domain: the allocation of a call (staff tokens only).

Awards and staged or released decisions, with the capacity per instrument. No reviewer
names: the allocation carries proposals, instruments, shifts and local contacts.
"""

from __future__ import annotations

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.permissions import require
from app.reviews import permissions, queries, services

allocation_bp = ApiBlueprint(
    "api_allocation", __name__, url_prefix="/api/v1", description="Allocation of a call: awards and decisions"
)
BLUEPRINTS = [allocation_bp]


class AwardSchema(Schema):
    reference = fields.String(required=True)
    instrument = fields.String(required=True, metadata={"description": "Instrument code"})
    shifts = fields.Integer(required=True)
    basis = fields.String(
        required=True, metadata={"description": "full, partial, reserve (after a withdrawal) or edited"}
    )
    long_term = fields.Boolean(required=True)
    cycles = fields.Integer(required=True)
    local_contact = fields.String(required=True, metadata={"description": "Name; empty when none"})
    outcome = fields.String(required=True, metadata={"description": "accepted, reserve, rejected"})
    withdrawn_at = fields.String(required=True, metadata={"description": "ISO 8601 UTC; empty when live"})


class DecisionSchema(Schema):
    reference = fields.String(required=True)
    outcome = fields.String(required=True)
    released_at = fields.DateTime(allow_none=True, required=True)


class AllocationSchema(Schema):
    call_id = fields.Integer(required=True)
    cycle = fields.String(required=True)
    allocated_at = fields.DateTime(allow_none=True, required=True)
    signed_off_at = fields.DateTime(allow_none=True, required=True)
    notify_at = fields.DateTime(allow_none=True, required=True)
    released_at = fields.DateTime(allow_none=True, required=True)
    awards = fields.List(fields.Nested(AwardSchema), required=True)
    decisions = fields.List(fields.Nested(DecisionSchema), required=True)


@allocation_bp.get("/calls/<int:call_id>/allocation")
@allocation_bp.response(200, AllocationSchema)
@allocation_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@allocation_bp.alt_response(403, schema=ApiErrorSchema, description="Not a staff token")
@allocation_bp.alt_response(404, schema=ApiErrorSchema, description="No such call, or its review has not started")
@token_required
def call_allocation(call_id: int):
    """The awards and decisions of a call (staff tokens only)."""
    require(permissions.can_manage_reviews, bearer_user())
    review = queries.get_call_review(call_id)
    return {
        "call_id": call_id,
        "cycle": review.call.cycle.name,
        "allocated_at": review.allocated_at,
        "signed_off_at": review.signed_off_at,
        "notify_at": review.notify_at,
        "released_at": review.released_at,
        "awards": services.allocation_rows(call_id),
        "decisions": [
            {"reference": d.proposal.reference, "outcome": d.outcome.value, "released_at": d.released_at}
            for d in queries.decisions_of_call(call_id)
        ],
    }
