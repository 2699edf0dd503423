"""Assign N reviewers to each proposal of a panel (issue 5): an OR-Tools CP-SAT optimisation.

Pure: plain dataclasses in and out; no Flask, no SQLAlchemy, no `app.` imports.

**Never a conflict.** A (reviewer, proposal) pair in `Problem.conflicts` gets no variable at all;
a fixed pair that is (now) in conflict is released and reported, never kept. Panel members'
own proposals come to the panel like any other and are blocked from them by the ``on_team``
conflict (see `conflicts.py`).

**Preference points of a pair** (integers, so CP-SAT optimises them exactly):

- expertise match: the share of the proposal's terms (its keywords and its subject area,
  compared case- and space-insensitively) found among the reviewer's expertise keywords,
  × 100, rounded half up: 0 (nothing in common) … 100 (every term);
- plus the bid: eager +50, willing +20, none 0, not my field −80. An eager bid is worth half a
  perfect match; "not my field" nearly cancels a perfect keyword match, so such a reviewer is
  chosen only when coverage or load needs them (a bid is a wish, a conflict is a rule).

**Load balance** means: every reviewer's load (fixed pairs included) stays within a band around
the fair share ``T = slots to fill ÷ reviewers``: from ``floor(T·(1 − tolerance))`` to
``ceil(T·(1 + tolerance))``, tolerance 10 % by default. Inside the band only the points count;
each proposal above or below it costs 300, more than any difference in points (at most
150 − (−80) = 230), so a reviewer leaves the band only when conflicts leave no other way.
An optional per-reviewer `max_load` is a hard cap.

**Coverage first.** Each filled slot is worth 1,000, more than any load penalty it can cause,
so every proposal gets N reviewers whenever N unconflicted reviewers exist (and the hard caps
allow it). A proposal that cannot is given all it can get and reported in `shortfalls`; the
rest of the panel is assigned as usual.

Objective (maximised): ``1000·filled + points − 300·(units outside the band)``.

**How it is solved.** Two starting solutions are built: a greedy pass (most constrained
proposal first) and a network-flow solution (OR-Tools min-cost max-flow: proposals → reviewers
→ sink, with the load band as convex arc costs; this structure is why it is exact for
"coverage first, then points and balance"). The better of the two is the hint of the CP-SAT
model above, which is solved with a fixed number of workers with interleaved search, a fixed
seed and a deterministic time limit (a wall-clock cap only as a safety net): the result is
reproducible. The best of the three by the objective is returned (DESIGN.md §10: never worse
than greedy). The CP-SAT model is the one that future side constraints join; on 2,000 × 60
alone it does not improve on the flow solution within ~10 s (measured), so `method` usually
reads "flow" there, and "cp-sat" on small or constrained panels.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model


class Bid(enum.StrEnum):
    EAGER = "eager"
    WILLING = "willing"
    NOT_MY_FIELD = "not_my_field"


BID_POINTS: Mapping[Bid | None, int] = {Bid.EAGER: 50, Bid.WILLING: 20, None: 0, Bid.NOT_MY_FIELD: -80}
MATCH_POINTS = 100
SLOT_VALUE = 1000
LOAD_PENALTY = 300
DEFAULT_TOLERANCE = 0.10
# Measured here (2 shared cores, 2,000 × 60): a deterministic limit of 2 took ~5 s of wall time in
# all, 5 took ~15 s. Not yet calibrated carefully; the wall limit is only a safety net.
DEFAULT_DETERMINISTIC_LIMIT = 10.0
DEFAULT_WALL_LIMIT = 60.0

Pair = tuple[int, int]  # (reviewer id, proposal id)


@dataclass(frozen=True, slots=True)
class ReviewerProfile:
    id: int
    expertise: frozenset[str] = frozenset()
    max_load: int | None = None


@dataclass(frozen=True, slots=True)
class ProposalProfile:
    id: int
    subject: str | None = None
    keywords: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Problem:
    reviewers: tuple[ReviewerProfile, ...]
    proposals: tuple[ProposalProfile, ...]
    per_proposal: int = 3
    conflicts: frozenset[Pair] = frozenset()
    bids: Mapping[Pair, Bid] = field(default_factory=dict)
    fixed: frozenset[Pair] = frozenset()  # existing assignments and staff overrides
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True, slots=True)
class Shortfall:
    proposal_id: int
    needed: int
    assigned: int
    eligible: int  # unconflicted reviewers on the panel


@dataclass(frozen=True, slots=True)
class Solution:
    pairs: tuple[Pair, ...]  # sorted by proposal, then reviewer
    shortfalls: tuple[Shortfall, ...]
    released: tuple[Pair, ...]  # fixed pairs dropped because they are conflicts
    loads: Mapping[int, int]
    band: tuple[int, int]  # the load band (lowest, highest) around the fair share
    points: int  # sum of preference points of the pairs
    objective: int
    method: str  # which solution won: "cp-sat", "flow" or "greedy"
    status: str  # CP-SAT's status name
    bound: float | None  # CP-SAT's best bound on the objective

    @property
    def spread(self) -> int:
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0

    def reviewers_of(self, proposal_id: int) -> list[int]:
        return [r for r, p in self.pairs if p == proposal_id]


def _terms(words: Iterable[str | None]) -> frozenset[str]:
    return frozenset(" ".join(w.split()).casefold() for w in words if w and w.strip())


def expertise_match(reviewer: ReviewerProfile, proposal: ProposalProfile) -> float:
    """Share of the proposal's terms (keywords and subject) in the reviewer's expertise, 0–1."""
    terms = _terms([*proposal.keywords, proposal.subject])
    if not terms:
        return 0.0
    return len(terms & _terms(reviewer.expertise)) / len(terms)


def points(reviewer: ReviewerProfile, proposal: ProposalProfile, bid: Bid | None) -> int:
    return math.floor(MATCH_POINTS * expertise_match(reviewer, proposal) + 0.5) + BID_POINTS[bid]


def load_band(slots: int, reviewers: int, tolerance: float = DEFAULT_TOLERANCE) -> tuple[int, int]:
    if reviewers == 0:
        return (0, 0)
    share = slots / reviewers
    return (math.floor(share * (1 - tolerance) + 1e-9), math.ceil(share * (1 + tolerance) - 1e-9))


class _Instance:
    """The problem with conflicts removed, indexed for the greedy and the model."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.reviewers = {r.id: r for r in problem.reviewers}
        self.released = tuple(sorted(p for p in problem.fixed if p in problem.conflicts))
        self.fixed = {p for p in problem.fixed if p not in problem.conflicts and p[0] in self.reviewers}
        fixed_of: dict[int, set[int]] = defaultdict(set)
        for r, p in self.fixed:
            fixed_of[p].add(r)
        self.fixed_load: dict[int, int] = defaultdict(int)
        for r, _ in self.fixed:
            self.fixed_load[r] += 1
        self.cap = {
            r.id: None if r.max_load is None else max(r.max_load, self.fixed_load[r.id]) for r in problem.reviewers
        }
        self.candidates: dict[int, list[int]] = {}
        self.eligible: dict[int, int] = {}
        self.open: dict[int, int] = {}
        self.points: dict[Pair, int] = {}
        for proposal in problem.proposals:
            pid = proposal.id
            unconflicted = [r.id for r in problem.reviewers if (r.id, pid) not in problem.conflicts]
            self.eligible[pid] = len(unconflicted)
            self.open[pid] = max(problem.per_proposal - len(fixed_of[pid]), 0)
            self.candidates[pid] = [r for r in unconflicted if r not in fixed_of[pid]] if self.open[pid] else []
            for r in self.candidates[pid]:
                self.points[r, pid] = points(self.reviewers[r], proposal, problem.bids.get((r, pid)))
        self.fixed_of = fixed_of
        slots = len(self.fixed) + sum(min(self.open[p], len(self.candidates[p])) for p in self.open)
        self.band = load_band(slots, len(problem.reviewers), problem.tolerance)

    def fixed_points(self) -> int:
        proposals = {p.id: p for p in self.problem.proposals}
        return sum(
            points(self.reviewers[r], proposals[p], self.problem.bids.get((r, p)))
            for r, p in self.fixed
            if p in proposals
        )

    def loads(self, chosen: Iterable[Pair]) -> dict[int, int]:
        loads = {r.id: self.fixed_load[r.id] for r in self.problem.reviewers}
        for r, _ in chosen:
            loads[r] += 1
        return loads

    def objective(self, chosen: list[Pair]) -> int:
        low, high = self.band
        outside = sum(max(n - high, 0) + max(low - n, 0) for n in self.loads(chosen).values())
        return SLOT_VALUE * len(chosen) + sum(self.points[c] for c in chosen) - LOAD_PENALTY * outside

    def flow(self) -> list[Pair]:
        """Max coverage at least cost: source → proposal (open slots) → reviewer (one each,
        cost −points) → sink through three arcs per reviewer (below the band −LOAD_PENALTY, in
        the band 0, above +LOAD_PENALTY: convex, so the flow is exact for that cost)."""
        low, high = self.band
        flow = min_cost_flow.SimpleMinCostFlow()
        reviewer_ids = [r.id for r in self.problem.reviewers]
        source, sink = 0, 1
        node_of_reviewer = {r: 2 + i for i, r in enumerate(reviewer_ids)}
        base = 2 + len(reviewer_ids)
        arcs: list[Pair] = []
        arc_ids: list[int] = []
        degree: dict[int, int] = defaultdict(int)
        for i, (pid, candidates) in enumerate(self.candidates.items()):
            if not candidates:
                continue
            node = base + i
            flow.add_arc_with_capacity_and_unit_cost(source, node, self.open[pid], 0)
            for r in candidates:
                arc_ids.append(
                    flow.add_arc_with_capacity_and_unit_cost(node, node_of_reviewer[r], 1, -self.points[r, pid])
                )
                arcs.append((r, pid))
                degree[r] += 1
        for r in reviewer_ids:
            fixed = self.fixed_load[r]
            room = degree[r] if self.cap[r] is None else min(degree[r], self.cap[r] - fixed)
            bonus = min(max(low - fixed, 0), room)
            free = min(max(high - max(fixed, low), 0), room - bonus)
            extra = room - bonus - free
            node = node_of_reviewer[r]
            for capacity, cost in ((bonus, -LOAD_PENALTY), (free, 0), (extra, LOAD_PENALTY)):
                if capacity > 0:
                    flow.add_arc_with_capacity_and_unit_cost(node, sink, capacity, cost)
        slots = sum(self.open[p] for p, c in self.candidates.items() if c)
        flow.set_node_supply(source, slots)
        flow.set_node_supply(sink, -slots)
        if not arcs or flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
            return []
        return [pair for pair, arc in zip(arcs, arc_ids, strict=True) if flow.flow(arc) > 0]

    def greedy(self) -> list[Pair]:
        """Most constrained proposal first; each slot to the best-scoring reviewer, counting the
        load penalty the choice would cause, lower load on ties."""
        low, high = self.band
        loads = self.loads(())
        chosen: list[Pair] = []
        order = sorted(self.open, key=lambda p: (len(self.candidates[p]) - self.open[p], p))
        for pid in order:
            taken: set[int] = set()
            for _ in range(self.open[pid]):
                best, best_key = None, None
                for r in self.candidates[pid]:
                    cap = self.cap[r]
                    if r in taken or (cap is not None and loads[r] >= cap):
                        continue
                    gain = self.points[r, pid] - (LOAD_PENALTY if loads[r] >= high else 0)
                    gain += LOAD_PENALTY if loads[r] < low else 0
                    key = (gain, -loads[r], -r)
                    if best_key is None or key > best_key:
                        best, best_key = r, key
                if best is None:
                    break
                taken.add(best)
                loads[best] += 1
                chosen.append((best, pid))
        return chosen


def assign(
    problem: Problem,
    *,
    deterministic_limit: float = DEFAULT_DETERMINISTIC_LIMIT,
    wall_limit: float = DEFAULT_WALL_LIMIT,
    workers: int = 2,
    seed: int = 0,
) -> Solution:
    """Assign `problem.per_proposal` reviewers to every proposal (module docstring)."""
    inst = _Instance(problem)
    greedy = inst.greedy()
    starts = {"greedy": greedy, "flow": inst.flow()}
    best_start = max(starts, key=lambda name: (inst.objective(starts[name]), name == "greedy"))
    model = cp_model.CpModel()
    x: dict[Pair, cp_model.IntVar] = {}
    for pid, candidates in inst.candidates.items():
        for r in candidates:
            x[r, pid] = model.new_bool_var(f"x{r}_{pid}")
        if candidates:
            model.add(sum(x[r, pid] for r in candidates) <= inst.open[pid])
    by_reviewer: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for (r, _), var in x.items():
        by_reviewer[r].append(var)
    low, high = inst.band
    penalties = []
    for reviewer in problem.reviewers:
        rid = reviewer.id
        load = sum(by_reviewer[rid]) + inst.fixed_load[rid]
        if inst.cap[rid] is not None:
            model.add(load <= inst.cap[rid])
        size = len(by_reviewer[rid]) + inst.fixed_load[rid]
        over = model.new_int_var(0, max(size - high, 0), f"over{rid}")
        under = model.new_int_var(0, low, f"under{rid}")
        model.add(over >= load - high)
        model.add(under >= low - load)
        penalties += [over, under]
    model.maximize(
        sum((SLOT_VALUE + inst.points[pair]) * var for pair, var in x.items()) - LOAD_PENALTY * sum(penalties)
    )
    hint = set(starts[best_start])
    for pair, var in x.items():
        model.add_hint(var, pair in hint)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = workers
    params.interleave_search = True  # reproducible with several workers
    params.random_seed = seed
    params.max_deterministic_time = deterministic_limit
    params.max_time_in_seconds = wall_limit  # safety net only
    status = solver.solve(model)

    chosen, method, bound = starts[best_start], best_start, None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = solver.best_objective_bound
        solved = [pair for pair, var in x.items() if solver.boolean_value(var)]
        if inst.objective(solved) > inst.objective(chosen):
            chosen, method = solved, "cp-sat"
    return _solution(inst, chosen, method, solver.status_name(status), bound)


def _solution(inst: _Instance, chosen: list[Pair], method: str, status: str, bound: float | None) -> Solution:
    pairs = sorted({*inst.fixed, *chosen}, key=lambda pair: (pair[1], pair[0]))
    count: dict[int, int] = defaultdict(int)
    for _, p in pairs:
        count[p] += 1
    need = inst.problem.per_proposal
    shortfalls = tuple(
        Shortfall(p.id, need, count[p.id], inst.eligible[p.id]) for p in inst.problem.proposals if count[p.id] < need
    )
    return Solution(
        pairs=tuple(pairs),
        shortfalls=shortfalls,
        released=inst.released,
        loads=inst.loads(chosen),
        band=inst.band,
        points=sum(inst.points[c] for c in chosen) + inst.fixed_points(),
        objective=inst.objective(chosen),
        method=method,
        status=status,
        bound=bound,
    )


def replace_reviewer(
    problem: Problem,
    current: Iterable[Pair],
    proposal_id: int,
    leaving: int,
    **solve_options,
) -> Solution:
    """A reviewer declared a conflict with a proposal: record it and fill that one slot, keeping
    every other assignment as it is (they become fixed). The solution's shortfalls say when no
    unconflicted reviewer is left."""
    keep = frozenset(pair for pair in current if pair != (leaving, proposal_id))
    return assign(
        Problem(
            reviewers=problem.reviewers,
            proposals=problem.proposals,
            per_proposal=problem.per_proposal,
            conflicts=problem.conflicts | {(leaving, proposal_id)},
            bids=problem.bids,
            fixed=keep,
            tolerance=problem.tolerance,
        ),
        **solve_options,
    )
