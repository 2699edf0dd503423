"""Every job, declared in code: periodic jobs and the kinds of job request people can start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core import jobrequests, outbox
from app.core.models import JobRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: Callable[[], Any]
    seconds_config: str | None = None  # a config key holding the interval
    seconds: float = 60.0
    cron: dict | None = None  # APScheduler cron fields, instead of an interval


Progress = Callable[[int, int | None, str | None], None]
Handler = Callable[[JobRequest, Progress], dict | None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def decorate(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        jobrequests.register_kind(kind)
        return fn

    return decorate


@handler("outbox.send")
def _send_outbox(job: JobRequest, progress: Progress) -> dict:
    report = outbox.send_due(limit=10_000, progress=lambda done, total: progress(done, total, None))
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


def _send_outbox_periodic() -> None:
    report = outbox.send_due()
    if report.sent or report.retried or report.failed:
        log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)


def _run_job_requests() -> None:
    from app.jobs.runner import run_pending_job_requests

    run_pending_job_requests()


PERIODIC: list[Periodic] = [
    Periodic("outbox.send", _send_outbox_periodic, seconds_config="JOBS_OUTBOX_SECONDS"),
    Periodic("job_requests.poll", _run_job_requests, seconds_config="JOBS_POLL_SECONDS"),
]


def register_periodic(job: Periodic) -> None:
    """Domains add their periodic jobs here (at import of their jobs module)."""
    if all(p.name != job.name for p in PERIODIC):
        PERIODIC.append(job)


# --- accounts: the retention rule for accounts never verified -------------------------


def _purge_unverified_accounts() -> None:
    from app.accounts.services import purge_unverified_accounts

    removed = purge_unverified_accounts()
    if removed:
        log.info("accounts: %s never-verified account(s) past the retention period deleted", removed)


register_periodic(Periodic("accounts.purge_unverified", _purge_unverified_accounts, cron={"hour": 3, "minute": 17}))


def _open_and_close_calls() -> None:
    from app.proposals import services as proposals

    run = proposals.open_and_close_calls()
    if run.opened or run.closed:
        log.info("calls: opened %s, closed %s", run.opened, run.closed)


def _invitation_reminders() -> None:
    from app.proposals import services as proposals

    sent = proposals.send_invitation_reminders()
    if sent:
        log.info("proposals: %s invitation reminder(s) queued", sent)


register_periodic(Periodic("proposals.open_and_close_calls", _open_and_close_calls, seconds=60))
register_periodic(Periodic("proposals.invitation_reminders", _invitation_reminders, cron={"minute": 23}))


# --- reviews: decisions released on the call's notification date ------------------------


def _release_decisions() -> None:
    from app.reviews.services import release_due_decisions

    released = release_due_decisions()
    if released:
        log.info("reviews: %s decision(s) released", released)


register_periodic(Periodic("reviews.release_decisions", _release_decisions, seconds=300))


def _review_reminders() -> None:
    from app.reviews.services import send_review_reminders

    queued = send_review_reminders()
    if queued:
        log.info("reviews: %s review reminder(s) queued", queued)


register_periodic(Periodic("reviews.reminders", _review_reminders, cron={"minute": 41}))


# --- visits: checklist reminders, erasure of citizenship and emergency contacts ----------


def _visit_reminders() -> None:
    from app.visits.services import send_visit_reminders

    queued = send_visit_reminders()
    if queued:
        log.info("visits: %s checklist reminder(s) queued", queued)


def _erase_visit_personal_data() -> None:
    from app.visits.services import erase_expired_personal_data

    erased = erase_expired_personal_data()
    if erased:
        log.info("visits: personal data of %s visit(s) erased after the retention period", erased)


register_periodic(Periodic("visits.reminders", _visit_reminders, cron={"minute": 47}))
register_periodic(Periodic("visits.erase_personal_data", _erase_visit_personal_data, cron={"hour": 3, "minute": 41}))
# --- visits.outcomes: experiment report reminders, each stage once ---------------------


def _report_reminders() -> None:
    from app.visits.outcomes.services import send_report_reminders

    queued = send_report_reminders()
    if queued:
        log.info("outcomes: %s experiment report reminder(s) queued", queued)


register_periodic(Periodic("outcomes.report_reminders", _report_reminders, cron={"minute": 53}))
# --- scheduling: solving a cycle from the web; the experiments' clock --------------------


@handler("schedule.solve")
def _solve_schedule(job: JobRequest, progress: Progress) -> dict:
    from app.scheduling.services import run_solve

    return run_solve(job, progress)


def _advance_experiments() -> None:
    from app.scheduling.services import advance_experiments

    run = advance_experiments()
    if run.started or run.completed:
        log.info("scheduling: %s experiment(s) started, %s completed", run.started, run.completed)


register_periodic(Periodic("scheduling.advance_experiments", _advance_experiments, seconds=60))
# --- reports: rollups of the dirty cycles every minute, a full reconcile every night ---------


def _refresh_report_rollups() -> None:
    from app.reports.services import refresh_dirty

    report = refresh_dirty()
    if report.cycles:
        log.info("reports: %s cycle(s) refreshed, %s rollup row(s)", report.cycles, report.rows)


def _reconcile_report_rollups() -> None:
    from app.reports.services import rebuild_all

    report = rebuild_all()
    log.info("reports: nightly rebuild of %s cycle(s), %s rollup row(s)", report.cycles, report.rows)


@handler("reports.refresh")
def _refresh_reports_job(job: JobRequest, progress: Progress) -> dict:
    from app.reports.services import rebuild_all, refresh_dirty

    run = rebuild_all if job.params.get("full") else refresh_dirty
    report = run(progress=lambda done, total, cycle: progress(done, total, None))
    return {"cycles": report.cycles, "rows": report.rows, "full": report.full}


register_periodic(Periodic("reports.refresh", _refresh_report_rollups, seconds=60))
register_periodic(Periodic("reports.reconcile", _reconcile_report_rollups, cron={"hour": 2, "minute": 47}))
# --- visits.desk: feedback invitations after the experiment, once per visit ------------------


def _feedback_invitations() -> None:
    from app.visits.desk.services import send_feedback_invitations

    queued = send_feedback_invitations()
    if queued:
        log.info("desk: %s feedback invitation(s) queued", queued)


register_periodic(Periodic("desk.feedback_invitations", _feedback_invitations, cron={"minute": 29}))
