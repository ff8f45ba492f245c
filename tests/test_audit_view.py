"""The audit trail as an auditor searches it: pick-lists of kinds and events in the reader's
language, a record found by its number as people write it, each event's record shown by its
number, and the same search by number over REST."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from qms import references
from qms.i18n import label
from qms.i18n.values import EVENTS, KINDS, record_kind
from qms.permissions import Role
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureCreate
from tests.factories import (
    ADMIN,
    auth,
    make_action,
    make_deviation,
    make_programme,
    make_token,
    make_user,
)
from tests.test_page_formats import visible
from tests.web import read_page, sign_in, web_user

QMS = Path(__file__).parent.parent / "qms"


def _rows(html: str) -> list[str]:
    """The visible text of each row of the trail's table."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [visible(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _options(html: str, name: str) -> list[tuple[str, str]]:
    """A select's options as (value, text)."""
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return [
        (value, visible(text).strip())
        for value, text in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select[1])
    ]


def _selected(html: str, name: str) -> str | None:
    """The value a select shows as chosen."""
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select[1])
    return chosen[1] if chosen else None


@pytest.fixture
def trail(client: Any, session: Session) -> dict[str, Any]:
    """Two deviations, one with a corrective action, and a programme; an auditor signed in."""
    first = make_deviation(session, title="Pair met once in March")
    second = make_deviation(session, title="Manual not produced")
    action = make_action(session, [second], make_user(session, Role.quality_lead))
    programme = make_programme(session, code="VIA-JOB")
    session.flush()
    sign_in(client, web_user(session, Role.auditor))
    return {"first": first, "second": second, "action": action, "programme": programme}


class TestPickLists:
    @pytest.mark.parametrize("language", ["en", "nb"])
    def test_kinds_and_events_are_offered_by_their_labels(
        self, client: Any, trail: dict[str, Any], language: str
    ) -> None:
        client.get(f"/language?set={language}")
        page = client.get("/audit-trail")
        assert page.status_code == 200
        kinds, events = _options(page.text, "entity"), _options(page.text, "action")
        # "(all)" first, with no code; then every kind and event, by its words, not its code.
        assert kinds[0] == ("", "(alle)" if language == "nb" else "(all)")
        assert events[0][0] == ""
        assert {v for v, _ in kinds[1:]} == set(KINDS)
        assert {v for v, _ in events[1:]} == set(EVENTS)
        assert dict(kinds)["deviation"] == record_kind("deviation", language)
        assert dict(events)["deviation.created"] == label("deviation.created", language)
        assert dict(events)["deviation.created"] != "deviation.created"
        assert dict(kinds)["action"] != "action"
        for value, text in kinds[1:] + events[1:]:
            assert "_" not in text, (value, text)
        for value, text in events[1:]:
            assert text != value, (value, text)
        if language == "nb":
            assert dict(kinds)["deviation"] == "avvik"

    def test_the_chosen_codes_stay_in_the_url_and_the_form_keeps_them(
        self, client: Any, trail: dict[str, Any]
    ) -> None:
        page = client.get("/audit-trail?entity=action&action=action.created").text
        assert re.search(r'<form class="filters" method="get" action="/audit-trail"', page)
        assert _selected(page, "entity") == "action"
        assert _selected(page, "action") == "action.created"
        # A code a link carries that the list does not know is still shown as chosen.
        assert _selected(client.get("/audit-trail?entity=rule_check_x").text, "entity") == (
            "rule_check_x"
        )

    def test_filtering_by_kind_and_event_narrows_the_rows(
        self, client: Any, trail: dict[str, Any]
    ) -> None:
        everything = _rows(client.get("/audit-trail").text)
        deviations = _rows(client.get("/audit-trail?entity=deviation").text)
        created = _rows(client.get("/audit-trail?entity=deviation&action=deviation.created").text)
        assert len(everything) > len(deviations) > len(created) == 2
        numbers = {trail["first"].number, trail["second"].number}
        assert all(any(n in row for n in numbers) for row in deviations)
        assert all(trail["action"].number not in row.split("·")[0] for row in created)
        linked = _rows(client.get("/audit-trail?action=deviation.action_linked").text)
        assert len(linked) == 1
        assert trail["second"].number in linked[0]


class TestFindingARecordByItsNumber:
    def test_a_number_typed_as_people_type_it_shows_that_records_events(
        self, client: Any, trail: dict[str, Any]
    ) -> None:
        first = trail["first"]
        page = client.get("/audit-trail", params={"record": f"  {first.number.lower()} "})
        assert page.status_code == 200
        rows = _rows(page.text)
        assert len(rows) == 1
        # The record by its number, the event as a sentence, not "deviation 12" or its code.
        assert first.number in rows[0]
        assert f"Deviation {first.number} logged" in rows[0]
        assert "deviation.created" not in page.text.split("<tbody>", 1)[1]
        assert trail["second"].number not in page.text
        # The search field keeps what was typed; the page says whose events these are.
        assert f"Events of {first.number}" in visible(page.text)

    def test_leading_zeros_may_be_left_out(self, client: Any, trail: dict[str, Any]) -> None:
        second = trail["second"]
        series, year, seq = second.number.split("-")
        rows = _rows(client.get(f"/audit-trail?record={series}-{year}-{int(seq)}").text)
        # The deviation's own events: logged, and its corrective action linked.
        assert len(rows) == 2
        assert all(second.number in row for row in rows)

    def test_an_action_a_programme_and_a_procedure_by_their_codes(
        self, client: Any, session: Session, trail: dict[str, Any]
    ) -> None:
        action = trail["action"]
        rows = _rows(client.get("/audit-trail", params={"record": action.number}).text)
        assert rows
        assert all(action.number in row for row in rows)
        rows = _rows(client.get("/audit-trail?record=via-job").text)
        assert len(rows) == 1
        assert "VIA-JOB" in rows[0]
        procedure = procedures.create(
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
        session.flush()
        found = references.find(session, " pr-05 ")
        assert ("procedure", str(procedure.id)) in found
        assert any(kind == "procedure_version" for kind, _ in found)
        rows = _rows(client.get("/audit-trail?record=pr-05").text)
        assert rows
        assert all("PR-05" in row for row in rows)
        # The owner's role by its label in the reader's language, never the stored code.
        client.get("/language?set=nb")
        drafted = " ".join(_rows(client.get("/audit-trail?record=pr-05").text))
        client.get("/language?set=en")
        assert "eierens rolle: → koordinator" in drafted
        assert "→ coordinator" not in drafted

    def test_an_unknown_number_is_said_so_not_an_empty_list(
        self, client: Any, trail: dict[str, Any]
    ) -> None:
        page = client.get("/audit-trail?record=DEV-2026-9999")
        assert page.status_code == 200
        text = visible(page.text)
        assert "No record DEV-2026-9999" in text
        assert "No events match" not in text
        assert _rows(page.text) == []
        for nonsense in ("%", "<script>", "x" * 64, "DEV-2026-99999999"):
            assert client.get("/audit-trail", params={"record": nonsense}).status_code == 200

    def test_links_by_internal_id_still_filter(self, client: Any, trail: dict[str, Any]) -> None:
        first = trail["first"]
        page = client.get(f"/audit-trail?entity=deviation&entity_id={first.id}")
        rows = _rows(page.text)
        assert len(rows) == 1
        assert first.number in rows[0]
        _, forms = read_page("/audit-trail", page.text)
        search = next(f for f in forms if f.action == "/audit-trail")
        assert search.fields["entity_id"].value == str(first.id)


class TestTheRestParameter:
    def test_record_takes_a_number_and_an_unknown_one_answers_404(
        self, client: Any, session: Session, trail: dict[str, Any]
    ) -> None:
        headers = auth(make_token(session, Role.auditor))
        second = trail["second"]
        r = client.get(
            "/api/v1/audit/events", params={"record": f" {second.number.lower()} "}, headers=headers
        )
        assert r.status_code == 200
        items = r.json()["items"]
        assert [(e["entity"], e["action"]) for e in items] == [
            ("deviation", "deviation.created"),
            ("deviation", "deviation.action_linked"),
        ]
        assert {e["entity_id"] for e in items} == {str(second.id)}
        missing = client.get("/api/v1/audit/events?record=DEV-2026-9999", headers=headers)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert "DEV-2026-9999" in missing.json()["detail"]


def test_every_event_the_code_records_is_in_the_pick_list() -> None:
    recorded: set[str] = set()
    for path in QMS.rglob("*.py"):
        for call in re.findall(r"record_event\((.*?)\n\s*\)", path.read_text(), re.S):
            recorded.update(re.findall(r'action=(?:f?"([a-z_]+\.[a-z_{}.]+)")', call))
            recorded.update(re.findall(r'else "([a-z_]+\.[a-z_]+)"', call))
    assert len(recorded) > 40
    templated = {r for r in recorded if "{" in r}
    assert templated == {"internal_audit.{target.value}", "review.{target.value}"}
    assert sorted(recorded - templated - set(EVENTS)) == []


def test_a_scoped_reader_finds_no_record_of_another_programme(
    client: Any, session: Session
) -> None:
    ours, theirs = make_programme(session), make_programme(session)
    mine = make_deviation(session, programme_id=ours.id)
    other = make_deviation(session, programme_id=theirs.id)
    headers = auth(make_token(session, Role.auditor, programme_code=ours.code))
    found = client.get(f"/api/v1/audit/events?record={mine.number}", headers=headers)
    assert found.status_code == 200
    assert {e["entity_id"] for e in found.json()["items"]} == {str(mine.id)}
    hidden = client.get(f"/api/v1/audit/events?record={other.number}", headers=headers)
    assert hidden.status_code == 404
