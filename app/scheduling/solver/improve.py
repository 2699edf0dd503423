"""Insertion with ejection: a deterministic local search run on the best schedule of a group.

For each award that got nothing (by score), try every feasible start on its instrument: the
sessions in the way (changeover included) are ejected if the award there is worth more than
what they carried; the ejected awards are then placed again wherever room is left (best fit).
A move is only taken when it raises the objective, so the pass never lowers it. It repairs what
greedy by score cannot see — a long award kept out by the fragments short ones left — in
milliseconds, where CP-SAT on 70 instruments has a fraction of a second each.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from app.scheduling.solver.greedy import Occupancy, Placements, by_score, place_award
from app.scheduling.solver.grid import AwardContext, Grid, people_of, run_from, session_value
from app.scheduling.solver.model import Session


def improve(grid: Grid, contexts: Sequence[AwardContext], placements: Placements, rounds: int = 2) -> Placements:
    w = grid.problem.weights
    by_key = {c.key: c for c in contexts}
    out: Placements = {k: sorted(v, key=lambda s: s.start) for k, v in sorted(placements.items()) if v}
    occ = Occupancy(grid, by_key)
    for v in out.values():
        for s in v:
            occ.add(s)

    def value(ctx: AwardContext, sessions: Sequence[Session]) -> int:
        return session_value(ctx, sessions, w.preferred, w.split) if sessions else 0

    for _ in range(rounds):
        moved = False
        for ctx in by_score(contexts):
            if out.get(ctx.key) or ctx.score <= 0:
                continue
            inst = ctx.instrument.key
            c = ctx.instrument.changeover
            on_inst = sorted(occ.sessions_on(inst), key=lambda s: s.start)
            starts = [s.start for s in on_inst]
            best: tuple[int, int, int, list[Session]] | None = None  # gain, start, length, ejected
            for s in ctx.starts:
                length = min(run_from(ctx.static, s), ctx.remaining)
                lo, hi = s - c, s + length + c
                i = max(0, bisect_left(starts, lo) - 1)
                ejected = []
                while i < len(on_inst) and on_inst[i].start < hi:
                    if on_inst[i].end > lo:
                        ejected.append(on_inst[i])
                    i += 1
                if not ejected:
                    continue  # room there already: fill would have used it
                if not _people_free(ctx, occ, s, s + length, ejected):
                    continue
                loss = 0
                for award_key in sorted({e.award for e in ejected}):
                    mine = out[award_key]
                    kept = [x for x in mine if x not in ejected]
                    loss += value(by_key[award_key], mine) - value(by_key[award_key], kept)
                gain = value(ctx, [Session(inst, s, length, ctx.key)]) - loss
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, s, length, ejected)
            if best is None:
                continue
            _, s, length, ejected = best
            for e in ejected:
                occ.remove(e)
                out[e.award] = [x for x in out[e.award] if x != e]
            session = Session(inst, s, length, ctx.key)
            occ.add(session)
            out[ctx.key] = [session]
            for award_key in sorted({e.award for e in ejected}, key=lambda k: (-by_key[k].award.score, k)):
                placed = out[award_key]
                place_award(by_key[award_key], occ, placed, w.preferred, w.split, best_fit=True)
                placed.sort(key=lambda x: x.start)
            moved = True
        if not moved:
            break
    return {k: v for k, v in out.items() if v}


def _people_free(ctx: AwardContext, occ: Occupancy, start: int, end: int, ejected: list[Session]) -> bool:
    for p in people_of(ctx.award):
        for other in occ.sessions_of(p):
            if other.start < end and start < other.end and other not in ejected:
                return False
    return True
