"""The B9/B10 cycle generator: reproducible, valid, and oversubscribed (else no ratio means anything)."""

from app.scheduling.solver import greedy_solution
from bench.schedule import generate, replan_problem
from tests.unit.scheduling_validator import violations


def test_generated_cycle_is_reproducible_valid_and_oversubscribed():
    problem = generate("S", seed=3)
    assert generate("S", seed=3) == problem
    problem.validate()
    assert len(problem.instruments) == 20 and len(problem.awards) == 300
    baseline = greedy_solution(problem)
    assert violations(problem, baseline) == []
    placed = sum(s.length for s in baseline.sessions)
    assert sum(a.shifts for a in problem.awards) > 1.3 * placed
    assert any(u.reason == "capacity_used" for u in baseline.unplaced)


def test_replan_problem_pins_every_other_instrument():
    problem = generate("S", seed=3)
    baseline = greedy_solution(problem)
    replan = replan_problem(problem, baseline, "I00")
    replan.validate()
    assert {a.instrument for a in replan.awards} == {"I00"}
    assert len(replan.pins) == len(problem.pins) + sum(1 for s in baseline.sessions if s.instrument != "I00")
