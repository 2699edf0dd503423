"""Domain events published by the scheduling domain (see app/core/events.py).

Higher domains (visits, reports) subscribe at start-up; the subscribers run in the publishing
transaction, so a rollback undoes both sides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SchedulePublished:
    """Planned experiments of a cycle became `published` (their ids)."""

    cycle_id: int
    experiment_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ExperimentChanged:
    """A published experiment moved or changed (dates, instrument, local contact)."""

    experiment_id: int


@dataclass(frozen=True, slots=True)
class ExperimentCancelled:
    """An experiment was cancelled: its visits are cancelled and its visitors told."""

    experiment_id: int


@dataclass(frozen=True, slots=True)
class ExperimentStarted:
    experiment_id: int


@dataclass(frozen=True, slots=True)
class ExperimentCompleted:
    """An experiment ended; delivered and lost shifts may be recorded later (same event again)."""

    experiment_id: int
