"""The programmes, the master list of procedures and the import batches taken out as files, as
an auditor's spreadsheet reads them: labels in the reader's language, codes said in words."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from qms.permissions import Role
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureCreate
from tests.factories import ADMIN, auth, make_programme, make_token


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_programmes_as_csv_and_xlsx(client, session) -> None:
    make_programme(session, code="VIA-MENTOR", name="Via mentoring")
    make_programme(session, code="MINERVA", name="Minerva")
    auditor = auth(make_token(session, Role.auditor))
    rows = _csv(
        client.get("/api/v1/programmes?format=csv", headers={**auditor, "Accept-Language": "nb"})
    )
    assert [r["Kode"] for r in rows] == ["VIA-MENTOR", "MINERVA"]
    assert {r["Status"] for r in rows} != {"planned", "active"}, "a stored code is not a label"
    book = client.get("/api/v1/programmes?format=xlsx", headers=auditor)
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert [dict(zip(header, c, strict=True))["Name"] for c in cells] == [
        "Via mentoring",
        "Minerva",
    ]
    page = client.get("/api/v1/programmes", headers=auditor).json()
    assert [p["code"] for p in page["items"]] == ["VIA-MENTOR", "MINERVA"]


def test_the_master_list_of_procedures_as_csv(client, session) -> None:
    procedures.create(
        session,
        actor=ADMIN,
        data=ProcedureCreate(
            code="PR-05",
            title="Mid-programme follow-up",
            owner_role=Role.coordinator,
            review_months=12,
            content="Each pair is followed up at the midpoint.",
            change_summary="First issue",
        ),
    )
    auditor = auth(make_token(session, Role.auditor))
    (row,) = _csv(
        client.get("/api/v1/procedures?format=csv", headers={**auditor, "Accept-Language": "sv"})
    )
    assert (row["Kod"], row["Titel"]) == ("PR-05", "Mid-programme follow-up")
    assert row["Status"] not in ("draft", ""), "the status is said in Swedish, not as its code"


def test_the_import_batches_as_csv(client, session) -> None:
    from tests.test_imports import INSTRUMENT

    lead = auth(make_token(session, Role.quality_lead))
    assert client.post("/api/v1/instruments", headers=lead, json=INSTRUMENT).status_code == 201
    empty = client.post(
        "/api/v1/imports/outcomes",
        headers=lead,
        files={"file": ("outcomes.csv", b"participant,outcome,date,note\n")},
        data={"mode": "partial"},
    )
    assert empty.status_code == 201, empty.text
    (row,) = _csv(
        client.get("/api/v1/imports?format=csv", headers={**lead, "Accept-Language": "nb"})
    )
    assert row["Fil"] == "outcomes.csv"
    assert row["Type"] == "utfall"
    assert row["Rader"] == "0"


def test_json_of_an_unpaged_list_is_the_list_itself(client, session) -> None:
    make_programme(session)
    lead = auth(make_token(session, Role.quality_lead))
    for path in ("/api/v1/procedures", "/api/v1/imports"):
        plain = client.get(path, headers=lead)
        asked = client.get(path, params={"format": "json"}, headers=lead)
        assert asked.status_code == 200, asked.text
        assert isinstance(asked.json(), list), "the schema's array, not a page"
        assert asked.json() == plain.json()


def test_the_batch_list_shows_the_newest_and_its_file_holds_every_batch(client, session) -> None:
    lead = auth(make_token(session, Role.quality_lead))
    for n in range(3):
        empty = client.post(
            "/api/v1/imports/outcomes",
            headers=lead,
            files={
                "file": (f"outcomes-{n}.csv", f"participant,outcome,date,note{',' * n}\n".encode())
            },
            data={"mode": "partial"},
        )
        assert empty.status_code == 201, empty.text
    newest = client.get("/api/v1/imports?limit=2", headers=lead).json()
    assert [b["file_name"] for b in newest] == ["outcomes-2.csv", "outcomes-1.csv"]
    every = _csv(client.get("/api/v1/imports?format=csv", headers=lead))
    assert [r["File"] for r in every] == ["outcomes-2.csv", "outcomes-1.csv", "outcomes-0.csv"]
