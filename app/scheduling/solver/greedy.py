"""Greedy by score: the baseline, the fallback, CP-SAT's hint, and the final fill pass.

Awards are taken by score (highest first, then key). Each gets, while it has shifts and
sessions left, the longest session that fits now (ties: most preferred shifts, then earliest
start), as long as the session adds value (a split penalty can outweigh a few shifts of a
low-scored award).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from app.scheduling.solver.grid import AwardContext, Grid, people_of, popcount, run_from, span
from app.scheduling.solver.model import Session

Placements = dict[str, list[Session]]


class Occupancy:
    """Sessions by instrument and by person, with their masks cached.

    An instrument's mask blocks [start − changeover, end + changeover) around each session, so
    a new session that avoids it keeps the changeover on both sides.
    """

    def __init__(self, grid: Grid, contexts: Mapping[str, AwardContext]) -> None:
        self.grid = grid
        self.contexts = contexts
        self._inst: dict[str, list[Session]] = {}
        self._person: dict[str, list[Session]] = {}
        self._inst_mask: dict[str, int] = {}
        self._person_mask: dict[str, int] = {}

    def inst_mask(self, key: str) -> int:
        if key not in self._inst_mask:
            c = self.grid.instruments[key].changeover
            m = 0
            for s in self._inst.get(key, ()):
                m |= span(s.start - c, s.end + c)
            self._inst_mask[key] = m
        return self._inst_mask[key]

    def person_mask(self, person: str) -> int:
        if person not in self._person_mask:
            m = 0
            for s in self._person.get(person, ()):
                m |= span(s.start, s.end)
            self._person_mask[person] = m
        return self._person_mask[person]

    def forbidden(self, ctx: AwardContext) -> int:
        m = ctx.static | self.inst_mask(ctx.instrument.key)
        for p in people_of(ctx.award):
            m |= self.person_mask(p)
        return m

    def add(self, session: Session) -> None:
        ctx = self.contexts[session.award]
        key = ctx.instrument.key
        self._inst.setdefault(key, []).append(session)
        self._inst_mask.pop(key, None)
        for p in people_of(ctx.award):
            self._person.setdefault(p, []).append(session)
            self._person_mask.pop(p, None)

    def remove(self, session: Session) -> None:
        ctx = self.contexts[session.award]
        key = ctx.instrument.key
        self._inst[key].remove(session)
        self._inst_mask.pop(key, None)
        for p in people_of(ctx.award):
            self._person[p].remove(session)
            self._person_mask.pop(p, None)

    def sessions_on(self, instrument: str) -> list[Session]:
        return list(self._inst.get(instrument, ()))

    def sessions_of(self, person: str) -> list[Session]:
        return list(self._person.get(person, ()))


def by_score(contexts: Iterable[AwardContext]) -> list[AwardContext]:
    return sorted(contexts, key=lambda c: (-c.award.score, c.key))


def best_session(ctx: AwardContext, forbidden: int, want: int, best_fit: bool = False) -> tuple[int, int, int] | None:
    """(start, length, preferred shifts) of the best session of at most `want` shifts, or None.

    Longest first, then most preferred shifts; then the earliest start (first fit) or, with
    `best_fit`, the start in the tightest free run (least room wasted around it), then earliest.
    """
    best: tuple[int, int, int] | None = None
    best_key: tuple[int, int, int] = (0, 0, 0)
    has_pref = ctx.preferred != 0
    for s in ctx.starts:
        if (forbidden >> s) & 1:
            continue
        run = run_from(forbidden, s)
        length = min(run, want)
        if length < ctx.min_len or length < best_key[0]:
            continue
        pref = popcount(ctx.preferred & span(s, s + length)) if has_pref else 0
        waste = 0
        if best_fit:
            run_start = (forbidden & ((1 << s) - 1)).bit_length()
            waste = s + run - run_start - length
        key = (length, pref, -waste)
        if key > best_key or best is None:
            best, best_key = (s, length, pref), key
            if length == want and (not has_pref or pref == length) and waste == 0:
                break
    return best


def place_award(
    ctx: AwardContext, occ: Occupancy, placed: list[Session], w_pref: int, w_split: int, best_fit: bool = False
) -> None:
    """Add sessions for `ctx` to `placed` (and to `occ`) while they add value."""
    remaining = ctx.remaining - sum(s.length for s in placed)
    while remaining >= ctx.min_len and len(placed) < ctx.sessions_left:
        found = best_session(ctx, occ.forbidden(ctx), remaining, best_fit)
        if found is None:
            return
        start, length, pref = found
        extra = 1 if ctx.pinned_sessions + len(placed) >= 1 else 0
        if ctx.score * length + w_pref * pref - w_split * extra <= 0:
            return
        session = Session(ctx.instrument.key, start, length, ctx.key)
        placed.append(session)
        occ.add(session)
        remaining -= length


def greedy(grid: Grid, contexts: Sequence[AwardContext], best_fit: bool = False) -> Placements:
    """Greedy by score over `contexts` (one group or the whole problem); first fit is the baseline."""
    return fill(grid, contexts, {}, best_fit)


def fill(grid: Grid, contexts: Sequence[AwardContext], placements: Placements, best_fit: bool = False) -> Placements:
    """Extend sessions to the right and add sessions where room is left, by score.

    Never lowers the objective: an extension adds score × shifts ≥ 0 and keeps every
    preferred shift; a new session is only added when it adds value. From no placements this
    is the greedy schedule.
    """
    w = grid.problem.weights
    by_key = {c.key: c for c in contexts}
    occ = Occupancy(grid, by_key)
    out: Placements = {}
    for key in sorted(placements):
        out[key] = sorted(placements[key], key=lambda s: s.start)
        for s in out[key]:
            occ.add(s)
    for ctx in by_score(contexts):
        placed = out.get(ctx.key, [])
        remaining = ctx.remaining - sum(s.length for s in placed)
        if remaining < 1 or ctx.score <= 0:
            continue
        for i, session in enumerate(placed):
            if remaining <= 0:
                break
            occ.remove(session)
            longer = min(run_from(occ.forbidden(ctx), session.start), session.length + remaining)
            if longer > session.length:
                remaining -= longer - session.length
                session = Session(session.instrument, session.start, longer, session.award)
                placed[i] = session
            occ.add(session)
        place_award(ctx, occ, placed, w.preferred, w.split, best_fit)
        if placed:
            out[ctx.key] = placed
    return out
