"""solve(): split into groups, greedy, local search, CP-SAT from the best hint, LNS by instrument, reasons."""

from __future__ import annotations

import time
from collections.abc import Callable

from app.scheduling.solver.bound import instrument_bound
from app.scheduling.solver.cpsat import SEED, CpResult, solve_group, start_period
from app.scheduling.solver.greedy import Occupancy, Placements, fill, greedy
from app.scheduling.solver.grid import AwardContext, Grid, objective, people_of, session_value, span
from app.scheduling.solver.groups import instrument_groups
from app.scheduling.solver.improve import improve
from app.scheduling.solver.lns import LNS_SUBSOLVE, columns_by_instrument, lns_by_instrument
from app.scheduling.solver.model import GroupReport, Problem, Session, Solution
from app.scheduling.solver.reasons import explain
from app.scheduling.solver.repack import repack, repack_all

# Wall seconds per unit of CP-SAT deterministic time on this machine (2 cores, num_workers=2,
# interleave_search), measured on the M benchmark: see docs/SOLVER.md "Calibration".
WALL_PER_DETERMINISTIC_SECOND = 1.5
# effort 1..10 → total deterministic time for the whole problem (shared among the groups by
# their size).
EFFORT_DETERMINISTIC_TIME = {1: 0.1, 2: 0.25, 3: 0.5, 4: 1.0, 5: 2.0, 6: 4.0, 7: 8.0, 8: 15.0, 9: 30.0, 10: 60.0}
# The default: the calibrated "about 10 s on M, about a minute on L" setting, which already meets
# the quality targets (docs/SOLVER.md "Calibration"); staff choose more for a final plan.
DEFAULT_EFFORT = 2
MIN_GROUP_DETERMINISTIC_TIME = 0.05
# A linked group with more session slots than this is solved one instrument at a time
# (`_by_instrument`): one CP-SAT model of 50 instruments gets nowhere in seconds.
MONOLITH_MAX_SLOTS = 400
# The large-neighbourhood search by instrument gets this many times the group's deterministic
# share on top of the first CP-SAT pass (docs/SOLVER.md "Large-neighbourhood search").
LNS_BUDGET_FACTOR = 1.0
# …and runs only when the whole problem's deterministic limit is at least this (effort ≥ 3):
# a re-plan (effort 1, ≤ 1 s) keeps its first-pass schedule.
LNS_MIN_LIMIT = 0.5


def deterministic_time_for(effort: int) -> float:
    """Raises: ValueError when effort is not 1..10."""
    if effort not in EFFORT_DETERMINISTIC_TIME:
        raise ValueError(f"effort must be 1..10, got {effort!r}")
    return EFFORT_DETERMINISTIC_TIME[effort]


def solve(
    problem: Problem,
    *,
    effort: int = DEFAULT_EFFORT,
    deterministic_limit: float | None = None,
    workers: int = 2,
    seed: int = SEED,
    wall_cap: float | None = None,
    use_cpsat: bool = True,
    progress: Callable[[int, int, GroupReport | None], None] | None = None,
) -> Solution:
    """Place the awards of `problem`. Pure: no Flask, no SQLAlchemy, no app imports.

    `progress(done, total, report)` is called once before the first group (done 0, report
    None) and after each group with its report, e.g. for a live display; it must not raise
    and it does not change the result.

    `deterministic_limit` (CP-SAT deterministic seconds for the whole problem) overrides
    `effort`. `wall_cap` (seconds per group) is a safety net only; by default it is 3× the
    calibrated wall time of the group's limit plus 5 s. The result is never worse than greedy
    and, unless the wall cap fires, identical for identical input.

    Raises: ProblemError (inconsistent input), ValueError (effort out of range).
    """
    t0 = time.perf_counter()
    problem.validate()
    total_limit = deterministic_limit if deterministic_limit is not None else deterministic_time_for(effort)
    grid = Grid(problem)
    contexts = {a.key: grid.context(a) for a in problem.awards}
    active = [c for c in contexts.values() if c.remaining > 0 and c.slots > 0 and c.starts]
    groups = instrument_groups(c.award for c in active)
    total_slots = sum(c.slots for c in active) or 1

    final: Placements = {}
    reports: list[GroupReport] = []
    if progress is not None:
        progress(0, len(groups), None)
    greedy_total = 0
    greedy_time_total = 0.0
    for group in groups:
        members = set(group)
        ctxs = [c for c in active if c.award.instrument in members]
        tg = time.perf_counter()
        g = greedy(grid, ctxs)
        greedy_time = time.perf_counter() - tg
        greedy_time_total += greedy_time
        g_obj = objective(problem, (s for v in g.values() for s in v), contexts)
        greedy_total += g_obj
        share = max(MIN_GROUP_DETERMINISTIC_TIME, total_limit * sum(c.slots for c in ctxs) / total_slots)
        best, best_obj, winner, status, bound, dtime = g, g_obj, "greedy", "SKIPPED", g_obj, 0.0
        if use_cpsat:
            # best fit (tightest free run) usually packs better than the first-fit baseline;
            # insertion with ejection then repairs what both left; the best is CP-SAT's hint
            bf = greedy(grid, ctxs, best_fit=True)
            bf_obj = objective(problem, (s for v in bf.values() for s in v), contexts)
            if bf_obj > best_obj:
                best, best_obj, winner = bf, bf_obj, "best_fit"
            ej = fill(grid, ctxs, improve(grid, ctxs, best), best_fit=True)
            ej_obj = objective(problem, (s for v in ej.values() for s in v), contexts)
            if ej_obj > best_obj:
                best, best_obj, winner = ej, ej_obj, winner + "+ejection"
            # knapsack repacking of the free segments, then ejection again on what it left
            period = {key: start_period(grid, key) for key in group}
            rp = fill(grid, ctxs, repack(grid, ctxs, repack_all(grid, ctxs, best, period), period), best_fit=True)
            rp_obj = objective(problem, (s for v in rp.values() for s in v), contexts)
            if rp_obj > best_obj:
                rp = fill(grid, ctxs, improve(grid, ctxs, rp), best_fit=True)
                best, best_obj = rp, objective(problem, (s for v in rp.values() for s in v), contexts)
                winner += "+repack"
            # price and branch by instrument: the best schedule among the patterns of the
            # column generation, the other instruments fixed (docs/SOLVER.md, step 6); its
            # configuration bounds tell when CP-SAT has nothing left to find
            cols, best, best_obj, winner = _column_pass(problem, grid, ctxs, contexts, best, best_obj, winner, seed)
            part_bounds = _configuration_bounds(grid, ctxs, best, cols.bounds)
            cap = wall_cap if wall_cap is not None else 3 * share * WALL_PER_DETERMINISTIC_SECOND + 5
            if best_obj >= sum(part_bounds.values()):
                # proven optimal by the configuration LP (people across instruments relaxed)
                status, dtime, bound = "OPTIMAL", 0.0, best_obj
            elif total_limit < LNS_MIN_LIMIT and cols.solves:
                # a short limit (efforts 1–2, a re-plan): the column pass stands in for CP-SAT,
                # which at 0.1 deterministic s costs more than it finds (docs/SOLVER.md step 7)
                status, dtime, bound = "COLUMNS", 0.0, max(sum(part_bounds.values()), g_obj)
            else:
                best, best_obj, winner, status, bound, dtime = _search(
                    grid,
                    group,
                    ctxs,
                    contexts,
                    best,
                    best_obj,
                    winner,
                    g_obj,
                    part_bounds,
                    share,
                    total_limit,
                    cap,
                    workers,
                    seed,
                )
            bound = max(bound, best_obj)
        final.update(best)
        reports.append(
            GroupReport(
                instruments=group,
                awards=len(ctxs),
                greedy_objective=g_obj,
                objective=best_obj,
                bound=bound,
                status=status,
                winner=winner,
                deterministic_limit=share if use_cpsat else 0.0,
                wall_time=time.perf_counter() - tg,
                greedy_time=greedy_time,
                deterministic_time=dtime,
            )
        )
        if progress is not None:
            progress(len(reports), len(groups), reports[-1])

    sessions = tuple(sorted(s for v in final.values() for s in v))
    occ = Occupancy(grid, contexts)
    for s in sessions:
        occ.add(s)
    own: dict[str, list[Session]] = {}
    for s in sessions:
        own.setdefault(s.award, []).append(s)
    unplaced = []
    for award in sorted(problem.awards, key=lambda a: (-a.score, a.key)):
        ctx = contexts[award.key]
        mine = own.get(award.key, [])
        if ctx.pinned_shifts + sum(s.length for s in mine) < award.shifts:
            unplaced.append(explain(grid, ctx, occ, mine))
    return Solution(
        sessions=sessions,
        unplaced=tuple(unplaced),
        objective=sum(r.objective for r in reports),
        greedy_objective=greedy_total,
        bound=sum(r.bound for r in reports),
        groups=tuple(reports),
        wall_time=time.perf_counter() - t0,
        greedy_time=greedy_time_total,
    )


def _by_instrument(
    grid: Grid, ctxs: list[AwardContext], hint: Placements, limit: float, cap: float, workers: int, seed: int
) -> CpResult:
    """A large linked group, one instrument at a time.

    Each instrument is solved with the people constraints towards other instruments relaxed:
    the sum of those bounds is a valid bound of the group. The instruments' schedules are then
    merged in instrument order, dropping a session whose PI or local contact is already busy
    in an accepted one; `fill` then uses what room is left. The caller keeps greedy if better.
    """
    t0 = time.perf_counter()
    by_inst: dict[str, list[AwardContext]] = {}
    for c in ctxs:
        by_inst.setdefault(c.instrument.key, []).append(c)
    total = sum(c.slots for c in ctxs) or 1
    merged: Placements = {}
    occ = Occupancy(grid, {c.key: c for c in ctxs})
    bound, dtime, optimal = 0, 0.0, 0
    bounds: dict[str, int] = {}
    for key in sorted(by_inst):
        part = by_inst[key]
        share = max(MIN_GROUP_DETERMINISTIC_TIME, limit * sum(c.slots for c in part) / total)
        part_hint = {c.key: hint[c.key] for c in part if c.key in hint}
        cp = solve_group(grid, part, part_hint, deterministic_limit=share, wall_cap=cap, workers=workers, seed=seed)
        dtime += cp.deterministic_time
        optimal += cp.status == "OPTIMAL"
        part_hint_obj = sum(
            session_value(c, part_hint.get(c.key, []), grid.problem.weights.preferred, grid.problem.weights.split)
            for c in part
        )
        bounds[key] = max(cp.bound, part_hint_obj)
        bound += bounds[key]
        chosen = cp.placements if cp.placements is not None else part_hint
        for award_key in sorted(chosen):
            ctx = occ.contexts[award_key]
            for session in sorted(chosen[award_key], key=lambda x: x.start):
                window = span(session.start, session.end)
                if any(occ.person_mask(p) & window for p in people_of(ctx.award)):
                    continue
                occ.add(session)
                merged.setdefault(award_key, []).append(session)
    status = f"SPLIT {optimal}/{len(by_inst)} OPTIMAL"
    return CpResult(merged, 0, bound, status, time.perf_counter() - t0, dtime, bounds)


def _configuration_bounds(
    grid: Grid, ctxs: list[AwardContext], placements: Placements, known: dict[str, int]
) -> dict[str, int]:
    """Per instrument of the group: the configuration-LP bound with the people rule relaxed
    (`known`: those the column pass already computed on the same awards)."""
    by_inst: dict[str, list[AwardContext]] = {}
    for c in ctxs:
        by_inst.setdefault(c.instrument.key, []).append(c)
    return {
        key: known[key]
        if key in known
        else instrument_bound(grid, part, {c.key: placements[c.key] for c in part if c.key in placements})
        for key, part in sorted(by_inst.items())
    }


def _search(
    grid: Grid,
    group: tuple[str, ...],
    ctxs: list[AwardContext],
    contexts: dict[str, AwardContext],
    best: Placements,
    best_obj: int,
    winner: str,
    g_obj: int,
    part_bounds: dict[str, int],
    share: float,
    total_limit: float,
    cap: float,
    workers: int,
    seed: int,
) -> tuple[Placements, int, str, str, int, float]:
    """CP-SAT from the best schedule, then the large-neighbourhood search by instrument and the
    column pass again: (schedule, objective, winner, status, bound, deterministic time)."""
    problem = grid.problem
    hint = best
    if len(group) > 1 and sum(c.slots for c in ctxs) > MONOLITH_MAX_SLOTS:
        cp = _by_instrument(grid, ctxs, hint, share, cap, workers, seed)
    else:
        cp = solve_group(grid, ctxs, hint, deterministic_limit=share, wall_cap=cap, workers=workers, seed=seed)
    status, dtime = cp.status, cp.deterministic_time
    # the least of the valid bounds is one, per instrument when the group was solved one
    # instrument at a time
    if cp.bounds is not None:
        inst_bounds = {k: min(b, part_bounds[k]) for k, b in cp.bounds.items()}
        bound = max(sum(inst_bounds.values()), g_obj)
    else:
        inst_bounds = part_bounds
        bound = max(min(cp.bound, sum(part_bounds.values())), g_obj)
    if cp.placements is not None:
        filled = fill(grid, ctxs, cp.placements)
        cp_obj = objective(problem, (s for v in filled.values() for s in v), contexts)
        if cp_obj > best_obj:
            best, best_obj, winner = filled, cp_obj, "cpsat"
            better = fill(grid, ctxs, improve(grid, ctxs, best), best_fit=True)
            better_obj = objective(problem, (s for v in better.values() for s in v), contexts)
            if better_obj > best_obj:
                best, best_obj, winner = better, better_obj, "cpsat+ejection"
    # large-neighbourhood search: one instrument at a time, the others fixed (not when the
    # schedule is proven optimal, nor on a short limit)
    lns_budget = share * LNS_BUDGET_FACTOR if total_limit >= LNS_MIN_LIMIT and best_obj < bound else 0.0
    lns = lns_by_instrument(
        grid,
        ctxs,
        best,
        budget=lns_budget,
        subsolve=LNS_SUBSOLVE,
        bounds=inst_bounds,
        wall_cap=cap,
        workers=workers,
        seed=seed,
    )
    dtime += lns.deterministic_time
    if lns.wall_capped and "WALL_CAP" not in status:
        status += "+WALL_CAP"
    if lns.improved:
        ln = fill(grid, ctxs, lns.placements)
        ln_obj = objective(problem, (s for v in ln.values() for s in v), contexts)
        if ln_obj > best_obj:
            best, best_obj, winner = ln, ln_obj, winner + "+lns"
            # the column pass again on what CP-SAT and the search changed
            _cols, best, best_obj, winner = _column_pass(problem, grid, ctxs, contexts, best, best_obj, winner, seed)
    return best, best_obj, winner, status, max(bound, best_obj), dtime


def greedy_solution(problem: Problem) -> Solution:
    """The greedy baseline alone (no CP-SAT): for benchmarks and as an explicit fallback."""
    return solve(problem, use_cpsat=False)


def _column_pass(problem, grid, ctxs, contexts, best, best_obj, winner, seed):
    """The price-and-branch pass by instrument (docs/SOLVER.md, step 6), kept only if it
    improves: returns the pass (its bounds) and the best schedule, objective and winner."""
    cols = columns_by_instrument(grid, ctxs, best, seed=seed)
    if cols.improved:
        co = fill(grid, ctxs, cols.placements)
        co_obj = objective(problem, (s for v in co.values() for s in v), contexts)
        if co_obj > best_obj:
            best, best_obj, winner = co, co_obj, winner + "+columns"
    return cols, best, best_obj, winner
