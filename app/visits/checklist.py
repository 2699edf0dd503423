"""One checklist per visitor, computed from plain facts: pure (no Flask, no SQLAlchemy).

Five items — registration, access, training, safety, accommodation — each with its state,
who acts next and the latest day it can still be done (a countdown from today).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta


class ItemKey(enum.StrEnum):
    REGISTRATION = "registration"
    ACCESS = "access"
    TRAINING = "training"
    SAFETY = "safety"
    ACCOMMODATION = "accommodation"


class ItemState(enum.StrEnum):
    DONE = "done"
    TODO = "todo"  # someone has to act before the deadline
    OVERDUE = "overdue"  # the deadline passed and it is still not done
    NOT_NEEDED = "not_needed"
    REFUSED = "refused"


class NextActor(enum.StrEnum):
    VISITOR = "visitor"
    TEAM = "team"
    INSTRUMENT_SCIENTIST = "instrument_scientist"
    SAFETY_REVIEWER = "safety_reviewer"
    ACCESS_APPROVER = "access_approver"
    USER_OFFICE = "user_office"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Days before arrival by which each item should be done (settings)."""

    registration: int = 14
    safety: int = 7
    accommodation: int = 14


@dataclass(frozen=True, slots=True)
class VisitFacts:
    today: date
    remote: bool
    status: str  # a VisitStatus value
    starts_on: date  # the experiment's first facility-local day
    arrives_on: date | None = None
    registered: bool = False  # the visitor completed the registration form
    access_needed: bool = False
    access_status: str = "not_needed"  # not_needed, pending, approved, refused
    access_latest_day: date | None = None  # the last day an access request is on time
    access_late_days: int = 0
    training_missing: tuple[str, ...] = ()  # course names missing or expired by arrival
    safety_confirmed: bool = False
    safety_scientist_signed: bool = False
    safety_needs_reviewer: bool = False
    safety_reviewer_signed: bool = False
    accommodation_wanted: bool | None = None
    deadlines: Deadlines = Deadlines()
    #: the guesthouse room (and bed) assigned for the whole stay, when there is one
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    key: ItemKey
    state: ItemState
    actor: NextActor | None = None
    deadline: date | None = None
    days_left: int | None = None
    detail: str = ""  # a short code for the template: "waits_for_safety", "late", course names…

    @property
    def is_green(self) -> bool:
        return self.state in (ItemState.DONE, ItemState.NOT_NEEDED)


def _item(key, actor, deadline: date | None, today: date, detail: str = "") -> Item:
    if deadline is None:
        return Item(key, ItemState.TODO, actor, None, None, detail)
    left = (deadline - today).days
    return Item(key, ItemState.OVERDUE if left < 0 else ItemState.TODO, actor, deadline, left, detail)


def _done(key: ItemKey, detail: str = "") -> Item:
    return Item(key, ItemState.DONE, detail=detail)


def _not_needed(key: ItemKey, detail: str = "") -> Item:
    return Item(key, ItemState.NOT_NEEDED, detail=detail)


def build(f: VisitFacts) -> list[Item]:
    """The five items of one visitor's checklist."""
    arrival = f.arrives_on or f.starts_on
    d = f.deadlines
    items: list[Item] = []

    # registration: the visitor fills it in, the user office approves the visit
    reg_deadline = arrival - timedelta(days=d.registration)
    if f.access_needed and f.access_latest_day is not None:
        reg_deadline = min(reg_deadline, f.access_latest_day)
    if f.remote:
        items.append(_done(ItemKey.REGISTRATION, "remote"))
    elif f.status == "refused":
        items.append(Item(ItemKey.REGISTRATION, ItemState.REFUSED))
    elif f.status in ("approved", "on_site", "completed"):
        items.append(_done(ItemKey.REGISTRATION, "approved"))
    elif f.status == "cancelled":
        items.append(_not_needed(ItemKey.REGISTRATION, "cancelled"))
    elif not f.registered or f.status == "changes_requested":
        detail = "changes_requested" if f.status == "changes_requested" else "form"
        items.append(_item(ItemKey.REGISTRATION, NextActor.VISITOR, reg_deadline, f.today, detail))
    else:
        detail = "waits_for_safety" if not _safety_done(f) else "decision"
        if f.access_needed and f.access_status != "approved":
            detail = "waits_for_access"
        items.append(_item(ItemKey.REGISTRATION, NextActor.USER_OFFICE, arrival - timedelta(days=1), f.today, detail))

    # site access
    if f.remote or not f.access_needed:
        items.append(_not_needed(ItemKey.ACCESS))
    elif f.access_status == "approved":
        items.append(_done(ItemKey.ACCESS))
    elif f.access_status == "refused":
        items.append(Item(ItemKey.ACCESS, ItemState.REFUSED))
    else:
        late = f"late:{f.access_late_days}" if f.access_late_days else ""
        if not f.registered:
            items.append(_item(ItemKey.ACCESS, NextActor.VISITOR, f.access_latest_day, f.today, late or "form"))
        elif not _safety_done(f):
            items.append(
                _item(ItemKey.ACCESS, _safety_actor(f), f.access_latest_day, f.today, late or "waits_for_safety")
            )
        else:
            # the request was made: the approver decides, even when it was late
            deadline = arrival - timedelta(days=1)
            items.append(_item(ItemKey.ACCESS, NextActor.ACCESS_APPROVER, deadline, f.today, late or "decision"))

    # training
    if f.remote:
        items.append(_not_needed(ItemKey.TRAINING))
    elif f.training_missing:
        items.append(_item(ItemKey.TRAINING, NextActor.VISITOR, arrival, f.today, ", ".join(f.training_missing)))
    else:
        items.append(_done(ItemKey.TRAINING))

    # experiment safety (shared by the whole team)
    safety_deadline = f.starts_on - timedelta(days=d.safety)
    if _safety_done(f):
        items.append(_done(ItemKey.SAFETY))
    else:
        items.append(_item(ItemKey.SAFETY, _safety_actor(f), safety_deadline, f.today))

    # accommodation: only recorded here (the guesthouse assigns the room)
    if f.remote or f.accommodation_wanted is False:
        items.append(_not_needed(ItemKey.ACCOMMODATION, "not_needed"))
    elif f.accommodation_wanted and f.room:
        items.append(_done(ItemKey.ACCOMMODATION, f"room:{f.room}"))
    elif f.accommodation_wanted is None:
        items.append(
            _item(ItemKey.ACCOMMODATION, NextActor.VISITOR, arrival - timedelta(days=d.accommodation), f.today, "form")
        )
    else:
        items.append(
            _item(
                ItemKey.ACCOMMODATION,
                NextActor.USER_OFFICE,
                arrival - timedelta(days=d.accommodation),
                f.today,
                "room_to_be_assigned",
            )
        )
    return items


def _safety_done(f: VisitFacts) -> bool:
    return (
        f.safety_confirmed and f.safety_scientist_signed and (f.safety_reviewer_signed or not f.safety_needs_reviewer)
    )


def _safety_actor(f: VisitFacts) -> NextActor:
    if not f.safety_confirmed:
        return NextActor.TEAM
    if not f.safety_scientist_signed:
        return NextActor.INSTRUMENT_SCIENTIST
    return NextActor.SAFETY_REVIEWER


def all_green(items: list[Item]) -> bool:
    return all(i.is_green for i in items)
