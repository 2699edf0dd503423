"""Use cases of the visits domain: the only code here that changes state.

Registration (the team names visitors or invites them by e-mail; the visitor completes the
form), the user office's decisions, site access, experiment safety, training, and the two
periodic jobs: checklist reminders and the erasure of citizenship and emergency contacts.
The subscriber to ExperimentCancelled cancels the experiment's visits and tells the visitors.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.accounts import countries, links
from app.accounts.models import CountryGroup, User
from app.accounts.services import find_user_by_email, normalise_email
from app.core import audit, events, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.facility.models import Booking, BookingStatus
from app.proposals.models import Hazard
from app.scheduling.events import ExperimentCancelled
from app.scheduling.models import Experiment
from app.visits import checklist, config, notifications, permissions, queries
from app.visits.events import VisitChanged
from app.visits.models import (
    AccessRule,
    AccessStatus,
    ExperimentSafety,
    TrainingCourse,
    TrainingRecord,
    Visit,
    VisitInvitation,
    VisitMode,
)
from app.visits.status import OPEN, Party, VisitAction, VisitStatus, next_status

INVITATION = "visits.invitation"
#: experiments whose team may still name visitors
OPEN_EXPERIMENT = (BookingStatus.PUBLISHED, BookingStatus.RUNNING)
PHONE = re.compile(r"^\+?[0-9 ()./-]{6,30}$")
REGISTRATION_FIELDS = (
    "arrives_on",
    "departs_on",
    "emergency_contact_name",
    "emergency_contact_phone",
    "accommodation_wanted",
    "dosimeter_needed",
    "citizenship",
)


# --- helpers ----------------------------------------------------------------------------------


def _experiment(experiment_id: int, actor: Any) -> Experiment:
    return queries.get_experiment(experiment_id, actor)


def _ensure_open(experiment: Experiment) -> None:
    if experiment.booking.status not in OPEN_EXPERIMENT:
        raise InvalidState("experiment_not_open_for_visits", status=experiment.booking.status.value)


def _snapshot(visit: Visit, user: User, now: datetime) -> None:
    institution = user.institution
    visit.institution_id = institution.id if institution else None
    visit.institution_name = institution.name if institution else None
    visit.country_code = institution.country_code if institution else None


def _live_visit(experiment_id: int, user_id: int) -> Visit | None:
    return db.session.scalar(
        select(Visit).where(
            Visit.experiment_id == experiment_id,
            Visit.user_id == user_id,
            Visit.status.not_in([VisitStatus.CANCELLED, VisitStatus.REFUSED]),
        )
    )


def _new_visit(experiment: Experiment, user: User, mode: VisitMode, *, actor: Any, now: datetime) -> Visit:
    remote = mode == VisitMode.REMOTE
    visit = Visit(
        experiment_id=experiment.booking_id,
        user_id=user.id,
        mode=mode,
        status=VisitStatus.REGISTERED if remote else VisitStatus.REQUESTED,
        registered_at=now if remote else None,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        updated_at=now,
    )
    _snapshot(visit, user, now)
    db.session.add(visit)
    db.session.flush()
    audit.record(actor, "visit.named", visit, changes={"user_id": user.id, "mode": mode.value}, at=now)
    _changed(visit)
    return visit


def _transition(visit: Visit, action: VisitAction, party: Party) -> None:
    target = next_status(visit.status, action, party)
    if target is None:
        raise InvalidState("visit_transition_not_allowed", status=visit.status.value, action=action.value)
    visit.status = target


def _changed(visit: Visit) -> None:
    """Tell higher domains (reports) that a visit changed, in this transaction."""
    events.publish(VisitChanged(visit.id, visit.experiment_id, visit.user_id))


# --- naming visitors and invitations ----------------------------------------------------------


@transactional
def add_visitor(
    experiment_id: int,
    *,
    mode: str,
    user_id: int | None = None,
    email: str | None = None,
    actor: Any,
    now: datetime | None = None,
) -> Visit | tuple[VisitInvitation, str]:
    """The PI or a co-proposer names a team member (`user_id`) or invites someone by e-mail.

    Returns the new visit, or the invitation and its token.
    Raises: NotFound, PermissionDenied (not the team), InvalidState (experiment not published),
    ValidationFailed on "mode", "user_id" or "email" (not on the team, already named, malformed).
    """
    now = now or utcnow()
    experiment = _experiment(experiment_id, actor)
    require(permissions.can_manage_visitors, actor, experiment)
    _ensure_open(experiment)
    try:
        visit_mode = VisitMode(mode)
    except ValueError:
        raise ValidationFailed("invalid_value", field="mode") from None
    proposal = experiment.award.proposal
    if user_id is not None:
        member = proposal.member(user_id)
        if member is None:
            raise ValidationFailed("visitor_not_on_team", field="user_id")
        user = member.user
        if _live_visit(experiment.booking_id, user.id) is not None:
            raise ValidationFailed("already_visitor", field="user_id")
        visit = _new_visit(experiment, user, visit_mode, actor=actor, now=now)
        if user.id != actor.id:
            notifications.enqueue_named(visit, actor=actor, now=now)
        return visit
    address = normalise_email(email or "")
    if not address or "@" not in address or " " in address or len(address) > 320:
        raise ValidationFailed("email_invalid", field="email")
    existing = find_user_by_email(address)
    if existing is not None and _live_visit(experiment.booking_id, existing.id) is not None:
        raise ValidationFailed("already_visitor", field="email")
    pending = db.session.scalars(
        select(VisitInvitation).where(
            VisitInvitation.experiment_id == experiment.booking_id, VisitInvitation.email == address
        )
    )
    if any(i.is_pending(now) for i in pending):
        raise ValidationFailed("already_invited", field="email")
    invitation = VisitInvitation(
        experiment_id=experiment.booking_id,
        email=address,
        mode=visit_mode,
        nonce=secrets.token_hex(16),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.get_int("visits.invitation_days")),
    )
    db.session.add(invitation)
    db.session.flush()
    token = links.sign(INVITATION, {"i": invitation.id, "n": invitation.nonce}, now=now)
    notifications.enqueue_invitation(invitation, token, inviter=actor, now=now)
    audit.record(actor, "visit.invited", invitation, changes={"email": address, "mode": visit_mode.value}, at=now)
    return invitation, token


def invitation_for_token(token: str, *, now: datetime | None = None) -> VisitInvitation:
    """The invitation a link stands for (any state). Raises: InvalidState link_invalid."""
    now = now or utcnow()
    payload = links.load(INVITATION, token, max_age=timedelta(days=365 + 90), now=now)
    invitation = db.session.get(VisitInvitation, payload.get("i"))
    if invitation is None or not secrets.compare_digest(invitation.nonce, str(payload.get("n", ""))):
        raise InvalidState("link_invalid")
    return invitation


@transactional
def accept_invitation(token: str, *, actor: Any, now: datetime | None = None) -> Visit:
    """Take part in the experiment with the invitation sent to one's own address.

    Raises: InvalidState (link_invalid, invitation_revoked, invitation_used, invitation_expired,
    email_not_verified, experiment_not_open_for_visits), PermissionDenied invitation_wrong_person,
    Conflict already_visitor.
    """
    now = now or utcnow()
    invitation = invitation_for_token(token, now=now)
    if invitation.revoked_at is not None:
        raise InvalidState("invitation_revoked")
    if invitation.accepted_at is not None:
        if invitation.accepted_by_id == getattr(actor, "id", None):
            visit = _live_visit(invitation.experiment_id, actor.id)
            if visit is not None:
                return visit
        raise InvalidState("invitation_used")
    if now >= invitation.expires_at:
        raise InvalidState("invitation_expired", expired_at=invitation.expires_at)
    if normalise_email(actor.email) != normalise_email(invitation.email):
        raise PermissionDenied("invitation_wrong_person", email=invitation.email)
    if actor.email_verified_at is None:
        raise InvalidState("email_not_verified")
    experiment = invitation.experiment
    _ensure_open(experiment)
    if _live_visit(experiment.booking_id, actor.id) is not None:
        raise Conflict("already_visitor")
    invitation.accepted_at = now
    invitation.accepted_by_id = actor.id
    return _new_visit(experiment, actor, invitation.mode, actor=actor, now=now)


# --- the visitor's registration ------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationInput:
    arrives_on: date | None
    departs_on: date | None
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""
    accommodation_wanted: bool = False
    dosimeter_needed: bool = False
    citizenship: str | None = None


def check_dates(experiment: Experiment, arrives_on: date | None, departs_on: date | None) -> None:
    """Arrival and departure overlap the experiment, within the margins of the settings.

    Raises: ValidationFailed on "arrives_on" or "departs_on".
    """
    if arrives_on is None:
        raise ValidationFailed("required", field="arrives_on")
    if departs_on is None:
        raise ValidationFailed("required", field="departs_on")
    if departs_on < arrives_on:
        raise ValidationFailed("departure_before_arrival", field="departs_on")
    starts_on, ends_on = queries.experiment_days(experiment)
    before, after = config.margins()
    earliest, latest = starts_on - timedelta(days=before), ends_on + timedelta(days=after)
    if arrives_on < earliest:
        raise ValidationFailed("arrival_too_early", field="arrives_on", earliest=earliest.isoformat())
    if arrives_on > ends_on:
        raise ValidationFailed("arrival_after_experiment", field="arrives_on", ends_on=ends_on.isoformat())
    if departs_on > latest:
        raise ValidationFailed("departure_too_late", field="departs_on", latest=latest.isoformat())
    if departs_on < starts_on:
        raise ValidationFailed("departure_before_experiment", field="departs_on", starts_on=starts_on.isoformat())


@transactional
def complete_registration(visit_id: int, data: RegistrationInput, *, actor: Any, now: datetime | None = None) -> Visit:
    """The visitor completes (or corrects) their registration; a visit returned for changes is
    requested again. Site access is requested at the same time when a rule needs it.

    Raises: NotFound, PermissionDenied (not the visitor), InvalidState (remote, already decided),
    ValidationFailed on the field at fault.
    """
    now = now or utcnow()
    visit = queries.get_visit(visit_id, actor)
    require(permissions.can_edit_registration, actor, visit)
    if visit.is_remote:
        raise InvalidState("remote_needs_no_registration")
    if visit.status not in (VisitStatus.REQUESTED, VisitStatus.CHANGES_REQUESTED):
        raise InvalidState("visit_not_editable", status=visit.status.value)
    _ensure_open(visit.experiment)
    check_dates(visit.experiment, data.arrives_on, data.departs_on)
    name = (data.emergency_contact_name or "").strip()
    phone = (data.emergency_contact_phone or "").strip()
    if not name:
        raise ValidationFailed("required", field="emergency_contact_name")
    if len(name) > 200:
        raise ValidationFailed("too_long", field="emergency_contact_name", maximum=200)
    if not PHONE.match(phone):
        raise ValidationFailed("phone_invalid", field="emergency_contact_phone")
    citizenship = None
    if queries.needs_citizenship():
        citizenship = (data.citizenship or "").strip().upper()
        if not citizenship:
            raise ValidationFailed("required", field="citizenship")
        if not countries.is_valid(citizenship):
            raise ValidationFailed("country_unknown", field="citizenship", code=citizenship)
    before = audit.snapshot(visit, REGISTRATION_FIELDS)
    visit.arrives_on = data.arrives_on
    visit.departs_on = data.departs_on
    visit.emergency_contact_name = name
    visit.emergency_contact_phone = phone
    visit.accommodation_wanted = bool(data.accommodation_wanted)
    visit.dosimeter_needed = bool(data.dosimeter_needed)
    visit.citizenship = citizenship
    visit.registered_at = now
    visit.updated_at = now
    if visit.status == VisitStatus.CHANGES_REQUESTED:
        _transition(visit, VisitAction.RESUBMIT, Party.VISITOR)
    _request_access(visit, now)
    audit.record(actor, "visit.registered", visit, changes=audit.changes_since(visit, before), at=now)
    _changed(visit)
    return visit


def _request_access(visit: Visit, now: datetime) -> None:
    """Apply the access rules: approval pending or not needed, and the days missing when late."""
    assert visit.arrives_on is not None
    requirement = queries.access_requirement(visit.country_code, visit.citizenship, visit.arrives_on)
    requested_on = queries.today(now)
    visit.access_late_days = requirement.late_days(requested_on, visit.arrives_on, config.holidays())
    if requirement.needs_approval:
        if visit.access_status != AccessStatus.APPROVED:
            visit.access_status = AccessStatus.PENDING
            visit.access_requested_at = now
    else:
        visit.access_status = AccessStatus.NOT_NEEDED


@transactional
def cancel_visit(visit_id: int, *, actor: Any, now: datetime | None = None) -> Visit:
    """The visitor (or their team) cancels, until the visit is approved.

    Raises: NotFound, PermissionDenied, InvalidState (approved or later).
    """
    now = now or utcnow()
    visit = queries.get_visit(visit_id, actor)
    require(permissions.can_cancel_visit, actor, visit)
    _transition(visit, VisitAction.CANCEL, Party.VISITOR)
    visit.updated_at = now
    audit.record(actor, "visit.cancelled", visit, changes={"status": "cancelled"}, at=now)
    _changed(visit)
    return visit


# --- the user office and the access approver -----------------------------------------------


@transactional
def decide_visit(visit_id: int, action: str, *, reason: str = "", actor: Any, now: datetime | None = None) -> Visit:
    """Approve, ask for changes, refuse (with a reason), record arrival or the end, withdraw.

    Approval waits for the registration, the experiment's safety sign-off and, when a rule
    needs it, the access approval.
    Raises: NotFound, PermissionDenied (not the user office), InvalidState, ValidationFailed
    on "action" or "reason".
    """
    now = now or utcnow()
    visit = queries.get_visit(visit_id, actor)
    require(permissions.can_decide_visits, actor, visit)
    try:
        act = VisitAction(action)
    except ValueError:
        raise ValidationFailed("invalid_value", field="action") from None
    if act in (VisitAction.CANCEL, VisitAction.RESUBMIT):
        raise ValidationFailed("invalid_value", field="action")
    reason = (reason or "").strip()
    if act in (VisitAction.REQUEST_CHANGES, VisitAction.REFUSE, VisitAction.WITHDRAW) and not reason:
        raise ValidationFailed("reason_required", field="reason")
    if len(reason) > 2000:
        raise ValidationFailed("too_long", field="reason", maximum=2000)
    if next_status(visit.status, act, Party.OFFICE) is None:
        raise InvalidState("visit_transition_not_allowed", status=visit.status.value, action=act.value)
    if act == VisitAction.APPROVE:
        if visit.registered_at is None:
            raise InvalidState("visit_registration_incomplete")
        if not queries.safety_done(queries.find_safety(visit.experiment_id)):
            raise InvalidState("visit_waits_for_safety")
        if visit.access_status in (AccessStatus.PENDING, AccessStatus.REFUSED):
            raise InvalidState("visit_waits_for_access", access=visit.access_status.value)
    before = visit.status
    _transition(visit, act, Party.OFFICE)
    if act in (VisitAction.APPROVE, VisitAction.REQUEST_CHANGES, VisitAction.REFUSE, VisitAction.WITHDRAW):
        visit.decided_at = now
        visit.decided_by_id = actor.id
        visit.reason = reason
        notifications.enqueue_decision(visit, now=now)
    visit.updated_at = now
    audit.record(
        actor,
        f"visit.{act.value}",
        visit,
        changes={"status": {"before": before.value, "after": visit.status.value}, "reason": reason},
        at=now,
    )
    _changed(visit)
    return visit


@transactional
def decide_access(visit_id: int, approve: bool, *, note: str = "", actor: Any, now: datetime | None = None) -> Visit:
    """The access approver approves or refuses site access; late requests are theirs to decide.

    Raises: NotFound, PermissionDenied (not an access approver), InvalidState (nothing pending,
    safety not signed off yet), ValidationFailed on "note" (a refusal needs one).
    """
    now = now or utcnow()
    visit = queries.get_visit(visit_id, actor)
    require(permissions.can_decide_access, actor, visit)
    if visit.access_status != AccessStatus.PENDING:
        raise InvalidState("access_not_pending", access=visit.access_status.value)
    if not queries.safety_done(queries.find_safety(visit.experiment_id)):
        raise InvalidState("access_waits_for_safety")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed("reason_required", field="note")
    if len(note) > 2000:
        raise ValidationFailed("too_long", field="note", maximum=2000)
    visit.access_status = AccessStatus.APPROVED if approve else AccessStatus.REFUSED
    visit.access_decided_at = now
    visit.access_decided_by_id = actor.id
    visit.access_note = note
    visit.updated_at = now
    audit.record(
        actor,
        "visit.access_decided",
        visit,
        changes={"access_status": visit.access_status.value, "late_days": visit.access_late_days},
        at=now,
    )
    return visit


# --- experiment safety ----------------------------------------------------------------------

HAZARDS = frozenset(h.value for h in Hazard) - {"none"}


def parse_samples(text: str) -> list[dict[str, Any]]:
    """One sample a line, "name: hazard, hazard" (no hazards after the colon: none).

    Raises: ValidationFailed on "samples" (empty, unknown hazard, name too long).
    """
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        name, _sep, rest = line.partition(":")
        name = name.strip()
        if not name:
            raise ValidationFailed("sample_name_required", field="samples")
        if len(name) > 200:
            raise ValidationFailed("too_long", field="samples", maximum=200)
        hazards = sorted({h.strip().lower().replace(" ", "_") for h in rest.split(",") if h.strip()} - {"none"})
        unknown = [h for h in hazards if h not in HAZARDS]
        if unknown:
            raise ValidationFailed(
                "hazard_unknown", field="samples", hazard=unknown[0], known=", ".join(sorted(HAZARDS))
            )
        out.append({"name": name, "hazards": hazards})
    if not out:
        raise ValidationFailed("samples_required", field="samples")
    return out


def format_samples(samples: list[dict[str, Any]]) -> str:
    return "\n".join(f"{s['name']}: {', '.join(s.get('hazards') or []) or 'none'}" for s in samples)


@transactional
def confirm_safety(
    experiment_id: int, samples: list[dict[str, Any]], *, actor: Any, now: datetime | None = None
) -> ExperimentSafety:
    """The team confirms the samples and hazards of this experiment. A change after a sign-off
    asks for the sign-offs again.

    Raises: NotFound, PermissionDenied (not the team), InvalidState (experiment not open).
    """
    now = now or utcnow()
    experiment = _experiment(experiment_id, actor)
    require(permissions.can_confirm_safety, actor, experiment)
    _ensure_open(experiment)
    safety = queries.find_safety(experiment.booking_id)
    if safety is None:
        safety = ExperimentSafety(experiment_id=experiment.booking_id, samples=[])
        db.session.add(safety)
    changed = safety.samples != samples
    safety.samples = samples
    safety.confirmed_at = now
    safety.confirmed_by_id = actor.id
    if changed:
        safety.scientist_signed_at = safety.scientist_signed_by_id = None
        safety.reviewer_signed_at = safety.reviewer_signed_by_id = None
    safety.updated_at = now
    audit.record(
        actor,
        "experiment.safety_confirmed",
        object_type="Experiment",
        object_id=experiment.booking_id,
        changes={"samples": samples},
        at=now,
    )
    return safety


@transactional
def sign_safety(experiment_id: int, *, actor: Any, now: datetime | None = None) -> ExperimentSafety:
    """The instrument scientist signs off; for hazards named in the settings, then the safety reviewer.

    Raises: NotFound, PermissionDenied, InvalidState (not confirmed, waits for the scientist,
    nothing left to sign).
    """
    now = now or utcnow()
    experiment = _experiment(experiment_id, actor)
    require(permissions.can_sign_safety, actor, experiment)
    if experiment.booking.status == BookingStatus.CANCELLED:
        raise InvalidState("experiment_not_open_for_visits", status="cancelled")
    safety = queries.find_safety(experiment.booking_id)
    if safety is None or safety.confirmed_at is None:
        raise InvalidState("safety_not_confirmed")
    if safety.scientist_signed_at is None and permissions.can_sign_safety_as_scientist(actor, experiment):
        safety.scientist_signed_at, safety.scientist_signed_by_id = now, actor.id
        stage = "scientist"
    elif permissions.can_sign_safety_as_reviewer(actor, experiment) and queries.needs_safety_reviewer(safety):
        if safety.scientist_signed_at is None:
            raise InvalidState("safety_waits_for_scientist")
        if safety.reviewer_signed_at is not None:
            raise InvalidState("safety_already_signed")
        safety.reviewer_signed_at, safety.reviewer_signed_by_id = now, actor.id
        stage = "reviewer"
    else:
        raise InvalidState("safety_already_signed")
    safety.updated_at = now
    audit.record(
        actor, f"experiment.safety_signed_{stage}", object_type="Experiment", object_id=experiment.booking_id, at=now
    )
    return safety


# --- access rules and training --------------------------------------------------------------


@transactional
def create_access_rule(
    country_group_id: int,
    *,
    lead_days: int,
    working_days: bool,
    needs_approval: bool,
    by_citizenship: bool,
    actor: Any,
    now: datetime | None = None,
) -> AccessRule:
    """Raises: PermissionDenied, ValidationFailed on "country_group_id" or "lead_days"."""
    now = now or utcnow()
    require(permissions.can_manage_access_rules, actor)
    if db.session.get(CountryGroup, country_group_id) is None:
        raise ValidationFailed("invalid_value", field="country_group_id")
    if not isinstance(lead_days, int) or lead_days < 0 or lead_days > 365:
        raise ValidationFailed("lead_days_range", field="lead_days", minimum=0, maximum=365)
    rule = AccessRule(
        country_group_id=country_group_id,
        lead_days=lead_days,
        working_days=bool(working_days),
        needs_approval=bool(needs_approval),
        by_citizenship=bool(by_citizenship),
        created_at=now,
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(
        actor,
        "access_rule.created",
        rule,
        changes={
            "country_group_id": country_group_id,
            "lead_days": lead_days,
            "working_days": bool(working_days),
            "needs_approval": bool(needs_approval),
            "by_citizenship": bool(by_citizenship),
        },
        at=now,
    )
    return rule


@transactional
def delete_access_rule(rule_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Raises: PermissionDenied, NotFound."""
    now = now or utcnow()
    require(permissions.can_manage_access_rules, actor)
    rule = db.session.get(AccessRule, rule_id)
    if rule is None:
        raise NotFound("not_found")
    audit.record(actor, "access_rule.deleted", rule, changes={"lead_days": rule.lead_days}, at=now)
    db.session.delete(rule)


@transactional
def create_course(
    name: str, validity_days: int, *, required_on_site: bool = True, actor: Any, now: datetime | None = None
) -> TrainingCourse:
    """Raises: PermissionDenied, ValidationFailed on "name" or "validity_days"."""
    now = now or utcnow()
    require(permissions.can_manage_training, actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("required", field="name")
    if len(name) > 200:
        raise ValidationFailed("too_long", field="name", maximum=200)
    if db.session.scalar(select(TrainingCourse.id).where(TrainingCourse.name == name)) is not None:
        raise ValidationFailed("course_exists", field="name")
    if not isinstance(validity_days, int) or validity_days < 1 or validity_days > 3650:
        raise ValidationFailed("validity_range", field="validity_days", minimum=1, maximum=3650)
    course = TrainingCourse(name=name, validity_days=validity_days, required_on_site=bool(required_on_site))
    db.session.add(course)
    db.session.flush()
    audit.record(
        actor, "training_course.created", course, changes={"name": name, "validity_days": validity_days}, at=now
    )
    return course


@transactional
def record_training(
    user_email: str, course_id: int, completed_on: date | None, *, actor: Any, now: datetime | None = None
) -> TrainingRecord:
    """Record that a person completed a course; it expires after the course's validity.

    Raises: PermissionDenied, ValidationFailed on "user_email", "course_id" or "completed_on".
    """
    now = now or utcnow()
    require(permissions.can_record_training, actor)
    user = find_user_by_email(normalise_email(user_email or ""))
    if user is None:
        raise ValidationFailed("user_not_found", field="user_email")
    course = db.session.get(TrainingCourse, course_id)
    if course is None:
        raise ValidationFailed("invalid_value", field="course_id")
    if completed_on is None:
        raise ValidationFailed("required", field="completed_on")
    if completed_on > queries.today(now):
        raise ValidationFailed("date_in_future", field="completed_on")
    record = TrainingRecord(
        user_id=user.id,
        course_id=course.id,
        completed_on=completed_on,
        expires_on=completed_on + timedelta(days=course.validity_days),
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor,
        "training.recorded",
        record,
        changes={"user_id": user.id, "course_id": course.id, "completed_on": completed_on},
        at=now,
    )
    return record


# --- periodic jobs ----------------------------------------------------------------------------


def _stage(days_left: int, thresholds: list[int]) -> str | None:
    if days_left < 0:
        return "overdue"
    fitting = [t for t in thresholds if days_left <= t]
    return f"{min(fitting)}d" if fitting else None


@transactional
def send_visit_reminders(*, now: datetime | None = None) -> int:
    """The periodic job: e-mail whoever acts next on an item of an open checklist, once per
    visit, item and stage (14, 7, 2 days before its deadline, overdue): the idempotency key
    of the outbox says so, however often the job runs."""
    now = now or utcnow()
    thresholds = config.reminder_days()
    sent = 0
    for visit, items in queries.checklists(queries.list_visits_by_status(OPEN), now):
        experiment = visit.experiment
        if experiment.booking.status not in OPEN_EXPERIMENT:
            continue
        for item in items:
            if item.state not in (checklist.ItemState.TODO, checklist.ItemState.OVERDUE) or item.days_left is None:
                continue
            stage = _stage(item.days_left, thresholds)
            if stage is None:
                continue
            recipient = None
            if item.actor == checklist.NextActor.VISITOR:
                recipient = visit.user
            elif item.actor == checklist.NextActor.TEAM:
                pi = experiment.award.proposal.pi
                recipient = pi.user if pi else None
            elif item.actor == checklist.NextActor.INSTRUMENT_SCIENTIST:
                recipient = experiment.local_contact
            if recipient is None or not recipient.active:
                continue
            if notifications.enqueue_reminder(visit, recipient, item.key.value, stage, item.days_left, now=now):
                sent += 1
    return sent


@transactional
def erase_expired_personal_data(*, now: datetime | None = None) -> int:
    """The periodic job: erase citizenship and emergency contacts N days (settings) after a
    visit ends (its departure, else the experiment's last day). Returns how many visits."""
    now = now or utcnow()
    keep = timedelta(days=config.retention_days())
    today = queries.today(now)
    candidates = db.session.scalars(
        select(Visit)
        .join(Booking, Booking.id == Visit.experiment_id)
        .where(
            Visit.personal_data_erased_at.is_(None),
            (Visit.citizenship.is_not(None))
            | (Visit.emergency_contact_name.is_not(None))
            | (Visit.emergency_contact_phone.is_not(None)),
            Booking.ends_at < now - keep + timedelta(days=2),
        )
    ).all()
    erased = 0
    for visit in candidates:
        _starts, ends_on = queries.experiment_days(visit.experiment)
        last = max(visit.departs_on or ends_on, ends_on)
        if today < last + keep:
            continue
        visit.citizenship = None
        visit.emergency_contact_name = None
        visit.emergency_contact_phone = None
        visit.personal_data_erased_at = now
        audit.record(
            None,
            "visit.personal_data_erased",
            visit,
            changes={"citizenship": None, "emergency_contact_name": None, "emergency_contact_phone": None},
            at=now,
        )
        erased += 1
    return erased


# --- reacting to scheduling -----------------------------------------------------------------


def _on_experiment_cancelled(event: ExperimentCancelled) -> None:
    """Cancel the experiment's visits (those not yet on site or over) and tell the visitors;
    pending invitations are revoked. Runs in the cancelling transaction."""
    now = utcnow()
    for visit in queries.list_visits(event.experiment_id):
        if next_status(visit.status, VisitAction.WITHDRAW, Party.SYSTEM) is None:
            continue
        visit.status = VisitStatus.CANCELLED
        visit.reason = "experiment_cancelled"
        visit.decided_at = now
        visit.updated_at = now
        notifications.enqueue_experiment_cancelled(visit, now=now)
        audit.record(None, "visit.withdrawn", visit, changes={"status": "cancelled", "reason": "experiment_cancelled"})
        _changed(visit)
    for invitation in db.session.scalars(
        select(VisitInvitation).where(
            VisitInvitation.experiment_id == event.experiment_id, VisitInvitation.revoked_at.is_(None)
        )
    ):
        if invitation.accepted_at is None:
            invitation.revoked_at = now


events.subscribe(ExperimentCancelled, _on_experiment_cancelled)

__all__ = [
    "RegistrationInput",
    "accept_invitation",
    "add_visitor",
    "cancel_visit",
    "check_dates",
    "complete_registration",
    "confirm_safety",
    "create_access_rule",
    "create_course",
    "decide_access",
    "decide_visit",
    "delete_access_rule",
    "erase_expired_personal_data",
    "format_samples",
    "invitation_for_token",
    "parse_samples",
    "record_training",
    "send_visit_reminders",
    "sign_safety",
]
