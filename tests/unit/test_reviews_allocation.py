"""Allocation on hand-computed examples, and against a plain reference on random inputs."""

import functools
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reviews.allocation import (
    Allocation,
    Award,
    Policy,
    Reason,
    Request,
    allocate,
    capacity_line,
    reallocate,
)

R = Reason
FEB = datetime(2027, 2, 1, 12, 0)


def req(ref, rank, grade, requested, recommended=None, *, day=1, instrument="ID23", cycles=1):
    return Request(
        f"{ref}/{instrument}", ref, instrument, rank, grade, FEB.replace(day=day), requested, recommended, cycles
    )


# ID23, capacity 30, minimum award 3. In final rank order, ties broken as the rule says:
EXAMPLE = [
    req("2027-I-0001", 6, 3.1, 4),  # rank 6
    req("2027-I-0012", 4, 4.0, 6, day=3),  # rank 4, same grade as 0005 but submitted later
    req("2027-I-0005", 4, 4.0, 9, day=2),  # rank 4, earlier: before 0012
    req("2027-I-0003", 2, 4.2, 6, 2),  # rank 2, lower grade than 0009; recommended 2 < minimum 3
    req("2027-I-0009", 2, 4.6, 8, day=5),  # rank 2, higher grade: first of the tie
    req("2027-I-0007", 1, 4.8, 12, 10),  # rank 1, recommended 10 of 12 requested
]


def award(ref, position, asked, before, got, reason, commitments=(), instrument="ID23"):
    return Award(f"{ref}/{instrument}", ref, instrument, position, asked, before, got, reason, commitments)


def test_hand_computed_skip_over_ties_and_a_partial_award():
    result = allocate(EXAMPLE, {"ID23": 30}, Policy(minimum_award=3))
    assert result.awards == (
        award("2027-I-0007", 1, 10, 30, 10, R.FULL),  # recommended 10 (not the 12 requested): 30 − 10 = 20
        award("2027-I-0009", 2, 8, 20, 8, R.FULL),  # tie on rank 2: grade 4.6 > 4.2. 20 − 8 = 12
        award("2027-I-0003", 3, 2, 12, 0, R.BELOW_MINIMUM),  # min(2, 12) = 2 < 3: nothing, skip over it
        award("2027-I-0005", 4, 9, 12, 9, R.FULL),  # tie on rank and grade: submitted 2 Feb < 3 Feb. 12 − 9 = 3
        award("2027-I-0012", 5, 6, 3, 3, R.PARTIAL),  # min(6, 3) = 3 ≥ 3: partial. 3 − 3 = 0
        award("2027-I-0001", 6, 4, 0, 0, R.NO_CAPACITY),  # min(4, 0) = 0 < 3
    )
    assert result.remaining == {"ID23": 0}
    assert result.commitments == {}


def test_stop_at_the_first_that_does_not_fit():
    result = allocate(EXAMPLE, {"ID23": 30}, Policy(minimum_award=3, stop_at_first_misfit=True))
    assert [(a.reference, a.awarded, a.reason) for a in result.awards] == [
        ("2027-I-0007", 10, R.FULL),
        ("2027-I-0009", 8, R.FULL),
        ("2027-I-0003", 0, R.BELOW_MINIMUM),  # does not fit: the walk stops here
        ("2027-I-0005", 0, R.STOPPED),
        ("2027-I-0012", 0, R.STOPPED),
        ("2027-I-0001", 0, R.STOPPED),
    ]
    assert result.remaining == {"ID23": 12}  # 30 − 10 − 8


def test_ties_on_rank_grade_and_submission_go_by_reference():
    same = dict(day=4, instrument="BM01")
    result = allocate([req("2027-I-0020", 1, 3.5, 6, **same), req("2027-I-0018", 1, 3.5, 6, **same)], {"BM01": 10})
    assert result.awards == (
        award("2027-I-0018", 1, 6, 10, 6, R.FULL, instrument="BM01"),  # 0018 < 0020. 10 − 6 = 4
        award("2027-I-0020", 2, 6, 4, 4, R.PARTIAL, instrument="BM01"),  # min(6, 4) = 4 ≥ 1
    )


def test_a_missing_grade_sorts_after_any_grade():
    result = allocate([req("A", 1, None, 5), req("B", 1, 1.0, 5)], {"ID23": 5})
    assert [(a.reference, a.awarded) for a in result.awards] == [("B", 5), ("A", 0)]


def test_long_term_award_records_commitments_on_the_following_cycles():
    requests = [
        req("2027-I-0042", 1, 4.9, 8, 6, instrument="ID11", cycles=3),  # long-term, 3 cycles
        req("2027-I-0043", 2, 4.1, 16, instrument="ID11", cycles=2),
        req("2027-I-0044", 3, 4.0, 5, instrument="ID11", cycles=2),  # gets nothing: no commitment
    ]
    result = allocate(requests, {"ID11": 20}, Policy(minimum_award=3), following_cycles=("2027-II", "2028-I"))
    assert result.awards == (
        # recommended 6 ≤ 20: 6 now, and 6 on each of the next two cycles. 20 − 6 = 14
        award("2027-I-0042", 1, 6, 20, 6, R.FULL, (("2027-II", 6), ("2028-I", 6)), instrument="ID11"),
        # min(16, 14) = 14, partial; 2 cycles: 14 on 2027-II. 14 − 14 = 0
        award("2027-I-0043", 2, 16, 14, 14, R.PARTIAL, (("2027-II", 14),), instrument="ID11"),
        award("2027-I-0044", 3, 5, 0, 0, R.NO_CAPACITY, instrument="ID11"),
    )
    assert result.commitments == {"2027-II": {"ID11": 20}, "2028-I": {"ID11": 6}}


def test_long_term_award_needs_the_following_cycles_named():
    with pytest.raises(ValueError, match="3 cycles"):
        allocate([req("A", 1, 5.0, 4, cycles=3)], {"ID23": 10}, following_cycles=("2027-II",))


def test_not_recommended_is_passed_over_and_never_stops_the_walk():
    requests = [req("A", 1, 5.0, 9, 0), req("B", 2, 4.0, 4)]
    result = allocate(requests, {"ID23": 10}, Policy(minimum_award=3, stop_at_first_misfit=True))
    assert [(a.reference, a.awarded, a.reason) for a in result.awards] == [
        ("A", 0, R.NOT_RECOMMENDED),
        ("B", 4, R.FULL),
    ]


def test_instruments_are_independent_and_missing_capacity_is_zero():
    result = allocate([req("A", 1, 5.0, 4, instrument="X"), req("B", 1, 5.0, 4, instrument="Y")], {"X": 10})
    assert [(a.instrument, a.awarded, a.reason) for a in result.awards] == [("X", 4, R.FULL), ("Y", 0, R.NO_CAPACITY)]
    assert result.remaining == {"X": 6, "Y": 0}


def test_minimum_award_is_at_least_one_shift():
    with pytest.raises(ValueError):
        Policy(minimum_award=0)


def test_reserve_rule_gives_freed_shifts_to_the_highest_ranked_reserve():
    # 2027-I-0009 withdraws its 8 shifts on ID23 (nothing was left over). Reserve on ID23: 0003
    # (recommended 2), 0001 (4), 0030 (10); a reserve request on another instrument is ignored.
    reserve = [
        req("2027-I-0030", 8, 2.9, 10),
        EXAMPLE[0],  # 0001, rank 6
        EXAMPLE[3],  # 0003, rank 2
        req("2027-I-0031", 1, 5.0, 10, instrument="BM01"),
    ]
    result = reallocate("ID23", 8, reserve, Policy(minimum_award=3))
    assert result.awards == (
        award("2027-I-0003", 1, 2, 8, 0, R.BELOW_MINIMUM),  # 2 < 3: skipped
        award("2027-I-0001", 2, 4, 8, 4, R.FULL),  # 8 − 4 = 4
        award("2027-I-0030", 3, 10, 4, 4, R.PARTIAL),  # min(10, 4) = 4
    )
    assert result.remaining == {"ID23": 0}


def test_capacity_line_and_oversubscription():
    line = capacity_line(EXAMPLE, 30)
    # asked in order: 10, 8, 2, 9, 6, 4 → cumulated 10, 18, 20, 29, 35: passes 30 at position 5
    assert (line.asked, line.first_over) == (39, 5)
    assert line.requested == 12 + 8 + 6 + 9 + 6 + 4 == 45
    assert line.oversubscription == 45 / 30
    assert capacity_line(EXAMPLE, 0).oversubscription is None


# --- A plain reference, written from the rule in the issue, compared on random inputs -------------


def reference_allocate(requests, capacity, minimum, stop, following):
    def compare(a, b):
        if a.rank != b.rank:
            return -1 if a.rank < b.rank else 1
        ga = a.mean_grade if a.mean_grade is not None else -1e9
        gb = b.mean_grade if b.mean_grade is not None else -1e9
        if ga != gb:
            return -1 if ga > gb else 1
        if a.submitted_at != b.submitted_at:
            return -1 if a.submitted_at < b.submitted_at else 1
        if a.reference != b.reference:
            return -1 if a.reference < b.reference else 1
        return -1 if a.key < b.key else (1 if a.key > b.key else 0)

    awards, remaining, commitments = [], {}, {}
    for instrument in sorted({r.instrument for r in requests}):
        left = max(capacity.get(instrument, 0), 0)
        stopped = False
        mine = sorted((r for r in requests if r.instrument == instrument), key=functools.cmp_to_key(compare))
        for position, r in enumerate(mine, start=1):
            asked = r.recommended if r.recommended is not None else r.requested
            got = 0
            if r.recommended == 0:
                reason = Reason.NOT_RECOMMENDED
            elif stopped:
                reason = Reason.STOPPED
            elif min(asked, left) >= minimum:
                got = min(asked, left)
                reason = Reason.FULL if got == asked else Reason.PARTIAL
            else:
                reason = Reason.BELOW_MINIMUM if asked < minimum else Reason.NO_CAPACITY
                if stop:
                    stopped = True
            promised = []
            if got > 0:
                for name in following[: r.cycles - 1]:
                    promised.append((name, got))
                    commitments.setdefault(name, {})
                    commitments[name][instrument] = commitments[name].get(instrument, 0) + got
            awards.append(Award(r.key, r.reference, instrument, position, asked, left, got, reason, tuple(promised)))
            left -= got
        remaining[instrument] = left
    return Allocation(tuple(awards), remaining, commitments)


@st.composite
def problems(draw):
    n = draw(st.integers(0, 25))
    instruments = ["A", "B", "C"]
    requests = []
    for i in range(n):
        requests.append(
            Request(
                key=f"k{i}",
                reference=f"2027-I-{draw(st.integers(1, 12)):04d}",
                instrument=draw(st.sampled_from(instruments)),
                rank=draw(st.integers(1, 6)),
                mean_grade=draw(st.one_of(st.none(), st.sampled_from([1.0, 2.5, 3.0, 4.5, 5.0]))),
                submitted_at=FEB + timedelta(days=draw(st.integers(0, 3))),
                requested=draw(st.integers(1, 15)),
                recommended=draw(st.one_of(st.none(), st.integers(0, 15))),
                cycles=draw(st.integers(1, 3)),
            )
        )
    capacity = {i: draw(st.integers(-2, 60)) for i in instruments if draw(st.booleans())}
    return requests, capacity, draw(st.integers(1, 6)), draw(st.booleans())


@given(problems())
def test_allocation_equals_the_reference(problem):
    requests, capacity, minimum, stop = problem
    following = ("2027-II", "2028-I")
    result = allocate(requests, capacity, Policy(minimum, stop), following)
    assert result == reference_allocate(requests, capacity, minimum, stop, following)
    for instrument, left in result.remaining.items():
        used = sum(a.awarded for a in result.awards if a.instrument == instrument)
        assert left >= 0 and used + left == max(capacity.get(instrument, 0), 0)
