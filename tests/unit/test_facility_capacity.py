"""Capacity arithmetic on hand-computed cycles, one of them across a daylight-saving day."""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.facility import capacity, shifts

ZURICH = ZoneInfo("Europe/Zurich")
THREE = shifts.parse_pattern(["00:00", "08:00", "16:00"])


def at(day: date, index: int):
    return shifts.shift_start(day, index, THREE, ZURICH)


def interval(first: tuple[date, int], last: tuple[date, int]) -> capacity.Interval:
    """From the start of shift `first` to the end of shift `last` (included)."""
    return capacity.Interval(at(*first), shifts.shift_end(*last, THREE, ZURICH))


def test_capacity_across_the_spring_daylight_saving_day():
    # Cycle 27–29 March 2027 in Zurich: 9 shifts, the first of the 28th lasts 7 h (DST).
    d27, d28, d29 = date(2027, 3, 27), date(2027, 3, 28), date(2027, 3, 29)
    grid = shifts.grid(d27, d29, THREE, ZURICH)
    assert len(grid) == 9 and grid[3].hours == 7
    result = capacity.compute(
        grid,
        downtime=[interval((d29, 0), (d29, 0))],  # a machine day morning: 1 shift
        maintenance=[
            interval((d28, 0), (d28, 0)),  # the 7-hour shift: 1 shift
            interval((d29, 0), (d29, 1)),  # 2 shifts, one already lost to downtime: counts 1
        ],
        partitions=capacity.Partitions(in_house=Decimal("10"), rapid_access=Decimal("25"), proprietary=Decimal("8")),
        commitments=1,
    )
    # 9 − 1 − 2 = 6 user shifts; 10 % → 0.6 → 1; 25 % → 1.5 → 2 (half up); 8 % → 0.48 → 0
    assert (result.shifts_in_cycle, result.downtime, result.maintenance, result.user_shifts) == (9, 1, 2, 6)
    assert (result.in_house, result.rapid_access, result.proprietary, result.commitments) == (1, 2, 0, 1)
    assert result.computed == 6 - 1 - 2 - 0 - 1 == 2
    assert result.value == 2 and not result.overridden


def test_capacity_of_a_month_with_a_shutdown_and_partial_maintenance():
    # March 2027 (31 days, 93 shifts; includes the DST night of the 28th)
    grid = shifts.grid(date(2027, 3, 1), date(2027, 3, 31), THREE, ZURICH)
    assert len(grid) == 93
    shutdown = interval((date(2027, 3, 1), 0), (date(2027, 3, 3), 2))  # 3 days: 9 shifts
    machine_days = [interval((date(2027, 3, 16), 0), (date(2027, 3, 16), 2))]  # 3 shifts
    # a maintenance block off the grid (10:00–11:00 local) still costs the whole shift
    ten = at(date(2027, 3, 10), 1) + timedelta(hours=2)
    odd = capacity.Interval(ten, ten + timedelta(hours=1))
    result = capacity.compute(
        grid,
        downtime=[shutdown, *machine_days],
        maintenance=[odd],
        partitions=capacity.Partitions(in_house=Decimal("20"), rapid_access=Decimal("5"), proprietary=Decimal("0")),
        commitments=30,
    )
    assert result.downtime == 12
    assert result.maintenance == 1
    assert result.user_shifts == 80
    assert (result.in_house, result.rapid_access, result.proprietary) == (16, 4, 0)
    assert result.computed == 80 - 16 - 4 - 30 == 30


def test_capacity_is_never_negative_and_override_wins():
    grid = shifts.grid(date(2027, 3, 1), date(2027, 3, 1), THREE, ZURICH)
    result = capacity.compute(grid, commitments=10, override=5, override_reason="beamline upgrade finished early")
    assert result.computed == 0
    assert result.value == 5 and result.overridden


def test_reserve_rounds_half_up_exactly():
    assert capacity.reserve(25, Decimal("10")) == 3  # 2.5 → 3 (not banker's 2)
    assert capacity.reserve(35, Decimal("10")) == 4  # 3.5 → 4
    assert capacity.reserve(24, Decimal("10")) == 2  # 2.4 → 2
    assert capacity.reserve(0, Decimal("50")) == 0


def test_touched_ignores_empty_and_outside_intervals():
    grid = shifts.grid(date(2027, 3, 1), date(2027, 3, 1), THREE, ZURICH)
    before = capacity.Interval(at(date(2027, 2, 27), 0), at(date(2027, 2, 28), 0))
    ending_at_start = capacity.Interval(at(date(2027, 2, 28), 2), at(date(2027, 3, 1), 0))  # back-to-back
    assert capacity.touched(grid, [before, ending_at_start]) == set()
