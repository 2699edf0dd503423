"""Outcome pages: the PI's overdue report on the review page of their next proposal (through the
reviews' page slot), report and publication forms, exports and the API."""

from __future__ import annotations

import io
from datetime import timedelta

from app.core.db import utcnow
from app.reviews import services as reviews
from app.visits.outcomes import queries, services
from tests import factories_proposals as fp
from tests.factories import login
from tests.factories_outcomes import make_experiment
from tests.factories_reviews import AFTER_CLOSE, make_review_setup
from tests.pdfs import make_pdf


def test_overdue_report_is_shown_to_the_reviewer_of_the_pis_next_proposal(client, ctx):
    with ctx():
        setup = make_review_setup(reviewers=2, proposals=1)
        proposal = setup.proposals[0]
        pi = proposal.pi.user
        old = make_experiment(pi=pi, ends_at=utcnow() - timedelta(days=200))
        old_reference = old.award.proposal.reference
        reviews.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
        row = reviews.override_assignment(proposal.id, setup.reviewers[0].id, reason="r", actor=setup.staff)
        reviewer = setup.reviewers[0]
    login(client, reviewer)
    page = client.get(f"/reviews/assignments/{row.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "overdue experiment report" in text and old_reference in text

    with ctx():  # once the report is in, the notice goes
        services.save_report(old.booking_id, "<p>done</p>", submit=True, actor=pi)
    text = client.get(f"/reviews/assignments/{row.id}").get_data(as_text=True)
    assert "overdue experiment report" not in text


def test_the_team_writes_and_uploads_the_report_and_a_stranger_gets_404(client, ctx, tmp_path):
    with ctx():
        pi, stranger = fp.make_person(), fp.make_person()
        experiment = make_experiment(pi=pi, ends_at=utcnow() - timedelta(days=2))
        eid = experiment.booking_id
    login(client, stranger)
    assert client.get(f"/experiments/{eid}/report").status_code == 404
    client.post("/logout")
    login(client, pi)
    assert client.get(f"/experiments/{eid}/report").status_code == 200
    bad = client.post(f"/experiments/{eid}/report", data={"body": "", "action": "submit"})
    assert bad.status_code == 422 and "Write the report" in bad.get_data(as_text=True)
    wrong = client.post(
        f"/experiments/{eid}/report/pdf",
        data={"pdf": (io.BytesIO(b"plain text"), "r.pdf")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422 and "not a PDF" in wrong.get_data(as_text=True)
    ok = client.post(
        f"/experiments/{eid}/report/pdf",
        data={"pdf": (io.BytesIO(make_pdf(1)), "r.pdf")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    pdf = client.get(f"/experiments/{eid}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "no-store" in pdf.headers["Cache-Control"]
    with ctx():
        assert queries.find_report(eid).submitted


def test_publication_form_errors_are_next_to_the_field_and_exports_work(client, ctx):
    with ctx():
        pi = fp.make_person()
        experiment = make_experiment(pi=pi)
        pid, code = experiment.award.proposal_id, experiment.booking.instrument.code
        iid = experiment.booking.instrument_id
    login(client, pi)
    bad = client.post(f"/proposals/{pid}/publications", data={"doi": "doi-less", "title": "T", "year": "2027"})
    assert bad.status_code == 422 and 'id="doi-error"' in bad.get_data(as_text=True)
    ok = client.post(
        f"/proposals/{pid}/publications",
        data={"doi": "https://doi.org/10.5555/Web.1", "title": "=HYPERLINK(1)", "year": "2027", "journal": "J"},
    )
    assert ok.status_code == 302
    assert "10.5555/web.1" in client.get(f"/instruments/{iid}/publications").get_data(as_text=True)
    csv = client.get(f"/publications.csv?instrument={iid}").get_data(as_text=True)
    assert "10.5555/web.1" in csv and "'=HYPERLINK(1)" in csv
    xlsx = client.get("/publications.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    api = client.get(f"/api/v1/instruments/{code}/publications")
    assert api.status_code == 401  # the API takes bearer tokens, never the session


def test_api_lists_publications_of_a_proposal_and_an_instrument(client, ctx):
    from app.accounts import services as accounts

    with ctx():
        pi, stranger = fp.make_person(), fp.make_person()
        experiment = make_experiment(pi=pi)
        proposal = experiment.award.proposal
        services.add_publication(proposal.id, doi="10.5555/api.1", title="API", year=2027, actor=pi)
        _t, mine = accounts.create_token(pi.id, "t", actor=pi)
        _t, theirs = accounts.create_token(stranger.id, "t", actor=stranger)
        reference, code = proposal.reference, experiment.booking.instrument.code
    rows = client.get(f"/api/v1/proposals/{reference}/publications", headers={"Authorization": f"Bearer {mine}"})
    assert rows.status_code == 200
    assert rows.json == [
        {
            "doi": "10.5555/api.1",
            "title": "API",
            "year": 2027,
            "journal": "",
            "proposals": [reference],
            "instruments": [code],
        }
    ]
    hidden = client.get(f"/api/v1/proposals/{reference}/publications", headers={"Authorization": f"Bearer {theirs}"})
    assert hidden.status_code == 404
    by_instrument = client.get(
        f"/api/v1/instruments/{code}/publications", headers={"Authorization": f"Bearer {theirs}"}
    )
    assert by_instrument.status_code == 200 and by_instrument.json[0]["doi"] == "10.5555/api.1"
    assert (
        client.get("/api/v1/instruments/NOPE/publications", headers={"Authorization": f"Bearer {theirs}"}).status_code
        == 404
    )
