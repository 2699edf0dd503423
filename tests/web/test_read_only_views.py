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
