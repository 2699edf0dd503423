"""Grade normalisation and ranking on an example computed by hand."""

from statistics import fmean, pstdev

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reviews.ranking import Grade, Unnormalised, normalise, rank

# One panel, one cycle. Reviewers 1 (strict), 2, 3 (only two grades), 4 (always 4).
#
#             P1  P2  P3  P4  P5  P6
# reviewer 1   1   1   1   1   3   .    5 grades, mean 7/5 = 1.4, pop. var (4·0.4² + 1.6²)/5 = 0.64, σ1 = 0.8
# reviewer 2   4   4   2   2   4   2    6 grades, mean 3, pop. var 1, σ2 = 1
# reviewer 3   .   .   4   .   .   5    2 grades < 5: left as given (few_grades)
# reviewer 4   .   4   4   4   4   4    5 grades, σ4 = 0: left as given (zero_deviation)
#
# All 18 grades: sum 7 + 18 + 9 + 20 = 54, μ = 3; sum of squares 13 + 60 + 41 + 80 = 194,
# pop. var 194/18 − 9 = 16/9, σ = 4/3.
#
# Normalised g' = μ + σ·(g − μ_r)/σ_r:
#   reviewer 1: 1 → 3 + 4/3·(1 − 1.4)/0.8 = 3 − 2/3 = 7/3;   3 → 3 + 4/3·(1.6/0.8) = 3 + 8/3 = 17/3
#   reviewer 2: 4 → 3 + 4/3 = 13/3;                         2 → 3 − 4/3 = 5/3
#   reviewers 3 and 4: unchanged.
#
#      grades           mean           normalised                         spread  unnormalised
# P1   1, 4             5/2 = 2.5      (7/3 + 13/3)/2 = 10/3              3       0
# P2   1, 4, 4          3              (7/3 + 13/3 + 4)/3 = 32/9          3       1
# P3   1, 2, 4, 4       11/4 = 2.75    (7/3 + 5/3 + 4 + 4)/4 = 3          3       2
# P4   1, 2, 4          7/3            (7/3 + 5/3 + 4)/3 = 8/3            3       1
# P5   3, 4, 4          11/3           (17/3 + 13/3 + 4)/3 = 14/3         1       1
# P6   2, 5, 4          11/3           (5/3 + 5 + 4)/3 = 32/9             3       2
#
# Rank by mean: P5 and P6 tie on 11/3; P5's normalised mean 14/3 > 32/9 puts it first.
# P5, P6, P2, P3, P1, P4; then P7, which has no grade yet.
TABLE = {
    (1, 1): 1, (1, 2): 1, (1, 3): 1, (1, 4): 1, (1, 5): 3,
    (2, 1): 4, (2, 2): 4, (2, 3): 2, (2, 4): 2, (2, 5): 4, (2, 6): 2,
    (3, 3): 4, (3, 6): 5,
    (4, 2): 4, (4, 3): 4, (4, 4): 4, (4, 5): 4, (4, 6): 4,
}  # fmt: skip
GRADES = [Grade(r, p, g) for (r, p), g in TABLE.items()]


def test_hand_computed_ranking():
    ranking = rank(GRADES, proposal_ids=[1, 2, 3, 4, 5, 6, 7])
    assert ranking.panel_mean == pytest.approx(3)
    assert ranking.panel_deviation == pytest.approx(4 / 3)
    got = [(p.proposal_id, p.position, p.reviews, p.spread, p.unnormalised_reviews) for p in ranking.proposals]
    assert got == [
        (5, 1, 3, 1, 1),
        (6, 2, 3, 3, 2),
        (2, 3, 3, 3, 1),
        (3, 4, 4, 3, 2),
        (1, 5, 2, 3, 0),
        (4, 6, 3, 3, 1),
        (7, 7, 0, None, 0),
    ]
    means = {p.proposal_id: (p.mean, p.normalised_mean) for p in ranking.proposals}
    assert means[1] == pytest.approx((2.5, 10 / 3))
    assert means[2] == pytest.approx((3, 32 / 9))
    assert means[3] == pytest.approx((2.75, 3))
    assert means[4] == pytest.approx((7 / 3, 8 / 3))
    assert means[5] == pytest.approx((11 / 3, 14 / 3))
    assert means[6] == pytest.approx((11 / 3, 32 / 9))
    assert means[7] == (None, None)


def test_hand_computed_reviewer_scales_and_marks():
    scales = rank(GRADES).reviewers
    assert (scales[1].count, scales[1].mean, scales[1].deviation) == (5, pytest.approx(1.4), pytest.approx(0.8))
    assert (scales[2].count, scales[2].mean, scales[2].deviation) == (6, 3, 1)
    assert [scales[r].unnormalised for r in (1, 2, 3, 4)] == [
        None,
        None,
        Unnormalised.FEW_GRADES,
        Unnormalised.ZERO_DEVIATION,
    ]


def test_normalised_values_of_single_grades():
    values = {(g.reviewer_id, g.proposal_id): v for g, v in normalise(GRADES)[0]}
    assert values[1, 1] == pytest.approx(7 / 3)
    assert values[1, 5] == pytest.approx(17 / 3)  # above 5: a scale, not clipped
    assert values[2, 6] == pytest.approx(5 / 3)
    assert values[3, 6] == 5 and values[4, 2] == 4  # unnormalised reviewers keep their grades


def test_minimum_number_of_grades_is_a_parameter():
    scales = rank(GRADES, min_grades=2).reviewers
    assert scales[3].unnormalised is None  # two grades now suffice


def test_no_grades():
    ranking = rank([], proposal_ids=[3, 1])
    assert [(p.proposal_id, p.position, p.mean) for p in ranking.proposals] == [(1, 1, None), (3, 2, None)]
    assert ranking.panel_mean is None


@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.integers(1, 15), st.integers(1, 5)),
        unique_by=lambda t: (t[0], t[1]),
        max_size=60,
    )
)
def test_normalised_reviewers_land_on_the_panel_scale(rows):
    grades = [Grade(r, p, g) for r, p, g in rows]
    pairs, scales, mu, sigma = normalise(grades)
    for reviewer_id, scale in scales.items():
        mine = [v for g, v in pairs if g.reviewer_id == reviewer_id]
        if scale.unnormalised is None:  # a normalised reviewer now has the panel's mean and deviation
            assert fmean(mine) == pytest.approx(mu) and pstdev(mine) == pytest.approx(sigma)
        else:
            assert mine == [g.grade for g, _ in pairs if g.reviewer_id == reviewer_id]
    ranking = rank(grades)
    means = [p.mean for p in ranking.proposals]
    assert means == sorted(means, reverse=True)
