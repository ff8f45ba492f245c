"""Survey exports as the tools write them: read, mapped by saved mappings, imported with the moment
each answer was sent; every problem of every row named without quoting a cell."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from qms.audit.models import AuditEvent
from qms.cli import app
from qms.errors import ValidationFailed
from qms.evaluations.models import EvaluationBatch, EvaluationResponse, Question
from qms.evaluations.readers import ImportFile, detect_format, read_rows
from qms.permissions import Role
from tests import survey_exports
from tests.conftest import make_client
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token
from tests.test_cli import qms, runner  # noqa: F401  (the fixture running `qms` on a database)

CODES = ("P-7001", "P-7002")


def _read(
    tmp_path: Path, export: survey_exports.Export
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
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
        # Every line has as many commas as semicolons: unsure, the file is refused...
        content = b"a;b,c\n1;2,3\n4;5,6\n"
        export = survey_exports.Export("x", "x.csv", content, {})
        with pytest.raises(ValidationFailed) as refused:
            _read(tmp_path, export)
        assert refused.value.errors[0].message == (
            "The columns may be separated by comma or semicolon alike: every row reads whole "
            "either way. Name the delimiter."
        )
        # ...and the sender settles it.
        export.form = {"delimiter": "semicolon"}
        header, rows = _read(tmp_path, export)
        assert header == ["a", "b,c"]
        assert rows[1] == (3, {"a": "4", "b,c": "5,6"})
        export.form = {"delimiter": ","}
        header, _ = _read(tmp_path, export)
        assert header == ["a;b", "c"]

    def test_answers_full_of_other_delimiters_and_quotes_are_read_by_the_steady_one(
        self, tmp_path
    ) -> None:
        # Free text with tabs, semicolons, bars and quotes in every answer: only the comma
        # leaves every row whole.
        cells = ['"kanskje; x\ty"', '"bra | ""sitat"""', '"ja\tnei"', '"a;b;c"']
        content = ("Q1,Q2,Q3,Q4\n" + (",".join(cells) + "\n") * 300).encode()
        header, rows = _read(tmp_path, survey_exports.Export("x", "x.csv", content, {}))
        assert header == ["Q1", "Q2", "Q3", "Q4"]
        assert len(rows) == 300
        assert rows[0][1]["Q2"] == 'bra | "sitat"'

    def test_a_quoted_line_break_is_one_row_as_a_spreadsheet_shows_it(self, tmp_path) -> None:
        content = b'code;note\nA;"one\ntwo\nthree"\nB;x\n\nC;y\n'
        _, rows = _read(tmp_path, survey_exports.Export("x", "x.csv", content, {}))
        # B is the third row though it is on the fifth line; the blank line is row 4.
        assert [(n, r["code"]) for n, r in rows] == [(2, "A"), (3, "B"), (5, "C")]


SENT = datetime(2026, 6, 2, 14, 6, tzinfo=UTC)  # 16:06 in Oslo's summer time


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("02.06.2026 16:06", SENT),
        ("2.6.2026 16:06:30", SENT.replace(second=30)),
        ("02.06.2026 kl. 16.06", SENT),
        ("2026-06-02 16:06:00", SENT),
        ("2026-06-02T14:06:00Z", SENT),
        ("2026-06-02T16:06:00+02:00", SENT),
        ("2026/06/02 4:06:00 PM GMT+2", SENT),
        ("06/02/2026 04:06:00 PM", SENT),
        (46175.67083333, SENT),  # Excel's serial number for the same minute
        ("46175,67083333", SENT),
        (datetime(2026, 6, 2, 16, 6), SENT),  # an XLSX date cell, in local time
        ("2.6.2026", None),
        ("2026-06-02", None),
        (date(2026, 6, 2), None),
    ],
)
def test_a_moment_is_read_in_the_forms_survey_tools_write(cell, moment) -> None:
    from qms.evaluations.cells import read_moment

    assert read_moment(cell) == (date(2026, 6, 2), moment)


def test_a_late_evening_moment_is_on_the_organisations_day() -> None:
    from qms.evaluations.cells import read_moment

    # 23:30 UTC on 1 June is half past one in the night of 2 June in Oslo.
    assert read_moment("2026-06-01T23:30:00Z")[0] == date(2026, 6, 2)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("6/2/2026", "day first or month first"),
        ("31.02.2026 10:00", "not in a form we read"),
        ("yesterday", "not in a form we read"),
        ("", "The date is empty"),
        ("13/02/2026 1:00 PM", "not in a form we read"),
    ],
)
def test_a_cell_that_is_no_moment_is_refused_saying_why(cell, problem) -> None:
    from qms.evaluations.cells import read_moment

    with pytest.raises(ValueError, match=problem):
        read_moment(cell)


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


def _answers(session) -> dict[tuple[int, str], EvaluationResponse]:
    rows = session.execute(
        select(EvaluationResponse, Question.code).join(
            Question, Question.id == EvaluationResponse.question_id
        )
    ).all()
    return {(r.participant_id, code): r for r, code in rows}


class TestImportingEachToolsExport:
    @pytest.mark.parametrize("make", survey_exports.ALL, ids=lambda m: m.__name__)
    def test_every_answer_comes_in_with_the_moment_it_was_sent(
        self, client, session, survey, make
    ) -> None:
        export = make(survey["codes"])
        r = _post(client, survey["importer"], export)
        assert r.status_code == 201, r.text
        assert (r.json()["rows_total"], r.json()["rows_written"]) == (2, 2)
        # Mapped as typed with the request, by no saved mapping.
        assert r.json()["mapping"] is None
        # How a CSV file was read is kept with its batch.
        reading = {
            survey_exports.netigate: ("utf-16", "\t"),
            survey_exports.questback: ("cp1252", ";"),
            survey_exports.nettskjema: ("utf-8-sig", ";"),
            survey_exports.google_forms: ("utf-8", ","),
        }
        if make in reading:
            batch = client.get(r.headers["location"], headers=survey["lead"]).json()
            assert (batch["encoding"], batch["delimiter"]) == reading[make]
        answers = _answers(session)
        assert len(answers) == 8
        first, second = (m.id for m in survey["mentees"])
        assert answers[(first, "SAT")].value_number == 4
        assert answers[(first, "MET")].value_text == "video"
        # Hours typed with a decimal comma, kept as the number meant.
        assert answers[(first, "HOURS")].value_number == 2.5
        assert answers[(second, "HOURS")].value_number == 12
        note = answers[(first, "NOTE")].value_text
        assert note == (
            "Bra; «stort sett», takk"
            if make is survey_exports.questback
            else 'Good; "mostly", and\nthanks, all'
        )
        for person, sent in zip((first, second), survey_exports.SUBMITTED, strict=True):
            kept = answers[(person, "SAT")]
            assert kept.submitted_on == sent.date()
            # Sent at Oslo's summer time, kept in UTC to the minute (seconds where written).
            expected = (sent - OSLO_SUMMER).replace(tzinfo=UTC)
            if make in (survey_exports.microsoft_forms_csv, survey_exports.nettskjema):
                expected = expected.replace(second=0)
            assert kept.submitted_at == expected

    def test_the_columns_the_mapping_does_not_name_are_never_stored(
        self, client, session, survey
    ) -> None:
        export = survey_exports.surveymonkey(survey["codes"])
        assert _post(client, survey["importer"], export).status_code == 201
        stored: list[str] = []
        for table in ("evaluation_response", "evaluation_batch", "audit_event"):
            for row in session.execute(text(f"SELECT * FROM {table}")):
                stored.extend(str(v) for v in row)
        everything = " ".join(stored)
        for personal in (*survey_exports.EMAILS, *survey_exports.NAMES, "192.0.2.1", "Amina"):
            assert personal not in everything

    def test_a_mentors_answer_on_a_mentee_survey_is_refused_by_row(
        self, client, session, survey
    ) -> None:
        codes = (survey["codes"][0], survey["mentor"].code)
        export = survey_exports.limesurvey(codes)
        r = _post(client, survey["importer"], export)
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {
                "field": "token",
                "message": "The participant is a mentor; instrument MENTEE-END is answered by "
                "the role mentee only.",
                "row": 3,
            }
        ]
        assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 0

    def test_every_problem_of_a_row_is_named_by_its_header(self, client, session, survey) -> None:
        content = (
            "Timestamp;Participant code;Satisfied;Hours\n"
            f"02.06.2026 16:06;{survey['codes'][0]};4;2,5\n"
            "06/02/2026;amina@example.org;seven;-1\n"
        ).encode()
        export = survey_exports.Export(
            "x",
            "x.csv",
            content,
            {
                "TIMESTAMP": "submitted_at",
                "participant code": "participant",
                "Satisfied": "SAT",
                "Hours": "HOURS",
            },
        )
        r = _post(client, survey["importer"], export)
        assert r.status_code == 422
        assert [(e["row"], e["field"], e["message"]) for e in r.json()["errors"]] == [
            (3, "Participant code", "There is no participant with this code."),
            (
                3,
                "Timestamp",
                "A date written with slashes may be day first or month first: write it as "
                "DD.MM.YYYY or YYYY-MM-DD.",
            ),
            (3, "Satisfied", "The answer is not a number: enter a number from 1 to 5."),
            (3, "Hours", "The answer is out of range: enter a number from 0 to 200."),
        ]
        assert "amina" not in r.text

    def test_a_saved_mapping_is_used_by_its_name(self, client, session, survey) -> None:
        export = survey_exports.google_forms(survey["codes"])
        saved = client.post(
            "/api/v1/instruments/MENTEE-END/mappings",
            headers=survey["importer"],
            json={"name": "google", "source": "Google Forms", "columns": export.mapping},
        )
        assert saved.status_code == 201, saved.text
        r = _post(client, survey["importer"], export, mapping="google")
        assert r.status_code == 201, r.text
        assert r.json()["rows_written"] == 2
        # The batch says which saved mapping read its file, now and when read again.
        assert r.json()["mapping"] == "google"
        again = client.get(f"/api/v1/imports/{r.json()['id']}", headers=survey["importer"])
        assert again.json()["mapping"] == "google"
        elsewhere = _post(client, survey["importer"], export, mapping="google", instrument="NOPE")
        assert elsewhere.status_code == 422
        assert elsewhere.json()["errors"] == [
            {"field": "instrument", "message": "There is no instrument NOPE."}
        ]
        unknown = _post(client, survey["importer"], export, mapping="forms")
        assert unknown.status_code == 422
        assert unknown.json()["errors"] == [
            {
                "field": "mapping",
                "message": "Instrument MENTEE-END has no mapping named forms; it has google.",
            }
        ]


def test_the_columns_of_a_long_file_are_found_whatever_their_case_and_spaces(
    client, session, survey
) -> None:
    from qms.evaluations.models import Outcome

    code = survey["codes"][0]
    content = f" Participant ;OUTCOME;Date \n{code};education;02.06.2026 16:06\n".encode()
    r = client.post(
        "/api/v1/imports/outcomes",
        headers=survey["importer"],
        files={"file": ("outcomes.csv", io.BytesIO(content))},
    )
    assert r.status_code == 201, r.text
    outcome = session.scalars(select(Outcome)).one()
    assert (outcome.outcome.value, outcome.outcome_on) == ("education", date(2026, 6, 2))


class TestReplays:
    def test_a_file_imported_in_part_is_refused_again_in_all_or_nothing_mode(
        self, client, session, survey
    ) -> None:
        export = survey_exports.nettskjema((survey["codes"][0], "P-0000"))
        refused = _post(client, survey["importer"], export)
        assert refused.status_code == 422
        partial = _post(client, survey["importer"], export, mode="partial")
        assert partial.status_code == 201
        batch = partial.json()["id"]
        assert (partial.json()["rows_rejected"], partial.json()["problems_total"]) == (1, 1)
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        # The same content again answers as the first import did: not written, and said why.
        again = _post(client, survey["importer"], export)
        assert again.status_code == 409, again.text
        assert again.json()["detail"] == (
            f"This file was imported before in part, as batch {batch}: 1 of its 2 rows were "
            "rejected (rows 3) and nothing of them was written. Nothing was written now: "
            f"correct those rows and import them in a file of their own, or roll batch {batch} "
            "back and import the corrected file."
        )
        replay = _post(client, survey["importer"], export, mode="partial")
        assert replay.status_code == 200
        assert (replay.json()["id"], replay.json()["replayed"]) == (batch, True)
        assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 4
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.slow(
    reason="builds the demo organisation for its participants, then imports three times through "
    "the command line, each in a process's worth of start-up"
)
def test_the_command_line_takes_the_encoding_a_saved_mapping_and_refuses_a_partial_replay(
    qms,  # noqa: F811
    fresh_db,
    tmp_path,
) -> None:
    tokens = dict(line.split("=", 1) for line in qms("demo", "--no-serve").stdout.split())
    spec = tmp_path / "end.yaml"
    spec.write_text(
        "code: MENTEE-END\nname: End survey\nrespondent: both\nquestions:\n"
        "  - {code: SAT, text: Satisfied, type: scale, scale_min: 1, scale_max: 5}\n"
        "  - {code: MET, text: Met, type: choice, options: [in person, video, phone]}\n"
        "  - {code: HOURS, text: Hours, type: number, number_min: 0}\n"
        "  - {code: NOTE, text: Note, type: text}\n"
    )
    qms("instruments", "load", str(spec))
    export = survey_exports.questback(("P-0001", "P-0000"))
    saved = make_client(fresh_db).post(
        "/api/v1/instruments/MENTEE-END/mappings",
        headers=auth(tokens["QMS_IMPORTER_TOKEN"]),
        json={"name": "questback", "source": "Questback", "columns": export.mapping},
    )
    assert saved.status_code == 201, saved.text
    path = tmp_path / export.name
    path.write_bytes(export.content)
    command = ["import", "evaluations", str(path), "--shape", "wide", "--instrument"]
    command += ["MENTEE-END", "--mapping", "questback", "--as", "demo-importer"]
    unnamed = qms(*command, code=2)
    assert "name its encoding (such as windows-1252)" in " ".join(unnamed.stderr.split())
    command += ["--encoding", "windows-1252", "--delimiter", "semicolon"]
    first = qms(*command, "--partial")
    assert "1 written, 1 rejected" in first.stderr
    with fresh_db.unit_of_work(write=False) as session:
        newest = session.scalars(
            select(EvaluationBatch).order_by(EvaluationBatch.id.desc())
        ).first()
        assert newest is not None
        assert newest.mapping is not None
        assert newest.mapping.name == "questback"
    assert "There is no participant with this code." in first.stdout
    again = runner.invoke(app, command)
    assert again.exit_code not in (0, None)
    assert "imported before in part" in " ".join(again.stderr.split())


class TestPickingColumnsOnThePage:
    def test_the_page_reads_the_header_and_the_picks_import_and_are_saved(
        self, client, session, survey
    ) -> None:
        from qms.evaluations.models import ImportMapping
        from tests.web import csrf_of, sign_in, web_user

        sign_in(client, web_user(session, Role.quality_lead))
        token = csrf_of(client.get("/imports/new").text)
        export = survey_exports.nettskjema(survey["codes"])
        read = client.post(
            "/imports/new",
            data={
                "csrf_token": token,
                "kind": "evaluations",
                "instrument": "MENTEE-END",
                "step": "columns",
            },
            files={"file": (export.name, io.BytesIO(export.content), "text/csv")},
        )
        assert read.status_code == 200, read.text[:2000]
        pending = re.search(r'name="pending" value="([^"]+)"', read.text)
        assert pending is not None
        # A choice per question, of the file's own columns; the likely ones already picked.
        for target in ("participant", "submitted_at", "SAT", "MET", "HOURS", "NOTE"):
            assert f'name="map-{target}"' in read.text
        assert '<option value="deltaker" selected>' in read.text
        assert '<option value="$answer_time_ms">' in read.text
        picks = {f"map-{target}": column for column, target in export.mapping.items()}
        form = {
            "csrf_token": token,
            "pending": pending.group(1),
            "kind": "evaluations",
            "shape": "wide",
            "instrument": "MENTEE-END",
            "mode": "all",
        }
        # One column picked for two questions is refused beside the second, and the picks stay.
        twice = client.post("/imports/new", data={**form, **picks, "map-MET": "fornoyd"})
        assert twice.status_code == 422
        assert "is picked for SAT already" in twice.text
        assert '<option value="timer" selected>' in twice.text
        done = client.post(
            "/imports/new",
            data={**form, **picks, "save_as": "nettskjema", "save_source": "Nettskjema"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text[:3000]
        assert "utf-8-sig · semicolon" in client.get(done.headers["location"]).text
        assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 8
        saved = session.scalars(select(ImportMapping)).one()
        assert (saved.name, saved.source, saved.columns) == (
            "nettskjema",
            "Nettskjema",
            export.mapping,
        )
        # The next export of the survey is imported by choosing the saved columns.
        assert "MENTEE-END · nettskjema (Nettskjema)" in client.get("/imports/new").text
        # The kept file is gone once imported.
        gone = client.post("/imports/new", data={**form, **picks})
        assert gone.status_code == 422
        assert "Choose the file again." in gone.text
