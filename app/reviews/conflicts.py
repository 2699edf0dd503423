"""Conflicts of interest between a reviewer and a proposal (DESIGN.md §3, issue 5).

Pure: plain dataclasses in and out; no Flask, no SQLAlchemy, no `app.` imports.

A reviewer is conflicted with a proposal when (one `Conflict` per kind and team member):

- ``on_team``                  the reviewer is a member of the team;
- ``same_institution``         the reviewer's institution is a member's snapshot institution;
- ``same_parent_institution``  the two institutions differ but belong to one family: the same
                               parent, or one is the parent of the other (a CNRS laboratory and
                               CNRS, two Max Planck institutes);
- ``co_proposer``              the reviewer and a member were on one proposal of a cycle that
                               started within the window (setting, default 3 years) before this
                               proposal's cycle started: on or after the same calendar day
                               `window_years` earlier (29 February → 28 February), so a cycle that
                               started exactly 3 years earlier still counts; later cycles count too;
- ``declared``                 the reviewer declared a conflict with this proposal.

Institution kinds compare the team's affiliation *snapshot* (frozen when the call closed) with
the reviewer's current institution. The reviewer's own membership gives only ``on_team``: being
at one's own institution is not a second conflict.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

DEFAULT_WINDOW_YEARS = 3


class ConflictKind(enum.StrEnum):
    ON_TEAM = "on_team"
    SAME_INSTITUTION = "same_institution"
    SAME_PARENT_INSTITUTION = "same_parent_institution"
    CO_PROPOSER = "co_proposer"
    DECLARED = "declared"


_ORDER = {kind: i for i, kind in enumerate(ConflictKind)}


@dataclass(frozen=True, slots=True)
class Reviewer:
    person_id: int
    institution_id: int | None = None
    parent_institution_id: int | None = None
    declared: frozenset[int] = frozenset()  # proposal ids the reviewer declared a conflict with


@dataclass(frozen=True, slots=True)
class Member:
    """A team member with the affiliation snapshot of the proposal."""

    person_id: int
    institution_id: int | None = None
    parent_institution_id: int | None = None


@dataclass(frozen=True, slots=True)
class Team:
    proposal_id: int
    cycle_starts_on: date  # the window for co-proposals is measured back from here
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class CoProposal:
    """Two people who were on one proposal of a cycle starting on `cycle_starts_on`."""

    person_a: int
    person_b: int
    cycle_starts_on: date


@dataclass(frozen=True, slots=True, order=True)
class Conflict:
    kind: ConflictKind
    member_id: int | None = None  # the team member it comes from (None for a declared conflict)
    since: date | None = None  # co_proposer: the start of the latest shared cycle


@dataclass(slots=True)
class CoProposals:
    """Who proposed with whom, and the latest cycle start they shared: built once per call."""

    latest: dict[int, dict[int, date]] = field(default_factory=dict)

    @classmethod
    def from_pairs(cls, pairs: Iterable[CoProposal]) -> CoProposals:
        index = cls()
        for pair in pairs:
            if pair.person_a == pair.person_b:
                continue
            index._add(pair.person_a, pair.person_b, pair.cycle_starts_on)
            index._add(pair.person_b, pair.person_a, pair.cycle_starts_on)
        return index

    def _add(self, a: int, b: int, on: date) -> None:
        partners = self.latest.setdefault(a, {})
        if b not in partners or partners[b] < on:
            partners[b] = on

    def partners(self, person_id: int) -> Mapping[int, date]:
        return self.latest.get(person_id, {})


def window_start(cycle_starts_on: date, years: int = DEFAULT_WINDOW_YEARS) -> date:
    """The first day of the co-proposal window: the same calendar day `years` earlier."""
    try:
        return cycle_starts_on.replace(year=cycle_starts_on.year - years)
    except ValueError:  # 29 February in a year that has none
        return cycle_starts_on.replace(year=cycle_starts_on.year - years, day=28)


def _family(institution_id: int | None, parent_id: int | None) -> set[int]:
    return {i for i in (institution_id, parent_id) if i is not None}


def find_conflicts(
    reviewer: Reviewer,
    team: Team,
    co_proposals: CoProposals | None = None,
    *,
    window_years: int = DEFAULT_WINDOW_YEARS,
) -> list[Conflict]:
    """Every conflict between `reviewer` and the proposal of `team`, sorted by kind then member."""
    found: list[Conflict] = []
    if team.proposal_id in reviewer.declared:
        found.append(Conflict(ConflictKind.DECLARED))
    partners = co_proposals.partners(reviewer.person_id) if co_proposals is not None else {}
    since = window_start(team.cycle_starts_on, window_years)
    own_family = _family(reviewer.institution_id, reviewer.parent_institution_id)
    for member in team.members:
        if member.person_id == reviewer.person_id:
            found.append(Conflict(ConflictKind.ON_TEAM, member.person_id))
            continue
        if reviewer.institution_id is not None and member.institution_id == reviewer.institution_id:
            found.append(Conflict(ConflictKind.SAME_INSTITUTION, member.person_id))
        elif own_family & _family(member.institution_id, member.parent_institution_id):
            found.append(Conflict(ConflictKind.SAME_PARENT_INSTITUTION, member.person_id))
        shared = partners.get(member.person_id)
        if shared is not None and shared >= since:
            found.append(Conflict(ConflictKind.CO_PROPOSER, member.person_id, shared))
    found.sort(key=lambda c: (_ORDER[c.kind], c.member_id if c.member_id is not None else -1))
    return found


def is_conflicted(
    reviewer: Reviewer,
    team: Team,
    co_proposals: CoProposals | None = None,
    *,
    window_years: int = DEFAULT_WINDOW_YEARS,
) -> bool:
    return bool(find_conflicts(reviewer, team, co_proposals, window_years=window_years))


def conflicted_pairs(
    reviewers: Iterable[Reviewer],
    teams: Iterable[Team],
    co_proposals: CoProposals | None = None,
    *,
    window_years: int = DEFAULT_WINDOW_YEARS,
) -> frozenset[tuple[int, int]]:
    """All (reviewer person id, proposal id) pairs in conflict: the input of the assignment."""
    reviewers = list(reviewers)
    return frozenset(
        (reviewer.person_id, team.proposal_id)
        for team in teams
        for reviewer in reviewers
        if find_conflicts(reviewer, team, co_proposals, window_years=window_years)
    )
