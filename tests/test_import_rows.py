"""Imports read each row as its cells say, whatever the rows before held.

A file repeats the same codes, dates and answers on many rows, and the import reads each such cell
once and keeps it for the rows that repeat it: these tests hold that a cell read well once is not
taken for a cell with a problem, a cell with a problem is named on every row that has it, and the
values written are those of each row — numbers and texts, days and moments, across the chunks the
rows are written in.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from qms.config import get_settings
from qms.evaluations import rows as import_rows
from qms.evaluations import service
from qms.evaluations.models import EvaluationResponse, Question
from qms.participants.models import Participant
from qms.permissions import Role
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token

HEADER = "participant,instrument,question,answer,submitted_at\n"
INSTRUMENT = {
    "code": "FINAL",
    "name": "Final survey",
    "respondent": "mentee",
    "questions": [
        {"code": "SAT", "text": "How satisfied?", "type": "scale", "scale_min": 1, "scale_max": 5},
        {"code": "HOURS", "text": "Hours met?", "type": "number", "number_min": 0},
        {
            "code": "MET",
            "text": "How did you meet?",
            "type": "choice",
            "options": ["in person", "video"],
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
    return {"importer": importer, "people": people}


def _post(client, headers, content: bytes, name: str = "answers.csv", **form):
    return client.post(
        "/api/v1/imports/evaluations",
        headers=headers,
        files={"file": (name, io.BytesIO(content))},
        data={k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in form.items()},
    )


def _written(session) -> list[tuple[str, str, float | None, str | None, date, datetime | None]]:
    rows = session.execute(
        select(
            Participant.code,
            Question.code,
            EvaluationResponse.value_number,
            EvaluationResponse.value_text,
            EvaluationResponse.submitted_on,
            EvaluationResponse.submitted_at,
        )
        .join(Participant, Participant.id == EvaluationResponse.participant_id)
        .join(Question, Question.id == EvaluationResponse.question_id)
        .order_by(EvaluationResponse.id)
    )
    return [tuple(r) for r in rows]


def test_a_repeated_cell_with_a_problem_is_named_on_every_row(client, session, setup) -> None:
    a, b, _ = setup["people"]
    day = date.today() - timedelta(days=10)
    iso, dotted = day.isoformat(), day.strftime("%d.%m.%Y")
    # A day that no calendar has, in a year near this one.
    no_day = f"31.02.{day.year}"
    content = (
        HEADER
        + f"{a},FINAL,SAT,4,{iso}\n"  # 2
        + f"{b},FINAL,SAT,9,{iso}\n"  # 3: outside the scale
        + f"{b},FINAL,SAT,9,{dotted}\n"  # 4: the same answer again
        + f'{a},FINAL,HOURS,"2,5",{dotted}\n'  # 5
        + f" {a} ,FINAL, SAT ,4,{iso}\n"  # 6: row 2 again, its codes with spaces around
        + f"{b},FINAL,SAT,4,{no_day}\n"  # 7
        + f"{b},FINAL,HOURS,3,{no_day}\n"  # 8: the same date again
        + f"{b},FINAL,SAT,4,{iso}\n"  # 9
        + f"P-9999,FINAL,HOURS,-1,{iso}\n"  # 10: two problems
        + f"{b},FINAL,HOURS,-1,{iso}\n"  # 11: the answer that was wrong on row 10 still is
    ).encode()
    refused = _post(client, setup["importer"], content)
    assert refused.status_code == 422, refused.text
    named = [(e["row"], e["field"]) for e in refused.json()["errors"]]
    expected = [
        (3, "answer"),
        (4, "answer"),
        (6, "answer"),
        (7, "submitted_at"),
        (8, "submitted_at"),
        (10, "participant"),
        (10, "answer"),
        (11, "answer"),
    ]
    assert named == expected
    messages = [e["message"] for e in refused.json()["errors"]]
    assert messages[2] == "This row repeats row 2."
    assert messages[0] == messages[1]
    assert messages[3] == messages[4]
    assert messages[6] == messages[7]

    partial = _post(client, setup["importer"], content, mode="partial")
    assert partial.status_code == 201, partial.text
    batch = partial.json()
    assert (batch["rows_total"], batch["rows_written"], batch["rows_rejected"]) == (10, 3, 7)
    assert [(r["row"], r["column"]) for r in batch["rejected"]] == expected
    assert _written(session) == [
        (a, "SAT", 4.0, None, day, None),
        (a, "HOURS", 2.5, None, day, None),
        (b, "SAT", 4.0, None, day, None),
    ]


def test_numbers_texts_days_and_moments_are_written_as_each_row_has_them(
    client, session, setup, monkeypatch
) -> None:
    # Chunks of two rows: the rows of one kind and another share chunks, and a repeat is found
    # in a chunk written before; and two cells kept of each kind, so that those kept are let go
    # and read again.
    monkeypatch.setattr(service, "CHUNK", 2)
    monkeypatch.setattr(import_rows, "KEPT_ANSWERS", 2)
    monkeypatch.setattr(import_rows, "KEPT_MOMENTS", 2)
    a, b, c = setup["people"]
    day = date.today() - timedelta(days=20)
    iso, dotted = day.isoformat(), day.strftime("%d.%m.%Y")
    content = (
        HEADER
        + f"{a},FINAL,SAT,3,{iso}\n"  # 2
        + f"{a},FINAL,NOTE,  fine ,{iso}\n"  # 3
        + f"{b},FINAL,SAT,5,{dotted} 14:30\n"  # 4
        + f"{b},FINAL,MET,video,{iso}\n"  # 5
        + f'{c},FINAL,HOURS,"1 234,5",{dotted}\n'  # 6
        + f"{c},FINAL,SAT,2,{iso}\n"  # 7
        + f"{b},FINAL,SAT,1,{dotted} 09:05\n"  # 8: row 4's answer, the same day
        + f"{c},FINAL,SAT,2,{dotted}\n"  # 9: row 7 again
        + f"{a},FINAL,SAT,3,{dotted}\n"  # 10: row 2 again
    ).encode()
    r = _post(client, setup["importer"], content, mode="partial")
    assert r.status_code == 201, r.text
    assert [(p["row"], p["message"]) for p in r.json()["rejected"]] == [
        (8, "This row repeats row 4."),
        (9, "This row repeats row 7."),
        (10, "This row repeats row 2."),
    ]
    at_half_past_two = datetime.combine(day, time(14, 30), ZoneInfo(get_settings().timezone))
    assert _written(session) == [
        (a, "SAT", 3.0, None, day, None),
        (a, "NOTE", None, "fine", day, None),
        (b, "SAT", 5.0, None, day, at_half_past_two.astimezone(UTC)),
        (b, "MET", None, "video", day, None),
        (c, "HOURS", 1234.5, None, day, None),
        (c, "SAT", 2.0, None, day, None),
    ]


def test_a_cell_that_is_a_list_or_an_object_is_a_problem_of_its_row(client, session, setup) -> None:
    a, b, _ = setup["people"]
    iso = (date.today() - timedelta(days=5)).isoformat()
    good = {"participant": a, "instrument": "FINAL", "question": "SAT", "answer": 4}
    lines = [
        {**good, "submitted_at": iso},
        {**good, "participant": [b], "submitted_at": iso},
        {**good, "participant": b, "answer": {"value": 4}, "submitted_at": iso},
        {**good, "participant": b, "question": "HOURS", "answer": 2, "submitted_at": [iso]},
    ]
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    r = _post(client, setup["importer"], content, "answers.jsonl")
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [
        (2, "participant"),
        (3, "answer"),
        (4, "submitted_at"),
    ]


def test_a_wide_file_names_each_bad_answer_and_skips_the_empty_ones(client, session, setup) -> None:
    a, b, c = setup["people"]
    day = date.today() - timedelta(days=3)
    dotted = day.strftime("%d.%m.%Y")
    content = (
        "Respondent,Completed,Satisfaction,Hours,Comment\n"
        f"{a},{dotted} 10:00,4,,\n"  # 2
        f"{b},{dotted} 11:00,7,2,ok\n"  # 3: outside the scale
        f"{c},{dotted} 12:00,7,-3,\n"  # 4: the same again, and the hours below the least
        f"{c},{dotted} 12:30,4,3,\n"  # 5
    ).encode()
    mapping = {
        "Respondent": "participant",
        "Completed": "submitted_at",
        "Satisfaction": "SAT",
        "Hours": "HOURS",
        "Comment": "NOTE",
    }
    r = _post(
        client,
        setup["importer"],
        content,
        "wide.csv",
        shape="wide",
        instrument="FINAL",
        mapping=mapping,
        mode="partial",
    )
    assert r.status_code == 201, r.text
    assert [(p["row"], p["column"]) for p in r.json()["rejected"]] == [
        (3, "Satisfaction"),
        (4, "Satisfaction"),
        (4, "Hours"),
    ]
    zone = ZoneInfo(get_settings().timezone)

    def moment(hour: int, minute: int) -> datetime:
        return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)

    assert _written(session) == [
        (a, "SAT", 4.0, None, day, moment(10, 0)),
        (c, "SAT", 4.0, None, day, moment(12, 30)),
        (c, "HOURS", 3.0, None, day, moment(12, 30)),
    ]


def test_a_row_short_of_cells_or_with_cells_past_the_header_is_read_as_it_stands(
    client, session, setup
) -> None:
    a, b, c = setup["people"]
    iso = (date.today() - timedelta(days=7)).isoformat()
    content = (
        HEADER
        + f"{a},FINAL,SAT,4,{iso}\n"  # 2
        + f"{b},FINAL,SAT,4\n"  # 3: no date
        + f"{c},FINAL,SAT\n"  # 4: no answer, no date
        + f"{c},FINAL,SAT,5,{iso},a remark past the header\n"  # 5
    ).encode()
    r = _post(client, setup["importer"], content, mode="partial")
    assert r.status_code == 201, r.text
    assert [(p["row"], p["column"]) for p in r.json()["rejected"]] == [
        (3, "submitted_at"),
        (4, "submitted_at"),
        (4, "answer"),
    ]
    day = date.fromisoformat(iso)
    assert _written(session) == [(a, "SAT", 4.0, None, day, None), (c, "SAT", 5.0, None, day, None)]


def test_of_two_columns_named_alike_the_last_is_read(client, session, setup) -> None:
    a, _, _ = setup["people"]
    day = date.today() - timedelta(days=2)
    content = (
        "participant,instrument,question,answer,submitted_at,answer\n"
        f"{a},FINAL,SAT,9,{day.isoformat()},2\n"
    ).encode()
    r = _post(client, setup["importer"], content)
    assert r.status_code == 201, r.text
    assert _written(session) == [(a, "SAT", 2.0, None, day, None)]
