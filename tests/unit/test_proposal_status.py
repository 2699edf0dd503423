"""The proposal status machine, checked over every pair of states (DESIGN.md §3)."""

from itertools import product

import pytest

from app.core.errors import InvalidState
from app.proposals.status import TERMINAL, TRANSITIONS, ProposalStatus, can_move, check_move, is_withdrawable

S = ProposalStatus

#: the whole machine written out by hand, independently of the module's tables
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.ACCEPTED),
    (S.UNDER_REVIEW, S.RESERVE),
    (S.UNDER_REVIEW, S.REJECTED),
    (S.RESERVE, S.ACCEPTED),
    (S.ACCEPTED, S.SCHEDULED),
    (S.SCHEDULED, S.COMPLETED),
    (S.DRAFT, S.WITHDRAWN),
    (S.SUBMITTED, S.WITHDRAWN),
    (S.UNDER_REVIEW, S.WITHDRAWN),
    (S.ACCEPTED, S.WITHDRAWN),
    (S.RESERVE, S.WITHDRAWN),
}


@pytest.mark.parametrize(("current", "target"), list(product(S, S)), ids=lambda s: s.value)
def test_every_pair_of_states(current, target):
    expected = (current, target) in ALLOWED
    assert can_move(current, target) is expected
    if expected:
        assert check_move(current, target) is target
    else:
        with pytest.raises(InvalidState) as info:
            check_move(current, target)
        assert info.value.code == "proposal_status_move"
        assert info.value.params == {"current": current.value, "target": target.value}


def test_the_table_covers_every_state():
    assert set(TRANSITIONS) == set(S)


def test_withdrawn_only_before_scheduled():
    assert {s for s in S if is_withdrawable(s)} == {S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.ACCEPTED, S.RESERVE}


def test_terminal_states():
    assert TERMINAL == {S.REJECTED, S.COMPLETED, S.WITHDRAWN}


def test_no_state_moves_to_itself_or_back_to_draft():
    assert not any(can_move(s, s) for s in S)
    assert not any(can_move(s, S.DRAFT) for s in S)


def test_strings_are_accepted():
    assert can_move("draft", "submitted")
    with pytest.raises(ValueError):
        can_move("draft", "nonsense")


def test_every_state_is_reachable_from_draft():
    seen, todo = {S.DRAFT}, [S.DRAFT]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(S)
