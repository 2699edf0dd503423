"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

import enum
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC.

    SQLite has no time zones and returns naive values: this type stores UTC and always gives
    back an aware UTC datetime, on SQLite and PostgreSQL alike. Naive input is refused, so no
    local time can slip in unnoticed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC column; pass an aware value")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def str_enum(enum_cls: type[enum.StrEnum], length: int = 32) -> Enum:
    """A StrEnum stored as its string value (no native enum type, a CHECK constraint)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
        create_constraint=True,
        name=enum_cls.__name__.lower(),
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


IMMEDIATE = "beamtime_sqlite_immediate"


def install_sqlite_hooks(engine: Engine, *, busy_timeout_ms: int, wal: bool) -> None:
    """SQLAlchemy's documented recipe so SQLite honours BEGIN, SAVEPOINT and BEGIN IMMEDIATE.

    Python 3.11's sqlite3 driver begins transactions on its own and breaks SAVEPOINT; here the
    driver is put in autocommit mode and SQLAlchemy emits BEGIN itself: `BEGIN IMMEDIATE` when
    the connection carries the IMMEDIATE execution option (writers that must not race), plain
    `BEGIN` otherwise. WAL and a busy timeout let the web and jobs processes share the file.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(IMMEDIATE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


_IDLE_SINCE = "beamtime_idle_since"


def install_idle_ping(engine: Engine, *, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only when it has been idle for `idle_seconds`.

    `pool_pre_ping` pings on every checkout: one more round trip per request on PostgreSQL,
    although a connection checked in a moment ago is alive. What the ping guards against (a
    database restart, a proxy or firewall closing idle connections) strikes connections that
    sat idle; those are still pinged. A failed ping raises `DisconnectionError`: the pool drops
    that connection and checks out a fresh one, and the request never sees it. A connection
    that dies during the short window is handled like a death between ping and query under
    `pool_pre_ping`: the statement fails, SQLAlchemy recognises the disconnect and invalidates
    the pool, the next request connects afresh. `pool_recycle` (config) replaces connections
    older than the servers' and proxies' idle limits anyway. See the README (configuration).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError("the pooled connection was closed while idle") from exc
            raise
