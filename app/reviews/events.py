"""Domain events published by the reviews domain (see app/core/events.py).

Higher domains (reports) subscribe at start-up; the subscribers run in the publishing
transaction, so a rollback undoes both sides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DecisionsReleased:
    """Decisions of a call became visible (the call's release, or one rapid-access decision)."""

    call_id: int
    proposal_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AwardsChanged:
    """An award of a call was edited or withdrawn (and reserve proposals may have gained one)."""

    call_id: int
