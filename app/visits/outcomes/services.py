"""Use cases of experiment reports and publications (the only code here that changes state).

Reports: the team writes text (sanitised with nh3) or uploads a PDF (checked by content with
the proposals domain's `pdfcheck`, stored by content hash with its `storage`); reminders go
to the team before the due date, when it passes and once more later, each stage once (outbox
idempotency keys). Publications: DOIs checked and normalised, one row per DOI, linked to
proposals and instruments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nh3
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import links
from app.core import audit, events, outbox, settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.core.permissions import require, require_visible
from app.core.transaction import transactional
from app.extensions import db
from app.facility.models import BookingStatus, Instrument
from app.proposals import pdfcheck, storage
from app.proposals.models import Proposal
from app.proposals.permissions import can_view_proposal
from app.scheduling.models import Experiment
from app.visits.events import PublicationChanged
from app.visits.outcomes import permissions, queries
from app.visits.outcomes.models import (
    ExperimentReport,
    Publication,
    PublicationInstrument,
    PublicationProposal,
    ReportStatus,
)

REPORT_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h3", "h4", "blockquote",
    "sub", "sup", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
REPORT_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
MAX_BODY = 100_000
PDF_FIELD = "pdf"
#: pdfcheck's codes whose sentences name the science case: reports have their own
_SCIENCE_CASE_WORDED = {"pdf_empty", "pdf_too_large", "pdf_wrong_type", "pdf_not_pdf", "pdf_too_many_pages"}

# --- experiment reports --------------------------------------------------------------------


def sanitise_report(html: str) -> str:
    return nh3.clean(
        html or "", tags=REPORT_TAGS, attributes=REPORT_ATTRIBUTES, url_schemes={"https", "http", "mailto"}
    ).strip()


def _has_text(html: str) -> bool:
    return bool(re.sub(r"<[^>]*>|&nbsp;|\s", "", html))


def get_readable_experiment(experiment_id: int, actor: Any) -> Experiment:
    """Raises: NotFound (no such experiment, or the actor may not read its report)."""
    experiment = queries.get_experiment(experiment_id)
    require_visible(permissions.can_read_report, actor, experiment)
    return experiment


def _writable(experiment_id: int, actor: Any, now: datetime, *, submit: bool) -> Experiment:
    experiment = get_readable_experiment(experiment_id, actor)
    require(permissions.can_write_report, actor, experiment)
    if experiment.booking.status == BookingStatus.CANCELLED:
        raise InvalidState("report_experiment_cancelled")
    if experiment.booking.status in (BookingStatus.PLANNED, BookingStatus.CONFIRMED):
        raise InvalidState("report_experiment_not_published")
    if submit and not queries.has_ended(experiment, now):
        raise InvalidState("report_before_end", ends_at=experiment.booking.ends_at.strftime("%Y-%m-%d %H:%M UTC"))
    return experiment


def _report_for(experiment: Experiment, now: datetime) -> ExperimentReport:
    report = queries.find_report(experiment.booking_id)
    if report is None:
        report = ExperimentReport(
            experiment_id=experiment.booking_id,
            proposal_id=experiment.award.proposal_id,
            status=ReportStatus.DRAFT,
            created_at=now,
            updated_at=now,
        )
        db.session.add(report)
    return report


def _mark_submitted(report: ExperimentReport, actor: Any, now: datetime) -> None:
    if report.status != ReportStatus.SUBMITTED:
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = now
        report.submitted_by_id = actor.id


@transactional
def save_report(
    experiment_id: int, body: str, *, submit: bool, actor: Any, now: datetime | None = None
) -> ExperimentReport:
    """Save the report's text (sanitised), and hand it in when `submit`.

    Raises: NotFound, PermissionDenied (not on the team), InvalidState (experiment cancelled or
    not published; submitted before the end), ValidationFailed on "body" (too long; empty on
    submission without a PDF).
    """
    now = now or utcnow()
    experiment = _writable(experiment_id, actor, now, submit=submit)
    if len(body or "") > MAX_BODY:
        raise ValidationFailed("too_long", field="body", maximum=MAX_BODY)
    clean = sanitise_report(body)
    existing = queries.find_report(experiment_id)
    if submit and not _has_text(clean) and not (existing and existing.pdf_key):
        raise ValidationFailed("report_empty", field="body")
    report = _report_for(experiment, now)
    report.body_html = clean
    report.updated_at = now
    report.updated_by_id = actor.id
    if submit:
        _mark_submitted(report, actor, now)
        audit.record(actor, "experiment_report.submitted", report, changes={"experiment_id": experiment_id})
    return report


def pdf_limits() -> pdfcheck.PdfLimits:
    return pdfcheck.PdfLimits(
        max_bytes=settings.get_int("outcomes.report_pdf_max_mb") * 1024 * 1024,
        max_pages=settings.get_int("outcomes.report_pdf_max_pages"),
    )


@transactional
def upload_report_pdf(
    experiment_id: int,
    data: bytes,
    filename: str | None,
    *,
    upload_dir: str,
    actor: Any,
    now: datetime | None = None,
) -> ExperimentReport:
    """Check the PDF by its content, store it and hand the report in.

    Raises: NotFound, PermissionDenied, InvalidState (as `save_report`), ValidationFailed on
    "pdf" (empty, too large, not a PDF — with what it is —, malformed, encrypted, too many pages).
    """
    now = now or utcnow()
    experiment = _writable(experiment_id, actor, now, submit=True)
    try:
        checked = pdfcheck.check_pdf(data, pdf_limits())
    except ValidationFailed as exc:
        params = {k: v for k, v in exc.params.items() if k != "field"}
        code = f"report_{exc.code}" if exc.code in _SCIENCE_CASE_WORDED else exc.code
        raise ValidationFailed(code, field=PDF_FIELD, **params) from None
    key = storage.store(upload_dir, checked.sha256, checked.data)
    report = _report_for(experiment, now)
    report.pdf_key = key
    report.pdf_name = (Path((filename or "").replace("\\", "/")).name.strip() or "report.pdf")[:200]
    report.pdf_size = checked.size
    report.pdf_pages = checked.pages
    report.updated_at = now
    report.updated_by_id = actor.id
    _mark_submitted(report, actor, now)
    audit.record(actor, "experiment_report.pdf_uploaded", report, changes={"experiment_id": experiment_id})
    return report


# --- reminders -----------------------------------------------------------------------------

STAGES = ("soon", "overdue", "late")


def reminder_stage(experiment: Experiment, now: datetime, *, before_days: int, late_days: int) -> str | None:
    """The latest reminder stage reached (only that one is sent: a job that starts late does
    not send the earlier ones)."""
    if not queries.has_ended(experiment, now) and experiment.booking.ends_at > now:
        # not ended yet: a reminder before the end makes no sense
        return None
    due = queries.due_at(experiment)
    if now >= due + timedelta(days=late_days):
        return "late"
    if now >= due:
        return "overdue"
    if now >= due - timedelta(days=before_days):
        return "soon"
    return None


def _enqueue_reminder(experiment: Experiment, stage: str, now: datetime) -> int:
    proposal = experiment.award.proposal
    due = queries.due_at(experiment).strftime("%Y-%m-%d")
    url = links.external_url("outcomes.report", experiment_id=experiment.booking_id)
    queued = 0
    for member in proposal.members:
        user = member.user
        if not user.active:
            continue
        with force_locale(user.locale or "en"):
            if stage == "soon":
                subject = _("Your experiment report for %(ref)s is due on %(due)s", ref=proposal.reference, due=due)
            else:
                subject = _("Your experiment report for %(ref)s is overdue", ref=proposal.reference)
            body = _(
                "Hello %(name)s,\n\nthe report on your experiment on %(instrument)s (proposal %(ref)s) "
                "was due on %(due)s. Reviewers of the PI's next proposals see reports that are overdue.\n\n"
                "Write it or upload it as a PDF here:\n\n%(url)s\n",
                name=user.name,
                instrument=experiment.booking.instrument.code,
                ref=proposal.reference,
                due=due,
                url=url,
            )
            if stage == "soon":
                body = _(
                    "Hello %(name)s,\n\nthe report on your experiment on %(instrument)s (proposal %(ref)s) "
                    "is due on %(due)s.\n\nWrite it or upload it as a PDF here:\n\n%(url)s\n",
                    name=user.name,
                    instrument=experiment.booking.instrument.code,
                    ref=proposal.reference,
                    due=due,
                    url=url,
                )
        key = f"experiment-report:{experiment.booking_id}:{stage}:{user.id}"
        if outbox.enqueue(user.email, subject, body, idempotency_key=key, now=now) is not None:
            queued += 1
    return queued


@transactional
def send_report_reminders(*, now: datetime | None = None) -> int:
    """Queue the reminders due now; each stage goes once to each team member, however often
    this runs. Returns how many e-mails were queued."""
    now = now or utcnow()
    before = settings.get_int("outcomes.report_reminder_days_before")
    late = settings.get_int("outcomes.report_late_reminder_days")
    queued = 0
    for experiment in queries.experiments_needing_reminders(now, before_days=before, late_days=late):
        stage = reminder_stage(experiment, now, before_days=before, late_days=late)
        if stage is not None:
            queued += _enqueue_reminder(experiment, stage, now)
    return queued


# --- publications --------------------------------------------------------------------------

_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
DOI_RE = re.compile(r"^10\.\d{4,9}/[^\s]+$")


def normalise_doi(raw: str | None) -> str:
    """`10.1107/S1600577521001234` from the DOI as people paste it (resolver URL, "doi:"
    prefix, spaces, any case: DOIs are case-insensitive, stored in lower case).

    Raises: ValidationFailed on "doi" (required, doi_invalid).
    """
    value = (raw or "").strip()
    if not value:
        raise ValidationFailed("required", field="doi")
    lowered = value.lower()
    for prefix in _DOI_PREFIXES:
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix) :].strip()
            break
    if len(lowered) > 255 or not DOI_RE.match(lowered):
        raise ValidationFailed("doi_invalid", field="doi", value=value[:80])
    return lowered


def _text(value: Any, field: str, *, maximum: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not value:
        raise ValidationFailed("required", field=field)
    if len(value) > maximum:
        raise ValidationFailed("too_long", field=field, maximum=maximum)
    return value


def _year(value: Any, now: datetime) -> int:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("publication_year_invalid", field="year", maximum=now.year + 1) from None
    if not 1950 <= year <= now.year + 1:
        raise ValidationFailed("publication_year_invalid", field="year", maximum=now.year + 1)
    return year


def _instruments(ids: Iterable[Any], proposal: Proposal) -> list[Instrument]:
    wanted: list[int] = []
    for raw in ids or ():
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed("publication_instrument_unknown", field="instrument_ids") from None
    if not wanted:  # default: the instruments the proposal asked for
        wanted = sorted({r.instrument_id for r in proposal.requests})
    found = {i.id: i for i in db.session.scalars(select(Instrument).where(Instrument.id.in_(wanted)))}
    if set(wanted) - set(found):
        raise ValidationFailed("publication_instrument_unknown", field="instrument_ids")
    return [found[i] for i in dict.fromkeys(wanted)]


@transactional
def add_publication(
    proposal_id: int,
    *,
    doi: str,
    title: str = "",
    year: Any = None,
    journal: str = "",
    instrument_ids: Iterable[Any] = (),
    actor: Any,
    now: datetime | None = None,
) -> Publication:
    """Record a publication for a proposal. A DOI already known is linked to this proposal
    too (its title, year and journal stay as first recorded).

    Raises: NotFound (proposal not visible), PermissionDenied (not on the team, not staff),
    ValidationFailed on "doi" (required, doi_invalid, doi_already_linked), "title", "year",
    "journal", "instrument_ids".
    """
    now = now or utcnow()
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("not_found")
    require_visible(can_view_proposal, actor, proposal)
    require(permissions.can_add_publication, actor, proposal)
    normalised = normalise_doi(doi)
    existing = queries.find_publication_by_doi(normalised)
    if existing is not None:
        if any(link.proposal_id == proposal_id for link in existing.proposal_links):
            raise ValidationFailed("doi_already_linked", field="doi", doi=normalised)
        instruments = _instruments(instrument_ids, proposal)
        existing.proposal_links.append(PublicationProposal(proposal_id=proposal_id))
        have = {link.instrument_id for link in existing.instrument_links}
        for instrument in instruments:
            if instrument.id not in have:
                existing.instrument_links.append(PublicationInstrument(instrument_id=instrument.id))
        audit.record(actor, "publication.linked", existing, changes={"proposal_id": proposal_id})
        events.publish(PublicationChanged(existing.id, (proposal_id,)))
        return existing
    publication = Publication(
        doi=normalised,
        title=_text(title, "title", maximum=500),
        year=_year(year, now),
        journal=_text(journal, "journal", maximum=300, required=False),
        created_by_id=actor.id,
        created_at=now,
    )
    instruments = _instruments(instrument_ids, proposal)
    publication.proposal_links.append(PublicationProposal(proposal_id=proposal_id))
    for instrument in instruments:
        publication.instrument_links.append(PublicationInstrument(instrument_id=instrument.id))
    db.session.add(publication)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same DOI recorded at the same moment by someone else
        raise Conflict("doi_taken", field="doi", doi=normalised) from None
    audit.record(actor, "publication.added", publication, changes={"doi": normalised, "proposal_id": proposal_id})
    events.publish(PublicationChanged(publication.id, (proposal_id,)))
    return publication


@transactional
def remove_publication(publication_id: int, *, actor: Any, now: datetime | None = None) -> None:
    """Delete a publication and its links.

    Raises: NotFound, PermissionDenied (neither staff nor whoever added it).
    """
    publication = queries.get_publication(publication_id)
    require(permissions.can_remove_publication, actor, publication)
    audit.record(actor, "publication.removed", publication, changes={"doi": publication.doi}, at=now)
    proposal_ids = tuple(link.proposal_id for link in publication.proposal_links)
    db.session.delete(publication)
    events.publish(PublicationChanged(publication_id, proposal_ids))


def report_state(experiment: Experiment, now: datetime | None = None) -> queries.ReportState:
    now = now or utcnow()
    return queries.state_of(experiment, queries.find_report(experiment.booking_id), now)
