"""The visit state machine (DESIGN.md §3), as one pure table: no Flask, no SQLAlchemy.

On site: requested → approved | changes_requested | refused | cancelled → on_site → completed.
Remote: registered → completed. A visitor (or their team) may cancel until the visit is
approved; the user office decides; the system withdraws visits of a cancelled experiment.
"""

from __future__ import annotations

import enum


class VisitStatus(enum.StrEnum):
    REGISTERED = "registered"  # remote participation
    REQUESTED = "requested"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    ON_SITE = "on_site"
    COMPLETED = "completed"


class VisitAction(enum.StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REFUSE = "refuse"
    RESUBMIT = "resubmit"
    CANCEL = "cancel"  # by the visitor or their team
    WITHDRAW = "withdraw"  # by the user office or because the experiment was cancelled
    ARRIVE = "arrive"
    COMPLETE = "complete"


class Party(enum.StrEnum):
    VISITOR = "visitor"  # the visitor, or the PI / a co-proposer on their behalf
    OFFICE = "office"  # the user office
    SYSTEM = "system"  # a job or another domain's event


S, A, P = VisitStatus, VisitAction, Party

#: (from, action) → (to, the parties that may take it)
TRANSITIONS: dict[tuple[VisitStatus, VisitAction], tuple[VisitStatus, frozenset[Party]]] = {
    (S.REQUESTED, A.APPROVE): (S.APPROVED, frozenset({P.OFFICE})),
    (S.REQUESTED, A.REQUEST_CHANGES): (S.CHANGES_REQUESTED, frozenset({P.OFFICE})),
    (S.REQUESTED, A.REFUSE): (S.REFUSED, frozenset({P.OFFICE})),
    (S.REQUESTED, A.CANCEL): (S.CANCELLED, frozenset({P.VISITOR})),
    (S.REQUESTED, A.WITHDRAW): (S.CANCELLED, frozenset({P.OFFICE, P.SYSTEM})),
    (S.CHANGES_REQUESTED, A.RESUBMIT): (S.REQUESTED, frozenset({P.VISITOR})),
    (S.CHANGES_REQUESTED, A.REFUSE): (S.REFUSED, frozenset({P.OFFICE})),
    (S.CHANGES_REQUESTED, A.CANCEL): (S.CANCELLED, frozenset({P.VISITOR})),
    (S.CHANGES_REQUESTED, A.WITHDRAW): (S.CANCELLED, frozenset({P.OFFICE, P.SYSTEM})),
    (S.APPROVED, A.ARRIVE): (S.ON_SITE, frozenset({P.OFFICE})),
    (S.APPROVED, A.WITHDRAW): (S.CANCELLED, frozenset({P.OFFICE, P.SYSTEM})),
    (S.ON_SITE, A.COMPLETE): (S.COMPLETED, frozenset({P.OFFICE, P.SYSTEM})),
    (S.REGISTERED, A.COMPLETE): (S.COMPLETED, frozenset({P.OFFICE, P.SYSTEM})),
    (S.REGISTERED, A.CANCEL): (S.CANCELLED, frozenset({P.VISITOR})),
    (S.REGISTERED, A.WITHDRAW): (S.CANCELLED, frozenset({P.OFFICE, P.SYSTEM})),
}

TERMINAL = frozenset({S.REFUSED, S.CANCELLED, S.COMPLETED})
#: states in which the visit still needs its checklist worked through
OPEN = frozenset({S.REQUESTED, S.CHANGES_REQUESTED, S.APPROVED})


def next_status(current: VisitStatus, action: VisitAction, party: Party) -> VisitStatus | None:
    """The state after `action` by `party`, or None when the table does not allow it."""
    rule = TRANSITIONS.get((VisitStatus(current), VisitAction(action)))
    if rule is None or Party(party) not in rule[1]:
        return None
    return rule[0]


def actions_for(current: VisitStatus, party: Party) -> list[VisitAction]:
    """The actions `party` may take on a visit in state `current` (for buttons)."""
    return [a for (s, a), (_to, parties) in TRANSITIONS.items() if s == current and party in parties]
