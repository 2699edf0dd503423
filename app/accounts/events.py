"""Domain events published by the accounts domain (see app/core/events.py).

Higher domains subscribe at start-up and run in the publisher's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InstitutionsMerged:
    """`merged_id` was a duplicate of `survivor_id`: its people already moved; history that
    higher domains keep (affiliation snapshots, statistics) should point to the survivor.
    The merged institution row is deleted right after the subscribers ran."""

    survivor_id: int
    merged_id: int


@dataclass(frozen=True, slots=True)
class AccountClosed:
    """A person closed their account: higher domains erase what they keep about them
    (citizenship, emergency contacts…) and keep only what statistics need."""

    user_id: int
