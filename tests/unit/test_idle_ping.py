"""Pooled connections are pinged only after sitting idle (issue 4: no round trip per request),
and a connection that died while idle is replaced before anyone uses it. On the test
database (SQLite, or PostgreSQL with TEST_DATABASE_URL), through a real pool."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import create_engine, text

from app.core.db import install_idle_ping

IDLE = 0.2


@pytest.fixture
def engine(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'ping.sqlite'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds=IDLE)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    seen: list[object] = []
    original = engine.dialect.do_ping

    def spy(dbapi_connection):
        seen.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", spy)
    return seen


def _select_one(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1")).scalar_one()


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, pings):
    for _ in range(5):
        assert _select_one(engine) == 1
    assert pings == []


def test_a_connection_idle_for_a_while_is_pinged_once(engine, pings):
    _select_one(engine)
    time.sleep(IDLE * 1.5)
    assert _select_one(engine) == 1 and _select_one(engine) == 1
    assert len(pings) == 1


def test_a_connection_that_died_while_idle_is_replaced_unseen(engine, pings):
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        dead = conn.connection.dbapi_connection
    dead.close()  # the server restarted, or a proxy dropped the idle connection
    time.sleep(IDLE * 1.5)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert conn.connection.dbapi_connection is not dead
    assert pings and pings[0] is dead
