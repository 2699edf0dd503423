"""Named permission predicates of the proposals domain (who; the services check when).

The team and staff see a proposal; directors read it. Reviewers and instrument scientists
are added by the reviews domain through `READERS_SLOT`; proprietary proposals never reach
reviewers. Time and state (a closed call, a submitted proposal) are checked by the services with `now`, not here.
"""

from __future__ import annotations

from typing import Any

from app.accounts.permissions import is_director, is_staff
from app.core import events

#: page/permission slot that higher domains fill with `(actor=, proposal=) -> bool`: more people
#: who may read a proposal (reviews: its assigned reviewers and its instruments' scientists).
#: The proposals domain never imports them (DESIGN.md §4 rule 6).
READERS_SLOT = "proposals.readers"


def _is_person(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None) is not None


def is_team_member(actor: Any, proposal: Any) -> bool:
    return _is_person(actor) and any(m.user_id == actor.id for m in proposal.members)


def is_proposal_pi(actor: Any, proposal: Any) -> bool:
    pi = proposal.pi
    return _is_person(actor) and pi is not None and pi.user_id == actor.id


def can_view_proposal(actor: Any, proposal: Any) -> bool:
    if is_team_member(actor, proposal) or is_staff(actor) or is_director(actor):
        return True
    return _is_person(actor) and bool(events.slot_contents(READERS_SLOT, actor=actor, proposal=proposal))


def can_edit_proposal(actor: Any, proposal: Any) -> bool:
    """Every member of the team writes; the PI alone submits, withdraws and manages the team."""
    return is_team_member(actor, proposal)


def can_submit_proposal(actor: Any, proposal: Any) -> bool:
    return is_proposal_pi(actor, proposal)


def can_withdraw_proposal(actor: Any, proposal: Any) -> bool:
    return is_proposal_pi(actor, proposal)


def can_manage_team(actor: Any, proposal: Any) -> bool:
    return is_proposal_pi(actor, proposal)


def can_write_proposals(actor: Any) -> bool:
    """Every registered person may start a proposal."""
    return _is_person(actor)


def can_manage_calls(actor: Any) -> bool:
    return is_staff(actor)


def can_list_call_proposals(actor: Any) -> bool:
    """All proposals of a call, with filters and exports: staff and directors."""
    return is_staff(actor) or is_director(actor)
