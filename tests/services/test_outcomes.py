"""Experiment reports and publications (app/visits/outcomes): due dates, overdue, the PDF,
permissions (refused and nothing changed), reminders once per stage, DOIs and links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core import settings
from app.core.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from app.core.models import OutboxMessage
from app.extensions import db
from app.facility.models import BookingStatus
from app.visits.outcomes import queries, services
from app.visits.outcomes.models import ExperimentReport, Publication, PublicationProposal, ReportStatus
from app.visits.outcomes.queries import ReportState
from tests import factories_proposals as fp
from tests.factories_outcomes import ENDED, make_experiment
from tests.factories_reviews import make_staff
from tests.pdfs import PNG_BYTES, make_pdf, malformed_pdf

DAYS = 60  # the default of outcomes.report_due_days


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def team():
    pi, co, other = fp.make_person(), fp.make_person(), fp.make_person()
    experiment = make_experiment(pi=pi, co_proposers=(co,))
    return experiment, pi, co, other


# --- due date and states -------------------------------------------------------------------


def test_report_is_due_n_days_after_the_end_and_overdue_after(team):
    experiment, *_ = team
    assert queries.due_at(experiment) == ENDED + timedelta(days=DAYS)
    assert services.report_state(experiment, ENDED + timedelta(days=DAYS - 1)) is ReportState.DUE
    assert services.report_state(experiment, ENDED + timedelta(days=DAYS)) is ReportState.OVERDUE


def test_due_days_come_from_the_settings(team):
    experiment, *_ = team
    staff = make_staff()
    settings.set_setting("outcomes.report_due_days", "10", actor=staff)
    assert services.report_state(experiment, ENDED + timedelta(days=11)) is ReportState.OVERDUE


def test_an_experiment_not_ended_or_cancelled_has_no_report_due():
    running = make_experiment(ends_at=ENDED, status=BookingStatus.RUNNING)
    assert services.report_state(running, ENDED - timedelta(hours=1)) is ReportState.NOT_ENDED
    assert services.report_state(running, ENDED + timedelta(days=DAYS + 1)) is ReportState.OVERDUE  # its end passed
    cancelled = make_experiment(status=BookingStatus.CANCELLED)
    assert services.report_state(cancelled, ENDED + timedelta(days=400)) is ReportState.CANCELLED
    assert queries.overdue_reports_of_pi(cancelled.award.proposal.pi.user_id, ENDED + timedelta(days=400)) == []


# --- writing -------------------------------------------------------------------------------


def test_a_co_proposer_writes_and_submits_sanitised_text(team):
    experiment, pi, co, _ = team
    now = ENDED + timedelta(days=3)
    services.save_report(
        experiment.booking_id, "<p>Data <b>good</b></p><script>alert(1)</script>", submit=False, actor=co, now=now
    )
    report = queries.find_report(experiment.booking_id)
    assert (
        report.status == ReportStatus.DRAFT and "<script" not in report.body_html and "<b>good</b>" in report.body_html
    )
    services.save_report(experiment.booking_id, report.body_html, submit=True, actor=pi, now=now)
    assert report.status == ReportStatus.SUBMITTED and report.submitted_by_id == pi.id
    assert services.report_state(experiment, now + timedelta(days=400)) is ReportState.SUBMITTED


def test_submitting_an_empty_report_is_refused_and_the_draft_kept(team):
    experiment, pi, *_ = team
    now = ENDED + timedelta(days=3)
    services.save_report(experiment.booking_id, "<p>notes</p>", submit=False, actor=pi, now=now)
    with pytest.raises(ValidationFailed) as exc:
        services.save_report(experiment.booking_id, "<p> <script>x</script></p>", submit=True, actor=pi, now=now)
    assert exc.value.field == "body" and exc.value.code == "report_empty"
    assert queries.find_report(experiment.booking_id).body_html == "<p>notes</p>"


def test_submitting_before_the_end_is_refused():
    pi = fp.make_person()
    experiment = make_experiment(pi=pi, status=BookingStatus.PUBLISHED)
    with pytest.raises(InvalidState, match="report_before_end"):
        services.save_report(experiment.booking_id, "<p>x</p>", submit=True, actor=pi, now=ENDED - timedelta(days=2))
    assert queries.find_report(experiment.booking_id) is None


def test_wrong_roles_are_refused_and_nothing_changes(team):
    experiment, pi, co, other = team
    staff = make_staff()
    now = ENDED + timedelta(days=3)
    with pytest.raises(NotFound):  # a stranger may not know the report exists
        services.save_report(experiment.booking_id, "<p>x</p>", submit=True, actor=other, now=now)
    with pytest.raises(PermissionDenied):  # staff read, but do not write for the team
        services.save_report(experiment.booking_id, "<p>x</p>", submit=True, actor=staff, now=now)
    with pytest.raises(PermissionDenied):
        services.upload_report_pdf(experiment.booking_id, make_pdf(), "r.pdf", upload_dir="/nonexistent", actor=staff)
    assert _count(ExperimentReport) == 0
    assert services.get_readable_experiment(experiment.booking_id, staff) is not None


def test_a_cancelled_experiment_takes_no_report():
    pi = fp.make_person()
    experiment = make_experiment(pi=pi, status=BookingStatus.CANCELLED)
    with pytest.raises(InvalidState, match="report_experiment_cancelled"):
        services.save_report(experiment.booking_id, "<p>x</p>", submit=False, actor=pi)


# --- the PDF -------------------------------------------------------------------------------


def test_a_pdf_report_is_stored_and_submits_the_report(team, tmp_path):
    experiment, pi, *_ = team
    report = services.upload_report_pdf(
        experiment.booking_id, make_pdf(2), "../../etc/report.pdf", upload_dir=str(tmp_path), actor=pi, now=ENDED
    )
    assert report.submitted and report.pdf_pages == 2 and report.pdf_name == "report.pdf"
    assert (tmp_path / report.pdf_key).exists()


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", "report_pdf_empty"),
        (PNG_BYTES, "report_pdf_wrong_type"),
        (b"hello, this is text", "report_pdf_not_pdf"),
        (malformed_pdf(), "pdf_malformed"),
        (make_pdf(password="secret"), "pdf_encrypted"),
        (make_pdf(21), "report_pdf_too_many_pages"),
    ],
)
def test_bad_pdfs_are_refused_on_the_pdf_field_and_nothing_is_stored(team, tmp_path, data, code):
    experiment, pi, *_ = team
    with pytest.raises(ValidationFailed) as exc:
        services.upload_report_pdf(experiment.booking_id, data, "x.pdf", upload_dir=str(tmp_path), actor=pi, now=ENDED)
    assert exc.value.field == "pdf" and exc.value.code == code
    assert _count(ExperimentReport) == 0 and not any(tmp_path.iterdir())


def test_a_pdf_over_the_size_limit_is_refused(team, tmp_path):
    experiment, pi, *_ = team
    settings.set_setting("outcomes.report_pdf_max_mb", "1", actor=make_staff())
    with pytest.raises(ValidationFailed, match="report_pdf_too_large"):
        services.upload_report_pdf(
            experiment.booking_id, make_pdf(padding=1_100_000), "x.pdf", upload_dir=str(tmp_path), actor=pi, now=ENDED
        )


# --- reminders -----------------------------------------------------------------------------


def _reminders():
    return sorted(
        db.session.scalars(
            select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.like("experiment-report:%"))
        )
    )


def test_reminders_go_once_per_stage_however_often_the_job_runs(team):
    experiment, pi, co, _ = team
    eid = experiment.booking_id
    assert services.send_report_reminders(now=ENDED + timedelta(days=1)) == 0  # too early
    soon = ENDED + timedelta(days=DAYS - 5)
    assert services.send_report_reminders(now=soon) == 2  # the PI and the co-proposer
    for _ in range(3):
        assert services.send_report_reminders(now=soon + timedelta(hours=1)) == 0
    assert services.send_report_reminders(now=ENDED + timedelta(days=DAYS)) == 2
    assert services.send_report_reminders(now=ENDED + timedelta(days=DAYS + 1)) == 0
    assert services.send_report_reminders(now=ENDED + timedelta(days=DAYS + 30)) == 2
    assert services.send_report_reminders(now=ENDED + timedelta(days=DAYS + 31)) == 0
    expected = sorted(
        f"experiment-report:{eid}:{stage}:{u.id}" for stage in ("soon", "overdue", "late") for u in (pi, co)
    )
    assert _reminders() == expected
    [message, *_] = [m for m in db.session.scalars(select(OutboxMessage)) if pi.email in m.recipients]
    assert f"/experiments/{eid}/report" in message.body_text


def test_a_job_starting_late_sends_only_the_latest_stage_and_none_once_submitted(team):
    experiment, pi, co, _ = team
    assert services.send_report_reminders(now=ENDED + timedelta(days=DAYS + 2)) == 2
    assert all(":overdue:" in key for key in _reminders())
    services.save_report(
        experiment.booking_id, "<p>done</p>", submit=True, actor=co, now=ENDED + timedelta(days=DAYS + 3)
    )
    assert services.send_report_reminders(now=ENDED + timedelta(days=DAYS + 40)) == 0


# --- overdue reports of a PI ---------------------------------------------------------------


def test_overdue_reports_of_a_pi_skip_submitted_ones_and_the_proposal_itself(team):
    experiment, pi, co, _ = team
    second = make_experiment(pi=pi)
    late = ENDED + timedelta(days=DAYS + 1)
    found = queries.overdue_reports_of_pi(pi.id, late)
    assert {o.experiment_id for o in found} == {experiment.booking_id, second.booking_id}
    assert queries.overdue_reports_of_pi(co.id, late) == []  # only as PI
    services.save_report(second.booking_id, "<p>x</p>", submit=True, actor=pi, now=late)
    found = queries.overdue_reports_of_pi(pi.id, late, exclude_proposal_id=experiment.award.proposal_id)
    assert found == []
    assert [o.experiment_id for o in queries.overdue_reports_of_pi(pi.id, late)] == [experiment.booking_id]


# --- publications --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("10.1107/S1600577521001234", "10.1107/s1600577521001234"),
        ("  https://doi.org/10.1038/NPHYS1234 ", "10.1038/nphys1234"),
        ("doi:10.1021/jacs.7b01234", "10.1021/jacs.7b01234"),
        ("http://dx.doi.org/10.1103/PhysRevB.99.014101", "10.1103/physrevb.99.014101"),
    ],
)
def test_doi_is_normalised(raw, expected):
    assert services.normalise_doi(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "10.1/x", "11.1234/abc", "10.1234", "10.1234/", "10.1234/a b", "https://example.org/x"]
)
def test_malformed_dois_are_refused_with_a_clear_code(raw):
    with pytest.raises(ValidationFailed) as exc:
        services.normalise_doi(raw)
    assert exc.value.field == "doi" and exc.value.code in {"doi_invalid", "required"}


def test_team_adds_a_publication_linked_to_the_proposal_instruments(team):
    experiment, pi, co, _ = team
    proposal = experiment.award.proposal
    pub = services.add_publication(
        proposal.id, doi="https://doi.org/10.5555/ABC.1", title="Results", year=2027, journal="J", actor=co
    )
    assert pub.doi == "10.5555/abc.1"
    assert [i.id for i in pub.instruments] == [experiment.award.instrument_id]
    assert [p.id for p in queries.publications_of_instrument(experiment.award.instrument_id)] == [pub.id]
    assert [p.id for p in queries.publications_of_proposal(proposal.id)] == [pub.id]


def test_a_known_doi_is_linked_to_a_second_proposal_not_duplicated(team):
    experiment, pi, *_ = team
    other_pi = fp.make_person()
    second = make_experiment(pi=other_pi)
    first = services.add_publication(experiment.award.proposal_id, doi="10.5555/x", title="T", year=2027, actor=pi)
    again = services.add_publication(second.award.proposal_id, doi="DOI:10.5555/X", title="", year="", actor=other_pi)
    assert again.id == first.id and _count(Publication) == 1 and _count(PublicationProposal) == 2
    with pytest.raises(ValidationFailed) as exc:
        services.add_publication(second.award.proposal_id, doi="10.5555/x", title="T", year=2027, actor=other_pi)
    assert exc.value.code == "doi_already_linked"


def test_the_proposal_page_counts_the_proposals_publications(team):
    """The notice's count (one statement) agrees with the list, per proposal."""
    experiment, pi, *_ = team
    other_pi = fp.make_person()
    second = make_experiment(pi=other_pi)
    pid = experiment.award.proposal_id
    assert queries.count_publications_of_proposal(pid) == 0
    services.add_publication(pid, doi="10.5555/c1", title="One", year=2027, actor=pi)
    services.add_publication(pid, doi="10.5555/c2", title="Two", year=2027, actor=pi)
    services.add_publication(second.award.proposal_id, doi="10.5555/c3", title="Three", year=2027, actor=other_pi)
    assert queries.count_publications_of_proposal(pid) == len(queries.publications_of_proposal(pid)) == 2
    assert queries.count_publications_of_proposal(second.award.proposal_id) == 1


def test_publication_fields_are_checked_and_nothing_is_saved(team):
    experiment, pi, *_ = team
    pid = experiment.award.proposal_id
    cases = [
        (dict(doi="nope", title="T", year=2027), "doi"),
        (dict(doi="10.5555/y", title="", year=2027), "title"),
        (dict(doi="10.5555/y", title="T", year="20x7"), "year"),
        (dict(doi="10.5555/y", title="T", year=1800), "year"),
        (dict(doi="10.5555/y", title="T", year=2027, instrument_ids=["999999"]), "instrument_ids"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.add_publication(pid, actor=pi, now=ENDED, **kwargs)
        assert exc.value.field == field
    assert _count(Publication) == 0


def test_only_the_team_and_staff_add_publications_and_staff_or_the_author_remove(team):
    experiment, pi, co, other = team
    pid = experiment.award.proposal_id
    with pytest.raises(NotFound):  # the proposal is not visible to a stranger
        services.add_publication(pid, doi="10.5555/z", title="T", year=2027, actor=other)
    assert _count(Publication) == 0
    staff = make_staff()
    pub = services.add_publication(pid, doi="10.5555/z", title="T", year=2027, actor=staff)
    with pytest.raises(PermissionDenied):
        services.remove_publication(pub.id, actor=co)
    assert _count(Publication) == 1
    services.remove_publication(pub.id, actor=staff)
    assert _count(Publication) == 0
