"""The visits part of the demo facility: training courses, a site-access rule, and visits for
the experiments that exist (past and current), with realistic shapes:

- 2–5 people per experiment from its team, about a quarter taking part remotely;
- on-site stays from the day before the experiment to the day after, sometimes shorter;
- visits of past experiments completed (their citizenship and emergency contacts already
  erased, as the retention job would have done); current and coming ones requested or approved,
  some site-access requests late (flagged with the days missing), some trainings expired.

Deterministic (seeded) and idempotent (nothing is done once a demo course exists). Without
experiments (a fresh demo before the schedule is published) only courses and the rule are made.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import CountryGroup
from app.core.transaction import unit_of_work
from app.extensions import db
from app.facility.models import Booking, BookingStatus
from app.scheduling.models import Experiment
from app.visits import queries
from app.visits.models import AccessRule, AccessStatus, TrainingCourse, TrainingRecord, Visit, VisitMode
from app.visits.status import VisitStatus

SEED = 8088
COURSES = [("Radiation safety", 365), ("Beamline induction", 730)]
REMOTE_FRACTION = 0.25
SECURITY_GROUP = "needs security approval"


def seed(*, actor: Any, now: datetime | None = None, progress=None) -> int:
    """Create the demo courses, access rule and visits; returns the visits made."""
    now = now or datetime.now(UTC)
    with unit_of_work():
        if db.session.scalar(select(TrainingCourse.id).limit(1)) is not None:
            return 0
        rng = random.Random(SEED)
        courses = [TrainingCourse(name=name, validity_days=days, required_on_site=True) for name, days in COURSES]
        db.session.add_all(courses)
        group = db.session.scalar(select(CountryGroup).where(func.lower(CountryGroup.name) == SECURITY_GROUP))
        if group is not None:
            db.session.add(
                AccessRule(
                    country_group_id=group.id,
                    lead_days=60,
                    working_days=False,
                    needs_approval=True,
                    by_citizenship=True,
                )
            )
        db.session.flush()
        experiments = list(
            db.session.scalars(
                select(Experiment)
                .join(Booking, Booking.id == Experiment.booking_id)
                .where(Booking.status != BookingStatus.PLANNED)
                .order_by(Booking.starts_at)
            )
        )
        made = 0
        trained: set[int] = set()
        for index, experiment in enumerate(experiments):
            made += _visits_of(experiment, rng, now, courses, trained, actor)
            if progress is not None and index % 50 == 0:
                progress.print(f"visits: {index + 1}/{len(experiments)} experiments")
    return made


def _visits_of(experiment: Experiment, rng: random.Random, now: datetime, courses, trained: set[int], actor) -> int:
    booking = experiment.booking
    members = list(experiment.award.proposal.members)
    if not members:
        return 0
    rng.shuffle(members)
    people = members[: rng.randint(2, 5)]
    starts_on, ends_on = queries.experiment_days(experiment)
    today = queries.today(now)
    past = booking.ends_at <= now or booking.status == BookingStatus.COMPLETED
    cancelled = booking.status == BookingStatus.CANCELLED
    made = 0
    for member in people:
        user = member.user
        remote = rng.random() < REMOTE_FRACTION
        visit = Visit(
            experiment_id=booking.id,
            user_id=user.id,
            mode=VisitMode.REMOTE if remote else VisitMode.ON_SITE,
            institution_id=member.institution_id,
            institution_name=member.institution_name,
            country_code=member.country_code,
            created_by_id=getattr(actor, "id", None),
            created_at=booking.starts_at - timedelta(days=rng.randint(20, 90)),
            updated_at=now,
        )
        if remote:
            visit.status = (
                VisitStatus.CANCELLED if cancelled else (VisitStatus.COMPLETED if past else VisitStatus.REGISTERED)
            )
            visit.registered_at = visit.created_at
        else:
            visit.arrives_on = starts_on - timedelta(days=rng.choice([0, 1, 1, 1, 2]))
            visit.departs_on = max(visit.arrives_on, ends_on + timedelta(days=rng.choice([0, 0, 1, 1, 2])))
            visit.accommodation_wanted = rng.random() < 0.6
            visit.dosimeter_needed = rng.random() < 0.3
            visit.registered_at = visit.created_at + timedelta(days=rng.randint(1, 10))
            requested_on = visit.registered_at.date()
            # a few visitors register late: fewer than 60 days before a rule's lead time
            if rng.random() < 0.15:
                visit.access_status = AccessStatus.PENDING if not past else AccessStatus.APPROVED
                visit.access_requested_at = visit.registered_at
                visit.access_late_days = max(0, 60 - (visit.arrives_on - requested_on).days)
            if past:
                visit.status = VisitStatus.CANCELLED if cancelled else VisitStatus.COMPLETED
                visit.personal_data_erased_at = now
            else:
                visit.status = rng.choice([VisitStatus.REQUESTED, VisitStatus.REQUESTED, VisitStatus.APPROVED])
                if cancelled:
                    visit.status = VisitStatus.CANCELLED
                visit.emergency_contact_name = f"Contact of {user.name}"
                visit.emergency_contact_phone = (
                    f"+41 22 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
                )
                if visit.status == VisitStatus.APPROVED and visit.access_status == AccessStatus.PENDING:
                    visit.access_status = AccessStatus.APPROVED
            if user.id not in trained:
                trained.add(user.id)
                _training(user.id, visit.arrives_on, rng, courses, today)
        db.session.add(visit)
        made += 1
    db.session.flush()
    return made


def _training(user_id: int, arrival: date, rng: random.Random, courses, today: date) -> None:
    """Most on-site visitors trained; about one in eight with a training that expires before arrival."""
    for course in courses:
        roll = rng.random()
        if roll < 0.1:
            continue  # never trained
        if roll < 0.22:
            completed = arrival - timedelta(days=course.validity_days + rng.randint(1, 60))  # expired by arrival
        else:
            completed = arrival - timedelta(days=rng.randint(5, course.validity_days - 10))
        completed = min(completed, today)
        db.session.add(
            TrainingRecord(
                user_id=user_id,
                course_id=course.id,
                completed_on=completed,
                expires_on=completed + timedelta(days=course.validity_days),
            )
        )
