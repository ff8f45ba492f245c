"""Evaluation answers and outcomes read back through the API: paginated, filtered, exported, and
every participant named by their code alone, for an auditor as for anyone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from qms.evaluations.models import (
    EvaluationBatch,
    EvaluationResponse,
    Instrument,
    Outcome,
    Question,
)
from qms.permissions import Role
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token


def _batch(session: Any, kind: str, *, rolled_back: bool = False) -> EvaluationBatch:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    batch = EvaluationBatch(
        kind=kind,
        sha256="0" * 64,
        file_name=f"{kind}.csv",
        size_bytes=100,
        file_format="csv",
        shape="long",
        mode="all",
        rows_total=1,
        rows_written=1,
        rows_rejected=0,
        rejected=[],
        importer="importer",
        started_at=now,
        finished_at=now,
        rolled_back_at=now if rolled_back else None,
    )
    session.add(batch)
    session.flush()
    return batch


@pytest.fixture
def answered(session) -> dict[str, Any]:
    """Two programmes' participants with answers and outcomes, one import rolled back."""
    first, second = make_programme(session), make_programme(session)
    ann = make_participant(session, make_cohort(session, first), personal={"name": "Ann Secret"})
    bo = make_participant(session, make_cohort(session, second), personal={"name": "Bo Hidden"})
    instrument = Instrument(code="EXIT-1", name="Exit survey", respondent="mentee")
    session.add(instrument)
    session.flush()
    scale = Question(instrument_id=instrument.id, code="Q1", text="How useful?", type="scale")
    words = Question(instrument_id=instrument.id, code="Q2", text="What else?", type="text")
    session.add_all([scale, words])
    session.flush()
    kept, undone = _batch(session, "evaluations"), _batch(session, "evaluations", rolled_back=True)
    rows = [
        (kept, ann, scale, 4.0, None, date(2026, 5, 2)),
        (kept, ann, words, None, "=cmd|' /C calc'!A0", date(2026, 5, 2)),
        (kept, bo, scale, 2.0, None, date(2026, 5, 20)),
        (undone, bo, words, None, "from a file taken back", date(2026, 5, 21)),
    ]
    for batch, who, question, number, text, on in rows:
        session.add(
            EvaluationResponse(
                batch_id=batch.id,
                participant_id=who.id,
                question_id=question.id,
                value_number=number,
                value_text=text,
                submitted_on=on,
            )
        )
    outcomes = _batch(session, "outcomes")
    session.add_all(
        [
            Outcome(
                batch_id=outcomes.id,
                participant_id=ann.id,
                outcome="employed_full_time",
                outcome_on=date(2026, 9, 1),
            ),
            Outcome(
                batch_id=None,
                participant_id=bo.id,
                outcome="education",
                outcome_on=date(2026, 8, 1),
            ),
        ]
    )
    session.flush()
    return {"ann": ann.code, "bo": bo.code, "first": first, "scale": scale.id}


def _pages(client: Any, token: str, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=auth(token))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


class TestAnswers:
    def test_an_auditor_reads_every_kept_answer_by_code_page_by_page(
        self, client, session, answered
    ) -> None:
        token = make_token(session, Role.auditor)
        items = _pages(client, token, "/api/v1/evaluation-answers?limit=1")
        assert [(a["participant_code"], a["question_code"]) for a in items] == [
            (answered["ann"], "Q1"),
            (answered["ann"], "Q2"),
            (answered["bo"], "Q1"),
        ]
        assert {a["instrument_code"] for a in items} == {"EXIT-1"}
        raw = client.get("/api/v1/evaluation-answers", headers=auth(token)).text
        assert "Secret" not in raw
        assert "taken back" not in raw

    def test_filters_narrow_the_answers(self, client, session, answered) -> None:
        token = make_token(session, Role.auditor)
        by_code = f"/api/v1/evaluation-answers?participant={answered['bo']}"
        assert [a["value_number"] for a in _pages(client, token, by_code)] == [2.0]
        by_programme = f"/api/v1/evaluation-answers?programme_id={answered['first'].id}"
        assert {a["participant_code"] for a in _pages(client, token, by_programme)} == {
            answered["ann"]
        }
        since = "/api/v1/evaluation-answers?submitted_from=2026-05-10"
        assert [a["participant_code"] for a in _pages(client, token, since)] == [answered["bo"]]
        bad = client.get(
            "/api/v1/evaluation-answers?submitted_from=2026-06-01&submitted_to=2026-05-01",
            headers=auth(token),
        )
        assert bad.status_code == 422

    def test_a_token_of_one_programme_reads_that_programmes_answers(
        self, client, session, answered
    ) -> None:
        token = make_token(session, Role.auditor, programme_code=answered["first"].code)
        items = _pages(client, token, "/api/v1/evaluation-answers?limit=50")
        assert {a["participant_code"] for a in items} == {answered["ann"]}

    def test_answers_as_csv_and_xlsx_neutralised_and_by_code(
        self, client, session, answered
    ) -> None:
        token = make_token(session, Role.auditor)
        r = client.get(
            f"/api/v1/evaluation-answers?format=csv&question_id={answered['scale']}",
            headers={**auth(token), "Accept-Language": "nb"},
        )
        assert r.status_code == 200
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert [row["Spørsmål"] for row in rows] == ["Q1", "Q1"]
        x = client.get("/api/v1/evaluation-answers?format=xlsx", headers=auth(token))
        sheet = load_workbook(io.BytesIO(x.content), read_only=True).active
        cells = list(sheet.iter_rows(values_only=True))
        header = cells[0]
        texts = [row[header.index("Text")] for row in cells[1:]]
        assert "'=cmd|' /C calc'!A0" in texts
        assert "Ann" not in x.text


class TestOutcomes:
    def test_outcomes_by_code_filtered_and_as_csv(self, client, session, answered) -> None:
        token = make_token(session, Role.auditor)
        items = _pages(client, token, "/api/v1/outcomes?limit=1")
        assert [(o["participant_code"], o["outcome"]) for o in items] == [
            (answered["ann"], "employed_full_time"),
            (answered["bo"], "education"),
        ]
        only = _pages(client, token, "/api/v1/outcomes?outcome=education")
        assert [o["participant_code"] for o in only] == [answered["bo"]]
        r = client.get("/api/v1/outcomes?format=csv&outcome_to=2026-08-31", headers=auth(token))
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert [(row["Participant"], row["Outcome"]) for row in rows] == [
            (answered["bo"], "education")
        ]
