"""Conflicts of interest: each kind, its boundaries, and the combinations."""

from datetime import date

import pytest

from app.reviews.conflicts import (
    Conflict,
    ConflictKind,
    CoProposal,
    CoProposals,
    Member,
    Reviewer,
    Team,
    conflicted_pairs,
    find_conflicts,
    is_conflicted,
    window_start,
)

K = ConflictKind
CYCLE = date(2027, 3, 1)  # the start of the cycle the proposal is in

# Institutions: 10 = CNRS (parent), 11 and 12 = two CNRS laboratories, 20 = a university, 30 = another.
CNRS, LAB_A, LAB_B, UNI, OTHER = 10, 11, 12, 20, 30


def team(*members: Member, proposal_id: int = 500) -> Team:
    return Team(proposal_id, CYCLE, members)


def test_no_conflict_between_strangers():
    reviewer = Reviewer(1, OTHER)
    assert find_conflicts(reviewer, team(Member(2, UNI), Member(3, LAB_A, CNRS))) == []
    assert not is_conflicted(reviewer, team(Member(2, UNI)))


def test_reviewer_on_the_team_is_one_conflict_not_also_same_institution_with_themself():
    reviewer = Reviewer(1, UNI)
    assert find_conflicts(reviewer, team(Member(1, UNI), Member(2, OTHER))) == [Conflict(K.ON_TEAM, 1)]


def test_reviewer_on_the_team_is_caught_even_without_institutions():
    assert find_conflicts(Reviewer(1), team(Member(1))) == [Conflict(K.ON_TEAM, 1)]


def test_same_institution_names_each_member():
    reviewer = Reviewer(1, UNI)
    found = find_conflicts(reviewer, team(Member(3, UNI), Member(2, UNI), Member(4, OTHER)))
    assert found == [Conflict(K.SAME_INSTITUTION, 2), Conflict(K.SAME_INSTITUTION, 3)]


def test_unknown_institutions_never_match_each_other():
    assert find_conflicts(Reviewer(1, None), team(Member(2, None))) == []


@pytest.mark.parametrize(
    ("reviewer", "member", "why"),
    [
        (Reviewer(1, LAB_A, CNRS), Member(2, LAB_B, CNRS), "two sub-units of one parent"),
        (Reviewer(1, LAB_A, CNRS), Member(2, CNRS), "member at the parent of the reviewer's lab"),
        (Reviewer(1, CNRS), Member(2, LAB_A, CNRS), "reviewer at the parent of the member's lab"),
    ],
)
def test_same_parent_institution(reviewer, member, why):
    assert find_conflicts(reviewer, team(member)) == [Conflict(K.SAME_PARENT_INSTITUTION, 2)], why


def test_same_lab_is_same_institution_not_also_same_parent():
    found = find_conflicts(Reviewer(1, LAB_A, CNRS), team(Member(2, LAB_A, CNRS)))
    assert found == [Conflict(K.SAME_INSTITUTION, 2)]


def test_different_parents_are_no_conflict():
    assert find_conflicts(Reviewer(1, LAB_A, CNRS), team(Member(2, UNI, OTHER))) == []


def test_the_team_snapshot_decides_not_where_the_member_is_now():
    # The member moved to the reviewer's university after the call closed: the snapshot says OTHER.
    assert find_conflicts(Reviewer(1, UNI), team(Member(2, OTHER))) == []


def history(*pairs: tuple[int, int, date]) -> CoProposals:
    return CoProposals.from_pairs(CoProposal(a, b, on) for a, b, on in pairs)


@pytest.mark.parametrize(
    ("shared_cycle", "conflicted"),
    [
        (date(2024, 3, 1), True),  # exactly 3 years before: still inside the window
        (date(2024, 3, 2), True),  # a day later: inside
        (date(2024, 2, 29), False),  # a day earlier: outside
        (date(2020, 9, 1), False),  # long ago
        (date(2027, 3, 1), True),  # the same cycle
        (date(2027, 9, 1), True),  # a later cycle (already created) counts too
    ],
)
def test_co_proposer_window_boundaries(shared_cycle, conflicted):
    found = find_conflicts(Reviewer(1), team(Member(2)), history((1, 2, shared_cycle)))
    assert found == ([Conflict(K.CO_PROPOSER, 2, shared_cycle)] if conflicted else [])


def test_co_proposer_pairs_are_symmetric_and_the_latest_shared_cycle_counts():
    index = history((2, 1, date(2019, 3, 1)), (1, 2, date(2025, 9, 1)), (2, 1, date(2022, 3, 1)))
    assert find_conflicts(Reviewer(1), team(Member(2)), index) == [Conflict(K.CO_PROPOSER, 2, date(2025, 9, 1))]


def test_co_proposer_window_is_a_setting():
    index = history((1, 2, date(2025, 3, 1)))
    assert find_conflicts(Reviewer(1), team(Member(2)), index, window_years=2) == [
        Conflict(K.CO_PROPOSER, 2, date(2025, 3, 1))
    ]
    assert find_conflicts(Reviewer(1), team(Member(2)), index, window_years=1) == []


def test_co_proposing_with_someone_not_on_the_team_is_no_conflict():
    assert find_conflicts(Reviewer(1), team(Member(2)), history((1, 3, date(2026, 3, 1)))) == []


def test_window_start_from_29_february_is_28_february():
    assert window_start(date(2028, 2, 29)) == date(2025, 2, 28)
    assert window_start(date(2028, 2, 29), 4) == date(2024, 2, 29)
    assert window_start(CYCLE) == date(2024, 3, 1)


def test_declared_conflict():
    reviewer = Reviewer(1, OTHER, declared=frozenset({500}))
    assert find_conflicts(reviewer, team(Member(2, UNI))) == [Conflict(K.DECLARED)]
    assert find_conflicts(reviewer, team(Member(2, UNI), proposal_id=501)) == []


def test_every_kind_at_once_in_a_fixed_order():
    reviewer = Reviewer(1, LAB_A, CNRS, declared=frozenset({500}))
    members = (Member(5, LAB_B, CNRS), Member(4, LAB_A, CNRS), Member(1, LAB_A, CNRS), Member(3, UNI))
    found = find_conflicts(reviewer, team(*members), history((1, 3, date(2026, 3, 1)), (1, 5, date(2025, 3, 1))))
    assert found == [
        Conflict(K.ON_TEAM, 1),
        Conflict(K.SAME_INSTITUTION, 4),
        Conflict(K.SAME_PARENT_INSTITUTION, 5),
        Conflict(K.CO_PROPOSER, 3, date(2026, 3, 1)),
        Conflict(K.CO_PROPOSER, 5, date(2025, 3, 1)),
        Conflict(K.DECLARED),
    ]


def test_conflicted_pairs_feed_the_assignment():
    reviewers = [Reviewer(1, UNI), Reviewer(2, OTHER), Reviewer(3, LAB_A, CNRS)]
    teams = [team(Member(1, OTHER), proposal_id=7), team(Member(9, LAB_B, CNRS), proposal_id=8)]
    # 7: reviewer 1 on team, reviewer 2 same institution as member 1; 8: reviewer 3 same parent.
    assert conflicted_pairs(reviewers, teams) == {(1, 7), (2, 7), (3, 8)}
