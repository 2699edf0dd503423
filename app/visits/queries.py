"""Reads of the visits domain: visits, experiments seen from the visits side, access rules,
training, safety and the checklist of each visitor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import CountryGroupMember
from app.core import events
from app.core.errors import NotFound
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility.models import Booking, BookingStatus
from app.proposals.models import ProposalMember
from app.reviews.models import Award
from app.scheduling.models import Experiment
from app.visits import checklist, config, leadtime, permissions
from app.visits.models import (
    AccessRule,
    AccessStatus,
    ExperimentSafety,
    TrainingCourse,
    TrainingRecord,
    Visit,
    VisitInvitation,
)
from app.visits.status import OPEN, VisitStatus


def facility_zone() -> ZoneInfo:
    return ZoneInfo(facility_queries.facility_timezone_name() or "UTC")


def today(now: datetime) -> date:
    return leadtime.local_day(now, facility_zone())


def experiment_days(experiment: Experiment) -> tuple[date, date]:
    """The experiment's first and last facility-local days (the end instant is exclusive)."""
    zone = facility_zone()
    booking = experiment.booking
    first = booking.starts_at.astimezone(zone).date()
    last = (booking.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    return first, max(first, last)


# --- experiments and visits ---------------------------------------------------------------


def find_experiment(experiment_id: int) -> Experiment | None:
    return db.session.get(Experiment, experiment_id)


def get_experiment(experiment_id: int, actor: Any) -> Experiment:
    """An experiment whose visits the actor may see. Raises: NotFound (also when hidden)."""
    experiment = find_experiment(experiment_id)
    if experiment is None or not permissions.can_view_experiment_visits(actor, experiment):
        raise NotFound("experiment_not_found")
    return experiment


def get_visit(visit_id: int, actor: Any) -> Visit:
    """Raises: NotFound (also someone else's visit the actor may not see)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or not permissions.can_view_visit(actor, visit):
        raise NotFound("visit_not_found")
    return visit


def list_visits(experiment_id: int) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit).where(Visit.experiment_id == experiment_id).order_by(Visit.created_at, Visit.id)
        )
    )


def list_invitations(experiment_id: int, now: datetime) -> list[VisitInvitation]:
    rows = db.session.scalars(
        select(VisitInvitation).where(VisitInvitation.experiment_id == experiment_id).order_by(VisitInvitation.id)
    )
    return [i for i in rows if i.is_pending(now)]


def list_my_visits(user_id: int) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit)
            .join(Booking, Booking.id == Visit.experiment_id)
            .where(Visit.user_id == user_id)
            .order_by(Booking.starts_at.desc())
        )
    )


def list_team_experiments(user_id: int) -> list[Experiment]:
    """Published (or later) experiments of proposals the person is on the team of."""
    return list(
        db.session.scalars(
            select(Experiment)
            .join(Booking, Booking.id == Experiment.booking_id)
            .join(Award, Award.id == Experiment.award_id)
            .join(ProposalMember, ProposalMember.proposal_id == Award.proposal_id)
            .where(ProposalMember.user_id == user_id, Booking.status != BookingStatus.PLANNED)
            .order_by(Booking.starts_at.desc())
        )
    )


def list_visits_by_status(statuses) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit)
            .join(Booking, Booking.id == Visit.experiment_id)
            .where(Visit.status.in_(list(statuses)))
            .order_by(Booking.starts_at, Visit.id)
        )
    )


def office_queue() -> list[Visit]:
    return list_visits_by_status([VisitStatus.REQUESTED, VisitStatus.CHANGES_REQUESTED, VisitStatus.APPROVED])


def access_queue() -> list[Visit]:
    return [v for v in office_queue() if v.access_status == AccessStatus.PENDING]


def safety_queue(actor: Any) -> list[tuple[Experiment, ExperimentSafety]]:
    """Confirmed safety declarations that still wait for a sign-off this actor can give."""
    rows = db.session.scalars(
        select(ExperimentSafety).where(ExperimentSafety.confirmed_at.is_not(None)).order_by(ExperimentSafety.updated_at)
    )
    out = []
    for safety in rows:
        experiment = db.session.get(Experiment, safety.experiment_id)
        if experiment is None or experiment.booking.status == BookingStatus.CANCELLED:
            continue
        if safety_done(safety):
            continue
        if permissions.can_sign_safety(actor, experiment) or permissions.is_staff(actor):
            out.append((experiment, safety))
    return out


# --- site access ----------------------------------------------------------------------------


def list_access_rules() -> list[AccessRule]:
    return list(db.session.scalars(select(AccessRule).order_by(AccessRule.id)))


def needs_citizenship() -> bool:
    """Citizenship is asked only when some rule depends on it."""
    return db.session.scalar(select(AccessRule.id).where(AccessRule.by_citizenship.is_(True)).limit(1)) is not None


def applicable_rules(country_code: str | None, citizenship: str | None) -> list[AccessRule]:
    codes = {c for c in (country_code, citizenship) if c}
    if not codes:
        return []
    groups: dict[int, set[str]] = {}
    for group_id, code in db.session.execute(
        select(CountryGroupMember.group_id, CountryGroupMember.country_code).where(
            CountryGroupMember.country_code.in_(codes)
        )
    ):
        groups.setdefault(group_id, set()).add(code)
    out = []
    for rule in list_access_rules():
        members = groups.get(rule.country_group_id, set())
        key = citizenship if rule.by_citizenship else country_code
        if key and key in members:
            out.append(rule)
    return out


@dataclass(frozen=True)
class AccessRequirement:
    needs_approval: bool
    latest_day: date | None  # the last day a request is on time (None: no lead time)
    rules: tuple[AccessRule, ...]

    def late_days(self, requested_on: date, arrival: date, holidays) -> int:
        return max(
            (
                leadtime.days_missing(
                    requested_on, arrival, r.lead_days, working_days=r.working_days, holidays=holidays
                )
                for r in self.rules
            ),
            default=0,
        )


def access_requirement(country_code: str | None, citizenship: str | None, arrival: date) -> AccessRequirement:
    rules = tuple(applicable_rules(country_code, citizenship))
    holidays = config.holidays()
    latest = [
        leadtime.latest_request_day(arrival, r.lead_days, working_days=r.working_days, holidays=holidays)
        for r in rules
        if r.lead_days > 0
    ]
    return AccessRequirement(any(r.needs_approval for r in rules), min(latest) if latest else None, rules)


# --- training -------------------------------------------------------------------------------


def list_courses(*, active_only: bool = False) -> list[TrainingCourse]:
    query = select(TrainingCourse).order_by(TrainingCourse.name)
    if active_only:
        query = query.where(TrainingCourse.active.is_(True))
    return list(db.session.scalars(query))


def list_records(user_id: int | None = None, *, limit: int = 200) -> list[TrainingRecord]:
    query = select(TrainingRecord).order_by(TrainingRecord.recorded_at.desc(), TrainingRecord.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(TrainingRecord.user_id == user_id)
    return list(db.session.scalars(query))


def training_missing(user_id: int, arrival: date) -> list[str]:
    """Names of the required courses the person has no record of valid on `arrival` (expired by then)."""
    courses = [c for c in list_courses(active_only=True) if c.required_on_site]
    if not courses:
        return []
    best: dict[int, date] = {}
    for record in db.session.scalars(select(TrainingRecord).where(TrainingRecord.user_id == user_id)):
        best[record.course_id] = max(best.get(record.course_id, record.expires_on), record.expires_on)
    return [c.name for c in courses if best.get(c.id) is None or best[c.id] < arrival]


# --- safety ---------------------------------------------------------------------------------


def find_safety(experiment_id: int) -> ExperimentSafety | None:
    return db.session.get(ExperimentSafety, experiment_id)


def proposal_samples(experiment: Experiment) -> list[dict[str, Any]]:
    """The proposal's samples as the starting point of the experiment's declaration."""
    return [
        {"name": s.name, "hazards": [str(h) for h in s.hazards if str(h) != "none"]}
        for s in experiment.award.proposal.samples
    ]


def declared_samples(experiment: Experiment) -> list[dict[str, Any]]:
    safety = find_safety(experiment.booking_id)
    return list(safety.samples) if safety is not None and safety.confirmed_at else proposal_samples(experiment)


def needs_safety_reviewer(safety: ExperimentSafety | None) -> bool:
    return safety is not None and bool(safety.hazards() & config.review_hazards())


def safety_done(safety: ExperimentSafety | None) -> bool:
    if safety is None or safety.confirmed_at is None or safety.scientist_signed_at is None:
        return False
    return safety.reviewer_signed_at is not None or not needs_safety_reviewer(safety)


# --- the checklist --------------------------------------------------------------------------


@dataclass
class ChecklistContext:
    """What every checklist of a list reads, loaded once: rules with their countries, required
    courses, the settings, and the training records and safety rows of the visits listed."""

    zone: ZoneInfo
    rules: list[AccessRule]
    group_codes: dict[int, frozenset[str]]
    holidays: frozenset[date]
    review_hazards: frozenset[str]
    deadlines: checklist.Deadlines
    courses: list[TrainingCourse]
    best_expiry: dict[int, dict[int, date]] = field(default_factory=dict)  # user → course → expiry
    safeties: dict[int, ExperimentSafety | None] = field(default_factory=dict)

    def rules_for(self, country_code: str | None, citizenship: str | None) -> list[AccessRule]:
        out = []
        for rule in self.rules:
            key = citizenship if rule.by_citizenship else country_code
            if key and key in self.group_codes.get(rule.country_group_id, frozenset()):
                out.append(rule)
        return out

    def training_missing(self, user_id: int, arrival: date) -> list[str]:
        best = self.best_expiry.get(user_id, {})
        return [c.name for c in self.courses if best.get(c.id) is None or best[c.id] < arrival]


def checklist_context(visits: list[Visit]) -> ChecklistContext:
    rules = list_access_rules()
    group_ids = {r.country_group_id for r in rules}
    codes: dict[int, set[str]] = {g: set() for g in group_ids}
    if group_ids:
        for group_id, code in db.session.execute(
            select(CountryGroupMember.group_id, CountryGroupMember.country_code).where(
                CountryGroupMember.group_id.in_(group_ids)
            )
        ):
            codes[group_id].add(code)
    ctx = ChecklistContext(
        zone=facility_zone(),
        rules=rules,
        group_codes={g: frozenset(c) for g, c in codes.items()},
        holidays=config.holidays(),
        review_hazards=config.review_hazards(),
        deadlines=config.deadlines(),
        courses=[c for c in list_courses(active_only=True) if c.required_on_site],
    )
    user_ids = {v.user_id for v in visits if not v.is_remote}
    if ctx.courses and user_ids:
        for record in db.session.scalars(select(TrainingRecord).where(TrainingRecord.user_id.in_(user_ids))):
            best = ctx.best_expiry.setdefault(record.user_id, {})
            best[record.course_id] = max(best.get(record.course_id, record.expires_on), record.expires_on)
    experiment_ids = {v.experiment_id for v in visits}
    ctx.safeties = dict.fromkeys(experiment_ids)
    if experiment_ids:
        for safety in db.session.scalars(
            select(ExperimentSafety).where(ExperimentSafety.experiment_id.in_(experiment_ids))
        ):
            ctx.safeties[safety.experiment_id] = safety
    return ctx


def visit_facts(visit: Visit, now: datetime, ctx: ChecklistContext | None = None) -> checklist.VisitFacts:
    ctx = ctx or checklist_context([visit])
    experiment = visit.experiment
    booking = experiment.booking
    starts_on = booking.starts_at.astimezone(ctx.zone).date()
    arrival = visit.arrives_on or starts_on
    safety = ctx.safeties.get(visit.experiment_id)
    rules = ctx.rules_for(visit.country_code, visit.citizenship)
    latest = [
        leadtime.latest_request_day(arrival, r.lead_days, working_days=r.working_days, holidays=ctx.holidays)
        for r in rules
        if r.lead_days > 0
    ]
    needs_approval = any(r.needs_approval for r in rules)
    hazardous = safety is not None and bool(safety.hazards() & ctx.review_hazards)
    return checklist.VisitFacts(
        today=leadtime.local_day(now, ctx.zone),
        remote=visit.is_remote,
        status=visit.status.value,
        starts_on=starts_on,
        arrives_on=visit.arrives_on,
        registered=visit.registered_at is not None,
        access_needed=visit.access_status != AccessStatus.NOT_NEEDED or needs_approval,
        access_status=visit.access_status.value if visit.access_status != AccessStatus.NOT_NEEDED else "pending",
        access_latest_day=min(latest) if latest else None,
        access_late_days=visit.access_late_days,
        training_missing=tuple(ctx.training_missing(visit.user_id, arrival)) if not visit.is_remote else (),
        safety_confirmed=safety is not None and safety.confirmed_at is not None,
        safety_scientist_signed=safety is not None and safety.scientist_signed_at is not None,
        safety_needs_reviewer=hazardous,
        safety_reviewer_signed=safety is not None and safety.reviewer_signed_at is not None,
        accommodation_wanted=visit.accommodation_wanted,
        deadlines=ctx.deadlines,
        room=room_label(visit),
    )


#: the guesthouse fills it with the room of a visit whose whole stay has a bed (a higher
#: sub-domain: visits never imports it)
ROOM_SLOT = "visits.room"


def room_label(visit: Visit) -> str | None:
    labels = events.slot_contents(ROOM_SLOT, visit=visit)
    return str(labels[0]) if labels else None


def visit_checklist(visit: Visit, now: datetime) -> list[checklist.Item]:
    return checklist.build(visit_facts(visit, now))


def checklists(visits: list[Visit], now: datetime) -> list[tuple[Visit, list[checklist.Item]]]:
    """Each visit with its checklist, reading the shared rows once for the whole list."""
    ctx = checklist_context(visits)
    return [(v, checklist.build(visit_facts(v, now, ctx))) for v in visits]


def is_open(visit: Visit) -> bool:
    return visit.status in OPEN
