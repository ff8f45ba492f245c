"""Survey exports as the tools write them: read, mapped by saved mappings, imported with the moment
each answer was sent; every problem of every row named without quoting a cell."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qms.audit.models import AuditEvent
from qms.errors import ValidationFailed
from qms.evaluations.readers import ImportFile, detect_format, read_rows
from qms.permissions import Role
from tests import survey_exports
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token

CODES = ("P-7001", "P-7002")


def _read(tmp_path: Path, export: survey_exports.Export) -> tuple[list[str], list]:
    path = tmp_path / "upload"
    path.write_bytes(export.content)
    source = ImportFile(
        path,
        export.name,
        detect_format(export.name),
        encoding=export.form.get("encoding"),
        delimiter=export.form.get("delimiter"),
    )
    header, rows = read_rows(source)
    return header, list(rows)


class TestReadingEachToolsFile:
    @pytest.mark.parametrize("make", survey_exports.ALL, ids=lambda m: m.__name__)
    def test_the_rows_come_out_as_the_tool_wrote_them(self, tmp_path, make) -> None:
        export = make(CODES)
        header, rows = _read(tmp_path, export)
        by_name = {" ".join(h.split()).casefold(): h for h in header}
        columns = {
            target: by_name[" ".join(column.split()).casefold()]
            for column, target in export.mapping.items()
        }
        # The first answer's comment holds a delimiter, a quote and a line break, all kept.
        assert [number for number, _ in rows] == (
            [3, 4] if make is survey_exports.surveymonkey else [2, 3]
        )
        first = rows[0][1]
        assert str(first[columns["participant"]]).strip() == CODES[0]
        note = str(first[columns["NOTE"]])
        if make is survey_exports.questback:
            assert note == "Bra; «stort sett», takk"
        else:
            assert note == 'Good; "mostly", and\nthanks, all'
        assert str(rows[1][1][columns["MET"]]) == "in person"

    def test_a_windows_1252_file_not_named_so_is_refused_naming_the_encoding(
        self, tmp_path
    ) -> None:
        export = survey_exports.questback(CODES)
        export.form = {}
        with pytest.raises(ValidationFailed) as refused:
            _read(tmp_path, export)
        assert [e.field for e in refused.value.errors] == ["encoding"]
        assert "windows-1252" in refused.value.errors[0].message

    def test_a_file_whose_delimiter_cannot_be_told_is_refused_naming_what_was_tried(
        self, tmp_path
    ) -> None:
        # One column only as read: nothing separates the header's words.
        export = survey_exports.Export(
            "x", "odd.csv", b"Participant code Completion time\nP-7001 02.06.2026\n", {}
        )
        with pytest.raises(ValidationFailed) as refused:
            _read(tmp_path, export)
        error = refused.value.errors[0]
        assert (error.field, error.row) == ("delimiter", 1)
        assert error.message == (
            "The columns cannot be told apart: none of comma, semicolon, tab or bar (|) "
            "separates them clearly in the header as read (Participant code Completion time). "
            "Name the delimiter."
        )

    def test_a_delimiter_named_by_the_sender_is_used(self, tmp_path) -> None:
        # Every line has as many commas as semicolons: the sender settles it.
        content = b"a;b,c\n1;2,3\n4;5,6\n"
        export = survey_exports.Export("x", "x.csv", content, {}, form={"delimiter": "semicolon"})
        header, rows = _read(tmp_path, export)
        assert header == ["a", "b,c"]
        assert rows[1] == (3, {"a": "4", "b,c": "5,6"})
        export.form = {"delimiter": ","}
        header, _ = _read(tmp_path, export)
        assert header == ["a;b", "c"]

    def test_a_quoted_line_break_is_one_row_as_a_spreadsheet_shows_it(self, tmp_path) -> None:
        content = b'code;note\nA;"one\ntwo\nthree"\nB;x\n\nC;y\n'
        _, rows = _read(tmp_path, survey_exports.Export("x", "x.csv", content, {}))
        # B is the third row though it is on the fifth line; the blank line is row 4.
        assert [(n, r["code"]) for n, r in rows] == [(2, "A"), (3, "B"), (5, "C")]


@pytest.fixture
def survey(client, session):
    lead = auth(make_token(session, Role.quality_lead))
    instrument = {
        "code": "MENTEE-END",
        "name": "Mentee end-of-programme survey",
        "respondent": "mentee",
        "questions": [
            {
                "code": "SAT",
                "text": "How satisfied?",
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
            {
                "code": "HOURS",
                "text": "Hours",
                "type": "number",
                "number_min": 0,
                "number_max": 200,
            },
            {"code": "NOTE", "text": "Anything else?", "type": "text"},
        ],
    }
    r = client.post("/api/v1/instruments", headers=lead, json=instrument)
    assert r.status_code == 201, r.text
    cohort = make_cohort(
        session,
        make_programme(session),
        start_on=date(2026, 1, 5),
        end_on=date(2026, 12, 18),
    )
    mentees = [make_participant(session, cohort) for _ in CODES]
    mentor = make_participant(session, cohort, role="mentor")
    importer = auth(make_token(session, Role.importer, name="survey-script"))
    return {
        "lead": lead,
        "importer": importer,
        "codes": (mentees[0].code, mentees[1].code),
        "mentees": mentees,
        "mentor": mentor,
    }


class TestSavedMappings:
    def test_a_mapping_is_saved_listed_and_audited(self, client, session, survey) -> None:
        url = "/api/v1/instruments/MENTEE-END/mappings"
        body = {
            "name": "forms-2026",
            "source": "Microsoft Forms",
            "columns": {"Participant code": "participant", "How satisfied?": "SAT"},
        }
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        r = client.post(url, headers=survey["importer"], json=body)
        assert r.status_code == 201, r.text
        assert r.json()["created_by"] == "survey-script"
        listed = client.get(url, headers=survey["lead"]).json()
        assert [(m["name"], m["source"], m["columns"]) for m in listed] == [
            ("forms-2026", "Microsoft Forms", body["columns"])
        ]
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events + 1
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.entity) == ("import_mapping.saved", "import_mapping")
        again = client.post(url, headers=survey["importer"], json=body)
        assert again.status_code == 409
        assert "forms-2026" in again.json()["detail"]

    def test_a_mapping_to_a_question_the_instrument_lacks_is_refused(self, client, survey) -> None:
        r = client.post(
            "/api/v1/instruments/MENTEE-END/mappings",
            headers=survey["importer"],
            json={"name": "x", "columns": {"Q9": "NOPE", "Who": "participant"}},
        )
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {
                "field": "columns.Q9",
                "message": "Instrument MENTEE-END has no question NOPE.",
            },
            {"field": "columns", "message": "Map at least one column to a question code."},
        ]
        missing = client.get("/api/v1/instruments/NOPE/mappings", headers=survey["lead"])
        assert missing.status_code == 404


def _post(client, headers, export: survey_exports.Export, **form):
    data = {"shape": "wide", "instrument": "MENTEE-END", **export.form, **form}
    if "mapping" not in form:
        data["mapping"] = json.dumps(export.mapping)
    return client.post(
        "/api/v1/imports/evaluations",
        headers=headers,
        files={"file": (export.name, io.BytesIO(export.content))},
        data=data,
    )


OSLO_SUMMER = timedelta(hours=2)
_ = (UTC, datetime)
