"""Named permission predicates of the guesthouse.

There is no guesthouse or front-desk role in app/accounts: the staff (user office and admins)
run the guesthouse; a visitor answers the sharing and accessibility questions of their own stay.
"""

from __future__ import annotations

from typing import Any

from app.accounts.permissions import is_staff


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def can_manage_guesthouse(actor: Any) -> bool:
    """Rooms, beds, assigning and freeing nights, the occupancy views: the staff."""
    return is_staff(actor)


def can_answer_stay(actor: Any, visit: Any) -> bool:
    """Sharing and accessibility answers: the visitor themself, or the staff."""
    return is_staff(actor) or (_is_person(actor) and visit.user_id == actor.id)
