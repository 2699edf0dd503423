"""API v1 over the reports: usage by country and collaboration between countries.

Director, user office and admin tokens only. The same filters and counting modes as the
dashboard; every figure is read from the rollups (docs/METRICS.md defines them).
"""

from __future__ import annotations

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields
from webargs.fields import DelimitedList

from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.permissions import require
from app.reports import metrics, permissions, queries

reports_bp = ApiBlueprint(
    "api_reports", __name__, url_prefix="/api/v1", description="Reports: use of the facility by country, collaboration"
)
BLUEPRINTS = [reports_bp]


class ReportQuerySchema(Schema):
    years = DelimitedList(fields.String(), metadata={"description": "Comma-separated years, e.g. 2026,2027"})
    cycles = DelimitedList(fields.String(), metadata={"description": "Cycle names, e.g. 2027-I"})
    instruments = DelimitedList(
        fields.String(), metadata={"description": "Instrument codes; none = the facility (a proposal counted once)"}
    )
    routes = DelimitedList(fields.String(), metadata={"description": "standard, rapid_access, long_term, proprietary"})
    mode = fields.String(metadata={"description": "Counting mode: pi, whole or fractional (default)"})
    group = fields.String(metadata={"description": "A country group's name (the non-country groups always stay)"})
    unit = fields.String(metadata={"description": "The unit of `by_country` (default proposals_submitted)"})
    basis = fields.String(
        metadata={"description": "Collaboration over `proposals` (default) or `delivered` experiments"}
    )
    base_year = fields.String(metadata={"description": "Year the collaboration trend is compared against"})


#: one row per attribution key: every unit of the table in the chosen mode, and the success rate
CountryRowSchema = Schema.from_dict(
    {
        "country": fields.String(required=True, metadata={"description": "ISO alpha-2, or INTL, HOUSE, NONE"}),
        "success_rate": fields.Float(allow_none=True, required=True),
        **{unit.value: fields.Float(required=True) for unit in queries.COUNTRY_TABLE_UNITS},
    },
    name="ReportCountryRow",
)


class InstrumentRowSchema(Schema):
    cycle = fields.String(required=True)
    instrument = fields.String(required=True)
    requested = fields.Float(required=True)
    capacity = fields.Integer(allow_none=True, required=True)
    oversubscription = fields.Float(allow_none=True, required=True)
    foreign_share = fields.Float(allow_none=True, required=True)


class FairReturnSchema(Schema):
    year = fields.Integer(required=True)
    country = fields.String(required=True)
    delivered_share = fields.Float(required=True)
    contribution_share = fields.Float(required=True)
    ratio = fields.Float(allow_none=True, required=True)


class UsageSchema(Schema):
    mode = fields.String(required=True)
    unit = fields.String(required=True)
    host_country = fields.String(allow_none=True, required=True)
    by_country = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    foreign_share = fields.Float(allow_none=True, required=True)
    by_year = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Float()), required=True
    )
    countries = fields.List(fields.Nested(CountryRowSchema), required=True)
    instruments = fields.List(fields.Nested(InstrumentRowSchema), required=True)
    fair_return = fields.List(fields.Nested(FairReturnSchema), required=True)


class PairSchema(Schema):
    a = fields.String(required=True)
    b = fields.String(required=True)
    score = fields.Float(
        required=True, metadata={"description": "Sum of the two keys' fractional shares over shared teams"}
    )
    teams = fields.Integer(required=True)


class PartnerSchema(Schema):
    country = fields.String(required=True)
    score = fields.Float(required=True)
    series = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class CollaboratorSchema(Schema):
    country = fields.String(required=True)
    score = fields.Float(required=True)
    series = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    change = fields.Float(
        allow_none=True, required=True, metadata={"description": "Relative change since the base year"}
    )
    partners = fields.List(fields.Nested(PartnerSchema), required=True)


class CollaborationSchema(Schema):
    basis = fields.String(required=True)
    years = fields.List(fields.Integer(), required=True)
    base_year = fields.Integer(allow_none=True, required=True)
    pairs = fields.List(fields.Nested(PairSchema), required=True)
    countries = fields.List(fields.Nested(CollaboratorSchema), required=True)


def _filters(args: dict) -> queries.Filters:
    return queries.parse_filters(**args)


@reports_bp.get("/reports/usage")
@reports_bp.arguments(ReportQuerySchema, location="query", unknown=RAISE)
@reports_bp.response(200, UsageSchema)
@reports_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@reports_bp.alt_response(403, schema=ApiErrorSchema, description="Not a director, user office or admin token")
@reports_bp.alt_response(422, schema=ApiErrorSchema, description="A filter value is not valid (the field is named)")
@token_required
def usage(args: dict):
    """Use of the facility by country: the chosen unit by key, the table of every unit, the
    yearly series, per-instrument oversubscription and foreign share, and fair return."""
    require(permissions.can_view_reports, bearer_user())
    f = _filters(args)
    host = queries.host_country()
    by_country = queries.by_country(f)
    return {
        "mode": f.mode.value,
        "unit": f.unit.value,
        "host_country": host,
        "by_country": by_country,
        "foreign_share": metrics.foreign_share(by_country, host) if host else None,
        "by_year": {str(y): v for y, v in queries.by_year(f).items()},
        "countries": queries.country_table(f),
        "instruments": queries.instrument_table(f, host),
        "fair_return": queries.fair_return(f),
    }


@reports_bp.get("/reports/collaboration")
@reports_bp.arguments(ReportQuerySchema, location="query", unknown=RAISE)
@reports_bp.response(200, CollaborationSchema)
@reports_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@reports_bp.alt_response(403, schema=ApiErrorSchema, description="Not a director, user office or admin token")
@reports_bp.alt_response(422, schema=ApiErrorSchema, description="A filter value is not valid (the field is named)")
@token_required
def collaboration(args: dict):
    """Bilateral collaboration scores (Nature-Index style) between countries, each country's
    total with its yearly trend and change since the base year, and its top partners."""
    require(permissions.can_view_reports, bearer_user())
    result = queries.collaboration(_filters(args))
    result.pop("matrix")
    result.pop("keys")
    return {
        **result,
        "countries": [
            {
                **c,
                "series": {str(y): v for y, v in c["series"].items()},
                "partners": [{**p, "series": {str(y): v for y, v in p["series"].items()}} for p in c["partners"]],
            }
            for c in result["countries"]
        ],
    }
