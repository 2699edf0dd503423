"""The scheduling solver: a pure functional core (DESIGN.md §4 rule 5).

Plain frozen dataclasses in (`Problem`) and out (`Solution`); no Flask, no SQLAlchemy, no
`app.` imports outside this package (import-linter checks it). See docs/SOLVER.md for the
model, the objective and its default weights, the reasons and the calibration.
"""

from app.scheduling.solver.model import (
    Award,
    GroupReport,
    Instrument,
    Pin,
    Problem,
    ProblemError,
    Session,
    Solution,
    Unplaced,
    Weights,
)
from app.scheduling.solver.solve import DEFAULT_EFFORT, deterministic_time_for, greedy_solution, solve

__all__ = [
    "DEFAULT_EFFORT",
    "Award",
    "GroupReport",
    "Instrument",
    "Pin",
    "Problem",
    "ProblemError",
    "Session",
    "Solution",
    "Unplaced",
    "Weights",
    "deterministic_time_for",
    "greedy_solution",
    "solve",
]
