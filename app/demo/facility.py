"""The demo facility (facility part): settings, operating modes, about 20 instruments, a
member-country consortium, two past cycles and the next one with their operating calendars.

Idempotent (what exists is left alone) and deterministic (no randomness: everything derives
from `today`, which defaults to the real date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.core.transaction import unit_of_work
from app.facility import queries, services
from app.facility.models import BookingKind

FACILITY = {
    "name": "Helvetic Light Source",
    "host_country": "CH",
    "timezone": "Europe/Zurich",
    "shift_pattern": ["00:00", "08:00", "16:00"],
    "letterhead": "<p><strong>Helvetic Light Source</strong> · User Office</p>"
    "<p>Forschungsstrasse 1, 5232 Villigen, Switzerland</p>",
}
PARTITIONS = {"in_house": "10", "rapid_access": "5", "proprietary": "3"}
MODES = [
    ("multibunch", "Multibunch (400 mA)"),
    ("timing-16b", "16-bunch timing (90 mA)"),
    ("hybrid", "Hybrid (7/8 + 1 camshaft)"),
]
#: (code, name, techniques, min session, changeover, active)
INSTRUMENTS: list[tuple[str, str, list[str], int, int, bool]] = [
    ("MX1", "Macromolecular crystallography", ["macromolecular crystallography", "SAD/MAD phasing"], 1, 0, True),
    ("MX2", "Microfocus MX", ["macromolecular crystallography", "serial crystallography"], 1, 0, True),
    ("SAXS", "Small- and wide-angle scattering", ["SAXS", "WAXS", "USAXS"], 3, 1, True),
    ("BIOSAXS", "Solution scattering for biology", ["BioSAXS", "SEC-SAXS"], 2, 0, True),
    ("XAS", "Hard X-ray absorption spectroscopy", ["XAS", "XANES", "EXAFS"], 3, 1, True),
    ("QEXAFS", "Quick-scanning EXAFS", ["quick EXAFS", "operando spectroscopy"], 6, 1, True),
    ("PXRD", "Powder diffraction", ["powder diffraction", "total scattering (PDF)"], 3, 0, True),
    ("HRPD", "High-resolution powder diffraction", ["powder diffraction", "in situ diffraction"], 3, 0, True),
    (
        "TOMO",
        "Imaging and micro-tomography",
        ["X-ray imaging", "micro-tomography", "phase-contrast imaging"],
        3,
        1,
        True,
    ),
    ("NANO", "Hard X-ray nanoprobe", ["X-ray fluorescence mapping", "nano-diffraction", "ptychography"], 6, 2, True),
    ("ARPES", "Angle-resolved photoemission", ["ARPES", "spin-resolved ARPES"], 9, 2, True),
    ("XPS", "Ambient-pressure photoelectron spectroscopy", ["XPS", "NAP-XPS"], 6, 1, True),
    ("RIXS", "Resonant inelastic scattering", ["RIXS", "soft X-ray absorption"], 9, 2, True),
    ("XMCD", "Magnetic dichroism", ["XMCD", "XMLD", "soft X-ray absorption"], 6, 1, True),
    ("PEEM", "Photoemission electron microscopy", ["PEEM", "LEEM"], 9, 2, True),
    ("SURF", "Surface diffraction", ["surface X-ray diffraction", "GIXRD", "GISAXS"], 6, 1, True),
    ("XPCS", "Coherent scattering", ["XPCS", "coherent diffraction imaging"], 6, 1, True),
    ("HP", "Extreme conditions", ["high-pressure diffraction", "diamond anvil cell"], 6, 1, True),
    ("IR", "Infrared microspectroscopy", ["FTIR microspectroscopy", "IR imaging"], 3, 0, True),
    ("STXM", "Scanning transmission X-ray microscopy", ["STXM", "soft X-ray spectromicroscopy"], 6, 1, True),
    ("XRF-OLD", "Microprobe (retired 2025)", ["X-ray fluorescence"], 3, 0, False),
]
#: a consortium of member countries: share of the budget (%) — the host pays the most
CONTRIBUTIONS = {
    "CH": "27.50",
    "DE": "18.00",
    "FR": "15.00",
    "IT": "10.50",
    "ES": "7.00",
    "SE": "5.50",
    "NL": "5.00",
    "BE": "4.00",
    "DK": "3.00",
    "AT": "2.50",
}


def cycle_dates(year: int) -> list[tuple[str, date, date]]:
    """Two cycles a year: I from 1 March to 31 July, II from 24 August to 27 November."""
    return [
        (f"{year}-I", date(year, 3, 1), date(year, 7, 31)),
        (f"{year}-II", date(year, 8, 24), date(year, 11, 27)),
    ]


def demo_cycles(today: date) -> list[tuple[str, date, date]]:
    """The next cycle to start after `today`, and the two before it."""
    candidates = [c for year in range(today.year - 2, today.year + 2) for c in cycle_dates(year)]
    upcoming = next(i for i, c in enumerate(candidates) if c[1] > today)
    return candidates[upcoming - 2 : upcoming + 1]


def seed(*, actor: Any, today: date | None = None, progress=None) -> int:
    """Create what is missing of the demo facility; returns how many objects were created."""
    today = today or date.today()
    created = 0
    with unit_of_work():
        if queries.find_facility() is None:
            services.update_facility(**FACILITY, actor=actor)
            services.update_partitions(**PARTITIONS, actor=actor)
            created += 1
        existing_modes = {m.code: m for m in queries.list_operating_modes()}
        for code, name in MODES:
            if code not in existing_modes:
                existing_modes[code] = services.create_operating_mode(code=code, name=name, actor=actor)
                created += 1
        for index, (code, name, techniques, minimum, changeover, active) in enumerate(INSTRUMENTS):
            if queries.find_instrument_by_code(code) is None:
                services.create_instrument(
                    {
                        "code": code,
                        "name": name,
                        "techniques": techniques,
                        "active": active,
                        # long sessions start in the morning; short ones at any shift
                        "start_shifts": [1] if minimum >= 6 else [0, 1, 2],
                        "start_weekdays": [0, 1, 2, 3, 4] if minimum >= 6 else list(range(7)),
                        "changeover_shifts": changeover,
                        "min_session_shifts": minimum,
                        "description": f"Beamline {index + 1:02d} of the demo facility.",
                    },
                    actor=actor,
                )
                created += 1
        for year in range(today.year - 1, today.year + 2):
            if not queries.list_contributions(year):
                for country, share in CONTRIBUTIONS.items():
                    services.set_contribution(year=year, country=country, share=share, actor=actor)
                    created += 1
        known = {c.name for c in queries.list_cycles()}
        for name, starts_on, ends_on in demo_cycles(today):
            if name in known:
                continue
            cycle = services.create_cycle(name=name, starts_on=starts_on, ends_on=ends_on, actor=actor)
            created += 1 + _seed_calendar(cycle, existing_modes, actor=actor)
    if progress is not None:
        progress.print(f"demo facility: {created} new object(s)")
    return created


def _seed_calendar(cycle, modes: dict, *, actor: Any) -> int:
    """Start-up machine days, a mid-cycle shutdown, monthly machine days, a timing-mode
    fortnight, staggered maintenance days per instrument and a few in-house and rapid-access blocks."""
    g = queries.grid()
    # planned well before the cycle starts, as a user office would
    planned_at = datetime.combine(cycle.starts_on - timedelta(days=60), time(9), tzinfo=UTC)
    count = 0

    def span(first: date, last: date, first_shift: int = 0, last_shift: int | None = None):
        last_shift = len(g.pattern) - 1 if last_shift is None else last_shift
        return g.start(first, first_shift), g.end_of(last, last_shift)

    days = (cycle.ends_on - cycle.starts_on).days + 1
    start_up = span(cycle.starts_on, cycle.starts_on + timedelta(days=1))
    services.add_downtime(
        cycle.id,
        kind="machine_day",
        starts_at=start_up[0],
        ends_at=start_up[1],
        title="Machine start-up",
        actor=actor,
        now=planned_at,
    )
    middle = cycle.starts_on + timedelta(days=days // 2)
    shutdown = span(middle, middle + timedelta(days=4))
    services.add_downtime(
        cycle.id,
        kind="shutdown",
        starts_at=shutdown[0],
        ends_at=shutdown[1],
        title="Mid-cycle shutdown",
        actor=actor,
        now=planned_at,
    )
    count += 2
    # a machine day every four weeks on a Tuesday, away from the start-up and the shutdown
    day = cycle.starts_on + timedelta(days=(1 - cycle.starts_on.weekday()) % 7 + 21)
    while day <= cycle.ends_on - timedelta(days=2):
        if not (middle - timedelta(days=1) <= day <= middle + timedelta(days=5)):
            md = span(day, day)
            services.add_downtime(
                cycle.id,
                kind="machine_day",
                starts_at=md[0],
                ends_at=md[1],
                title="Machine day",
                actor=actor,
                now=planned_at,
            )
            count += 1
        day += timedelta(days=28)
    # operating modes: multibunch, a 16-bunch timing fortnight after the shutdown, multibunch again
    timing_from = middle + timedelta(days=5)
    timing_to = min(timing_from + timedelta(days=13), cycle.ends_on - timedelta(days=1))
    cycle_start, cycle_end = g.span(cycle)
    periods = [
        ("multibunch", cycle_start, g.start(timing_from, 0), ""),
        ("timing-16b", g.start(timing_from, 0), g.end_of(timing_to, len(g.pattern) - 1), "Timing-mode fortnight"),
        ("multibunch", g.end_of(timing_to, len(g.pattern) - 1), cycle_end, ""),
    ]
    for code, starts_at, ends_at, note in periods:
        if ends_at > starts_at:
            services.add_mode_period(
                cycle.id,
                mode_id=modes[code].id,
                starts_at=starts_at,
                ends_at=ends_at,
                note=note,
                actor=actor,
                now=planned_at,
            )
            count += 1
    # maintenance: one day every six weeks per instrument, staggered over the weekdays
    instruments = queries.list_instruments(active_only=True)
    for index, instrument in enumerate(instruments):
        day = cycle.starts_on + timedelta(days=7 + (index % 5) + 7 * (index // 5))
        while day <= cycle.ends_on - timedelta(days=1):
            block = span(day, day, 1, 2)  # day and evening shifts
            services.add_block(
                instrument.id,
                cycle.id,
                kind=BookingKind.MAINTENANCE,
                starts_at=block[0],
                ends_at=block[1],
                title="Maintenance day",
                actor=actor,
                now=planned_at,
            )
            count += 1
            day += timedelta(days=42)
    by_code = {i.code: i for i in instruments}
    extras = [
        ("MX1", BookingKind.RAPID_ACCESS, 17, 2, "Rapid-access MX slot"),
        ("MX1", BookingKind.RAPID_ACCESS, 45, 2, "Rapid-access MX slot"),
        ("PXRD", BookingKind.RAPID_ACCESS, 24, 3, "Rapid-access powder slot"),
        ("ARPES", BookingKind.IN_HOUSE, 30, 9, "In-house research: quantum materials"),
        ("TOMO", BookingKind.IN_HOUSE, 52, 6, "In-house research: detector commissioning"),
    ]
    for code, kind, offset, length, title in extras:
        instrument = by_code.get(code)
        if instrument is None or offset + 3 >= days:
            continue
        day = cycle.starts_on + timedelta(days=offset)
        starts_at = g.start(day, 1)
        ends_at = g.start(day, 1 + length)
        if queries.overlapping_booking(instrument.id, starts_at, ends_at) is None:
            services.add_block(
                instrument.id,
                cycle.id,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                title=title,
                actor=actor,
                now=planned_at,
            )
            count += 1
    return count
