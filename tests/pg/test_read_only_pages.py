"""Read-only pages read without a transaction on PostgreSQL (app/web/reads.py): no BEGIN and no
ROLLBACK round trips around the proposal page's and the staff list's statements, while any
other page (and every write) keeps its transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.core.db import utcnow
from app.extensions import db
from tests.factories import login, make_user
from tests.factories_facility import make_facility
from tests.factories_proposals import make_call, make_proposal
from tests.statements import Statements


class Saved:
    def __init__(self, user):
        self.id, self.email = user.id, user.email


@pytest.fixture
def people(app, committed_db):
    with app.app_context():
        make_facility()
        now = utcnow()
        call = make_call(opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1))
        proposal = make_proposal(call=call)
        staff = make_user(roles=[Role.USER_OFFICE])
        db.session.commit()
        return Saved(proposal.pi.user), Saved(staff), proposal.id, call.id


def test_the_proposal_page_and_the_staff_list_read_in_autocommit(app, client, people):
    pi, staff, proposal_id, call_id = people
    modes = Statements(app)
    login(client, pi)
    with modes:
        page = client.get(f"/proposals/{proposal_id}")
    assert page.status_code == 200
    assert modes.seen and all(modes.autocommit), modes.seen
    client.post("/logout")
    login(client, staff)
    with modes:
        page = client.get(f"/staff/calls/{call_id}/proposals")
    assert page.status_code == 200 and b"Proposals of this call" in page.data
    assert modes.seen and all(modes.autocommit), modes.seen


def test_other_pages_and_writes_keep_their_transaction(app, client, people):
    pi, _staff, proposal_id, _call_id = people
    modes = Statements(app)
    login(client, pi)
    with modes:
        assert client.get("/").status_code == 200  # not declared read-only
    assert modes.seen and not any(modes.autocommit), modes.seen
    with modes:  # a POST to a read-only view's URL is another view, with its transaction
        client.post(f"/proposals/{proposal_id}/withdraw", data={})
    assert modes.seen and not any(modes.autocommit), modes.seen
    # the pooled connection is back in transaction mode for the next request
    with modes:
        assert client.get("/").status_code == 200
    assert modes.seen and not any(modes.autocommit), modes.seen
