"""An independent checker of the solver's hard rules, written from the rules, not from the solver.

It deliberately shares no code with `app.scheduling.solver` beyond the dataclasses: plain sets
and pairwise comparisons, slow and obvious.
"""

from __future__ import annotations

from itertools import combinations

from app.scheduling.solver import Problem, Solution


def violations(problem: Problem, solution: Solution) -> list[str]:
    out: list[str] = []
    awards = {a.key: a for a in problem.awards}
    instruments = {i.key: i for i in problem.instruments}
    spd = problem.shifts_per_day

    def weekday(i: int) -> int:
        return problem.weekdays[i] if problem.weekdays else (i // spd) % 7

    def start_position(i: int) -> int:
        return problem.positions[i] if problem.positions else i % spd

    per_award: dict[str, list] = {}
    for s in solution.sessions:
        a = awards.get(s.award)
        if a is None:
            out.append(f"{s}: unknown award")
            continue
        per_award.setdefault(a.key, []).append(s)
        inst = instruments[a.instrument]
        if s.instrument != a.instrument:
            out.append(f"{s}: on {s.instrument}, award is for {a.instrument}")
        if s.length < 1 or s.start < 0 or s.start + s.length > problem.horizon:
            out.append(f"{s}: outside the cycle")
            continue
        shifts = set(range(s.start, s.start + s.length))
        if shifts & set(problem.downtime):
            out.append(f"{s}: in downtime")
        if shifts & set(inst.unavailable):
            out.append(f"{s}: in the instrument's unavailable shifts")
        if shifts & set(a.unacceptable):
            out.append(f"{s}: in the team's unacceptable shifts")
        if a.mode is not None and any(not problem.modes or problem.modes[i] != a.mode for i in shifts):
            out.append(f"{s}: a shift not in mode {a.mode}")
        if inst.start_shifts is not None and start_position(s.start) not in inst.start_shifts:
            out.append(f"{s}: start shift not allowed")
        if inst.weekdays is not None and weekday(s.start) not in inst.weekdays:
            out.append(f"{s}: start weekday not allowed")

    for key, sessions in per_award.items():
        a = awards[key]
        inst = instruments[a.instrument]
        pins = [p for p in problem.pins if p.award == key]
        total = sum(s.length for s in sessions) + sum(p.length for p in pins)
        if total > a.shifts:
            out.append(f"{key}: {total} shifts placed, {a.shifts} awarded")
        if len(sessions) + len(pins) > a.max_sessions:
            out.append(f"{key}: {len(sessions) + len(pins)} sessions, at most {a.max_sessions}")
        minimum = min(max(a.min_session, inst.min_session), a.shifts)
        for s in sessions:
            if s.length < minimum:
                out.append(f"{s}: shorter than the minimum {minimum}")

    # occupants: (instrument, start, end, people, is_pin, label)
    occupants = []
    for s in solution.sessions:
        a = awards.get(s.award)
        if a is not None:
            people = {p for p in (a.pi, a.local_contact) if p is not None}
            occupants.append((s.instrument, s.start, s.start + s.length, people, False, repr(s)))
    for p in problem.pins:
        people = {x for x in (p.pi, p.local_contact) if x is not None}
        occupants.append((p.instrument, p.start, p.start + p.length, people, True, repr(p)))
    for x, y in combinations(occupants, 2):
        if x[4] and y[4]:
            continue  # two pins: existing bookings, not the solver's doing
        if x[0] == y[0]:
            c = instruments[x[0]].changeover
            if not (x[2] + c <= y[1] or y[2] + c <= x[1]):
                out.append(f"overlap on {x[0]} (changeover {c}): {x[5]} and {y[5]}")
        if x[3] & y[3] and not (x[2] <= y[1] or y[2] <= x[1]):
            out.append(f"person {sorted(x[3] & y[3])} in two places: {x[5]} and {y[5]}")

    # the report: unplaced lists exactly the awards not fully placed, with what was placed
    placed = {k: sum(s.length for s in v) for k, v in per_award.items()}
    for p in problem.pins:
        if p.award is not None:
            placed[p.award] = placed.get(p.award, 0) + p.length
    short = {a.key for a in problem.awards if placed.get(a.key, 0) < a.shifts}
    reported = {u.award: u for u in solution.unplaced}
    if set(reported) != short:
        out.append(f"unplaced report {sorted(reported)} != awards not fully placed {sorted(short)}")
    for key, u in reported.items():
        if key in awards and (u.placed != placed.get(key, 0) or u.missing != awards[key].shifts - u.placed):
            out.append(f"{key}: reported placed {u.placed}/{u.missing}, actually {placed.get(key, 0)}")
    if objective(problem, solution) != solution.objective:
        out.append(f"objective {solution.objective} != recomputed {objective(problem, solution)}")
    return out


def objective(problem: Problem, solution: Solution) -> int:
    """The documented objective, computed from the sessions directly."""
    w = problem.weights
    awards = {a.key: a for a in problem.awards}
    total = 0
    count: dict[str, int] = {}
    for s in solution.sessions:
        a = awards[s.award]
        shifts = set(range(s.start, s.start + s.length))
        total += round(a.score * w.score_scale) * s.length + w.preferred * len(shifts & set(a.preferred))
        count[a.key] = count.get(a.key, 0) + 1
    for key, new in count.items():
        pinned = sum(1 for p in problem.pins if p.award == key)
        total -= w.split * (max(0, pinned + new - 1) - max(0, pinned - 1))
    return total


def optimum(problem: Problem) -> int:
    """The best objective of any schedule that keeps the hard rules, by exhaustive search.

    For tiny problems only (a dozen shifts, a few awards): every award's possible sets of
    sessions are enumerated from the rules, and every combination is tried. It checks that the
    solver's bound is a bound and that an OPTIMAL status means optimal.
    """
    w = problem.weights
    instruments = {i.key: i for i in problem.instruments}
    spd = problem.shifts_per_day

    def weekday(i: int) -> int:
        return problem.weekdays[i] if problem.weekdays else (i // spd) % 7

    def start_position(i: int) -> int:
        return problem.positions[i] if problem.positions else i % spd

    pins = [
        (p.instrument, p.start, p.start + p.length, {x for x in (p.pi, p.local_contact) if x is not None})
        for p in problem.pins
    ]

    def clash(x, y) -> bool:
        if x[0] == y[0]:
            c = instruments[x[0]].changeover
            if not (x[2] + c <= y[1] or y[2] + c <= x[1]):
                return True
        return bool(x[3] & y[3]) and not (x[2] <= y[1] or y[2] <= x[1])

    options = []  # per award: [(value, [occupants])]
    for a in problem.awards:
        inst = instruments[a.instrument]
        people = {p for p in (a.pi, a.local_contact) if p is not None}
        pinned = [p for p in problem.pins if p.award == a.key]
        left = a.shifts - sum(p.length for p in pinned)
        minimum = min(max(a.min_session, inst.min_session), a.shifts)
        single = []
        for start in range(problem.horizon):
            if inst.start_shifts is not None and start_position(start) not in inst.start_shifts:
                continue
            if inst.weekdays is not None and weekday(start) not in inst.weekdays:
                continue
            for length in range(minimum, left + 1):
                shifts = set(range(start, start + length))
                if start + length > problem.horizon or shifts & (
                    set(problem.downtime) | set(inst.unavailable) | set(a.unacceptable)
                ):
                    break
                if a.mode is not None and any(not problem.modes or problem.modes[i] != a.mode for i in shifts):
                    break
                occ = (a.instrument, start, start + length, people)
                if any(clash(occ, p) for p in pins):
                    continue
                value = round(a.score * w.score_scale) * length + w.preferred * len(shifts & set(a.preferred))
                single.append((value, length, occ))
        mine = _session_sets(single, left, len(pinned), a.max_sessions, w.split, clash)
        options.append(mine)

    best = 0

    def search(i, chosen, value):
        nonlocal best
        if i == len(options):
            best = max(best, value)
            return
        for v, sessions in options[i]:
            if all(not clash(s, o) for s in sessions for o in chosen):
                search(i + 1, chosen + sessions, value + v)

    search(0, [], 0)
    return best


def _session_sets(single, left: int, pinned: int, max_sessions: int, split: int, clash) -> list:
    """Every set of non-clashing sessions of one award within its shifts and sessions, valued."""
    out = [(0, [])]
    stack = [([], 0, 0, 0)]  # chosen, shifts, value before the split penalty, next index
    while stack:
        chosen, total, value, i = stack.pop()
        for j in range(i, len(single)):
            v, length, occ = single[j]
            if total + length > left or any(clash(occ, o) for o in chosen):
                continue
            sessions = [*chosen, occ]
            out.append((value + v - split * _extra(pinned, len(sessions)), sessions))
            if pinned + len(sessions) < max_sessions:
                stack.append((sessions, total + length, value + v, j + 1))
    return out


def _extra(pinned: int, new: int) -> int:
    return max(0, pinned + new - 1) - max(0, pinned - 1)
