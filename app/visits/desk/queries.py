"""Reads of the front desk: finding a visitor, the roll call at an instant, feedback results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean

from sqlalchemy import func, or_, select

from app.accounts.models import User
from app.core.errors import NotFound
from app.extensions import db
from app.facility.models import Booking, Cycle, Instrument
from app.proposals.models import Proposal
from app.reviews.models import Award
from app.scheduling.models import Experiment
from app.visits import queries as visit_queries
from app.visits.desk.models import Feedback, SitePresence
from app.visits.guesthouse import queries as guest_queries
from app.visits.models import Visit, VisitMode
from app.visits.status import VisitStatus

#: visits the desk looks at: arriving (approved) and on site
AT_THE_DESK = (VisitStatus.APPROVED, VisitStatus.ON_SITE)
MAX_RESULTS = 50
#: feedback can be given (and corrected) for this many days after the experiment ends
FEEDBACK_DAYS = 60


def presence(visit_id: int) -> SitePresence | None:
    return db.session.get(SitePresence, visit_id)


def search(text: str, *, now: datetime) -> list[Visit]:
    """Approved and on-site visits by the visitor's name or e-mail, or the proposal reference;
    without a text, those expected from yesterday to tomorrow and everyone on site."""
    stmt = (
        select(Visit)
        .join(User, User.id == Visit.user_id)
        .join(Experiment, Experiment.booking_id == Visit.experiment_id)
        .join(Award, Award.id == Experiment.award_id)
        .join(Proposal, Proposal.id == Award.proposal_id)
        .where(Visit.mode == VisitMode.ON_SITE, Visit.status.in_(AT_THE_DESK))
    )
    text = (text or "").strip()
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(like),
                func.lower(User.email).like(like),
                func.lower(Proposal.reference).like(like),
            )
        )
    else:
        today = visit_queries.today(now)
        stmt = stmt.where(
            or_(
                Visit.status == VisitStatus.ON_SITE,
                Visit.arrives_on.between(today - timedelta(days=1), today + timedelta(days=1)),
            )
        )
    return list(db.session.scalars(stmt.order_by(User.name, Visit.id).limit(MAX_RESULTS)).unique())


@dataclass(frozen=True)
class OnSite:
    visit_id: int
    name: str
    email: str
    instrument: str
    proposal: str
    local_contact: str
    room: str
    arrived_at: datetime


def on_site_at(at: datetime) -> list[OnSite]:
    """Everyone checked in at the instant `at` and not yet checked out (roll call)."""
    presences = db.session.scalars(
        select(SitePresence)
        .where(
            SitePresence.checked_in_at <= at,
            or_(SitePresence.checked_out_at.is_(None), SitePresence.checked_out_at > at),
        )
        .order_by(SitePresence.checked_in_at)
    )
    day = visit_queries.today(at)
    rows = []
    for p in presences:
        visit = p.visit
        experiment = visit.experiment
        # the night that began on the evening before, until noon; the coming one after
        night = day if at.astimezone(visit_queries.facility_zone()).hour >= 12 else day - timedelta(days=1)
        bed = guest_queries.bed_on(visit.id, night) or guest_queries.bed_on(visit.id, day)
        contact = experiment.local_contact
        rows.append(
            OnSite(
                visit_id=visit.id,
                name=visit.user.name,
                email=visit.user.email,
                instrument=experiment.booking.instrument.code,
                proposal=experiment.award.proposal.reference or "",
                local_contact=contact.name if contact is not None else "",
                room=bed.full_label if bed is not None else "",
                arrived_at=p.checked_in_at,
            )
        )
    return sorted(rows, key=lambda r: (r.name.lower(), r.visit_id))


def get_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("visit_not_found")
    return visit


# --- feedback ---------------------------------------------------------------------------------


def feedback(visit_id: int) -> Feedback | None:
    return db.session.get(Feedback, visit_id)


def experiment_ended_on(visit: Visit) -> date:
    return visit_queries.experiment_days(visit.experiment)[1]


def feedback_window(visit: Visit, now: datetime) -> tuple[bool, date]:
    """(open now, last day): from the experiment's end, while FEEDBACK_DAYS have not passed."""
    ended = visit.experiment.booking.ends_at <= now
    last_day = experiment_ended_on(visit) + timedelta(days=FEEDBACK_DAYS)
    return ended and visit_queries.today(now) <= last_day, last_day


def feedback_due(user_id: int, now: datetime) -> list[Visit]:
    """The person's visits whose feedback window is open (given or not)."""
    visits = db.session.scalars(
        select(Visit).where(
            Visit.user_id == user_id,
            Visit.status.in_((VisitStatus.ON_SITE, VisitStatus.COMPLETED, VisitStatus.REGISTERED)),
        )
    )
    return [v for v in visits if feedback_window(v, now)[0]]


def recently_ended_visits(now: datetime, *, within_days: int) -> list[Visit]:
    """Visits that took place (on site or remote) of experiments that ended in the last days."""
    return list(
        db.session.scalars(
            select(Visit)
            .join(Booking, Booking.id == Visit.experiment_id)
            .where(
                Visit.status.in_((VisitStatus.ON_SITE, VisitStatus.COMPLETED, VisitStatus.REGISTERED)),
                Booking.ends_at <= now,
                Booking.ends_at > now - timedelta(days=within_days),
            )
            .order_by(Visit.id)
        )
    )


@dataclass(frozen=True)
class FeedbackRow:
    cycle: str
    instrument: str
    count: int
    instrument_avg: float | None
    support_avg: float | None
    accommodation_avg: float | None
    overall_avg: float | None


def _avg(values: list[int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(mean(present), 2) if present else None


def feedback_results(*, cycle_id: int | None = None, instrument_id: int | None = None) -> list[FeedbackRow]:
    """Averages and counts per cycle and instrument."""
    stmt = (
        select(Feedback, Cycle.name, Instrument.code)
        .join(Visit, Visit.id == Feedback.visit_id)
        .join(Booking, Booking.id == Visit.experiment_id)
        .join(Cycle, Cycle.id == Booking.cycle_id)
        .join(Instrument, Instrument.id == Booking.instrument_id)
    )
    if cycle_id is not None:
        stmt = stmt.where(Cycle.id == cycle_id)
    if instrument_id is not None:
        stmt = stmt.where(Instrument.id == instrument_id)
    groups: dict[tuple[str, str], list[Feedback]] = {}
    for fb, cycle, code in db.session.execute(stmt):
        groups.setdefault((cycle, code), []).append(fb)
    return [
        FeedbackRow(
            cycle,
            code,
            len(items),
            _avg([f.instrument for f in items]),
            _avg([f.support for f in items]),
            _avg([f.accommodation for f in items]),
            _avg([f.overall for f in items]),
        )
        for (cycle, code), items in sorted(groups.items())
    ]
