"""What the charts cost the programme quality report: generated with its charts against without.

Builds the demo data set in a scratch SQLite database and generates the quality report of its
first programme (indicators planned against actual in two charts, the meeting rule and the
outcomes at close: four pictures at 200 dpi) round after round, taking turns: without charts
(`qms.charts.drawn(False)`: the same report with its tables and no picture), with charts each
drawn afresh (the drawings kept from the round before forgotten first), and with charts as
kept (a report made again over unchanged records, or in another language's turn, draws nothing
it has drawn). Prints the median of each by wall clock and by this process's CPU time, and the
ratios against the report without charts last (at most 1.2 wanted).

Usage: python bench/bench_charts.py [--rounds 7] [--language nb]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--language", default="en", choices=("en", "nb", "sv"))
    args = parser.parse_args()

    from qms import charts, migrate
    from qms.charts import draw
    from qms.db import Database, make_engine
    from qms.demo import load
    from qms.documents import reports
    from qms.permissions import Actor, Role

    operator = Actor(user_id=None, name="cli:bench", role=Role.admin)
    as_of = datetime(2026, 11, 1, 12, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'charts.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        with database.unit_of_work() as session:
            load(session, operator=operator)

        def report(drawn: bool) -> tuple[float, float, int]:
            with database.unit_of_work(write=False) as session, charts.drawn(drawn):
                wall, cpu = time.perf_counter(), time.process_time()
                made = reports.quality_report(session, operator, as_of, args.language, 1)
                return time.perf_counter() - wall, time.process_time() - cpu, len(made.content)

        # matplotlib imported, its fonts found, the database's pages read once before timing.
        report(True)
        report(False)
        times: dict[str, list[tuple[float, float, int]]] = {"none": [], "fresh": [], "kept": []}
        for _ in range(args.rounds):
            times["none"].append(report(False))
            draw.png.cache_clear()
            times["fresh"].append(report(True))
            times["kept"].append(report(True))
        database.dispose()

    def median(kind: str, n: int) -> float:
        return statistics.median(t[n] for t in times[kind])

    for kind, said in (
        ("none", "without charts"),
        ("fresh", "with charts drawn afresh"),
        ("kept", "with charts as kept"),
    ):
        print(
            f"{said:>26}: {1000 * median(kind, 0):8.1f} ms wall, "
            f"{1000 * median(kind, 1):8.1f} ms CPU, {median(kind, 2) / 1024:7.0f} KiB"
        )
    for kind in ("fresh", "kept"):
        print(
            f"ratio {kind} / none: wall {median(kind, 0) / median('none', 0):.2f}, "
            f"CPU {median(kind, 1) / median('none', 1):.2f}"
        )


if __name__ == "__main__":
    main()
