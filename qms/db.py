"""The declarative base, engines and units of work.

SQLite gets foreign keys, WAL and a busy timeout on every connection, and write transactions begin
IMMEDIATE: a writer takes the write lock before it reads, so two writers queue instead of failing
with "database is locked" when one of them upgrades a read lock. PostgreSQL runs through psycopg 3
with the same code, and its units of work that write take turns the same way: each begins by
locking the audit chain's head row, which every write locks anyway to record its event. So on
both databases a writer decides on what the writers before it committed (a finding already
opened, the last active admin, a deviation closed meanwhile) and never on what it read before
they did; readers are never held up.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    Enum,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from qms.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BEGIN_OPTION = "qms_sqlite_begin"
# Set on the write sessions' connections: on PostgreSQL their transaction begins by taking turns.
TAKE_TURNS_OPTION = "qms_take_turns"


class Base(DeclarativeBase):
    """Base of every model; its metadata names every constraint by one convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


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


def str_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """Store a StrEnum as its values in a string column with a CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a plain postgresql:// URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, foreign_keys: bool = True) -> Engine:
    """Create an engine for the URL (default: the settings'), with the SQLite pragmas in place."""
    settings = get_settings()
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


class Database:
    """An engine with a session factory for readers and one for writers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            bind=writer(engine).execution_options(**{TAKE_TURNS_OPTION: True}),
            expire_on_commit=False,
        )

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """Open a session; commit when the block ends cleanly, roll back when it raises."""
        factory = self.write_sessions if write else self.read_sessions
        with factory() as session:
            try:
                yield session
                if write:
                    session.commit()
                # A reader's transaction ends when the session closes, leaving what it loaded
                # readable.
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def read_consistently(session: Session) -> None:
    """Let everything the session reads come from one snapshot (REPEATABLE READ on PostgreSQL;
    SQLite's write transaction is one already). Call it before the session's first query.

    A session bound to a connection already inside a transaction (a caller's, as in the tests)
    keeps the isolation that transaction has.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if isinstance(bind, Connection) and bind.in_transaction():
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
