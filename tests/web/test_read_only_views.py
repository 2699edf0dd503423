"""A view declared `@read_only` writes nothing (app/web/reads.py): a flush with anything new,
changed or deleted is refused and nothing reaches the database; on every database."""

from __future__ import annotations

import pytest

from app.accounts.models import User
from app.extensions import db
from app.web import reads
from tests.factories import make_user


def test_the_benchmarked_pages_are_declared_read_only(app):
    for endpoint in ("proposals.edit", "proposals.call_proposals"):
        assert reads.is_read_only(app.view_functions[endpoint]), endpoint
    for endpoint in ("proposals.save_text", "proposals.submit", "web.home"):
        assert not reads.is_read_only(app.view_functions[endpoint]), endpoint


def test_a_read_only_session_refuses_to_write_and_changes_nothing(app_ctx, db_session):
    person = make_user(name="Ada Before")
    db.session.commit()
    db.session.info[reads.READ_ONLY] = True
    try:
        person.name = "Ada After"
        with pytest.raises(reads.ReadOnlyViolation):
            db.session.flush()
        db.session.rollback()
        db.session.add(User(email="new@example.org", name="New"))
        with pytest.raises(reads.ReadOnlyViolation):
            db.session.flush()
        db.session.rollback()
    finally:
        db.session.info.pop(reads.READ_ONLY, None)
    assert db.session.get(User, person.id).name == "Ada Before"
    assert db.session.query(User).filter_by(email="new@example.org").count() == 0


def test_reading_and_unchanged_objects_flush_fine(app_ctx, db_session):
    person = make_user(name="Same")
    db.session.commit()
    db.session.info[reads.READ_ONLY] = True
    try:
        assert person.name == "Same"  # read (loaded after the commit expired it)
        person.name = "Same"  # set, but not changed
        db.session.flush()
        assert db.session.get(User, person.id).name == "Same"
    finally:
        db.session.info.pop(reads.READ_ONLY, None)


# --- the person on a read-only page: plain values (accounts.models.SessionPerson) -------------


def _people_with_roles():
    from app.accounts.models import Role

    return [
        make_user(),
        make_user(roles=[Role.ADMIN]),
        make_user(roles=[Role.USER_OFFICE, Role.DIRECTOR]),
        make_user(roles=[(Role.INSTRUMENT_SCIENTIST, 7), (Role.INSTRUMENT_SCIENTIST, 9), Role.USER_OFFICE]),
        make_user(roles=[(Role.REVIEWER, 3)], locale="fr", orcid="0000-0002-1825-0097"),
    ]


def test_the_plain_person_answers_every_rule_as_the_entity_does(app_ctx, db_session):
    """`load_session_person` (read-only views) and `load_session_user` (every other page) give
    the same person: the same columns, roles, scopes, log-in answers and navigation predicates;
    the plain one builds no entity and equals the entity (Flask-Login's rule, by `get_id`)."""
    from app.accounts.models import SESSION_PERSON_COLUMNS, Role, SessionPerson
    from app.accounts.services import load_session_person, load_session_user
    from app.core import permissions
    from app.web import navigation

    people = _people_with_roles()
    db.session.commit()
    session_ids = [someone.get_id() for someone in people]
    predicates = sorted({entry.predicate for entry in navigation._entries if entry.predicate})
    assert len(predicates) > 10
    for session_id in session_ids:
        db.session.expunge_all()
        plain = load_session_person(session_id)
        entity = load_session_user(session_id)
        assert isinstance(plain, SessionPerson) and isinstance(entity, User)
        assert plain == entity and plain is not entity
        for name in SESSION_PERSON_COLUMNS:
            assert getattr(plain, name) == getattr(entity, name), name
        assert not hasattr(plain, "password_hash")
        assert plain.get_id() == entity.get_id()
        assert (plain.is_active, plain.is_authenticated, plain.is_anonymous) == (True, True, False)
        assert plain.role_names == entity.role_names
        for role in Role:
            assert plain.scopes(role) == entity.scopes(role), role
            for scope in (None, 3, 7, 9, 11):
                assert plain.has_role(role, scope) == entity.has_role(role, scope), (role, scope)
        for name in predicates:
            assert permissions.check(name, plain) == permissions.check(name, entity), name


def test_the_plain_person_is_logged_out_exactly_when_the_entity_is(app_ctx, db_session):
    """An older session version (password changed, signed out everywhere), a closed account,
    an unknown person or a malformed session: None from both loaders."""
    from app.accounts.services import load_session_person, load_session_user

    kept, moved, closed = make_user(), make_user(), make_user()
    db.session.commit()
    old, kept_id, kept_session = moved.get_id(), kept.id, kept.get_id()
    moved.session_version += 1
    closed.active = False
    db.session.commit()
    refused = (old, closed.get_id(), "987654:1", "", "x:1", f"{kept_id}:x", f"{kept_id}", f"{kept_id}:2")
    for session_id in refused:
        assert load_session_person(session_id) is None, session_id
        assert load_session_user(session_id) is None, session_id
    assert load_session_person(kept_session).id == kept_id


def test_the_facility_comes_with_the_plain_person_as_plain_values(app_ctx, db_session):
    """The facility's row is read with the person (no statement of its own) and held for the
    page as a `FacilityRow`: the entity's columns, the same values."""
    from app.accounts.services import load_session_person
    from app.facility import queries as facility_queries
    from app.facility.models import Facility
    from tests.factories_facility import make_facility

    assert list(facility_queries.FacilityRow.__dataclass_fields__) == [c.key for c in Facility.__table__.columns]
    facility = make_facility(name="Beamtime Light Source", timezone="Asia/Amman")
    someone = make_user()
    db.session.commit()
    expected = {c.key: getattr(facility, c.key) for c in Facility.__table__.columns}
    session_id = someone.get_id()
    db.session.expunge_all()
    db.session.info.clear()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert load_session_person(session_id) is not None
        found = facility_queries.find_facility()
        assert facility_queries.facility_name() == "Beamtime Light Source"
        assert facility_queries.facility_timezone_name() == "Asia/Amman"
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert isinstance(found, facility_queries.FacilityRow)
    assert {name: getattr(found, name) for name in expected} == expected
    assert len(statements) == 1, statements  # the person's, with the facility joined


def test_a_read_only_page_sends_an_outdated_session_to_log_in_and_refuses_the_wrong_role(client, ctx):
    """The staff list (read-only): a person signed out everywhere (their session's version is
    older) is sent to log in; a person without a staff role is refused; staff see it. Nothing
    changes in either case."""
    from app.accounts.models import Role
    from tests.factories import login
    from tests.factories_proposals import make_call

    with ctx():
        call_id = make_call().id
        staff = make_user(roles=[Role.USER_OFFICE])
        visitor = make_user()
        staff_id, staff_email, visitor_email = staff.id, staff.email, visitor.email
    login(client, staff)
    assert client.get(f"/staff/calls/{call_id}/proposals").status_code == 200
    with ctx():
        db.session.get(User, staff_id).session_version += 1
    response = client.get(f"/staff/calls/{call_id}/proposals")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    client.post("/logout")
    with ctx():
        assert db.session.get(User, staff_id).email == staff_email  # nothing written
        visitor = db.session.query(User).filter_by(email=visitor_email).one()
    login(client, visitor)
    assert client.get(f"/staff/calls/{call_id}/proposals").status_code == 403
