"""Migrations on PostgreSQL: a fresh database, upgrade to head, check, downgrade, upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import pg_url
from tests.migrating import migration_round_trip


@pytest.fixture
def fresh_database():
    """`<dbname>_migrations` next to TEST_DATABASE_URL, created for the test and dropped after."""
    base = make_url(pg_url())
    name = f"{base.database}_migrations"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_build_the_models_schema_and_go_back(app, fresh_database):
    migration_round_trip(app, fresh_database)
    # what autogenerate cannot compare is made by hand: check it is there
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            email_index = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_users_email_lower'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert "UNIQUE" in email_index and "lower" in email_index
