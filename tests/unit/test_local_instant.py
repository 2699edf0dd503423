"""Facility-local wall-clock times to instants: clock-change nights are refused, not guessed."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.facility.shifts import LocalTimeError, local_instant

ZURICH = ZoneInfo("Europe/Zurich")
SANTIAGO = ZoneInfo("America/Santiago")


def test_winter_and_summer_offsets():
    assert local_instant(datetime(2027, 1, 10, 9, 0), ZURICH) == datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
    assert local_instant(datetime(2027, 6, 1, 12, 0), ZURICH) == datetime(2027, 6, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "tz", "code"),
    [
        (datetime(2027, 3, 28, 2, 0), ZURICH, "datetime_nonexistent"),
        (datetime(2027, 3, 28, 2, 59), ZURICH, "datetime_nonexistent"),
        (datetime(2027, 10, 31, 2, 0), ZURICH, "datetime_ambiguous"),
        (datetime(2027, 10, 31, 2, 59), ZURICH, "datetime_ambiguous"),
        # the southern hemisphere: Chile goes back in April, forward in September (at midnight)
        (datetime(2027, 4, 3, 23, 30), SANTIAGO, "datetime_ambiguous"),
        (datetime(2027, 9, 5, 0, 30), SANTIAGO, "datetime_nonexistent"),
    ],
)
def test_clock_change_nights(wall, tz, code):
    with pytest.raises(LocalTimeError) as caught:
        local_instant(wall, tz)
    assert caught.value.code == code


def test_the_hours_around_a_change_are_fine():
    assert local_instant(datetime(2027, 3, 28, 3, 0), ZURICH) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert local_instant(datetime(2027, 10, 31, 3, 0), ZURICH) == datetime(2027, 10, 31, 2, 0, tzinfo=UTC)
