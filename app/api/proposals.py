"""API v1 over the proposals domain: calls, proposals (list, create, read, edit, submit).

The same services and rules as the pages: a token's owner sees what they would see logged in
(their team's proposals; staff and directors every proposal), and a proposal they may not see
answers 404, exactly like one that does not exist.

Proposals are addressed by a key: the reference (`2027-I-0042`) once submitted, or, for any
proposal and for drafts (which have no reference yet), its number written `id:123` (a bare
`123` works too: references always contain a dash). Every proposal in a response carries its
`key`.
"""

from __future__ import annotations

import re
from typing import Any

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate

from app.accounts.permissions import is_director, is_staff
from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.db import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.facility import queries as facility_queries
from app.proposals import permissions, queries, services
from app.proposals.models import AccessRoute, Call, Proposal, SubjectArea
from app.proposals.status import ProposalStatus
from app.web.messages import item_messages

#: the largest id a PostgreSQL integer column holds: a larger one is bad input (422), not a 500
MAX_ID = 2**31 - 1

calls_bp = ApiBlueprint("api_calls", __name__, url_prefix="/api/v1", description="Calls for proposals")
proposals_bp = ApiBlueprint(
    "api_proposals",
    __name__,
    url_prefix="/api/v1",
    description=(
        "Proposals. A proposal is addressed by its key: its reference (`2027-I-0042`) once submitted, "
        "or `id:123` (its number; `123` alone works too) for any proposal, drafts included — a draft "
        "has no reference until its first submission. Every proposal in a response carries its `key`."
    ),
)
BLUEPRINTS = [calls_bp, proposals_bp]

KEY_DESCRIPTION = "The reference (`2027-I-0042`), or `id:123` / `123` (the proposal's number; drafts have no reference)"
KEY_PARAMETER = {
    "in": "path",
    "name": "key",
    "required": True,
    "description": KEY_DESCRIPTION,
    "schema": {"type": "string", "minLength": 1},
}
_ID_KEY = re.compile(r"^(?:id:)?(\d{1,18})$")


# --- schemas --------------------------------------------------------------------------------


class CallQuerySchema(Schema):
    open_now = fields.Boolean(
        data_key="open",
        metadata={"description": "true: only calls open now; false: only calls not open now; absent: every call"},
    )


class OfferSchema(Schema):
    instrument_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    max_shifts = fields.Integer(required=True, metadata={"description": "The most shifts one request may ask for"})


class CallSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    cycle = fields.String(required=True)
    route = fields.String(required=True, validate=validate.OneOf([r.value for r in AccessRoute]))
    opens_at = fields.DateTime(required=True, metadata={"description": "UTC; the call is open from this instant"})
    closes_at = fields.DateTime(
        required=True, metadata={"description": "UTC; a submission at this instant or later is refused"}
    )
    is_open = fields.Boolean(required=True)
    max_shifts_per_request = fields.Integer(required=True)
    proposal_shift_cap = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Rapid access: the most shifts of one proposal"}
    )
    max_cycles = fields.Integer(required=True, metadata={"description": "Long-term: cycles a request may span"})
    instruments = fields.List(fields.Nested(OfferSchema), required=True)


class CallRefSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    cycle = fields.String(required=True)
    route = fields.String(required=True)


class PersonRefSchema(Schema):
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)


class ProposalSummarySchema(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True, metadata={"description": "How to address it: the reference, or id:123"})
    reference = fields.String(required=True, allow_none=True, metadata={"description": "Null for a draft"})
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ProposalStatus]))
    title = fields.String(required=True)
    call = fields.Nested(CallRefSchema, required=True)
    pi = fields.Nested(PersonRefSchema, required=True, allow_none=True)
    team_size = fields.Integer(required=True)
    countries = fields.List(
        fields.String(), required=True, metadata={"description": "The team's countries (affiliation snapshot)"}
    )
    instruments = fields.List(fields.String(), required=True, metadata={"description": "Instrument codes asked for"})
    shifts = fields.Integer(required=True, metadata={"description": "All shifts asked for (over every cycle)"})
    submitted_at = fields.DateTime(required=True, allow_none=True)
    updated_at = fields.DateTime(required=True)


class ProposalPageSchema(Schema):
    items = fields.List(fields.Nested(ProposalSummarySchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class ProposalListQuerySchema(Schema):
    call = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "Only this call (its id)"}
    )
    status = fields.String(
        validate=validate.OneOf([s.value for s in ProposalStatus]),
        metadata={"description": "Only this status. Staff see other people's drafts only with status=draft"},
    )
    instrument = fields.String(
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Only proposals asking for this instrument (code)"},
    )
    country = fields.String(
        validate=validate.Regexp(r"^[A-Za-z]{2}$"),
        metadata={"description": "Only proposals with a team member from this country (ISO 3166-1 alpha-2)"},
    )
    route = fields.String(validate=validate.OneOf([r.value for r in AccessRoute]))
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Search title, reference, PI"})
    mine = fields.Boolean(
        metadata={"description": "Staff and directors: only their own proposals (others always get only theirs)"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MemberSchema(Schema):
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    orcid = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(["pi", "co_proposer"]))
    institution = fields.String(required=True, allow_none=True, metadata={"description": "Affiliation snapshot"})
    country = fields.String(required=True, allow_none=True, metadata={"description": "Affiliation snapshot"})


class RequestSchema(Schema):
    id = fields.Integer(required=True)
    instrument = fields.String(required=True)
    shifts = fields.Integer(required=True)
    cycles = fields.Integer(required=True)
    justification = fields.String(required=True)
    operating_mode = fields.String(required=True, allow_none=True)


class SampleSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    formula = fields.String(required=True)
    form = fields.String(required=True)
    quantity = fields.String(required=True)
    hazards = fields.List(fields.String(), required=True)
    biological_risk_group = fields.Integer(required=True, allow_none=True)


class DateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["preferred", "unacceptable"]))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    note = fields.String(required=True)


class ScienceCaseSchema(Schema):
    name = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes"})
    pages = fields.Integer(required=True)
    uploaded_at = fields.DateTime(required=True)


class MissingItemSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class ProposalSchema(ProposalSummarySchema):
    abstract = fields.String(required=True)
    subject_area = fields.String(required=True, allow_none=True)
    science_case = fields.Nested(ScienceCaseSchema, required=True, allow_none=True)
    members = fields.List(fields.Nested(MemberSchema), required=True)
    requests = fields.List(fields.Nested(RequestSchema), required=True)
    samples = fields.List(fields.Nested(SampleSchema), required=True)
    dates = fields.List(fields.Nested(DateSchema), required=True)
    links = fields.List(fields.String(), required=True, metadata={"description": "References of earlier proposals"})
    created_at = fields.DateTime(required=True)
    withdrawn_at = fields.DateTime(required=True, allow_none=True)
    editable = fields.Boolean(required=True, metadata={"description": "Whether it takes edits now"})
    missing = fields.List(
        fields.Nested(MissingItemSchema),
        required=True,
        metadata={"description": "What stands between it and a submission (empty when complete)"},
    )


class ProposalCreateSchema(Schema):
    call_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The call (GET /api/v1/calls?open=true)"},
    )
    title = fields.String(load_default="", validate=validate.Length(max=300))


class ProposalPatchSchema(Schema):
    title = fields.String(validate=validate.Length(max=300))
    abstract = fields.String()
    subject_area = fields.String(allow_none=True, validate=validate.OneOf([s.value for s in SubjectArea]))


class SubmitRefusedSchema(ApiErrorSchema):
    missing = fields.List(
        fields.Nested(MissingItemSchema),
        metadata={"description": "proposal_incomplete: every item still missing, in page order"},
    )


# --- serialisation --------------------------------------------------------------------------


def key_of(proposal: Proposal) -> str:
    return proposal.reference or f"id:{proposal.id}"


def _call_ref(call: Call) -> dict[str, Any]:
    return {"id": call.id, "title": call.title, "cycle": call.cycle.name, "route": call.route.value}


def _call(call: Call, now) -> dict[str, Any]:
    return {
        **_call_ref(call),
        "description": call.description,
        "opens_at": call.opens_at,
        "closes_at": call.closes_at,
        "is_open": call.is_open(now),
        "max_shifts_per_request": call.max_shifts_per_request,
        "proposal_shift_cap": call.proposal_shift_cap,
        "max_cycles": call.max_cycles,
        "instruments": [
            {
                "instrument_id": o.instrument_id,
                "code": o.instrument.code,
                "name": o.instrument.name,
                "max_shifts": o.shift_limit(),
            }
            for o in call.instruments
        ],
    }


def _summary(p: Proposal) -> dict[str, Any]:
    pi = p.pi
    return {
        "id": p.id,
        "key": key_of(p),
        "reference": p.reference,
        "status": p.status.value,
        "title": p.title,
        "call": _call_ref(p.call),
        "pi": {"user_id": pi.user_id, "name": pi.user.name} if pi else None,
        "team_size": len(p.members),
        "countries": sorted({m.country_code for m in p.members if m.country_code}),
        "instruments": [r.instrument.code for r in p.requests],
        "shifts": p.total_shifts,
        "submitted_at": p.submitted_at,
        "updated_at": p.updated_at,
    }


def _detail(p: Proposal, actor: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        **_summary(p),
        "abstract": p.abstract,
        "subject_area": p.subject_area.value if p.subject_area else None,
        "science_case": (
            {
                "name": p.science_case_name,
                "size": p.science_case_size,
                "pages": p.science_case_pages,
                "uploaded_at": p.science_case_uploaded_at,
            }
            if p.science_case_key
            else None
        ),
        "members": [
            {
                "user_id": m.user_id,
                "name": m.user.name,
                "orcid": m.user.orcid,
                "role": m.role.value,
                "institution": m.institution_name,
                "country": m.country_code,
            }
            for m in p.members
        ],
        "requests": [
            {
                "id": r.id,
                "instrument": r.instrument.code,
                "shifts": r.shifts,
                "cycles": r.cycles,
                "justification": r.justification,
                "operating_mode": r.operating_mode.code if r.operating_mode else None,
            }
            for r in p.requests
        ],
        "samples": [
            {
                "id": s.id,
                "name": s.name,
                "formula": s.formula,
                "form": s.form.value,
                "quantity": s.quantity,
                "hazards": list(s.hazards),
                "biological_risk_group": s.biological_risk_group,
            }
            for s in p.samples
        ],
        "dates": [
            {"kind": d.kind.value, "starts_on": d.starts_on, "ends_on": d.ends_on, "note": d.note} for d in p.dates
        ],
        "links": [link.earlier.reference for link in p.links if link.earlier.reference],
        "created_at": p.created_at,
        "withdrawn_at": p.withdrawn_at,
        "editable": p.is_editable(now) and permissions.can_edit_proposal(actor, p),
        "missing": item_messages([problem.as_dict() for problem in services.problems_of(p)]),
    }


def proposal_for_key(key: str, actor: Any) -> Proposal:
    """The proposal a key names, if the actor may see it; NotFound otherwise (same answer)."""
    match = _ID_KEY.match(key.strip())
    if match:
        return services.get_visible_proposal(int(match.group(1)), actor)
    return services.get_proposal_by_reference(key, actor)


# --- calls ----------------------------------------------------------------------------------


@calls_bp.get("/calls")
@calls_bp.arguments(CallQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@calls_bp.response(200, CallSchema(many=True))
@calls_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@token_required
def list_calls(open_now: bool | None = None):
    """Calls for proposals, newest first; `?open=true` keeps those open now (soonest deadline first)."""
    now = utcnow()
    if open_now:
        calls = queries.list_open_calls(now)
    else:
        calls = queries.list_calls()
        if open_now is False:
            calls = [c for c in calls if not c.is_open(now)]
    return [_call(c, now) for c in calls]


# --- proposals ------------------------------------------------------------------------------


@proposals_bp.get("/proposals")
@proposals_bp.arguments(ProposalListQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@proposals_bp.response(200, ProposalPageSchema)
@proposals_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@proposals_bp.alt_response(422, schema=ApiErrorSchema, description="A filter that is not valid (field named)")
@token_required
def list_proposals(page: int = 1, per_page: int = 50, **args: Any):
    """My proposals (every state, drafts included); staff and directors see every submitted
    proposal, with filters (`call`, `status`, `instrument`, `country`, `route`, `q`), 50 a page."""
    actor = bearer_user()
    sees_all = (is_staff(actor) or is_director(actor)) and not args.get("mine")
    instrument_id = None
    if args.get("instrument"):
        instrument = facility_queries.find_instrument_by_code(args["instrument"].strip().upper())
        if instrument is None:
            raise ValidationFailed("instrument_unknown", field="instrument")
        instrument_id = instrument.id
    status = args.get("status")
    filters = queries.ProposalFilters(
        call_id=args.get("call"),
        instrument_id=instrument_id,
        country=(args.get("country") or "").upper() or None,
        status=status,
        route=args.get("route"),
        text=args.get("q") or "",
        include_drafts=not sees_all or status == ProposalStatus.DRAFT,
        member_id=None if sees_all else actor.id,
    )
    result = queries.list_call_proposals(filters, page=page, per_page=per_page)
    return {
        "items": [_summary(p) for p in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


@proposals_bp.post("/proposals")
@proposals_bp.arguments(ProposalCreateSchema, location="json", unknown=RAISE)
@proposals_bp.response(201, ProposalSchema)
@proposals_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@proposals_bp.alt_response(409, schema=ApiErrorSchema, description="The call has closed (call_closed)")
@proposals_bp.alt_response(422, schema=ApiErrorSchema, description="Bad input; `field` names it (call_id, title)")
@token_required
def create_proposal(data: dict[str, Any]):
    """Start a draft in a call that has not closed, with the token's owner as PI. The draft has
    no reference: address it as `id:<id>` (its `key`)."""
    actor = bearer_user()
    try:
        proposal = services.create_proposal(data["call_id"], actor=actor, title=data.get("title") or "")
    except NotFound as exc:
        raise ValidationFailed("call_not_found", field="call_id") from exc
    return _detail(proposal, actor)


@proposals_bp.get("/proposals/<key>")
@proposals_bp.doc(parameters=[KEY_PARAMETER])
@proposals_bp.response(200, ProposalSchema)
@proposals_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@proposals_bp.alt_response(
    404, schema=ApiErrorSchema, description="No such proposal, or one the token's owner may not see"
)
@token_required
def get_proposal(key: str):
    """A whole proposal: texts, science case, team with affiliation snapshots, requests, samples,
    dates, links, and what is still missing before it can be submitted."""
    actor = bearer_user()
    return _detail(proposal_for_key(key, actor), actor)


@proposals_bp.patch("/proposals/<key>")
@proposals_bp.doc(parameters=[KEY_PARAMETER])
@proposals_bp.arguments(ProposalPatchSchema, location="json", unknown=RAISE)
@proposals_bp.response(200, ProposalSchema)
@proposals_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@proposals_bp.alt_response(403, schema=ApiErrorSchema, description="Not on the team (staff read, the team writes)")
@proposals_bp.alt_response(
    404, schema=ApiErrorSchema, description="No such proposal, or one the token's owner may not see"
)
@proposals_bp.alt_response(
    409, schema=ApiErrorSchema, description="Not editable now (call closed, rapid access submitted, decided)"
)
@proposals_bp.alt_response(422, schema=ApiErrorSchema, description="Bad input; `field` names it")
@token_required
def update_proposal(data: dict[str, Any], key: str):
    """Change title, abstract or subject area (any member of the team; the fields sent, only).
    A submitted proposal may be edited while its call is open, and its required fields stay filled."""
    actor = bearer_user()
    proposal = proposal_for_key(key, actor)
    if data:
        proposal = services.update_proposal(proposal.id, data, actor=actor)
    return _detail(proposal, actor)


@proposals_bp.post("/proposals/<key>/submit")
@proposals_bp.doc(parameters=[KEY_PARAMETER])
@proposals_bp.response(200, ProposalSchema)
@proposals_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@proposals_bp.alt_response(403, schema=ApiErrorSchema, description="Not the principal investigator")
@proposals_bp.alt_response(
    404, schema=ApiErrorSchema, description="No such proposal, or one the token's owner may not see"
)
@proposals_bp.alt_response(
    409,
    schema=SubmitRefusedSchema,
    description=(
        "Refused, nothing changed: call_not_open, call_closed, proposal_not_draft, or proposal_incomplete "
        "with `missing` listing every item"
    ),
)
@token_required
def submit_proposal(key: str):
    """Submit (the principal investigator), before the call's closing instant; the reference is
    given at the first submission. Submitting again after edits keeps the reference."""
    actor = bearer_user()
    proposal = proposal_for_key(key, actor)
    return _detail(services.submit_proposal(proposal.id, actor=actor), actor)
