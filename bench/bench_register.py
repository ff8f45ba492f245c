"""The deviation register document against a bare python-docx table of the same cells.

Builds N deviations (inserted directly, for speed of setup), issues the register through the
service (query, house style, repeated header row, rows that do not split, the bytes kept), and
times a baseline that writes a bare python-docx table of the same cells in the same run. Run it
at 1,000 and 10,000 to see how it scales. Prints the ratio (register / baseline) last.

Usage: python bench/bench_register.py [--deviations 10000]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from bench_api import build  # the same 100,000-deviation builder, used at other sizes
from docx import Document

from qms import migrate
from qms.db import Database, make_engine
from qms.deviations.repository import DeviationFilter
from qms.documents import service
from qms.permissions import Actor, Role

ADMIN = Actor(user_id=None, name="bench", role=Role.admin)


def baseline(rows: list[list[str]]) -> float:
    start = time.perf_counter()
    doc = Document()
    table = doc.add_table(rows=1, cols=len(rows[0]))
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    doc.save(io.BytesIO())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deviations", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        build(database, args.deviations)
        start = time.perf_counter()
        with database.unit_of_work() as session:
            issued = service.issue(
                session, actor=ADMIN, kind="deviation-register", filters=DeviationFilter()
            )
        ours = time.perf_counter() - start
        doc = Document(io.BytesIO(issued.content))
        cells = [[c.text for c in row.cells] for row in doc.tables[0].rows[1:]]
        database.dispose()
    base = baseline(cells)
    print(f"deviations: {args.deviations:,}; document {len(issued.content):,} bytes")
    print(f"bare python-docx table of the same cells: {base:.2f} s")
    print(f"register issued (query, house style, kept): {ours:.2f} s")
    print(f"ratio register/baseline: {ours / base:.2f} (within 2 wanted)")


if __name__ == "__main__":
    main()
