"""The solver's input and output: frozen dataclasses on a grid of shift indices.

Time is a grid of shift indices 0..horizon-1 (the facility shift pattern of one cycle; the
adapter maps indices to instants). A session occupies the half-open range [start, start+length).
Person ids (PI, local contact) are opaque strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class ProblemError(ValueError):
    """An input the solver cannot use; `code` names the reason, `params` its details."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights (all integers; the objective is maximised).

    objective = Σ placed shifts × round(score × score_scale)
              + preferred × (placed shifts that fall on the team's preferred shifts)
              − split × (extra sessions: every session of an award beyond its first)

    Defaults: score_scale 100 (a score is a float, typically 0–5 from the final ranking: two
    decimals survive), preferred 10 (a preferred shift is worth a tenth of a score point, so it
    breaks ties but never beats placing a shift of an award), split 25 (splitting pays when it
    places at least a quarter of a score point's worth of extra shifts).
    """

    score_scale: int = 100
    preferred: int = 10
    split: int = 25


@dataclass(frozen=True, slots=True)
class Instrument:
    """An instrument's calendar settings on the grid.

    unavailable: shift indices the instrument cannot take experiments (maintenance, in-house or
    rapid-access blocks that are not pins). start_shifts: allowed positions in the day of a
    session's first shift (`Problem.position`), None = any. weekdays: allowed weekdays of a
    session's first shift (0 = Monday), None = any. changeover: shifts that must separate two
    experiments on this instrument (what they fall on does not matter). min_session: the
    instrument's minimum session length.
    """

    key: str
    unavailable: frozenset[int] = frozenset()
    start_shifts: frozenset[int] | None = None
    weekdays: frozenset[int] | None = None
    changeover: int = 0
    min_session: int = 1


@dataclass(frozen=True, slots=True)
class Award:
    """Shifts awarded to a request, to be placed in up to `max_sessions` sessions.

    score: from the final ranking, higher is better (≥ 0). mode: the operating mode every shift
    of a session must have, None = any. unacceptable: shifts the team cannot come (hard).
    preferred: shifts the team would like (soft).
    """

    key: str
    instrument: str
    shifts: int
    score: float
    min_session: int = 1
    max_sessions: int = 1
    mode: str | None = None
    unacceptable: frozenset[int] = frozenset()
    preferred: frozenset[int] = frozenset()
    local_contact: str | None = None
    pi: str | None = None


@dataclass(frozen=True, slots=True)
class Pin:
    """An existing booking that stays where it is (a published experiment, a kept session).

    A pin occupies its instrument (changeover included) and its people; with `award` set its
    shifts and its session count towards that award.
    """

    key: str
    instrument: str
    start: int
    length: int
    award: str | None = None
    local_contact: str | None = None
    pi: str | None = None

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class Problem:
    """One cycle to schedule.

    downtime: facility-wide shutdowns and machine days. modes: the operating mode of each shift
    (empty = no mode periods known: an award requiring a mode then cannot be placed). weekdays:
    the weekday of each shift (empty = shift 0 is a Monday). positions: each shift's index in
    the day's shift pattern (empty = index % shifts_per_day); needed when a daylight-saving gap
    drops a shift, after which index % shifts_per_day is off by one.
    """

    horizon: int
    instruments: tuple[Instrument, ...]
    awards: tuple[Award, ...]
    pins: tuple[Pin, ...] = ()
    shifts_per_day: int = 3
    downtime: frozenset[int] = frozenset()
    modes: tuple[str | None, ...] = ()
    weekdays: tuple[int, ...] = ()
    weights: Weights = field(default_factory=Weights)
    positions: tuple[int, ...] = ()

    def weekday(self, index: int) -> int:
        return self.weekdays[index] if self.weekdays else (index // self.shifts_per_day) % 7

    def position(self, index: int) -> int:
        """The shift's place in its day (its index in the shift pattern): what start rules name."""
        return self.positions[index] if self.positions else index % self.shifts_per_day

    def validate(self) -> None:
        """Raises: ProblemError naming the first inconsistency."""
        if self.horizon <= 0:
            raise ProblemError("horizon_empty")
        if self.shifts_per_day <= 0:
            raise ProblemError("shifts_per_day_invalid")
        if self.modes and len(self.modes) != self.horizon:
            raise ProblemError("modes_length", expected=self.horizon, got=len(self.modes))
        if self.weekdays and len(self.weekdays) != self.horizon:
            raise ProblemError("weekdays_length", expected=self.horizon, got=len(self.weekdays))
        if self.positions and len(self.positions) != self.horizon:
            raise ProblemError("positions_length", expected=self.horizon, got=len(self.positions))
        keys = [i.key for i in self.instruments]
        if len(set(keys)) != len(keys):
            raise ProblemError("instrument_duplicate")
        known = set(keys)
        for inst in self.instruments:
            if inst.changeover < 0 or inst.min_session < 1:
                raise ProblemError("instrument_settings", instrument=inst.key)
        seen: set[str] = set()
        for award in self.awards:
            if award.key in seen:
                raise ProblemError("award_duplicate", award=award.key)
            seen.add(award.key)
            if award.instrument not in known:
                raise ProblemError("award_instrument_unknown", award=award.key, instrument=award.instrument)
            if award.shifts < 1 or award.min_session < 1 or award.max_sessions < 1:
                raise ProblemError("award_sizes", award=award.key)
            if not award.score >= 0:  # also refuses NaN
                raise ProblemError("award_score", award=award.key)
        busy: dict[str, list[Pin]] = {}
        for pin in self.pins:
            if pin.instrument not in known:
                raise ProblemError("pin_instrument_unknown", pin=pin.key, instrument=pin.instrument)
            if pin.length < 1 or pin.start < 0 or pin.end > self.horizon:
                raise ProblemError("pin_outside_cycle", pin=pin.key)
            if pin.award is not None and pin.award not in seen:
                raise ProblemError("pin_award_unknown", pin=pin.key, award=pin.award)
            busy.setdefault(pin.instrument, []).append(pin)
        for pins in busy.values():
            pins.sort(key=lambda p: p.start)
            for a, b in zip(pins, pins[1:], strict=False):
                if b.start < a.end:
                    raise ProblemError("pins_overlap", pin=b.key, other=a.key)


@dataclass(frozen=True, slots=True, order=True)
class Session:
    instrument: str
    start: int
    length: int
    award: str

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class Unplaced:
    """An award not fully placed: how much was, and why not more (a code with parameters).

    Codes: no_window, mode_unavailable, unacceptable_dates, capacity_used, person_busy,
    split_limit, objective_tradeoff (see docs/SOLVER.md).
    """

    award: str
    placed: int
    missing: int
    reason: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def details(self) -> Mapping[str, object]:
        return dict(self.params)


@dataclass(frozen=True, slots=True)
class GroupReport:
    """One independently solved group of instruments. Timings are not compared (eq)."""

    instruments: tuple[str, ...]
    awards: int
    greedy_objective: int
    objective: int
    bound: int
    status: str  # CP-SAT's status: OPTIMAL, FEASIBLE, UNKNOWN, SKIPPED (nothing to decide)
    winner: str  # "greedy" (also when equal), "best_fit" (the best-fit greedy) or "cpsat"
    deterministic_limit: float
    wall_time: float = field(default=0.0, compare=False)
    greedy_time: float = field(default=0.0, compare=False)
    deterministic_time: float = field(default=0.0, compare=False)

    @property
    def gap(self) -> float:
        return gap(self.objective, self.bound)


@dataclass(frozen=True, slots=True)
class Solution:
    """Sessions sorted by (instrument, start); pins are not repeated here. Timings are not compared."""

    sessions: tuple[Session, ...]
    unplaced: tuple[Unplaced, ...]
    objective: int
    greedy_objective: int
    bound: int
    groups: tuple[GroupReport, ...]
    wall_time: float = field(default=0.0, compare=False)
    greedy_time: float = field(default=0.0, compare=False)

    @property
    def gap(self) -> float:
        return gap(self.objective, self.bound)


def gap(objective: int, bound: int) -> float:
    """Relative distance to the bound: (bound − objective) / bound; 0 when both are 0."""
    if bound <= 0:
        return 0.0
    return max(0.0, (bound - objective) / bound)
