"""The CP-SAT model of one group, started from the greedy schedule.

Per award, up to `slots` optional sessions (presence, start, length). A start's domain is the
award's allowed starts whose static free run (downtime, maintenance, pins, mode, the team's
unacceptable shifts) holds the minimum session; the end is bounded by the end of that run
(an element constraint over a table start → run end). Sessions of one award are ordered
(slot j starts after slot j−1, changeover included) and a slot is used only if the previous
one is. NoOverlap on each instrument over intervals of length + changeover (with the pins);
NoOverlap on each person over the plain intervals (with their pins anywhere).

Preferred shifts: per preferred run [ps, pe) an overlap variable ov ≤ min(end, pe) −
max(start, ps), written as four linear upper bounds; maximisation pushes it to the true
overlap, so the optimum (and so the bound) is that of the true objective.

Determinism: fixed num_workers, `interleave_search` (the only mode in which CP-SAT's parallel
search is deterministic), a fixed seed and `max_deterministic_time`; the wall-clock cap is a
safety net that, if it fires, is reported in the status (…+WALL_CAP).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from app.scheduling.solver.greedy import Placements
from app.scheduling.solver.grid import AwardContext, Grid, people_of, run_from
from app.scheduling.solver.model import Session

SEED = 20270101


@dataclass(frozen=True, slots=True)
class CpResult:
    placements: Placements | None
    objective: int
    bound: int
    status: str
    wall_time: float
    deterministic_time: float


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

    for ctx in sorted(contexts, key=lambda c: c.key):
        if not ctx.starts or ctx.slots == 0:
            continue
        c = ctx.instrument.changeover
        starts = list(ctx.starts)
        table = [0] * (starts[-1] + 1)
        for s in starts:
            table[s] = s + run_from(ctx.static, s)
        domain = cp_model.Domain.FromValues(starts)
        pref_runs = _runs(ctx.preferred)
        given = sorted(hint.get(ctx.key, ()), key=lambda s: s.start)
        lengths = []
        prev: _Slot | None = None
        for j in range(ctx.slots):
            name = f"{ctx.key}#{j}"
            present = model.new_bool_var(f"p[{name}]")
            start = model.new_int_var_from_domain(domain, f"s[{name}]")
            length = model.new_int_var(0, ctx.remaining, f"l[{name}]")
            end = model.new_int_var(0, n, f"e[{name}]")
            model.add(end == start + length)
            model.add(length >= ctx.min_len).only_enforce_if(present)
            model.add(length == 0).only_enforce_if(~present)
            run_end = model.new_int_var(0, n, f"r[{name}]")
            model.add_element(start, table, run_end)
            model.add(end <= run_end)
            inst_iv = model.new_optional_interval_var(start, length + c, end + c, present, f"i[{name}]")
            person_iv = model.new_optional_interval_var(start, length, end, present, f"q[{name}]")
            by_inst.setdefault(ctx.instrument.key, []).append(inst_iv)
            for p in people_of(ctx.award):
                by_person.setdefault(p, []).append(person_iv)
            if prev is not None:
                model.add_implication(present, prev.present)
                model.add(start >= prev.end + c).only_enforce_if(present)
            objective_terms.append(ctx.score * length)
            if j + ctx.pinned_sessions >= 1:
                objective_terms.append(-w.split * present)
            # hint: the greedy session in this slot, or an absent slot at the first start
            if j < len(given):
                g = given[j]
                hs, hl = g.start, g.length
            else:
                hs, hl = starts[0], 0
            hint_values += [(present, int(hl > 0)), (start, hs), (length, hl), (end, hs + hl), (run_end, table[hs])]
            if w.preferred:
                for ps, pe in pref_runs:
                    ov = model.new_int_var(0, min(pe - ps, ctx.remaining), f"o[{name},{ps}]")
                    model.add(ov <= end - ps)
                    model.add(ov <= pe - start)
                    model.add(ov <= length)
                    objective_terms.append(w.preferred * ov)
                    true_ov = max(0, min(hs + hl, pe) - max(hs, ps)) if hl else 0
                    hint_values.append((ov, true_ov))
            slot = _Slot(ctx, j, present, start, length, end, inst_iv, person_iv)
            slots.append(slot)
            lengths.append(length)
            prev = slot
        model.add(sum(lengths) <= ctx.remaining)

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
