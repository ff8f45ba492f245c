"""A service kept busy by writers while an auditor reads: the data, the processes, the timing.

Used by tests/test_access_log.py and bench/bench_read_during_write.py. The service runs in
uvicorn; the import and the register each run as a `qms` command in a process of its own, at a
lower CPU priority, so that what a read's time shows is waiting for the writers (their locks),
not the sharing of the machine's cores with them.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qms.accounts import service as accounts
from qms.db import Database
from qms.deviations.models import Deviation
from qms.evaluations import service as evaluations
from qms.evaluations.schemas import InstrumentCreate
from qms.participants.models import Participant, ParticipantPersonal
from qms.permissions import Actor, Role
from qms.programmes import service as programmes
from qms.programmes.schemas import CohortCreate, ProgrammeCreate

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = Actor(user_id=None, name="busy-setup", role=Role.admin)
# The auditor's read: the second page's worth of a filtered deviation list.
READ = "/api/v1/deviations?limit=50&severity=major"
QUESTIONS = 10
# Each reader's read is due this often (seconds): the readers together ask for a tenth of what
# the service answers idle, so that a machine slowed by the writers' work still keeps up and
# only waiting piles the reads up.
EVERY = 0.4
# Reads made first, not timed: the service's first answers warm its caches.
WARM = 5
# Readers at once: enough reads in a few seconds for a 99th percentile not made by one.
READERS = 4


def mentees_and_survey(
    session: Session, cohort_id: int, people: int, questions: int = QUESTIONS
) -> None:
    """Mentees P-000000 … in the cohort (inserted at once, for speed) and a survey BIG of
    `questions` 1-5 scale questions Q0 …: what a large import of answers names."""
    session.execute(
        insert(Participant),
        [
            {
                "code": f"P-{n:06d}",
                "cohort_id": cohort_id,
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
    evaluations.create_instrument(
        session,
        actor=OPERATOR,
        data=InstrumentCreate.model_validate(
            {
                "code": "BIG",
                "name": "Big",
                "respondent": "mentee",
                "questions": [
                    {"code": f"Q{q}", "text": "t", "type": "scale", "scale_min": 1, "scale_max": 5}
                    for q in range(questions)
                ],
            }
        ),
    )


def prepare(database: Database, folder: Path, *, answers: int, deviations: int) -> tuple[Path, str]:
    """Deviations for the register, participants and a survey for the import, the file of
    `answers` rows to import (people x 10 questions x days), and an auditor's token."""
    days = 40
    people = max(1, answers // (QUESTIONS * days))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.unit_of_work() as session:
        programme = programmes.create_programme(
            session,
            actor=OPERATOR,
            data=ProgrammeCreate.model_validate(
                {"code": "BUSY", "name": "Busy programme", "organiser": "o"}
            ),
        )
        cohort = programmes.create_cohort(
            session,
            actor=OPERATOR,
            programme_id=programme.id,
            data=CohortCreate.model_validate(
                {"code": "2025", "name": "2025", "start_on": "2025-01-01", "end_on": "2025-12-31"}
            ),
        )
        mentees_and_survey(session, cohort.id, people)
        for first in range(1, deviations + 1, 10_000):
            session.execute(
                insert(Deviation),
                [
                    {
                        "number": f"DEV-2026-{n:06d}",
                        "year": 2026,
                        "seq": n,
                        "kind": "nonconformity",
                        "source": "self_reported",
                        "severity": ("minor", "major", "critical")[n % 3],
                        "status": "open",
                        "title": f"Finding {n}",
                        "description": "Meetings below the programme rule.",
                        "detected_at": now - timedelta(minutes=n),
                        "detected_by": "busy-setup",
                        "due_on": date(2026, 3, 1),
                        "reported_by": "busy-setup",
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for n in range(first, min(first + 10_000, deviations + 1))
                ],
            )
        accounts.create_user(session, actor=OPERATOR, name="busy-auditor", role=Role.auditor)
        token = accounts.create_token(session, actor=OPERATOR, user_name="busy-auditor").secret
    path = folder / "answers.csv"
    with path.open("w") as handle:
        handle.write("participant,instrument,question,answer,submitted_at\n")
        for d in range(days):
            day = date(2025, 3, 1 + d % 28).replace(month=3 + d // 28).isoformat()
            for p in range(people):
                for q in range(QUESTIONS):
                    handle.write(f"P-{p:06d},BIG,Q{q},{(p + q + d) % 5 + 1},{day}\n")
    return path, token


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start the service in uvicorn (one worker) on loopback over the database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        env={**os.environ, "QMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/healthz", timeout=2)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("uvicorn did not start")


def _lower_priority() -> None:
    os.nice(10)


def command(url: str, *args: str) -> subprocess.Popen[bytes]:
    """Start `qms ARGS` on the database in a process of its own, at a lower CPU priority."""
    return subprocess.Popen(
        [sys.executable, "-c", "from qms.cli import app; app()", *args],
        env={**os.environ, "QMS_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_lower_priority,
    )


def p99(times: list[float]) -> float:
    """Return the 99th percentile of the times."""
    return statistics.quantiles(times, n=100, method="inclusive")[98]


def _reader(
    client: httpx.Client,
    token: str,
    count: int | None,
    until: Callable[[], bool] | None,
    every: float,
    start: float,
) -> list[float]:
    times: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    due = start
    while (count is not None and len(times) < count) or (until is not None and not until()):
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        response = client.get(READ, headers=headers)
        times.append(time.perf_counter() - due)
        if response.status_code != 200:
            raise AssertionError(f"{response.status_code}: {response.text[:500]}")
        due += every
    return times


def read_times(
    client: httpx.Client,
    token: str,
    *,
    count: int | None = None,
    until: Callable[[], bool] | None = None,
    every: float = EVERY,
    readers: int = READERS,
) -> list[float]:
    """Time the auditor's read by `readers` readers at once, each reading `count` times or
    until `until()` says stop, one read due every `every` seconds (the readers spread over
    it). A read's time runs from when it was due, not from when the read before let it start:
    a reader held up for two seconds holds up every read due meanwhile, as it would hold up
    people clicking, instead of counting as one slow read."""
    start = time.perf_counter()
    with ThreadPoolExecutor(readers) as pool:
        running = [
            pool.submit(_reader, client, token, count, until, every, start + n * every / readers)
            for n in range(readers)
        ]
        return [t for reader in running for t in reader.result()]


def idle_and_busy(
    url: str,
    path: Path,
    token: str,
    register: Path,
    *,
    idle_reads: int = 60,  # each reader
) -> tuple[list[float], list[float], float]:
    """Time the read on the idle service, then while the file is imported and the deviation
    register issued, then idle again; return the idle times (before and after, so that both
    sets see the machine as it was around the writers' time), the busy ones, and the seconds
    the writers took."""
    server, base = serve(url)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            read_times(client, token, count=WARM)
            idle = read_times(client, token, count=idle_reads // 2)
            start = time.perf_counter()
            importing = command(url, "import", "evaluations", str(path))
            issuing = command(url, "docs", "deviation-register", "-o", str(register))
            busy = read_times(
                client,
                token,
                until=lambda: importing.poll() is not None and issuing.poll() is not None,
            )
            took = time.perf_counter() - start
            idle += read_times(client, token, count=idle_reads - idle_reads // 2)
            for process in (importing, issuing):
                _, error = process.communicate()
                if process.returncode != 0:
                    raise AssertionError(error.decode(errors="replace"))
    finally:
        server.terminate()
        server.wait(timeout=60)
    return idle, busy, took
