"""Shifts awarded within capacity, in rank order (issue 5) — a rule anyone can redo by hand.

Pure: plain dataclasses in and out; no Flask, no SQLAlchemy, no `app.` imports.

Per instrument, independently:

1. Order the requests by final rank (1 first); ties by higher mean grade (no grade last), then
   earlier submission, then proposal reference, then request key.
2. Walk them with `remaining` = the instrument's capacity. Each request asks for its recommended
   shifts, or its requested shifts when it has no recommendation. A recommendation of 0 (not
   feasible) means "not recommended": no award, and it is simply passed over.
3. It gets ``min(asked, remaining)`` if that is at least the minimum award (setting); otherwise
   nothing, and the next request is tried. With the setting "stop at the first that does not
   fit", the first request that gets nothing this way ends the walk on that instrument: every
   later request gets nothing (reason ``stopped``).
4. A long-term request (over k cycles) records the same number of shifts as a commitment on each
   of the k − 1 following cycles, by cycle name; that cycle's capacity subtracts them when it is
   computed (a cycle created later picks them up).

The reserve rule is the same walk: when an award is withdrawn, `reallocate` gives the freed
shifts (plus whatever capacity was left over) to the instrument's reserve requests in the same
order.

Every award says why it is what it is (`Reason`), with the remaining capacity it met.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


class Reason(enum.StrEnum):
    FULL = "full"  # got what it asked
    PARTIAL = "partial"  # less capacity was left than asked, but at least the minimum award
    NOT_RECOMMENDED = "not_recommended"  # the technical review recommended 0 shifts
    BELOW_MINIMUM = "below_minimum"  # asked for less than the minimum award
    NO_CAPACITY = "no_capacity"  # less capacity was left than the minimum award
    STOPPED = "stopped"  # stop-at-first: an earlier request on the instrument did not fit


@dataclass(frozen=True, slots=True)
class Request:
    key: str  # unique, e.g. "2027-I-0042/ID23"
    reference: str  # the proposal's reference
    instrument: str
    rank: int  # final rank from the panel, 1 is best
    mean_grade: float | None
    submitted_at: datetime
    requested: int
    recommended: int | None = None  # from the technical review; None when there is none
    cycles: int = 1  # long-term requests run over several cycles

    @property
    def asked(self) -> int:
        return self.requested if self.recommended is None else self.recommended


@dataclass(frozen=True, slots=True)
class Policy:
    minimum_award: int = 1
    stop_at_first_misfit: bool = False

    def __post_init__(self) -> None:
        if self.minimum_award < 1:
            raise ValueError("minimum_award must be at least 1 shift")


@dataclass(frozen=True, slots=True)
class Award:
    request_key: str
    reference: str
    instrument: str
    position: int  # 1-based place in the instrument's order
    asked: int
    remaining_before: int  # capacity left when this request's turn came
    awarded: int
    reason: Reason
    commitments: tuple[tuple[str, int], ...] = ()  # (following cycle name, shifts)


@dataclass(frozen=True, slots=True)
class Allocation:
    awards: tuple[Award, ...]  # grouped by instrument (sorted by code), each in its order
    remaining: Mapping[str, int]  # capacity left per instrument
    commitments: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # cycle → instrument → shifts

    def awarded(self) -> dict[str, int]:
        """Shifts awarded per request key (0 included)."""
        return {a.request_key: a.awarded for a in self.awards}


def order_key(request: Request) -> tuple:
    """Final rank; then higher mean grade (none last); earlier submission; reference; key."""
    grade = -math.inf if request.mean_grade is None else request.mean_grade
    return (request.rank, -grade, request.submitted_at, request.reference, request.key)


def _walk(
    instrument: str, requests: Sequence[Request], capacity: int, policy: Policy, following_cycles: Sequence[str]
) -> tuple[list[Award], int]:
    remaining = max(capacity, 0)
    stopped = False
    awards: list[Award] = []
    for position, request in enumerate(sorted(requests, key=order_key), start=1):
        asked = request.asked
        before = remaining
        if request.recommended == 0:
            got, reason = 0, Reason.NOT_RECOMMENDED
        elif stopped:
            got, reason = 0, Reason.STOPPED
        else:
            got = min(asked, remaining)
            if got >= policy.minimum_award:
                reason = Reason.FULL if got == asked else Reason.PARTIAL
            else:
                got = 0
                reason = Reason.BELOW_MINIMUM if asked < policy.minimum_award else Reason.NO_CAPACITY
                stopped = policy.stop_at_first_misfit
        remaining -= got
        commitments: tuple[tuple[str, int], ...] = ()
        if got and request.cycles > 1:
            later = list(following_cycles[: request.cycles - 1])
            if len(later) < request.cycles - 1:
                raise ValueError(f"{request.key}: {request.cycles} cycles asked, {len(following_cycles) + 1} named")
            commitments = tuple((name, got) for name in later)
        awards.append(
            Award(request.key, request.reference, instrument, position, asked, before, got, reason, commitments)
        )
    return awards, remaining


def _collect(per_instrument: Iterable[tuple[str, list[Award], int]]) -> Allocation:
    awards: list[Award] = []
    remaining: dict[str, int] = {}
    commitments: dict[str, dict[str, int]] = defaultdict(dict)
    for instrument, instrument_awards, left in per_instrument:
        awards.extend(instrument_awards)
        remaining[instrument] = left
        for award in instrument_awards:
            for cycle, shifts in award.commitments:
                commitments[cycle][instrument] = commitments[cycle].get(instrument, 0) + shifts
    return Allocation(tuple(awards), remaining, dict(commitments))


def allocate(
    requests: Iterable[Request],
    capacity: Mapping[str, int],
    policy: Policy = Policy(),
    following_cycles: Sequence[str] = (),
) -> Allocation:
    """Award shifts per instrument in rank order (module docstring). An instrument missing from
    `capacity` has none. `following_cycles` names the cycles after this one, in order.

    Raises: ValueError when a long-term request runs past the named following cycles.
    """
    by_instrument: dict[str, list[Request]] = defaultdict(list)
    for request in requests:
        by_instrument[request.instrument].append(request)
    return _collect(
        (
            instrument,
            *_walk(instrument, by_instrument[instrument], capacity.get(instrument, 0), policy, following_cycles),
        )
        for instrument in sorted(by_instrument)
    )


def reallocate(
    instrument: str,
    freed: int,
    reserve: Iterable[Request],
    policy: Policy = Policy(),
    following_cycles: Sequence[str] = (),
) -> Allocation:
    """The reserve rule: `freed` shifts of a withdrawn award (plus any capacity left over) go by
    the same walk to the reserve requests on `instrument`, highest ranked first."""
    chosen = [r for r in reserve if r.instrument == instrument]
    return _collect([(instrument, *_walk(instrument, chosen, freed, policy, following_cycles))])


@dataclass(frozen=True, slots=True)
class CapacityLine:
    requested: int  # sum of requested shifts
    asked: int  # sum of recommended (or requested) shifts
    capacity: int
    first_over: int | None  # 1-based position where the cumulated asked shifts pass capacity
    oversubscription: float | None  # requested ÷ capacity (None when capacity is 0)


def capacity_line(requests: Iterable[Request], capacity: int) -> CapacityLine:
    """Where the cumulated recommended shifts of one instrument's requests, in allocation order,
    pass its capacity; and the oversubscription ratio (requested ÷ capacity)."""
    ordered = sorted(requests, key=order_key)
    cumulated = 0
    first_over = None
    for position, request in enumerate(ordered, start=1):
        cumulated += 0 if request.recommended == 0 else request.asked
        if first_over is None and cumulated > capacity:
            first_over = position
    requested = sum(r.requested for r in ordered)
    return CapacityLine(requested, cumulated, capacity, first_over, requested / capacity if capacity > 0 else None)
