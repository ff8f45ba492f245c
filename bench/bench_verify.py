"""`qms audit verify` over a long chain, against reading the same rows and hashing them.

Builds a chain of N events (computed as record_event computes them, inserted in bulk for speed of
setup), then times audit.verify (re-serialise each event canonically, re-hash, check the links and
the head) against a baseline that reads the same rows and feeds each row's text to SHA-256. The
target: within 3x. Prints events/s for both and the ratio (verify / baseline) last.

Usage: python bench/bench_verify.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from qms import migrate
from qms.audit import service as audit
from qms.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from qms.db import Database, make_engine


def build(database: Database, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    previous = GENESIS_HASH
    with database.unit_of_work() as session:
        rows = []
        for seq in range(1, count + 1):
            event = AuditEvent(
                seq=seq,
                at=start + timedelta(seconds=seq),
                actor_id=1,
                actor="bench",
                action="programme.updated",
                entity="programme",
                entity_id=str(seq % 50),
                programme_id=1,
                changes={"objectives": {"old": seq - 1, "new": seq}},
                reason=None,
                prev_hash=previous,
            )
            event.hash = audit.compute_hash(previous, audit.event_payload(event))
            previous = event.hash
            rows.append({c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns})
            if len(rows) == 20_000:
                session.execute(insert(AuditEvent), rows)
                rows = []
        if rows:
            session.execute(insert(AuditEvent), rows)
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(count=count, last_hash=previous)
        )


def baseline(database: Database) -> float:
    start = time.perf_counter()
    digest = hashlib.sha256()
    with database.engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).yield_per(2000)
        for row in rows:
            digest.update(repr(tuple(row)).encode())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        build(database, args.events)
        base = baseline(database)
        start = time.perf_counter()
        with database.unit_of_work(write=False) as session:
            result = audit.verify(session)
        ours = time.perf_counter() - start
        database.dispose()
    assert result.ok, result.problem
    print(f"events: {args.events:,}")
    print(f"baseline (read the rows, SHA-256 each): {args.events / base:,.0f} events/s")
    print(f"qms audit verify: {args.events / ours:,.0f} events/s")
    print(f"ratio verify/baseline: {ours / base:.2f} (within 3 wanted)")


if __name__ == "__main__":
    main()
