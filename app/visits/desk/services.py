"""Use cases of the front desk: check-in (the visit moves on site through the visits state
machine; the checklist must be green, or the desk overrides it with a reason, audit logged),
check-out (the visit completes; the guesthouse frees the nights from today on), and the
visitors' feedback after the experiment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core import audit, events
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require
from app.core.transaction import transactional
from app.extensions import db
from app.visits import queries as visit_queries
from app.visits.desk import notifications, permissions, queries
from app.visits.desk.models import Feedback, SitePresence
from app.visits.events import VisitChanged
from app.visits.models import Visit, VisitMode
from app.visits.status import Party, VisitAction, next_status

MAX_REASON = 1000
MAX_COMMENTS = 4000
RATINGS = ("instrument", "support", "accommodation", "overall")


def _transition(visit: Visit, action: VisitAction) -> None:
    target = next_status(visit.status, action, Party.OFFICE)
    if target is None:
        raise InvalidState("visit_transition_not_allowed", status=visit.status.value, action=action.value)
    visit.status = target


@transactional
def check_in(visit_id: int, *, override_reason: str = "", actor: Any, now: datetime | None = None) -> SitePresence:
    """The desk checks an approved on-site visitor in: the visit moves `on_site`.

    An incomplete checklist refuses the check-in unless the desk gives an override reason
    (recorded in the audit log with the items that were not green).
    Raises: PermissionDenied, NotFound, InvalidState (not approved, remote, checklist_incomplete),
    ValidationFailed on "override_reason" (too long), Conflict (already checked in).
    """
    require(permissions.can_use_desk, actor)
    now = now or utcnow()
    visit = queries.get_visit(visit_id)
    if visit.mode != VisitMode.ON_SITE:
        raise InvalidState("remote_visit_no_check_in")
    if queries.presence(visit.id) is not None:
        raise Conflict("already_checked_in")
    reason = (override_reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed("too_long", field="override_reason", maximum=MAX_REASON)
    if next_status(visit.status, VisitAction.ARRIVE, Party.OFFICE) is None:
        raise InvalidState("visit_transition_not_allowed", status=visit.status.value, action=VisitAction.ARRIVE.value)
    open_items = [i.key.value for i in visit_queries.visit_checklist(visit, now) if not i.is_green]
    if open_items and not reason:
        raise InvalidState("checklist_incomplete", items=", ".join(open_items))
    before = visit.status
    _transition(visit, VisitAction.ARRIVE)
    visit.updated_at = now
    presence = SitePresence(
        visit_id=visit.id,
        checked_in_at=now,
        checked_in_by_id=actor.id,
        override_reason=reason if open_items else "",
    )
    db.session.add(presence)
    db.session.flush()
    audit.record(
        actor,
        "visit.checked_in",
        visit,
        changes={"status": {"before": before.value, "after": visit.status.value}},
        at=now,
    )
    if open_items:
        audit.record(
            actor, "visit.checklist_overridden", visit, changes={"items": open_items, "reason": reason}, at=now
        )
    events.publish(VisitChanged(visit.id, visit.experiment_id, visit.user_id))
    return presence


@transactional
def check_out(visit_id: int, *, actor: Any, now: datetime | None = None) -> SitePresence:
    """The desk checks a visitor out: the visit completes; nights from today on are freed.

    Raises: PermissionDenied, NotFound, InvalidState (not on site).
    """
    require(permissions.can_use_desk, actor)
    now = now or utcnow()
    visit = queries.get_visit(visit_id)
    presence = queries.presence(visit.id)
    if presence is None or presence.checked_out_at is not None:
        raise InvalidState("visit_not_on_site")
    _transition(visit, VisitAction.COMPLETE)
    visit.updated_at = now
    presence.checked_out_at = max(now, presence.checked_in_at)
    presence.checked_out_by_id = actor.id
    audit.record(actor, "visit.checked_out", visit, changes={"status": visit.status.value}, at=now)
    events.publish(VisitChanged(visit.id, visit.experiment_id, visit.user_id))
    return presence


# --- feedback ---------------------------------------------------------------------------------


def _rating(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None or str(value).strip() == "":
        if optional:
            return None
        raise ValidationFailed("required", field=name)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationFailed("integer_range", field=name, minimum=1, maximum=5) from None
    if not 1 <= number <= 5:
        raise ValidationFailed("integer_range", field=name, minimum=1, maximum=5)
    return number


def stayed_in_guesthouse(visit: Visit) -> bool:
    return visit.mode == VisitMode.ON_SITE and bool(visit.accommodation_wanted)


@transactional
def give_feedback(visit_id: int, data: dict[str, Any], *, actor: Any, now: datetime | None = None) -> Feedback:
    """The visitor (on site or remote) rates the instrument, the support, the accommodation (if
    they stayed in the guesthouse) and overall, 1–5, with comments. One per visit; it can be
    corrected while the window is open (FEEDBACK_DAYS after the experiment's end).

    Raises: NotFound (not the visitor's visit), InvalidState (experiment not ended, window
    closed, visit not taken part in), ValidationFailed on the rating or "comments".
    """
    now = now or utcnow()
    visit = db.session.get(Visit, visit_id)
    if visit is None or not permissions.can_give_feedback(actor, visit):
        raise NotFound("visit_not_found")
    if visit.status.value not in ("on_site", "completed", "registered"):
        raise InvalidState("feedback_not_for_this_visit", status=visit.status.value)
    open_now, last_day = queries.feedback_window(visit, now)
    if not open_now:
        raise InvalidState("feedback_closed", last_day=last_day.isoformat())
    values = {
        "instrument": _rating(data.get("instrument"), "instrument"),
        "support": _rating(data.get("support"), "support"),
        "overall": _rating(data.get("overall"), "overall"),
    }
    if stayed_in_guesthouse(visit):
        values["accommodation"] = _rating(data.get("accommodation"), "accommodation", optional=True)
    elif str(data.get("accommodation") or "").strip():
        raise ValidationFailed("accommodation_not_rated", field="accommodation")
    else:
        values["accommodation"] = None
    comments = (data.get("comments") or "").strip()
    if len(comments) > MAX_COMMENTS:
        raise ValidationFailed("too_long", field="comments", maximum=MAX_COMMENTS)
    feedback = queries.feedback(visit.id)
    if feedback is None:
        feedback = Feedback(visit_id=visit.id, submitted_at=now)
        db.session.add(feedback)
    for key, value in values.items():
        setattr(feedback, key, value)
    feedback.comments = comments
    feedback.updated_at = now
    db.session.flush()
    audit.record(actor, "visit.feedback", visit, changes=values, at=now)
    return feedback


#: feedback invitations go to visits whose experiment ended within this many days (a job that
#: starts late does not write to people whose experiment is long over)
INVITE_WITHIN_DAYS = 7


@transactional
def send_feedback_invitations(*, now: datetime | None = None) -> int:
    """Ask every visitor (on site or remote) of a recently ended experiment for feedback, once
    (outbox idempotency key `visit-feedback:<visit>`); those who answered already are skipped.
    Returns the e-mails queued."""
    now = now or utcnow()
    queued = 0
    for visit in queries.recently_ended_visits(now, within_days=INVITE_WITHIN_DAYS):
        if queries.feedback(visit.id) is not None:
            continue
        open_now, last_day = queries.feedback_window(visit, now)
        if open_now and notifications.enqueue_feedback_invitation(visit, last_day=last_day, now=now):
            queued += 1
    return queued
