"""Domain events published by the visits domain and its outcomes (see app/core/events.py).

Higher domains (reports) subscribe at start-up; the subscribers run in the publishing
transaction, so a rollback undoes both sides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VisitChanged:
    """A visit was named, registered (dates), decided, arrived, completed or cancelled."""

    visit_id: int
    experiment_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class PublicationChanged:
    """A publication was recorded, linked to one more proposal, or removed (its proposals)."""

    publication_id: int
    proposal_ids: tuple[int, ...]
