"""The shift grid: facility-local start times to UTC instants, daylight saving included."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.facility import shifts

ZURICH = ZoneInfo("Europe/Zurich")
THREE = shifts.parse_pattern(["00:00", "08:00", "16:00"])


def test_parse_pattern_accepts_separated_text():
    assert shifts.parse_pattern("07:00, 15:00 23:00") == (time(7), time(15), time(23))


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ([], "shift_pattern_empty"),
        (["8h"], "shift_pattern_format"),
        (["08:00", "08:00"], "shift_pattern_order"),
        (["16:00", "08:00"], "shift_pattern_order"),
        (["24:00"], "shift_pattern_format"),
    ],
)
def test_parse_pattern_refuses_bad_patterns(values, code):
    with pytest.raises(shifts.PatternError) as caught:
        shifts.parse_pattern(values)
    assert caught.value.code == code


def test_ordinary_day_has_three_eight_hour_shifts():
    day = shifts.grid(date(2027, 3, 10), date(2027, 3, 10), THREE, ZURICH)
    assert [s.hours for s in day] == [8, 8, 8]
    assert day[0].starts_at == datetime(2027, 3, 9, 23, 0, tzinfo=UTC)  # 00:00 CET


def test_spring_forward_night_shift_lasts_seven_hours():
    # 28 March 2027: clocks go from 02:00 CET to 03:00 CEST
    day = shifts.grid(date(2027, 3, 28), date(2027, 3, 28), THREE, ZURICH)
    assert [s.hours for s in day] == [7, 8, 8]
    assert day[0].starts_at == datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    assert day[1].starts_at == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)  # 08:00 CEST


def test_fall_back_night_shift_lasts_nine_hours():
    # 31 October 2027: clocks go from 03:00 CEST back to 02:00 CET
    day = shifts.grid(date(2027, 10, 31), date(2027, 10, 31), THREE, ZURICH)
    assert [s.hours for s in day] == [9, 8, 8]


def test_last_shift_runs_to_the_first_of_the_next_day():
    start, end = shifts.span(date(2027, 3, 27), date(2027, 3, 29), THREE, ZURICH)
    assert start == datetime(2027, 3, 26, 23, 0, tzinfo=UTC)
    assert end == datetime(2027, 3, 29, 22, 0, tzinfo=UTC)  # 30 March 00:00 CEST
    assert (end - start).total_seconds() / 3600 == 71


def test_pattern_not_starting_at_midnight():
    pattern = shifts.parse_pattern(["07:00", "15:00", "23:00"])
    day = shifts.grid(date(2027, 3, 27), date(2027, 3, 27), pattern, ZURICH)
    # the 23:00 shift of the 27th ends at 07:00 CEST on the 28th: 7 hours
    assert [s.hours for s in day] == [8, 8, 7]


def test_locate_finds_shift_starts_only():
    instant = shifts.shift_start(date(2027, 3, 28), 1, THREE, ZURICH)
    assert shifts.locate(instant, THREE, ZURICH) == (date(2027, 3, 28), 1)
    assert shifts.locate(datetime(2027, 3, 28, 7, 0, tzinfo=UTC), THREE, ZURICH) is None
    # the end of the last shift of a day is the first shift of the next day
    assert shifts.shift_end(date(2027, 3, 28), 2, THREE, ZURICH) == shifts.shift_start(
        date(2027, 3, 29), 0, THREE, ZURICH
    )
