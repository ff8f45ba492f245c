"""Every list taken out as CSV, XLSX and JSON: read back as a person's spreadsheet and a program
would, with the list's filters, labels in the reader's language and no formula let in."""

from __future__ import annotations

import csv
import gc
import html
import io
import json
import re
import sys
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from qms import exports
from qms.access.models import AccessEntry
from qms.errors import NotFound
from qms.exports import XLSX, neutralise
from qms.i18n import Text
from qms.permissions import Role
from tests.factories import (
    auth,
    make_action,
    make_cohort,
    make_deviation,
    make_participant,
    make_programme,
    make_token,
    make_user,
)

ATTACK = '=HYPERLINK("http://evil.example","click")'


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf"), "Excel reads UTF-8 by its BOM"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


class TestDeviations:
    def test_csv_in_the_readers_language_with_labels_and_the_filters(self, client, session) -> None:
        make_deviation(session, severity="major", title="Pair met once")
        make_deviation(session, severity="minor", title="Log late")
        token = make_token(session, Role.auditor)
        r = client.get(
            "/api/v1/deviations?format=csv&severity=major",
            headers={**auth(token), "Accept-Language": "nb"},
        )
        rows = _csv(r)
        assert [row["Tittel"] for row in rows] == ["Pair met once"]
        assert rows[0]["Alvorlighet"] == "større"
        assert rows[0]["Nummer"].startswith("DEV-")
        disposition = r.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="deviations-')
        assert ".csv" in disposition

    def test_an_accept_header_asks_the_same(self, client, session) -> None:
        make_deviation(session, title="By accept")
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/deviations", headers={**auth(token), "Accept": "text/csv"})
        assert [row["Title"] for row in _csv(r)] == ["By accept"]

    def test_formulas_are_neutralised_in_csv_and_xlsx(self, client, session) -> None:
        make_deviation(session, title=ATTACK, description="+1 meeting, -2 mentors, @coordinator")
        token = make_token(session, Role.auditor)
        (row,) = _csv(client.get("/api/v1/deviations?format=csv", headers=auth(token)))
        assert row["Title"] == "'" + ATTACK
        assert row["Description"] == "'+1 meeting, -2 mentors, @coordinator"
        (cells,) = _xlsx(client.get("/api/v1/deviations?format=xlsx", headers=auth(token)))
        assert cells["Title"] == "'" + ATTACK
        assert cells["Description"].startswith("'+1")

    def test_xlsx_holds_every_row_sorted_and_in_the_language(self, client, session) -> None:
        for n in range(230):  # more than a page: the file holds them all
            make_deviation(session, title=f"Finding {n:03}")
        token = make_token(session, Role.auditor)
        r = client.get(
            "/api/v1/deviations?format=xlsx&sort=title",
            headers={**auth(token), "Accept-Language": "sv"},
        )
        rows = _xlsx(r)
        assert [row["Titel"] for row in rows] == [f"Finding {n:03}" for n in range(230)]
        assert rows[0]["Status"] == "öppen"

    def test_json_keeps_the_apis_shape_and_codes(self, client, session) -> None:
        made = make_deviation(session, severity="critical")
        token = make_token(session, Role.auditor)
        page = client.get("/api/v1/deviations", headers=auth(token)).json()
        r = client.get("/api/v1/deviations?format=json", headers=auth(token))
        assert r.status_code == 200
        assert "attachment" in r.headers["content-disposition"]
        body = json.loads(r.content)
        assert body == {"items": page["items"], "next_cursor": None}
        assert body["items"][0]["id"] == made.id
        assert body["items"][0]["severity"] == "critical"

    def test_an_auditors_export_is_a_read_in_the_access_log(self, client, session) -> None:
        make_deviation(session)
        token = make_token(session, Role.auditor)
        assert client.get("/api/v1/deviations?format=csv", headers=auth(token)).status_code == 200
        client.app.state.access_log.flush()
        reads = session.scalars(select(AccessEntry.request)).all()
        assert "GET /api/v1/deviations?format=csv" in reads

    def test_an_unknown_format_is_a_422_naming_format(self, client, session) -> None:
        token = make_token(session, Role.auditor)
        r = client.get("/api/v1/deviations?format=pdf", headers=auth(token))
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["format"]


def test_actions_as_csv(client, session) -> None:
    owner = make_user(session, Role.coordinator)
    deviation = make_deviation(session)
    action = make_action(session, [deviation], owner, title="-cmd|' /C calc'!A0")
    token = make_token(session, Role.auditor)
    (row,) = _csv(client.get("/api/v1/actions?format=csv", headers=auth(token)))
    assert row["Number"] == action.number
    assert row["Title"] == "'-cmd|' /C calc'!A0"
    assert row["Status"] == "planned"
    assert row["Deviations"] == deviation.number


def test_participants_are_codes_only_for_an_auditor(client, session) -> None:
    cohort = make_cohort(session, make_programme(session))
    made = make_participant(session, cohort, personal={"name": "Kari Nordmann", "email": "k@x.no"})
    auditor = make_token(session, Role.auditor)
    coordinator = make_token(session, Role.coordinator)
    (seen,) = _xlsx(client.get("/api/v1/participants?format=xlsx", headers=auth(auditor)))
    assert seen["Code"] == made.code
    assert seen["Name"] is None
    assert "Kari" not in client.get("/api/v1/participants?format=csv", headers=auth(auditor)).text
    (full,) = _csv(client.get("/api/v1/participants?format=csv", headers=auth(coordinator)))
    assert (full["Code"], full["Name"], full["Email"]) == (made.code, "Kari Nordmann", "k@x.no")


def test_the_openapi_declares_the_files(client) -> None:
    spec = client.get("/openapi.json").json()
    paths = ("deviations", "actions", "participants", "evaluation-answers", "outcomes")
    for path in (f"/api/v1/{name}" for name in paths):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        binary = {"type": "string", "format": "binary"}
        assert content["text/csv"]["schema"] == binary, path
        assert content[XLSX]["schema"] == binary, path
        assert "application/json" in content


def test_neutralise_leaves_other_text_alone() -> None:
    assert neutralise("Pair met once") == "Pair met once"
    assert neutralise("@home") == "'@home"
    assert neutralise("\t=1") == "'\t=1"


class TestCommandLine:
    def test_deviations_list_as_json_and_csv(self, fresh_db, monkeypatch) -> None:
        from qms.cli import app
        from qms.config import get_settings
        from tests.factories import make_deviation as made

        url = fresh_db.engine.url.render_as_string(hide_password=False)
        with fresh_db.unit_of_work() as session:
            made(session, severity="major", title=ATTACK)
            made(session, severity="minor", title="Log late")
        monkeypatch.setenv("QMS_DATABASE_URL", url)
        get_settings.cache_clear()
        runner = CliRunner()
        listed = runner.invoke(app, ["deviations", "list", "--format", "json"])
        assert listed.exit_code == 0, listed.stderr
        items = json.loads(listed.stdout)["items"]
        assert [(d["title"], d["severity"]) for d in items] == [
            ("Log late", "minor"),
            (ATTACK, "major"),
        ]
        options = ["--format", "csv", "--severity", "major"]
        table = runner.invoke(app, ["--language", "nb", "deviations", "list", *options])
        assert table.exit_code == 0, table.stderr
        (row,) = list(csv.DictReader(io.StringIO(table.stdout)))
        assert row["Tittel"] == "'" + ATTACK
        assert row["Alvorlighet"] == "større"
        get_settings.cache_clear()

    def test_actions_list_as_csv_and_json(self, fresh_db, monkeypatch) -> None:
        from qms.cli import app
        from qms.config import get_settings

        with fresh_db.unit_of_work() as session:
            owner = make_user(session, Role.coordinator)
            deviation = make_deviation(session)
            action = make_action(session, [deviation], owner, title="@SUM(A1:A9)")
            number, deviation_number = action.number, deviation.number
        url = fresh_db.engine.url.render_as_string(hide_password=False)
        monkeypatch.setenv("QMS_DATABASE_URL", url)
        get_settings.cache_clear()
        runner = CliRunner()
        listed = runner.invoke(app, ["actions", "list", "--format", "csv"])
        assert listed.exit_code == 0, listed.stderr
        (row,) = list(csv.DictReader(io.StringIO(listed.stdout)))
        assert (row["Number"], row["Title"], row["Deviations"]) == (
            number,
            "'@SUM(A1:A9)",
            deviation_number,
        )
        read = runner.invoke(app, ["actions", "list", "--format", "json"])
        (item,) = json.loads(read.stdout)["items"]
        assert (item["number"], item["status"], item["title"]) == (number, "planned", "@SUM(A1:A9)")
        get_settings.cache_clear()


class TestPages:
    def test_the_deviation_list_has_an_export_link_that_keeps_its_filters(
        self, client, session
    ) -> None:
        from tests.web import sign_in, web_user

        make_deviation(session, severity="major", title="Pair met once")
        make_deviation(session, severity="minor", title="Log late")
        sign_in(client, web_user(session, Role.auditor))
        page = client.get(
            "/deviations?severity=major&sort=title", headers={"Accept-Language": "sv"}
        )
        assert page.status_code == 200
        links = {
            fmt: html.unescape(href)
            for href, fmt in re.findall(
                r'<a href="(/deviations\?[^"]*format=(\w+))" download>', page.text
            )
        }
        assert set(links) == {"csv", "xlsx", "json"}
        assert "severity=major" in links["csv"]
        assert "sort=title" in links["csv"]
        r = client.get(links["csv"], headers={"Accept-Language": "sv"})
        assert [row["Titel"] for row in _csv(r)] == ["Pair met once"]
        rows = _xlsx(client.get(links["xlsx"]))
        assert [row["Title"] for row in rows] == ["Pair met once"]
        client.app.state.access_log.flush()
        reads = session.scalars(select(AccessEntry.request)).all()
        assert any("format=csv" in read for read in reads), reads

    def test_the_action_list_exports_too(self, client, session) -> None:
        from tests.web import sign_in, web_user

        owner = make_user(session, Role.coordinator)
        action = make_action(session, [make_deviation(session)], owner)
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get("/actions")
        assert 'href="/actions?format=csv" download' in page.text
        (row,) = _csv(client.get("/actions?format=csv"))
        assert row["Number"] == action.number


def test_pairs_as_xlsx_by_code(client, session) -> None:
    from tests.factories import make_pair

    cohort = make_cohort(session, make_programme(session))
    mentor = make_participant(session, cohort, "mentor", personal={"name": "Mentor Named"})
    mentee = make_participant(session, cohort, personal={"name": "Mentee Named"})
    pair = make_pair(session, mentor, mentee)
    token = make_token(session, Role.auditor)
    r = client.get("/api/v1/pairs?format=xlsx", headers={**auth(token), "Accept-Language": "nb"})
    (row,) = _xlsx(r)
    assert (row["Kode"], row["Mentor"], row["Status"]) == (pair.code, mentor.code, "matchet")
    assert b"Named" not in r.content


def test_the_participant_and_pair_pages_export_by_code_for_an_auditor(client, session) -> None:
    from tests.factories import make_pair
    from tests.web import sign_in, web_user

    cohort = make_cohort(session, make_programme(session))
    mentor = make_participant(session, cohort, "mentor", personal={"name": "Mentor Named"})
    mentee = make_participant(session, cohort, personal={"name": "Mentee Named"})
    make_pair(session, mentor, mentee)
    sign_in(client, web_user(session, Role.auditor))
    assert 'href="/participants?format=csv" download' in client.get("/participants").text
    rows = _csv(client.get("/participants?format=csv&role=mentor"))
    assert [(row["Code"], row["Name"]) for row in rows] == [(mentor.code, "")]
    assert 'href="/pairs?format=xlsx" download' in client.get("/pairs").text
    (pair,) = _xlsx(client.get("/pairs?format=xlsx"))
    assert (pair["Mentor"], pair["Mentee"]) == (mentor.code, mentee.code)


def test_procedures_list_as_csv_and_json(fresh_db, monkeypatch) -> None:
    from qms.cli import app
    from qms.config import get_settings
    from qms.procedures import service as procedures
    from qms.procedures.schemas import ProcedureCreate
    from tests.factories import ADMIN

    with fresh_db.unit_of_work() as session:
        procedures.create(
            session,
            actor=ADMIN,
            data=ProcedureCreate(
                code="PR-05",
                title="-Mid-programme follow-up",
                owner_role=Role.coordinator,
                review_months=12,
                content="Each pair is followed up at the midpoint.",
                change_summary="First issue",
            ),
        )
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("QMS_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(app, ["--language", "sv", "procedures", "list", "--format", "csv"])
    assert listed.exit_code == 0, listed.stderr
    (row,) = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert (row["Kod"], row["Titel"]) == ("PR-05", "'-Mid-programme follow-up")
    read = runner.invoke(app, ["procedures", "list", "--format", "json"])
    (item,) = json.loads(read.stdout)["items"]
    assert (item["code"], item["owner_role"], item["status"]) == (
        "PR-05",
        "coordinator",
        "draft",
    )
    get_settings.cache_clear()


def test_a_refusal_at_the_first_read_begins_no_file(monkeypatch) -> None:
    """A list refused or not found when its records are first read (a batch that does not
    exist) leaves no workbook half-written behind the refusal."""
    left: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", left.append)

    def refused() -> Any:
        raise NotFound(Text("There is no import batch 9."))
        yield {}

    for fmt in ("xlsx", "csv", "json"):
        out = io.BytesIO()
        with pytest.raises(NotFound):
            exports.write(out, fmt, exports.PROBLEM_COLUMNS, refused(), language="en")
        gc.collect()
        assert out.getvalue() == b"", fmt
    assert left == []
