"""The migrations, run the way CI and an operator run them (`flask db …`), on a given database.

`migration_round_trip(url)`: upgrade an empty database to head, check that the models and
the migrations agree (`flask db check`), downgrade to base (nothing of ours is left), then
upgrade and check again. Used on PostgreSQL (tests/pg) and on a SQLite file (sqlite tier).
"""

from __future__ import annotations

from sqlalchemy import create_engine, inspect


def _flask_db(application, *args: str) -> str:
    # `flask` commands run in the app context already pushed, if any (a service test's): push
    # this app's own, or the command would migrate the test database instead.
    with application.app_context():
        result = application.test_cli_runner().invoke(args=["db", *args])
    output = result.output + (repr(result.exception) if result.exception else "")
    assert result.exit_code == 0, f"flask db {' '.join(args)} failed:\n{output}"
    return output


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migration_round_trip(session_app, url: str) -> None:
    from app.extensions import db
    from tests.web.apps import other_app

    assert _tables(url) == set(), f"{url} is not empty"
    with other_app(session_app, schema=False, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={}) as application:
        model_tables = {t.name for t in db.metadata.sorted_tables}

        _flask_db(application, "upgrade")
        assert _tables(url) == model_tables | {"alembic_version"}
        _flask_db(application, "check")  # exits 1 when the models and the migrations differ

        _flask_db(application, "downgrade", "base")
        assert _tables(url) <= {"alembic_version"}

        _flask_db(application, "upgrade")
        _flask_db(application, "check")
        assert _tables(url) == model_tables | {"alembic_version"}
        with application.app_context():
            db.engine.dispose()
