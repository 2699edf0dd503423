"""Issue 5 through the pages, exports and API: confidentiality first (reviewer identities never
reach a PI; other reviews only after one's own; decisions hidden until released)."""

from __future__ import annotations

from datetime import timedelta

from app.accounts.models import Role
from app.core.db import utcnow
from app.reviews import services
from tests.factories import login, make_user
from tests.factories_reviews import AFTER_CLOSE, grant, make_review_setup


def _graded_setup():
    """Two reviewers graded the single proposal; a chair decided; allocation run."""
    setup = make_review_setup(reviewers=3, proposals=1, capacity=10, shifts=(6,))
    setup.reviewers[0].name = "Ada Secretreviewer"
    setup.reviewers[1].name = "Bob Hiddenreviewer"
    services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
    chair = setup.reviewers[2]
    grant(chair, Role.PANEL_CHAIR, setup.panel.id)
    proposal = setup.proposals[0]
    rows = [services.override_assignment(proposal.id, r.id, reason="r", actor=setup.staff) for r in setup.reviewers[:2]]
    services.submit_review(rows[1].id, grade=4, comment_for_panel="Bob private words.", actor=setup.reviewers[1])
    return setup, chair, proposal, rows


def test_a_reviewer_sees_other_reviews_only_after_grading(client, ctx):
    with ctx():
        setup, _chair, _proposal, rows = _graded_setup()
        ada, mine = setup.reviewers[0], rows[0].id
    login(client, ada)
    page = client.get(f"/reviews/assignments/{mine}").get_data(as_text=True)
    assert "Outstanding" in page  # the written scale
    assert "Bob private words." not in page
    response = client.post(f"/reviews/assignments/{mine}", data={"grade": "9", "comment_for_panel": "x"})
    assert response.status_code == 422
    assert "Enter a whole number from 1 to 5." in response.get_data(as_text=True)
    response = client.post(f"/reviews/assignments/{mine}", data={"grade": "3", "comment_for_panel": "Fine."})
    assert response.status_code == 302
    page = client.get(f"/reviews/assignments/{mine}").get_data(as_text=True)
    assert "Bob private words." in page
    assert "Bob Hiddenreviewer" not in page  # other reviewers stay anonymous


def test_a_reviewer_gets_404_on_someone_elses_assignment_and_unassigned_proposals(client, ctx):
    with ctx():
        setup, _chair, proposal, rows = _graded_setup()
        third, bob = setup.reviewers[2], setup.reviewers[1]
        bob_row = rows[1].id
        proposal_id = proposal.id
    login(client, third)
    assert client.get(f"/reviews/assignments/{bob_row}").status_code == 404
    assert client.get(f"/proposals/{proposal_id}/print").status_code == 404
    other = client.application.test_client()
    login(other, bob)  # the assigned reviewer reads it
    assert other.get(f"/proposals/{proposal_id}/print").status_code == 200


def test_the_pi_sees_the_decision_only_once_released_and_never_a_reviewer(client, ctx):
    with ctx():
        setup, chair, proposal, rows = _graded_setup()
        services.submit_review(rows[0].id, grade=5, comment_for_panel="Ada private words.", actor=setup.reviewers[0])
        services.set_panel_decision(
            proposal.id,
            final_grade=4.5,
            final_rank=1,
            justification="j",
            comment_for_pi="A strong case; the panel asks for a reference sample.",
            actor=chair,
        )
        services.run_allocation(setup.call.id, actor=setup.staff)
        notify = utcnow() + timedelta(days=3)
        services.sign_off_decisions(setup.call.id, notify_at=notify, actor=setup.staff)
        pi = proposal.pi.user
        proposal_id = proposal.id
        names = [r.name for r in setup.reviewers]
    login(client, pi)
    assert client.get(f"/reviews/proposals/{proposal_id}/decision").status_code == 404
    assert "The decision on this proposal" not in client.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    with ctx():
        assert services.release_due_decisions(now=notify) == 1
    page = client.get(f"/reviews/proposals/{proposal_id}/decision").get_data(as_text=True)
    assert "A strong case" in page and "6 shifts" in page
    for secret in [*names, "Ada private words.", "Bob private words."]:
        assert secret not in page
    response = client.get(f"/proposals/{proposal_id}")
    assert response.status_code == 200
    edit = response.get_data(as_text=True)
    assert "The decision on this proposal: accepted." in edit
    for secret in [*names, "private words"]:
        assert secret not in edit


def test_exports_and_the_api_carry_no_reviewer_names(client, ctx):
    from app.accounts import services as accounts

    with ctx():
        setup, chair, proposal, rows = _graded_setup()
        director = make_user(roles=[Role.DIRECTOR])
        services.run_allocation(setup.call.id, actor=setup.staff)
        _token, secret = accounts.create_token(setup.staff.id, "t", actor=setup.staff)
        call_id, panel_id = setup.call.id, setup.panel.id
        names = [r.name for r in setup.reviewers]
    login(client, director)
    ranking = client.get(f"/reviews/calls/{call_id}/panels/{panel_id}/ranking.csv")
    assert ranking.status_code == 200
    allocation = client.get(f"/reviews/staff/calls/{call_id}/allocation.csv")
    meeting = client.get(f"/reviews/calls/{call_id}/panels/{panel_id}/meeting")
    xlsx = client.get(f"/reviews/staff/calls/{call_id}/allocation.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    api = client.get(f"/api/v1/calls/{call_id}/allocation", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.get_json()["awards"][0]["shifts"] == 6
    for response in (ranking, allocation, meeting, api):
        text = response.get_data(as_text=True)
        for name in names:
            assert name not in text
        assert "private words" not in text
    assert "4" in ranking.get_data(as_text=True)


def test_only_the_instruments_scientist_opens_its_technical_reviews(client, ctx):
    from sqlalchemy import select

    from app.extensions import db
    from app.reviews.models import TechnicalReview
    from tests import factories_proposals as fp

    with ctx():
        setup = make_review_setup(proposals=1)
        services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
        task_id = db.session.scalar(select(TechnicalReview.id))
        stranger = fp.make_person()
        grant(stranger, Role.INSTRUMENT_SCIENTIST, fp.make_instrument().id)
        scientist = setup.scientist
    login(client, stranger)
    assert client.get(f"/reviews/technical/{task_id}").status_code == 404
    assert setup.proposals[0].reference not in client.get("/reviews/technical").get_data(as_text=True)
    client.get("/logout")
    client2 = client.application.test_client()
    login(client2, scientist)
    response = client2.post(f"/reviews/technical/{task_id}", data={"feasibility": "feasible", "comment_for_panel": "x"})
    assert response.status_code == 422
    assert "Enter a whole number" in response.get_data(as_text=True)
    response = client2.post(
        f"/reviews/technical/{task_id}",
        data={"feasibility": "feasible", "recommended_shifts": "5", "comment_for_panel": "ok"},
    )
    assert response.status_code == 302


def test_exports_of_a_panel_with_a_slash_in_its_name(client, ctx):
    with ctx():
        setup, _chair, _proposal, _rows = _graded_setup()
        setup.panel.name = "Chemistry / Materials [A]"
        staff = setup.staff
        call_id, panel_id = setup.call.id, setup.panel.id
    login(client, staff)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/reviews/calls/{call_id}/panels/{panel_id}/ranking.{fmt}")
        assert response.status_code == 200
        assert "/" not in response.headers["Content-Disposition"].split("filename=")[1]


def test_the_proposal_page_opens_to_its_reviewers_and_instrument_scientists_only(client, ctx):
    """The proposal page reads plain rows for those who do not edit it (queries.proposal_page):
    the reviews domain's readers rule still decides on them (the requests' instruments, the
    call's route, the live assignment)."""
    from tests import factories_proposals as fp

    with ctx():
        setup, _chair, proposal, _rows = _graded_setup()
        proposal_id, title = proposal.id, proposal.title
        reviewer, unassigned, scientist = setup.reviewers[0], setup.reviewers[2], setup.scientist
        elsewhere = fp.make_person()
        grant(elsewhere, Role.INSTRUMENT_SCIENTIST, fp.make_instrument().id)
    for person, status in ((reviewer, 200), (scientist, 200), (unassigned, 404), (elsewhere, 404)):
        other = client.application.test_client()
        login(other, person)
        response = other.get(f"/proposals/{proposal_id}")
        assert response.status_code == status, (person.name, response.status_code)
        assert (title in response.get_data(as_text=True)) is (status == 200)
