"""`qms audit verify --records`: each record as stored held against the state its events describe.

Every change here is made as an attacker with the database's rights would make it: raw SQL behind
the service's back, leaving the audit trail (whose chain and signatures still verify) untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from qms import replay
from qms.db import Database, make_engine
from qms.demo import load
from qms.i18n import format_day
from tests.conftest import Server
from tests.factories import ADMIN


@pytest.fixture(scope="module")
def demo_url(server: Server, template_url: str) -> Iterator[str]:
    """A database holding the demo data, the mould of each test's own copy."""
    url = server.new_database(template=template_url)
    database = Database(make_engine(url))
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
    database.dispose()
    yield url
    server.drop(url)


@pytest.fixture
def demo(server: Server, demo_url: str) -> Iterator[Database]:
    """A copy of the demo data of the test's own, to change behind the service's back."""
    url = server.new_database(template=demo_url)
    database = Database(make_engine(url))
    yield database
    database.dispose()
    server.drop(url)


def _check(database: Database) -> replay.RecordsResult:
    with database.unit_of_work(write=False) as session:
        return replay.check(session)


def _behind_its_back(database: Database, sql: str, **params: Any) -> None:
    with database.engine.begin() as conn:
        conn.execute(text(sql), params)


def _one(database: Database, sql: str) -> Any:
    with database.engine.connect() as conn:
        return conn.execute(text(sql)).one()


def _said(result: replay.RecordsResult) -> list[str]:
    return [f.message("en") for f in result.first_findings]


def test_the_demo_data_holds_to_its_events_every_value_compared(demo: Database) -> None:
    result = _check(demo)
    assert result.ok, _said(result)
    assert result.records > 700
    assert result.events >= result.records
    assert result.fields_compared > 5000
    # Every stored value is described by an event: none left uncompared.
    assert dict(result.not_covered) == {}


def test_a_deviation_edited_behind_its_back_is_named_field_by_field(demo: Database) -> None:
    number, title = _one(
        demo, "SELECT number, title FROM deviation WHERE status <> 'closed' ORDER BY id LIMIT 1"
    )
    _behind_its_back(
        demo,
        "UPDATE deviation SET title = 'Nothing happened', severity = 'minor', "
        "status = 'closed' WHERE number = :number",
        number=number,
    )
    result = _check(demo)
    assert not result.ok
    found = {f.field: f for f in result.first_findings}
    assert set(found) >= {"title", "status"}
    assert all(f.record == number and f.entity == "deviation" for f in found.values())
    assert found["title"].stored == "Nothing happened"
    assert found["title"].expected == title
    said = _said(result)
    assert (
        f"deviation {number}: title is stored as “Nothing happened”, the trail says “{title}”"
        in (said)
    )
    assert any(s.startswith(f"deviation {number}: status is stored as “closed”") for s in said)


def test_a_severity_raised_behind_its_back_is_found(demo: Database) -> None:
    number, severity = _one(
        demo, "SELECT number, severity FROM deviation WHERE severity <> 'critical' LIMIT 1"
    )
    _behind_its_back(demo, "UPDATE deviation SET severity = 'critical' WHERE number = :n", n=number)
    result = _check(demo)
    [finding] = result.first_findings
    assert (finding.record, finding.field, finding.stored, finding.expected) == (
        number,
        "severity",
        "critical",
        severity,
    )


def test_an_actions_due_date_moved_behind_its_back_is_found(demo: Database) -> None:
    number, due_on = _one(demo, "SELECT number, due_on FROM corrective_action ORDER BY id LIMIT 1")
    _behind_its_back(
        demo, "UPDATE corrective_action SET due_on = '2031-01-31' WHERE number = :n", n=number
    )
    result = _check(demo)
    [finding] = result.first_findings
    assert finding.record == number
    assert finding.field == "due_on"
    assert (finding.stored, finding.expected) == ("2031-01-31", str(due_on)[:10])
    assert finding.message("en").startswith(f"corrective action {number}: due on is stored as")
    # Days said as the reader's language writes them.
    assert f"“{format_day(date(2031, 1, 31), 'nb')}”" in finding.message("nb")


def test_a_procedure_versions_text_changed_behind_its_back_is_found(demo: Database) -> None:
    code, number, version_id = _one(
        demo,
        "SELECT p.code, v.number, v.id FROM procedure_version v JOIN procedure p "
        "ON p.id = v.procedure_id WHERE v.status = 'approved' ORDER BY p.code LIMIT 1",
    )
    # An approved version is frozen by a trigger: the attacker drops it first.
    with demo.engine.begin() as conn:
        on = "" if conn.dialect.name == "sqlite" else " ON procedure_version"
        conn.execute(text(f"DROP TRIGGER procedure_version_frozen{on}"))
    _behind_its_back(
        demo,
        "UPDATE procedure_version SET content = content || ' Mentors may skip this step.' "
        "WHERE id = :id",
        id=version_id,
    )
    result = _check(demo)
    [finding] = result.first_findings
    assert finding.record == f"{code} v{number}"
    assert finding.field == "content"
    assert str(finding.stored).endswith("Mentors may skip this step.")
    assert finding.message("en").startswith(f"procedure version {code} v{number}: text is")


def test_a_deleted_row_is_found_by_the_events_that_describe_it(demo: Database) -> None:
    meeting_id, pair, held_on = _one(
        demo,
        "SELECT m.id, p.code, m.held_on FROM meeting m JOIN pair p ON p.id = m.pair_id "
        "ORDER BY m.id LIMIT 1",
    )
    _behind_its_back(demo, "DELETE FROM meeting WHERE id = :id", id=meeting_id)
    result = _check(demo)
    [finding] = result.first_findings
    assert (finding.entity, finding.entity_id, finding.problem) == (
        "meeting",
        str(meeting_id),
        "gone",
    )
    # A meeting has no number: it is named by its pair and its day, as its event recorded them.
    assert finding.record == f"{pair} {str(held_on)[:10]}"
    assert finding.message("en") == (
        f"meeting {pair} {str(held_on)[:10]} is described by the audit trail (up to event "
        f"{finding.seq}) but is not stored, and no recorded disposal removed it"
    )


def test_an_inserted_row_is_found_having_no_event(demo: Database) -> None:
    _behind_its_back(
        demo,
        "INSERT INTO deviation (number, year, seq, kind, source, severity, status, title, "
        "description, detected_at, detected_by, due_on, reported_by, requirements, created_at, "
        "updated_at, version) VALUES ('DEV-2026-0999', 2026, 999, 'observation', 'self_reported', "
        "'minor', 'closed', 'Backdated', 'Never logged', '2026-01-05 10:00:00', 'x', "
        "'2026-02-05', 'x', '[]', '2026-01-05 10:00:00', '2026-01-05 10:00:00', 1)",
    )
    result = _check(demo)
    [finding] = result.first_findings
    assert (finding.entity, finding.record, finding.problem) == (
        "deviation",
        "DEV-2026-0999",
        "no_events",
    )
    assert finding.message("en") == (
        "deviation DEV-2026-0999 has no event in the audit trail: it was written behind the "
        "service's back"
    )


def test_a_link_moved_behind_its_back_is_named_by_the_linked_records_number(
    demo: Database,
) -> None:
    meeting_id, pair = _one(
        demo,
        "SELECT m.id, p.code FROM meeting m JOIN pair p ON p.id = m.pair_id ORDER BY m.id LIMIT 1",
    )
    other_id, other = _one(
        demo, f"SELECT id, code FROM pair WHERE code <> '{pair}' ORDER BY id LIMIT 1"
    )
    _behind_its_back(
        demo, "UPDATE meeting SET pair_id = :p WHERE id = :id", p=other_id, id=meeting_id
    )
    [finding] = _check(demo).first_findings
    assert (finding.field, finding.stored, finding.expected) == ("pair", other, pair)


def test_a_retention_disposal_is_no_finding(demo: Database) -> None:
    from qms.retention import service as retention
    from qms.retention.schemas import DispositionCreate

    with demo.unit_of_work() as session:
        retention.dispose(
            session,
            actor=ADMIN,
            data=DispositionCreate(kind="meeting", reason="five years kept"),
            # Long after the meetings' keeping time, wherever the clock stands.
            as_of=date.today().replace(year=date.today().year + 20, day=1),
        )
    result = _check(demo)
    assert result.ok, _said(result)
    assert _one(demo, "SELECT count(*) FROM meeting")[0] == 0


def test_the_command_line_names_each_finding_and_exits_1(
    demo: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from qms.cli import app, common
    from qms.config import get_settings

    monkeypatch.setenv("QMS_DATABASE_URL", demo.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("QMS_LANGUAGE", "en")
    monkeypatch.setattr(common.out, "width", 220)
    get_settings.cache_clear()
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify", "--records"])
    assert "records OK:" in clean.stdout, (clean.stdout, clean.stderr)
    number = _one(demo, "SELECT number FROM corrective_action ORDER BY id LIMIT 1")[0]
    _behind_its_back(
        demo, "UPDATE corrective_action SET due_on = '2031-01-31' WHERE number = :n", n=number
    )
    plain = runner.invoke(app, ["audit", "verify"])
    assert number not in plain.stdout
    found = runner.invoke(app, ["audit", "verify", "--records"])
    assert found.exit_code == 1, (found.stdout, found.stderr)
    assert f"corrective action {number}: due on is stored as" in found.stdout
    assert "records CHANGED: 1 finding in" in found.stdout


def test_the_api_and_the_audit_trail_page_name_each_finding(demo: Database) -> None:
    import html

    from qms.accounts import service as accounts
    from qms.permissions import Role
    from tests.conftest import make_client
    from tests.factories import auth
    from tests.web import sign_in, web_user

    with demo.unit_of_work() as session:
        accounts.create_user(session, actor=ADMIN, name="records-auditor", role=Role.auditor)
        token = accounts.create_token(session, actor=ADMIN, user_name="records-auditor").secret
        reader = web_user(session, Role.auditor, "records-page-auditor")
    client, headers = make_client(demo), auth(token)
    clean = client.get("/api/v1/audit/verify", params={"records": "true"}, headers=headers)
    assert clean.status_code == 200, clean.text
    assert clean.json()["records"]["ok"] is True
    assert clean.json()["records"]["not_covered"] == 0
    # Without the flag, the chain alone, as before.
    assert client.get("/api/v1/audit/verify", headers=headers).json()["records"] is None
    number, title = _one(
        demo, "SELECT number, title FROM deviation WHERE status <> 'closed' ORDER BY id LIMIT 1"
    )
    _behind_its_back(
        demo, "UPDATE deviation SET title = 'Nothing happened' WHERE number = :n", n=number
    )
    body = client.get("/api/v1/audit/verify?records=true", headers=headers).json()
    assert body["records"]["ok"] is False
    assert body["records"]["findings"] == 1
    [item] = body["records"]["items"]
    assert {k: item[k] for k in ("kind", "record", "problem", "field", "stored", "expected")} == {
        "kind": "deviation",
        "record": number,
        "problem": "changed",
        "field": "title",
        "stored": "Nothing happened",
        "expected": title,
    }
    assert client.get("/api/v1/audit/verify?records=maybe", headers=headers).status_code == 422
    sign_in(client, reader)
    page = html.unescape(client.get("/audit-trail?verify=true").text)
    assert "1 difference from the audit trail" in page
    assert f"deviation {number}: title is stored as “Nothing happened”, the trail says" in page


def test_a_field_a_new_record_left_empty_is_not_shown_in_its_history() -> None:
    from types import SimpleNamespace

    from qms.i18n import timeline

    event = SimpleNamespace(
        changes={
            "title": {"old": None, "new": "Pair met once in March"},
            "root_cause": {"old": None, "new": None},
            "requirements": {"old": None, "new": []},
            "email": {"changed": True},
            "closure_summary": {"old": "Done", "new": None},
        }
    )
    assert timeline.changes(event) == {
        "title": {"old": None, "new": "Pair met once in March"},
        "email": {"changed": True},
        "closure_summary": {"old": "Done", "new": None},
    }


def test_every_kind_the_services_record_events_of_is_replayed_or_said_why_not() -> None:
    import re
    from pathlib import Path

    named: set[str] = set()
    for source in (Path(__file__).resolve().parent.parent / "qms").rglob("*.py"):
        named |= set(re.findall(r'entity="([a-z_]+)"', source.read_text(encoding="utf-8")))
    assert named - set(replay.BY_ENTITY) - set(replay.NOT_RECORDS) == set()
    assert {"deviation", "action", "procedure_version", "meeting", "user"} <= named
