"""Domain events published by the proposals domain (see app/core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProposalSubmitted:
    proposal_id: int
    first_time: bool


@dataclass(frozen=True, slots=True)
class ProposalChanged:
    """A proposal past its draft was edited (team, affiliation snapshots, requests…) while
    the call takes edits: what it counts for may have changed."""

    proposal_id: int


@dataclass(frozen=True, slots=True)
class ProposalWithdrawn:
    proposal_id: int


@dataclass(frozen=True, slots=True)
class CallClosed:
    """The call closed and its proposals' affiliation snapshots are frozen."""

    call_id: int
