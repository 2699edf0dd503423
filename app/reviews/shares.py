"""Fair-return warnings on an allocation (issue 5) — warnings, never blocks.

Pure: plain values in and out; no Flask, no SQLAlchemy, no `app.` imports.

- **Country share**: each award's shifts are split equally over its team's members by their
  affiliation *snapshot* country (a team of FR, FR, DE gives FR 2/3 and DE 1/3 of the shifts;
  a member without a country — an international organisation — counts as "none"). A member
  country whose share of all awarded shifts falls more than `tolerance` percentage points
  below its contribution share gets a warning.
- **Non-member PIs**: the share of awarded shifts going to proposals whose PI's snapshot
  country is not a member country; above `non_member_max` percent it is a warning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

NONE = "none"


@dataclass(frozen=True, slots=True)
class AwardedTeam:
    shifts: int
    member_countries: Sequence[str | None]  # one entry per team member (snapshot)
    pi_country: str | None


@dataclass(frozen=True, slots=True)
class CountryShare:
    country: str
    shifts: float
    percent: float  # of all awarded shifts
    contribution: float | None  # percent of the budget, None for non-members
    warning: bool


@dataclass(frozen=True, slots=True)
class Shares:
    total: int
    countries: tuple[CountryShare, ...]  # members first by contribution, then the others by shifts
    non_member_pi_percent: float
    non_member_warning: bool

    @property
    def warnings(self) -> int:
        return sum(c.warning for c in self.countries) + int(self.non_member_warning)


def shares(
    teams: Iterable[AwardedTeam],
    contributions: Mapping[str, float],
    *,
    tolerance: float,
    non_member_max: float,
) -> Shares:
    """Country shares of the awarded shifts against the contribution shares (module docstring)."""
    by_country: dict[str, float] = defaultdict(float)
    total = 0
    non_member = 0
    for team in teams:
        if team.shifts <= 0:
            continue
        total += team.shifts
        members = list(team.member_countries) or [team.pi_country]
        part = team.shifts / len(members)
        for country in members:
            by_country[country or NONE] += part
        if team.pi_country not in contributions:
            non_member += team.shifts

    def percent(value: float) -> float:
        return 100.0 * value / total if total else 0.0

    rows = []
    for country, contribution in sorted(contributions.items(), key=lambda item: (-item[1], item[0])):
        got = percent(by_country.get(country, 0.0))
        rows.append(
            CountryShare(
                country, by_country.get(country, 0.0), got, contribution, total > 0 and got < contribution - tolerance
            )
        )
    for country, shifts in sorted(by_country.items(), key=lambda item: (-item[1], item[0])):
        if country not in contributions:
            rows.append(CountryShare(country, shifts, percent(shifts), None, False))
    non_member_percent = percent(non_member)
    return Shares(total, tuple(rows), non_member_percent, non_member_percent > non_member_max)
