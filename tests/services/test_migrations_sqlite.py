"""Migrations on SQLite (the embedded default): a fresh file, upgrade, check, downgrade, upgrade."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tests.migrating import migration_round_trip

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("BEAMTIME_TEST_DB", "sqlite") != "sqlite", reason="SQLite migrations run in the sqlite tier"
    ),
    # SQLite cannot reflect expression indexes: the hand-made one is checked below instead
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
]


def test_migrations_build_the_models_schema_on_sqlite(app, tmp_path):
    path = tmp_path / "migrations.sqlite"
    migration_round_trip(app, f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'uq_users_email_lower'").fetchone()[0]
    assert "UNIQUE" in sql and "lower" in sql
