"""A second upper bound per instrument: the configuration LP over its free segments (Lagrangian).

CP-SAT's bound is the LP relaxation of the interval model, which may split an award over two
segments (half here, half there) and so fill every segment's leftover room exactly. Here the
relaxation keeps integrality inside a segment: a **pattern** of a segment is a set of (award,
length) chunks whose loads fit in the segment's room, and the LP chooses a convex combination
of patterns per segment (a Dantzig–Wolfe decomposition of the same problem, priced by a
knapsack dynamic programme). It is a relaxation of the scheduling problem of one instrument with
the people rule relaxed, so its value is an upper bound of that instrument's optimum; for a
group, the sum over its instruments is a bound of the group (people across instruments relaxed).

Why every feasible schedule of the instrument is a feasible point of the relaxation (with at
least its objective): every session lies in one base segment (a maximal free run of downtime,
maintenance and pins); the sessions of award a in segment g, of total length ℓ, form its chunk
(a, ℓ), with load ⌈(ℓ + c)/P⌉·P, at most the sum of the sessions' own loads; the chain
argument of docs/SOLVER.md "The bound" gives Σ loads ≤ room for the segment and for every
window W (a span in which some awards have all their fitting starts and runs in the segment:
the loads of those awards' chunks fit in W's room). Per award Σ ℓ ≤ remaining and the number
of segments used ≤ its slots. The chunk's value score × ℓ + preferred × min(ℓ, preferred free
shifts of the award in g) is at least what its sessions carry; the split penalty is left out
(it only subtracts). So the optimum of the instrument ≤ the LP optimum of the relaxation.

The bound returned is Lagrangian, hence valid at every iteration, not only at convergence: for
any multipliers μ_a, ν_a, σ_W ≥ 0 on the coupling rows (award length, award sessions, window
rooms), Σ_a (μ_a·remaining_a + ν_a·slots_a) + Σ_W σ_W·room_W + Σ_g max(0, best pattern of g
priced with those multipliers) bounds the relaxation from above. The multipliers are the
duals of the restricted master LP (GLOP); the pricing is exact (a multiple-choice knapsack
over integer loads). The best (least) value over the iterations is kept, rounded down.

Deterministic: GLOP and the dynamic programme are deterministic, columns are added in sorted
order and the iteration count is fixed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from app.scheduling.solver.greedy import Placements
from app.scheduling.solver.grid import AwardContext, Grid, people_of, popcount, run_from, span
from app.scheduling.solver.model import Session

MAX_ITERATIONS = 100


def _runs(mask: int) -> list[tuple[int, int]]:
    out = []
    i = 0
    while mask >> i:
        x = mask >> i
        a = i + (x & -x).bit_length() - 1
        y = ~(mask >> a)
        b = a + (y & -y).bit_length() - 1
        out.append((a, b))
        i = b
    return out


class _Segment:
    """Every (award, start, length) a session can take in one base segment [start, end)."""

    def __init__(self, start: int, end: int, options: list[tuple[int, int, int, int]], c_over: int) -> None:
        self.start, self.end = start, end
        options.sort(key=lambda o: (o[1], o[0], o[2]))  # by start, award, length
        self.award = np.array([o[0] for o in options], dtype=np.int64)
        self.begin = np.array([o[1] for o in options], dtype=np.int64)
        self.length = np.array([o[2] for o in options], dtype=np.int64)
        self.value = np.array([o[3] for o in options], dtype=np.float64)
        # where the next session may start: after this one and the changeover (clipped)
        self.next = np.minimum(self.begin + self.length + c_over, end) - start
        self.by_start: list[tuple[int, int]] = []  # (relative start, slice of options)
        i = 0
        while i < len(options):
            j = i
            while j < len(options) and options[j][1] == options[i][1]:
                j += 1
            self.by_start.append((options[i][1] - start, i, j))
            i = j


def instrument_bound(
    grid: Grid,
    contexts: Sequence[AwardContext],
    placements: Placements | None = None,
    *,
    iterations: int = MAX_ITERATIONS,
) -> int:
    """An upper bound of the best objective of `contexts` (all on one instrument), people relaxed."""
    return _generate(grid, contexts, placements, iterations)[0]


def instrument_columns(
    grid: Grid,
    contexts: Sequence[AwardContext],
    placements: Placements,
    *,
    iterations: int = MAX_ITERATIONS,
    deterministic_limit: float = 0.5,
    seed: int = 0,
) -> tuple[int, Placements | None]:
    """The bound of `contexts` (as `instrument_bound`) and a schedule of one instrument from the
    generated patterns (price and branch), or None.

    The patterns the column generation produced (the given schedule's among them) are exact
    layouts: each is a chain of sessions in one segment that keeps the calendar, the award's
    starts and free runs (its static mask: pass contexts with the people's other sessions folded
    in, as the LNS does) and the changeover. Choosing at most one per segment so that every award
    keeps its shifts and sessions is a 0-1 programme, solved with CP-SAT (one worker, a fixed
    seed and a deterministic limit: reproducible) and hinted with the given schedule. The people
    rule inside the instrument is checked on the result; the caller compares objectives.
    """
    bound, ctxs, segs, columns = _generate(grid, contexts, placements, iterations)
    if not columns:
        return bound, None
    w = grid.problem.weights
    model = cp_model.CpModel()
    by_seg: dict[int, list] = {}
    lengths: dict[int, list] = {}
    counts: dict[int, list] = {}
    terms = []
    given = {(s.award, s.start, s.length) for v in placements.values() for s in v}
    chosen = []
    for g, path in columns:
        seg = segs[g]
        x = model.new_bool_var("")
        chosen.append((x, g, path))
        by_seg.setdefault(g, []).append(x)
        value = 0
        for o in path:
            a = int(seg.award[o])
            lengths.setdefault(a, []).append(int(seg.length[o]) * x)
            counts.setdefault(a, []).append(x)
            value += int(seg.value[o]) - w.split
        terms.append(value * x)
        keys = {(ctxs[int(seg.award[o])].key, int(seg.begin[o]), int(seg.length[o])) for o in path}
        model.add_hint(x, int(keys == {k for k in given if seg.start <= k[1] < seg.end}))
    for g in sorted(by_seg):
        model.add(sum(by_seg[g]) <= 1)
    # the changeover also separates sessions of two segments when the gap between them is
    # shorter than it (what the changeover falls on does not matter): such columns exclude
    # each other
    c_over = grid.instruments[ctxs[0].instrument.key].changeover if ctxs else 0
    ends: dict[int, list] = {}
    firsts: dict[int, list] = {}
    for x, g, path in chosen:
        seg = segs[g]
        ends.setdefault(g, []).append((max(int(seg.begin[o] + seg.length[o]) for o in path), x))
        firsts.setdefault(g, []).append((min(int(seg.begin[o]) for o in path), x))
    for g in sorted(ends):
        for h in sorted(firsts):
            if h <= g or segs[h].start - segs[g].end >= c_over:
                continue
            for end, x in ends[g]:
                clash = [y for first, y in firsts[h] if first < end + c_over]
                if clash:
                    model.add(x + sum(clash) <= 1)
    for a in sorted(lengths):
        model.add(sum(lengths[a]) <= ctxs[a].remaining)
        model.add(sum(counts[a]) <= ctxs[a].slots)
    model.maximize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = deterministic_limit
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return bound, None
    out: Placements = {}
    for x, g, path in chosen:
        if solver.boolean_value(x):
            seg = segs[g]
            for o in path:
                ctx = ctxs[int(seg.award[o])]
                out.setdefault(ctx.key, []).append(
                    Session(ctx.instrument.key, int(seg.begin[o]), int(seg.length[o]), ctx.key)
                )
    # the people rule inside the instrument (sessions of one segment never overlap, but two
    # awards of one person could fall in two segments only apart; check anyway)
    busy: dict[str, list[tuple[int, int]]] = {}
    for key in sorted(out):
        out[key].sort(key=lambda s: s.start)
        ctx = next(c for c in ctxs if c.key == key)
        for p in people_of(ctx.award):
            busy.setdefault(p, []).extend((s.start, s.end) for s in out[key])
    for spans in busy.values():
        spans.sort()
        if any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False)):
            return bound, None
    return bound, out


def _generate(grid: Grid, contexts: Sequence[AwardContext], placements: Placements | None, iterations: int):
    """Column generation: (Lagrangian bound, contexts, segments, columns as (segment, path))."""
    ctxs = [c for c in sorted(contexts, key=lambda c: c.key) if c.starts and c.slots > 0]
    if not ctxs:
        return 0, ctxs, [], []
    inst = ctxs[0].instrument.key
    c_over = grid.instruments[inst].changeover
    w_pref = grid.problem.weights.preferred
    segs: list[_Segment] = []
    for ga, gb in _runs(~grid.base(inst) & span(0, grid.horizon)):
        options = []
        for i, ctx in enumerate(ctxs):
            fixed = ctx.slots == 1 and ctx.min_len == ctx.remaining
            for s in ctx.starts:
                if not ga <= s < gb:
                    continue
                room = min(run_from(ctx.static, s), gb - s, ctx.remaining)
                for length in [ctx.remaining] if fixed else range(ctx.min_len, room + 1):
                    if length <= room:
                        pref = popcount(ctx.preferred & span(s, s + length))
                        options.append((i, s, length, ctx.score * length + w_pref * pref))
        if options:
            segs.append(_Segment(ga, gb, options, c_over))
    if not segs:
        return 0, ctxs, [], []

    rem_int = [c.remaining for c in ctxs]
    slots_int = [c.slots for c in ctxs]
    rem = np.array(rem_int, dtype=np.float64)
    slots = np.array([c.slots for c in ctxs], dtype=np.float64)
    lp = pywraplp.Solver.CreateSolver("GLOP")
    conv = [lp.Add(lp.Sum([]) <= 1) for _ in segs]
    len_rows = [lp.Add(lp.Sum([]) <= float(r)) for r in rem]
    cnt_rows = [lp.Add(lp.Sum([]) <= float(s)) for s in slots]
    objective = lp.Objective()
    objective.SetMaximization()
    columns: set[tuple[int, tuple[int, ...]]] = set()
    order: list[tuple[int, tuple[int, ...]]] = []

    def add_column(g: int, path: tuple[int, ...]) -> bool:
        if not path or (g, path) in columns:
            return False
        columns.add((g, path))
        order.append((g, path))
        var = lp.NumVar(0.0, 1.0, "")
        seg = segs[g]
        conv[g].SetCoefficient(var, 1.0)
        lengths: dict[int, int] = {}
        counts: dict[int, int] = {}
        for o in path:
            a = int(seg.award[o])
            lengths[a] = lengths.get(a, 0) + int(seg.length[o])
            counts[a] = counts.get(a, 0) + 1
        for a in sorted(lengths):
            len_rows[a].SetCoefficient(var, float(lengths[a]))
            cnt_rows[a].SetCoefficient(var, float(counts[a]))
        objective.SetCoefficient(var, float(seg.value[list(path)].sum()))
        return True

    if placements:  # the given schedule's sessions, segment by segment, as the first columns
        index = {c.key: i for i, c in enumerate(ctxs)}
        for g, seg in enumerate(segs):
            path = []
            for key in sorted(placements):
                for s in placements[key]:
                    if key in index and seg.start <= s.start < seg.end:
                        hit = np.nonzero((seg.award == index[key]) & (seg.begin == s.start) & (seg.length == s.length))[
                            0
                        ]
                        if len(hit):
                            path.append(int(hit[0]))
            add_column(g, tuple(sorted(path)))

    best = math.inf
    mu = np.zeros(len(ctxs))
    nu = np.zeros(len(ctxs))
    for _ in range(iterations):
        if columns:
            if lp.Solve() != pywraplp.Solver.OPTIMAL:
                break
            mu = np.array([max(0.0, r.dual_value()) for r in len_rows])
            nu = np.array([max(0.0, r.dual_value()) for r in cnt_rows])
            pi = [max(0.0, r.dual_value()) for r in conv]
        else:
            pi = [0.0] * len(segs)
        bound = float(mu @ rem + nu @ slots)
        paths = []
        for seg in segs:
            value, path = _price(seg, mu, nu)
            bound += max(0.0, value)
            paths.append((value, path))
        best = min(best, bound)
        added = False
        for g, (value, path) in enumerate(paths):
            if value > pi[g] + 1e-6:
                added = add_column(g, path) or added
                fixed = _repair(segs[g], mu, nu, path, rem_int, slots_int)
                if fixed is not None:
                    add_column(g, fixed)
        if not added:
            break
    return math.floor(best + 1e-6), ctxs, segs, order


def _price(seg: _Segment, mu: np.ndarray, nu: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """The most valuable chain of sessions in the segment under the multipliers (a longest path
    over time: a session may start at t if it is one of its award's allowed starts, and the next
    one starts after its end and the changeover). An award may recur in the chain: that is a
    relaxation (the master's rows price it), and `_repair` makes a chain without it."""
    return _chain(seg, seg.value - mu[seg.award] * seg.length - nu[seg.award])


def _repair(
    seg: _Segment, mu: np.ndarray, nu: np.ndarray, path: tuple[int, ...], remaining: list[int], slots: list[int]
) -> tuple[int, ...] | None:
    """A chain like `path` in which no award takes more shifts or sessions than it has: an award
    that does is kept only at the start of its first session there, and the chain is priced again
    (each round settles at least one award)."""
    adj = seg.value - mu[seg.award] * seg.length - nu[seg.award]
    for _ in range(12):
        lengths: dict[int, int] = {}
        counts: dict[int, int] = {}
        first: dict[int, int] = {}
        for o in path:
            a = int(seg.award[o])
            lengths[a] = lengths.get(a, 0) + int(seg.length[o])
            counts[a] = counts.get(a, 0) + 1
            first.setdefault(a, int(seg.begin[o]))
        over = [a for a in sorted(lengths) if lengths[a] > remaining[a] or counts[a] > slots[a]]
        if not over:
            return path
        for a in over:
            adj = np.where((seg.award == a) & (seg.begin != first[a]), -np.inf, adj)
        path = _chain(seg, adj)[1]
    return None


def _chain(seg: _Segment, adj: np.ndarray) -> tuple[float, tuple[int, ...]]:
    size = seg.end - seg.start
    f = np.zeros(size + 1)
    take = np.full(size + 1, -1, dtype=np.int64)
    k = len(seg.by_start) - 1
    for t in range(size - 1, -1, -1):
        f[t] = f[t + 1]
        if k >= 0 and seg.by_start[k][0] == t:
            _, i, j = seg.by_start[k]
            cand = adj[i:j] + f[seg.next[i:j]]
            best = int(np.argmax(cand))
            if cand[best] > f[t] + 1e-9:
                f[t] = cand[best]
                take[t] = i + best
            k -= 1
    path = []
    t = 0
    while t < size:
        if take[t] >= 0:
            path.append(int(take[t]))
            t = int(seg.next[take[t]])
        else:
            t += 1
    return float(f[0]), tuple(path)
