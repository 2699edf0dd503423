"""API v1 over the visits domain: the visitors of an experiment (staff and the team).

No citizenship and no emergency contact in any answer: the schema has no field for them.
"""

from __future__ import annotations

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.db import utcnow
from app.visits import queries

visits_bp = ApiBlueprint("api_visits", __name__, url_prefix="/api/v1", description="Visits of experiments")
BLUEPRINTS = [visits_bp]


class ChecklistItemSchema(Schema):
    item = fields.String(
        required=True, metadata={"description": "registration, access, training, safety, accommodation"}
    )
    state = fields.String(required=True, metadata={"description": "done, todo, overdue, not_needed, refused"})
    next_actor = fields.String(allow_none=True, required=True)
    deadline = fields.Date(allow_none=True, required=True)
    days_left = fields.Integer(allow_none=True, required=True)


class VisitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    mode = fields.String(required=True, metadata={"description": "on_site or remote"})
    status = fields.String(required=True)
    institution = fields.String(allow_none=True, required=True, metadata={"description": "Affiliation snapshot"})
    country = fields.String(allow_none=True, required=True, metadata={"description": "Country of the affiliation"})
    arrives_on = fields.Date(allow_none=True, required=True)
    departs_on = fields.Date(allow_none=True, required=True)
    access = fields.String(required=True, metadata={"description": "not_needed, pending, approved, refused"})
    late_days = fields.Integer(required=True)
    checklist = fields.List(fields.Nested(ChecklistItemSchema), required=True)


class ExperimentVisitsSchema(Schema):
    experiment_id = fields.Integer(required=True)
    proposal = fields.String(required=True)
    instrument = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True)
    visits = fields.List(fields.Nested(VisitSchema), required=True)


@visits_bp.get("/experiments/<int:experiment_id>/visits")
@visits_bp.response(200, ExperimentVisitsSchema)
@visits_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@visits_bp.alt_response(404, schema=ApiErrorSchema, description="No such experiment, or not yours to see")
@token_required
def experiment_visits(experiment_id: int):
    """Who takes part in an experiment, on site or remote, with each visitor's checklist."""
    experiment = queries.get_experiment(experiment_id, bearer_user())
    now = utcnow()
    proposal = experiment.award.proposal
    visits = []
    for v, items in queries.checklists(queries.list_visits(experiment.booking_id), now):
        visits.append(
            {
                "id": v.id,
                "name": v.user.name,
                "mode": v.mode.value,
                "status": v.status.value,
                "institution": v.institution_name,
                "country": v.country_code,
                "arrives_on": v.arrives_on,
                "departs_on": v.departs_on,
                "access": v.access_status.value,
                "late_days": v.access_late_days,
                "checklist": [
                    {
                        "item": i.key.value,
                        "state": i.state.value,
                        "next_actor": i.actor.value if i.actor else None,
                        "deadline": i.deadline,
                        "days_left": i.days_left,
                    }
                    for i in items
                ],
            }
        )
    return {
        "experiment_id": experiment.booking_id,
        "proposal": proposal.reference or proposal.label,
        "instrument": experiment.booking.instrument.code,
        "starts_at": experiment.booking.starts_at,
        "ends_at": experiment.booking.ends_at,
        "status": experiment.booking.status.value,
        "visits": visits,
    }
