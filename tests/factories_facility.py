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


def add_facility_objects(world, *, actor) -> None:
    """Give the permission-matrix World the facility objects its rows name (tests/web/permission_matrix.py):
    `facility`, `instrument`, `cycle` (far in the future, so nothing is "in the past"), `mode`,
    `contribution`, `downtime`, `mode_period`, `block` and a capacity `override` on (cycle, instrument).
    `actor` is a staff person (user office or admin)."""
    from app.facility import services

    world.facility = make_facility()
    world.instrument = make_instrument(code="MATRIX1")
    world.cycle = make_cycle(name="2090-I", starts_on=date(2090, 3, 1), ends_on=date(2090, 7, 31))
    world.mode = make_mode(code="matrix-mode", name="Matrix mode")
    g = queries.grid()
    world.contribution = services.set_contribution(year=2090, country="CH", share="10", actor=actor)
    world.downtime = services.add_downtime(
        world.cycle.id,
        kind="shutdown",
        starts_at=g.start(date(2090, 3, 1), 0),
        ends_at=g.start(date(2090, 3, 2), 0),
        title="Matrix shutdown",
        actor=actor,
    )
    world.mode_period = services.add_mode_period(
        world.cycle.id,
        mode_id=world.mode.id,
        starts_at=g.start(date(2090, 3, 1), 0),
        ends_at=g.start(date(2090, 4, 1), 0),
        actor=actor,
    )
    world.block = services.add_block(
        world.instrument.id,
        world.cycle.id,
        kind="maintenance",
        starts_at=g.start(date(2090, 3, 3), 0),
        ends_at=g.start(date(2090, 3, 4), 0),
        title="Matrix maintenance",
        actor=actor,
    )
    world.override = services.set_capacity_override(
        world.cycle.id, world.instrument.id, shifts=5, reason="matrix", actor=actor
    )
