"""Guesthouse bed assignment: the pure core (no Flask, no SQLAlchemy, no `app.` imports).

Rooms have beds and a kind:
- ``single``: one visitor a night, whatever its beds;
- ``accessible``: one visitor a night; the only rooms for visitors who need accessibility
  (others may use them, last);
- ``shared``: one visitor per bed and night, and only visitors who accept sharing.

`assign(rooms, bookings, requests)` places each request's nights on beds so that no bed (and no
single or accessible room) holds two people on one night, with the fewest bed changes for each
visitor: one bed for the whole stay whenever one is free. Requests are placed one after the
other in a fixed order (those needing accessibility first, then by arrival, longest stay first,
then key), so the result is deterministic. A night that cannot be placed is reported with a
reason instead of being dropped.

For one request the number of moves is minimal (a farthest-reaching greedy over the nights
that can be placed: the classic optimal interval cover); across requests the order above is a
heuristic, documented in docs/OUTCOMES.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


class RoomKind(enum.StrEnum):
    SINGLE = "single"
    SHARED = "shared"
    ACCESSIBLE = "accessible"


class Reason(enum.StrEnum):
    """Why a night could not be placed."""

    NO_ACCESSIBLE_ROOM = "no_accessible_room"  # the guesthouse has no accessible room at all
    ACCESSIBLE_FULL = "accessible_full"  # every accessible room is taken that night
    ONLY_SHARED_FREE = "only_shared_free"  # free beds are all in shared rooms; the visitor does not share
    FULL = "full"  # no suitable bed is free that night


@dataclass(frozen=True, slots=True)
class Room:
    key: str
    kind: RoomKind
    beds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Booking:
    """A night already taken on a bed (by someone not being placed now)."""

    bed: str
    night: date


@dataclass(frozen=True, slots=True)
class Request:
    """A visitor's stay: nights from `arrives_on` up to the night before `departs_on`."""

    key: str
    arrives_on: date
    departs_on: date
    needs_accessible: bool = False
    accepts_sharing: bool = False

    @property
    def nights(self) -> tuple[date, ...]:
        count = (self.departs_on - self.arrives_on).days
        return tuple(self.arrives_on + timedelta(days=i) for i in range(count))


@dataclass(frozen=True, slots=True)
class Night:
    night: date
    bed: str
    room: str


@dataclass(frozen=True, slots=True)
class Unplaced:
    night: date
    reason: Reason


@dataclass(frozen=True, slots=True)
class Assignment:
    request: str
    nights: tuple[Night, ...]
    unplaced: tuple[Unplaced, ...]

    @property
    def moves(self) -> int:
        """How many times the visitor changes bed between two placed nights."""
        return sum(1 for a, b in zip(self.nights, self.nights[1:], strict=False) if a.bed != b.bed)

    @property
    def room_changes(self) -> int:
        return sum(1 for a, b in zip(self.nights, self.nights[1:], strict=False) if a.room != b.room)


@dataclass(frozen=True, slots=True)
class Plan:
    assignments: tuple[Assignment, ...]

    def of(self, request: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.request == request:
                return assignment
        raise KeyError(request)

    @property
    def unplaced(self) -> int:
        return sum(len(a.unplaced) for a in self.assignments)


def _validate(rooms: Sequence[Room], requests: Sequence[Request]) -> dict[str, Room]:
    room_of: dict[str, Room] = {}
    seen_rooms: set[str] = set()
    for room in rooms:
        if room.key in seen_rooms:
            raise ValueError(f"room {room.key!r} twice")
        seen_rooms.add(room.key)
        if not room.beds:
            raise ValueError(f"room {room.key!r} has no bed")
        for bed in room.beds:
            if bed in room_of:
                raise ValueError(f"bed {bed!r} twice")
            room_of[bed] = room
    keys: set[str] = set()
    for request in requests:
        if request.key in keys:
            raise ValueError(f"request {request.key!r} twice")
        keys.add(request.key)
        if request.departs_on <= request.arrives_on:
            raise ValueError(f"request {request.key!r}: departure must follow arrival")
    return room_of


def _order(request: Request) -> tuple:
    stay = (request.departs_on - request.arrives_on).days
    return (not request.needs_accessible, request.arrives_on, -stay, request.key)


class _House:
    """Who is where, night by night, while requests are placed."""

    def __init__(self, rooms: Sequence[Room], room_of: dict[str, Room]) -> None:
        self.rooms = list(rooms)
        self.room_of = room_of
        self.position = {bed: i for i, bed in enumerate(b for r in rooms for b in r.beds)}
        self.taken: set[tuple[str, date]] = set()
        self.room_nights: dict[tuple[str, date], int] = {}

    def take(self, bed: str, night: date) -> None:
        if (bed, night) in self.taken:
            raise ValueError(f"bed {bed!r} booked twice on {night}")
        self.taken.add((bed, night))
        key = (self.room_of[bed].key, night)
        self.room_nights[key] = self.room_nights.get(key, 0) + 1

    def free(self, bed: str, night: date) -> bool:
        if (bed, night) in self.taken:
            return False
        room = self.room_of[bed]
        if room.kind is RoomKind.SHARED:
            return True
        return self.room_nights.get((room.key, night), 0) == 0

    def suitable(self, request: Request) -> list[str]:
        beds = []
        for room in self.rooms:
            if request.needs_accessible and room.kind is not RoomKind.ACCESSIBLE:
                continue
            if room.kind is RoomKind.SHARED and not request.accepts_sharing:
                continue
            beds.extend(room.beds)
        return beds

    def preference(self, bed: str, request: Request) -> tuple[int, int]:
        """Lower is better: visitors who share go to shared rooms first, keeping single rooms for
        those who do not; accessible rooms go last to those who do not need them."""
        kind = self.room_of[bed].kind
        if request.needs_accessible:
            rank = 0
        elif kind is RoomKind.SHARED:
            rank = 0
        elif kind is RoomKind.SINGLE:
            rank = 1
        else:
            rank = 2
        return rank, self.position[bed]

    def reason(self, request: Request, night: date) -> Reason:
        if request.needs_accessible:
            if not any(r.kind is RoomKind.ACCESSIBLE for r in self.rooms):
                return Reason.NO_ACCESSIBLE_ROOM
            return Reason.ACCESSIBLE_FULL
        if not request.accepts_sharing and any(
            self.free(bed, night) for r in self.rooms if r.kind is RoomKind.SHARED for bed in r.beds
        ):
            return Reason.ONLY_SHARED_FREE
        return Reason.FULL


def _place(house: _House, request: Request) -> Assignment:
    beds = house.suitable(request)
    placeable: list[date] = []
    free_on: dict[date, list[str]] = {}
    unplaced: list[Unplaced] = []
    for night in request.nights:
        free = [b for b in beds if house.free(b, night)]
        if free:
            placeable.append(night)
            free_on[night] = free
        else:
            unplaced.append(Unplaced(night, house.reason(request, night)))

    # run[i][bed]: how many consecutive placeable nights from index i the bed stays free
    count = len(placeable)
    runs: list[dict[str, int]] = [{} for _ in range(count + 1)]
    for i in range(count - 1, -1, -1):
        following = runs[i + 1]
        runs[i] = {bed: following.get(bed, 0) + 1 for bed in free_on[placeable[i]]}

    nights: list[Night] = []
    current: str | None = None
    for i, night in enumerate(placeable):
        if current is None or current not in runs[i]:
            previous_room = house.room_of[current].key if current is not None else None
            current = min(
                runs[i],
                key=lambda bed: (
                    -runs[i][bed],
                    house.room_of[bed].key != previous_room,
                    *house.preference(bed, request),
                ),
            )
        nights.append(Night(night, current, house.room_of[current].key))
    for placed in nights:
        house.take(placed.bed, placed.night)
    return Assignment(request.key, tuple(nights), tuple(unplaced))


def assign(rooms: Sequence[Room], bookings: Iterable[Booking], requests: Sequence[Request]) -> Plan:
    """Place every request's nights on beds. Deterministic for the same input.

    Raises: ValueError for an inconsistent input (a bed or room twice, a booking on an unknown
    bed or booked twice, a stay that ends before it starts).
    """
    room_of = _validate(rooms, requests)
    house = _House(rooms, room_of)
    for booking in bookings:
        if booking.bed not in room_of:
            raise ValueError(f"booking on unknown bed {booking.bed!r}")
        house.take(booking.bed, booking.night)
    placed = {r.key: _place(house, r) for r in sorted(requests, key=_order)}
    return Plan(tuple(placed[r.key] for r in requests))
