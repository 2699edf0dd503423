"""Large-neighbourhood search by instrument: re-solve one instrument with the others fixed.

After a group's best schedule is known, each instrument in turn (largest slack first: its
bound contribution, when known, or else the value of its awards' missing shifts, less what it
carries now) is re-solved exactly as a CP-SAT sub-model: all its awards (those placed, in part
or not at all, multi-session awards included), with every other instrument's sessions fixed.
A PI or local contact busy in a fixed session of another instrument makes those shifts
forbidden for the awards they work on (folded into the award's static mask), so the people
rule across instruments holds by construction; within the instrument the sub-model has its
own per-person NoOverlap. The sub-model is hinted with the instrument's current sessions (a
complete, feasible hint), so CP-SAT starts from them; the new sessions are taken only when
they carry strictly more. The pass therefore never lowers the objective.

`columns_by_instrument` is the same walk with a different sub-solver: the instrument's schedule
is chosen among the patterns of its configuration-LP column generation (bound.py), a 0-1
programme; it runs once per instrument, by key, and also reports the configuration bound of
every instrument whose awards it saw unchanged.

Determinism: the order is computed from integers (ties by instrument key), each sub-solve has
a fixed deterministic limit, and the pass stops when the deterministic time used reaches its
budget (CP-SAT's deterministic time is reproducible; each is rounded to a microsecond, as
its last bits can differ on a tiny model), never on the wall clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.scheduling.solver.bound import instrument_columns
from app.scheduling.solver.cpsat import solve_group
from app.scheduling.solver.greedy import Placements
from app.scheduling.solver.grid import AwardContext, Grid, people_of, run_from, session_value, span

# deterministic seconds per instrument sub-solve (see docs/SOLVER.md "Large-neighbourhood search")
LNS_SUBSOLVE = 0.15


@dataclass(frozen=True, slots=True)
class LnsResult:
    placements: Placements
    solves: int
    improved: int
    wall_capped: bool
    # CP-SAT's deterministic time can differ in the last bits between runs of a tiny model
    deterministic_time: float = field(default=0.0, compare=False)
    # the column pass: the configuration bound of each instrument whose awards it saw unchanged
    # (nobody busy on another instrument), a valid bound of that instrument
    bounds: dict[str, int] = field(default_factory=dict)


def _value(grid: Grid, ctx: AwardContext, sessions: Sequence) -> int:
    w = grid.problem.weights
    return session_value(ctx, sessions, w.preferred, w.split) if sessions else 0


def instrument_order(
    grid: Grid,
    contexts: Sequence[AwardContext],
    placements: Placements,
    bounds: Mapping[str, int] | None = None,
) -> list[str]:
    """Instruments by slack, descending (then key): bound − current value, or the value of
    the shifts its awards still miss when no per-instrument bound is known."""
    current: dict[str, int] = {}
    missing: dict[str, int] = {}
    for ctx in contexts:
        key = ctx.instrument.key
        placed = placements.get(ctx.key, [])
        current[key] = current.get(key, 0) + _value(grid, ctx, placed)
        missing[key] = missing.get(key, 0) + ctx.score * (ctx.remaining - sum(s.length for s in placed))
    slack = {}
    for key in current:
        if bounds is not None and key in bounds:
            slack[key] = bounds[key] - current[key]
        else:
            slack[key] = missing[key]
    return sorted(slack, key=lambda k: (-slack[k], k))


def lns_by_instrument(
    grid: Grid,
    contexts: Sequence[AwardContext],
    placements: Placements,
    *,
    budget: float,
    subsolve: float = LNS_SUBSOLVE,
    bounds: Mapping[str, int] | None = None,
    wall_cap: float,
    workers: int = 2,
    seed: int,
    passes: int = 2,
) -> LnsResult:
    """Re-solve one instrument at a time with the others fixed, while the budget lasts.

    `budget` is in CP-SAT deterministic seconds; a sub-solve starts only while the time used is
    below it. A second pass (if budget is left) revisits the instruments in their new order.
    """
    out: Placements = {k: sorted(v, key=lambda s: s.start) for k, v in placements.items() if v}
    by_key = {c.key: c for c in contexts}
    by_inst: dict[str, list[AwardContext]] = {}
    for c in contexts:
        by_inst.setdefault(c.instrument.key, []).append(c)
    used, solves, improved, capped = 0.0, 0, 0, False
    for _ in range(passes):
        changed = False
        for inst in instrument_order(grid, contexts, out, bounds):
            if used >= budget:
                break
            part = by_inst[inst]
            # people busy in the fixed sessions of the other instruments
            sub = _with_people_busy(grid, part, by_key, out, inst)
            hint = {c.key: out[c.key] for c in part if c.key in out}
            before = sum(_value(grid, c, hint.get(c.key, [])) for c in part)
            cp = solve_group(
                grid, sub, hint, deterministic_limit=subsolve, wall_cap=wall_cap, workers=workers, seed=seed
            )
            # rounded: the stopping rule must not depend on the last bits of a float sum
            used += round(cp.deterministic_time, 6)
            solves += 1
            capped = capped or "WALL_CAP" in cp.status
            if cp.placements is None:
                continue
            after = sum(_value(grid, c, cp.placements.get(c.key, [])) for c in part)
            if after > before:
                for c in part:
                    new = sorted(cp.placements.get(c.key, []), key=lambda s: s.start)
                    if new:
                        out[c.key] = new
                    else:
                        out.pop(c.key, None)
                improved += 1
                changed = True
        if not changed or used >= budget:
            break
    return LnsResult(out, solves, improved, capped, used)


def _with_people_busy(grid: Grid, part: Sequence[AwardContext], by_key, out: Placements, inst: str):
    """The instrument's contexts with the shifts their people work on other instruments forbidden."""
    busy: dict[str, int] = {}
    for award_key in sorted(out):
        for s in out[award_key]:
            if s.instrument == inst:
                continue
            for p in people_of(by_key[award_key].award):
                busy[p] = busy.get(p, 0) | span(s.start, s.end)
    sub = []
    for ctx in part:
        extra = 0
        for p in people_of(ctx.award):
            extra |= busy.get(p, 0)
        if extra & ~ctx.static:
            static = ctx.static | extra
            starts = tuple(s for s in ctx.starts if run_from(static, s) >= ctx.min_len)
            ctx = dataclasses.replace(ctx, static=static, starts=starts)
        sub.append(ctx)
    return sub


def columns_by_instrument(
    grid: Grid, contexts: Sequence[AwardContext], placements: Placements, *, seed: int
) -> LnsResult:
    """Each instrument in turn (by key), the others fixed: the schedule chosen among the patterns
    of its column generation (bound.instrument_columns), kept when it carries strictly more."""
    out: Placements = {k: sorted(v, key=lambda s: s.start) for k, v in placements.items() if v}
    by_key = {c.key: c for c in contexts}
    by_inst: dict[str, list[AwardContext]] = {}
    for c in contexts:
        by_inst.setdefault(c.instrument.key, []).append(c)
    solves = improved = 0
    bounds: dict[str, int] = {}
    for inst in sorted(by_inst):
        part = by_inst[inst]
        sub = _with_people_busy(grid, part, by_key, out, inst)
        hint = {c.key: out[c.key] for c in part if c.key in out}
        bound, new = instrument_columns(grid, sub, hint, seed=seed)
        if all(a is b for a, b in zip(sub, part, strict=True)):
            bounds[inst] = bound
        solves += 1
        if new is None:
            continue
        before = sum(_value(grid, c, hint.get(c.key, [])) for c in part)
        after = sum(_value(grid, c, new.get(c.key, [])) for c in part)
        if after > before:
            for c in part:
                if new.get(c.key):
                    out[c.key] = new[c.key]
                else:
                    out.pop(c.key, None)
            improved += 1
    return LnsResult(out, solves, improved, False, 0.0, bounds)
