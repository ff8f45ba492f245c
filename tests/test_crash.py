"""Crash safety: an import killed in the middle leaves nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date

from sqlalchemy import func, insert, select

from qms.audit import service as audit
from qms.evaluations import service as evaluations
from qms.evaluations.models import EvaluationBatch, EvaluationResponse
from qms.evaluations.schemas import InstrumentCreate
from qms.participants.models import Participant, ParticipantPersonal
from tests.factories import ADMIN, make_cohort, make_programme

PEOPLE, QUESTIONS, DAYS = 500, 10, 40  # 200,000 answers


def _prepare(database, folder):
    with database.unit_of_work() as session:
        cohort = make_cohort(session, make_programme(session))
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
                for n in range(PEOPLE)
            ],
        )
        ids = session.scalars(select(Participant.id)).all()
        session.execute(insert(ParticipantPersonal), [{"participant_id": i} for i in ids])
        evaluations.create_instrument(
            session,
            actor=ADMIN,
            data=InstrumentCreate.model_validate(
                {
                    "code": "BIG",
                    "name": "Big",
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
    path = folder / "big.csv"
    with path.open("w") as handle:
        handle.write("participant,instrument,question,answer,submitted_at\n")
        for d in range(DAYS):
            day = date(2025, 3, 1 + d % 28).replace(month=3 + d // 28).isoformat()
            for p in range(PEOPLE):
                for q in range(QUESTIONS):
                    handle.write(f"P-{p:06d},BIG,Q{q},{(p + q + d) % 5 + 1},{day}\n")
    return path


def _import(url: str, path) -> subprocess.Popen[bytes]:
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


def _state(database):
    with database.unit_of_work(write=False) as session:
        batches = session.scalar(select(func.count()).select_from(EvaluationBatch))
        answers = session.scalar(select(func.count()).select_from(EvaluationResponse))
        return batches, answers, audit.verify(session)


def test_a_killed_import_leaves_nothing_and_runs_again_once(fresh_db, tmp_path) -> None:
    path = _prepare(fresh_db, tmp_path)
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    fresh_db.dispose()
    process = _import(url, path)
    assert process.stderr is not None
    # Wait until the child is well into the file, then kill it without warning.
    for line in process.stderr:
        if b"checked 100,000 rows" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    batches, answers, chain = _state(fresh_db)
    assert (batches, answers) == (0, 0)
    assert chain.ok, chain.problem
    again = _import(url, path)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()
    batches, answers, chain = _state(fresh_db)
    assert (batches, answers) == (1, PEOPLE * QUESTIONS * DAYS)
    assert chain.ok, chain.problem
