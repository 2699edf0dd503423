"""Site-access lead times: the boundary day, time zones, working days and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.visits.leadtime import (
    available_days,
    days_missing,
    is_working_day,
    latest_request_day,
    local_day,
    parse_holidays,
)

ARRIVAL = date(2027, 3, 31)  # a Wednesday


def test_calendar_days_boundary_day_is_on_time_and_the_next_is_one_day_late():
    latest = latest_request_day(ARRIVAL, 30, working_days=False)
    assert latest == date(2027, 3, 1)
    assert days_missing(date(2027, 3, 1), ARRIVAL, 30, working_days=False) == 0
    assert days_missing(date(2027, 2, 28), ARRIVAL, 30, working_days=False) == 0
    assert days_missing(date(2027, 3, 2), ARRIVAL, 30, working_days=False) == 1
    assert days_missing(date(2027, 3, 31), ARRIVAL, 30, working_days=False) == 30
    assert days_missing(date(2027, 4, 2), ARRIVAL, 30, working_days=False) == 30


def test_zero_lead_time_is_never_late_before_arrival():
    assert latest_request_day(ARRIVAL, 0, working_days=True) == ARRIVAL
    assert days_missing(date(2027, 3, 30), ARRIVAL, 0, working_days=False) == 0


def test_working_days_skip_the_weekend():
    # 5 working days before Wednesday 31 March: Wed 24 March (24, 25, 26, 29, 30)
    latest = latest_request_day(ARRIVAL, 5, working_days=True)
    assert latest == date(2027, 3, 24)
    assert days_missing(date(2027, 3, 24), ARRIVAL, 5, working_days=True) == 0
    assert days_missing(date(2027, 3, 25), ARRIVAL, 5, working_days=True) == 1
    # Saturday and Sunday after the boundary add nothing: requested Saturday 27 = 2 working days left
    assert available_days(date(2027, 3, 27), ARRIVAL, working_days=True) == 2
    assert days_missing(date(2027, 3, 27), ARRIVAL, 5, working_days=True) == 3


def test_a_holiday_moves_the_boundary_one_working_day_earlier():
    holidays = parse_holidays(["2027-03-29", "not a date"])  # Easter Monday 2027
    assert holidays == frozenset({date(2027, 3, 29)})
    assert not is_working_day(date(2027, 3, 29), holidays)
    latest = latest_request_day(ARRIVAL, 5, working_days=True, holidays=holidays)
    assert latest == date(2027, 3, 23)
    assert days_missing(date(2027, 3, 23), ARRIVAL, 5, working_days=True, holidays=holidays) == 0
    assert days_missing(date(2027, 3, 24), ARRIVAL, 5, working_days=True, holidays=holidays) == 1


def test_time_zones_the_same_instant_is_a_different_facility_day():
    instant = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)  # 1 March in UTC
    assert local_day(instant, "Europe/Zurich") == date(2027, 3, 2)  # already 2 March at the facility
    assert local_day(instant, "America/Chicago") == date(2027, 3, 1)
    # a request at that instant is on time for a facility in Chicago, a day late in Zurich
    assert days_missing(local_day(instant, "America/Chicago"), ARRIVAL, 30, working_days=False) == 0
    assert days_missing(local_day(instant, "Europe/Zurich"), ARRIVAL, 30, working_days=False) == 1


def test_time_zone_east_of_utc_turns_the_day_before_midnight_utc():
    instant = datetime(2027, 2, 28, 15, 30, tzinfo=UTC)  # 28 Feb UTC, 1 March 00:30 in Tokyo (UTC+9)
    assert local_day(instant, "Asia/Tokyo") == date(2027, 3, 1)
    assert days_missing(local_day(instant, "Asia/Tokyo"), ARRIVAL, 30, working_days=False) == 0
    assert days_missing(local_day(instant, "Asia/Tokyo"), ARRIVAL, 31, working_days=False) == 1
