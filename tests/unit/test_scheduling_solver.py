"""The scheduling solver: hard rules (independent validator), reasons, determinism, purity."""

from __future__ import annotations

import ast
import importlib
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scheduling.solver import (
    Award,
    Instrument,
    Pin,
    Problem,
    ProblemError,
    Solution,
    Weights,
    deterministic_time_for,
    greedy_solution,
    solve,
)
from tests.unit.scheduling_validator import objective, optimum, violations

FAST = {"deterministic_limit": 0.2, "wall_cap": 10.0}


def only(problem: Problem, key: str):
    sol = solve(problem, **FAST)
    assert violations(problem, sol) == []
    return sol, {u.award: u for u in sol.unplaced}.get(key)


def test_places_sessions_on_consecutive_free_shifts_with_changeover():
    problem = Problem(
        horizon=12,
        instruments=(Instrument("A", changeover=1),),
        awards=(Award("a", "A", 4, 3.0), Award("b", "A", 4, 2.0)),
        downtime=frozenset({0}),
    )
    sol = solve(problem, **FAST)
    assert violations(problem, sol) == []
    assert sol.unplaced == ()
    assert sorted(s.award for s in sol.sessions) == ["a", "b"]
    assert sol.objective == 4 * 300 + 4 * 200
    assert sol.bound == sol.objective and sol.gap == 0.0


def test_cpsat_beats_greedy_when_the_best_award_blocks_two():
    # greedy places the top award at the start of the only window; two smaller awards that
    # together score more then no longer fit
    problem = Problem(
        horizon=6,
        instruments=(Instrument("A"),),
        awards=(
            Award("big", "A", 4, 5.0, min_session=4),
            Award("x", "A", 3, 4.0, min_session=3),
            Award("y", "A", 3, 4.0, min_session=3),
        ),
    )
    g = greedy_solution(problem)
    # CP-SAT alone (the segment repacking and the column pass switched off) finds it…
    from app.scheduling.solver.lns import LnsResult

    with (
        mock.patch("app.scheduling.solver.solve.repack_all", lambda grid, ctxs, placed, period: placed),
        mock.patch("app.scheduling.solver.solve.repack", lambda grid, ctxs, placed, period: placed),
        mock.patch(
            "app.scheduling.solver.solve.columns_by_instrument",
            lambda grid, ctxs, placed, seed: LnsResult(placed, 0, 0, False),
        ),
    ):
        sol = solve(problem, **FAST)
    assert violations(problem, g) == [] and violations(problem, sol) == []
    assert g.objective == 4 * 500
    assert sol.objective == 6 * 400 > g.objective
    assert sol.groups[0].winner == "cpsat"
    # …and so does the knapsack repacking of the segment, before CP-SAT
    sol = solve(problem, **FAST)
    assert violations(problem, sol) == []
    assert sol.objective == 6 * 400
    assert sol.groups[0].winner.endswith("+repack")


def test_split_award_uses_two_windows_and_pays_the_split_penalty():
    problem = Problem(
        horizon=10,
        instruments=(Instrument("A"),),
        awards=(Award("a", "A", 8, 1.0, min_session=2, max_sessions=2),),
        downtime=frozenset({4, 5}),
    )
    sol, _ = only(problem, "a")
    assert [(s.start, s.length) for s in sol.sessions] == [(0, 4), (6, 4)]
    assert sol.objective == 8 * 100 - Weights().split


@pytest.mark.parametrize(
    ("problem", "code", "params"),
    [
        pytest.param(
            Problem(
                horizon=10,
                instruments=(Instrument("A"),),
                awards=(Award("a", "A", 4, 1.0, min_session=4),),
                downtime=frozenset({3, 7}),
            ),
            "no_window",
            {"needed": 4, "longest": 3},
            id="no_window",
        ),
        pytest.param(
            Problem(
                horizon=8,
                instruments=(Instrument("A"),),
                awards=(Award("a", "A", 4, 1.0, min_session=4, mode="timing"),),
                modes=("timing",) * 3 + ("multibunch",) * 5,
            ),
            "mode_unavailable",
            {"mode": "timing", "needed": 4},
            id="mode_unavailable",
        ),
        pytest.param(
            Problem(
                horizon=8,
                instruments=(Instrument("A"),),
                awards=(Award("a", "A", 4, 1.0, min_session=4, unacceptable=frozenset({2, 5})),),
            ),
            "unacceptable_dates",
            {"needed": 4},
            id="unacceptable_dates",
        ),
        pytest.param(
            Problem(
                horizon=8,
                instruments=(Instrument("A"),),
                awards=(Award("top", "A", 6, 5.0), Award("a", "A", 4, 1.0, min_session=4)),
            ),
            "capacity_used",
            {"needed": 4, "by": ("top",), "awards": 1, "higher_ranked": 1},
            id="capacity_used",
        ),
        pytest.param(
            Problem(
                horizon=8,
                instruments=(Instrument("A"), Instrument("B")),
                awards=(Award("top", "B", 8, 5.0, pi="p"), Award("a", "A", 4, 1.0, min_session=4, pi="p")),
            ),
            "person_busy",
            {"person": "p", "role": "pi", "needed": 4},
            id="person_busy_pi",
        ),
        pytest.param(
            Problem(
                horizon=8,
                instruments=(Instrument("A"), Instrument("B")),
                awards=(Award("a", "A", 4, 1.0, min_session=4, local_contact="lc"),),
                pins=(Pin("kept", "B", 0, 8, local_contact="lc"),),
            ),
            "person_busy",
            {"person": "lc", "role": "local_contact", "needed": 4},
            id="person_busy_contact_pinned",
        ),
        pytest.param(
            Problem(
                horizon=12,
                instruments=(Instrument("A"),),
                awards=(Award("a", "A", 9, 1.0, min_session=3, max_sessions=2),),
                downtime=frozenset({4, 9}),
            ),
            "split_limit",
            {"max_sessions": 2, "min_session": 3, "sessions": 2},
            id="split_limit",
        ),
        pytest.param(
            Problem(
                horizon=12,
                instruments=(Instrument("A"),),
                awards=(Award("a", "A", 6, 0.1, min_session=2, max_sessions=2),),
                downtime=frozenset({4, 5, 6, 7, 8, 9}),
            ),
            "objective_tradeoff",
            {"needed": 2},
            id="objective_tradeoff",
        ),
    ],
)
def test_every_award_not_fully_placed_has_its_reason(problem, code, params):
    _, unplaced = only(problem, "a")
    assert unplaced is not None
    assert (unplaced.reason, dict(unplaced.details)) == (code, params)


def test_start_shifts_and_weekdays_are_respected():
    # 3 shifts a day; starts only on the first shift of a Wednesday (day 2)
    problem = Problem(
        horizon=21,
        instruments=(Instrument("A", start_shifts=frozenset({0}), weekdays=frozenset({2})),),
        awards=(Award("a", "A", 3, 1.0),),
    )
    sol, _ = only(problem, "a")
    assert [(s.start, s.length) for s in sol.sessions] == [(6, 3)]


def test_a_daylight_saving_gap_that_drops_a_shift_keeps_the_start_shift_rule():
    # three shifts a day; the clocks go forward on day 1 and its second shift (position 1) is
    # dropped, so from index 4 on, index % 3 is one behind the position in the day
    positions = (0, 1, 2, 0, 2, 0, 1, 2, 0, 1, 2)
    problem = Problem(
        horizon=len(positions),
        instruments=(Instrument("A", start_shifts=frozenset({0})),),
        awards=tuple(Award(f"a{i}", "A", 2, 5.0 - i, min_session=2) for i in range(3)),
        shifts_per_day=3,
        positions=positions,
    )
    for sol in (greedy_solution(problem), solve(problem, **FAST)):
        assert violations(problem, sol) == []
        # the first shifts of days 0, 1, 2: index 5 although 5 % 3 == 2 (index 6 would be a second shift)
        assert sorted(s.start for s in sol.sessions) == [0, 3, 5]
        assert all(positions[s.start] == 0 for s in sol.sessions)
    with pytest.raises(ProblemError) as err:
        replace(problem, positions=positions[:-1]).validate()
    assert err.value.code == "positions_length"


def test_pins_stay_and_count_towards_their_award():
    problem = Problem(
        horizon=12,
        instruments=(Instrument("A", changeover=1),),
        awards=(Award("a", "A", 6, 2.0, max_sessions=2, min_session=2),),
        pins=(Pin("kept", "A", 4, 3, award="a"),),
    )
    sol, unplaced = only(problem, "a")
    assert sum(s.length for s in sol.sessions) == 3 and unplaced is None
    assert all(s.end + 1 <= 4 or s.start >= 8 for s in sol.sessions)


def test_invalid_input_is_refused_with_a_code():
    problem = Problem(horizon=5, instruments=(Instrument("A"),), awards=(Award("a", "X", 2, 1.0),))
    with pytest.raises(ProblemError) as err:
        solve(problem)
    assert err.value.code == "award_instrument_unknown"
    with pytest.raises(ValueError):
        deterministic_time_for(11)


def test_linked_instruments_are_solved_as_one_group():
    problem = Problem(
        horizon=8,
        instruments=(Instrument("A"), Instrument("B"), Instrument("C")),
        awards=(
            Award("a", "A", 4, 1.0, min_session=4, pi="p"),
            Award("b", "B", 4, 1.0, local_contact="p"),
            Award("c", "C", 4, 1.0),
        ),
    )
    sol = solve(problem, **FAST)
    assert [g.instruments for g in sol.groups] == [("A", "B"), ("C",)]
    assert violations(problem, sol) == []


# --- property tests: small random problems ------------------------------------------------

PEOPLE = ("p1", "p2", "p3")


@st.composite
def problems(draw) -> Problem:
    spd = draw(st.sampled_from((1, 2, 3)))
    horizon = draw(st.integers(6, 30))
    n_inst = draw(st.integers(1, 3))
    shifts = st.frozensets(st.integers(0, horizon - 1), max_size=horizon // 3)
    instruments = tuple(
        Instrument(
            key=f"I{i}",
            unavailable=draw(shifts),
            start_shifts=draw(st.none() | st.frozensets(st.integers(0, spd - 1), min_size=1)),
            weekdays=draw(st.none() | st.frozensets(st.integers(0, 6), min_size=3)),
            changeover=draw(st.integers(0, 2)),
            min_session=draw(st.integers(1, 2)),
        )
        for i in range(n_inst)
    )
    modes = draw(st.none() | st.lists(st.sampled_from(("m1", "m2")), min_size=horizon, max_size=horizon))
    awards = []
    for a in range(draw(st.integers(1, 6))):
        size = draw(st.integers(1, 8))
        awards.append(
            Award(
                key=f"a{a}",
                instrument=f"I{draw(st.integers(0, n_inst - 1))}",
                shifts=size,
                score=draw(st.floats(0, 5, allow_nan=False)),
                min_session=draw(st.integers(1, size)),
                max_sessions=draw(st.integers(1, 3)),
                mode=draw(st.none() | st.sampled_from(("m1", "m2"))),
                unacceptable=draw(shifts),
                preferred=draw(shifts),
                local_contact=draw(st.none() | st.sampled_from(PEOPLE)),
                pi=draw(st.none() | st.sampled_from(PEOPLE)),
            )
        )
    pins = []
    for i, inst in enumerate(instruments):
        if draw(st.booleans()):
            start = draw(st.integers(0, horizon - 2))
            length = draw(st.integers(1, min(3, horizon - start)))
            award = draw(st.none() | st.sampled_from([a.key for a in awards if a.instrument == inst.key] or [None]))
            pins.append(
                Pin(f"pin{i}", inst.key, start, length, award=award, pi=draw(st.none() | st.sampled_from(PEOPLE)))
            )
    # sometimes a daylight-saving gap drops one shift: positions in the day shift by one after it
    dropped = draw(st.none() | st.integers(0, horizon - 1))
    positions = () if dropped is None else tuple(k % spd for k in range(horizon + 1) if k != dropped)
    return Problem(
        horizon=horizon,
        instruments=instruments,
        awards=tuple(awards),
        pins=tuple(pins),
        shifts_per_day=spd,
        downtime=draw(shifts),
        modes=tuple(modes) if modes else (),
        positions=positions,
    )


@pytest.mark.parametrize(
    "limit",
    [
        FAST,  # a short limit: the column pass stands in for CP-SAT
        {"deterministic_limit": 0.5, "wall_cap": 10.0},  # CP-SAT, the LNS and the column pass
    ],
    ids=["short", "cpsat"],
)
@given(problem=problems())
def test_every_solution_keeps_every_hard_rule_and_beats_greedy_deterministically(limit, problem):
    baseline = greedy_solution(problem)
    assert violations(problem, baseline) == []
    first = solve(problem, **limit)
    assert violations(problem, first) == []
    assert first.objective >= baseline.objective == first.greedy_objective
    assert first.bound >= first.objective
    assert objective(problem, first) == first.objective
    assert solve(problem, **limit) == first  # identical on a second run


@given(problems())
def test_solving_linked_groups_one_instrument_at_a_time_keeps_every_hard_rule(problem):
    module = importlib.import_module("app.scheduling.solver.solve")
    # and with the large-neighbourhood search on at the short test limit
    with mock.patch.object(module, "MONOLITH_MAX_SLOTS", 0), mock.patch.object(module, "LNS_MIN_LIMIT", 0.0):
        sol = solve(problem, **FAST)
    assert violations(problem, sol) == []
    assert sol.bound >= sol.objective >= sol.greedy_objective


@given(problems())
def test_a_partial_award_is_reported_with_what_was_placed(problem):
    sol = solve(problem, **FAST)
    for u in sol.unplaced:
        assert u.missing > 0 and u.reason in {
            "no_window",
            "mode_unavailable",
            "unacceptable_dates",
            "capacity_used",
            "person_busy",
            "split_limit",
            "objective_tradeoff",
        }


def test_large_linked_groups_are_split_by_instrument_and_stay_valid(monkeypatch):
    monkeypatch.setattr(importlib.import_module("app.scheduling.solver.solve"), "MONOLITH_MAX_SLOTS", 1)
    problem = Problem(
        horizon=24,
        instruments=(Instrument("A", changeover=1), Instrument("B")),
        awards=tuple(
            Award(f"a{i}", "AB"[i % 2], 3 + i % 4, 1.0 + i / 10, pi=f"p{i % 3}", local_contact=f"c{i % 2}")
            for i in range(10)
        ),
    )
    sol = solve(problem, **FAST)
    assert violations(problem, sol) == []
    assert sol.objective >= sol.greedy_objective
    assert sol.bound >= sol.objective


# --- purity ---------------------------------------------------------------------------------

SOLVER = Path(__file__).resolve().parents[2] / "app" / "scheduling" / "solver"
ALLOWED_ROOTS = {"__future__", "bisect", "collections", "dataclasses", "itertools", "math", "time", "numpy", "ortools"}


def test_solver_imports_nothing_from_flask_sqlalchemy_or_app():
    for path in sorted(SOLVER.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.startswith("app.scheduling.solver") or name.split(".")[0] in ALLOWED_ROOTS, (
                    f"{path.name} imports {name}"
                )


def test_weights_are_documented_defaults():
    assert replace(Weights()) == Weights(score_scale=100, preferred=10, split=25)


def test_progress_is_reported_per_group_and_does_not_change_the_result():
    from app.scheduling.solver import Award, Instrument, Problem, solve

    problem = Problem(
        horizon=30,
        instruments=(Instrument("A"), Instrument("B")),
        awards=(Award("a1", "A", 6, 3.0), Award("b1", "B", 9, 2.0)),
    )
    calls = []
    with_progress = solve(problem, effort=1, progress=lambda done, total, report: calls.append((done, total, report)))
    assert [(d, t) for d, t, _ in calls] == [(0, 2), (1, 2), (2, 2)]
    assert calls[0][2] is None and calls[-1][2] is not None
    assert with_progress == solve(problem, effort=1)


# --- the bound: the redundant rows of the CP-SAT model never cut off a schedule -------------


@st.composite
def tiny_problems(draw) -> Problem:
    spd = draw(st.sampled_from((1, 3)))
    horizon = draw(st.integers(6, 12))
    n_inst = draw(st.integers(1, 2))
    shifts = st.frozensets(st.integers(0, horizon - 1), max_size=2)
    instruments = tuple(
        Instrument(
            key=f"I{i}",
            unavailable=draw(shifts),
            start_shifts=draw(st.none() | st.frozensets(st.integers(0, spd - 1), min_size=1)),
            changeover=draw(st.integers(0, 1)),
            min_session=draw(st.integers(1, 2)),
        )
        for i in range(n_inst)
    )
    modes = draw(st.none() | st.lists(st.sampled_from(("m1", "m2")), min_size=horizon, max_size=horizon))
    awards = []
    for a in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 5))
        awards.append(
            Award(
                key=f"a{a}",
                instrument=f"I{draw(st.integers(0, n_inst - 1))}",
                shifts=size,
                score=draw(st.sampled_from((0.5, 1.0, 2.5, 4.0))),
                min_session=draw(st.integers(1, size)),
                max_sessions=draw(st.integers(1, 2)),
                mode=draw(st.none() | st.sampled_from(("m1", "m2"))),
                unacceptable=draw(shifts),
                preferred=draw(shifts),
                pi=draw(st.none() | st.sampled_from(PEOPLE[:2])),
            )
        )
    pins = ()
    if draw(st.booleans()):
        pins = (Pin("pin", "I0", draw(st.integers(0, horizon - 2)), 1, pi=draw(st.none() | st.just("p1"))),)
    return Problem(
        horizon=horizon,
        instruments=instruments,
        awards=tuple(awards),
        pins=pins,
        shifts_per_day=spd,
        downtime=draw(shifts),
        modes=tuple(modes) if modes else (),
    )


@given(tiny_problems())
def test_the_bound_is_a_bound_and_optimal_means_optimal(problem):
    best = optimum(problem)  # exhaustive, in the independent validator
    sol = solve(problem, deterministic_limit=5.0, wall_cap=20.0)
    assert violations(problem, sol) == []
    assert sol.objective <= best <= sol.bound
    if all(g.status in ("OPTIMAL", "SKIPPED") for g in sol.groups):
        assert sol.objective == best


def test_window_rows_use_the_start_grid_and_changeover():
    # starts only on the first shift of a day (P = 3), changeover 1: in the 9-shift window two
    # 3-shift sessions need 3 + 3 + 1 rounded up to the grid, so three sessions never fit and
    # the bound says so at the root
    problem = Problem(
        horizon=9,
        instruments=(Instrument("A", start_shifts=frozenset({0}), changeover=1),),
        awards=tuple(Award(f"a{i}", "A", 3, 1.0, min_session=3) for i in range(4)),
        shifts_per_day=3,
    )
    sol = solve(problem, deterministic_limit=5.0, wall_cap=20.0)
    assert violations(problem, sol) == []
    assert sol.objective == sol.bound == optimum(problem) == 2 * 3 * 100


@given(tiny_problems())
def test_the_configuration_bound_of_each_instrument_bounds_its_optimum(problem):
    # bound.py relaxes the people rule between instruments only: per instrument, the bound of
    # its awards alone is at least the exhaustive optimum of that instrument's problem, and the
    # sum over instruments is at least the optimum of the whole
    from app.scheduling.solver.bound import instrument_bound
    from app.scheduling.solver.grid import Grid

    grid = Grid(problem)
    total = 0
    for inst in problem.instruments:
        part = [grid.context(a) for a in problem.awards if a.instrument == inst.key]
        bound = instrument_bound(grid, part)
        alone = replace(problem, awards=tuple(a for a in problem.awards if a.instrument == inst.key))
        assert optimum(alone) <= bound
        total += bound
    assert optimum(problem) <= total


def test_the_configuration_bound_sees_the_weekend_no_session_can_start_on():
    # two weeks of one shift a day from a Monday, sessions start Monday to Friday only: 3-shift
    # sessions fit four times (Mon, Thu, Mon, Thu; Sunday stays empty), not 14 / 3 times as a
    # relaxation that counts only the room says
    from app.scheduling.solver.bound import instrument_bound
    from app.scheduling.solver.grid import Grid

    problem = Problem(
        horizon=14,
        instruments=(Instrument("A", weekdays=frozenset(range(5))),),
        awards=tuple(Award(f"a{i}", "A", 3, 1.0, min_session=3) for i in range(6)),
        shifts_per_day=1,
    )
    grid = Grid(problem)
    bound = instrument_bound(grid, [grid.context(a) for a in problem.awards])
    assert bound == optimum(problem) == 4 * 3 * 100
    sol = solve(problem, deterministic_limit=0.05, wall_cap=20.0)
    assert sol.objective == sol.bound == 4 * 3 * 100


# --- large-neighbourhood search by instrument ----------------------------------------------


def _lns_case(problem: Problem, budget: float = 1.0):
    from app.scheduling.solver.greedy import greedy
    from app.scheduling.solver.grid import Grid
    from app.scheduling.solver.lns import lns_by_instrument

    grid = Grid(problem)
    ctxs = [c for c in (grid.context(a) for a in problem.awards) if c.remaining > 0 and c.slots > 0 and c.starts]
    start = greedy(grid, ctxs)
    result = lns_by_instrument(grid, ctxs, start, budget=budget, subsolve=0.1, wall_cap=30.0, seed=1)
    return start, result


def _as_solution(problem: Problem, placements) -> Solution:
    from app.scheduling.solver import Unplaced

    sessions = tuple(sorted(s for v in placements.values() for s in v))
    placed: dict[str, int] = {}
    for s in sessions:
        placed[s.award] = placed.get(s.award, 0) + s.length
    for p in problem.pins:
        if p.award is not None:
            placed[p.award] = placed.get(p.award, 0) + p.length
    unplaced = tuple(
        Unplaced(a.key, placed.get(a.key, 0), a.shifts - placed.get(a.key, 0), "capacity_used")
        for a in problem.awards
        if placed.get(a.key, 0) < a.shifts
    )
    draft = Solution(sessions, unplaced, 0, 0, 0, ())
    return replace(draft, objective=objective(problem, draft))


@given(problems())
def test_lns_never_worsens_keeps_pins_and_every_hard_rule_and_repeats(problem):
    start, result = _lns_case(problem)
    before, after = _as_solution(problem, start), _as_solution(problem, result.placements)
    assert violations(problem, after) == []  # pins, people across instruments, calendars …
    assert after.objective >= before.objective
    assert _lns_case(problem)[1] == result  # deterministic


def test_lns_improves_one_instrument_and_respects_a_person_busy_on_another():
    # on A, greedy by score puts `big` (6 shifts × 350) first and leaves no room for the two
    # 4-shift awards (4 × 300 + 4 × 290 more) that fill [0, 8); `x`, the PI of `a1`, is busy on
    # B in [0, 4), so the sub-model may not put a1 there: the best legal schedule of A is a2 in
    # [0, 4), a1 in [4, 8), never the mirror image of the same value
    problem = Problem(
        horizon=8,
        instruments=(Instrument("A"), Instrument("B")),
        awards=(
            Award("big", "A", 6, 3.5, min_session=6),
            Award("a1", "A", 4, 3.0, min_session=4, pi="x"),
            Award("a2", "A", 4, 2.9, min_session=4),
            Award("b", "B", 4, 5.0, min_session=4, pi="x"),
        ),
    )
    start, result = _lns_case(problem)
    assert {s.award for v in start.values() for s in v} == {"big", "b"}
    sessions = sorted(s for v in result.placements.values() for s in v)
    after = _as_solution(problem, result.placements)
    assert violations(problem, after) == []
    assert after.objective > _as_solution(problem, start).objective
    assert [(s.award, s.start) for s in sessions if s.instrument == "A"] == [("a2", 0), ("a1", 4)]
    assert result.improved >= 1


def test_lns_stops_at_its_deterministic_budget_and_does_nothing_without_one():
    problem = Problem(
        horizon=12,
        instruments=(Instrument("A"), Instrument("B")),
        awards=(Award("a", "A", 4, 1.0, pi="p"), Award("b", "B", 4, 1.0, pi="p")),
    )
    start, result = _lns_case(problem, budget=0.0)
    assert result.solves == 0 and result.placements == start


# --- price and branch by instrument (bound.instrument_columns) ------------------------------


def _columns_case(problem: Problem):
    from app.scheduling.solver.greedy import greedy
    from app.scheduling.solver.grid import Grid
    from app.scheduling.solver.lns import columns_by_instrument

    grid = Grid(problem)
    ctxs = [c for c in (grid.context(a) for a in problem.awards) if c.remaining > 0 and c.slots > 0 and c.starts]
    start = greedy(grid, ctxs)
    return start, columns_by_instrument(grid, ctxs, start, seed=1)


@given(problems())
def test_the_column_pass_never_worsens_keeps_every_hard_rule_and_repeats(problem):
    start, result = _columns_case(problem)
    before, after = _as_solution(problem, start), _as_solution(problem, result.placements)
    assert violations(problem, after) == []  # people across instruments, pins, calendars, splits
    assert after.objective >= before.objective
    assert _columns_case(problem)[1] == result  # deterministic


def test_the_column_pass_packs_a_segment_greedy_by_score_leaves_holes_in():
    # one 12-shift segment: greedy by score places the 6-shift award (score 3) first, and then
    # one 4-shift award fits (18 + 10 points); the patterns hold three 4-shift awards (30)
    problem = Problem(
        horizon=12,
        instruments=(Instrument("A"),),
        awards=(
            Award("big", "A", 6, 3.0, min_session=6),
            *(Award(f"q{i}", "A", 4, 2.5, min_session=4) for i in range(3)),
        ),
        shifts_per_day=1,
    )
    start, result = _columns_case(problem)
    assert objective(problem, _as_solution(problem, start)) == (6 * 300 + 4 * 250)
    after = _as_solution(problem, result.placements)
    assert violations(problem, after) == []
    assert after.objective == 3 * 4 * 250 == optimum(problem)
