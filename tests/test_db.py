"""Database connections: SQLite is set up on every connect and its writers queue, never fail."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from qms.db import Database, make_engine, normalise_url
from qms.programmes.models import Programme
from tests.factories import make_programme
from tests.threads import at_once


@pytest.fixture
def sqlite_db(tmp_path):
    from qms import migrate

    url = f"sqlite:///{tmp_path / 'qms.db'}"
    migrate.upgrade(url)
    database = Database(make_engine(url))
    yield database
    database.dispose()


class TestSQLiteConnections:
    def test_every_connection_gets_the_pragmas(self, sqlite_db) -> None:
        for _ in range(3):
            with sqlite_db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000

    def test_foreign_keys_are_enforced(self, sqlite_db) -> None:
        from sqlalchemy.exc import IntegrityError

        with pytest.raises(IntegrityError), sqlite_db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cohort (programme_id, code, name, start_on, end_on, created_at,"
                    " updated_at, version) VALUES (999, 'X', 'x', '2026-01-01', '2026-06-01',"
                    " '2026-01-01', '2026-01-01', 1)"
                )
            )


def test_writers_that_read_first_take_turns_on_either_database(fresh_db) -> None:
    """Each writer reads a number, pauses, and writes it one up. On SQLite BEGIN IMMEDIATE, on
    PostgreSQL the chain head each write transaction begins by locking, makes the second writer
    wait its turn: none fails ("database is locked", or a version that moved), none is lost."""
    with fresh_db.unit_of_work() as session:
        programme_id = make_programme(session, code="SHARED", min_meetings_per_month=0).id

    def bump() -> None:
        with fresh_db.unit_of_work() as session:
            row = session.get(Programme, programme_id)
            assert row is not None
            threading.Event().wait(0.05)
            row.min_meetings_per_month = (row.min_meetings_per_month or 0) + 1

    assert at_once(bump, bump, bump, bump) == [None] * 4  # none failed
    with fresh_db.unit_of_work(write=False) as session:
        count = session.scalar(
            select(Programme.min_meetings_per_month).where(Programme.id == programme_id)
        )
    assert count == 4  # no lost update either


def test_a_reader_never_waits_for_a_writer(fresh_db) -> None:
    with fresh_db.unit_of_work() as session:
        programme_id = make_programme(session, code="READ", min_meetings_per_month=1).id
    holding, release = threading.Event(), threading.Event()

    def write() -> None:
        with fresh_db.unit_of_work() as session:
            row = session.get(Programme, programme_id)
            assert row is not None
            row.min_meetings_per_month = 2
            session.flush()
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=write)
    writer.start()
    assert holding.wait(10)
    with fresh_db.unit_of_work(write=False) as session:
        # Answered while the writer still holds its turn, with what was committed before it.
        seen = session.scalar(
            select(Programme.min_meetings_per_month).where(Programme.id == programme_id)
        )
    still_holding = not release.is_set()
    release.set()
    writer.join()
    assert (seen, still_holding) == (1, True)


class TestUrls:
    def test_a_plain_postgresql_url_uses_psycopg_3(self) -> None:
        assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")

    def test_other_urls_are_kept(self) -> None:
        assert normalise_url("sqlite:///./qms.db") == "sqlite:///./qms.db"
