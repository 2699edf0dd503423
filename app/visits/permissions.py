"""Named permission predicates of the visits domain.

- The team (PI and co-proposers) of a published experiment names its visitors and confirms
  its samples; the visitor completes and may cancel their own visit.
- The checklist of a visit: the visitor, the team, the local contact, the instrument's
  scientists, the user office, access approvers and safety reviewers.
- Citizenship: only the person themself and access approvers — not even admins.
"""

from __future__ import annotations

from typing import Any

from app.accounts.models import Role
from app.accounts.permissions import is_staff
from app.facility.models import BookingStatus
from app.facility.permissions import is_instrument_scientist


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def is_access_approver(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.ACCESS_APPROVER)


def is_safety_reviewer(actor: Any) -> bool:
    return _is_person(actor) and actor.has_role(Role.SAFETY_REVIEWER)


def is_team_member(actor: Any, experiment: Any) -> bool:
    """PI or co-proposer of the experiment's proposal."""
    if not _is_person(actor) or experiment is None:
        return False
    return experiment.award.proposal.member(actor.id) is not None


def is_local_contact(actor: Any, experiment: Any) -> bool:
    return _is_person(actor) and experiment is not None and experiment.local_contact_id == actor.id


def is_experiment_scientist(actor: Any, experiment: Any) -> bool:
    return experiment is not None and is_instrument_scientist(actor, experiment.booking.instrument_id)


def is_visible_to_team(experiment: Any) -> bool:
    """Planned experiments are drafts of the schedule: the team learns of them when published."""
    return experiment.booking.status != BookingStatus.PLANNED


def can_view_experiment_visits(actor: Any, experiment: Any) -> bool:
    if is_staff(actor) or is_access_approver(actor) or is_safety_reviewer(actor):
        return True
    if is_local_contact(actor, experiment) or is_experiment_scientist(actor, experiment):
        return True
    return is_team_member(actor, experiment) and is_visible_to_team(experiment)


def can_manage_visitors(actor: Any, experiment: Any) -> bool:
    """Name visitors and invite people: the PI or a co-proposer."""
    return is_team_member(actor, experiment) and is_visible_to_team(experiment)


def can_confirm_safety(actor: Any, experiment: Any) -> bool:
    return is_team_member(actor, experiment) and is_visible_to_team(experiment)


def can_sign_safety_as_scientist(actor: Any, experiment: Any) -> bool:
    return is_experiment_scientist(actor, experiment)


def can_sign_safety_as_reviewer(actor: Any, experiment: Any = None) -> bool:
    return is_safety_reviewer(actor)


def can_sign_safety(actor: Any, experiment: Any) -> bool:
    return can_sign_safety_as_scientist(actor, experiment) or can_sign_safety_as_reviewer(actor, experiment)


def can_view_visit(actor: Any, visit: Any) -> bool:
    if not _is_person(actor):
        return False
    if visit.user_id == actor.id:
        return True
    return can_view_experiment_visits(actor, visit.experiment)


def can_edit_registration(actor: Any, visit: Any) -> bool:
    """Only the visitor completes their registration (emergency contact, citizenship…)."""
    return _is_person(actor) and visit.user_id == actor.id


def can_cancel_visit(actor: Any, visit: Any) -> bool:
    """The visitor, or the PI or a co-proposer on their behalf (the state machine says until when)."""
    return _is_person(actor) and (visit.user_id == actor.id or is_team_member(actor, visit.experiment))


def can_decide_visits(actor: Any, visit: Any = None) -> bool:
    """Approve, ask for changes, refuse; record arrival and departure: the user office."""
    return is_staff(actor)


def can_decide_access(actor: Any, visit: Any = None) -> bool:
    return is_access_approver(actor)


def can_see_citizenship(actor: Any, visit: Any) -> bool:
    return _is_person(actor) and (visit.user_id == actor.id or is_access_approver(actor))


def can_see_emergency_contact(actor: Any, visit: Any) -> bool:
    return _is_person(actor) and (visit.user_id == actor.id or is_staff(actor))


def can_manage_access_rules(actor: Any) -> bool:
    return is_staff(actor)


def can_view_access_rules(actor: Any) -> bool:
    return is_staff(actor) or is_access_approver(actor)


def can_manage_training(actor: Any) -> bool:
    """Courses and their validity: the user office."""
    return is_staff(actor)


def can_record_training(actor: Any) -> bool:
    """Records per person: the user office and instrument scientists (who give the courses)."""
    return is_staff(actor) or is_instrument_scientist(actor)


def can_view_office_queue(actor: Any) -> bool:
    return is_staff(actor)


def can_view_access_queue(actor: Any) -> bool:
    return is_access_approver(actor)


def can_view_safety_queue(actor: Any) -> bool:
    return is_staff(actor) or is_instrument_scientist(actor) or is_safety_reviewer(actor)
