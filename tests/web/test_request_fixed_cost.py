"""What every logged-in page costs before it shows anything (issue 4, B2/B3 fixed cost): the
person with their roles and the facility's row in one statement (the facility a session
companion of the person, `accounts.services.add_session_companion`), the facility not read
again however often the layout and the dates ask for it, each navigation predicate evaluated once. Counted
with SQLAlchemy event listeners and spies, not timed (the timing is bench/proposals.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.accounts.models import Role
from app.core import permissions
from app.extensions import db
from app.facility import queries as facility_queries
from app.facility import services as facility_services
from tests.factories import login, make_user
from tests.factories_facility import make_facility
from tests.statements import Statements

#: an empty logged-in page (home): the person with their roles and the facility (name and zone)
EMPTY_PAGE_LIMIT = 1


class Saved:
    def __init__(self, user):
        self.id, self.email = user.id, user.email


@pytest.fixture
def statements(app):
    return Statements(app)


def test_an_empty_logged_in_page_reads_the_person_with_roles_and_the_facility_in_one_statement(client, ctx, statements):
    with ctx():
        make_facility(name="Lightsource Nord")
        person = Saved(make_user(roles=[Role.USER_OFFICE, Role.DIRECTOR]))
    login(client, person)
    client.get("/")  # warm up: settings, translations
    with statements:
        page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the layout and the page name the facility three times and show its zone: read with the
    # person and their roles (the navigation's dropdowns show), in one statement
    assert html.count("Lightsource Nord") >= 3
    assert statements.on("facilities") == [] and statements.on("role_assignments") == [], statements.seen
    (person_statement,) = statements.on("users")
    assert "JOIN facilities" in person_statement and "JOIN role_assignments" in person_statement
    assert "People" in html or "Admin" in html
    assert len(statements.seen) <= EMPTY_PAGE_LIMIT, statements.seen


def test_the_facility_row_is_read_once_per_session(app_ctx, statements):
    make_facility(name="Once")
    db.session.commit()
    with statements:
        names = [facility_queries.facility_name() for _ in range(3)]
        zone = facility_queries.facility_timezone_name()
    assert names == ["Once"] * 3 and zone
    assert len(statements.on("facilities")) == 1, statements.seen


def test_a_change_committed_elsewhere_is_seen_after_the_session_commits(app_ctx):
    """No cache outlives what SQLAlchemy itself keeps: a commit expires the row."""
    make_facility(name="Before")
    db.session.commit()
    assert facility_queries.facility_name() == "Before"
    # another writer (another worker, the settings page in another process) changes the row;
    # here the same connection, as the tests' data lives in one rolled-back transaction
    db.session.execute(text("UPDATE facilities SET name = 'After'"))
    assert facility_queries.facility_name() == "Before"  # the row this session already read
    db.session.commit()
    assert facility_queries.facility_name() == "After"


def test_the_settings_page_change_shows_on_the_next_page(client, ctx):
    with ctx():
        make_facility(name="Old name")
        admin = Saved(make_user(roles=[Role.ADMIN]))
    login(client, admin)
    assert "Old name" in client.get("/").get_data(as_text=True)
    with ctx():
        facility = facility_queries.find_facility()
        facility_services.update_facility(
            name="New name",
            host_country=facility.host_country,
            timezone=facility.timezone,
            shift_pattern=list(facility.shift_pattern),
            actor=db.session.get(type(make_user()), admin.id),
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
    html = client.get("/").get_data(as_text=True)
    assert "New name" in html and "Old name" not in html


def test_the_navigation_evaluates_each_predicate_once_per_page(client, ctx, monkeypatch):
    with ctx():
        make_facility()
        admin = Saved(make_user(roles=[Role.ADMIN]))
    login(client, admin)
    calls: dict[str, int] = {}
    named = dict(permissions._named)
    for name, predicate in named.items():

        def spy(*args, _name=name, _predicate=predicate):
            calls[_name] = calls.get(_name, 0) + 1
            return _predicate(*args)

        monkeypatch.setitem(permissions._named, name, spy)
    html = client.get("/").get_data(as_text=True)
    assert "E-mail outbox" in html  # an is_staff entry: the admin sees it
    assert calls.get("is_staff") == 1, calls  # several entries are is_staff's; read once
    assert all(count == 1 for count in calls.values()), calls


def test_a_session_of_an_older_version_is_logged_out(client, ctx):
    """The one-statement loader keeps the loader's rules: an old session version logs out."""
    with ctx():
        make_facility()
        person = Saved(make_user(roles=[Role.ADMIN]))
    login(client, person)
    assert client.get("/admin/people").status_code == 200
    with ctx():
        from app.accounts.models import User

        db.session.get(User, person.id).session_version += 1
    assert client.get("/admin/people").status_code == 302  # back to the log-in page


def test_the_two_benchmarked_pages_pay_the_fixed_cost_once(client, ctx, statements):
    """B2 and B3 after the fixed cost: the proposal page 3 statements (log-in with the
    facility row 1; the proposal with its call, team and the notices' facts of higher domains
    1; its lists and the open calls 1; 13 before the fourth round), the staff list 3 (log-in
    with the facility 1, the page's rows 1, the call with its offers and counts by status with
    the rows' requests and countries 1): its total comes from the counts, not a count of its own."""
    from tests.web.test_proposals_query_counts import _call_with, _closed_call, _submitted

    with ctx():
        make_facility()
        proposal_id, pi = _submitted(_closed_call(), team=3, requests=2, samples=2, dates=1, links=[])
        staff = Saved(make_user(roles=[Role.USER_OFFICE]))
    call_id = _call_with(ctx, 12)
    login(client, pi)
    client.get(f"/proposals/{proposal_id}")
    with statements:
        assert client.get(f"/proposals/{proposal_id}").status_code == 200
    # the facility row joined to the person's statement: no statement of its own
    assert len(statements.on("facilities")) == 0 and len(statements.on("users")) <= 2, statements.seen
    assert len([s for s in statements.seen if "JOIN facilities" in s]) == 1, statements.seen
    assert len(statements.seen) <= 3, statements.seen
    client.post("/logout")
    login(client, staff)
    client.get(f"/staff/calls/{call_id}/proposals")
    with statements:
        assert client.get(f"/staff/calls/{call_id}/proposals").status_code == 200
    assert len(statements.on("call_instruments")) == 0, statements.seen  # joined to the call
    assert len(statements.on("facilities")) == 0, statements.seen  # joined to the person
    assert not any("count(*) OVER" in s for s in statements.seen), statements.seen  # the header's counts
    assert len(statements.seen) <= 3, statements.seen
    assert client.get(f"/staff/calls/{call_id + 999}/proposals").status_code == 404


def test_a_page_before_the_facility_is_set_up_still_shows(client, ctx, statements):
    """No facility row yet (a fresh install): the companion join finds nothing, the page shows
    the configured name, and the facility is looked for again (not remembered as missing)."""
    with ctx():
        person = Saved(make_user(roles=[Role.ADMIN]))
    login(client, person)
    with statements:
        page = client.get("/")
    assert page.status_code == 200
    assert len(statements.on("facilities")) >= 1, statements.seen  # looked for, not found
