"""Test databases built by the migrations: SQLite, or PostgreSQL when QMS_TEST_DATABASE_URL is set.

Most tests run in a transaction that is rolled back (the `session` and `client` fixtures). Tests
that need real commits (concurrency, tampering, the CLI) take `fresh_db`: a copy of the migrated
template, their own.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from qms import migrate
from qms.db import Database, make_engine, normalise_url
from qms.permissions import Actor, Role

TEST_DATABASE_URL = os.environ.get("QMS_TEST_DATABASE_URL")

ADMIN = Actor(user_id=None, name="test-admin", role=Role.admin)


class SQLiteServer:
    """Makes SQLite database files in a temporary folder."""

    dialect = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new_database(self, template: str | None = None) -> str:
        path = self.folder / f"qms_{uuid.uuid4().hex[:12]}.db"
        if template is not None:
            shutil.copyfile(make_url(template).database or "", path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        database = make_url(url).database or ""
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)


class PostgresServer:
    """Makes scratch databases on the PostgreSQL server that QMS_TEST_DATABASE_URL names."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.base = make_url(normalise_url(url))
        self.admin: Engine = create_engine(self.base, isolation_level="AUTOCOMMIT")

    def new_database(self, template: str | None = None) -> str:
        name = f"qms_t_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {make_url(template).database}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}{clause}"))
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))


Server = SQLiteServer | PostgresServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The database server the suite runs on."""
    if TEST_DATABASE_URL:
        pg = PostgresServer(TEST_DATABASE_URL)
        yield pg
        pg.admin.dispose()
    else:
        yield SQLiteServer(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def template_url(server: Server) -> Iterator[str]:
    """An empty database migrated to head: the mould for every other."""
    url = server.new_database()
    migrate.upgrade(url)
    yield url
    server.drop(url)


@pytest.fixture(scope="session")
def new_database(server: Server, template_url: str) -> Iterator[Callable[[], Database]]:
    """Make fresh migrated databases of the test's own; dropped after the suite."""
    made: list[tuple[str, Database]] = []

    def make() -> Database:
        # The databases made before keep no idle connection open: a server allows only so many
        # clients, and a module's database may outlive its tests until the suite ends.
        for _, earlier in made:
            earlier.engine.dispose()
        url = server.new_database(template=template_url)
        database = Database(make_engine(url))
        made.append((url, database))
        return database

    yield make
    for url, database in made:
        database.dispose()
        server.drop(url)


@pytest.fixture
def fresh_db(new_database: Callable[[], Database]) -> Database:
    """A migrated database of this test's own, whose units of work really commit."""
    return new_database()


@pytest.fixture(scope="session")
def shared_db(new_database: Callable[[], Database]) -> Database:
    """The database the rolled-back tests share."""
    return new_database()


@pytest.fixture
def connection(shared_db: Database) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with shared_db.engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


class BoundDatabase(Database):
    """A Database whose units of work are savepoints inside the test's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.engine = connection.engine

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        with Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        pass


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session inside the test's rolled-back transaction."""
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as s:
        yield s


@pytest.fixture
def bound_db(connection: Connection) -> BoundDatabase:
    """The test's transaction, seen as a Database (for the app and the services)."""
    return BoundDatabase(connection)


def make_client(database: Database, *, address: str = "testclient") -> Any:
    """Return a test client over the app on the database (calling from `address`)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(database), raise_server_exceptions=False, client=(address, 50000))


@pytest.fixture
def client(bound_db: BoundDatabase) -> Any:
    """An HTTP client for the app, inside the test's rolled-back transaction."""
    return make_client(bound_db)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--thorough",
        action="store_true",
        default=False,
        help="fuzz the API with many more examples per operation",
    )


# Skips a complete run accepts, by node id (or a module's path): any other skip fails the run when
# QMS_STRICT_SKIPS=1 (as in CI), so a missing tool or a forgotten skip cannot pass for green.
ALLOWED_SKIPS = {
    "tests/test_access_log.py::test_an_auditors_reads_do_not_wait_for_an_import_or_a_register": (
        "timed alone, by a stage of .ci/run of its own, not beside the other workers' tests"
    ),
    "tests/test_migrations.py::TestRoundTrip::test_postgresql_upgrade_check_downgrade_upgrade": (
        "the PostgreSQL round trip, on the SQLite run"
    ),
    "tests/test_backup.py::test_the_postgresql_password_never_goes_on_a_command_line": (
        "pg_dump's command line, on the SQLite run"
    ),
    "tests/test_scheduler.py::TestOneOfSeveral::"
    "test_a_hold_left_by_a_killed_scheduler_is_overtaken_after_an_hour": (
        "SQLite's lock row, on the PostgreSQL run"
    ),
}
# A test that runs longer than this (on a quiet machine of two cores) is marked slow and says why.
SLOW_SECONDS = 20.0
_session_key = pytest.StashKey[pytest.Session]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_session_key] = session


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # A generated test per API operation (tests/test_fuzz.py) is marked slow by its label.
        label = getattr(item, "operation_label", None)
        slow_operations = getattr(getattr(item, "module", None), "SLOW_OPERATIONS", {})
        if label in slow_operations:
            item.add_marker(pytest.mark.slow(reason=slow_operations[label]))
    unexplained = [
        item.nodeid
        for item in items
        if (mark := item.get_closest_marker("slow")) is not None and not mark.kwargs.get("reason")
    ]
    if unexplained:
        raise pytest.UsageError(f"slow tests must say why (slow(reason=...)): {unexplained}")


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Name the skips a complete run does not accept, and the long tests not marked slow."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
    unexpected = [
        (report.nodeid, _skip_reason(report))
        for report in skipped
        if report.nodeid not in ALLOWED_SKIPS
    ]
    if skipped:
        terminalreporter.section("skips")
        for report in skipped:
            verdict = "allowed" if report.nodeid in ALLOWED_SKIPS else "NOT ALLOWED"
            terminalreporter.write_line(f"{verdict}: {report.nodeid}: {_skip_reason(report)}")
    if unexpected and os.environ.get("QMS_STRICT_SKIPS") == "1":
        terminalreporter.write_line(
            f"{len(unexpected)} skip(s) not on the allow-list (tests/conftest.py ALLOWED_SKIPS)",
            red=True,
        )
        session = config.stash.get(_session_key, None)
        if session is not None and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    long = [
        (report.duration, report.nodeid)
        for report in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("failed", [])
        if report.when == "call"
        and report.duration > SLOW_SECONDS
        and "slow" not in report.keywords
    ]
    if long:
        terminalreporter.section("over 20 s and not marked slow")
        for seconds, nodeid in sorted(long, reverse=True):
            terminalreporter.write_line(f"{seconds:6.1f} s  {nodeid}")


def pytest_configure(config: pytest.Config) -> None:
    clock = os.environ.get("QMS_TEST_CLOCK")
    if clock:
        # The whole run on another day (QMS_TEST_CLOCK=2030-06-15): numbers, dates and periods the
        # clock decides must follow it. The clock ticks on from nine in the morning, UTC.
        import time_machine

        time_machine.travel(datetime.fromisoformat(f"{clock}T09:00:00+00:00"), tick=True).start()

    from hypothesis import settings

    # Hypothesis drives the API fuzzing: a few examples per operation in CI, many when asked.
    settings.register_profile("ci", max_examples=4, derandomize=True, deadline=None)
    settings.register_profile("thorough", max_examples=200, deadline=None)
    settings.load_profile("thorough" if config.getoption("--thorough") else "ci")
