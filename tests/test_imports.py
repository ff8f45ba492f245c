"""Unattended imports: every problem found by row and column before anything is written."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.audit.models import AuditEvent
from qms.config import get_settings
from qms.evaluations.models import EvaluationBatch, EvaluationResponse, Outcome, Question
from qms.participants.models import Participant
from qms.permissions import Role
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token

HEADER = "participant,instrument,question,answer,submitted_at\n"
INSTRUMENT = {
    "code": "FINAL",
    "name": "Final survey",
    "respondent": "mentee",
    "questions": [
        {
            "code": "SAT",
            "text": "How satisfied are you?",
            "type": "scale",
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "code": "MET",
            "text": "How did you mostly meet?",
            "type": "choice",
            "options": ["in person", "video", "phone"],
        },
        {"code": "NOTE", "text": "Anything else?", "type": "text"},
    ],
}


@pytest.fixture
def setup(client, session):
    lead = auth(make_token(session, Role.quality_lead))
    assert client.post("/api/v1/instruments", headers=lead, json=INSTRUMENT).status_code == 201
    cohort = make_cohort(
        session,
        make_programme(session),
        start_on=date.today() - timedelta(days=300),
        end_on=date.today() + timedelta(days=60),
    )
    people = [make_participant(session, cohort).code for _ in range(3)]
    importer = auth(make_token(session, Role.importer, name="survey-script"))
    return {"lead": lead, "importer": importer, "people": people}


def _post(client, headers, content: bytes, name: str, path="evaluations", **form):
    return client.post(
        f"/api/v1/imports/{path}",
        headers=headers,
        files={"file": (name, io.BytesIO(content))},
        data={k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in form.items()},
    )


def _count(session, model) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _state(session: Session) -> tuple[int, int, int, int]:
    """What a refused import must leave as it was: batches, answers, outcomes, audit events."""
    return (
        _count(session, EvaluationBatch),
        _count(session, EvaluationResponse),
        _count(session, Outcome),
        _count(session, AuditEvent),
    )


class TestLongFormat:
    def test_a_scandinavian_csv_export_imports(self, client, session, setup) -> None:
        a, b, _ = setup["people"]
        content = (
            "\ufeffparticipant;instrument;question;answer;submitted_at\n"
            f"{a};FINAL;SAT;4,5;2026-06-01\n"
            f"{a};FINAL;MET;video;01.06.2026\n"
            f"{b};FINAL;SAT;3;2026-06-02T10:00:00Z\n"
        ).encode()
        r = _post(client, setup["importer"], content, "final.csv", source="survey-tool 2.1")
        assert r.status_code == 201, r.text
        batch = r.json()
        assert (batch["rows_total"], batch["rows_written"], batch["rows_rejected"]) == (3, 3, 0)
        assert batch["source"] == "survey-tool 2.1"
        assert batch["importer"] == "survey-script"
        values = session.scalars(
            select(EvaluationResponse.value_number).order_by(EvaluationResponse.id)
        ).all()
        assert values == [4.5, None, 3.0]

    def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(
        self, client, session, setup
    ) -> None:
        a, b, _ = setup["people"]
        content = (
            "participant,instrument,question,answer,submitted_at\n"
            f"{a},FINAL,SAT,4,2026-06-01\n"
            "P-9999,FINAL,SAT,4,2026-06-01\n"
            f"{b},FINAL,XYZ,4,2026-06-01\n"
            f"{b},FINAL,SAT,9,2026-06-01\n"
            f"{b},FINAL,MET,carrier pigeon,2026-06-01\n"
            f"{a},FINAL,SAT,5,2026-06-01\n"
            f"{b},FINAL,NOTE,fine,31.02.2026\n"
            f"{b},FINAL,NOTE,later,9999-12-31\n"
            # Every problem of a row, not only its first.
            "Amina Haddad <amina@example.org>,FINAL,MET,by carrier pigeon,yesterday\n"
        ).encode()
        r = _post(client, setup["importer"], content, "bad.csv")
        assert r.status_code == 422
        found = [(e["row"], e["field"]) for e in r.json()["errors"]]
        assert found == [
            (3, "participant"),
            (4, "question"),
            (5, "answer"),
            (6, "answer"),
            (7, "answer"),
            (8, "submitted_at"),
            (9, "submitted_at"),
            (10, "participant"),
            (10, "submitted_at"),
            (10, "answer"),
        ]
        messages = [e["message"] for e in r.json()["errors"]]
        assert messages[0] == "There is no participant with this code."
        assert messages[2] == "The answer is outside the scale: enter a number from 1 to 5."
        assert messages[4] == "This row repeats row 2."
        assert (
            messages[5]
            == messages[8]
            == (
                "The date is not in a form we read: write it as DD.MM.YYYY HH:MM, YYYY-MM-DD "
                "HH:MM:SS or ISO 8601 (2026-06-02T16:06:00+02:00)."
            )
        )
        assert messages[6] == "Enter a date from 01/01/1900 to 31/12/2999."
        assert (
            messages[3]
            == messages[9]
            == ("The answer is not one of the choices: enter in person, video or phone.")
        )
        # No message repeats what a cell holds: it may be someone's name or e-mail.
        for cell in ("P-9999", "Amina", "amina@", "pigeon", "31.02.2026", "yesterday", "9 "):
            assert not any(cell in m for m in messages), cell
        assert _count(session, EvaluationResponse) == 0
        assert _count(session, EvaluationBatch) == 0

    def test_the_problems_are_said_in_norwegian(self, client, session, setup) -> None:
        a = setup["people"][0]
        content = (
            "participant,instrument,question,answer,submitted_at\n"
            f"{a},FINAL,SAT,4,2026-06-01\nP-9999,FINAL,SAT,4,2026-06-01\n"
            f"{a},FINAL,SAT,9,2026-06-02\n"
        ).encode()
        content += f"{a},FINAL,NOTE,later,9999-12-31\n".encode()
        headers = {**setup["importer"], "Accept-Language": "nb"}
        r = _post(client, headers, content, "bad.csv")
        assert r.status_code == 422
        assert r.json()["detail"] == (
            "Rader med feil: 3 av 4. Ingenting ble lagret: rett dem, eller importer med "
            "mode=partial for å lagre de gode radene."
        )
        assert (
            r.json()["errors"][-1]["message"] == "Skriv inn en dato fra 01.01.1900 til 31.12.2999."
        )
        # Kept with the batch as a sentence and its parameters: said later in whichever
        # language the reader asks for, not in the importer's.
        written = _post(client, setup["importer"], content, "bad.csv", mode="partial").json()
        assert written["rejected"][-1]["message"] == "Enter a date from 01/01/1900 to 31/12/2999."
        url = f"/api/v1/imports/{written['id']}"
        for language, said in (
            ("nb", "Skriv inn en dato fra 01.01.1900 til 31.12.2999."),
            ("en", "Enter a date from 01/01/1900 to 31/12/2999."),
        ):
            got = client.get(url, headers={**setup["lead"], "Accept-Language": language}).json()
            assert got["rejected"][-1]["message"] == said

    def test_partial_mode_writes_the_good_rows_and_keeps_the_rejected(self, client, session, setup):
        a, _, c = setup["people"]
        content = (
            "participant,instrument,question,answer,submitted_at\n"
            f"{a},FINAL,SAT,4,2026-06-01\nP-9999,FINAL,SAT,4,2026-06-01\n{c},FINAL,SAT,2,2026-06-01\n"
        ).encode()
        dry = _post(client, setup["importer"], content, "p.csv", mode="partial", dry_run="true")
        assert dry.status_code == 200
        assert dry.json()["dry_run"] is True
        assert _count(session, EvaluationResponse) == 0
        r = _post(client, setup["importer"], content, "p.csv", mode="partial")
        assert r.status_code == 201
        body = r.json()
        assert (body["rows_written"], body["rows_rejected"]) == (2, 1)
        assert body["rejected"] == [
            {
                "row": 3,
                "column": "participant",
                "message": "There is no participant with this code.",
            }
        ]
        again = client.get(f"/api/v1/imports/{body['id']}", headers=setup["importer"]).json()
        assert again["rejected"] == body["rejected"]

    def test_the_same_content_twice_makes_one_batch(self, client, session, setup) -> None:
        a = setup["people"][0]
        content = f"{HEADER}{a},FINAL,SAT,4,2026-06-01\n".encode()
        first = _post(client, setup["importer"], content, "a.csv")
        second = _post(client, setup["importer"], content, "renamed.csv")
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json()["id"] == first.json()["id"]
        assert second.json()["replayed"] is True
        assert _count(session, EvaluationResponse) == 1

    def test_an_idempotency_key_for_other_content_is_a_conflict(
        self, client, session, setup
    ) -> None:
        a, b, _ = setup["people"]
        key = {**setup["importer"], "Idempotency-Key": "run-2026-06-01"}
        one = f"participant,instrument,question,answer,submitted_at\n{a},FINAL,SAT,4,2026-06-01\n"
        two = f"participant,instrument,question,answer,submitted_at\n{b},FINAL,SAT,4,2026-06-01\n"
        assert _post(client, key, one.encode(), "a.csv").status_code == 201
        assert _post(client, key, one.encode(), "a.csv").json()["replayed"] is True
        before = _state(session)
        r = _post(client, key, two.encode(), "b.csv")
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"
        assert "Idempotency-Key" in r.json()["detail"]
        # Refused whole: no batch, no answer, no audit event for the other content.
        assert _state(session) == before

    def test_an_answer_already_imported_is_refused(self, client, setup) -> None:
        a = setup["people"][0]
        _post(
            client,
            setup["importer"],
            f"participant,instrument,question,answer,submitted_at\n{a},FINAL,SAT,4,2026-06-01\n".encode(),
            "1.csv",
        )
        r = _post(
            client,
            setup["importer"],
            f"participant,question,instrument,answer,submitted_at\n{a},SAT,FINAL,5,2026-06-01\n".encode(),
            "2.csv",
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["message"] == (
            "This row was imported already, in an earlier batch."
        )

    def test_a_missing_column_is_named(self, client, setup) -> None:
        r = _post(client, setup["importer"], b"participant,question,answer\nP-1,SAT,4\n", "x.csv")
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"instrument", "submitted_at"}


class TestOtherShapesAndFormats:
    def test_a_wide_file_with_a_mapping(self, client, session, setup) -> None:
        a, b, _ = setup["people"]
        content = (
            "participant,submitted_at,Q1 Satisfaction,Q2 Mode,Comments\n"
            f"{a},2026-06-01,5,video,Very good\n{b},2026-06-01,4,,\n"
        ).encode()
        r = _post(
            client,
            setup["importer"],
            content,
            "wide.csv",
            shape="wide",
            instrument="FINAL",
            mapping={"Q1 Satisfaction": "SAT", "Q2 Mode": "MET", "Comments": "NOTE"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["rows_written"] == 2
        assert _count(session, EvaluationResponse) == 4  # empty cells are no answer

    def test_json_array_and_json_lines(self, client, session, setup) -> None:
        a, b, _ = setup["people"]
        array = json.dumps(
            [
                {
                    "participant": a,
                    "instrument": "FINAL",
                    "question": "SAT",
                    "answer": 4,
                    "submitted_at": "2026-06-01",
                }
            ]
        ).encode()
        assert _post(client, setup["importer"], array, "a.json").status_code == 201
        lines = (
            json.dumps(
                {
                    "participant": b,
                    "instrument": "FINAL",
                    "question": "SAT",
                    "answer": 2,
                    "submitted_at": "2026-06-01",
                }
            )
            + "\n"
            + "{not json}\n"
        ).encode()
        r = _post(client, setup["importer"], lines, "b.jsonl")
        assert r.status_code == 422
        assert r.json()["errors"][0]["row"] == 2

    def test_an_xlsx_sheet_by_name(self, client, session, setup) -> None:
        a, b, _ = setup["people"]
        book = Workbook()
        # The first sheet is well-formed too, with other rows: a 201 alone would not show which
        # sheet was read.
        cover = book.active
        cover.title = "Cover"
        cover.append(["participant", "instrument", "question", "answer", "submitted_at"])
        cover.append([b, "FINAL", "SAT", 1, date(2026, 5, 1)])
        cover.append([b, "FINAL", "NOTE", "from the cover", date(2026, 5, 1)])
        sheet = book.create_sheet("Answers")
        sheet.append(["participant", "instrument", "question", "answer", "submitted_at"])
        sheet.append([a, "FINAL", "SAT", 4, date(2026, 6, 1)])
        buffer = io.BytesIO()
        book.save(buffer)
        r = _post(client, setup["importer"], buffer.getvalue(), "export.xlsx", sheet="Answers")
        assert r.status_code == 201, r.text
        batch = r.json()
        assert (batch["rows_total"], batch["rows_written"], batch["rows_rejected"]) == (1, 1, 0)
        written = session.execute(
            select(
                Participant.code,
                Question.code,
                EvaluationResponse.value_number,
                EvaluationResponse.submitted_on,
            )
            .join(Participant, Participant.id == EvaluationResponse.participant_id)
            .join(Question, Question.id == EvaluationResponse.question_id)
            .where(EvaluationResponse.batch_id == batch["id"])
        ).all()
        assert [tuple(row) for row in written] == [(a, "SAT", 4.0, date(2026, 6, 1))]
        before = (_count(session, EvaluationBatch), _count(session, EvaluationResponse))
        r = _post(client, setup["importer"], buffer.getvalue() + b" ", "x.xlsx", sheet="Nope")
        assert r.status_code == 422
        assert r.json()["errors"] == [{"field": "sheet", "message": "Choose Cover or Answers."}]
        assert (_count(session, EvaluationBatch), _count(session, EvaluationResponse)) == before

    def test_outcomes(self, client, session, setup) -> None:
        a, b, _ = setup["people"]
        content = (
            f"participant,outcome,date,note\n{a},employed_full_time,2026-12-01,Engineer\n"
            f"{b},studying,2026-12-01,\n"
        ).encode()
        r = _post(client, setup["importer"], content, "o.csv", path="outcomes")
        assert r.status_code == 422
        assert r.json()["errors"][0]["row"] == 3
        fixed = content.replace(b"studying", b"education")
        assert _post(client, setup["importer"], fixed, "o.csv", path="outcomes").status_code == 201
        assert _count(session, Outcome) == 2

    def test_a_control_character_in_free_text_is_named_by_row_and_column(
        self, client, session, setup
    ) -> None:
        a, b, c = setup["people"]
        outcomes = (
            "participant,outcome,date,note\n"
            f"{a},employed_full_time,2026-12-01,Engineer\n"
            f"{b},education,2026-12-01,Nurse\x07\n"
        ).encode()
        r = _post(client, setup["importer"], outcomes, "o.csv", path="outcomes")
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert (error["row"], error["field"]) == (3, "note")
        assert "U+0007" in error["message"]
        answers = (
            "participant,instrument,question,answer,submitted_at\n"
            f"{c},FINAL,NOTE,Fine\x00 thanks,2026-11-01\n"
        ).encode()
        r = _post(client, setup["importer"], answers, "a.csv")
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert (error["row"], error["field"]) == (2, "answer")
        assert "U+0000" in error["message"]
        assert _count(session, Outcome) == 0
        assert _count(session, EvaluationBatch) == 0


class TestLimitsAndAccess:
    def test_an_upload_over_the_limit_is_413(self, client, setup, monkeypatch) -> None:
        monkeypatch.setenv("QMS_IMPORT_MAX_BYTES", "100")
        get_settings.cache_clear()
        try:
            r = _post(client, setup["importer"], b"x" * 200, "big.csv")
            assert r.status_code == 413
        finally:
            get_settings.cache_clear()

    def test_an_importer_sees_only_its_own_batches(self, client, session, setup) -> None:
        a = setup["people"][0]
        content = f"{HEADER}{a},FINAL,SAT,4,2026-06-01\n".encode()
        batch = _post(client, setup["importer"], content, "a.csv").json()
        other = auth(make_token(session, Role.importer))
        hidden = client.get(f"/api/v1/imports/{batch['id']}", headers=other)
        assert hidden.status_code == 404
        # Told plainly that there is no such batch, as for one that never existed.
        assert hidden.headers["content-type"] == "application/problem+json"
        assert hidden.json()["detail"] == f"There is no import batch with the id {batch['id']}."
        assert client.get("/api/v1/imports", headers=other).json() == []
        assert client.get("/api/v1/deviations", headers=setup["importer"]).status_code == 403
        auditor = auth(make_token(session, Role.auditor))
        assert client.get(f"/api/v1/imports/{batch['id']}", headers=auditor).status_code == 200


def test_a_wide_export_may_name_its_own_respondent_and_date_columns(client, session, setup) -> None:
    a = setup["people"][0]
    content = f"Respondent ID;Sent;Q1\n{a};2026-06-01;4\n".encode()
    r = _post(
        client,
        setup["importer"],
        content,
        "tool.csv",
        shape="wide",
        instrument="FINAL",
        mapping={"Respondent ID": "participant", "Sent": "submitted_at", "Q1": "SAT"},
    )
    assert r.status_code == 201, r.text
    bad = b"Respondent ID;Sent;Q1\nP-0;2026-06-01;4\n"
    r = _post(
        client,
        setup["importer"],
        bad,
        "tool2.csv",
        shape="wide",
        instrument="FINAL",
        mapping={"Respondent ID": "participant", "Sent": "submitted_at", "Q1": "SAT"},
    )
    assert r.json()["errors"][0] == {
        "field": "Respondent ID",
        "message": "There is no participant with this code.",
        "row": 2,
    }


class TestRollback:
    def test_a_quality_lead_rolls_a_batch_back_and_it_may_come_in_again(
        self, client, session, setup
    ) -> None:
        a = setup["people"][0]
        content = f"{HEADER}{a},FINAL,SAT,4,2026-06-01\n".encode()
        batch = _post(client, setup["importer"], content, "a.csv").json()
        url = f"/api/v1/imports/{batch['id']}/rollback"
        assert client.post(url, headers=setup["importer"], json={"reason": "x"}).status_code == 403
        assert client.post(url, headers=setup["lead"], json={}).status_code == 422
        r = client.post(
            url, headers=setup["lead"], json={"reason": "The survey tool sent test data"}
        )
        assert r.status_code == 200
        assert r.json()["rolled_back_by"].startswith("quality-lead")
        assert _count(session, EvaluationResponse) == 0
        assert client.post(url, headers=setup["lead"], json={"reason": "again"}).status_code == 409
        again = _post(client, setup["importer"], content, "a.csv")
        assert again.status_code == 201
        assert again.json()["id"] != batch["id"]


@pytest.mark.parametrize(
    ("name", "content", "row"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, None),
        ("deep.jsonl", b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"\n", 1),
        ("latin1.jsonl", '{"participant": "Bjørn"}\n'.encode("latin-1"), None),
        ("latin1.json", '["Bjørn"]'.encode("latin-1"), None),
    ],
)
def test_a_file_that_cannot_be_read_is_named_not_a_crash(
    client, session, setup, name, content, row
) -> None:
    r = _post(client, setup["importer"], content, name, path="outcomes")
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert (error["field"], error.get("row")) == ("file", row)
    assert _count(session, EvaluationBatch) == 0
