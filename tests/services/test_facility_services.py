"""Facility services: bad input is refused with a clear message and nothing is stored."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.core.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed
from app.extensions import db
from app.facility import queries, services
from app.facility.models import Booking, Cycle, Facility, Instrument, MemberContribution
from app.web.messages import message
from tests.factories import make_user
from tests.factories_facility import make_cycle, make_facility, make_instrument, make_mode

# planning happens before the cycle: every "now" below is in January 2027
NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff():
    user = make_user(roles=[Role.USER_OFFICE])
    db.session.commit()  # a failing service rolls back to here, not further
    return user


@pytest.fixture
def admin():
    user = make_user(roles=[Role.ADMIN])
    db.session.commit()  # a failing service rolls back to here, not further
    return user


@pytest.fixture
def director():
    user = make_user(roles=[Role.DIRECTOR])
    db.session.commit()  # a failing service rolls back to here, not further
    return user


@pytest.fixture
def setup():
    """A configured facility (Zurich, 00/08/16), one instrument, cycle 2027-I (1 March – 31 July)."""
    facility = make_facility()
    instrument = make_instrument(code="ID01")
    cycle = make_cycle()
    db.session.commit()
    return facility, instrument, cycle


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def local(day: date, index: int) -> datetime:
    return queries.grid().start(day, index)


# --- facility settings ---------------------------------------------------------------------


def facility_args(**overrides):
    args = dict(name="Swiss Light", host_country="CH", timezone="Europe/Zurich", shift_pattern="00:00, 08:00, 16:00")
    args.update(overrides)
    return args


def test_update_facility_creates_and_sanitises_letterhead(admin):
    facility = services.update_facility(
        **facility_args(letterhead='<p onclick="x()">Hi<script>alert(1)</script></p>'), actor=admin
    )
    assert facility.shift_pattern == ["00:00", "08:00", "16:00"]
    assert facility.letterhead == "<p>Hi</p>"


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"host_country": "ZZ"}, "host_country", "country_unknown"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "timezone_unknown"),
        ({"shift_pattern": "08:00, 07:00"}, "shift_pattern", "shift_pattern_order"),
        ({"shift_pattern": "eight"}, "shift_pattern", "shift_pattern_format"),
        ({"name": " "}, "name", "required"),
    ],
)
def test_update_facility_refuses_bad_input_and_stores_nothing(admin, override, field, code):
    with pytest.raises(ValidationFailed) as caught:
        services.update_facility(**facility_args(**override), actor=admin)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert "could not be completed" not in message(caught.value)  # a sentence of its own, not the fallback
    assert count(Facility) == 0


def test_unknown_country_message_names_the_code(admin):
    with pytest.raises(ValidationFailed) as caught:
        services.update_facility(**facility_args(host_country="zz"), actor=admin)
    assert "ZZ is not a known country code" in message(caught.value)


def test_shift_pattern_can_change_before_any_cycle(admin):
    make_facility()
    facility = services.update_facility(**facility_args(shift_pattern="07:00 15:00 23:00"), actor=admin)
    assert facility.shift_pattern == ["07:00", "15:00", "23:00"]


def test_shift_pattern_is_locked_once_a_cycle_exists(admin, setup):
    with pytest.raises(ValidationFailed) as caught:
        services.update_facility(**facility_args(shift_pattern="06:00, 14:00, 22:00"), actor=admin)
    assert (caught.value.field, caught.value.code) == ("shift_pattern", "shift_pattern_locked")
    assert "cannot change once a cycle exists" in message(caught.value)
    db.session.expire_all()
    assert queries.find_facility().shift_pattern == ["00:00", "08:00", "16:00"]
    # other settings still change
    assert services.update_facility(**facility_args(name="Renamed"), actor=admin).name == "Renamed"


def test_time_zone_is_locked_once_a_cycle_exists(admin, setup):
    with pytest.raises(ValidationFailed) as caught:
        services.update_facility(**facility_args(timezone="Europe/Paris"), actor=admin)
    assert caught.value.code == "timezone_locked"


def test_partitions_over_100_are_refused(admin):
    with pytest.raises(ValidationFailed) as caught:
        services.update_partitions(in_house="60", rapid_access="30", proprietary="20", actor=admin)
    assert caught.value.code == "partitions_over_100"
    assert "110" in message(caught.value)
    assert queries.partitions().in_house == 0


def test_partitions_are_stored(admin):
    services.update_partitions(in_house="10", rapid_access="5.5", proprietary="0", actor=admin)
    assert queries.partitions().rapid_access == Decimal("5.5")


# --- contributions -------------------------------------------------------------------------


def test_contributions_of_a_year_may_not_exceed_100(staff, setup):
    services.set_contribution(year=2027, country="CH", share="60", actor=staff)
    services.set_contribution(year=2027, country="DE", share="30", actor=staff)
    with pytest.raises(ValidationFailed) as caught:
        services.set_contribution(year=2027, country="FR", share="10.01", actor=staff)
    assert (caught.value.field, caught.value.code) == ("share", "contributions_over_100")
    assert "at most 10.00 % is left" in message(caught.value)
    assert count(MemberContribution) == 2
    # another year is separate, and changing a country's own share does not count it twice
    services.set_contribution(year=2028, country="FR", share="100", actor=staff)
    services.set_contribution(year=2027, country="CH", share="70", actor=staff)
    assert queries.contribution_total(2027) == Decimal("100")


@pytest.mark.parametrize(
    ("args", "field", "code"),
    [
        ({"year": 2027, "country": "QQ", "share": "5"}, "country", "country_unknown"),
        ({"year": "soon", "country": "CH", "share": "5"}, "year", "year_invalid"),
        ({"year": 2027, "country": "CH", "share": "0"}, "share", "share_range"),
        ({"year": 2027, "country": "CH", "share": "1.234"}, "share", "share_range"),
    ],
)
def test_contribution_bad_input(staff, setup, args, field, code):
    with pytest.raises(ValidationFailed) as caught:
        services.set_contribution(**args, actor=staff)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert count(MemberContribution) == 0


# --- instruments ---------------------------------------------------------------------------


def instrument_data(**overrides):
    data = {
        "code": "id23",
        "name": "MX beamline",
        "techniques": "MX, SAD",
        "start_shifts": [0, 1],
        "start_weekdays": [0, 2],
        "changeover_shifts": "1",
        "min_session_shifts": "3",
    }
    data.update(overrides)
    return data


def test_create_instrument_normalises_code_and_techniques(staff, setup):
    instrument = services.create_instrument(instrument_data(), actor=staff)
    assert instrument.code == "ID23"
    assert instrument.techniques == ["MX", "SAD"]


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"code": "ID01"}, "code", "instrument_code_taken"),
        ({"code": "ID 23"}, "code", "instrument_code_format"),
        ({"start_shifts": [3]}, "start_shifts", "integer_range"),
        ({"start_weekdays": []}, "start_weekdays", "choose_at_least_one"),
        ({"min_session_shifts": "0"}, "min_session_shifts", "integer_range"),
    ],
)
def test_create_instrument_bad_input(staff, setup, override, field, code):
    with pytest.raises(ValidationFailed) as caught:
        services.create_instrument(instrument_data(**override), actor=staff)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert count(Instrument) == 1


# --- cycles --------------------------------------------------------------------------------


def test_cycles_never_overlap(staff, setup):
    with pytest.raises(ValidationFailed) as caught:
        services.create_cycle(name="2027-II", starts_on=date(2027, 7, 31), ends_on=date(2027, 11, 30), actor=staff)
    assert (caught.value.field, caught.value.code) == ("starts_on", "cycle_overlap")
    assert "overlap cycle 2027-I" in message(caught.value)
    assert count(Cycle) == 1
    # the day after is fine
    services.create_cycle(name="2027-II", starts_on=date(2027, 8, 1), ends_on=date(2027, 11, 30), actor=staff)
    assert count(Cycle) == 2


def test_cycle_enclosing_another_is_refused(staff, setup):
    with pytest.raises(ValidationFailed, match="cycle_overlap"):
        services.create_cycle(name="2027", starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31), actor=staff)


def test_cycle_bad_input(staff, setup):
    with pytest.raises(ValidationFailed, match="cycle_name_taken"):
        services.create_cycle(name="2027-I", starts_on=date(2028, 1, 1), ends_on=date(2028, 2, 1), actor=staff)
    with pytest.raises(ValidationFailed, match="cycle_dates_order"):
        services.create_cycle(name="2028-I", starts_on=date(2028, 3, 1), ends_on=date(2028, 2, 1), actor=staff)
    with pytest.raises(ValidationFailed, match="cycle_name_format"):
        services.create_cycle(name="2028 I/x", starts_on=date(2028, 3, 1), ends_on=date(2028, 4, 1), actor=staff)
    assert count(Cycle) == 1


def test_cycle_needs_a_configured_facility(staff):
    with pytest.raises(InvalidState, match="facility_not_configured"):
        services.create_cycle(name="2027-I", starts_on=date(2027, 3, 1), ends_on=date(2027, 7, 31), actor=staff)


# --- the calendar and bookings -------------------------------------------------------------


def block(instrument, cycle, first, last_end, actor, kind="maintenance", **kw):
    return services.add_block(
        instrument.id,
        cycle.id,
        kind=kind,
        starts_at=first,
        ends_at=last_end,
        title=kw.pop("title", "Maintenance"),
        actor=actor,
        now=kw.pop("now", NOW),
        **kw,
    )


def test_maintenance_outside_its_cycle_is_refused(staff, setup):
    _, instrument, cycle = setup
    with pytest.raises(ValidationFailed) as caught:
        block(instrument, cycle, local(date(2027, 2, 28), 2), local(date(2027, 3, 1), 1), staff)
    assert (caught.value.field, caught.value.code) == ("starts_at", "outside_cycle")
    assert "inside cycle 2027-I" in message(caught.value)
    with pytest.raises(ValidationFailed) as caught:
        block(instrument, cycle, local(date(2027, 7, 31), 2), local(date(2027, 8, 1), 1), staff)
    assert (caught.value.field, caught.value.code) == ("ends_at", "outside_cycle")
    assert count(Booking) == 0


def test_maintenance_overlapping_another_block_is_refused(staff, setup):
    _, instrument, cycle = setup
    block(instrument, cycle, local(date(2027, 3, 2), 0), local(date(2027, 3, 3), 0), staff, title="Vacuum work")
    with pytest.raises(Conflict) as caught:
        block(instrument, cycle, local(date(2027, 3, 2), 2), local(date(2027, 3, 3), 1), staff, kind="in_house")
    assert caught.value.code == "booking_overlap"
    assert "Vacuum work" in message(caught.value)
    assert count(Booking) == 1


def test_back_to_back_blocks_are_accepted(staff, setup):
    _, instrument, cycle = setup
    block(instrument, cycle, local(date(2027, 3, 2), 0), local(date(2027, 3, 2), 1), staff)
    block(instrument, cycle, local(date(2027, 3, 2), 1), local(date(2027, 3, 2), 2), staff, kind="rapid_access")
    other = make_instrument()
    block(other, cycle, local(date(2027, 3, 2), 0), local(date(2027, 3, 3), 0), staff)  # another instrument
    assert count(Booking) == 3


def test_blocks_off_the_grid_or_in_the_past_are_refused(staff, setup):
    _, instrument, cycle = setup
    with pytest.raises(ValidationFailed, match="off_shift_grid"):
        block(instrument, cycle, datetime(2027, 3, 2, 10, 30, tzinfo=UTC), local(date(2027, 3, 3), 0), staff)
    with pytest.raises(ValidationFailed, match="in_past"):
        block(
            instrument,
            cycle,
            local(date(2027, 3, 2), 0),
            local(date(2027, 3, 3), 0),
            staff,
            now=datetime(2027, 3, 5, tzinfo=UTC),
        )
    with pytest.raises(ValidationFailed, match="block_kind"):
        block(instrument, cycle, local(date(2027, 3, 2), 0), local(date(2027, 3, 3), 0), staff, kind="experiment")
    assert count(Booking) == 0


def test_downtime_and_mode_periods_do_not_overlap_their_own_kind(staff, setup):
    _, _, cycle = setup
    services.add_downtime(
        cycle.id,
        kind="shutdown",
        starts_at=local(date(2027, 3, 1), 0),
        ends_at=local(date(2027, 3, 4), 0),
        title="Start-up",
        actor=staff,
        now=NOW,
    )
    with pytest.raises(ValidationFailed, match="downtime_overlap"):
        services.add_downtime(
            cycle.id,
            kind="machine_day",
            starts_at=local(date(2027, 3, 3), 0),
            ends_at=local(date(2027, 3, 3), 2),
            actor=staff,
            now=NOW,
        )
    mode = make_mode(name="16-bunch")
    db.session.commit()
    services.add_mode_period(
        cycle.id,
        mode_id=mode.id,
        starts_at=local(date(2027, 4, 1), 0),
        ends_at=local(date(2027, 4, 15), 0),
        actor=staff,
        now=NOW,
    )
    with pytest.raises(ValidationFailed) as caught:
        services.add_mode_period(
            cycle.id,
            mode_id=mode.id,
            starts_at=local(date(2027, 4, 14), 0),
            ends_at=local(date(2027, 4, 20), 0),
            actor=staff,
            now=NOW,
        )
    assert "already runs in 16-bunch" in message(caught.value)


# --- capacity ------------------------------------------------------------------------------


def test_capacity_table_reads_the_calendar_settings_commitments_and_override(staff, admin):
    make_facility()
    instrument = make_instrument(code="ID30")
    db.session.commit()
    # a commitment made before the cycle exists is picked up by its name
    services.add_commitment(
        cycle_name="2027-X", instrument_id=instrument.id, shifts=3, source="2026-II-0001", actor=staff
    )
    cycle = services.create_cycle(name="2027-X", starts_on=date(2027, 3, 27), ends_on=date(2027, 3, 29), actor=staff)
    services.update_partitions(in_house="10", rapid_access="25", proprietary="8", actor=admin)
    services.add_downtime(
        cycle.id,
        kind="machine_day",
        starts_at=local(date(2027, 3, 29), 0),
        ends_at=local(date(2027, 3, 29), 1),
        actor=staff,
        now=NOW,
    )
    block(instrument, cycle, local(date(2027, 3, 28), 0), local(date(2027, 3, 28), 1), staff)
    cap = queries.instrument_capacity(cycle, instrument)
    # 9 shifts (DST day included) − 1 machine day − 1 maintenance = 7 user shifts;
    # 10 % → 0.7 → 1, 25 % → 1.75 → 2, 8 % → 0.56 → 1; − 3 committed = 0
    assert (cap.shifts_in_cycle, cap.downtime, cap.maintenance, cap.user_shifts) == (9, 1, 1, 7)
    assert (cap.in_house, cap.rapid_access, cap.proprietary, cap.commitments, cap.computed) == (1, 2, 1, 3, 0)
    services.set_capacity_override(cycle.id, instrument.id, shifts="4", reason="commitment moved", actor=staff)
    cap = queries.instrument_capacity(cycle, instrument)
    assert cap.value == 4 and cap.override_reason == "commitment moved"
    with pytest.raises(ValidationFailed, match="required"):
        services.set_capacity_override(cycle.id, instrument.id, shifts="5", reason="", actor=staff)
    assert queries.instrument_capacity(cycle, instrument).value == 4


# --- who may change what -------------------------------------------------------------------


def test_directors_cannot_edit_anything(director, setup):
    _, instrument, cycle = setup
    attempts = [
        lambda: services.update_facility(**facility_args(name="Mine"), actor=director),
        lambda: services.update_partitions(in_house="1", rapid_access="1", proprietary="1", actor=director),
        lambda: services.set_contribution(year=2027, country="CH", share="10", actor=director),
        lambda: services.create_instrument(instrument_data(), actor=director),
        lambda: services.update_instrument(instrument.id, instrument_data(code="ID01"), actor=director),
        lambda: services.create_cycle(
            name="2028-I", starts_on=date(2028, 3, 1), ends_on=date(2028, 4, 1), actor=director
        ),
        lambda: block(instrument, cycle, local(date(2027, 3, 2), 0), local(date(2027, 3, 3), 0), director),
        lambda: services.set_capacity_override(cycle.id, instrument.id, shifts=1, reason="x", actor=director),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    db.session.expire_all()
    assert queries.find_facility().name == "Test Light Source"
    assert (count(MemberContribution), count(Instrument), count(Cycle), count(Booking)) == (0, 1, 1, 0)
    assert queries.get_instrument(instrument.id).name != "MX beamline"


def test_user_office_cannot_edit_facility_settings(staff, setup):
    with pytest.raises(PermissionDenied):
        services.update_facility(**facility_args(name="Mine"), actor=staff)
