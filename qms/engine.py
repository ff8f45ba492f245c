"""Engines: the database URL, SQLite's pragmas and how a writer begins, without the ORM.

SQLite gets foreign keys, WAL and a busy timeout on every connection, and write transactions begin
IMMEDIATE (see qms.db for why); PostgreSQL's writers take turns on the audit chain's head row. A
command that only reads (`qms deviations list`) opens an engine from here with the settings read
straight from the environment, so that it starts without the ORM and without pydantic.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Dialect, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

SQLITE_BEGIN_OPTION = "qms_sqlite_begin"
# Set on the write sessions' connections: on PostgreSQL their transaction begins by taking turns.
TAKE_TURNS_OPTION = "qms_take_turns"

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class EngineSettings(NamedTuple):
    """The settings an engine is made from (see qms.config.Settings)."""

    database_url: str
    sqlite_busy_timeout_ms: int
    log_sql: bool


def environment_settings() -> EngineSettings:
    """Read the engine's settings from the environment as qms.config.Settings reads them (the
    QMS_ prefix in any case); a value it would not take plainly is left to Settings to judge."""
    from_env = {name.lower(): value for name, value in os.environ.items()}
    url = from_env.get("qms_database_url")
    busy = from_env.get("qms_sqlite_busy_timeout_ms", "30000").strip()
    log = from_env.get("qms_log_sql", "false").strip().lower()
    if url is None or not busy.isdigit() or log not in _TRUE | _FALSE:
        from qms.config import get_settings

        settings = get_settings()
        return EngineSettings(
            settings.database_url, settings.sqlite_busy_timeout_ms, settings.log_sql
        )
    return EngineSettings(url, int(busy), log in _TRUE)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, kept in UTC on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a plain postgresql:// URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str | None = None,
    *,
    foreign_keys: bool = True,
    settings: EngineSettings | None = None,
) -> Engine:
    """Create an engine for the URL (default: the settings'), with the SQLite pragmas in place."""
    if settings is None:
        from qms.config import get_settings

        read = get_settings()
        settings = EngineSettings(read.database_url, read.sqlite_busy_timeout_ms, read.log_sql)
    url = normalise_url(url or settings.database_url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    # A SQLite connection may be handed between the server's worker threads (never shared at once).
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    engine = create_engine(
        url, echo=settings.log_sql, pool_pre_ping=True, connect_args=connect_args
    )
    if is_sqlite:
        _install_sqlite_hooks(
            engine, foreign_keys=foreign_keys, busy_ms=settings.sqlite_busy_timeout_ms
        )
    else:
        _install_postgresql_hooks(engine, wait_ms=settings.sqlite_busy_timeout_ms)
    return engine


def _install_postgresql_hooks(engine: Engine, *, wait_ms: int) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(TAKE_TURNS_OPTION):
            return
        # As long as SQLite's busy timeout, then 503 "try again" rather than a wait without end.
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")
        conn.exec_driver_sql("SELECT id FROM audit_chain_head WHERE id = 1 FOR UPDATE")


def _install_sqlite_hooks(engine: Engine, *, foreign_keys: bool, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, say when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: Engine) -> Engine:
    """Return a view of the engine whose transactions take the write lock at once on SQLite."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
