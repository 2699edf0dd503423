"""Named permission predicates of the front desk.

app/accounts has no front-desk role: the desk is the staff (user office and admins). The
on-site list is for emergency roll call, so only they read it (web and API).
"""

from __future__ import annotations

from typing import Any

from app.accounts.permissions import is_director, is_staff


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def can_use_desk(actor: Any) -> bool:
    """Check visitors in and out, override an incomplete checklist, read the roll call."""
    return is_staff(actor)


def can_read_letter(actor: Any, visit: Any) -> bool:
    """The invitation letter of an approved visitor: the visitor and the staff."""
    return is_staff(actor) or (_is_person(actor) and visit.user_id == actor.id)


def can_give_feedback(actor: Any, visit: Any) -> bool:
    return _is_person(actor) and visit.user_id == actor.id


def can_read_feedback_results(actor: Any) -> bool:
    return is_staff(actor) or is_director(actor)
