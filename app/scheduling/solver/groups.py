"""Split a problem into groups of instruments linked by a shared PI or local contact.

Two instruments are in one group when some person is the PI or local contact of awards on
both. Pins never link groups: they are fixed, so a pinned session of a person only makes that
person busy in whichever group needs them. Groups come out in a stable order (by their first
instrument key) with their instruments sorted.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.scheduling.solver.model import Award


def instrument_groups(awards: Iterable[Award]) -> list[tuple[str, ...]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra

    first_instrument: dict[str, str] = {}
    for award in sorted(awards, key=lambda a: a.key):
        parent.setdefault(award.instrument, award.instrument)
        for person in (award.pi, award.local_contact):
            if person is None:
                continue
            if person in first_instrument:
                union(first_instrument[person], award.instrument)
            else:
                first_instrument[person] = award.instrument
    members: dict[str, list[str]] = {}
    for inst in parent:
        members.setdefault(find(inst), []).append(inst)
    return sorted((tuple(sorted(m)) for m in members.values()), key=lambda g: g[0])
