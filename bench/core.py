"""What every benchmark shares: alternating A/B runs, medians, ratios, verdicts, the registry.

A benchmark measures the app (A) and a baseline (B) in the same run, alternating A B B A A B…
so that a noisy neighbour slows both alike; the verdict is on the ratio of the medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Size = Literal["S", "M", "L"]
MIN_RUNS = 5


@dataclass(frozen=True)
class Target:
    """`ratio >= value` (throughput, speed-ups) or `ratio <= value` (latency, cost)."""

    op: Literal[">=", "<="]
    value: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.op == ">=" else ratio <= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass
class Result:
    name: str
    ratio: float
    app: float  # median of the app's runs, in `unit`
    baseline: float  # median of the baseline's runs, in `unit`
    n: int
    verdict: str  # "ok", "MISS" or "info"
    unit: str
    target: str
    app_runs: list[float] = field(default_factory=list)
    baseline_runs: list[float] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # one short remark printed after the line

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.ratio:7.3f}  {self.app:10.1f}  {self.baseline:10.1f}  {self.n:3d}  "
            f"{self.verdict:<4}  ({self.unit}; target {self.target}{'; ' + self.note if self.note else ''})"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


HEADER = f"{'name':<22} {'ratio':>7}  {'app':>10}  {'baseline':>10}  {'n':>3}  verdict"


def alternate(
    run_app: Callable[[], float], run_baseline: Callable[[], float], n: int
) -> tuple[list[float], list[float]]:
    """n measurements of each, in the order A B B A A B B A… (neither side always goes first)."""
    app_runs: list[float] = []
    baseline_runs: list[float] = []
    for i in range(n):
        if i % 2 == 0:
            app_runs.append(run_app())
            baseline_runs.append(run_baseline())
        else:
            baseline_runs.append(run_baseline())
            app_runs.append(run_app())
    return app_runs, baseline_runs


def compare(
    name: str,
    app_runs: list[float],
    baseline_runs: list[float],
    *,
    unit: str,
    target: Target | None,
    details: dict[str, Any] | None = None,
) -> Result:
    app = statistics.median(app_runs)
    baseline = statistics.median(baseline_runs)
    ratio = app / baseline if baseline else float("inf")
    verdict = "info" if target is None else ("ok" if target.met(ratio) else "MISS")
    return Result(
        name=name,
        ratio=ratio,
        app=app,
        baseline=baseline,
        n=min(len(app_runs), len(baseline_runs)),
        verdict=verdict,
        unit=unit,
        target=str(target) if target else "-",
        app_runs=app_runs,
        baseline_runs=baseline_runs,
        details=details or {},
    )


@dataclass
class Context:
    """What the runner hands each benchmark."""

    size: Size
    runs: int
    database_url: str | None
    seed: int = 2027
    log: Callable[[str], None] = print


@dataclass(frozen=True)
class Benchmark:
    code: str  # "B1"
    name: str  # "http_floor"
    func: Callable[[Context], Result]
    needs_data: bool = False

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


REGISTRY: dict[str, Benchmark] = {}


def benchmark(code: str, name: str, *, needs_data: bool = False):
    """Register a benchmark under its code and name (`python -m bench B1` or `… http_floor`)."""

    def decorate(func: Callable[[Context], Result]) -> Callable[[Context], Result]:
        REGISTRY[name] = Benchmark(code, name, func, needs_data)
        return func

    return decorate


def timed(func: Callable[[], Any]) -> float:
    """Seconds one call takes (perf_counter)."""
    started = time.perf_counter()
    func()
    return time.perf_counter() - started
