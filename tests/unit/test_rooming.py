"""Guesthouse bed assignment (app/visits/guesthouse/rooming.py): crafted cases, and random ones
checked by an independent checker and a brute-force minimum of moves."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.visits.guesthouse.rooming import Booking, Reason, Request, Room, RoomKind, assign

D0 = date(2027, 3, 1)


def d(n: int) -> date:
    return D0 + timedelta(days=n)


def single(key: str) -> Room:
    return Room(key, RoomKind.SINGLE, (f"{key}.1",))


def shared(key: str, beds: int = 2) -> Room:
    return Room(key, RoomKind.SHARED, tuple(f"{key}.{i}" for i in range(1, beds + 1)))


def accessible(key: str) -> Room:
    return Room(key, RoomKind.ACCESSIBLE, (f"{key}.1",))


# --- the independent checker ---------------------------------------------------------------


def check_plan(rooms, bookings, requests, plan) -> None:
    """Every rule, recomputed from the output alone."""
    room_of = {bed: room for room in rooms for bed in room.beds}
    by_key = {r.key: r for r in requests}
    occupants: dict[tuple[str, date], list[str]] = {}
    for b in bookings:
        occupants.setdefault((b.bed, b.night), []).append("existing")
    assert {a.request for a in plan.assignments} == set(by_key)
    for a in plan.assignments:
        request = by_key[a.request]
        stay = [request.arrives_on + timedelta(days=i) for i in range((request.departs_on - request.arrives_on).days)]
        placed = [n.night for n in a.nights]
        missing = [u.night for u in a.unplaced]
        assert sorted(placed + missing) == stay, "every night is placed or reported, exactly once"
        assert placed == sorted(placed)
        for n in a.nights:
            room = room_of[n.bed]
            assert n.room == room.key
            if request.needs_accessible:
                assert room.kind is RoomKind.ACCESSIBLE
            if room.kind is RoomKind.SHARED:
                assert request.accepts_sharing, "shared rooms only hold visitors who accept sharing"
            occupants.setdefault((n.bed, n.night), []).append(a.request)
    for (bed, night), people in occupants.items():
        assert len(people) == 1, f"{bed} on {night}: {people}"
    per_room: dict[tuple[str, date], int] = {}
    for bed, night in occupants:
        room = room_of[bed]
        if room.kind is not RoomKind.SHARED:
            per_room[(room.key, night)] = per_room.get((room.key, night), 0) + 1
    placed_by = {(n.bed, n.night) for a in plan.assignments for n in a.nights}
    for (room_key, night), count in per_room.items():
        if count > 1:  # only pre-existing bookings may break it (they are not ours to fix)
            beds = [b for b in next(r for r in rooms if r.key == room_key).beds if (b, night) in placed_by]
            assert not beds, f"single/accessible room {room_key} holds two people on {night}"


def fewest_moves(rooms, taken: set[tuple[str, date]], request: Request) -> int:
    """Brute force (dynamic programming over nights and beds) for one request alone."""
    room_of = {bed: room for room in rooms for bed in room.beds}

    def free(bed, night):
        if (bed, night) in taken:
            return False
        room = room_of[bed]
        if room.kind is RoomKind.SHARED:
            return request.accepts_sharing and not request.needs_accessible
        if request.needs_accessible and room.kind is not RoomKind.ACCESSIBLE:
            return False
        return not any((other, night) in taken for other in room.beds)

    nights = [n for n in request.nights if any(free(b, n) for b in room_of)]

    @cache
    def best(i: int, bed: str) -> int:
        if i == len(nights):
            return 0
        return min((0 if b == bed else 1) + best(i + 1, b) for b in room_of if free(b, nights[i]))

    if not nights:
        return 0
    return min(best(1, b) for b in room_of if free(b, nights[0]))


# --- crafted cases -------------------------------------------------------------------------


def test_one_bed_for_the_whole_stay_when_one_is_free():
    rooms = [single("A"), single("B")]
    bookings = [Booking("A.1", d(2))]  # A is taken on the third night: B holds the whole stay
    plan = assign(rooms, bookings, [Request("v", d(0), d(5))])
    a = plan.of("v")
    assert {n.bed for n in a.nights} == {"B.1"} and a.moves == 0 and not a.unplaced


def test_fewest_moves_when_no_bed_is_free_all_stay():
    rooms = [single("A"), single("B"), single("C")]
    # A free nights 0-1, B free nights 0-3, C free nights 2-5: B then C is one move
    bookings = [Booking("A.1", d(n)) for n in range(2, 6)] + [Booking("B.1", d(n)) for n in (4, 5)]
    bookings += [Booking("C.1", d(n)) for n in (0, 1)]
    a = assign(rooms, bookings, [Request("v", d(0), d(6))]).of("v")
    assert a.moves == 1
    assert [n.bed for n in a.nights] == ["B.1"] * 4 + ["C.1"] * 2


def test_shared_rooms_hold_only_visitors_who_accept_sharing():
    rooms = [shared("S", 2)]
    plan = assign(rooms, [], [Request("alone", d(0), d(2)), Request("friendly", d(0), d(2), accepts_sharing=True)])
    assert not plan.of("alone").nights
    assert {u.reason for u in plan.of("alone").unplaced} == {Reason.ONLY_SHARED_FREE}
    assert len(plan.of("friendly").nights) == 2


def test_two_sharers_fill_one_shared_room():
    rooms = [shared("S", 2), single("A")]
    plan = assign(
        rooms, [], [Request("x", d(0), d(3), accepts_sharing=True), Request("y", d(0), d(3), accepts_sharing=True)]
    )
    assert {n.room for a in plan.assignments for n in a.nights} == {"S"}  # the single room stays free
    check_plan(
        rooms,
        [],
        [Request("x", d(0), d(3), accepts_sharing=True), Request("y", d(0), d(3), accepts_sharing=True)],
        plan,
    )
    assert all(a.moves == 0 for a in plan.assignments)


def test_accessible_need_is_honoured_and_reported():
    rooms = [single("A"), accessible("H")]
    requests = [Request("w", d(0), d(2), needs_accessible=True), Request("v", d(0), d(2))]
    plan = assign(rooms, [], requests)
    assert {n.room for n in plan.of("w").nights} == {"H"}
    assert {n.room for n in plan.of("v").nights} == {"A"}
    no_room = assign([single("A")], [], [Request("w", d(0), d(1), needs_accessible=True)]).of("w")
    assert [u.reason for u in no_room.unplaced] == [Reason.NO_ACCESSIBLE_ROOM]
    full = assign([accessible("H")], [Booking("H.1", d(0))], [Request("w", d(0), d(2), needs_accessible=True)]).of("w")
    assert [(u.night, u.reason) for u in full.unplaced] == [(d(0), Reason.ACCESSIBLE_FULL)]
    assert [n.night for n in full.nights] == [d(1)]


def test_accessible_rooms_go_last_to_visitors_who_do_not_need_them():
    plan = assign([accessible("H"), single("A")], [], [Request("v", d(0), d(1))])
    assert plan.of("v").nights[0].room == "A"


def test_full_house_reports_each_night():
    plan = assign([single("A")], [Booking("A.1", d(0)), Booking("A.1", d(1))], [Request("v", d(0), d(3))])
    a = plan.of("v")
    assert [(u.night, u.reason) for u in a.unplaced] == [(d(0), Reason.FULL), (d(1), Reason.FULL)]
    assert [n.night for n in a.nights] == [d(2)]


def test_a_single_room_with_two_beds_holds_one_visitor_a_night():
    rooms = [Room("A", RoomKind.SINGLE, ("A.1", "A.2"))]
    plan = assign(rooms, [], [Request("x", d(0), d(1)), Request("y", d(0), d(1))])
    assert plan.unplaced == 1


def test_deterministic_and_order_of_input_does_not_matter():
    rooms = [single("A"), shared("S", 3), accessible("H")]
    requests = [
        Request("a", d(0), d(4), accepts_sharing=True),
        Request("b", d(1), d(3)),
        Request("c", d(0), d(2), needs_accessible=True),
        Request("e", d(2), d(6)),
    ]
    first = assign(rooms, [], requests)
    again = assign(rooms, [], list(reversed(requests)))
    assert {a.request: a for a in first.assignments} == {a.request: a for a in again.assignments}
    check_plan(rooms, [], requests, first)


@pytest.mark.parametrize(
    "rooms, bookings, requests",
    [
        ([single("A"), single("A")], [], []),
        ([Room("A", RoomKind.SINGLE, ())], [], []),
        ([single("A")], [Booking("Z.1", d(0))], []),
        ([single("A")], [Booking("A.1", d(0)), Booking("A.1", d(0))], []),
        ([single("A")], [], [Request("v", d(2), d(2))]),
        ([single("A")], [], [Request("v", d(0), d(1)), Request("v", d(1), d(2))]),
    ],
)
def test_inconsistent_input_is_refused(rooms, bookings, requests):
    with pytest.raises(ValueError):
        assign(rooms, bookings, requests)


# --- random cases --------------------------------------------------------------------------

KINDS = st.sampled_from(list(RoomKind))


@st.composite
def houses(draw):
    rooms = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(KINDS)
        beds = 1 if kind is not RoomKind.SHARED else draw(st.integers(1, 3))
        if kind is RoomKind.SINGLE and draw(st.booleans()):
            beds = 2
        rooms.append(Room(f"R{i}", kind, tuple(f"R{i}.{j}" for j in range(beds))))
    beds = [b for r in rooms for b in r.beds]
    taken = draw(st.sets(st.tuples(st.sampled_from(beds), st.integers(0, 9)), max_size=12))
    # pre-existing bookings obey the room rules themselves
    bookings, used_rooms = [], set()
    room_of = {b: r for r in rooms for b in r.beds}
    for bed, n in sorted(taken):
        room = room_of[bed]
        if room.kind is not RoomKind.SHARED and (room.key, n) in used_rooms:
            continue
        used_rooms.add((room.key, n))
        bookings.append(Booking(bed, d(n)))
    return rooms, bookings


@st.composite
def requests_(draw, max_size=6):
    out = []
    for i in range(draw(st.integers(0, max_size))):
        start = draw(st.integers(0, 8))
        length = draw(st.integers(1, 5))
        out.append(Request(f"q{i}", d(start), d(start + length), draw(st.booleans()), draw(st.booleans())))
    return out


@given(houses(), requests_())
def test_random_plans_keep_every_rule(house, requests):
    rooms, bookings = house
    plan = assign(rooms, bookings, requests)
    check_plan(rooms, bookings, requests, plan)
    assert plan == assign(rooms, bookings, requests)


@given(houses(), requests_(max_size=1).filter(lambda r: len(r) == 1))
def test_random_single_request_has_the_fewest_moves(house, requests):
    rooms, bookings = house
    a = assign(rooms, bookings, requests).of("q0")
    assert a.moves == fewest_moves(rooms, {(b.bed, b.night) for b in bookings}, requests[0])


@given(houses(), requests_(max_size=1).filter(lambda r: len(r) == 1))
def test_every_night_with_a_suitable_free_bed_is_placed(house, requests):
    rooms, bookings = house
    request = requests[0]
    a = assign(rooms, bookings, requests).of("q0")
    taken = {(b.bed, b.night) for b in bookings}
    for u in a.unplaced:
        for room in rooms:
            if request.needs_accessible and room.kind is not RoomKind.ACCESSIBLE:
                continue
            if room.kind is RoomKind.SHARED and not request.accepts_sharing:
                continue
            if room.kind is RoomKind.SHARED:
                assert all((b, u.night) in taken for b in room.beds)
            else:
                assert any((b, u.night) in taken for b in room.beds)
