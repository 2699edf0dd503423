"""Reads of experiment reports and publications.

An experiment has ended when its booking is completed, or its end has passed and it is not
cancelled. Its report is due `outcomes.report_due_days` after the end, and overdue when not
submitted by then (computed from the booking, never stored).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, and_, bindparam, distinct, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.core import settings
from app.core.errors import NotFound
from app.extensions import db
from app.facility.models import Booking, BookingStatus, Instrument
from app.proposals.models import MemberRole, Proposal, ProposalMember
from app.reviews.models import Award
from app.scheduling.models import Experiment
from app.visits.outcomes.models import (
    ExperimentReport,
    Publication,
    PublicationInstrument,
    PublicationProposal,
    ReportStatus,
)

settings.define(
    "outcomes.report_due_days", int, 60, _l("Experiment report due, days after the end"), minimum=1, maximum=730
)
settings.define(
    "outcomes.report_reminder_days_before",
    int,
    7,
    _l("First experiment report reminder, days before it is due"),
    minimum=1,
    maximum=90,
)
settings.define(
    "outcomes.report_late_reminder_days",
    int,
    30,
    _l("Last experiment report reminder, days after it was due"),
    minimum=1,
    maximum=365,
)
settings.define(
    "outcomes.report_pdf_max_mb", int, 10, _l("Largest experiment report PDF, in MB"), minimum=1, maximum=40
)
settings.define(
    "outcomes.report_pdf_max_pages", int, 20, _l("Most pages of an experiment report PDF"), minimum=1, maximum=200
)


class ReportState(enum.StrEnum):
    NOT_ENDED = "not_ended"
    CANCELLED = "cancelled"
    DUE = "due"  # ended, not submitted, due date ahead
    OVERDUE = "overdue"
    SUBMITTED = "submitted"


def due_days() -> int:
    return settings.get_int("outcomes.report_due_days")


def has_ended(experiment: Experiment, now: datetime) -> bool:
    booking = experiment.booking
    if booking.status == BookingStatus.CANCELLED:
        return False
    return booking.status == BookingStatus.COMPLETED or booking.ends_at <= now


def due_at(experiment: Experiment) -> datetime:
    return experiment.booking.ends_at + timedelta(days=due_days())


def state_of(experiment: Experiment, report: ExperimentReport | None, now: datetime) -> ReportState:
    if report is not None and report.status == ReportStatus.SUBMITTED:
        return ReportState.SUBMITTED
    if experiment.booking.status == BookingStatus.CANCELLED:
        return ReportState.CANCELLED
    if not has_ended(experiment, now):
        return ReportState.NOT_ENDED
    return ReportState.OVERDUE if now >= due_at(experiment) else ReportState.DUE


def get_experiment(experiment_id: int) -> Experiment:
    """Raises: NotFound."""
    experiment = db.session.scalar(
        select(Experiment)
        .where(Experiment.booking_id == experiment_id)
        .options(joinedload(Experiment.award).joinedload(Award.proposal).selectinload(Proposal.members))
    )
    if experiment is None:
        raise NotFound("not_found")
    return experiment


def find_report(experiment_id: int) -> ExperimentReport | None:
    return db.session.scalar(select(ExperimentReport).where(ExperimentReport.experiment_id == experiment_id))


def _not_submitted():
    return ~exists().where(
        ExperimentReport.experiment_id == Experiment.booking_id,
        ExperimentReport.status == ReportStatus.SUBMITTED,
    )


def _overdue_clause(now: datetime):
    """Not cancelled, ended at least `due_days` ago, and no submitted report."""
    return and_(
        Booking.status != BookingStatus.CANCELLED,
        Booking.ends_at <= now - timedelta(days=due_days()),
        _not_submitted(),
    )


@dataclass(frozen=True, slots=True)
class OverdueReport:
    experiment_id: int
    reference: str
    instrument: str
    ended_at: datetime
    due_at: datetime


def overdue_reports_of_pi(
    user_id: int, now: datetime, *, exclude_proposal_id: int | None = None
) -> list[OverdueReport]:
    """Experiments of proposals this person led (as PI) whose report is overdue."""
    stmt = (
        select(Experiment.booking_id, Proposal.reference, Proposal.id, Instrument.code, Booking.ends_at)
        .join(Booking, Booking.id == Experiment.booking_id)
        .join(Instrument, Instrument.id == Booking.instrument_id)
        .join(Award, Award.id == Experiment.award_id)
        .join(Proposal, Proposal.id == Award.proposal_id)
        .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
        .where(ProposalMember.user_id == user_id, ProposalMember.role == MemberRole.PI, _overdue_clause(now))
        .order_by(Booking.ends_at)
    )
    if exclude_proposal_id is not None:
        stmt = stmt.where(Proposal.id != exclude_proposal_id)
    days = timedelta(days=due_days())
    return [
        OverdueReport(eid, ref or f"#{pid}", code, ends, ends + days)
        for eid, ref, pid, code, ends in db.session.execute(stmt)
    ]


@dataclass(frozen=True, slots=True)
class ReportRow:
    experiment: Experiment
    report: ExperimentReport | None
    state: ReportState
    due_at: datetime


def _rows(experiments: list[Experiment], now: datetime) -> list[ReportRow]:
    ids = [e.booking_id for e in experiments]
    reports = (
        {
            r.experiment_id: r
            for r in db.session.scalars(select(ExperimentReport).where(ExperimentReport.experiment_id.in_(ids)))
        }
        if ids
        else {}
    )
    return [
        ReportRow(e, reports.get(e.booking_id), state_of(e, reports.get(e.booking_id), now), due_at(e))
        for e in experiments
    ]


def _experiments():
    return (
        select(Experiment)
        .join(Booking, Booking.id == Experiment.booking_id)
        .options(joinedload(Experiment.award).joinedload(Award.proposal))
    )


def reports_of_member(user_id: int, now: datetime) -> list[ReportRow]:
    """The experiments of proposals this person is on the team of (published or later), newest first."""
    stmt = (
        _experiments()
        .join(Award, Award.id == Experiment.award_id)
        .join(ProposalMember, ProposalMember.proposal_id == Award.proposal_id)
        .where(
            ProposalMember.user_id == user_id,
            Booking.status.in_((BookingStatus.PUBLISHED, BookingStatus.RUNNING, BookingStatus.COMPLETED)),
        )
        .order_by(Booking.ends_at.desc())
    )
    return _rows(list(db.session.scalars(stmt).unique()), now)


def reports_for_staff(now: datetime, *, overdue_only: bool = False, limit: int = 500) -> list[ReportRow]:
    """Ended experiments, most recently ended first (overdue ones only when asked)."""
    ended = or_(Booking.status == BookingStatus.COMPLETED, Booking.ends_at <= now)
    stmt = _experiments().where(Booking.status != BookingStatus.CANCELLED, ended)
    if overdue_only:
        stmt = stmt.where(_overdue_clause(now))
    stmt = stmt.order_by(Booking.ends_at.desc()).limit(limit)
    return _rows(list(db.session.scalars(stmt).unique()), now)


def experiments_needing_reminders(now: datetime, *, before_days: int, late_days: int) -> Iterator[Experiment]:
    """Ended or ending experiments whose report is not in and whose first reminder is due,
    bounded in time: the last reminder stage (`late_days` after the due date) is the horizon."""
    days = due_days()
    stmt = (
        _experiments()
        .where(
            Booking.status != BookingStatus.CANCELLED,
            Booking.ends_at <= now - timedelta(days=days - before_days),
            Booking.ends_at > now - timedelta(days=days + late_days + 7),
            _not_submitted(),
        )
        .order_by(Booking.ends_at)
    )
    yield from db.session.scalars(stmt).unique()


# --- publications --------------------------------------------------------------------------


def get_publication(publication_id: int) -> Publication:
    """Raises: NotFound."""
    publication = db.session.get(Publication, publication_id)
    if publication is None:
        raise NotFound("not_found")
    return publication


def find_publication_by_doi(doi: str) -> Publication | None:
    return db.session.scalar(select(Publication).where(Publication.doi == doi))


def _publications():
    return select(Publication).options(
        selectinload(Publication.proposal_links).joinedload(PublicationProposal.proposal),
        selectinload(Publication.instrument_links),
    )


def publications_of_proposal(proposal_id: int) -> list[Publication]:
    stmt = (
        _publications()
        .join(PublicationProposal, PublicationProposal.publication_id == Publication.id)
        .where(PublicationProposal.proposal_id == proposal_id)
        .order_by(Publication.year.desc(), Publication.id.desc())
    )
    return list(db.session.scalars(stmt).unique())


@functools.cache
def _count_publications_of_proposal() -> Select:
    return select(func.count(distinct(PublicationProposal.publication_id))).where(
        PublicationProposal.proposal_id == bindparam("proposal_id", type_=Integer)
    )


def publications_count_of(proposal_id):
    """How many publications name the proposal, as a scalar subquery correlated on
    `proposal_id` (a column): the proposal page's fact (`proposals.queries.add_page_fact`)."""
    return (
        select(func.count(distinct(PublicationProposal.publication_id)))
        .where(PublicationProposal.proposal_id == proposal_id)
        .scalar_subquery()
    )


def count_publications_of_proposal(proposal_id: int) -> int:
    """How many publications name the proposal (the proposal page's notice): one count, no
    publication loaded; the statement is built once per process."""
    return db.session.scalar(_count_publications_of_proposal(), {"proposal_id": proposal_id}) or 0


def publications_of_instrument(instrument_id: int) -> list[Publication]:
    stmt = (
        _publications()
        .join(PublicationInstrument, PublicationInstrument.publication_id == Publication.id)
        .where(PublicationInstrument.instrument_id == instrument_id)
        .order_by(Publication.year.desc(), Publication.id.desc())
    )
    return list(db.session.scalars(stmt).unique())


def all_publications(*, instrument_id: int | None = None) -> list[Publication]:
    if instrument_id is not None:
        return publications_of_instrument(instrument_id)
    return list(db.session.scalars(_publications().order_by(Publication.year.desc(), Publication.id.desc())).unique())


def get_instrument(instrument_id: int) -> Instrument:
    instrument = db.session.get(Instrument, instrument_id)
    if instrument is None:
        raise NotFound("not_found")
    return instrument


def find_instrument_by_code(code: str) -> Instrument | None:
    return db.session.scalar(select(Instrument).where(Instrument.code == code))


def count_publications(*, instrument_id: int | None = None) -> int:
    from sqlalchemy import func

    stmt = select(func.count()).select_from(Publication)
    if instrument_id is not None:
        stmt = stmt.join(PublicationInstrument).where(PublicationInstrument.instrument_id == instrument_id)
    return db.session.scalar(stmt) or 0
