"""The status machine of a proposal (DESIGN.md §3), in one place.

    draft → submitted → under_review → accepted | reserve | rejected
    reserve → accepted (shifts freed by a withdrawn award go to the reserve list)
    accepted → scheduled → completed
    withdrawn: from every state before scheduled (draft, submitted, under_review, accepted, reserve)

Pure: no Flask, no SQLAlchemy. The model and the services ask this module whether a move is
allowed; nothing else decides it. `rejected`, `completed` and `withdrawn` are terminal.
A rejected proposal cannot be withdrawn: the decision is already final, nothing is pending.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from app.core.errors import InvalidState


class ProposalStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    RESERVE = "reserve"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


S = ProposalStatus

#: the states from which a proposal may still be withdrawn ("any state before scheduled")
WITHDRAWABLE: frozenset[ProposalStatus] = frozenset({S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.ACCEPTED, S.RESERVE})

_FORWARD: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW}),
    S.UNDER_REVIEW: frozenset({S.ACCEPTED, S.RESERVE, S.REJECTED}),
    S.ACCEPTED: frozenset({S.SCHEDULED}),
    S.RESERVE: frozenset({S.ACCEPTED}),  # the reserve rule: shifts freed by a withdrawn award
    S.REJECTED: frozenset(),
    S.SCHEDULED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

#: every allowed move: from → the states it may go to
TRANSITIONS: Mapping[ProposalStatus, frozenset[ProposalStatus]] = {
    state: targets | ({S.WITHDRAWN} if state in WITHDRAWABLE else frozenset()) for state, targets in _FORWARD.items()
}

TERMINAL: frozenset[ProposalStatus] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)

#: states in which the proposal counts as handed in (it has a reference)
SUBMITTED_STATES: frozenset[ProposalStatus] = frozenset(S) - {S.DRAFT}


def can_move(current: ProposalStatus | str, target: ProposalStatus | str) -> bool:
    """Whether `current → target` is an allowed move."""
    return ProposalStatus(target) in TRANSITIONS[ProposalStatus(current)]


def check_move(current: ProposalStatus | str, target: ProposalStatus | str) -> ProposalStatus:
    """The target status when the move is allowed.

    Raises: InvalidState("proposal_status_move", current=…, target=…).
    """
    if not can_move(current, target):
        raise InvalidState("proposal_status_move", current=str(current), target=str(target))
    return ProposalStatus(target)


def is_withdrawable(current: ProposalStatus | str) -> bool:
    return ProposalStatus(current) in WITHDRAWABLE
