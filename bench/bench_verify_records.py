"""`qms audit verify --records` against plain `qms audit verify`, in the same run, on the same data.

Builds the demo data, then (with --deviations N) N more deviations through the service, each
logged, retitled and moved to investigating (three events a record), so the replay has records of
every kind and many of one. Times the chain's walk (audit.verify) and the records' replay
(replay.check) over the same database, and measures the replay's peak memory (tracemalloc) in a
second pass, so a replay that held every record at once would show. Prints the ratio
(replay / chain walk) last.

Usage: python bench/bench_verify_records.py [--deviations 20000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from qms import migrate, replay
from qms.audit import service as audit
from qms.db import Database, make_engine
from qms.demo import load
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationCreate, DeviationTransition, DeviationUpdate
from qms.permissions import Actor, Role

ADMIN = Actor(user_id=None, name="bench-admin", role=Role.admin)
LEAD = Actor(user_id=None, name="bench-lead", role=Role.quality_lead)


def build(database: Database, count: int) -> None:
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
    for start in range(0, count, 1000):
        with database.unit_of_work() as session:
            for n in range(start, min(start + 1000, count)):
                made = deviations.create(
                    session,
                    actor=LEAD,
                    data=DeviationCreate(
                        kind="observation",
                        source="self_reported",
                        severity="minor",
                        title=f"Observation {n}",
                        description="Seen at a meeting.",
                    ),
                )
                deviations.update(
                    session,
                    actor=LEAD,
                    deviation_id=made.id,
                    data=DeviationUpdate(title=f"Observation {n}, retitled"),
                    if_match=made.version,
                )
                deviations.transition(
                    session,
                    actor=LEAD,
                    deviation_id=made.id,
                    data=DeviationTransition(to="investigating"),
                    if_match=made.version,
                )


def timed(database: Database) -> tuple[float, float, audit.VerifyResult, replay.RecordsResult]:
    start = time.perf_counter()
    with database.unit_of_work(write=False) as session:
        chain = audit.verify(session)
    walked = time.perf_counter() - start
    start = time.perf_counter()
    with database.unit_of_work(write=False) as session:
        records = replay.check(session)
    replayed = time.perf_counter() - start
    return walked, replayed, chain, records


def peak_memory(database: Database) -> int:
    tracemalloc.start()
    with database.unit_of_work(write=False) as session:
        replay.check(session)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deviations", type=int, default=20_000)
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        started = time.perf_counter()
        build(database, args.deviations)
        print(f"built in {time.perf_counter() - started:.1f} s")
        walked, replayed, chain, records = timed(database)
        peak = peak_memory(database)
        database.dispose()
    assert chain.ok, chain.problem
    assert records.ok, [f.message("en") for f in records.first_findings[:5]]
    print(f"{url.split(':')[0]}: {chain.count:,} events, {records.records:,} records")
    print(f"qms audit verify (the chain): {walked:.2f} s, {chain.count / walked:,.0f} events/s")
    print(
        f"qms audit verify --records (the replay alone): {replayed:.2f} s, "
        f"{records.records / replayed:,.0f} records/s, {records.fields_compared:,} values compared"
    )
    print(f"replay's peak memory (tracemalloc): {peak / 1e6:.1f} MB")
    print(f"ratio replay/chain walk: {replayed / walked:.2f}")


if __name__ == "__main__":
    main()
