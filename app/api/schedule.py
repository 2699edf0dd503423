"""API v1 over the schedule: an instrument's schedule, what runs on it now, direct booking.

- `GET /instruments/{code}/schedule?start=…&end=…`: any usable token; published experiments
  and the instrument's blocks, planned (draft) experiments too for staff, directors and the
  instrument's scientists (the calendars' rule, app/scheduling/calendar_queries.py). At most
  190 days at a time; naive times are read as UTC.
- `GET /instruments/{code}/current`: the published or running experiment whose half-open
  [starts_at, ends_at) holds now — what beamline control and data-catalogue systems ask for;
  staff, directors and the instrument's scientists (the team's names and ORCID ids are in it).
  404 with code `nothing_running` when the instrument is idle.
- `POST /instruments/{code}/blocks` (staff) and `POST /awards/{award_id}/sessions` (the PI of
  a released rapid-access award, or staff) call the same services as the booking pages; a slot
  someone took first is a 409 `slot_taken` naming the booking that won.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate

from app.api.auth import bearer_user, token_required
from app.api.schemas import ApiErrorSchema
from app.core.db import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import require
from app.facility import queries as facility_queries
from app.facility.models import BLOCK_KINDS, Booking
from app.scheduling import calendar_queries as cq
from app.scheduling import permissions, services

MAX_ID = 2**31 - 1

schedule_bp = ApiBlueprint(
    "api_schedule",
    __name__,
    url_prefix="/api/v1",
    description="The schedule: an instrument's bookings, the experiment running now, direct booking",
)
BLUEPRINTS = [schedule_bp]


# --- schemas --------------------------------------------------------------------------------


class ScheduleQuerySchema(Schema):
    start = fields.AwareDateTime(
        required=True,
        default_timezone=UTC,
        metadata={"description": "ISO 8601 instant; bookings ending after it (naive = UTC)"},
    )
    end = fields.AwareDateTime(
        required=True,
        default_timezone=UTC,
        metadata={"description": "ISO 8601 instant after start, at most 190 days later; bookings starting before it"},
    )


class PersonSchema(Schema):
    name = fields.String(required=True)
    orcid = fields.String(required=True, allow_none=True, metadata={"description": "ORCID iD (0000-0002-…)"})


class ProposalRefSchema(Schema):
    reference = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)


class BookingItemSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "experiment, maintenance, in_house, rapid_access"})
    status = fields.String(
        required=True,
        metadata={"description": "planned (staff only), published, running, completed; confirmed for blocks"},
    )
    starts_at = fields.DateTime(required=True, metadata={"description": "UTC, included"})
    ends_at = fields.DateTime(required=True, metadata={"description": "UTC, excluded"})
    title = fields.String(required=True)
    proposal = fields.Nested(
        ProposalRefSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Null for blocks, and for a proprietary experiment you may not see"},
    )
    sequence = fields.Integer(
        required=True, metadata={"description": "Raised on every change of a published experiment"}
    )


class ScheduleSchema(Schema):
    instrument = fields.String(required=True)
    timezone = fields.String(required=True, metadata={"description": "The facility's IANA time zone"})
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    items = fields.List(fields.Nested(BookingItemSchema), required=True)


class SessionSchema(Schema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    status = fields.String(required=True)


class MemberSchema(PersonSchema):
    role = fields.String(required=True, metadata={"description": "pi or co_proposer"})
    institution = fields.String(required=True, allow_none=True)
    country = fields.String(required=True, allow_none=True)


class CurrentSchema(Schema):
    instrument = fields.String(required=True)
    experiment_id = fields.Integer(required=True, metadata={"description": "The booking's id (stable)"})
    status = fields.String(required=True)
    proposal = fields.Nested(ProposalRefSchema, required=True)
    starts_at = fields.DateTime(required=True, metadata={"description": "This session's start (UTC, included)"})
    ends_at = fields.DateTime(required=True, metadata={"description": "This session's end (UTC, excluded)"})
    sessions = fields.List(
        fields.Nested(SessionSchema), required=True, metadata={"description": "Every session of the award"}
    )
    local_contact = fields.Nested(PersonSchema, required=True, allow_none=True)
    team = fields.List(fields.Nested(MemberSchema), required=True)


class BlockCreateSchema(Schema):
    cycle = fields.String(
        required=True, validate=validate.Length(min=1, max=20), metadata={"description": "e.g. 2027-I"}
    )
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in BLOCK_KINDS]))
    day = fields.Date(required=True, metadata={"description": "The first day (facility time)"})
    shift = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=23),
        metadata={"description": "Index of the first shift of that day"},
    )
    length = fields.Integer(
        required=True, validate=validate.Range(min=1, max=10000), metadata={"description": "Shifts"}
    )
    title = fields.String(load_default="", validate=validate.Length(max=200))


class SessionCreateSchema(Schema):
    day = fields.Date(required=True, metadata={"description": "The first day (facility time)"})
    shift = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=23),
        metadata={"description": "Index of the first shift of that day"},
    )
    length = fields.Integer(
        required=True, validate=validate.Range(min=1, max=10000), metadata={"description": "Shifts"}
    )


class BookedSchema(Schema):
    id = fields.Integer(required=True)
    instrument = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)


# --- helpers --------------------------------------------------------------------------------


def _item(item: cq.Item) -> dict[str, Any]:
    proposal = None
    if item.experiment is not None and item.details:
        proposal = {"reference": item.reference, "title": item.title}
    return {
        "id": item.booking.id,
        "kind": item.kind,
        "status": item.status,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "title": item.title if item.experiment is None or item.details else "",
        "proposal": proposal,
        "sequence": item.experiment.sequence if item.experiment is not None else 0,
    }


def _booked(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "instrument": booking.instrument.code,
        "kind": booking.kind.value,
        "status": booking.status.value,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
    }


def _person(user) -> dict[str, Any] | None:
    return None if user is None else {"name": user.name, "orcid": user.orcid}


# --- operations -----------------------------------------------------------------------------


@schedule_bp.get("/instruments/<code>/schedule")
@schedule_bp.arguments(ScheduleQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@schedule_bp.response(200, ScheduleSchema)
@schedule_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@schedule_bp.alt_response(404, schema=ApiErrorSchema, description="No instrument with this code")
@schedule_bp.alt_response(
    422, schema=ApiErrorSchema, description="start or end missing or not an instant, end not after start, over 190 days"
)
@token_required
def instrument_schedule(code: str, start: datetime, end: datetime):
    """The instrument's bookings overlapping [start, end): published experiments and blocks
    (drafts too for staff, directors and the instrument's scientists), oldest first."""
    actor = bearer_user()
    require(permissions.can_view_calendars, actor)
    instrument = cq.get_instrument_by_code(code)
    if end <= start:
        raise ValidationFailed("range_invalid", field="end")
    if end - start > cq.MAX_RANGE:
        raise ValidationFailed("range_too_long", field="end", days=cq.MAX_RANGE.days)
    items = cq.schedule(instrument, start, end, actor=actor)
    return {
        "instrument": instrument.code,
        "timezone": facility_queries.facility_timezone_name() or "UTC",
        "start": start,
        "end": end,
        "items": [_item(i) for i in items],
    }


@schedule_bp.get("/instruments/<code>/current")
@schedule_bp.response(200, CurrentSchema)
@schedule_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@schedule_bp.alt_response(
    403, schema=ApiErrorSchema, description="Not staff, director or a scientist of the instrument"
)
@schedule_bp.alt_response(
    404,
    schema=ApiErrorSchema,
    description="No instrument with this code, or nothing running on it now (nothing_running)",
)
@token_required
def instrument_current(code: str):
    """The experiment on the instrument now (published or running, now in [starts_at, ends_at)):
    proposal, this session and all the award's sessions, local contact, team with ORCID iDs."""
    actor = bearer_user()
    instrument = cq.get_instrument_by_code(code)
    require(permissions.can_view_current, actor, instrument)
    experiment = cq.current_experiment(instrument, utcnow())
    if experiment is None:
        raise NotFound("nothing_running", code=instrument.code)
    proposal = experiment.award.proposal
    booking = experiment.booking
    return {
        "instrument": instrument.code,
        "experiment_id": booking.id,
        "status": booking.status.value,
        "proposal": {"reference": proposal.reference, "title": proposal.title},
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "sessions": [
            {"starts_at": b.starts_at, "ends_at": b.ends_at, "status": b.status.value}
            for b in cq.experiment_sessions(experiment.award_id)
        ],
        "local_contact": _person(experiment.local_contact),
        "team": [
            {
                **_person(m.user),
                "role": m.role.value,
                "institution": m.institution_name,
                "country": m.country_code,
            }
            for m in cq.team_of(proposal)
        ],
    }


@schedule_bp.post("/instruments/<code>/blocks")
@schedule_bp.arguments(BlockCreateSchema, location="json", unknown=RAISE)
@schedule_bp.response(201, BookedSchema)
@schedule_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@schedule_bp.alt_response(403, schema=ApiErrorSchema, description="Not staff (user office, admin)")
@schedule_bp.alt_response(404, schema=ApiErrorSchema, description="No instrument with this code")
@schedule_bp.alt_response(
    409, schema=ApiErrorSchema, description="slot_taken (names the booking in the way), facility_not_configured"
)
@schedule_bp.alt_response(422, schema=ApiErrorSchema, description="Bad input; `field` names it")
@token_required
def book_block(data: dict[str, Any], code: str):
    """Book maintenance, in-house research or a rapid-access slot of `length` shifts from shift
    `shift` of `day` (staff): on the grid, inside the cycle, not in the past, not in a shutdown."""
    actor = bearer_user()
    require(permissions.can_book_blocks, actor)
    instrument = cq.get_instrument_by_code(code)
    try:
        cycle = facility_queries.get_cycle_by_name(data["cycle"])
    except NotFound as exc:
        raise ValidationFailed("cycle_not_found", field="cycle") from exc
    booking = services.book_block(
        instrument.id,
        cycle.id,
        kind=data["kind"],
        day=data["day"],
        shift=data["shift"],
        length=data["length"],
        title=data.get("title", ""),
        actor=actor,
    )
    return _booked(booking)


@schedule_bp.post("/awards/<int:award_id>/sessions")
@schedule_bp.arguments(SessionCreateSchema, location="json", unknown=RAISE)
@schedule_bp.response(201, BookedSchema)
@schedule_bp.alt_response(401, schema=ApiErrorSchema, description="No usable token")
@schedule_bp.alt_response(404, schema=ApiErrorSchema, description="No such award, or not yours")
@schedule_bp.alt_response(
    409,
    schema=ApiErrorSchema,
    description="slot_taken (names the booking in the way), award_not_bookable, facility_not_configured",
)
@schedule_bp.alt_response(422, schema=ApiErrorSchema, description="Bad input; `field` names it")
@token_required
def book_session(data: dict[str, Any], award_id: int):
    """Book a session of a rapid-access award inside a rapid-access slot of its instrument (its
    PI once the decision is released, or staff); published at once."""
    actor = bearer_user()
    if award_id > MAX_ID:
        raise NotFound("award_not_found")
    booking = services.book_rapid_access(
        award_id, day=data["day"], shift=data["shift"], length=data["length"], actor=actor
    )
    return _booked(booking)
