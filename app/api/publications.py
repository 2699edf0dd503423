"""API v1 over publications: those of a proposal (whoever may see the proposal) and those of
an instrument (any token)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from app.api.auth import bearer_user, token_required
from app.api.proposals import proposal_for_key
from app.api.schemas import ApiErrorSchema
from app.core.errors import NotFound
from app.core.permissions import require
from app.visits.outcomes import permissions, queries

publications_bp = ApiBlueprint(
    "api_publications", __name__, url_prefix="/api/v1", description="Publications that came of beamtime"
)
BLUEPRINTS = [publications_bp]


class PublicationSchema(Schema):
    doi = fields.String(required=True, metadata={"description": "Normalised: lower case, no resolver prefix"})
    title = fields.String(required=True)
    year = fields.Integer(required=True)
    journal = fields.String(required=True)
    proposals = fields.List(fields.String(), required=True, metadata={"description": "Proposal references"})
    instruments = fields.List(fields.String(), required=True, metadata={"description": "Instrument codes"})


def _row(p) -> dict[str, Any]:
    return {
        "doi": p.doi,
        "title": p.title,
        "year": p.year,
        "journal": p.journal,
        "proposals": sorted(x.reference or f"id:{x.id}" for x in p.proposals),
        "instruments": sorted(i.code for i in p.instruments),
    }


@publications_bp.get("/proposals/<key>/publications")
@publications_bp.response(200, PublicationSchema(many=True))
@publications_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@publications_bp.alt_response(404, schema=ApiErrorSchema, description="No such proposal, or not visible to you")
@token_required
def proposal_publications(key: str):
    """Publications of a proposal (addressed by its reference or id:123), newest first."""
    proposal = proposal_for_key(key, bearer_user())
    return [_row(p) for p in queries.publications_of_proposal(proposal.id)]


@publications_bp.get("/instruments/<code>/publications")
@publications_bp.response(200, PublicationSchema(many=True))
@publications_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@publications_bp.alt_response(404, schema=ApiErrorSchema, description="No instrument with this code")
@token_required
def instrument_publications(code: str):
    """Publications that used an instrument (addressed by its code), newest first."""
    require(permissions.can_read_publications, bearer_user())
    instrument = queries.find_instrument_by_code(code)
    if instrument is None:
        raise NotFound("not_found")
    return [_row(p) for p in queries.publications_of_instrument(instrument.id)]
