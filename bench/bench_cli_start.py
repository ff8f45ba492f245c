"""How fast a `qms` command starts, against the import of its two libraries.

Times, in new processes taking turns (so that a busy moment of the machine falls on all three),
`python -c "import typer, sqlalchemy"` (the baseline), `qms --help`, and `qms deviations list`
over a small migrated SQLite database with a few deviations, each from compiled bytecode as an
installed package runs (a first, unmeasured run of each writes it). Prints the median of each and
the ratios (command / baseline) last. The target: each within 1.5x. The floor is the least a
typer command printing such a list does (see FLOOR): what `qms deviations list` cannot go under.

Usage: python bench/bench_cli_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qms import migrate
from qms.db import Database, make_engine
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationCreate
from qms.permissions import Actor, Role

# The `qms` script installed beside this Python (what a person runs).
QMS = str(Path(sys.executable).with_name("qms"))
# The least a typer command that prints a list can do: parse two options (typer coerces them
# through pydantic), read the rows with SQLAlchemy Core and print a rich table. Its ratio is the
# floor under `qms deviations list`'s.
FLOOR = """
import os, typer, sqlalchemy as sa
app = typer.Typer()
@app.command()
def main(limit: int = 50, text: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    names = ("id", "number", "status", "title", "due_on")
    d = sa.table("deviation", *(sa.column(c) for c in names))
    with sa.create_engine(os.environ["QMS_DATABASE_URL"]).connect() as connection:
        rows = connection.execute(sa.select(d).order_by(d.c.id.desc()).limit(limit)).all()
    table = Table("Number", "Status", "Title", "Due")
    for row in rows:
        table.add_row(*(str(value) for value in row[1:]))
    Console().print(table)
app()
"""
COMMANDS = {
    "baseline": [sys.executable, "-c", "import typer, sqlalchemy"],
    "typer list floor": [sys.executable, "-c", FLOOR],
    "qms --help": [QMS, "--help"],
    "qms deviations list": [QMS, "deviations", "list"],
}


def prepare(url: str) -> None:
    migrate.upgrade(url)
    database = Database(make_engine(url))
    operator = Actor(user_id=None, name="bench", role=Role.admin)
    with database.unit_of_work() as session:
        for n in range(20):
            deviations.create(
                session,
                actor=operator,
                data=DeviationCreate(
                    kind="nonconformity",
                    source="self_reported",
                    severity="minor",
                    title=f"Pair {n} met once in March",
                    description="Against a rule of two meetings a month.",
                ),
            )
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        prepare(url)
        env = {**os.environ, "QMS_DATABASE_URL": url, "QMS_LANGUAGE": "en", "COLUMNS": "120"}
        # As an installed package runs: from compiled bytecode (pip compiles on install), kept
        # here in a folder of the run's own, for the baseline's modules as for ours; an
        # environment that forbids writing bytecode would compile every module on every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for command in COMMANDS.values():  # once each, unmeasured: the files in the page cache
            subprocess.run(command, env=env, check=True, capture_output=True)
        for _ in range(args.runs):
            for name, command in COMMANDS.items():
                used = _children_cpu()
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(_children_cpu() - used)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:22} median {value * 1000:7.0f} ms of {args.runs} runs")
    base = medians["baseline"]
    print(f"ratio qms --help / baseline: {medians['qms --help'] / base:.2f}")
    print(f"ratio qms deviations list / baseline: {medians['qms deviations list'] / base:.2f}")
    print(f"ratio typer list floor / baseline: {medians['typer list floor'] / base:.2f}")
    # CPU time (user and system) of each process, the least of the runs: steadier than the clock
    # on a machine busy with other work, which stretches the wall time of whichever run it meets.
    least = {name: min(values) for name, values in cpu.items()}
    for name, value in least.items():
        print(f"{name:22} CPU     {value * 1000:7.0f} ms, least of {args.runs} runs")
    base = least["baseline"]
    for name in ("qms --help", "qms deviations list", "typer list floor"):
        print(f"CPU ratio {name} / baseline: {least[name] / base:.2f}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
