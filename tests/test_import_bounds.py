"""Imports that belong to a programme, stay within their limits, and let others work meanwhile."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from qms.config import get_settings
from qms.evaluations import bounds, service
from qms.evaluations.models import EvaluationBatch, EvaluationResponse, ImportProblem
from qms.evaluations.schemas import InstrumentCreate
from qms.permissions import Role
from tests.conftest import ADMIN, make_client
from tests.factories import auth, make_cohort, make_participant, make_programme, make_token
from tests.test_deviations import LOG
from tests.test_imports import INSTRUMENT

HEADER = "participant,instrument,question,answer,submitted_at\n"


def _people(session, programme, count: int) -> list[str]:
    cohort = make_cohort(
        session,
        programme,
        start_on=date.today() - timedelta(days=300),
        end_on=date.today() + timedelta(days=60),
    )
    return [make_participant(session, cohort).code for _ in range(count)]


def _build(session) -> dict[str, Any]:
    lead = auth(make_token(session, Role.quality_lead))
    service.create_instrument(
        session, actor=ADMIN, data=InstrumentCreate.model_validate(INSTRUMENT)
    )
    a, b = make_programme(session, code="PROG-A"), make_programme(session, code="PROG-B")
    return {
        "lead": lead,
        "a": _people(session, a, 3),
        "b": _people(session, b, 3),
        "importer": auth(make_token(session, Role.importer, name="survey-script")),
        "other_importer": auth(make_token(session, Role.importer, name="other-script")),
        "auditor_a": auth(make_token(session, Role.auditor, programme_code="PROG-A")),
        "auditor_b": auth(make_token(session, Role.auditor, programme_code="PROG-B")),
    }


@pytest.fixture
def setup(session) -> dict[str, Any]:
    return _build(session)


def _post(client, headers, content: bytes, name: str = "answers.csv", **form: Any):
    return client.post(
        "/api/v1/imports/evaluations",
        headers=headers,
        files={"file": (name, io.BytesIO(content))},
        data={k: str(v) for k, v in form.items()},
    )


def _rows(people: list[str], day: str = "2026-06-01", answer: int = 4) -> str:
    return "".join(f"{p},FINAL,SAT,{answer},{day}\n" for p in people)


def _count(session, model, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def limits(monkeypatch) -> Any:
    """The settings, changed for one test and read afresh by the import."""
    settings = get_settings()
    return lambda **values: [monkeypatch.setattr(settings, k, v) for k, v in values.items()]


class TestABatchBelongsToAProgramme:
    def test_the_batch_takes_its_rows_programme_and_only_that_programmes_readers_see_it(
        self, client, session, setup
    ) -> None:
        r = _post(client, setup["importer"], (HEADER + _rows(setup["a"])).encode())
        assert r.status_code == 201, r.text
        batch = session.get(EvaluationBatch, r.json()["id"])
        assert batch is not None
        assert batch.programme_id is not None
        assert client.get(
            f"/api/v1/imports/{batch.id}", headers=setup["auditor_a"]
        ).status_code == (200)
        assert client.get(
            f"/api/v1/imports/{batch.id}", headers=setup["auditor_b"]
        ).status_code == (404)
        listed_b = client.get("/api/v1/imports", headers=setup["auditor_b"]).json()
        assert batch.id not in [b["id"] for b in listed_b]
        listed_a = client.get("/api/v1/imports", headers=setup["auditor_a"]).json()
        assert batch.id in [b["id"] for b in listed_a]

    def test_a_file_mixing_programmes_is_refused_naming_the_other_programmes_rows(
        self, client, session, setup
    ) -> None:
        content = HEADER + _rows(setup["a"][:2]) + _rows(setup["b"][:1]) + _rows(setup["a"][2:])
        r = _post(client, setup["importer"], content.encode())
        assert r.status_code == 422, r.text
        problems = [(e["row"], e["field"]) for e in r.json()["errors"]]
        assert problems == [(4, "participant")]
        assert "PROG-B" in r.json()["errors"][0]["message"]
        assert "PROG-A" in r.json()["errors"][0]["message"]
        assert _count(session, EvaluationBatch) == 0

        partial = _post(client, setup["importer"], content.encode(), mode="partial")
        assert partial.status_code == 201, partial.text
        assert (partial.json()["rows_written"], partial.json()["rows_rejected"]) == (3, 1)

    def test_a_second_importer_sending_the_same_file_learns_only_that_it_came_in(
        self, client, session, setup
    ) -> None:
        content = (HEADER + _rows(setup["a"])).encode()
        first = _post(client, setup["importer"], content)
        assert first.status_code == 201
        again = _post(client, setup["importer"], content)
        assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])

        other = _post(client, setup["other_importer"], content)
        assert other.status_code == 409, other.text
        body = other.text
        assert "imported already" in other.json()["detail"]
        for secret in ("survey-script", str(first.json()["sha256"]), *setup["a"]):
            assert secret not in body
        assert _count(session, EvaluationBatch) == 1

    def test_an_idempotency_key_of_another_importer_is_a_conflict_without_its_batch(
        self, client, setup
    ) -> None:
        content = (HEADER + _rows(setup["a"])).encode()
        key = {"Idempotency-Key": "nightly-2026-06-01"}
        assert _post(client, {**setup["importer"], **key}, content).status_code == 201
        other = _post(client, {**setup["other_importer"], **key}, content)
        assert other.status_code == 409
        assert "survey-script" not in other.text


class TestBoundedProblems:
    def test_the_answer_names_the_first_problems_and_counts_them_all(
        self, client, session, setup, limits
    ) -> None:
        limits(import_problems_shown=5)
        good = _rows(setup["a"][:1])
        bad = "".join(f"P-NOBODY{n},FINAL,SAT,4,2026-06-01\n" for n in range(12))
        content = (HEADER + good + bad).encode()

        refused = _post(client, setup["importer"], content)
        assert refused.status_code == 422
        errors = refused.json()["errors"]
        assert [e["row"] for e in errors[:5]] == [3, 4, 5, 6, 7]
        assert len(errors) == 6
        assert "5 of 12" in errors[-1]["message"]

        written = _post(client, setup["importer"], content, mode="partial")
        assert written.status_code == 201, written.text
        batch = written.json()
        assert (batch["rows_written"], batch["rows_rejected"], len(batch["rejected"])) == (1, 12, 5)
        kept = session.scalars(
            select(ImportProblem.row)
            .where(ImportProblem.batch_id == batch["id"])
            .order_by(ImportProblem.row)
        ).all()
        assert kept == list(range(3, 15))
        assert session.get(EvaluationBatch, batch["id"]).problems_total == 12

    def test_every_problem_is_read_a_page_at_a_time_and_taken_out_as_a_file(
        self, client, session, setup, limits
    ) -> None:
        limits(import_problems_shown=5)
        bad = "".join(f"P-NOBODY{n},FINAL,SAT,4,2026-06-01\n" for n in range(12))
        content = (HEADER + _rows(setup["a"][:1]) + bad).encode()
        batch = _post(client, setup["importer"], content, mode="partial").json()
        url = f"/api/v1/imports/{batch['id']}/problems"

        rows, cursor = [], None
        while True:
            page = client.get(
                url,
                params={"limit": 5, **({"cursor": cursor} if cursor else {})},
                headers={**setup["lead"], "Accept-Language": "nb"},
            )
            assert page.status_code == 200, page.text
            rows += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        # Past the five the batch shows, every problem, by row and column, in the reader's words.
        assert [r["row"] for r in rows] == list(range(3, 15))
        assert {r["column"] for r in rows} == {"participant"}
        assert all("P-NOBODY" not in r["message"] for r in rows)
        assert rows[0]["message"] == "Det finnes ingen deltaker med denne koden."

        sheet = client.get(url, params={"format": "csv"}, headers=setup["lead"])
        assert sheet.status_code == 200
        assert "import-" in sheet.headers["content-disposition"]
        lines = sheet.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "Row,Column,Problem"
        assert len(lines) == 1 + 12
        assert lines[1].startswith("3,participant,")

    def test_the_batch_page_shows_the_first_problems_and_gives_every_one_as_a_file(
        self, client, session, setup, limits
    ) -> None:
        from tests.web import sign_in, web_user

        limits(import_problems_shown=5)
        bad = "".join(f"P-NOBODY{n},FINAL,SAT,4,2026-06-01\n" for n in range(12))
        content = (HEADER + _rows(setup["a"][:1]) + bad).encode()
        batch = _post(client, setup["importer"], content, mode="partial").json()
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get(f"/imports/{batch['id']}")
        assert page.text.count("<tr><td>") == 5
        assert f'href="/imports/{batch["id"]}?format=csv"' in page.text
        sheet = client.get(f"/imports/{batch['id']}?format=csv")
        assert sheet.status_code == 200, sheet.text
        lines = sheet.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "Row,Column,Problem"
        assert [line.split(",")[0] for line in lines[1:]] == [str(n) for n in range(3, 15)]

    def test_a_batch_s_problems_are_shown_only_to_whom_the_batch_is(
        self, client, session, setup
    ) -> None:
        bad = "P-NOBODY,FINAL,SAT,4,2026-06-01\n"
        content = (HEADER + _rows(setup["a"][:1]) + bad).encode()
        batch = _post(client, setup["importer"], content, mode="partial").json()
        url = f"/api/v1/imports/{batch['id']}/problems"
        assert client.get(url, headers=setup["auditor_a"]).status_code == 200
        assert client.get(url, headers=setup["auditor_b"]).status_code == 404
        assert client.get(url, headers=setup["other_importer"]).status_code == 404
        assert client.get(url, headers=setup["importer"]).status_code == 200
        assert (
            client.get("/api/v1/imports/999999/problems", headers=setup["lead"]).status_code == 404
        )

    def test_each_repeat_names_its_first_row_however_many_there_are(self, client, setup) -> None:
        days = [date(2026, 1, 1) + timedelta(days=n) for n in range(25)]
        once = "".join(f"{setup['a'][0]},FINAL,SAT,4,{d}\n" for d in days)
        r = _post(client, setup["importer"], (HEADER + once + once).encode())
        assert r.status_code == 422
        errors = r.json()["errors"]
        # Rows 27 to 51 repeat rows 2 to 26, one for one: past the twentieth the spool is read once.
        assert [e["row"] for e in errors] == list(range(27, 52))
        assert [e["message"] for e in errors] == [
            f"This row repeats row {n}." for n in range(2, 27)
        ]


class TestLimits:
    def test_more_rows_than_the_limit_is_413_naming_it(self, client, session, setup, limits):
        limits(import_max_rows=2)
        r = _post(client, setup["importer"], (HEADER + _rows(setup["a"])).encode())
        assert r.status_code == 413, r.text
        assert "more than 2 rows" in r.json()["detail"]
        assert _count(session, EvaluationBatch) == 0

    def test_more_cells_than_the_limit_is_413(self, client, setup, limits) -> None:
        limits(import_max_cells=12)
        r = _post(client, setup["importer"], (HEADER + _rows(setup["a"])).encode())
        assert r.status_code == 413
        assert "more than 12 cells" in r.json()["detail"]

    def test_a_cell_longer_than_the_limit_is_named_by_row_and_column(
        self, client, setup, limits
    ) -> None:
        limits(import_max_cell_chars=20)
        content = (
            HEADER + _rows(setup["a"][:1]) + f"{setup['a'][1]},FINAL,NOTE,{'x' * 21},2026-06-01\n"
        )
        r = _post(client, setup["importer"], content.encode())
        assert r.status_code == 422
        assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "answer")]
        assert "20 characters" in r.json()["errors"][0]["message"]

    def _workbook(self, people: list[str], blank_rows: int = 0) -> bytes:
        book = Workbook()
        sheet = book.active
        sheet.append(["participant", "instrument", "question", "answer", "submitted_at"])
        for p in people:
            sheet.append([p, "FINAL", "SAT", 4, "2026-06-01"])
        for _ in range(blank_rows):
            sheet.append(["", "", "", "", ""])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def test_a_workbook_unpacking_past_the_limit_is_413_before_it_is_opened(
        self, client, setup, limits, monkeypatch
    ) -> None:
        content = self._workbook(setup["a"])
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(content)).infolist())
        limits(import_max_unpacked_bytes=unpacked - 1)

        def never(*_: Any, **__: Any) -> None:
            raise AssertionError("openpyxl opened a workbook past the limit")

        monkeypatch.setattr("openpyxl.load_workbook", never)
        r = _post(client, setup["importer"], content, name="answers.xlsx")
        assert r.status_code == 413, r.text
        assert str(unpacked - 1) in r.json()["detail"]

    def test_a_workbook_with_more_shared_strings_than_the_limit_is_413(
        self, client, setup, limits
    ) -> None:
        limits(import_max_shared_strings=50)
        # A table of 60 shared strings, as Excel writes it (openpyxl writes its texts inline).
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(self._workbook(setup["a"]))) as book,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy,
        ):
            for part in book.infolist():
                copy.writestr(part, book.read(part))
            strings = "".join(f"<si><t>text {n}</t></si>" for n in range(60))
            copy.writestr(
                "xl/sharedStrings.xml",
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'count="60" uniqueCount="60">{strings}</sst>',
            )
        r = _post(client, setup["importer"], out.getvalue(), name="a.xlsx")
        assert r.status_code == 413, r.text
        assert "more than 50 different texts" in r.json()["detail"]

    def test_a_sheet_ends_at_a_run_of_empty_rows(self, client, setup, limits) -> None:
        limits(import_empty_rows_end=10)
        content = self._workbook(setup["a"], blank_rows=500)
        r = _post(client, setup["importer"], content, name="answers.xlsx")
        assert r.status_code == 201, r.text
        assert (r.json()["rows_total"], r.json()["rows_written"]) == (3, 3)

    def test_empty_rows_between_full_ones_count_towards_the_rows_limit(
        self, client, setup, limits
    ) -> None:
        limits(import_max_rows=5, import_empty_rows_end=10)
        book = Workbook()
        sheet = book.active
        sheet.append(["participant", "instrument", "question", "answer", "submitted_at"])
        for day in ("2026-06-01", "2026-06-02"):
            sheet.append([setup["a"][0], "FINAL", "SAT", 4, day])
            for _ in range(4):
                sheet.append(["", "", "", "", ""])
        out = io.BytesIO()
        book.save(out)
        r = _post(client, setup["importer"], out.getvalue(), name="answers.xlsx")
        # Two rows of answers, but ten rows of the sheet read: past the limit of five.
        assert r.status_code == 413, r.text
        assert "more than 5 rows" in r.json()["detail"]

    def test_a_json_array_is_read_one_object_at_a_time(self, client, setup, monkeypatch) -> None:
        def whole(*_: Any, **__: Any) -> None:
            raise AssertionError("the whole array was parsed at once")

        rows = [
            {
                "participant": p,
                "instrument": "FINAL",
                "question": "SAT",
                "answer": 4.5,
                "submitted_at": "2026-06-01",
            }
            for p in setup["a"]
        ]
        content = ("[" + ",".join(json.dumps(r) for r in rows) + "]").encode()
        monkeypatch.setattr(json, "loads", whole)
        monkeypatch.setattr(json, "load", whole)
        r = _post(client, setup["importer"], content, name="answers.json")
        monkeypatch.undo()
        assert r.status_code == 201, r.text
        assert r.json()["rows_written"] == 3


class TestTheWriteLockIsHeldOnlyToWrite:
    """A file is checked outside the write lock: others write and read meanwhile."""

    def test_others_write_and_read_while_a_file_is_checked(self, fresh_db, monkeypatch) -> None:
        client, others = make_client(fresh_db), make_client(fresh_db)
        with fresh_db.unit_of_work() as session:
            setup = _build(session)
        lead = setup["lead"]
        days = (date(2016, 1, 1) + timedelta(days=n) for n in range(3000))
        content = (
            HEADER
            + _rows(setup["a"])
            + "".join(f"{setup['a'][0]},FINAL,SAT,{1 + d.day % 5},{d}\n" for d in days)
        ).encode()

        checking, others_done = threading.Event(), threading.Event()
        seen: dict[str, Any] = {}
        bounded = bounds.bounded

        def paused(name: str, rows: Iterator[Any]) -> Iterator[Any]:
            # Halfway through the check, the others' work must be able to finish.
            for count, item in enumerate(bounded(name, rows)):
                if count == 1500:
                    checking.set()
                    seen["others_finished_during_check"] = others_done.wait(timeout=20)
                yield item

        monkeypatch.setattr(service, "bounded", paused)
        result: dict[str, Any] = {}

        def run_import() -> None:
            result["import"] = _post(client, setup["importer"], content)

        importer = threading.Thread(target=run_import)
        importer.start()
        assert checking.wait(timeout=60)
        logged = others.post(
            "/api/v1/deviations",
            headers=lead,
            json={**LOG, "programme_id": _programme_id(fresh_db, "PROG-A")},
        )
        listed = others.get("/api/v1/imports", headers=setup["auditor_a"])
        others_done.set()
        importer.join(timeout=120)
        assert logged.status_code == 201, logged.text
        assert listed.status_code == 200
        assert seen["others_finished_during_check"] is True
        assert result["import"].status_code == 201, result["import"].text
        with fresh_db.unit_of_work(write=False) as session:
            assert _count(session, EvaluationResponse) == 3003

    def test_a_row_imported_meanwhile_is_found_again_in_the_write(
        self, fresh_db, monkeypatch
    ) -> None:
        client, other = make_client(fresh_db), make_client(fresh_db)
        with fresh_db.unit_of_work() as session:
            setup = _build(session)
        bounded = bounds.bounded
        pending: list[bytes] = []
        answers: list[Any] = []

        def with_another_import(name: str, rows: Iterator[Any]) -> Iterator[Any]:
            for count, item in enumerate(bounded(name, rows)):
                if count == 1 and pending:
                    # Another importer brings in one of the same rows while this file is checked.
                    answers.append(_post(other, setup["other_importer"], pending.pop()))
                yield item

        monkeypatch.setattr(service, "bounded", with_another_import)
        pending.append((HEADER + _rows(setup["a"][1:2], day="2026-06-01")).encode())
        refused = _post(client, setup["importer"], (HEADER + _rows(setup["a"])).encode())
        assert answers[-1].status_code == 201, answers[-1].text
        assert refused.status_code == 422, refused.text
        assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(3, "answer")]
        assert "meanwhile" in refused.json()["errors"][0]["message"]

        pending.append((HEADER + _rows(setup["a"][2:], day="2026-06-02")).encode())
        content = (HEADER + _rows(setup["a"], day="2026-06-02")).encode()
        partial = _post(client, setup["importer"], content, mode="partial")
        assert answers[-1].status_code == 201, answers[-1].text
        assert partial.status_code == 201, partial.text
        assert (partial.json()["rows_written"], partial.json()["rows_rejected"]) == (2, 1)
        assert partial.json()["rejected"][0]["row"] == 4
        with fresh_db.unit_of_work(write=False) as session:
            assert _count(session, EvaluationResponse) == 4


def _programme_id(database, code: str) -> int:
    from qms.programmes.models import Programme

    with database.unit_of_work(write=False) as session:
        found = session.scalar(select(Programme.id).where(Programme.code == code))
        assert found is not None
        return int(found)
