"""Read-only pages: declared with `@read_only`, they read without a transaction and write nothing.

A page that only shows (the proposal page, the staff list) gains nothing from a transaction
around its few statements, and on PostgreSQL the transaction costs two round trips of its own:
psycopg sends `BEGIN` before the first statement and the pool sends `ROLLBACK` when the
connection comes back. Measured on the two benchmarked pages (bench B2/B3, 2 shared cores), a
round trip that follows Python work costs far more than one in a tight loop (the database's
process has gone idle): the proposal page took 7.7 ms a request with them and 5.9 ms without
(medians of 30 alternated runs of 20 pages).

So a GET to a view marked `@read_only` takes its connection in autocommit on PostgreSQL: each
statement sees the data committed when it starts (what Django does for every request), which
is what a page that only shows can rely on; its statements were read in one snapshot before,
and a change committed between two of them now shows in the later one only. SQLite keeps its
transaction: the engine there emits `BEGIN` itself (`core.db.install_sqlite_hooks`) and has no
round trip to save.

And a read-only view may not write: a flush with anything new, changed or deleted raises
`ReadOnlyViolation` (a 500: a bug in the view, which the tests find), on every database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.extensions import db

F = TypeVar("F", bound=Callable)

#: `Session.info` key: this session serves a read-only view
READ_ONLY = "beamtime.read_only"
_MARK = "beamtime_read_only"


class ReadOnlyViolation(RuntimeError):
    """A view declared `@read_only` tried to write."""


def read_only(view: F) -> F:
    """Declare a GET view read-only (put it above `login_required`: the log-in reads too)."""
    setattr(view, _MARK, True)
    return view


def is_read_only(view) -> bool:
    return bool(getattr(view, _MARK, False))


def in_read_only_view() -> bool:
    """Whether this request is a GET (or HEAD) to a view declared `@read_only`: its log-in
    reads the person as plain values (`accounts.services.load_session_person`)."""
    return bool(g.get("beamtime_read_only", False))


def _refuse_writes(session: Session, _flush_context, _instances) -> None:
    if not session.info.get(READ_ONLY):
        return
    changed = [o for o in session.dirty if session.is_modified(o)]
    if session.new or session.deleted or changed:
        raise ReadOnlyViolation(
            f"read-only view {request.endpoint if request else '?'} tried to write: "
            f"{len(session.new)} new, {len(changed)} changed, {len(session.deleted)} deleted"
        )


def init_app(app: Flask) -> None:
    if not event.contains(Session, "before_flush", _refuse_writes):
        event.listen(Session, "before_flush", _refuse_writes)

    @app.before_request
    def _begin_read_only() -> None:
        if request.method not in ("GET", "HEAD"):
            return
        if not is_read_only(current_app.view_functions.get(request.endpoint)):
            return
        g.beamtime_read_only = True
        session = db.session()  # the request's session itself (the scoped proxy lacks some methods)
        session.info[READ_ONLY] = True
        bind = session.get_bind()
        # an engine of our own (the tests' sessions are bound to one connection in an outer
        # transaction), on PostgreSQL, and nothing read yet in this request
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not session.in_transaction():
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    @app.teardown_request
    def _end_read_only(_exc) -> None:
        if g.pop("beamtime_read_only", False):
            db.session.info.pop(READ_ONLY, None)
