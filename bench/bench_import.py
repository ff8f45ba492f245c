"""Import speed and memory, against a baseline measured in the same run.

The baseline reads the same CSV file with the csv module and inserts the rows with sqlite3
executemany into the same table (same indexes, foreign keys on) of a twin database — it looks up
the codes it must turn into ids, and checks nothing. The import checks every row
(participant, question, scale, duplicates) before anything is written; the good rows wait in a
spool file on disk, not in memory.

With --database-url (a PostgreSQL server), the same on PostgreSQL: the baseline reads the file
with the csv module and COPYs the rows through psycopg into the same table of a twin database.

Usage: python bench/bench_import.py [--rows 100000] [--database-url postgresql://…/test]
(--rows 1000000 for the memory figure). Prints rows/s for both, the peak memory, and the ratio
(import / baseline) in this process's CPU time and, last, in time on the clock.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from qms import migrate
from qms.db import Database, make_engine, normalise_url
from qms.evaluations import service
from qms.evaluations.models import BatchKind
from qms.evaluations.readers import ImportFile
from qms.evaluations.schemas import InstrumentCreate
from qms.participants.models import Participant, ParticipantPersonal
from qms.permissions import Actor, Role
from qms.programmes.schemas import CohortCreate, ProgrammeCreate
from qms.programmes.service import create_cohort, create_programme

ACTOR = Actor(user_id=None, name="bench", role=Role.admin)
QUESTIONS = 10


def build(database: Database, people: int) -> None:
    with database.unit_of_work() as session:
        programme = create_programme(
            session, actor=ACTOR, data=ProgrammeCreate(code="BENCH", name="b", organiser="b")
        )
        cohort = create_cohort(
            session,
            actor=ACTOR,
            programme_id=programme.id,
            data=CohortCreate(
                code="C", name="c", start_on=date(2025, 1, 6), end_on=date(2025, 12, 19)
            ),
        )
        # Participants straight into the tables: the benchmark is about the import.
        session.execute(
            insert(Participant),
            [
                {
                    "code": f"P-{n:06d}",
                    "cohort_id": cohort.id,
                    "role": "mentee",
                    "field": "f",
                    "competence_needs": "",
                    "career_goals": "",
                    "training_modules": [],
                    "version": 1,
                }
                for n in range(people)
            ],
        )
        ids = session.scalars(select(Participant.id)).all()
        session.execute(insert(ParticipantPersonal), [{"participant_id": i} for i in ids])
        service.create_instrument(
            session,
            actor=ACTOR,
            data=InstrumentCreate.model_validate(
                {
                    "code": "FINAL",
                    "name": "Final",
                    "respondent": "mentee",
                    "questions": [
                        {
                            "code": f"Q{q}",
                            "text": "t",
                            "type": "scale",
                            "scale_min": 1,
                            "scale_max": 5,
                        }
                        for q in range(QUESTIONS)
                    ],
                }
            ),
        )


def write_csv(path: Path, rows: int, people: int) -> None:
    days = max(1, rows // (people * QUESTIONS))
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["participant", "instrument", "question", "answer", "submitted_at"])
        written = 0
        for d in range(days + 1):
            day = (date(2025, 6, 1) + timedelta(days=d)).isoformat()
            for p in range(people):
                for q in range(QUESTIONS):
                    if written == rows:
                        return
                    out.writerow([f"P-{p:06d}", "FINAL", f"Q{q}", (p + q + d) % 5 + 1, day])
                    written += 1


def baseline(path: Path, db_file: Path) -> float:
    """Read the file with the csv module and insert its rows with sqlite3 executemany.

    Into the same table, with the same indexes and foreign keys, of a twin database: only the
    codes are looked up (they must become ids), nothing is checked.
    """
    db = sqlite3.connect(db_file)
    db.execute("PRAGMA foreign_keys=ON")
    people = dict(db.execute("SELECT code, id FROM participant"))
    questions = dict(db.execute("SELECT code, id FROM question"))
    batch_id = db.execute(
        "INSERT INTO evaluation_batch (kind, sha256, file_name, size_bytes, file_format, shape,"
        " mode, rows_total, rows_written, rows_rejected, rejected, importer, started_at,"
        " finished_at) VALUES ('evaluations', 'x', 'f', 0, 'csv', 'long', 'all', 0, 0, 0, '[]',"
        " 'b', '2025-01-01', '2025-01-01')"
    ).lastrowid
    sql = (
        "INSERT INTO evaluation_response (batch_id, participant_id, question_id, value_number,"
        " value_text, submitted_on) VALUES (?, ?, ?, ?, NULL, ?)"
    )
    start = time.perf_counter()
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for code, _instrument, question, answer, day in reader:
            batch.append((batch_id, people[code], questions[question], float(answer), day))
            if len(batch) == 5000:
                db.executemany(sql, batch)
                batch = []
        if batch:
            db.executemany(sql, batch)
    db.commit()
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def copy_baseline(path: Path, url: str) -> float:
    """Read the file with the csv module and COPY its rows through psycopg into the same table.

    Of a twin database on the same server: only the codes are looked up, nothing is checked.
    """
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        people: dict[str, int] = dict(db.execute("SELECT code, id FROM participant").fetchall())
        questions: dict[str, int] = dict(db.execute("SELECT code, id FROM question").fetchall())
        row = db.execute(
            "INSERT INTO evaluation_batch (kind, sha256, file_name, size_bytes, file_format, shape,"
            " mode, rows_total, rows_written, rows_rejected, rejected, importer, started_at,"
            " finished_at) VALUES ('evaluations', 'x', 'f', 0, 'csv', 'long', 'all', 0, 0, 0,"
            " '[]', 'b', now(), now()) RETURNING id"
        ).fetchone()
        assert row is not None
        batch_id = row[0]
        start = time.perf_counter()
        with path.open(newline="") as handle, db.cursor() as cursor:
            reader = csv.reader(handle)
            next(reader)
            with cursor.copy(
                "COPY evaluation_response (batch_id, participant_id, question_id, value_number,"
                " submitted_on) FROM STDIN"
            ) as copy:
                for code, _instrument, question, answer, day in reader:
                    copy.write_row((batch_id, people[code], questions[question], answer, day))
        db.commit()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server's database to make two scratch databases beside (e.g. "
        "postgresql://postgres@127.0.0.1/test): the baseline is then a COPY through psycopg",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "answers.csv"
        write_csv(data, args.rows, args.people)
        if args.database_url:
            server = create_engine(normalise_url(args.database_url), isolation_level="AUTOCOMMIT")
            name = f"qms_bench_{os.getpid()}"
            url = make_url(normalise_url(args.database_url)).set(database=name)
            twin_url = url.set(database=f"{name}_twin")
            with server.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
        else:
            url = make_url(f"sqlite:///{folder / 'qms.db'}")
        plain = url.render_as_string(hide_password=False)
        try:
            migrate.upgrade(plain)
            database = Database(make_engine(plain))
            build(database, args.people)
            database.dispose()
            cpu = time.process_time()
            if args.database_url:
                with server.connect() as conn:
                    conn.execute(text(f"CREATE DATABASE {twin_url.database} TEMPLATE {name}"))
                base = copy_baseline(data, twin_url.render_as_string(hide_password=False))
                what = "csv + COPY through psycopg"
            else:
                shutil.copyfile(folder / "qms.db", folder / "twin.db")
                base = baseline(data, folder / "twin.db")
                what = "csv + sqlite3 executemany"
            base_cpu = time.process_time() - cpu
            size = data.stat().st_size
            # The CSV reader's dialect library is imported on a process's first CSV import (a
            # server's, once): imported here, so that what is timed is the import itself.
            import clevercsv  # noqa: F401

            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start, cpu = time.perf_counter(), time.process_time()
            with database.unit_of_work() as session:
                batch = service.run_import(
                    session,
                    actor=ACTOR,
                    kind=BatchKind.evaluations,
                    source=ImportFile(data, data.name, "csv"),
                )
            ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            database.dispose()
        finally:
            if args.database_url:
                with server.connect() as conn:
                    for scratch in (name, twin_url.database):
                        conn.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
                server.dispose()
    assert batch.rows_written == args.rows, batch
    print(f"rows: {args.rows}; file {size:,} bytes; {url.get_backend_name()}")
    print(f"baseline ({what}, same table): {args.rows / base:,.0f} rows/s")
    print(
        "import (every row checked, then written in one transaction): "
        f"{args.rows / ours:,.0f} rows/s"
    )
    print(
        f"peak resident memory: {peak / 1024:.0f} MB (was {before / 1024:.0f} MB before the import)"
    )
    # This process's CPU time alone (the database server's is not in it): steadier than the
    # clock on a shared machine, and the clock's ratio last.
    print(f"ratio import/baseline in this process's CPU time: {ours_cpu / base_cpu:.2f}")
    print(f"ratio import/baseline: {ours / base:.2f}")


if __name__ == "__main__":
    main()
