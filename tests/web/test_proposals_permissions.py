"""The permission-matrix rows of issue 4, checked here until the generic matrix test lands:
every proposals route has a row; allowed personas get in, the others are refused and nothing
changes."""

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.extensions import db
from app.proposals.models import Invitation, Proposal, ProposalMember
from tests.factories import login, make_user
from tests.factories_proposals import add_proposal_objects
from tests.web.permission_matrix import MATRIX

ROWS = {key: entry for key, entry in MATRIX.items() if key[0].startswith("proposals.")}
PERSONAS = {"anonymous": None, "user": [], "other": [], "user_office": [Role.USER_OFFICE], "director": [Role.DIRECTOR]}


def test_every_proposals_route_has_a_row(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("proposals.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(ROWS)


def _state():
    return (
        db.session.scalar(select(func.count()).select_from(Proposal)),
        db.session.scalar(select(func.count()).select_from(ProposalMember)),
        db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.revoked_at.is_not(None))),
        tuple(db.session.scalars(select(Proposal.status).order_by(Proposal.id))),
    )


@pytest.mark.parametrize("key", sorted(ROWS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_row(client, ctx, key):
    entry = ROWS[key]
    endpoint, method = key
    with ctx():
        people = {name: make_user(roles=roles) for name, roles in PERSONAS.items() if roles is not None}
        world = SimpleNamespace()
        add_proposal_objects(world, owner=people["user"], other=people["other"], actor=people["user_office"])
        ids = {name: (u.id, u.email) for name, u in people.items()}
        from flask import url_for

        with client.application.test_request_context():
            url = url_for(endpoint, **entry.args(world))
        data = entry.data(world)
        db.session.commit()
        before = _state()
    order = [p for p in PERSONAS if p not in entry.allow] + [p for p in PERSONAS if p in entry.allow]
    for persona in order:
        client.post("/logout")
        if persona != "anonymous":
            login(client, SimpleNamespace(email=ids[persona][1]))
        response = client.open(url, method=method, data=data)
        if persona in entry.allow:
            if entry.ok is not None:
                assert response.status_code in entry.ok, (persona, response.status_code)
            else:
                assert response.status_code not in (401, 403, 404), (persona, response.status_code)
                assert not (response.status_code == 302 and "/login" in response.headers.get("Location", ""))
            if entry.once:
                break
        else:
            refused = response.status_code in (401, 403, 404) or (
                response.status_code == 302 and "/login" in response.headers.get("Location", "")
            )
            assert refused, (persona, response.status_code)
            with ctx():
                assert _state() == before, persona
