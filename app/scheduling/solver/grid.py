"""Shift sets as integer bit masks, the static context of each award, and the objective.

Bit i of a mask is shift i. A "forbidden" mask always has bit `horizon` set (the wall), so the
free run from a start is the number of trailing zeros of `forbidden >> start`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.scheduling.solver.model import Award, Instrument, Pin, Problem, Session


def mask_of(indices: Iterable[int], horizon: int) -> int:
    m = 0
    for i in indices:
        if 0 <= i < horizon:
            m |= 1 << i
    return m


def span(start: int, end: int) -> int:
    """Mask of [start, end) (clipped at 0)."""
    start = max(start, 0)
    return ((1 << (end - start)) - 1) << start if end > start else 0


def run_from(forbidden: int, start: int) -> int:
    """Number of free shifts from `start` (forbidden must contain the wall bit)."""
    x = forbidden >> start
    return (x & -x).bit_length() - 1


def popcount(x: int) -> int:
    return x.bit_count()


@dataclass(frozen=True, slots=True)
class AwardContext:
    """What the solver needs of one award that still has shifts to place."""

    award: Award
    instrument: Instrument
    score: int  # scaled to an integer
    min_len: int  # effective minimum session length
    remaining: int  # shifts still to place (after pins of the award)
    sessions_left: int  # sessions still allowed (after pins of the award)
    pinned_sessions: int
    pinned_shifts: int
    static: int  # forbidden mask: wall, downtime, unavailable, pins (+ changeover), mode, team
    starts: tuple[int, ...]  # allowed starts with a static free run ≥ min_len, increasing
    preferred: int  # mask

    @property
    def key(self) -> str:
        return self.award.key

    @property
    def slots(self) -> int:
        """Most sessions this award can still get."""
        if self.remaining < self.min_len:
            return 0
        return min(self.sessions_left, self.remaining // self.min_len)


class Grid:
    """Precomputed masks of one problem."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        n = problem.horizon
        self.horizon = n
        self.wall = 1 << n
        self.downtime = mask_of(problem.downtime, n)
        self.instruments: dict[str, Instrument] = {i.key: i for i in problem.instruments}
        self.unavailable = {k: mask_of(i.unavailable, n) for k, i in self.instruments.items()}
        # the shifts not in each mode (a session needing mode m must avoid them)
        self._not_mode: dict[str, int] = {}
        all_shifts = span(0, n)
        for mode in sorted({m for m in problem.modes if m is not None}):
            self._not_mode[mode] = all_shifts & ~mask_of((i for i, m in enumerate(problem.modes) if m == mode), n)
        self.start_ok: dict[str, tuple[int, ...]] = {}
        for key, inst in self.instruments.items():
            self.start_ok[key] = tuple(
                s
                for s in range(n)
                if (inst.start_shifts is None or problem.position(s) in inst.start_shifts)
                and (inst.weekdays is None or problem.weekday(s) in inst.weekdays)
            )
        self.pin_block: dict[str, int] = dict.fromkeys(self.instruments, 0)
        self.pin_busy: dict[str, int] = {}
        for pin in problem.pins:
            c = self.instruments[pin.instrument].changeover
            self.pin_block[pin.instrument] |= span(pin.start - c, pin.end + c) & all_shifts
            for person in people_of(pin):
                self.pin_busy[person] = self.pin_busy.get(person, 0) | span(pin.start, pin.end)

    def not_mode(self, mode: str | None) -> int:
        if mode is None:
            return 0
        return self._not_mode.get(mode, span(0, self.horizon))

    def base(self, instrument: str) -> int:
        """Forbidden for any experiment on the instrument: wall, downtime, unavailable, pins."""
        return self.wall | self.downtime | self.unavailable[instrument] | self.pin_block[instrument]

    def fitting_starts(self, instrument: str, forbidden: int, need: int) -> list[int]:
        return [s for s in self.start_ok[instrument] if run_from(forbidden, s) >= need]

    def longest(self, instrument: str, forbidden: int) -> int:
        return max((run_from(forbidden, s) for s in self.start_ok[instrument]), default=0)

    def context(self, award: Award) -> AwardContext:
        inst = self.instruments[award.instrument]
        pins = [p for p in self.problem.pins if p.award == award.key]
        pinned_shifts = sum(p.length for p in pins)
        min_len = min(max(award.min_session, inst.min_session), award.shifts)
        static = (
            self.base(award.instrument)
            | self.not_mode(award.mode)
            | mask_of(award.unacceptable, self.horizon)
            | self.pin_busy_of(award)
        )
        return AwardContext(
            award=award,
            instrument=inst,
            score=scaled_score(award, self.problem),
            min_len=min_len,
            remaining=max(0, award.shifts - pinned_shifts),
            sessions_left=max(0, award.max_sessions - len(pins)),
            pinned_sessions=len(pins),
            pinned_shifts=pinned_shifts,
            static=static,
            starts=tuple(self.fitting_starts(award.instrument, static, min_len)),
            preferred=mask_of(award.preferred, self.horizon),
        )

    def pin_busy_of(self, award: Award) -> int:
        m = 0
        for person in people_of(award):
            m |= self.pin_busy.get(person, 0)
        return m


def people_of(item: Award | Pin) -> tuple[str, ...]:
    """The distinct people a session of this award (or pin) occupies."""
    out: list[str] = []
    for p in (item.pi, item.local_contact):
        if p is not None and p not in out:
            out.append(p)
    return tuple(out)


def scaled_score(award: Award, problem: Problem) -> int:
    return round(award.score * problem.weights.score_scale)


def objective(problem: Problem, sessions: Iterable[Session], contexts: Mapping[str, AwardContext]) -> int:
    """The objective of new sessions (pins are a constant and not counted)."""
    w = problem.weights
    per_award: dict[str, list[Session]] = {}
    for s in sessions:
        per_award.setdefault(s.award, []).append(s)
    total = 0
    for key, placed in per_award.items():
        ctx = contexts[key]
        total += session_value(ctx, placed, w.preferred, w.split)
    return total


def session_value(ctx: AwardContext, placed: Sequence[Session], w_pref: int, w_split: int) -> int:
    value = 0
    for s in placed:
        value += ctx.score * s.length + w_pref * popcount(ctx.preferred & span(s.start, s.end))
    new = len(placed)
    extra = max(0, ctx.pinned_sessions + new - 1) - max(0, ctx.pinned_sessions - 1)
    return value - w_split * extra
