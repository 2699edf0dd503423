"""Factories of the scheduling domain: awards ready to schedule, with the rows around them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.accounts.models import Role
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from app.facility.models import Booking, BookingKind, BookingStatus
from app.proposals.models import AccessRoute, DateConstraint, DateKind
from app.proposals.status import ProposalStatus
from app.reviews.models import Award, Decision, Outcome, PanelDecision
from app.scheduling.models import AwardSchedule, Experiment
from tests import factories_proposals as fp
from tests.factories import make_user
from tests.factories_facility import make_facility
from tests.factories_reviews import make_staff

RELEASED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PLANNING_NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def day(d: int) -> date:
    return date(2027, 3, d)


def make_award(
    *,
    call,
    instrument,
    shifts: int,
    grade: float | None = 4.0,
    local_contact=None,
    pi=None,
    mode=None,
    released: bool = True,
    number: int = 1,
) -> Award:
    """An accepted proposal of `call` with one request on `instrument`, its award of `shifts`
    and its released decision; `grade` becomes the panel's final grade (the solver's score)."""
    proposal = fp.make_proposal(call=call, pi=pi)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.reference = f"{call.cycle.name}-{number:04d}"
    request = proposal.requests[0]
    request.instrument = instrument
    request.shifts = shifts
    request.operating_mode = mode
    db.session.flush()
    award = Award(
        request_id=request.id,
        proposal_id=proposal.id,
        call_id=call.id,
        instrument_id=instrument.id,
        shifts=shifts,
        local_contact_id=local_contact.id if local_contact else None,
    )
    db.session.add(award)
    db.session.add(
        Decision(
            proposal_id=proposal.id,
            call_id=call.id,
            outcome=Outcome.ACCEPTED,
            staged_at=RELEASED,
            released_at=RELEASED if released else None,
        )
    )
    if grade is not None:
        db.session.add(PanelDecision(proposal_id=proposal.id, call_id=call.id, final_grade=grade))
    db.session.commit()
    return award


def add_dates(award: Award, kind: DateKind, first: date, last: date) -> None:
    db.session.add(DateConstraint(proposal_id=award.proposal_id, kind=kind, starts_on=first, ends_on=last))
    db.session.commit()


def make_rapid_call(cycle, instruments):
    return fp.make_call(cycle=cycle, route=AccessRoute.RAPID_ACCESS, instruments=instruments)


def add_booking(instrument, cycle, starts_at, ends_at, *, kind=BookingKind.MAINTENANCE, status=None, title=""):
    status = status or (BookingStatus.PLANNED if kind == BookingKind.EXPERIMENT else BookingStatus.CONFIRMED)
    booking = Booking(
        instrument_id=instrument.id,
        cycle_id=cycle.id,
        kind=kind,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        title=title,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def make_scientist(instrument):
    user = make_user(roles=[(Role.INSTRUMENT_SCIENTIST, instrument.id)])
    db.session.commit()
    return user


def make_small_cycle() -> dict:
    """Cycle 1–14 March 2027 (42 shifts): multibunch the first week, timing the second, a
    shutdown on 5 March; ID01 (sessions start at 00:00, changeover 1, minimum 2 shifts, a
    maintenance day on 3 March, a planned draft session on 12 March) and ID02 (a published
    experiment on 8 March that stays). Awards share a local contact across the instruments."""
    make_facility()
    staff = make_staff()
    id01 = fp.make_instrument(code="ID01", start_shifts=[0], changeover_shifts=1, min_session_shifts=2)
    id02 = fp.make_instrument(code="ID02")
    cycle = fp.make_cycle(name="2027-I", starts_on=day(1), ends_on=day(14))
    call = fp.make_call(cycle=cycle, instruments=[id01, id02])
    multibunch = facility_services.create_operating_mode(code="multibunch", name="Multibunch", actor=staff)
    timing = facility_services.create_operating_mode(code="timing", name="Timing", actor=staff)
    hybrid = facility_services.create_operating_mode(code="hybrid", name="Hybrid", actor=staff)
    g = facility_queries.grid()
    facility_services.add_mode_period(
        cycle.id,
        mode_id=multibunch.id,
        starts_at=g.start(day(1), 0),
        ends_at=g.start(day(8), 0),
        actor=staff,
        now=PLANNING_NOW,
    )
    facility_services.add_mode_period(
        cycle.id,
        mode_id=timing.id,
        starts_at=g.start(day(8), 0),
        ends_at=g.start(day(15), 0),
        actor=staff,
        now=PLANNING_NOW,
    )
    facility_services.add_downtime(
        cycle.id,
        kind="shutdown",
        starts_at=g.start(day(5), 0),
        ends_at=g.start(day(6), 0),
        actor=staff,
        now=PLANNING_NOW,
    )
    add_booking(id01, cycle, g.start(day(3), 0), g.start(day(4), 0), title="Maintenance")
    contact = make_user(name="Lia Contact")
    a1 = make_award(call=call, instrument=id01, shifts=6, grade=4.5, local_contact=contact, number=1)
    a2 = make_award(call=call, instrument=id01, shifts=9, grade=3.0, number=2)
    add_dates(a2, DateKind.UNACCEPTABLE, day(1), day(4))
    add_dates(a2, DateKind.PREFERRED, day(10), day(12))
    db.session.add(AwardSchedule(award_id=a2.id, max_sessions=2))
    a3 = make_award(call=call, instrument=id02, shifts=6, grade=4.0, local_contact=contact, mode=timing, number=3)
    a4 = make_award(call=call, instrument=id02, shifts=3, grade=5.0, mode=hybrid, number=4)
    a5 = make_award(call=call, instrument=id02, shifts=3, grade=2.0, number=5)
    pinned = add_booking(
        id02,
        cycle,
        g.start(day(8), 0),
        g.start(day(9), 0),
        kind=BookingKind.EXPERIMENT,
        status=BookingStatus.PUBLISHED,
        title="pinned",
    )
    db.session.add(Experiment(booking_id=pinned.id, award_id=a5.id, local_contact_id=contact.id))
    draft = add_booking(id01, cycle, g.start(day(12), 0), g.start(day(13), 0), kind=BookingKind.EXPERIMENT)
    db.session.add(Experiment(booking_id=draft.id, award_id=a1.id))
    db.session.commit()
    return {
        "staff": staff,
        "cycle": cycle,
        "id01": id01,
        "id02": id02,
        "awards": (a1, a2, a3, a4, a5),
        "pinned": pinned,
        "draft": draft,
        "contact": contact,
    }


# --- calendars, feeds, the schedule API ---------------------------------------------------


def make_experiment(
    award: Award,
    starts_at: datetime,
    ends_at: datetime,
    *,
    status: BookingStatus = BookingStatus.PUBLISHED,
    local_contact=None,
    sequence: int = 0,
    published_at: datetime | None = RELEASED,
) -> Experiment:
    """A session of `award` on its instrument over [starts_at, ends_at), `published` by default
    (`published_at` is left empty for a planned one)."""
    booking = add_booking(
        award.instrument,
        award.proposal.call.cycle,
        starts_at,
        ends_at,
        kind=BookingKind.EXPERIMENT,
        status=status,
        title=award.proposal.reference or "",
    )
    experiment = Experiment(
        booking_id=booking.id,
        award_id=award.id,
        local_contact_id=local_contact.id if local_contact else award.local_contact_id,
        sequence=sequence,
        published_at=None if status == BookingStatus.PLANNED else published_at,
    )
    db.session.add(experiment)
    db.session.commit()
    return experiment


def add_schedule_objects(world, *, owner, actor) -> None:
    """Give the permission-matrix World the scheduling objects its rows name:
    `world.running_experiment` — a published session of an award of `owner` (cycle 2092-I) on
    `world.instrument` running now (an hour either side), so `current` answers 200; `world.feed` with
    `world.feed_secret` — `owner`'s feed of `world.instrument`; `world.user_feed_secret` —
    `owner`'s feed of their own experiments."""
    from datetime import timedelta

    from app.core.db import utcnow
    from app.scheduling import feeds

    now = utcnow()
    # an award of its own (cycle 2092-I), so that the reviews rows that re-run the allocation of
    # `world.review_call` (whose awards they replace) find no session hanging on `world.award`
    cycle = fp.make_cycle(name="2092-I", starts_on=date(2092, 3, 1), ends_on=date(2092, 7, 31))
    call = fp.make_call(cycle=cycle, instruments=[world.instrument])
    award = make_award(call=call, instrument=world.instrument, shifts=3, pi=owner, number=1)
    world.running_experiment = make_experiment(award, now - timedelta(hours=1), now + timedelta(hours=1))
    world.feed, world.feed_secret = feeds.create_feed("instrument", instrument_id=world.instrument.id, actor=owner)
    _user_feed, world.user_feed_secret = feeds.create_feed("user", actor=owner)


def add_scheduling_objects(world, *, actor) -> None:
    """The permission-matrix World's scheduling objects (tests/web/permission_matrix.py): a
    cycle 2093-I with an award of its own (not the reviews' `world.award`, which the allocation
    route replaces) on `world.instrument`, its planned `experiment` (no local contact), a
    `draft` of that cycle (not applied), and a `solve_job` requested by `actor` (staff)."""
    from app.core.models import JobRequest, JobStatus
    from app.scheduling.models import ScheduleDraft

    cycle = fp.make_cycle(name="2093-I", starts_on=date(2093, 3, 1), ends_on=date(2093, 7, 31))
    call = fp.make_call(cycle=cycle, instruments=[world.instrument])
    award = make_award(call=call, instrument=world.instrument, shifts=3, number=9)
    g = facility_queries.grid()
    booking = add_booking(
        world.instrument,
        cycle,
        g.start(date(2093, 4, 1), 0),
        g.start(date(2093, 4, 2), 0),
        kind=BookingKind.EXPERIMENT,
        title="matrix experiment",
    )
    db.session.add(Experiment(booking_id=booking.id, award_id=award.id))
    world.workflow_booking = booking
    world.schedule_cycle = cycle
    world.draft = ScheduleDraft(
        cycle_id=cycle.id, number=1, created_by_id=actor.id, sessions=[], unplaced=[], groups=[]
    )
    db.session.add(world.draft)
    world.solve_job = JobRequest(
        kind="schedule.solve",
        params={"cycle_id": cycle.id, "effort": 1},
        requested_by_id=actor.id,
        status=JobStatus.DONE,
    )
    db.session.add(world.solve_job)
    db.session.commit()
