"""Visit pages, export and API: citizenship only for the person and access approvers; form
errors next to the field with nothing changed; the team names visitors from the page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.accounts.models import Role
from app.core.models import AuditEntry, OutboxMessage
from app.extensions import db
from app.visits.models import Visit
from tests.factories import login
from tests.factories_visits import (
    EARLY,
    make_published_experiment,
    make_role,
    make_rule,
    name_visitor,
    registration,
    sign_off,
)

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def _setup(ctx):
    from app.accounts import services as accounts
    from app.visits import services

    with ctx():
        make_rule(("IR",), lead_days=60, by_citizenship=True)
        experiment = make_published_experiment()
        visit = name_visitor(experiment)
        services.complete_registration(
            visit.id,
            registration(citizenship="IR", emergency_contact_name="Zora Contactperson"),
            actor=visit.user,
            now=EARLY,
        )
        people = {
            "visitor": visit.user,
            "approver": make_role(Role.ACCESS_APPROVER),
            "office": make_role(Role.USER_OFFICE),
            "admin": make_role(Role.ADMIN),
            "safety": make_role(Role.SAFETY_REVIEWER),
        }
        tokens = {k: accounts.create_token(u.id, "t", actor=u)[1] for k, u in people.items()}
    return experiment, visit, people, tokens


def test_citizenship_is_shown_only_to_the_person_and_access_approvers(app, ctx):
    experiment, visit, people, tokens = _setup(ctx)
    for who, sees in (("visitor", True), ("approver", True), ("office", False), ("admin", False), ("safety", False)):
        client = app.test_client()
        login(client, people[who])
        page = client.get(f"/visits/{visit.id}")
        assert page.status_code == 200, who
        assert ("Iran" in page.text) is sees, who
        assert 'id="citizenship"' in page.text if sees else 'id="citizenship"' not in page.text
        experiment_page = client.get(f"/visits/experiments/{experiment.booking_id}")
        assert "Iran" not in experiment_page.text
        export = client.get(f"/visits/experiments/{experiment.booking_id}/visitors.csv")
        assert export.status_code == 200 and "IR" not in export.text.split(",") and "Iran" not in export.text
        assert "Zora" not in export.text
        api = app.test_client().get(
            f"/api/v1/experiments/{experiment.booking_id}/visits", headers={"Authorization": f"Bearer {tokens[who]}"}
        )
        assert api.status_code == 200
        body = api.get_data(as_text=True)
        assert "citizenship" not in body and '"IR"' not in body and "Zora" not in body
    approver = app.test_client()
    login(approver, people["approver"])
    assert "Iran" in approver.get("/visits/access").text
    office = app.test_client()
    login(office, people["office"])
    assert "Iran" not in office.get("/visits/office").text
    with app.app_context():
        bodies = " ".join(m.body_text + m.subject for m in db.session.scalars(select(OutboxMessage)))
        assert "Iran" not in bodies and "Zora" not in bodies and " IR " not in bodies
        changes = str([a.changes for a in db.session.scalars(select(AuditEntry))])
        assert "Zora" not in changes and "'IR'" not in changes


def test_registration_form_error_is_shown_next_to_the_field_and_nothing_changes(app, ctx):
    with ctx():
        experiment = make_published_experiment()
        visit = name_visitor(experiment)
    client = app.test_client()
    login(client, visit.user)
    response = client.post(
        f"/visits/{visit.id}/register",
        data={
            "arrives_on": "2027-03-01",
            "departs_on": "2027-03-11",
            "emergency_contact_name": "A",
            "emergency_contact_phone": "+41 22 000 00 00",
        },
    )
    assert response.status_code == 422
    assert 'id="arrives_on-error"' in response.text
    with app.app_context():
        assert db.session.get(Visit, visit.id).registered_at is None


def test_team_names_a_visitor_and_invites_someone_from_the_experiment_page(app, ctx):
    from tests import factories_proposals as fp

    with ctx():
        co = fp.make_person(country_code="DE")
        experiment = make_published_experiment(co_proposers=(co,))
        pi = experiment.award.proposal.pi.user
    client = app.test_client()
    login(client, pi)
    url = f"/visits/experiments/{experiment.booking_id}/visitors"
    assert client.post(url, data={"user_id": str(co.id), "mode": "remote"}).status_code == 302
    bad = client.post(url, data={"email": "not an address", "mode": "on_site"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    assert client.post(url, data={"email": "guest@example.org", "mode": "on_site"}).status_code == 302
    page = client.get(f"/visits/experiments/{experiment.booking_id}")
    assert co.name in page.text and "guest@example.org" in page.text


def test_checklist_page_turns_green_after_sign_off_and_approval(app, ctx):
    from app.visits import services

    with ctx():
        experiment = make_published_experiment()
        visit = name_visitor(experiment)
        services.complete_registration(visit.id, registration(), actor=visit.user, now=EARLY)
        sign_off(experiment)
        office = make_role(Role.USER_OFFICE)
    client = app.test_client()
    login(client, office)
    assert 'id="all-green"' not in client.get(f"/visits/{visit.id}").text
    assert client.post(f"/visits/{visit.id}/decide", data={"action": "approve"}).status_code == 302
    visitor = app.test_client()
    login(visitor, visit.user)
    assert 'id="all-green"' in visitor.get(f"/visits/{visit.id}").text
