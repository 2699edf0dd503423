"""Mean and normalised grades, spread and ranking per panel and cycle (issue 5).

Pure: plain dataclasses in and out; no Flask, no SQLAlchemy, no `app.` imports.

Grades run 1–5, 5 best. Over all grades of one panel in one cycle:

- the panel mean μ and the panel's POPULATION standard deviation σ;
- per reviewer r, the mean μ_r and population deviation σ_r of r's grades in this panel and
  cycle. A grade g of r becomes ``μ + σ · (g − μ_r) / σ_r`` — r's z-score mapped onto the panel
  scale — when r gave at least 5 grades (`min_grades`) and σ_r > 0; otherwise r's grades stay as
  given and r is marked (``few_grades`` or ``zero_deviation``). Normalised grades are not
  clipped to 1–5: they are a scale for comparison, not grades.

Per proposal: number of reviews, mean grade, normalised mean, spread (highest − lowest grade)
and how many of its grades were left unnormalised. Proposals are ranked by mean grade (highest
first); ties by normalised mean (highest first), then by proposal id. Proposals without a grade
come last, by id. The chair's final grade and rank come later and may differ.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import fmean, pstdev

MIN_GRADES = 5


class Unnormalised(enum.StrEnum):
    FEW_GRADES = "few_grades"
    ZERO_DEVIATION = "zero_deviation"


@dataclass(frozen=True, slots=True)
class Grade:
    reviewer_id: int
    proposal_id: int
    grade: float


@dataclass(frozen=True, slots=True)
class ReviewerScale:
    reviewer_id: int
    count: int
    mean: float
    deviation: float  # population standard deviation
    unnormalised: Unnormalised | None  # None when the reviewer's grades were normalised


@dataclass(frozen=True, slots=True)
class RankedProposal:
    proposal_id: int
    position: int  # 1-based
    reviews: int
    mean: float | None
    normalised_mean: float | None
    spread: float | None  # highest − lowest grade
    unnormalised_reviews: int  # grades from reviewers left unnormalised


@dataclass(frozen=True, slots=True)
class Ranking:
    proposals: tuple[RankedProposal, ...]
    reviewers: Mapping[int, ReviewerScale]
    panel_mean: float | None
    panel_deviation: float | None


def reviewer_scales(grades: Iterable[Grade], *, min_grades: int = MIN_GRADES) -> dict[int, ReviewerScale]:
    by_reviewer: dict[int, list[float]] = defaultdict(list)
    for g in grades:
        by_reviewer[g.reviewer_id].append(g.grade)
    scales = {}
    for reviewer_id, values in sorted(by_reviewer.items()):
        mean, deviation = fmean(values), pstdev(values)
        if len(values) < min_grades:
            mark: Unnormalised | None = Unnormalised.FEW_GRADES
        elif deviation == 0:
            mark = Unnormalised.ZERO_DEVIATION
        else:
            mark = None
        scales[reviewer_id] = ReviewerScale(reviewer_id, len(values), mean, deviation, mark)
    return scales


def normalise(
    grades: Iterable[Grade], *, min_grades: int = MIN_GRADES
) -> tuple[list[tuple[Grade, float]], dict[int, ReviewerScale], float | None, float | None]:
    """Each grade beside its normalised value; the reviewers' scales; the panel mean and deviation."""
    grades = list(grades)
    if not grades:
        return [], {}, None, None
    values = [g.grade for g in grades]
    mu, sigma = fmean(values), pstdev(values)
    scales = reviewer_scales(grades, min_grades=min_grades)
    out = []
    for g in grades:
        scale = scales[g.reviewer_id]
        value = g.grade if scale.unnormalised else mu + sigma * (g.grade - scale.mean) / scale.deviation
        out.append((g, value))
    return out, scales, mu, sigma


def rank(grades: Iterable[Grade], *, proposal_ids: Iterable[int] = (), min_grades: int = MIN_GRADES) -> Ranking:
    """Rank the proposals of one panel and cycle (module docstring). `proposal_ids` adds
    proposals that have no grade yet (listed last)."""
    pairs, scales, mu, sigma = normalise(grades, min_grades=min_grades)
    raw: dict[int, list[float]] = defaultdict(list)
    normalised: dict[int, list[float]] = defaultdict(list)
    unnormalised: dict[int, int] = defaultdict(int)
    for g, value in pairs:
        raw[g.proposal_id].append(g.grade)
        normalised[g.proposal_id].append(value)
        if scales[g.reviewer_id].unnormalised:
            unnormalised[g.proposal_id] += 1
    graded = sorted(raw, key=lambda p: (-fmean(raw[p]), -fmean(normalised[p]), p))
    ungraded = sorted(set(proposal_ids) - raw.keys())
    ranked = [
        RankedProposal(
            p, i, len(raw[p]), fmean(raw[p]), fmean(normalised[p]), max(raw[p]) - min(raw[p]), unnormalised[p]
        )
        for i, p in enumerate(graded, start=1)
    ]
    ranked += [RankedProposal(p, len(graded) + i, 0, None, None, None, 0) for i, p in enumerate(ungraded, start=1)]
    return Ranking(tuple(ranked), scales, mu, sigma)
