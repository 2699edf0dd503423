"""Reviewer assignment: points, conflicts, coverage, load, fixed pairs, replacement; random and large instances."""

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reviews.assignment import (
    Bid,
    Problem,
    ProposalProfile,
    ReviewerProfile,
    assign,
    expertise_match,
    load_band,
    points,
    replace_reviewer,
)
from app.reviews.conflicts import Member, Reviewer, Team, conflicted_pairs

FAST = dict(deterministic_limit=1.0, wall_limit=10.0)


def test_expertise_match_and_points_by_hand():
    reviewer = ReviewerProfile(1, frozenset({"SAXS", "protein  crystallography", "Biology"}))
    proposal = ProposalProfile(9, "biology", frozenset({"saxs", "Protein Crystallography", "cryo-EM"}))
    # terms: saxs, protein crystallography, cryo-em, biology → 3 of 4 in the expertise
    assert expertise_match(reviewer, proposal) == 0.75
    assert points(reviewer, proposal, None) == 75
    assert points(reviewer, proposal, Bid.EAGER) == 125
    assert points(reviewer, proposal, Bid.WILLING) == 95
    assert points(reviewer, proposal, Bid.NOT_MY_FIELD) == -5
    assert expertise_match(reviewer, ProposalProfile(10)) == 0.0


def test_load_band_is_the_fair_share_within_the_tolerance():
    assert load_band(6000, 60) == (90, 110)  # 100 ± 10 %
    assert load_band(6, 4) == (1, 2)  # 1.5 → floor(1.35), ceil(1.65)
    assert load_band(6, 4, 0) == (1, 2)
    assert load_band(8, 4, 0) == (2, 2)


def people():
    reviewers = (
        ReviewerProfile(1, frozenset({"magnetism", "neutrons"})),
        ReviewerProfile(2, frozenset({"magnetism"})),
        ReviewerProfile(3, frozenset({"catalysis"})),
        ReviewerProfile(4, frozenset({"catalysis", "xas"})),
    )
    proposals = (
        ProposalProfile(10, "physics", frozenset({"magnetism", "neutrons"})),
        ProposalProfile(11, "chemistry", frozenset({"catalysis", "xas"})),
        ProposalProfile(12, "chemistry", frozenset({"catalysis"})),
    )
    return reviewers, proposals


def test_best_match_without_conflicts_and_balanced():
    reviewers, proposals = people()
    solution = assign(Problem(reviewers, proposals, per_proposal=1, tolerance=0), **FAST)
    # Band: 3 slots / 4 reviewers → (0, 1): nobody takes two. The subject counts as a term:
    # 10 {magnetism, neutrons, physics} → 1 (2/3: 67); 11 {catalysis, xas, chemistry} → 4 (2/3: 67);
    # 12 {catalysis, chemistry} → 3 (1/2: 50), since 4 is taken.
    assert solution.pairs == ((1, 10), (4, 11), (3, 12))
    assert solution.points == 67 + 67 + 50 and solution.shortfalls == ()


def test_a_conflict_is_never_assigned_even_when_it_is_the_best_match():
    reviewers, proposals = people()
    solution = assign(Problem(reviewers, proposals, per_proposal=1, conflicts=frozenset({(1, 10)})), **FAST)
    assert (1, 10) not in solution.pairs
    assert solution.reviewers_of(10) == [2]  # the next best match


def test_bids_move_the_choice():
    reviewers, proposals = people()
    bids = {(3, 11): Bid.EAGER, (4, 11): Bid.NOT_MY_FIELD}
    solution = assign(Problem(reviewers, proposals, per_proposal=1, bids=bids), **FAST)
    # 11: reviewer 3 = 33 + 50 = 83 (catalysis of {catalysis, xas, chemistry}), reviewer 4 = 67 − 80 = −13
    assert solution.reviewers_of(11) == [3]


def test_panel_members_own_proposal_goes_to_the_panel_but_not_to_them():
    # Reviewer 2 is PI of proposal 10: the on_team conflict blocks the pair.
    reviewers, proposals = people()
    panel = [Reviewer(r.id) for r in reviewers]
    conflicts = conflicted_pairs(panel, [Team(10, date(2027, 3, 1), (Member(2),))])
    solution = assign(Problem(reviewers, proposals, per_proposal=3, conflicts=conflicts), **FAST)
    assert sorted(solution.reviewers_of(10)) == [1, 3, 4]


def test_infeasible_proposal_is_reported_and_the_rest_assigned():
    reviewers, proposals = people()
    conflicts = frozenset({(1, 10), (2, 10), (3, 10)})  # only reviewer 4 is free for 10
    solution = assign(Problem(reviewers, proposals, per_proposal=2, conflicts=conflicts), **FAST)
    assert solution.reviewers_of(10) == [4]
    assert [(s.proposal_id, s.needed, s.assigned, s.eligible) for s in solution.shortfalls] == [(10, 2, 1, 1)]
    assert len(solution.reviewers_of(11)) == len(solution.reviewers_of(12)) == 2


def test_fixed_pairs_are_kept_and_conflicted_fixed_pairs_released():
    reviewers, proposals = people()
    problem = Problem(
        reviewers, proposals, per_proposal=1, fixed=frozenset({(3, 10), (2, 11)}), conflicts=frozenset({(2, 11)})
    )
    solution = assign(problem, **FAST)
    assert solution.reviewers_of(10) == [3]  # a staff override, kept although 1 matches better
    assert solution.released == ((2, 11),)
    assert solution.reviewers_of(11) != [2]


def test_hard_cap_per_reviewer():
    reviewers = (ReviewerProfile(1, frozenset({"a"}), max_load=1), ReviewerProfile(2))
    proposals = tuple(ProposalProfile(p, None, frozenset({"a"})) for p in (10, 11))
    solution = assign(Problem(reviewers, proposals, per_proposal=1, tolerance=1.0), **FAST)
    assert solution.loads == {1: 1, 2: 1}


def test_replace_a_reviewer_who_declares_a_conflict_keeps_the_rest():
    reviewers, proposals = people()
    problem = Problem(reviewers, proposals, per_proposal=2)
    first = assign(problem, **FAST)
    leaving = first.reviewers_of(11)[0]
    second = replace_reviewer(problem, first.pairs, 11, leaving, **FAST)
    assert (leaving, 11) not in second.pairs and len(second.reviewers_of(11)) == 2
    assert set(first.pairs) - {(leaving, 11)} <= set(second.pairs)
    assert len(second.pairs) == len(first.pairs)


def test_the_same_problem_gives_the_same_answer():
    problem = random_problem(random.Random(7), 40, 8, 2)
    assert assign(problem, **FAST) == assign(problem, **FAST)


def random_problem(rng, n_proposals, n_reviewers, per_proposal, conflict_rate=0.15):
    vocab = [f"k{i}" for i in range(12)]
    reviewers = tuple(ReviewerProfile(r, frozenset(rng.sample(vocab, 3))) for r in range(n_reviewers))
    proposals = tuple(
        ProposalProfile(100 + p, rng.choice(["bio", "chem", None]), frozenset(rng.sample(vocab, 2)))
        for p in range(n_proposals)
    )
    conflicts = frozenset((r.id, p.id) for r in reviewers for p in proposals if rng.random() < conflict_rate)
    bids = {(r.id, p.id): rng.choice(list(Bid)) for r in reviewers for p in proposals if rng.random() < 0.2}
    return Problem(reviewers, proposals, per_proposal, conflicts, bids)


def check(problem, solution):
    conflicts = problem.conflicts
    assert not set(solution.pairs) & conflicts, "a conflict was assigned"
    assert len(set(solution.pairs)) == len(solution.pairs)
    low, high = solution.band
    for proposal in problem.proposals:
        eligible = sum((r.id, proposal.id) not in conflicts for r in problem.reviewers)
        assert len(solution.reviewers_of(proposal.id)) == min(problem.per_proposal, eligible)
    # No single move of a slot from a reviewer above the band to a free reviewer below its top
    # would be allowed: such a move gains the 300 penalty and loses at most 230 points.
    loads = solution.loads
    for r, p in solution.pairs:
        if loads[r] > high:
            on_p = set(solution.reviewers_of(p))
            movable = [
                o.id
                for o in problem.reviewers
                if o.id not in on_p and (o.id, p) not in conflicts and loads[o.id] < high
            ]
            assert not movable, f"reviewer {r} is above the band while {movable} could take {p}"


@given(
    seed=st.integers(0, 10**6),
    n_proposals=st.integers(1, 25),
    n_reviewers=st.integers(1, 8),
    per_proposal=st.integers(1, 4),
    conflict_rate=st.sampled_from([0.0, 0.1, 0.4, 0.8]),
)
def test_random_instances_never_conflict_cover_when_possible_and_stay_balanced(
    seed, n_proposals, n_reviewers, per_proposal, conflict_rate
):
    problem = random_problem(random.Random(seed), n_proposals, n_reviewers, per_proposal, conflict_rate)
    check(problem, assign(problem, **FAST))


@pytest.mark.slow
def test_two_thousand_proposals_sixty_reviewers_three_each():
    rng = random.Random(2027)
    vocab = [f"kw{i}" for i in range(40)]
    subjects = ["biology", "chemistry", "condensed matter", "materials", "physics", "earth"]
    reviewers = tuple(ReviewerProfile(r, frozenset(rng.sample(vocab, 6) + rng.sample(subjects, 1))) for r in range(60))
    proposals = tuple(
        ProposalProfile(1000 + p, rng.choice(subjects), frozenset(rng.sample(vocab, 3))) for p in range(2000)
    )
    conflicts = frozenset((r.id, p.id) for r in reviewers for p in proposals if rng.random() < 0.03)
    bids = {(r.id, p.id): rng.choice(list(Bid)) for r in reviewers for p in rng.sample(proposals, 200)}
    problem = Problem(reviewers, proposals, 3, conflicts, bids)
    solution = assign(problem, deterministic_limit=1.0, wall_limit=20.0)
    assert solution.shortfalls == ()
    assert len(solution.pairs) == 6000
    check(problem, solution)
    assert all(90 <= load <= 110 for load in solution.loads.values())
