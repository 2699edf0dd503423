"""Test infrastructure shared by every tier (DESIGN.md §8).

- `tests/unit`: pure code, no database.
- `tests/services`, `tests/web`: against the database named by BEAMTIME_TEST_DB ("sqlite", the
  default, or a PostgreSQL URL); each test runs in an outer transaction that is rolled back.
- `tests/pg`, `tests/e2e`: PostgreSQL only (TEST_DATABASE_URL), with committed data that is
  removed afterwards; skipped with the reason printed when no PostgreSQL is configured.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

pytest_plugins = ["tests.smtp_sink"]

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TESTS = Path(__file__).parent
PG_ONLY_DIRS = ("pg", "e2e")
PG_SKIP_REASON = (
    "PostgreSQL-only test: set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run it"
)


def sqlalchemy_url(url: str) -> str:
    """postgresql://… → postgresql+psycopg://… (psycopg 3)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def pg_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL")
    return sqlalchemy_url(raw) if raw else None


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason=PG_SKIP_REASON)
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS).parts
        if parts and parts[0] in PG_ONLY_DIRS:
            item.add_marker(pytest.mark.pg_only)
            if pg_url() is None:
                item.add_marker(skip_pg)


def _default_url() -> str:
    choice = os.environ.get("BEAMTIME_TEST_DB", "sqlite")
    if choice == "sqlite":
        path = Path(tempfile.gettempdir()) / f"beamtime-test-{os.getpid()}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return sqlalchemy_url(choice)


def build_app(url: str, tmp_path_factory, **overrides):
    """An app on `url` with a fresh schema (created from the models; the migration test
    checks separately that the migrations build the same schema)."""
    from app import create_app
    from app.extensions import db

    engine_options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        engine_options.update(pool_size=25, max_overflow=10)
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options,
        UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")),
        **overrides,
    )
    with application.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        else:
            db.drop_all()
        db.create_all()
    return application


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The app of the database tiers: SQLite, or the PostgreSQL URL in BEAMTIME_TEST_DB."""
    from app.extensions import db

    application = build_app(_default_url(), tmp_path_factory)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    """A session whose work is rolled back after the test (services' commits release savepoints).

    Flask-SQLAlchemy's own session ignores `bind=`, so a plain scoped session bound to one
    connection is swapped in for the test's duration.
    """
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    session = scoped_session(factory)
    original = db.session
    db.session = session
    try:
        yield session
    finally:
        session.remove()
        outer.rollback()
        connection.close()
        db.session = original


@pytest.fixture
def app_ctx(app):
    """An app context for service tests (never around test-client calls)."""
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def committed_db(app):
    """For tests that need commits seen across connections (races, leader, e2e): the data
    is real, and every table is emptied afterwards."""
    from app.extensions import db

    yield db
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
