"""The transaction boundary: one unit of work per use case, owned by `@transactional`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from app.core.db import IMMEDIATE
from app.extensions import db

P = ParamSpec("P")
R = TypeVar("R")
_depth: ContextVar[int] = ContextVar("unit_of_work_depth", default=0)
_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


def _begin_writer() -> None:
    """On SQLite, start the outermost unit with BEGIN IMMEDIATE so writers queue, not fail.

    A read-only transaction a view may have begun is ended first (it holds nothing): SQLite
    cannot upgrade it to a write lock later without risking "database is locked".
    """
    session = db.session()  # the current Session behind the scoped proxy
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            return
        session.commit()
    session.connection(execution_options={IMMEDIATE: True})


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The outermost unit commits on success and rolls back on error; nested ones join it."""
    depth = _depth.get()
    token = _depth.set(depth + 1)
    hooks_token = _after_commit.set([]) if depth == 0 else None
    try:
        if depth == 0:
            _begin_writer()
        yield
        if depth == 0:
            db.session.commit()
    except BaseException:
        if depth == 0:
            db.session.rollback()
        raise
    finally:
        hooks = _after_commit.get() if depth == 0 else None
        if hooks_token is not None:
            _after_commit.reset(hooks_token)
        _depth.reset(token)
    if hooks:
        for hook in hooks:
            hook()


def after_commit(hook: Callable[[], None]) -> None:
    """Run `hook` once the outermost unit of work has committed (never after a rollback)."""
    hooks = _after_commit.get()
    if hooks is None:
        raise RuntimeError("after_commit() called outside a unit of work")
    hooks.append(hook)


def in_unit_of_work() -> bool:
    return _depth.get() > 0


def transactional(func: Callable[P, R]) -> Callable[P, R]:
    """Make `func` a use case: it commits once at the outermost level, or rolls back on error."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return func(*args, **kwargs)

    return wrapper
