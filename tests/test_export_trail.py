"""The audit trail and the access log taken out as files, as an auditor's spreadsheet reads them:
who by name, each record by its number, what happened as a sentence, codes said in words."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from qms.permissions import Role
from tests.factories import auth, make_deviation, make_programme, make_token, signing
from tests.web import sign_in, web_user


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _investigate(client, headers, deviation_id: int) -> None:
    version = client.get(f"/api/v1/deviations/{deviation_id}", headers=headers).headers["etag"]
    moved = client.post(
        f"/api/v1/deviations/{deviation_id}/transitions",
        headers={**headers, "If-Match": version},
        json={**signing("deviation", "investigating"), "to": "investigating"},
    )
    assert moved.status_code == 200, moved.text


def test_the_trail_as_csv_names_records_people_and_moves_in_the_readers_language(
    client, session
) -> None:
    d = make_deviation(session, severity="major")
    lead = auth(make_token(session, Role.quality_lead, name="kari"))
    _investigate(client, lead, d.id)
    auditor = auth(make_token(session, Role.auditor))
    rows = _csv(
        client.get(
            f"/api/v1/audit/events?record={d.number}&format=csv",
            headers={**auditor, "Accept-Language": "nb"},
        )
    )
    assert [r["Registrering"] for r in rows] == [d.number, d.number]
    logged, moved = rows
    assert logged["Hva skjedde"] == f"Avvik {d.number} registrert"
    assert logged["Type registrering"] == "avvik"
    # The move said as the page says it, the states by their Norwegian words, never their codes.
    assert moved["Hva skjedde"].startswith("Status: ")
    assert "investigating" not in moved["Hva skjedde"]
    assert moved["Hvem"] == "kari"
    assert len(moved["Hashverdi"]) == 64


def test_the_trail_as_xlsx_holds_every_event_of_the_filter(client, session) -> None:
    made = [make_deviation(session) for _ in range(3)]
    auditor = auth(make_token(session, Role.auditor))
    book = client.get("/api/v1/audit/events?entity=deviation&format=xlsx", headers=auditor)
    assert book.status_code == 200, book.text
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
    header, *cells = list(sheet.iter_rows(values_only=True))
    records = [dict(zip(header, c, strict=True))["Record"] for c in cells]
    assert records == [d.number for d in made]
    # JSON keeps the API's events, codes and all.
    events = client.get("/api/v1/audit/events?entity=deviation&format=json", headers=auditor)
    assert [e["action"] for e in events.json()["items"]] == ["deviation.created"] * 3


def test_a_programme_scoped_auditor_takes_out_only_its_programmes_events(client, session) -> None:
    ours, theirs = make_programme(session), make_programme(session)
    mine = make_deviation(session, programme_id=ours.id)
    other = make_deviation(session, programme_id=theirs.id)
    scoped = auth(make_token(session, Role.auditor, programme_code=ours.code))
    shown = {
        r["Record"] for r in _csv(client.get("/api/v1/audit/events?format=csv", headers=scoped))
    }
    assert mine.number in shown
    assert other.number not in shown


def test_the_access_log_as_csv_says_how_each_reader_signed_in(client, session) -> None:
    auditor = auth(make_token(session, Role.auditor, name="revisor"))
    assert client.get("/api/v1/deviations", headers=auditor).status_code == 200
    rows = _csv(client.get("/api/v1/audit/access?format=csv", headers=auditor))
    read = next(r for r in rows if r["What was read"] == "GET /api/v1/deviations")
    assert read["Who"] == "revisor"
    assert read["Signed in with"] == "access token"


def test_the_trail_page_offers_its_events_as_a_file_with_its_filters(client, session) -> None:
    d = make_deviation(session)
    make_deviation(session)
    sign_in(client, web_user(session, Role.auditor))
    page = client.get(f"/audit-trail?record={d.number}")
    assert f'href="/audit-trail?record={d.number}&amp;format=csv"' in page.text
    rows = _csv(client.get(f"/audit-trail?record={d.number}&format=csv"))
    assert [r["Record"] for r in rows] == [d.number]
    assert rows[0]["What happened"] == f"Deviation {d.number} logged"
