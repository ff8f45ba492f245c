"""A list taken out for a spreadsheet names the programme and the cohort by their codes, never by
the database's ids; JSON, for a program, keeps the API's ids."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from qms.permissions import Role
from tests.factories import (
    auth,
    make_cohort,
    make_deviation,
    make_participant,
    make_programme,
    make_token,
)
from tests.web import sign_in, web_user


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_deviation_s_programme_is_its_code_in_csv_and_xlsx_and_its_id_in_json(
    client, session
) -> None:
    programme = make_programme(session, code="VIA-MENTOR")
    make_deviation(session, programme_id=programme.id, title="Pair met once")
    headers = auth(make_token(session, Role.auditor))
    (row,) = _csv(client.get("/api/v1/deviations?format=csv", headers=headers))
    assert row["Programme"] == "VIA-MENTOR"
    book = client.get("/api/v1/deviations?format=xlsx", headers=headers)
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
    header, cells = list(sheet.iter_rows(values_only=True))
    assert dict(zip(header, cells, strict=True))["Programme"] == "VIA-MENTOR"
    (item,) = client.get("/api/v1/deviations?format=json", headers=headers).json()["items"]
    assert item["programme_id"] == programme.id


def test_a_participant_s_cohort_is_its_code(client, session) -> None:
    cohort = make_cohort(session, make_programme(session), code="2026-AUTUMN")
    make_participant(session, cohort)
    coordinator = auth(make_token(session, Role.coordinator))
    (row,) = _csv(client.get("/api/v1/participants?format=csv", headers=coordinator))
    assert row["Cohort"] == "2026-AUTUMN"


def test_the_pages_exports_say_the_codes_too(client, session) -> None:
    programme = make_programme(session, code="VIA-MENTOR")
    cohort = make_cohort(session, programme, code="2026-AUTUMN")
    make_deviation(session, programme_id=programme.id)
    make_participant(session, cohort)
    sign_in(client, web_user(session, Role.quality_lead))
    (deviation,) = _csv(client.get("/deviations?format=csv"))
    assert deviation["Programme"] == "VIA-MENTOR"
    (participant,) = _csv(client.get("/participants?format=csv"))
    assert participant["Cohort"] == "2026-AUTUMN"
