"""API v1 over the facility domain: instruments, cycles and their capacity.

Any usable token reads instruments and cycles (users pick them in proposals; beamline
systems look them up). Capacity is an internal planning number: staff (user office, admin),
directors and instrument scientists read it; other tokens get 403.
"""

from __future__ import annotations

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.permissions import require
from app.facility import permissions, queries

instruments_bp = ApiBlueprint(
    "api_instruments", __name__, url_prefix="/api/v1", description="Instruments and their scheduling settings"
)
cycles_bp = ApiBlueprint("api_cycles", __name__, url_prefix="/api/v1", description="Cycles and their capacity")
BLUEPRINTS = [instruments_bp, cycles_bp]


class InstrumentSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    techniques = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    start_shifts = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Shift start times (facility time) at which a session may start"},
    )
    start_weekdays = fields.List(fields.Integer(), required=True, metadata={"description": "0 = Monday … 6 = Sunday"})
    changeover_shifts = fields.Integer(required=True)
    min_session_shifts = fields.Integer(required=True)
    instrument_scientists = fields.List(fields.String(), required=True, metadata={"description": "Names"})


class CycleSchema(Schema):
    name = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "The last day, included"})
    starts_at = fields.DateTime(required=True, metadata={"description": "The first shift's start (UTC)"})
    ends_at = fields.DateTime(required=True, metadata={"description": "The end of the last shift (UTC, exclusive)"})


class CapacityRowSchema(Schema):
    instrument = fields.String(required=True, metadata={"description": "Instrument code"})
    shifts_in_cycle = fields.Integer(required=True)
    downtime = fields.Integer(required=True)
    maintenance = fields.Integer(required=True)
    user_shifts = fields.Integer(required=True)
    in_house = fields.Integer(required=True)
    rapid_access = fields.Integer(required=True)
    proprietary = fields.Integer(required=True)
    commitments = fields.Integer(required=True)
    computed = fields.Integer(required=True)
    override = fields.Integer(allow_none=True, required=True)
    override_reason = fields.String(allow_none=True, required=True)
    capacity = fields.Integer(
        required=True, metadata={"description": "The number to use: the override if set, else computed"}
    )


class CapacitySchema(Schema):
    cycle = fields.String(required=True)
    rounding = fields.String(required=True)
    instruments = fields.List(fields.Nested(CapacityRowSchema), required=True)


@instruments_bp.get("/instruments")
@instruments_bp.response(200, InstrumentSchema(many=True))
@instruments_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@token_required
def list_instruments():
    """Every instrument, active and retired, with its instrument scientists."""
    require(permissions.can_view_instruments, bearer_user())
    rows = queries.list_instruments()
    scientists = queries.instrument_scientists([i.id for i in rows])
    facility = queries.find_facility()
    pattern = list(facility.shift_pattern) if facility else []
    return [
        {
            "id": i.id,
            "code": i.code,
            "name": i.name,
            "techniques": i.techniques,
            "active": i.active,
            "start_shifts": [pattern[s] if s < len(pattern) else str(s) for s in i.start_shifts],
            "start_weekdays": i.start_weekdays,
            "changeover_shifts": i.changeover_shifts,
            "min_session_shifts": i.min_session_shifts,
            "instrument_scientists": [p.name for p in scientists.get(i.id, [])],
        }
        for i in rows
    ]


@cycles_bp.get("/cycles")
@cycles_bp.response(200, CycleSchema(many=True))
@cycles_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@token_required
def list_cycles():
    """Every cycle, newest first, with its span on the shift grid."""
    require(permissions.can_view_cycles, bearer_user())
    cycles = queries.list_cycles()
    if not cycles:
        return []
    g = queries.grid()
    out = []
    for c in cycles:
        starts_at, ends_at = g.span(c)
        out.append(
            {"name": c.name, "starts_on": c.starts_on, "ends_on": c.ends_on, "starts_at": starts_at, "ends_at": ends_at}
        )
    return out


@cycles_bp.get("/cycles/<name>/capacity")
@cycles_bp.response(200, CapacitySchema)
@cycles_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@cycles_bp.alt_response(403, schema=ApiErrorSchema, description="Not staff, director or instrument scientist")
@cycles_bp.alt_response(404, schema=ApiErrorSchema, description="No such cycle")
@token_required
def cycle_capacity(name: str):
    """Capacity of every active instrument in the cycle, with the arithmetic behind it."""
    require(permissions.can_view_capacity, bearer_user())
    cycle = queries.get_cycle_by_name(name)
    rows = []
    for instrument, cap in queries.capacity_table(cycle):
        rows.append(
            {
                "instrument": instrument.code,
                "shifts_in_cycle": cap.shifts_in_cycle,
                "downtime": cap.downtime,
                "maintenance": cap.maintenance,
                "user_shifts": cap.user_shifts,
                "in_house": cap.in_house,
                "rapid_access": cap.rapid_access,
                "proprietary": cap.proprietary,
                "commitments": cap.commitments,
                "computed": cap.computed,
                "override": cap.override,
                "override_reason": cap.override_reason,
                "capacity": cap.value,
            }
        )
    return {
        "cycle": cycle.name,
        "rounding": "each partition = user shifts × percent / 100, rounded half up to a whole shift",
        "instruments": rows,
    }
