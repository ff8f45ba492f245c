"""How much the hash-chained audit trail costs, against baselines measured in the same run.

1. Appending: N audited programme changes (change + event + chain head, one transaction each)
   against the same N changes written without the event.
2. Verifying: walking N events and recomputing every hash, against reading the same N rows.
3. With --signed, also: the audited changes again with every event signed (an Ed25519
   checkpoint in the database and the transaction's newest appended to a file outside it),
   against the audited changes without signing; and verifying those signatures too.

Usage: python bench/bench_audit.py [--events N] [--database-url URL] [--signed]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from qms import migrate
from qms.audit import checkpoints
from qms.audit import service as audit
from qms.audit.models import AuditEvent
from qms.config import get_settings
from qms.db import Database, make_engine
from qms.permissions import Actor, Role
from qms.programmes.models import Programme
from qms.programmes.schemas import ProgrammeCreate
from qms.programmes.service import create_programme

ACTOR = Actor(user_id=None, name="bench", role=Role.admin)


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Return the best of several runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--signed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        with database.unit_of_work() as session:
            programme = create_programme(
                session,
                actor=ACTOR,
                data=ProgrammeCreate(code="BENCH", name="Bench", organiser="Bench"),
            )
            programme_id = programme.id
        n = args.events

        def change(with_audit: bool) -> Callable[[], None]:
            def run() -> None:
                for i in range(n):
                    with database.unit_of_work() as session:
                        row = session.get(Programme, programme_id)
                        assert row is not None
                        row.objectives = f"objective {i}"
                        session.flush()
                        if with_audit:
                            audit.record_event(
                                session,
                                actor=ACTOR,
                                action="programme.updated",
                                entity="programme",
                                entity_id=programme_id,
                                changes={"objectives": {"old": i - 1, "new": i}},
                            )

            return run

        plain = timed(change(False), repeat=1)
        audited = timed(change(True), repeat=1)

        def read_rows() -> None:
            with database.unit_of_work(write=False) as session:
                for _ in session.execute(select(AuditEvent)).scalars():
                    pass

        def verify() -> None:
            with database.unit_of_work(write=False) as session:
                assert audit.verify(session).ok

        read = timed(read_rows)
        walked = timed(verify)
        with database.unit_of_work(write=False) as session:
            events = audit.count_events(session)
        database.dispose()
        print(f"database: {make_engine(url).dialect.name}; {n} changes, {events} events")
        print(
            f"append: audited {audited / n * 1e3:.3f} ms/change vs plain {plain / n * 1e3:.3f}"
            f" ms/change -> ratio {audited / plain:.2f}"
        )
        print(
            f"verify: {walked / events * 1e6:.1f} us/event vs reading rows"
            f" {read / events * 1e6:.1f} us/event -> ratio {walked / read:.2f}"
        )
        if not args.signed:
            return
        os.environ["QMS_SIGNING_KEY_FILE"] = str(Path(folder) / "trail.key")
        os.environ["QMS_CHECKPOINT_FILE"] = str(Path(folder) / "trail.checkpoints")
        get_settings.cache_clear()
        checkpoints.create_key(Path(folder) / "trail.key")
        database = Database(make_engine(url))
        signed = timed(change(True), repeat=1)
        with database.unit_of_work(write=False) as session:
            events = audit.count_events(session)
        checked = timed(verify)
        database.dispose()
        print(
            f"signed append: {signed / n * 1e3:.3f} ms/change vs audited unsigned"
            f" {audited / n * 1e3:.3f} ms/change -> ratio {signed / audited:.2f}"
        )
        # The first half of the trail is unsigned (from before the key), the second signed.
        print(
            f"verify, half the events signed: {checked / events * 1e6:.1f} us/event"
            f" vs none signed {walked / (events / 2) * 1e6:.1f} us/event"
            f" -> ratio {checked / events / (walked / (events / 2)):.2f}"
        )


if __name__ == "__main__":
    main()
