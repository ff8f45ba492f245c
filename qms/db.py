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

from sqlalchemy import Connection, Engine, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Engines are made in qms.engine (a reader at the command line needs no ORM); named here too.
from qms.engine import SQLITE_BEGIN_OPTION as SQLITE_BEGIN_OPTION
from qms.engine import TAKE_TURNS_OPTION, writer
from qms.engine import UTCDateTime as UTCDateTime
from qms.engine import make_engine as make_engine
from qms.engine import normalise_url as normalise_url

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; its metadata names every constraint by one convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


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


class Database:
    """An engine with a session factory for readers and one for writers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            bind=writer(engine).execution_options(**{TAKE_TURNS_OPTION: True}),
            expire_on_commit=False,
        )
        # The access log's batches: a write that takes SQLite's write lock at once, but on
        # PostgreSQL not the writers' turn (the log's appends take turns on a row of their own).
        self.append_sessions = sessionmaker(bind=writer(engine), expire_on_commit=False)

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

    @contextmanager
    def reading_once(self) -> Iterator[Session]:
        """Open a session for one statement that only reads (a bearer token's check on every
        request): see `read_committed`."""
        with self.unit_of_work(write=False) as session:
            read_committed(session)
            yield session

    @contextmanager
    def appending(self) -> Iterator[Session]:
        """Open a short write transaction that does not wait for the writers' turn."""
        factory = self.__dict__.get("append_sessions")
        if factory is None:
            # A Database made otherwise (over one connection already in a transaction) appends
            # in its own units of work.
            with self.unit_of_work() as session:
                yield session
            return
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def read_committed(session: Session) -> None:
    """Let a session that only reads run each statement on its own on PostgreSQL, without a
    transaction around them (autocommit: no BEGIN and no ROLLBACK, each a round trip to wait
    for). Each statement sees what was committed when it began, as under READ COMMITTED inside a
    transaction: nothing changes for the reader. Call it before the session's first query; on
    SQLite, or on a connection already in a transaction (the tests'), it does nothing."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or isinstance(bind, Connection):
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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
