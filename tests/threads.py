"""Work done by several people at the same moment, for the tests that show they are kept apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from qms.db import Database


def at_once(*work: Callable[[], Any]) -> list[Any]:
    """Run each piece of work in its own thread, all released together; return what each gave,
    in order. An exception a piece raised is returned in its place."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int, piece: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = piece()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class _HeldBeforeCommit(Database):
    """The same database, whose first unit of work that writes, its work done, holds its
    transaction open (and every lock it took) until `hold` returns; then it commits."""

    def __init__(self, database: Database, hold: Callable[[], None]) -> None:
        self.engine = database.engine
        self.read_sessions = database.read_sessions
        self.write_sessions = database.write_sessions
        self._hold: Callable[[], None] | None = hold

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        with super().unit_of_work(write=write) as session:
            yield session
            if write and self._hold is not None:
                hold, self._hold = self._hold, None
                session.flush()
                hold()


def _someone_waits_for_a_lock(database: Database) -> bool:
    """Whether another connection to the database is waiting for a lock (PostgreSQL only)."""
    with database.engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        )
    return bool(waiting)


def while_one_holds(
    database: Database,
    first: Callable[[Database], Any],
    second: Callable[[Database], Any],
    *,
    timeout: float = 10.0,
) -> list[Any]:
    """Run `first` until its unit of work has done its work — read what it decides on, written,
    locks held — but not committed; then run `second`, and let the first commit only once the
    second is stuck waiting for a lock. Return what each gave (an exception in its place).

    Each piece is given the database to work on (`first` the one that holds). Writers that take
    turns make the second wait at its start, so it decides on what the first committed; without
    turns the second reads past the first's uncommitted work and decides on what was there
    before. On PostgreSQL the wait is seen in pg_stat_activity, so the outcome does not depend on
    timing; on SQLite a waiting writer cannot be seen, so the second is given a moment instead.
    """
    holding, second_done = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        if database.engine.dialect.name != "postgresql":
            second_done.wait(0.5)
            return
        deadline = time.monotonic() + timeout
        while not second_done.is_set() and time.monotonic() < deadline:
            if _someone_waits_for_a_lock(database):
                return
            time.sleep(0.02)

    held = _HeldBeforeCommit(database, hold)
    results: list[Any] = [None, None]

    def run(index: int, piece: Callable[[Database], Any], on: Database) -> None:
        try:
            results[index] = piece(on)
        except Exception as exc:
            results[index] = exc
        finally:
            if index == 0:
                holding.set()  # the first failed before it held: let the second run anyway
            else:
                second_done.set()

    def run_second() -> None:
        holding.wait()
        run(1, second, database)

    threads = [
        threading.Thread(target=run, args=(0, first, held)),
        threading.Thread(target=run_second),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
