"""Segment repacking: each free segment of an instrument re-filled as a knapsack.

Greedy by score and insertion with ejection leave holes: a segment of 40 shifts holding 9 + 12
+ 11 keeps 8 shifts no award of the right size was tried in. Here, for every free segment of
an instrument (between downtime, maintenance and pins), the single-session awards placed in it
and those placed nowhere form a pool; a knapsack over the segment's room (dynamic programming,
lengths rounded up to the start grid with the changeover) chooses the most valuable subset,
which is then laid out from the left, earliest deadline first, each at its earliest allowed
start (its own calendar, the team's dates, the people's other sessions). The new layout is
kept only when it carries more than the old one, so the pass never lowers the objective.
Sessions of multi-session awards stay where they are and are obstacles.

Deterministic: sorted iteration, no randomness.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import permutations

import numpy as np

from app.scheduling.solver.greedy import Occupancy, Placements
from app.scheduling.solver.grid import AwardContext, Grid, run_from, session_value, span
from app.scheduling.solver.model import Session


def _runs(mask: int) -> list[tuple[int, int]]:
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


def repack(grid: Grid, contexts: Sequence[AwardContext], placements: Placements, period: dict[str, int]) -> Placements:
    """A schedule at least as good as `placements` (same group), segments repacked."""
    w = grid.problem.weights
    out, occ, all_shifts, pools = _start(grid, contexts, placements)
    for inst_key, pool_all in pools:
        c_over = grid.instruments[inst_key].changeover
        step = period.get(inst_key, 1)
        for ga, gb in _runs(~grid.base(inst_key) & all_shifts):
            window = span(ga, gb)
            mine = [c for c in pool_all if out.get(c.key) and ga <= out[c.key][0].start < gb]
            free = [c for c in pool_all if not out.get(c.key) and any(ga <= s < gb for s in c.starts)]
            if not mine and not free:
                continue
            old = sum(session_value(c, out[c.key], w.preferred, w.split) for c in mine)
            for c in mine:
                for s in out[c.key]:
                    occ.remove(s)
            pool = sorted(mine + free, key=lambda c: (-c.score, c.key))
            # what each pool award could get in the segment now (its calendar, people, obstacles)
            cands = _candidates(pool, occ, ga, gb, all_shifts & ~window)
            first = min((f[2][0] for f in cands), default=ga)
            room = gb - first + step - 1 + c_over
            chosen = _knapsack(cands, room, c_over, step, w.split)
            new_sessions = _layout(chosen, occ)
            new = sum(session_value(c, [s], w.preferred, w.split) for c, s in new_sessions)
            if new > old:
                for c in mine:
                    out.pop(c.key, None)
                for c, s in new_sessions:
                    out[c.key] = [s]
            else:
                for _, s in new_sessions:
                    occ.remove(s)
                for c in mine:
                    for s in out[c.key]:
                        occ.add(s)
    return {k: v for k, v in out.items() if v}


def _candidates(pool: Sequence[AwardContext], occ: Occupancy, ga: int, gb: int, outside: int) -> list:
    """(award, forbidden, fitting starts in [ga, gb), longest session there) for each award that fits."""
    out = []
    for c in pool:
        lo, hi = bisect_left(c.starts, ga), bisect_left(c.starts, gb)
        if lo == hi:
            continue
        forbidden = occ.forbidden(c) | outside
        runs = [(s, run_from(forbidden, s)) for s in c.starts[lo:hi]]
        fits = [s for s, r in runs if r >= c.min_len]
        if fits:
            out.append((c, forbidden, fits, min(c.remaining, max(r for _, r in runs))))
    return out


def _knapsack(
    cands, room: int, c_over: int, step: int, split: int
) -> list[tuple[AwardContext, object, list[int], int]]:
    """The most valuable subset (with a length each) whose rounded loads fit in `room`."""
    if room <= 0 or not cands:
        return []
    dp = np.zeros(room + 1, dtype=np.int64)
    took: list[np.ndarray] = []
    for c, _, _, longest in cands:
        lengths = [c.min_len] if c.min_len == c.remaining else list(range(c.min_len, longest + 1))
        new = dp.copy()
        pick = np.zeros(room + 1, dtype=np.int64)
        extra = split if c.pinned_sessions >= 1 else 0
        for length in lengths:
            if length > longest:
                break
            load = -(-(length + c_over) // step) * step
            if load > room:
                break
            cand = dp[: room + 1 - load] + (c.score * length - extra)
            better = cand > new[load:]
            new[load:] = np.where(better, cand, new[load:])
            pick[load:] = np.where(better, length, pick[load:])
        took.append(pick)
        dp = new
    chosen = []
    r = room
    for i in range(len(cands) - 1, -1, -1):
        length = int(took[i][r])
        if length:
            c, forbidden, fits, _ = cands[i]
            chosen.append((c, forbidden, fits, length))
            r -= -(-(length + c_over) // step) * step
    return chosen


PERMUTE_UP_TO = 5  # chosen awards: every order is tried when the three below fail
LAYOUT_ORDERS = (
    lambda t: (t[2][-1], -t[3], t[0].key),  # earliest last start first
    lambda t: (-t[3], t[0].key),  # longest first
    lambda t: (t[2][0], -t[3], t[0].key),  # earliest first start first
)


def _layout(chosen, occ: Occupancy) -> list[tuple[AwardContext, Session]]:
    """Lay the chosen awards out from the left, each at its earliest start, in the order (of
    three, then every order of up to PERMUTE_UP_TO) that places the most value; what no longer
    fits is dropped. The chosen awards share one instrument, so a placed session blocks the
    others by its span plus the changeover on both sides (which covers their people too)."""
    if not chosen:
        return []
    c_over = chosen[0][0].instrument.changeover
    base = [occ.forbidden(c) | forbidden0 for c, forbidden0, _, _ in chosen]
    index = range(len(chosen))
    orders = [sorted(index, key=lambda i, o=order: o(chosen[i])) for order in LAYOUT_ORDERS]
    if len(chosen) <= PERMUTE_UP_TO:
        orders += [list(p) for p in permutations(orders[0])]
    best: list[tuple[int, int]] = []
    best_value = -1
    for sequence in orders:
        block = 0
        placed: list[tuple[int, int]] = []  # (chosen index, start)
        for i in sequence:
            c, _, fits, length = chosen[i]
            forbidden = base[i] | block
            for start in fits:
                if run_from(forbidden, start) >= length:
                    placed.append((i, start))
                    block |= span(start - c_over, start + length + c_over)
                    break
        value = sum(chosen[i][0].score * chosen[i][3] for i, _ in placed)
        if value > best_value:
            best, best_value = placed, value
        if len(placed) == len(chosen):
            break
    out = []
    for i, start in best:
        c, _, _, length = chosen[i]
        session = Session(c.instrument.key, start, length, c.key)
        occ.add(session)
        out.append((c, session))
    return out


def repack_all(
    grid: Grid, contexts: Sequence[AwardContext], placements: Placements, period: dict[str, int]
) -> Placements:
    """Every segment of an instrument refilled in turn from one pool of single-session awards.

    The segments are taken in three orders (smallest room first, largest first, left to right);
    each takes the knapsack-best subset of what the pool still holds. An instrument keeps the
    new layout only when it carries more than the old one.
    """
    w = grid.problem.weights
    out, occ, all_shifts, pools = _start(grid, contexts, placements)
    for inst_key, pool_all in pools:
        c_over = grid.instruments[inst_key].changeover
        step = period.get(inst_key, 1)
        mine = [c for c in pool_all if out.get(c.key)]
        old = sum(session_value(c, out[c.key], w.preferred, w.split) for c in mine)
        for c in mine:
            for s in out[c.key]:
                occ.remove(s)
        # the free runs left by the sessions that stay (multi-session awards), changeover included
        segments = _runs(~(grid.base(inst_key) | occ.inst_mask(inst_key)) & all_shifts)
        best_value, best_layout = old, None
        orders = (
            sorted(segments, key=lambda g: (g[1] - g[0], g[0])),
            sorted(segments, key=lambda g: (g[0] - g[1], g[0])),
            segments,
        )
        for order in orders:
            left = sorted(pool_all, key=lambda c: (-c.score, c.key))
            layout: list[tuple[AwardContext, Session]] = []
            for ga, gb in order:
                cands = _candidates(left, occ, ga, gb, all_shifts & ~span(ga, gb))
                if not cands:
                    continue
                first = min(f[2][0] for f in cands)
                room = gb - first + step - 1 + c_over
                placed = _layout(_knapsack(cands, room, c_over, step, w.split), occ)
                layout += placed
                used = {c.key for c, _ in placed}
                left = [c for c in left if c.key not in used]
            value = sum(session_value(c, [s], w.preferred, w.split) for c, s in layout)
            for _, s in layout:
                occ.remove(s)
            if value > best_value:
                best_value, best_layout = value, layout
        if best_layout is None:
            for c in mine:
                for s in out[c.key]:
                    occ.add(s)
            continue
        for c in mine:
            out.pop(c.key, None)
        for c, s in best_layout:
            out[c.key] = [s]
            occ.add(s)
    return {k: v for k, v in out.items() if v}


def _start(grid: Grid, contexts: Sequence[AwardContext], placements: Placements):
    """What both repack passes start from: the schedule sorted by start, its occupancy, the
    whole horizon as a mask, and per instrument (in key order) its pool of single-session
    awards (their whole value lies in one segment), instruments without one left out."""
    by_key = {c.key: c for c in contexts}
    out: Placements = {k: sorted(v, key=lambda s: s.start) for k, v in sorted(placements.items()) if v}
    occ = Occupancy(grid, by_key)
    for v in out.values():
        for s in v:
            occ.add(s)
    per_inst: dict[str, list[AwardContext]] = {}
    for c in sorted(contexts, key=lambda c: c.key):
        if c.slots >= 1 and c.starts and c.score > 0:
            per_inst.setdefault(c.instrument.key, []).append(c)
    pools = []
    for inst_key in sorted(per_inst):
        pool = [c for c in per_inst[inst_key] if c.sessions_left == 1 or c.remaining < 2 * c.min_len]
        if pool:
            pools.append((inst_key, pool))
    return out, occ, span(0, grid.horizon), pools
