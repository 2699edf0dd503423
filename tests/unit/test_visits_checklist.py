"""The checklist, item by item, from crafted facts: each state, who acts next, the countdown."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from app.visits.checklist import Deadlines, ItemKey, ItemState, NextActor, VisitFacts, all_green, build

TODAY = date(2027, 2, 1)
START = date(2027, 3, 10)
BASE = VisitFacts(today=TODAY, remote=False, status="requested", starts_on=START, deadlines=Deadlines(14, 7, 14))
SIGNED = {"safety_confirmed": True, "safety_scientist_signed": True}
REGISTERED = {"registered": True, "arrives_on": date(2027, 3, 9), "accommodation_wanted": False}


def item(facts: VisitFacts, key: ItemKey):
    return next(i for i in build(facts) if i.key == key)


def test_a_fresh_on_site_visit_waits_for_the_visitor_and_the_team():
    items = {i.key: i for i in build(BASE)}
    assert items[ItemKey.REGISTRATION].state == ItemState.TODO
    assert items[ItemKey.REGISTRATION].actor == NextActor.VISITOR
    assert items[ItemKey.REGISTRATION].deadline == date(2027, 2, 24)  # 14 days before the start
    assert items[ItemKey.REGISTRATION].days_left == 23
    assert items[ItemKey.ACCESS].state == ItemState.NOT_NEEDED
    assert items[ItemKey.TRAINING].state == ItemState.DONE
    assert items[ItemKey.SAFETY].actor == NextActor.TEAM
    assert items[ItemKey.SAFETY].deadline == date(2027, 3, 3)
    assert items[ItemKey.ACCOMMODATION].actor == NextActor.VISITOR
    assert not all_green(build(BASE))


def test_registration_states():
    assert item(replace(BASE, **REGISTERED), ItemKey.REGISTRATION).actor == NextActor.USER_OFFICE
    assert item(replace(BASE, **REGISTERED), ItemKey.REGISTRATION).detail == "waits_for_safety"
    assert item(replace(BASE, **REGISTERED, **SIGNED), ItemKey.REGISTRATION).detail == "decision"
    changes = replace(BASE, **REGISTERED, status="changes_requested")
    assert item(changes, ItemKey.REGISTRATION).actor == NextActor.VISITOR
    assert item(replace(BASE, status="approved"), ItemKey.REGISTRATION).state == ItemState.DONE
    assert item(replace(BASE, status="refused"), ItemKey.REGISTRATION).state == ItemState.REFUSED
    assert item(replace(BASE, status="cancelled"), ItemKey.REGISTRATION).state == ItemState.NOT_NEEDED
    late = replace(BASE, today=date(2027, 2, 25))
    assert item(late, ItemKey.REGISTRATION).state == ItemState.OVERDUE
    assert item(late, ItemKey.REGISTRATION).days_left == -1


def test_access_states():
    needed = replace(BASE, access_needed=True, access_status="pending", access_latest_day=date(2027, 2, 7))
    assert item(needed, ItemKey.ACCESS).actor == NextActor.VISITOR
    # registration is due by the access boundary when that is earlier
    assert item(needed, ItemKey.REGISTRATION).deadline == date(2027, 2, 7)
    registered = replace(needed, **REGISTERED)
    assert item(registered, ItemKey.ACCESS).actor == NextActor.TEAM  # waits for the safety declaration
    assert item(registered, ItemKey.ACCESS).detail == "waits_for_safety"
    ready = replace(registered, **SIGNED)
    assert item(ready, ItemKey.ACCESS).actor == NextActor.ACCESS_APPROVER
    assert item(ready, ItemKey.REGISTRATION).detail == "waits_for_access"
    late = replace(ready, access_late_days=3)
    assert item(late, ItemKey.ACCESS).detail == "late:3"
    assert item(replace(ready, access_status="approved"), ItemKey.ACCESS).state == ItemState.DONE
    assert item(replace(ready, access_status="refused"), ItemKey.ACCESS).state == ItemState.REFUSED
    assert item(replace(needed, remote=True), ItemKey.ACCESS).state == ItemState.NOT_NEEDED


def test_training_states():
    missing = replace(BASE, training_missing=("Radiation safety",))
    assert item(missing, ItemKey.TRAINING).state == ItemState.TODO
    assert item(missing, ItemKey.TRAINING).actor == NextActor.VISITOR
    assert item(missing, ItemKey.TRAINING).deadline == START
    assert item(replace(missing, today=date(2027, 3, 11)), ItemKey.TRAINING).state == ItemState.OVERDUE
    assert item(replace(missing, remote=True), ItemKey.TRAINING).state == ItemState.NOT_NEEDED


def test_safety_states():
    assert item(replace(BASE, safety_confirmed=True), ItemKey.SAFETY).actor == NextActor.INSTRUMENT_SCIENTIST
    assert item(replace(BASE, **SIGNED), ItemKey.SAFETY).state == ItemState.DONE
    hazardous = replace(BASE, **SIGNED, safety_needs_reviewer=True)
    assert item(hazardous, ItemKey.SAFETY).actor == NextActor.SAFETY_REVIEWER
    assert item(replace(hazardous, safety_reviewer_signed=True), ItemKey.SAFETY).state == ItemState.DONE
    assert item(replace(BASE, today=date(2027, 3, 4)), ItemKey.SAFETY).state == ItemState.OVERDUE


def test_accommodation_states():
    assert item(replace(BASE, accommodation_wanted=False), ItemKey.ACCOMMODATION).detail == "not_needed"
    wanted = item(replace(BASE, accommodation_wanted=True), ItemKey.ACCOMMODATION)
    assert (wanted.state, wanted.actor, wanted.detail) == (ItemState.TODO, NextActor.USER_OFFICE, "room_to_be_assigned")
    assert item(replace(BASE, remote=True), ItemKey.ACCOMMODATION).state == ItemState.NOT_NEEDED


def test_everything_green_once_approved_signed_and_trained():
    facts = replace(BASE, **REGISTERED, **SIGNED, status="approved")
    assert all_green(build(facts))


def test_remote_visit_is_green_except_the_shared_safety():
    items = build(replace(BASE, remote=True, status="registered"))
    assert [i.key for i in items if not i.is_green] == [ItemKey.SAFETY]
