"""Guesthouse: rooms, nights by hand and automatically, following the visits, and the
invariants (never two people in one bed on one night, never one visitor in two beds, shared
rooms only for sharers, accessible needs only in accessible rooms) on crafted and random cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.core import events
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.models import AuditEntry
from app.extensions import db
from app.visits import queries as visit_queries
from app.visits import services as visit_services
from app.visits.checklist import ItemKey, ItemState
from app.visits.events import VisitChanged
from app.visits.guesthouse import queries, services
from app.visits.guesthouse.models import BedBooking, GuestPreference, GuestRoom
from app.visits.guesthouse.rooming import RoomKind
from app.visits.models import Visit
from app.visits.status import VisitStatus
from tests.factories import make_user
from tests.factories_onsite import approved_visit, make_guest_visit, make_room, office
from tests.factories_visits import EARLY, make_published_experiment, name_visitor, registration

D = date(2027, 3, 9)


def _nights(visit) -> list[tuple[str, date]]:
    out = []
    for b in queries.nights_of(visit.id):
        n = b.first_night
        while n <= b.last_night:
            out.append((b.bed.full_label, n))
            n += timedelta(days=1)
    return out


def check_invariants() -> None:
    """Every invariant of the guesthouse, over every booked night in the database."""
    per_bed: dict[tuple[int, date], int] = {}
    per_visit: dict[tuple[int, date], int] = {}
    for b in db.session.scalars(select(BedBooking)):
        visit = db.session.get(Visit, b.visit_id)
        pref = db.session.get(GuestPreference, b.visit_id)
        room = b.bed.room
        assert b.first_night <= b.last_night
        if visit.status != VisitStatus.COMPLETED:
            assert queries.wants_bed(visit), f"visit {visit.id} holds nights it does not need"
            assert visit.arrives_on <= b.first_night and b.last_night < visit.departs_on
        if room.kind is RoomKind.SHARED:
            assert pref is not None and pref.accepts_sharing
        else:
            assert len(room.beds) == 1
        if pref is not None and pref.needs_accessible:
            assert room.kind is RoomKind.ACCESSIBLE
        n = b.first_night
        while n <= b.last_night:
            per_bed[(b.bed_id, n)] = per_bed.get((b.bed_id, n), 0) + 1
            per_visit[(b.visit_id, n)] = per_visit.get((b.visit_id, n), 0) + 1
            n += timedelta(days=1)
    assert all(c == 1 for c in per_bed.values()), "two people in one bed on one night"
    assert all(c == 1 for c in per_visit.values()), "one visitor in two beds on one night"


# --- rooms --------------------------------------------------------------------------------


def test_rooms_have_beds_by_kind_and_bad_input_names_the_field():
    actor = office()
    room = services.create_room("S1", "shared", "3", actor=actor, now=EARLY)
    assert [b.label for b in room.beds] == ["A", "B", "C"]
    assert [b.label for b in services.create_room("A1", "accessible", 1, actor=actor, now=EARLY).beds] == ["1"]
    for kwargs, field in (
        ({"name": "", "kind": "single"}, "name"),
        ({"name": "X", "kind": "suite"}, "kind"),
        ({"name": "X", "kind": "single", "beds": 2}, "beds"),
        ({"name": "X", "kind": "shared", "beds": "lots"}, "beds"),
        ({"name": "S1", "kind": "single"}, "name"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            services.create_room(actor=actor, now=EARLY, **kwargs)
        assert exc.value.field == field
    assert db.session.scalar(select(db.func.count()).select_from(GuestRoom)) == 2


def test_only_staff_manage_the_guesthouse_and_nothing_changes():
    experiment = make_published_experiment()
    visit = make_guest_visit(experiment, D, D + timedelta(days=3))
    room = make_room()
    visitor = db.session.get(Visit, visit.id).user
    with pytest.raises(PermissionDenied):
        services.create_room("Nope", "single", actor=visitor, now=EARLY)
    with pytest.raises(PermissionDenied):
        services.book_bed(visit.id, room.beds[0].id, actor=visitor, now=EARLY)
    with pytest.raises(PermissionDenied):
        services.assign_automatically(actor=visitor, now=EARLY)
    with pytest.raises(NotFound):  # someone else's stay answers: not even its existence
        services.answer_stay(visit.id, accepts_sharing=True, needs_accessible=False, actor=make_user(), now=EARLY)
    assert db.session.scalar(select(db.func.count()).select_from(BedBooking)) == 0
    assert db.session.scalar(select(GuestRoom).where(GuestRoom.name == "Nope")) is None


# --- by hand ---------------------------------------------------------------------------------


def test_the_office_books_a_bed_and_a_second_person_is_refused_on_the_same_night():
    experiment = make_published_experiment()
    a = make_guest_visit(experiment, D, D + timedelta(days=3))
    b = make_guest_visit(experiment, D + timedelta(days=2), D + timedelta(days=4))
    room = make_room()
    actor = office()
    services.book_bed(a.id, room.beds[0].id, actor=actor, now=EARLY)
    assert _nights(a) == [(room.name, D), (room.name, D + timedelta(days=1)), (room.name, D + timedelta(days=2))]
    with pytest.raises(Conflict) as exc:
        services.book_bed(b.id, room.beds[0].id, actor=actor, now=EARLY)
    assert exc.value.code == "bed_taken"
    # the night after a's last is free
    services.book_bed(b.id, room.beds[0].id, first_night=D + timedelta(days=3), actor=actor, now=EARLY)
    with pytest.raises(Conflict, match="visitor_has_bed"):  # b already has that night elsewhere
        services.book_bed(b.id, make_room().beds[0].id, first_night=D + timedelta(days=3), actor=actor, now=EARLY)
    with pytest.raises(ValidationFailed) as exc:
        services.book_bed(b.id, room.beds[0].id, first_night=D - timedelta(days=1), actor=actor, now=EARLY)
    assert exc.value.field == "first_night"
    with pytest.raises(ValidationFailed) as exc:
        services.book_bed(b.id, "999999", actor=actor, now=EARLY)
    assert exc.value.field == "bed_id"
    check_invariants()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "guesthouse.bed_booked")) is not None


def test_shared_rooms_only_for_sharers_and_accessible_needs_only_in_accessible_rooms():
    experiment = make_published_experiment()
    loner = make_guest_visit(experiment, D, D + timedelta(days=2))
    sharer = make_guest_visit(experiment, D, D + timedelta(days=2), sharing=True)
    wheel = make_guest_visit(experiment, D, D + timedelta(days=2), accessible=True)
    shared, single = make_room("shared", 2), make_room("single")
    actor = office()
    with pytest.raises(ValidationFailed, match="visitor_does_not_share"):
        services.book_bed(loner.id, shared.beds[0].id, actor=actor, now=EARLY)
    with pytest.raises(ValidationFailed, match="needs_accessible_room"):
        services.book_bed(wheel.id, single.beds[0].id, actor=actor, now=EARLY)
    services.book_bed(sharer.id, shared.beds[0].id, actor=actor, now=EARLY)
    services.book_bed(loner.id, single.beds[0].id, actor=actor, now=EARLY)
    check_invariants()


def test_a_visitor_who_asked_for_no_room_gets_no_bed():
    experiment = make_published_experiment()
    visit = make_guest_visit(experiment, D, D + timedelta(days=2), wanted=False)
    with pytest.raises(ValidationFailed) as exc:
        services.book_bed(visit.id, make_room().beds[0].id, actor=office(), now=EARLY)
    assert exc.value.field == "visit_id"


# --- automatically ---------------------------------------------------------------------------


def test_automatic_assignment_keeps_each_visitor_in_one_room_and_reports_what_does_not_fit():
    experiment = make_published_experiment()
    long_stay = make_guest_visit(experiment, D, D + timedelta(days=4))
    sharers = [make_guest_visit(experiment, D, D + timedelta(days=2), sharing=True) for _ in range(2)]
    late = make_guest_visit(experiment, D + timedelta(days=1), D + timedelta(days=3))
    single, shared = make_room("single"), make_room("shared", 2)
    result = services.assign_automatically(actor=office(), now=EARLY)
    check_invariants()
    rooms = {v.id: {label for label, _n in _nights(v)} for v in (long_stay, *sharers, late)}
    assert rooms[long_stay.id] == {single.name}  # one room for the whole stay
    assert {next(iter(rooms[s.id])) for s in sharers} == {f"{shared.name} / A", f"{shared.name} / B"}
    # the late visitor does not share: the single room is taken, nights reported with a reason
    # (on the 10th every bed is taken; on the 11th only shared beds are free)
    assert _nights(late) == []
    assert {(v.id, n, reason) for v, n, reason in result.unplaced} == {
        (late.id, D + timedelta(days=1), "full"),
        (late.id, D + timedelta(days=2), "only_shared_free"),
    }
    assert result.placed_nights == 4 + 2 + 2


def test_the_checklist_shows_the_room_once_every_night_has_a_bed():
    visit = approved_visit(accommodation=True)
    items = {i.key: i for i in visit_queries.visit_checklist(visit, EARLY)}
    assert items[ItemKey.ACCOMMODATION].state == ItemState.TODO
    room = make_room(name="Kepler 12")
    services.assign_automatically(actor=office(), now=EARLY)
    items = {i.key: i for i in visit_queries.visit_checklist(visit, EARLY)}
    assert items[ItemKey.ACCOMMODATION].state == ItemState.DONE
    assert items[ItemKey.ACCOMMODATION].detail == f"room:{room.name}"


# --- following the visits --------------------------------------------------------------------


def test_a_withdrawn_visit_frees_its_nights():
    visit = approved_visit(accommodation=True)
    room = make_room()
    services.book_bed(visit.id, room.beds[0].id, actor=office(), now=EARLY)
    assert _nights(visit)
    visit_services.decide_visit(visit.id, "withdraw", reason="Travel ban", actor=office(), now=EARLY)
    assert _nights(visit) == []
    check_invariants()


def test_changed_dates_trim_the_nights_and_place_the_new_ones_in_the_same_bed():
    experiment = make_published_experiment()
    visit = name_visitor(experiment)
    visit_services.complete_registration(
        visit.id, registration(accommodation_wanted=True), actor=visit.user, now=EARLY
    )  # 9 → 12 March
    room = make_room()
    services.book_bed(visit.id, room.beds[0].id, actor=office(), now=EARLY)
    assert [n for _l, n in _nights(visit)] == [date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11)]
    visit_services.complete_registration(
        visit.id,
        registration(accommodation_wanted=True, arrives_on=date(2027, 3, 10), departs_on=date(2027, 3, 13)),
        actor=visit.user,
        now=EARLY,
    )
    assert _nights(visit) == [(room.name, date(2027, 3, d)) for d in (10, 11, 12)]
    visit_services.complete_registration(
        visit.id, registration(accommodation_wanted=False), actor=visit.user, now=EARLY
    )
    assert _nights(visit) == []
    check_invariants()


# --- random cases ----------------------------------------------------------------------------

_window = iter(range(1, 10_000))


@settings(max_examples=25, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["single", "shared", "accessible"]), min_size=1, max_size=4),
    stays=st.lists(
        st.tuples(st.integers(0, 8), st.integers(1, 4), st.booleans(), st.booleans()), min_size=1, max_size=6
    ),
    actions=st.lists(
        st.tuples(st.sampled_from(["auto", "book", "cancel", "move"]), st.integers(0, 5), st.integers(0, 9)),
        max_size=8,
    ),
)
def test_random_rooms_stays_and_changes_never_break_an_invariant(kinds, stays, actions):
    """Rooms, stays and a random sequence of automatic runs, hand bookings (some refused),
    cancellations and date changes: after every step, every invariant holds."""
    base = date(2031, 1, 1) + timedelta(days=40 * next(_window))
    experiment = _experiment()
    actor = office()
    rooms = [make_room(k, 2 if k == "shared" else 1, actor=actor) for k in kinds]
    beds = [b for r in rooms for b in r.beds]
    visits = [
        make_guest_visit(
            experiment,
            base + timedelta(days=start),
            base + timedelta(days=start + length),
            sharing=sharing,
            accessible=accessible and not sharing,
        )
        for start, length, sharing, accessible in stays
    ]
    try:
        for action, who, what in actions:
            visit = visits[who % len(visits)]
            if action == "auto":
                services.assign_automatically(actor=actor, now=EARLY, visit_ids=[v.id for v in visits])
            elif action == "book" and queries.wants_bed(visit):
                try:
                    services.book_bed(visit.id, beds[what % len(beds)].id, actor=actor, now=EARLY)
                except (Conflict, ValidationFailed):
                    pass
            elif action == "cancel":
                visit.status = VisitStatus.CANCELLED
                events.publish(VisitChanged(visit.id, visit.experiment_id, visit.user_id))
                db.session.commit()
            elif action == "move":
                visit.arrives_on = base + timedelta(days=what)
                visit.departs_on = visit.arrives_on + timedelta(days=1 + who % 3)
                events.publish(VisitChanged(visit.id, visit.experiment_id, visit.user_id))
                db.session.commit()
            check_invariants()
    finally:
        for room in rooms:
            room.active = False
        for visit in visits:
            visit.status = VisitStatus.CANCELLED
            events.publish(VisitChanged(visit.id, visit.experiment_id, visit.user_id))
        db.session.commit()


_experiments: dict[int, int] = {}


def _experiment():
    """One experiment per test run (hypothesis calls the test many times in one transaction)."""
    key = id(db.session())
    if key not in _experiments or db.session.get(Visit.experiment.property.mapper.class_, _experiments[key]) is None:
        _experiments[key] = make_published_experiment().booking_id
    from app.scheduling.models import Experiment

    return db.session.get(Experiment, _experiments[key])
