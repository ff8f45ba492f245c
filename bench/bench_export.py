"""Taking the deviation register out as CSV and XLSX holds one page of rows, not all of them.

Builds a SQLite database with N deviations (inserted directly, as bench_api.py does) and, in a
process of its own for each size, exports it through GET /api/v1/deviations?format=... with Python's
allocations traced (tracemalloc) during the export alone. Prints the peak of each
export for a tenth of the rows and for all of them, and their ratio last: flat memory gives a
ratio near 1 (a list held whole would give 10).

Usage: python bench/bench_export.py [--deviations 100000] [--format csv]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def child(url: str, token: str, fmt: str) -> None:
    """Export once in this process; print the peak memory growth and the size of the file."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from qms.db import Database, make_engine

    database = Database(make_engine(url))
    client = TestClient(create_app(database))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/deviations?limit=1", headers=headers).status_code == 200  # warm
    tracemalloc.start()
    start = time.perf_counter()
    size = 0
    with client.stream("GET", f"/api/v1/deviations?format={fmt}", headers=headers) as response:
        assert response.status_code == 200
        for piece in response.iter_bytes():
            size += len(piece)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"peak_kib": peak // 1024, "bytes": size, "seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deviations", type=int, default=100_000)
    parser.add_argument("--format", default="csv", choices=("csv", "xlsx", "json"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.format)
        return
    from bench.bench_api import build
    from qms import migrate
    from qms.db import Database, make_engine

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in (args.deviations // 10, args.deviations):
            url = f"sqlite:///{Path(folder) / f'export-{count}.db'}"
            migrate.upgrade(url)
            database = Database(make_engine(url))
            token = build(database, count)
            database.dispose()
            done = subprocess.run(
                [
                    *(sys.executable, "-m", "bench.bench_export"),
                    *("--format", args.format, "--child", url, token),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[count] = json.loads(done.stdout.strip().splitlines()[-1])
    for count, result in results.items():
        print(
            f"{count:>7} deviations as {args.format}: {result['bytes'] / 1e6:6.1f} MB in "
            f"{result['seconds']:5.1f} s, Python's peak memory {result['peak_kib'] / 1024:6.1f} MiB"
        )
    small, large = (max(results[c]["peak_kib"], 1024) for c in results)
    print(
        f"ratio peak memory {args.deviations} / {args.deviations // 10} rows: {large / small:.2f}"
    )


if __name__ == "__main__":
    main()
