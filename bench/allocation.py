"""B11 allocation (BENCHMARKS.md, issue 5): run on its own with ``python -m bench.allocation``.

- ``allocation``: allocate 2,000 ranked proposals (70 instruments, 1–2 requests each, skewed
  demand, some long-term) with `app.reviews.allocation.allocate`; baseline: the plain reference
  below, which walks the rule literally. Output must be identical; target ≤ 1 s (absolute,
  informational); ratio = app ÷ reference time, median of alternating runs.
- ``assignment``: 2,000 proposals to 60 reviewers, 3 each, ~3 % conflicts and bids; baseline:
  the greedy pass alone. Ratio = app points ÷ greedy points (≥ 1 means better matches; the
  verdict also needs no conflict, full coverage); load spread and mean expertise match printed
  and in the JSON.

Prints ``name  ratio  app  baseline  n  verdict`` lines and writes bench/results/allocation.json.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from app.reviews import assignment as asg
from app.reviews.allocation import Allocation, Award, Policy, Reason, Request, allocate

RESULTS = Path(__file__).parent / "results"
FOLLOWING = ("2027-II", "2028-I")


def generate_requests(n_proposals: int = 2000, n_instruments: int = 70, seed: int = 11) -> tuple[list[Request], dict]:
    rng = random.Random(seed)
    instruments = [f"I{i:02d}" for i in range(n_instruments)]
    weights = [1 / (i + 1) ** 0.8 for i in range(n_instruments)]  # skewed demand
    start = datetime(2027, 1, 10, 9, 0)
    requests: list[Request] = []
    for p in range(n_proposals):
        reference = f"2027-I-{p + 1:04d}"
        grade = round(rng.uniform(1, 5), 2)
        submitted = start + timedelta(minutes=rng.randrange(60 * 24 * 30))
        rank = rng.randint(1, 120)  # several panels: ranks repeat, ties are common
        for instrument in set(rng.choices(instruments, weights, k=rng.choice([1, 1, 2]))):
            requested = min(24, max(3, int(rng.lognormvariate(2.2, 0.45))))
            recommended = rng.choice([None, requested, max(0, requested - rng.randint(0, 6)), 0])
            cycles = 3 if rng.random() < 0.05 else 1
            requests.append(
                Request(
                    f"{reference}/{instrument}",
                    reference,
                    instrument,
                    rank,
                    grade,
                    submitted,
                    requested,
                    recommended,
                    cycles,
                )
            )
    demand: dict[str, int] = {}
    for r in requests:
        demand[r.instrument] = demand.get(r.instrument, 0) + r.requested
    capacity = {i: int(d / rng.uniform(1.2, 6.7)) for i, d in demand.items()}
    return requests, capacity


def reference_allocate(requests: list[Request], capacity: dict, policy: Policy, following=FOLLOWING) -> Allocation:
    """The rule, walked literally: per instrument, pick the best remaining request again and again."""
    awards, remaining, commitments = [], {}, {}
    for instrument in sorted({r.instrument for r in requests}):
        pool = [r for r in requests if r.instrument == instrument]
        left = max(capacity.get(instrument, 0), 0)
        stopped, position = False, 0
        while pool:
            best = pool[0]
            for r in pool[1:]:
                if (
                    r.rank,
                    -(r.mean_grade if r.mean_grade is not None else -1e9),
                    r.submitted_at,
                    r.reference,
                    r.key,
                ) < (
                    best.rank,
                    -(best.mean_grade if best.mean_grade is not None else -1e9),
                    best.submitted_at,
                    best.reference,
                    best.key,
                ):
                    best = r
            pool.remove(best)
            position += 1
            asked = best.requested if best.recommended is None else best.recommended
            got = 0
            if best.recommended == 0:
                reason = Reason.NOT_RECOMMENDED
            elif stopped:
                reason = Reason.STOPPED
            elif min(asked, left) >= policy.minimum_award:
                got = min(asked, left)
                reason = Reason.FULL if got == asked else Reason.PARTIAL
            else:
                reason = Reason.BELOW_MINIMUM if asked < policy.minimum_award else Reason.NO_CAPACITY
                stopped = policy.stop_at_first_misfit
            promised = tuple((name, got) for name in following[: best.cycles - 1]) if got else ()
            for name, shifts in promised:
                commitments.setdefault(name, {})
                commitments[name][instrument] = commitments[name].get(instrument, 0) + shifts
            awards.append(Award(best.key, best.reference, instrument, position, asked, left, got, reason, promised))
            left -= got
        remaining[instrument] = left
    return Allocation(tuple(awards), remaining, commitments)


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def bench_allocation(runs: int = 7) -> dict:
    requests, capacity = generate_requests()
    policy = Policy(minimum_award=3)
    app_times, ref_times, identical = [], [], True
    for _ in range(runs):  # alternate A and B
        t_app, out_app = timed(allocate, requests, capacity, policy, FOLLOWING)
        t_ref, out_ref = timed(reference_allocate, requests, capacity, policy)
        app_times.append(t_app)
        ref_times.append(t_ref)
        identical = identical and out_app == out_ref
    app, ref = statistics.median(app_times), statistics.median(ref_times)
    awarded = sum(a.awarded > 0 for a in out_app.awards)
    return {
        "name": "allocation",
        "ratio": app / ref,
        "app": app,
        "baseline": ref,
        "n": len(requests),
        "verdict": "ok" if identical and app <= 1.0 else "FAIL",
        "identical": identical,
        "proposals": 2000,
        "requests_awarded": awarded,
        "runs": runs,
    }


def generate_assignment(seed: int = 2027) -> asg.Problem:
    rng = random.Random(seed)
    vocab = [f"kw{i}" for i in range(40)]
    subjects = ["biology", "chemistry", "condensed matter", "materials", "physics", "earth"]
    reviewers = tuple(
        asg.ReviewerProfile(r, frozenset(rng.sample(vocab, 6) + rng.sample(subjects, 1))) for r in range(60)
    )
    proposals = tuple(
        asg.ProposalProfile(1000 + p, rng.choice(subjects), frozenset(rng.sample(vocab, 3))) for p in range(2000)
    )
    conflicts = frozenset((r.id, p.id) for r in reviewers for p in proposals if rng.random() < 0.03)
    bids = {
        (r.id, p.id): rng.choice(list(asg.Bid))
        for r in reviewers
        for p in rng.sample(proposals, 200)
        if (r.id, p.id) not in conflicts
    }
    return asg.Problem(reviewers, proposals, 3, conflicts, bids)


def _quality(problem: asg.Problem, pairs) -> tuple[float, int]:
    reviewers = {r.id: r for r in problem.reviewers}
    proposals = {p.id: p for p in problem.proposals}
    matches = [asg.expertise_match(reviewers[r], proposals[p]) for r, p in pairs]
    loads = {r: 0 for r in reviewers}
    for r, _ in pairs:
        loads[r] += 1
    return (statistics.fmean(matches) if matches else 0.0), max(loads.values()) - min(loads.values())


def bench_assignment(deterministic_limit: float = 2.0) -> dict:
    problem = generate_assignment()
    t_app, solution = timed(lambda: asg.assign(problem, deterministic_limit=deterministic_limit))
    inst = asg._Instance(problem)
    t_greedy, greedy = timed(inst.greedy)
    greedy_points = sum(inst.points[c] for c in greedy)
    match, spread = _quality(problem, solution.pairs)
    greedy_match, greedy_spread = _quality(problem, greedy)
    ok = not (set(solution.pairs) & problem.conflicts) and not solution.shortfalls
    return {
        "name": "assignment",
        "ratio": solution.points / greedy_points if greedy_points else None,
        "app": t_app,
        "baseline": t_greedy,
        "n": len(problem.proposals),
        "verdict": "ok" if ok and solution.objective >= inst.objective(greedy) else "FAIL",
        "ratio_is": "preference points ÷ greedy's (app and baseline are seconds)",
        "reviewers": len(problem.reviewers),
        "per_proposal": problem.per_proposal,
        "conflicts": len(problem.conflicts),
        "bids": len(problem.bids),
        "method": solution.method,
        "status": solution.status,
        "bound": solution.bound,
        "objective": solution.objective,
        "greedy_objective": inst.objective(greedy),
        "load_spread": spread,
        "load_band": solution.band,
        "greedy_load_spread": greedy_spread,
        "mean_expertise_match": match,
        "greedy_mean_expertise_match": greedy_match,
        "shortfalls": len(solution.shortfalls),
        "deterministic_limit": deterministic_limit,
    }


def main(argv: list[str] | None = None) -> int:
    results = [bench_allocation(), bench_assignment()]
    print(f"{'name':<12} {'ratio':>7} {'app':>9} {'baseline':>9} {'n':>6}  verdict")
    for r in results:
        print(
            f"{r['name']:<12} {r['ratio']:>7.3f} {r['app']:>8.3f}s {r['baseline']:>8.3f}s {r['n']:>6}  {r['verdict']}"
        )
    a = results[1]
    print(
        f"  assignment: method {a['method']}, load spread {a['load_spread']} (band {a['load_band']}; greedy "
        f"{a['greedy_load_spread']}), mean expertise match {a['mean_expertise_match']:.3f} "
        f"(greedy {a['greedy_mean_expertise_match']:.3f}), shortfalls {a['shortfalls']}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "allocation.json").write_text(json.dumps(results, indent=2, default=str))
    return 0 if all(r["verdict"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())


# --- registered with the shared runner: python -m bench B11 -----------------------------------
from bench.core import Context, Result, alternate, benchmark, compare  # noqa: E402


@benchmark("B11", "allocation")
def b11_allocation(ctx: Context) -> Result:
    """Allocation of 2,000 ranked proposals against the plain reference: identical output, ≤ 1 s."""
    requests, capacity = generate_requests()
    policy = Policy(minimum_award=3)
    outputs: dict[str, object] = {}

    def run_app() -> float:
        seconds, outputs["app"] = timed(allocate, requests, capacity, policy, FOLLOWING)
        return seconds

    def run_reference() -> float:
        seconds, outputs["reference"] = timed(reference_allocate, requests, capacity, policy)
        return seconds

    app_runs, ref_runs = alternate(run_app, run_reference, ctx.runs)
    result = compare("B11 allocation", app_runs, ref_runs, unit="s", target=None, details={"requests": len(requests)})
    identical = outputs["app"] == outputs["reference"]
    result.verdict = "ok" if identical and result.app <= 1.0 else "MISS"
    result.target = "identical output and <= 1 s"
    result.note = "identical" if identical else "OUTPUT DIFFERS from the reference"
    return result


@benchmark("B11a", "assignment")
def b11_assignment(ctx: Context) -> Result:
    """Assignment of 2,000 proposals to 60 reviewers, 3 each: ratio = preference points ÷ greedy's."""
    report = bench_assignment()
    result = Result(
        name="B11a assignment",
        ratio=report["ratio"] or 0.0,
        app=report["app"],
        baseline=report["baseline"],
        n=1,
        verdict="ok" if report["verdict"] == "ok" else "MISS",
        unit="points ratio; app/baseline in s",
        target=">= greedy, no conflict, no shortfall",
        details=report,
        note=f"load spread {report['load_spread']}, expertise match {report['mean_expertise_match']:.3f}",
    )
    return result
