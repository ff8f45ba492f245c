"""Crash safety: an import killed in the middle leaves nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from qms.audit import service as audit
from qms.audit.service import VerifyResult
from qms.db import Database
from qms.evaluations.models import EvaluationBatch, EvaluationResponse
from tests.busy import mentees_and_survey
from tests.factories import make_cohort, make_programme

PEOPLE, QUESTIONS, DAYS = 500, 10, 40  # 200,000 answers


def _prepare(database: Database, folder: Path) -> Path:
    with database.unit_of_work() as session:
        cohort = make_cohort(session, make_programme(session))
        mentees_and_survey(session, cohort.id, PEOPLE, QUESTIONS)
    path = folder / "big.csv"
    with path.open("w") as handle:
        handle.write("participant,instrument,question,answer,submitted_at\n")
        for d in range(DAYS):
            day = date(2025, 3, 1 + d % 28).replace(month=3 + d // 28).isoformat()
            for p in range(PEOPLE):
                for q in range(QUESTIONS):
                    handle.write(f"P-{p:06d},BIG,Q{q},{(p + q + d) % 5 + 1},{day}\n")
    return path


def _import(url: str, path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QMS_DATABASE_URL": url}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from qms.cli import app; app()",
            "import",
            "evaluations",
            str(path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _state(database: Database) -> tuple[int, int, VerifyResult]:
    with database.unit_of_work(write=False) as session:
        batches = session.scalar(select(func.count()).select_from(EvaluationBatch)) or 0
        answers = session.scalar(select(func.count()).select_from(EvaluationResponse)) or 0
        return batches, answers, audit.verify(session)


def _bytes_written(database: Database) -> int:
    """Bytes the answers take, committed or not, as another connection can see them.

    The import writes in one transaction, so its rows are not visible until it commits; but the
    space they take is. On PostgreSQL the table's file grows as rows go in. On SQLite the write
    transaction's pages spill from the page cache (2 MiB) into the write-ahead log, and what is
    committed moves on into the database file; the check phase writes neither.
    """
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as conn:
            return conn.scalar(text("SELECT pg_relation_size('evaluation_response')")) or 0
    files = (Path(f"{database.engine.url.database}{suffix}") for suffix in ("", "-wal"))
    return sum(f.stat().st_size for f in files if f.exists())


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"


# About half way through the write: the whole batch takes some 12 MB on PostgreSQL (written in
# about 7 s), 15 MB on SQLite (1.5 s).
WRITTEN_BEFORE_THE_KILL = 7_000_000


@pytest.mark.slow(
    reason="imports 200,000 answers three times (killed while checking, killed half way through "
    "writing, then whole): about 10 s on SQLite, 18-20 s on PostgreSQL, where writing the "
    "answers alone takes some 7 s"
)
def test_a_killed_import_leaves_nothing_and_runs_again_once(
    fresh_db: Database, tmp_path: Path
) -> None:
    """An import of 200,000 answers killed while it checks the rows, then killed half way
    through writing them, keeps no batch, no answer and a whole audit chain; run again, it
    imports the file once.

    Slow on PostgreSQL (18-20 s): the file must be large enough for the kill to land inside
    the write, and the last run writes all of it.
    """
    path = _prepare(fresh_db, tmp_path)
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    fresh_db.dispose()

    # Killed while it checks the rows: nothing is written yet.
    before = _bytes_written(fresh_db)
    process = _import(url, path)
    assert process.stderr is not None
    for line in process.stderr:
        if b"checked 100,000 rows" in line:
            break
    assert _bytes_written(fresh_db) == before, "the check wrote before every row was checked"
    _kill(process)
    assert _state(fresh_db)[:2] == (0, 0)

    # Killed while it writes: a write that committed in pieces would leave some of them behind.
    before = _bytes_written(fresh_db)
    process = _import(url, path)
    deadline = time.monotonic() + 120
    while _bytes_written(fresh_db) - before < WRITTEN_BEFORE_THE_KILL:
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline, "the import never began to write"
        time.sleep(0.005)
    _kill(process)
    batches, answers, chain = _state(fresh_db)
    assert (batches, answers) == (0, 0)
    assert chain.ok, chain.problem

    again = _import(url, path)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()
    batches, answers, chain = _state(fresh_db)
    assert (batches, answers) == (1, PEOPLE * QUESTIONS * DAYS)
    assert chain.ok, chain.problem
