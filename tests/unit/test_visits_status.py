"""The visit state machine, exhaustively: every (state, action, party) is either in the table or refused."""

from __future__ import annotations

import itertools

import pytest

from app.visits.status import TERMINAL, TRANSITIONS, Party, VisitAction, VisitStatus, actions_for, next_status

S, A, P = VisitStatus, VisitAction, Party

EXPECTED = {
    (S.REQUESTED, A.APPROVE, P.OFFICE): S.APPROVED,
    (S.REQUESTED, A.REQUEST_CHANGES, P.OFFICE): S.CHANGES_REQUESTED,
    (S.REQUESTED, A.REFUSE, P.OFFICE): S.REFUSED,
    (S.REQUESTED, A.CANCEL, P.VISITOR): S.CANCELLED,
    (S.REQUESTED, A.WITHDRAW, P.OFFICE): S.CANCELLED,
    (S.REQUESTED, A.WITHDRAW, P.SYSTEM): S.CANCELLED,
    (S.CHANGES_REQUESTED, A.RESUBMIT, P.VISITOR): S.REQUESTED,
    (S.CHANGES_REQUESTED, A.REFUSE, P.OFFICE): S.REFUSED,
    (S.CHANGES_REQUESTED, A.CANCEL, P.VISITOR): S.CANCELLED,
    (S.CHANGES_REQUESTED, A.WITHDRAW, P.OFFICE): S.CANCELLED,
    (S.CHANGES_REQUESTED, A.WITHDRAW, P.SYSTEM): S.CANCELLED,
    (S.APPROVED, A.ARRIVE, P.OFFICE): S.ON_SITE,
    (S.APPROVED, A.WITHDRAW, P.OFFICE): S.CANCELLED,
    (S.APPROVED, A.WITHDRAW, P.SYSTEM): S.CANCELLED,
    (S.ON_SITE, A.COMPLETE, P.OFFICE): S.COMPLETED,
    (S.ON_SITE, A.COMPLETE, P.SYSTEM): S.COMPLETED,
    (S.REGISTERED, A.COMPLETE, P.OFFICE): S.COMPLETED,
    (S.REGISTERED, A.COMPLETE, P.SYSTEM): S.COMPLETED,
    (S.REGISTERED, A.CANCEL, P.VISITOR): S.CANCELLED,
    (S.REGISTERED, A.WITHDRAW, P.OFFICE): S.CANCELLED,
    (S.REGISTERED, A.WITHDRAW, P.SYSTEM): S.CANCELLED,
}


@pytest.mark.parametrize(("status", "action", "party"), list(itertools.product(S, A, P)))
def test_every_combination_is_exactly_as_designed(status, action, party):
    assert next_status(status, action, party) == EXPECTED.get((status, action, party))


def test_terminal_states_have_no_way_out():
    for status in TERMINAL:
        assert all(next_status(status, a, p) is None for a in A for p in P)


def test_visitor_cannot_cancel_once_approved():
    for status in (S.APPROVED, S.ON_SITE, S.COMPLETED):
        assert next_status(status, A.CANCEL, P.VISITOR) is None


def test_table_has_nothing_beyond_the_expected_transitions():
    listed = {(s, a, p) for (s, a), (_to, parties) in TRANSITIONS.items() for p in parties}
    assert listed == set(EXPECTED)


def test_actions_for_the_office_on_a_request():
    assert set(actions_for(S.REQUESTED, P.OFFICE)) == {A.APPROVE, A.REQUEST_CHANGES, A.REFUSE, A.WITHDRAW}
