"""The CP-SAT model of one group, started from the greedy schedule.

Per award, up to `slots` optional sessions (presence, start, length). A start's domain is the
award's allowed starts whose static free run (downtime, maintenance, pins, mode, the team's
unacceptable shifts) holds the minimum session; the end is bounded by the end of that run
(an element constraint over a table start → run end). Sessions of one award are ordered
(slot j starts after slot j−1, changeover included) and a slot is used only if the previous
one is. NoOverlap on each instrument over intervals of length + changeover (with the pins);
NoOverlap on each person over the plain intervals (with their pins anywhere).

A session chooses one of its award's runs (a boolean per run) with its length in that run
(`lx`), or, when the length is forced (one session of exactly the remaining shifts), just the
boolean. Redundant rows, valid for every schedule, make the LP relaxation (and so the bound)
tighter without changing the feasible schedules or the objective:
- per base segment of an instrument and per window (every run of some award's static mask),
  Σ load of the sessions whose run lies inside ≤ last end − first start + changeover + P − 1,
  where load = ⌈(length + changeover)/P⌉·P and P is the instrument's start grid (`start_period`):
  consecutive sessions start at least a load apart, so the chain fits in that room;
- length ≥ min length × present and lx ≥ min length × x (the half-reified rows in linear form);
- a forced length makes the load a constant times a boolean: those rows are 0-1 knapsacks,
  on which CP-SAT separates cover cuts;
- the preferred overlap ov ≤ length.
Preferred shifts: per preferred run [ps, pe) ov = max(0, min(end, pe) − max(start, ps)), exactly.

Determinism: fixed num_workers, `interleave_search` (the only mode in which CP-SAT's parallel
search is deterministic), a fixed seed and `max_deterministic_time`; the wall-clock cap is a
safety net that, if it fires, is reported in the status (…+WALL_CAP).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from app.scheduling.solver.greedy import Placements
from app.scheduling.solver.grid import AwardContext, Grid, people_of
from app.scheduling.solver.model import Session

SEED = 20270101
LIGHT_PRESOLVE_BELOW = 0.2  # deterministic seconds


@dataclass(frozen=True, slots=True)
class CpResult:
    placements: Placements | None
    objective: int
    bound: int
    status: str
    wall_time: float
    deterministic_time: float
    # per-instrument bounds when the group was solved one instrument at a time
    bounds: dict[str, int] | None = None


@dataclass(slots=True)
class _Slot:
    ctx: AwardContext
    index: int
    present: cp_model.IntVar
    start: cp_model.IntVar
    length: cp_model.IntVar
    end: cp_model.IntVar
    inst_iv: cp_model.IntervalVar
    person_iv: cp_model.IntervalVar


def _runs(mask: int) -> list[tuple[int, int]]:
    """Maximal runs [a, b) of set bits."""
    out = []
    i = 0
    while mask >> i:
        x = mask >> i
        low = (x & -x).bit_length() - 1
        a = i + low
        y = ~(mask >> a)
        b = a + (y & -y).bit_length() - 1
        out.append((a, b))
        i = b
    return out


def start_period(grid: Grid, instrument: str) -> int:
    """P such that every allowed start of the instrument lies on one grid of step P (1 at least).

    Computed from the allowed start indices themselves (the gcd of their distances), so it stays
    right when a daylight-saving gap drops a shift and positions in the day are no longer periodic.
    """
    starts = grid.start_ok[instrument]
    step = 0
    for s in starts[1:]:
        step = math.gcd(step, s - starts[0])
        if step == 1:
            break
    return step or 1


def solve_group(
    grid: Grid,
    contexts: Sequence[AwardContext],
    hint: Placements,
    *,
    deterministic_limit: float,
    wall_cap: float,
    workers: int = 2,
    seed: int = SEED,
) -> CpResult:
    t0 = time.perf_counter()
    problem = grid.problem
    w = problem.weights
    model = cp_model.CpModel()
    slots: list[_Slot] = []
    objective_terms = []
    by_inst: dict[str, list[cp_model.IntervalVar]] = {}
    by_person: dict[str, list[cp_model.IntervalVar]] = {}
    hint_values: list[tuple[cp_model.IntVar, int]] = []
    n = grid.horizon

    # base segments: maximal free runs of each instrument's calendar (downtime, maintenance,
    # pins); every session lies in one, so per segment Σ (length + changeover) ≤ size + changeover.
    # These capacity rows are redundant for the schedule but make the LP bound a knapsack per
    # segment instead of per instrument.
    segment_of: dict[str, list[tuple[int, int]]] = {}
    segment_load: dict[tuple[str, int], list] = {}
    all_shifts = (1 << n) - 1
    period: dict[str, int] = {}
    for key in sorted({c.instrument.key for c in contexts}):
        segment_of[key] = _runs(~grid.base(key) & all_shifts)
        period[key] = start_period(grid, key)

    # every (slot, run) choice with its load term, for the window rows below
    choices: dict[str, list[tuple[int, int, int, object]]] = {}  # inst → (a, b, first, load)

    for ctx in sorted(contexts, key=lambda c: c.key):
        if not ctx.starts or ctx.slots == 0:
            continue
        c = ctx.instrument.changeover
        inst_key = ctx.instrument.key
        step = period[inst_key]
        segments = segment_of[inst_key]
        starts = list(ctx.starts)
        # a forced length: one session of exactly the award's remaining shifts
        fixed = ctx.min_len if ctx.slots == 1 and ctx.min_len == ctx.remaining else None
        # the award's own runs (static mask) that hold a fitting start, with their base segment
        runs = []
        for a, b in _runs(~ctx.static & all_shifts):
            fitting = [x for x in starts if a <= x <= b - ctx.min_len]
            if fitting:
                g = next(i for i, (ga, gb) in enumerate(segments) if ga <= a and b <= gb)
                runs.append((a, b, g, fitting[0], fitting[-1]))
        domain = cp_model.Domain.FromValues(starts)
        pref_runs = _runs(ctx.preferred)
        given = sorted(hint.get(ctx.key, ()), key=lambda s: s.start)
        lengths = []
        prev: _Slot | None = None
        for j in range(ctx.slots):
            name = f"{ctx.key}#{j}"
            present = model.new_bool_var(f"p[{name}]")
            start = model.new_int_var_from_domain(domain, f"s[{name}]")
            if fixed is not None:
                length = model.new_int_var(0, fixed, f"l[{name}]")
                model.add(length == fixed * present)
            else:
                length = model.new_int_var(0, ctx.remaining, f"l[{name}]")
                model.add(length >= ctx.min_len).only_enforce_if(present)
                model.add(length == 0).only_enforce_if(~present)
                model.add(length >= ctx.min_len * present)  # the same, for the LP
            end = model.new_int_var(0, n, f"e[{name}]")
            model.add(end == start + length)
            if j < len(given):
                hs, hl = given[j].start, given[j].length
            else:
                hs, hl = starts[0], 0
            hint_values += [(present, int(hl > 0)), (start, hs), (length, hl), (end, hs + hl)]
            choice = []
            run_lengths = []
            for a, b, g, first, last in runs:
                inside = hl > 0 and a <= hs and hs + hl <= b
                x = model.new_bool_var(f"x[{name},{a}]")
                model.add(start >= first).only_enforce_if(x)
                model.add(start <= last).only_enforce_if(x)
                model.add(end <= b).only_enforce_if(x)
                hint_values.append((x, int(inside)))
                if fixed is not None:
                    # a constant load: the capacity rows are 0-1 knapsacks (cover cuts apply)
                    load = (-(-(fixed + c) // step) * step) * x
                else:
                    cap = min(b - first, ctx.remaining)
                    lx = model.new_int_var(0, cap, f"lx[{name},{a}]")
                    model.add(lx <= cap * x)
                    model.add(lx >= ctx.min_len * x)
                    run_lengths.append(lx)
                    hint_values.append((lx, hl if inside else 0))
                    if step == 1:
                        load = lx + c * x
                    else:
                        # the next session starts on the start grid: this one uses ⌈(length + c)/P⌉·P
                        u = model.new_int_var(0, -(-(cap + c) // step), f"u[{name},{a}]")
                        model.add(step * u >= lx + c * x)
                        load = step * u
                        hint_values.append((u, -(-(hl + c) // step) if inside else 0))
                segment_load.setdefault((inst_key, g), []).append(load)
                choices.setdefault(inst_key, []).append((a, b, first, load))
                choice.append(x)
            model.add(sum(choice) == present)
            if run_lengths:
                model.add(sum(run_lengths) == length)
            inst_iv = model.new_optional_interval_var(start, length + c, end + c, present, f"i[{name}]")
            person_iv = model.new_optional_interval_var(start, length, end, present, f"q[{name}]")
            by_inst.setdefault(inst_key, []).append(inst_iv)
            for p in people_of(ctx.award):
                by_person.setdefault(p, []).append(person_iv)
            if prev is not None:
                model.add_implication(present, prev.present)
                model.add(start >= prev.end + c).only_enforce_if(present)
            objective_terms.append(ctx.score * length)
            if j + ctx.pinned_sessions >= 1:
                objective_terms.append(-w.split * present)
            if w.preferred:
                for ps, pe in pref_runs:
                    if pe <= starts[0] or ps >= runs[-1][1]:
                        continue
                    # ov = max(0, min(end, pe) − max(start, ps)), exactly
                    lo = model.new_int_var(0, n, f"lo[{name},{ps}]")
                    hi = model.new_int_var(0, n, f"hi[{name},{ps}]")
                    ov = model.new_int_var(0, min(pe - ps, ctx.remaining), f"o[{name},{ps}]")
                    model.add_max_equality(lo, [start, ps])
                    model.add_min_equality(hi, [end, pe])
                    model.add_max_equality(ov, [0, hi - lo])
                    model.add(ov <= length)
                    objective_terms.append(w.preferred * ov)
                    hlo, hhi = max(hs, ps), min(hs + hl, pe)
                    hint_values += [(lo, hlo), (hi, hhi), (ov, max(0, hhi - hlo))]
            slot = _Slot(ctx, j, present, start, length, end, inst_iv, person_iv)
            slots.append(slot)
            lengths.append(length)
            prev = slot
        if len(lengths) > 1:
            model.add(sum(lengths) <= ctx.remaining)
    for (inst_key, g), load in sorted(segment_load.items()):
        ga, gb = segment_of[inst_key][g]
        first = next((x for x in grid.start_ok[inst_key] if ga <= x < gb), ga)
        slack = period[inst_key] - 1 + grid.instruments[inst_key].changeover
        model.add(sum(load) <= gb - first + slack)
    # window rows: for every run [a, b) of some award (a window of its static mask inside a
    # base segment), the sessions placed in runs inside it share its room
    for inst_key in sorted(choices):
        items = choices[inst_key]
        slack = period[inst_key] - 1 + grid.instruments[inst_key].changeover
        seen_rows: set[tuple[int, ...]] = set()
        for wa, wb in sorted({(a, b) for a, b, _, _ in items}):
            inside = [i for i, (a, b, _, _) in enumerate(items) if wa <= a and b <= wb]
            key = tuple(inside)
            if key in seen_rows:
                continue
            seen_rows.add(key)
            first = min(items[i][2] for i in inside)
            last_end = max(items[i][1] for i in inside)
            model.add(sum(items[i][3] for i in inside) <= last_end - first + slack)

    if not slots:
        return CpResult({}, 0, 0, "SKIPPED", time.perf_counter() - t0, 0.0)

    group_instruments = {s.ctx.instrument.key for s in slots}
    for pin in problem.pins:
        if pin.instrument in group_instruments:
            c = grid.instruments[pin.instrument].changeover
            by_inst[pin.instrument].append(
                model.new_fixed_size_interval_var(pin.start, pin.length + c, f"pin[{pin.key}]")
            )
        for p in people_of(pin):
            if p in by_person:
                by_person[p].append(model.new_fixed_size_interval_var(pin.start, pin.length, f"pinp[{pin.key}]"))
    for key in sorted(by_inst):
        if len(by_inst[key]) > 1:
            model.add_no_overlap(by_inst[key])
    for person in sorted(by_person):
        if len(by_person[person]) > 1:
            model.add_no_overlap(by_person[person])
    model.maximize(sum(objective_terms))
    for var, value in hint_values:
        model.add_hint(var, value)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = workers
    params.interleave_search = workers > 1
    params.random_seed = seed
    params.max_deterministic_time = deterministic_limit
    params.max_time_in_seconds = wall_cap
    if deterministic_limit < LIGHT_PRESOLVE_BELOW:
        # presolve and probing do not stop at the deterministic limit: on a short limit (a
        # re-plan) they would cost more than the search (measured: 0.78 s → 0.36 s wall on the
        # busiest M instrument at the same objective)
        params.max_presolve_iterations = 1
        params.cp_model_probing_level = 0
        params.symmetry_level = 0
    status = solver.solve(model)
    wall = time.perf_counter() - t0
    name = solver.status_name(status)
    if wall >= wall_cap and status != cp_model.OPTIMAL:
        name += "+WALL_CAP"
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = int(solver.best_objective_bound) if status != cp_model.MODEL_INVALID else 0
        return CpResult(None, 0, bound, name, wall, solver.deterministic_time)
    out: Placements = {}
    for slot in slots:
        if solver.boolean_value(slot.present):
            out.setdefault(slot.ctx.key, []).append(
                Session(slot.ctx.instrument.key, solver.value(slot.start), solver.value(slot.length), slot.ctx.key)
            )
    return CpResult(
        out,
        round(solver.objective_value),
        int(solver.best_objective_bound + 1e-6),
        name,
        wall,
        solver.deterministic_time,
    )
