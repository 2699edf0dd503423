"""What the engine runs during a block of a test: each statement's text and whether its
connection was in autocommit (the tests' savepoints and BEGIN/ROLLBACK left out)."""

from __future__ import annotations

from sqlalchemy import event

from app.extensions import db

_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")


class Statements:
    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.seen: list[str] = []
        self.autocommit: list[bool] = []

    def _statement(self, conn, cursor, statement, *args):
        if not statement.startswith(_CONTROL):
            self.seen.append(statement)
            self.autocommit.append(bool(getattr(conn.connection.driver_connection, "autocommit", False)))

    def __enter__(self):
        self.seen, self.autocommit = [], []
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def on(self, table: str) -> list[str]:
        return [s for s in self.seen if f"FROM {table}" in s]
