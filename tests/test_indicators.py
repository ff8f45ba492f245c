"""Indicators: planned against actual from the records, and the Via-mentoring ground truth."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from qms.accounts import service as accounts
from qms.actions.models import ActionStatus
from qms.demo import load
from qms.deviations.models import DeviationStatus
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import (
    ADMIN,
    auth,
    make_action,
    make_deviation,
    make_programme,
    make_token,
    make_user,
)


@pytest.fixture(scope="module")
def demo_client(new_database):
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        accounts.create_user(session, actor=ADMIN, name="ind-auditor", role=Role.auditor)
        token = accounts.create_token(session, actor=ADMIN, user_name="ind-auditor").secret
    return make_client(database), auth(token)


def _rows(client, headers, as_of: str, programme_id: int = 1) -> dict[str, dict[str, Any]]:
    r = client.get(f"/api/v1/programmes/{programme_id}/indicators?as_of={as_of}", headers=headers)
    assert r.status_code == 200, r.text
    return {row["code"]: row for row in r.json()["rows"]}


class TestGroundTruth:
    def test_the_via_mentoring_results_are_reproduced(self, demo_client) -> None:
        client, headers = demo_client
        rows = _rows(client, headers, "2026-02-15")
        figures = {c: (r["numerator"], r["denominator"]) for c, r in rows.items()}
        assert figures["COMPLETED"] == (12, 12)
        assert figures["OCCUPIED"] == (11, 12)
        assert figures["FULL-TIME"] == (6, 12)
        assert figures["EMPLOYED"] == (9, 12)
        assert rows["OCCUPIED"]["actual"] == 91.7
        assert rows["OCCUPIED"]["planned"] == 75
        assert rows["OCCUPIED"]["status"] == "met"
        assert rows["SATISFACTION"]["actual"] == 4.08
        assert rows["SATISFACTION"]["detail"] == "mean of 12 answers"

    def test_the_project_indicator_table_is_reproduced(self, demo_client) -> None:
        client, headers = demo_client
        rows = _rows(client, headers, "2026-02-15")
        table = {
            c: (r["planned"], r["actual"]) for c, r in rows.items() if r["computation"] == "entered"
        }
        assert table == {
            "WOMEN": (600, 450),
            "MEN": (500, 300),
            "MIXED-FIRMS": (100, 60),
            "FORMAL-BARRIERS": (0, 0),
            "PERCEIVED-BARRIERS": (0, 0),
            "STUDENTS-F": (75, 85),
            "STUDENTS-M": (50, 55),
            "CLUSTERS": (5, 1),
        }
        # Entered for 2012-2014: shown, but not rated for 2026 (stale).
        assert {r["status"] for r in rows.values() if r["computation"] == "entered"} == {"stale"}
        assert "2026" in rows["STUDENTS-F"]["detail"]
        rated = _rows(client, headers, "2014-06-30")
        assert rated["STUDENTS-F"]["actual"] == 85
        assert rated["STUDENTS-F"]["status"] == "met"
        assert rated["CLUSTERS"]["status"] == "below_plan"

    def test_before_the_cohort_ended_there_is_nothing_to_count(self, demo_client) -> None:
        client, headers = demo_client
        rows = _rows(client, headers, "2025-06-01")
        assert rows["COMPLETED"]["status"] == "no_data"
        assert rows["COMPLETED"]["detail"] == "no mentees completed yet"


def _define(client, headers, programme_id: int, **body: Any) -> int:
    r = client.post(f"/api/v1/programmes/{programme_id}/indicators", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["rows"][-1]["id"])


class TestAsOf:
    def test_open_deviations_counts_those_detected_and_not_yet_closed_by_the_date(
        self, client, session
    ) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        first, second = (make_deviation(session, programme_id=programme.id) for _ in range(2))
        first.detected_at = datetime(2026, 3, 10, 10, tzinfo=UTC)
        second.detected_at = datetime(2026, 3, 20, 10, tzinfo=UTC)
        second.status = DeviationStatus.closed
        second.closed_at = datetime(2026, 5, 2, 9, tzinfo=UTC)
        session.flush()
        _define(
            client,
            lead,
            programme.id,
            code="OPEN-DEV",
            name="Open deviations",
            unit="count",
            computation="open_deviations",
            planned=0,
            direction="lower_is_better",
            threshold=1,
        )
        expected = {
            "2025-06-30": (0, "met"),
            "2026-03-15": (1, "below_plan"),
            "2026-04-30": (2, "breach"),
            "2026-05-02": (1, "below_plan"),
        }
        for as_of, (count, status) in expected.items():
            row = _rows(client, lead, as_of, programme.id)["OPEN-DEV"]
            assert (row["actual"], row["status"]) == (count, status), as_of

    def test_overdue_and_on_time_actions_as_they_stood_on_the_date(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        deviation = make_deviation(session, programme_id=programme.id)
        action = make_action(session, [deviation], make_user(session, Role.coordinator))
        due = action.due_on
        # Done ten days late.
        action.status = ActionStatus.done
        action.done_at = datetime.combine(due + timedelta(days=10), time(12), tzinfo=UTC)
        session.flush()
        for code, computation in (("LATE", "overdue_actions"), ("ON-TIME", "on_time_capa_closure")):
            _define(
                client,
                lead,
                programme.id,
                code=code,
                name=code,
                unit="count",
                computation=computation,
                planned=0,
                direction="lower_is_better",
            )
        before = _rows(client, lead, (date.today() - timedelta(days=1)).isoformat(), programme.id)
        assert before["LATE"]["actual"] == 0
        late = _rows(client, lead, (due + timedelta(days=5)).isoformat(), programme.id)
        assert late["LATE"]["actual"] == 1
        assert late["ON-TIME"]["status"] == "no_data"
        after = _rows(client, lead, (due + timedelta(days=11)).isoformat(), programme.id)
        assert after["LATE"]["actual"] == 0
        assert (after["ON-TIME"]["numerator"], after["ON-TIME"]["denominator"]) == (0, 1)

    def test_a_value_entered_for_another_period_is_stale(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        indicator_id = _define(
            client,
            lead,
            programme.id,
            code="INQUIRIES",
            name="Inquiries",
            unit="count",
            computation="entered",
            planned=12,
            threshold=4,
        )
        value = {"period_start": "2025-01-01", "period_end": "2025-12-31", "value": 2}
        r = client.post(f"/api/v1/indicators/{indicator_id}/values", headers=lead, json=value)
        assert r.status_code == 201, r.text
        assert _rows(client, lead, "2024-12-31", programme.id)["INQUIRIES"]["status"] == "no_data"
        assert _rows(client, lead, "2025-06-30", programme.id)["INQUIRIES"]["status"] == "breach"
        stale = _rows(client, lead, "2026-06-30", programme.id)["INQUIRIES"]
        assert (stale["actual"], stale["status"]) == (2, "stale")
        assert "2026" in stale["detail"]
        # Not rated, so no rule finding either.
        run = client.post("/api/v1/checks/run", headers=lead, json={"on": "2026-06-30"})
        assert run.status_code == 200, run.text
        assert not [f for f in run.json()["opened"] if f["rule"] == "indicator"]


class TestClearedFinding:
    def test_a_cleared_indicator_finding_shows_the_value_now(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        indicator_id = _define(
            client,
            lead,
            programme.id,
            code="INQUIRIES",
            name="Inquiries",
            unit="count",
            computation="entered",
            planned=12,
            threshold=4,
        )
        for start, end, value in (
            ("2025-01-01", "2025-06-30", 2),
            ("2025-07-01", "2025-12-31", 7),
        ):
            r = client.post(
                f"/api/v1/indicators/{indicator_id}/values",
                headers=lead,
                json={"period_start": start, "period_end": end, "value": value},
            )
            assert r.status_code == 201, r.text
        run = client.post("/api/v1/checks/run", headers=lead, json={"on": "2025-06-30"}).json()
        [found] = [f for f in run["opened"] if f["rule"] == "indicator"]
        assert "Inquiries: 2.0" in found["detail"]
        run = client.post("/api/v1/checks/run", headers=lead, json={"on": "2025-12-31"}).json()
        [cleared] = [f for f in run["cleared"] if f["rule"] == "indicator"]
        assert cleared["key"] == found["key"]
        assert "2.0" not in cleared["detail"]
        assert cleared["detail"] == (
            "Inquiries is 7 as of 31/12/2025 (entered for 01/07/2025 to 31/12/2025): "
            "below plan, against a threshold of 4 and a plan of 12."
        )


class TestDefinitionsAndBreaches:
    def test_a_breach_opens_one_deviation(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        for _ in range(3):
            make_deviation(session, programme_id=programme.id)
        r = client.post(
            f"/api/v1/programmes/{programme.id}/indicators",
            headers=lead,
            json={
                "code": "OPEN-DEV",
                "name": "Open deviations",
                "unit": "count",
                "computation": "open_deviations",
                "planned": 0,
                "direction": "lower_is_better",
                "threshold": 2,
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["rows"][0]["status"] == "breach"
        run = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        opened = [f for f in run["opened"] if f["rule"] == "indicator"]
        assert [f["key"] for f in opened] == [f"indicator:{programme.code}:OPEN-DEV"]
        again = client.post("/api/v1/checks/run", headers=lead, json={}).json()
        assert not [f for f in again["opened"] if f["rule"] == "indicator"]

    def test_values_entered_by_hand(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        table = client.post(
            f"/api/v1/programmes/{programme.id}/indicators",
            headers=lead,
            json={
                "code": "INQUIRIES",
                "name": "Inquiries about mentoring",
                "unit": "count",
                "computation": "entered",
                "planned": 12,
            },
        ).json()
        indicator_id = table["rows"][0]["id"]
        value = {
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "value": 16,
            "note": "12 organisations advised, 4 from abroad",
        }
        r = client.post(f"/api/v1/indicators/{indicator_id}/values", headers=lead, json=value)
        assert r.status_code == 201
        assert r.json()["rows"][0]["actual"] == 16
        reversed_period = {**value, "period_start": "2026-01-01"}
        r = client.post(
            f"/api/v1/indicators/{indicator_id}/values", headers=lead, json=reversed_period
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "period_end"
        r = client.post(
            f"/api/v1/indicators/{indicator_id}/values",
            headers={**lead, "Accept-Language": "nb"},
            json=reversed_period,
        )
        assert r.json()["errors"][0]["message"] == "Oppgi en dato på eller etter startdatoen."
        assert r.json()["detail"] == "Datoperioden slutter før den begynner."

    def test_bad_definitions_name_the_field(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        r = client.post(
            f"/api/v1/programmes/{programme.id}/indicators",
            headers=lead,
            json={
                "code": "X",
                "name": "x",
                "unit": "percent",
                "computation": "astrology",
                "planned": 1,
            },
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "computation"

    @pytest.mark.parametrize(
        ("field", "sent"),
        [("threshold", False), ("planned", True), ("planned", "12"), ("threshold", "80.5")],
    )
    def test_a_figure_must_be_a_number(self, client, session, field, sent) -> None:
        """`false` is not a threshold of 0, nor "12" a plan of 12: they are refused by name and
        nothing is defined."""
        lead = auth(make_token(session, Role.quality_lead))
        programme = make_programme(session)
        definition = {
            "code": "INQUIRIES",
            "name": "Inquiries about mentoring",
            "unit": "count",
            "computation": "entered",
            "planned": 12,
            "threshold": 8,
            field: sent,
        }
        url = f"/api/v1/programmes/{programme.id}/indicators"
        r = client.post(url, headers=lead, json=definition)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == [field]
        assert client.get(url, headers=lead).json()["rows"] == []
        r = client.post(url, headers=lead, json={**definition, field: 8})
        assert r.status_code == 201
        assert r.json()["rows"][0][field] == 8
        value = {"period_start": "2025-01-01", "period_end": "2025-12-31", "value": False}
        indicator = r.json()["rows"][0]["id"]
        r = client.post(f"/api/v1/indicators/{indicator}/values", headers=lead, json=value)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["value"]

    @pytest.mark.parametrize(
        ("role", "read", "write"),
        [(Role.auditor, 200, 403), (Role.coordinator, 200, 403), (Role.importer, 403, 403)],
    )
    def test_who_reads_and_defines(self, client, session, role, read, write) -> None:
        programme = make_programme(session)
        headers = auth(make_token(session, role))
        url = f"/api/v1/programmes/{programme.id}/indicators"
        assert client.get(url, headers=headers).status_code == read
        body = {
            "code": "C",
            "name": "c",
            "unit": "count",
            "computation": "open_deviations",
            "planned": 0,
        }
        assert client.post(url, headers=headers, json=body).status_code == write
