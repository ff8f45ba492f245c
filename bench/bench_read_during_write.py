"""An auditor's reads while a million answers are imported and a 10,000-row register is issued.

On SQLite and on PostgreSQL, in one run each: the service in uvicorn (one worker) over a fresh
database; the auditor's read (a page of 50 filtered deviations) timed on the idle service, then
while `qms import evaluations` writes the answers and `qms docs deviation-register` issues the
register (each a process of its own, at a lower CPU priority), then idle again. Prints the p50
and p99 of each and the p99 ratio busy/idle (issue #24 wants it within 3).

Usage: python bench/bench_read_during_write.py [--answers 1000000] [--deviations 10000]
           [--postgresql postgresql://postgres@127.0.0.1:5432/test] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qms import migrate  # noqa: E402
from qms.db import Database, make_engine, normalise_url  # noqa: E402
from tests import busy  # noqa: E402


def run(url: str, folder: Path, answers: int, deviations: int) -> None:
    migrate.upgrade(url)
    database = Database(make_engine(url))
    path, token = busy.prepare(database, folder, answers=answers, deviations=deviations)
    database.dispose()
    idle, during, took = busy.idle_and_busy(url, path, token, folder / "register.docx")
    name = make_url(url).get_backend_name()
    ms = 1000
    print(
        f"{name}: {answers:,} answers imported and a {deviations:,}-row register issued "
        f"in {took:.1f} s"
    )
    print(
        f"  idle: {len(idle)} reads, p50 {statistics.median(idle) * ms:.0f} ms, "
        f"p99 {busy.p99(idle) * ms:.0f} ms"
    )
    print(
        f"  busy: {len(during)} reads, p50 {statistics.median(during) * ms:.0f} ms, "
        f"p99 {busy.p99(during) * ms:.0f} ms, max {max(during) * ms:.0f} ms"
    )
    print(f"  p99 ratio busy/idle: {busy.p99(during) / busy.p99(idle):.2f} (within 3 wanted)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--deviations", type=int, default=10_000)
    parser.add_argument("--postgresql", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            run(
                f"sqlite:///{Path(folder) / 'bench.db'}",
                Path(folder),
                args.answers,
                args.deviations,
            )
    if args.only != "sqlite":
        server = make_url(normalise_url(args.postgresql))
        name = f"qms_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        try:
            with tempfile.TemporaryDirectory() as folder:
                url = server.set(database=name).render_as_string(hide_password=False)
                run(url, Path(folder), args.answers, args.deviations)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
