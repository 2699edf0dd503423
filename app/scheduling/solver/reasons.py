"""Why an award was not fully placed: a code with parameters, found by adding one constraint at a time.

Judged on the final schedule. For an award that got something but used all its sessions (or
whose remainder is below its minimum session): `split_limit`. Otherwise the cascade asks
whether one more session of the minimum length could start anywhere:

1. on the instrument's calendar (downtime, maintenance, pins)       → no_window
2. … in the award's operating mode                                   → mode_unavailable
3. … outside the team's unacceptable shifts                          → unacceptable_dates
4. … besides the other sessions on the instrument (with changeover)  → capacity_used
5. … when the PI and the local contact are free                      → person_busy
6. it could, but adding it would lower the objective (a split penalty
   above the value of a low-scored award's shifts)                    → objective_tradeoff
"""

from __future__ import annotations

from collections.abc import Sequence

from app.scheduling.solver.greedy import Occupancy
from app.scheduling.solver.grid import AwardContext, Grid, mask_of, run_from, span
from app.scheduling.solver.model import Session, Unplaced


def explain(grid: Grid, ctx: AwardContext, occ: Occupancy, own: Sequence[Session]) -> Unplaced:
    award = ctx.award
    inst = award.instrument
    placed = ctx.pinned_shifts + sum(s.length for s in own)
    missing = award.shifts - placed
    left = ctx.remaining - sum(s.length for s in own)
    used = ctx.pinned_sessions + len(own)
    need = ctx.min_len

    def result(code: str, **params: object) -> Unplaced:
        return Unplaced(award.key, placed, missing, code, tuple(sorted(params.items())))

    if placed > 0 and (used >= award.max_sessions or left < need):
        return result("split_limit", max_sessions=award.max_sessions, min_session=need, sessions=used)

    def fits(forbidden: int) -> list[int]:
        return grid.fitting_starts(inst, forbidden, need)

    f = grid.base(inst)
    if not fits(f):
        return result("no_window", needed=need, longest=grid.longest(inst, f))
    if award.mode is not None:
        f |= grid.not_mode(award.mode)
        if not fits(f):
            return result("mode_unavailable", mode=award.mode, needed=need)
    f |= mask_of(award.unacceptable, grid.horizon)
    candidates = fits(f)
    if not candidates:
        return result("unacceptable_dates", needed=need)
    team_free = f
    f |= occ.inst_mask(inst)
    if not fits(f):
        window = 0
        for s in candidates:
            window |= span(s, s + run_from(team_free, s))
        c = ctx.instrument.changeover
        mine = {id(s) for s in own}
        blockers = [s for s in occ.sessions_on(inst) if id(s) not in mine and window & span(s.start - c, s.end + c)]
        keys = sorted({s.award for s in blockers}, key=lambda k: (-occ.contexts[k].award.score, k))
        higher = sum(1 for k in keys if occ.contexts[k].award.score >= award.score)
        return result("capacity_used", needed=need, by=tuple(keys[:5]), awards=len(keys), higher_ranked=higher)
    for role, person in (("pi", award.pi), ("local_contact", award.local_contact)):
        if person is None:
            continue
        if not fits(f | occ.person_mask(person) | grid.pin_busy.get(person, 0)):
            return result("person_busy", person=person, role=role, needed=need)
    both = f
    for person in (award.pi, award.local_contact):
        if person is not None:
            both |= occ.person_mask(person) | grid.pin_busy.get(person, 0)
    if not fits(both):
        return result("person_busy", person=award.pi or "", role="pi_and_local_contact", needed=need)
    return result("objective_tradeoff", needed=need)
