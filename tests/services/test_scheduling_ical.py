"""iCal feeds, read back by a second, independent parser (vobject): VTIMEZONE of the facility's
zone, times that round-trip in that zone across both daylight-saving changes, a UID that stays
with a higher SEQUENCE after a change, a cancelled experiment sent as STATUS:CANCELLED."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.facility.models import BookingKind, BookingStatus
from app.scheduling import calendar_queries as cq
from app.scheduling import ical
from app.scheduling.models import Experiment
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_facility import make_facility
from tests.factories_scheduling import add_booking, make_award, make_experiment
from tests.ical_reading import read_feed

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def local(y, m, d, h) -> datetime:
    return datetime(y, m, d, h, tzinfo=ZURICH)


@pytest.fixture
def s():
    make_facility()  # Europe/Zurich, shifts 00/08/16
    instrument = fp.make_instrument(code="ID23")
    cycle = fp.make_cycle(name="2027-I", starts_on=date(2027, 3, 1), ends_on=date(2027, 12, 20))
    call = fp.make_call(cycle=cycle, instruments=[instrument])
    contact = make_user(name="Lia Contact")
    award = make_award(call=call, instrument=instrument, shifts=6, local_contact=contact, number=42)
    # across the spring change (28 March 2027, 02:00 → 03:00) and the autumn one (31 October)
    spring = make_experiment(award, local(2027, 3, 27, 16), local(2027, 3, 29, 8))
    autumn = make_experiment(award, local(2027, 10, 30, 16), local(2027, 11, 1, 8))
    block = add_booking(instrument, cycle, local(2027, 4, 5, 0), local(2027, 4, 6, 0), title="Vacuum work")
    db.session.commit()
    return {"instrument": instrument, "award": award, "spring": spring, "autumn": autumn, "block": block}


def pi_of(award):
    return award.proposal.members[0].user


def user_feed(person) -> str:
    items = cq.feed_items(cq.feed_rows_of_user(person.id, now=NOW), person)
    codes = {}
    for item in items:
        codes[item.booking.instrument_id] = item.booking.instrument.code
    return ical.calendar_of(items, name="Mine", tz_name="Europe/Zurich", now=NOW, instrument_codes=codes).decode()


def instrument_feed(instrument, owner) -> str:
    items = cq.feed_items(cq.feed_rows_of_instrument(instrument.id, now=NOW), owner)
    return ical.calendar_of(
        items, name=instrument.code, tz_name="Europe/Zurich", now=NOW, instrument_codes={instrument.id: instrument.code}
    ).decode()


def events(text: str) -> dict[str, object]:
    cal = read_feed(text)
    return {ev.uid.value: ev for ev in getattr(cal, "vevent_list", [])}


def test_feed_has_the_facility_time_zone_and_times_round_trip_across_daylight_saving(s):
    text = user_feed(pi_of(s["award"]))
    cal = read_feed(text)
    assert [tz.tzid.value for tz in cal.vtimezone_list] == ["Europe/Zurich"]
    assert "DTSTART;TZID=Europe/Zurich:20270327T160000" in text
    by_uid = events(text)
    spring = by_uid[f"experiment-{s['spring'].booking_id}@beamtime"]
    # vobject builds its own tzinfo from the VTIMEZONE: the instants are the booking's
    assert spring.dtstart.value.astimezone(UTC) == s["spring"].booking.starts_at
    assert spring.dtend.value.astimezone(UTC) == s["spring"].booking.ends_at
    # and the wall-clock times in Zurich are the facility's: 16:00 (CET) → 08:00 (CEST)
    assert spring.dtstart.value.astimezone(ZURICH).hour == 16
    assert spring.dtend.value.astimezone(ZURICH).hour == 8
    assert spring.dtend.value.utcoffset() == timedelta(hours=2)
    assert spring.dtstart.value.utcoffset() == timedelta(hours=1)
    # 40 wall-clock hours, 39 real ones (the night lost an hour)
    assert spring.dtend.value.astimezone(UTC) - spring.dtstart.value.astimezone(UTC) == timedelta(hours=39)
    autumn = by_uid[f"experiment-{s['autumn'].booking_id}@beamtime"]
    assert autumn.dtstart.value.astimezone(UTC) == s["autumn"].booking.starts_at
    assert autumn.dtend.value.astimezone(UTC) - autumn.dtstart.value.astimezone(UTC) == timedelta(hours=41)
    assert autumn.dtend.value.astimezone(ZURICH).hour == 8


def test_events_carry_reference_title_local_contact_and_status(s):
    ev = events(user_feed(pi_of(s["award"])))[f"experiment-{s['spring'].booking_id}@beamtime"]
    assert ev.summary.value.startswith("ID23: 2027-I-0042")
    assert "Lia Contact" in ev.description.value
    assert ev.status.value == "CONFIRMED"
    assert ev.sequence.value == "0"


def test_a_changed_experiment_keeps_its_uid_with_a_higher_sequence(s):
    pi = pi_of(s["award"])
    uid = f"experiment-{s['spring'].booking_id}@beamtime"
    before = events(user_feed(pi))[uid]
    # what the workflow does on a change of a published experiment: move it, raise the sequence
    experiment = db.session.get(Experiment, s["spring"].booking_id)
    experiment.booking.starts_at += timedelta(hours=8)
    experiment.booking.ends_at += timedelta(hours=8)
    experiment.sequence += 1
    db.session.commit()
    after = events(user_feed(pi))[uid]
    assert int(after.sequence.value) > int(before.sequence.value)
    assert after.dtstart.value.astimezone(ZURICH) == local(2027, 3, 28, 0)
    assert len(events(user_feed(pi))) == 2  # still one event per session, no duplicate


def test_a_cancelled_experiment_is_sent_as_cancelled(s):
    pi = pi_of(s["award"])
    experiment = db.session.get(Experiment, s["autumn"].booking_id)
    experiment.booking.status = BookingStatus.CANCELLED
    experiment.sequence += 1
    db.session.commit()
    ev = events(user_feed(pi))[f"experiment-{s['autumn'].booking_id}@beamtime"]
    assert ev.status.value == "CANCELLED" and ev.sequence.value == "1"


def test_a_draft_is_in_no_feed(s):
    make_experiment(s["award"], local(2027, 5, 3, 0), local(2027, 5, 4, 0), status=BookingStatus.PLANNED)
    pi = pi_of(s["award"])
    assert len(events(user_feed(pi))) == 2
    staff_like = make_user()
    db.session.commit()
    assert len([u for u in events(instrument_feed(s["instrument"], staff_like)) if u.startswith("experiment-")]) == 2


def test_the_instrument_feed_has_published_experiments_and_blocks(s):
    reader = make_user()
    db.session.commit()
    by_uid = events(instrument_feed(s["instrument"], reader))
    assert set(by_uid) == {
        f"experiment-{s['spring'].booking_id}@beamtime",
        f"experiment-{s['autumn'].booking_id}@beamtime",
        f"booking-{s['block'].id}@beamtime",
    }
    block = by_uid[f"booking-{s['block'].id}@beamtime"]
    assert block.summary.value == "ID23: Vacuum work"
    assert block.dtstart.value.astimezone(ZURICH) == local(2027, 4, 5, 0)
    assert s["block"].kind == BookingKind.MAINTENANCE


def test_an_empty_feed_is_still_a_valid_calendar_with_its_zone(s):
    nobody = make_user()
    db.session.commit()
    cal = read_feed(user_feed(nobody))
    assert getattr(cal, "vevent_list", []) == []
    assert cal.vtimezone.tzid.value == "Europe/Zurich"
