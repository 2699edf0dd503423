"""Fair-return warnings on a hand-computed example."""

import pytest

from app.reviews.shares import AwardedTeam, shares


def test_country_shares_by_snapshot_and_the_warnings():
    teams = [
        AwardedTeam(6, ["FR", "FR", "DE"], "FR"),  # FR 4, DE 2
        AwardedTeam(3, ["US"], "US"),  # US 3 (non-member PI)
        AwardedTeam(3, ["DE", None], "DE"),  # DE 1.5, none 1.5
        AwardedTeam(0, ["CH"], "CH"),  # no award: not counted
    ]
    result = shares(teams, {"FR": 30.0, "DE": 40.0, "CH": 30.0}, tolerance=5.0, non_member_max=20.0)
    assert result.total == 12
    got = {c.country: (round(c.shifts, 2), round(c.percent, 2), c.contribution, c.warning) for c in result.countries}
    assert got == {
        "DE": (3.5, 29.17, 40.0, True),  # 29.17 < 40 − 5
        "FR": (4.0, 33.33, 30.0, False),
        "CH": (0.0, 0.0, 30.0, True),
        "US": (3.0, 25.0, None, False),
        "none": (1.5, 12.5, None, False),
    }
    assert [c.country for c in result.countries] == ["DE", "CH", "FR", "US", "none"]
    assert result.non_member_pi_percent == pytest.approx(25.0)
    assert result.non_member_warning
    assert result.warnings == 3


def test_nothing_awarded_warns_of_nothing():
    result = shares([], {"FR": 50.0}, tolerance=5.0, non_member_max=20.0)
    assert result.total == 0 and result.warnings == 0
