from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.core.errors import InvalidState
from app.core.models import AuditEntry
from app.core.transaction import after_commit, transactional, unit_of_work
from app.extensions import db
from tests.factories import make_user


def test_utc_type_returns_aware_utc_values():
    user = make_user(created_at=datetime(2027, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))))
    db.session.flush()
    db.session.expire_all()
    reloaded = db.session.get(type(user), user.id)
    assert reloaded.created_at.tzinfo is not None
    assert reloaded.created_at == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert reloaded.created_at.utcoffset() == timedelta(0)


def test_utc_type_refuses_naive_values():
    with pytest.raises(Exception, match="naive"):
        make_user(created_at=datetime(2027, 3, 1, 10, 0))
    db.session.rollback()


@transactional
def _write_then_fail(user_id: int) -> None:
    db.session.add(AuditEntry(actor_id=user_id, action="test.write", changes={}))
    db.session.flush()
    raise InvalidState("test_failure")


def test_transactional_rolls_back_everything_on_error():
    user = make_user()
    db.session.commit()
    with pytest.raises(InvalidState):
        _write_then_fail(user.id)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "test.write")) is None


@transactional
def _outer(user_id: int, calls: list) -> None:
    db.session.add(AuditEntry(actor_id=user_id, action="test.outer", changes={}))
    _inner(user_id, calls)


@transactional
def _inner(user_id: int, calls: list) -> None:
    db.session.add(AuditEntry(actor_id=user_id, action="test.inner", changes={}))
    after_commit(lambda: calls.append("committed"))
    assert calls == []  # nothing runs before the outermost unit commits


def test_transactional_is_reentrant_and_commits_once_at_the_outermost_level():
    user = make_user()
    calls: list = []
    _outer(user.id, calls)
    assert calls == ["committed"]
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"test.outer", "test.inner"} <= actions


def test_after_commit_hooks_do_not_run_after_a_rollback():
    calls: list = []
    with pytest.raises(RuntimeError):
        with unit_of_work():
            after_commit(lambda: calls.append("ran"))
            raise RuntimeError("boom")
    assert calls == []
