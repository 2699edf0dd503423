"""Factories of the facility domain (issue 3): each builds only what a test asks for."""

from __future__ import annotations

from datetime import date

import factory

from app.facility import queries
from app.facility.models import FACILITY_ID, Cycle, Facility, Instrument, OperatingMode
from tests.factories import _Base


class FacilityFactory(_Base):
    class Meta:
        model = Facility

    id = FACILITY_ID
    name = "Test Light Source"
    host_country = "CH"
    timezone = "Europe/Zurich"
    shift_pattern = factory.LazyFunction(lambda: ["00:00", "08:00", "16:00"])
    letterhead = ""


class InstrumentFactory(_Base):
    class Meta:
        model = Instrument

    code = factory.Sequence(lambda n: f"BL{n:02d}")
    name = factory.Sequence(lambda n: f"Beamline {n}")
    techniques = factory.LazyFunction(lambda: ["powder diffraction"])
    description = ""
    active = True
    start_shifts = factory.LazyFunction(lambda: [0, 1, 2])
    start_weekdays = factory.LazyFunction(lambda: list(range(7)))
    changeover_shifts = 0
    min_session_shifts = 1


class CycleFactory(_Base):
    class Meta:
        model = Cycle

    name = "2027-I"
    starts_on = date(2027, 3, 1)
    ends_on = date(2027, 7, 31)


class OperatingModeFactory(_Base):
    class Meta:
        model = OperatingMode

    code = factory.Sequence(lambda n: f"mode{n}")
    name = factory.Sequence(lambda n: f"Mode {n}")
    active = True


def make_facility(**kwargs) -> Facility:
    existing = queries.find_facility()
    if existing is not None:
        for key, value in kwargs.items():
            setattr(existing, key, value)
        return existing
    return FacilityFactory(**kwargs)


def make_instrument(**kwargs) -> Instrument:
    return InstrumentFactory(**kwargs)


def make_cycle(**kwargs) -> Cycle:
    return CycleFactory(**kwargs)


def make_mode(**kwargs) -> OperatingMode:
    return OperatingModeFactory(**kwargs)
