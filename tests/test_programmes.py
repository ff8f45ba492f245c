"""Programmes and cohorts over the API: versions, workflow, pagination, and their audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qms.audit.models import AuditEvent
from qms.permissions import Role
from qms.programmes.service import default_midpoint
from tests.factories import auth, make_cohort, make_programme, make_token

NEW = {
    "code": "VIA-2027",
    "name": "Mentor programme for job-seeking graduates",
    "organiser": "Mentor foundation",
    "min_meetings_per_month": 2,
    "min_minutes_per_month": 120,
    "length_months": 12,
}


@pytest.fixture
def coordinator(session) -> dict[str, str]:
    return auth(make_token(session, Role.coordinator, name="coordinator-kari"))


def _events(session, entity: str, entity_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq)
        )
    )


class TestCreate:
    def test_a_created_programme_is_planned_and_audited(self, client, session, coordinator) -> None:
        r = client.post("/api/v1/programmes", headers=coordinator, json=NEW)
        assert r.status_code == 201
        body = r.json()
        assert body["status"] == "planned"
        assert r.headers["etag"] == '"1"'
        assert r.headers["location"] == f"/api/v1/programmes/{body['id']}"
        [event] = _events(session, "programme", body["id"])
        assert event.action == "programme.created"
        assert event.actor == "coordinator-kari"
        assert event.changes["code"] == {"old": None, "new": "VIA-2027"}

    def test_a_duplicate_code_is_a_conflict(self, client, coordinator) -> None:
        assert client.post("/api/v1/programmes", headers=coordinator, json=NEW).status_code == 201
        r = client.post("/api/v1/programmes", headers=coordinator, json=NEW)
        assert r.status_code == 409
        assert "VIA-2027" in r.json()["detail"]

    def test_unknown_fields_are_refused(self, client, coordinator) -> None:
        r = client.post("/api/v1/programmes", headers=coordinator, json={**NEW, "colour": "red"})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "colour"


class TestUpdate:
    def test_a_change_needs_if_match(self, client, session, coordinator) -> None:
        p = make_programme(session)
        r = client.patch(f"/api/v1/programmes/{p.id}", headers=coordinator, json={"name": "x"})
        assert r.status_code == 428

    def test_a_stale_version_is_refused_and_nothing_changes(
        self, client, session, coordinator
    ) -> None:
        p = make_programme(session, name="Before")
        ok = client.patch(
            f"/api/v1/programmes/{p.id}",
            headers={**coordinator, "If-Match": '"1"'},
            json={"name": "First edit"},
        )
        assert ok.status_code == 200
        assert ok.headers["etag"] == '"2"'
        stale = client.patch(
            f"/api/v1/programmes/{p.id}",
            headers={**coordinator, "If-Match": '"1"'},
            json={"name": "Lost edit"},
        )
        assert stale.status_code == 412
        got = client.get(f"/api/v1/programmes/{p.id}", headers=coordinator).json()
        assert got["name"] == "First edit"

    def test_the_change_is_audited_old_to_new(self, client, session, coordinator) -> None:
        p = make_programme(session, min_meetings_per_month=1, name="Same")
        client.patch(
            f"/api/v1/programmes/{p.id}",
            headers={**coordinator, "If-Match": '"1"'},
            json={"min_meetings_per_month": 2, "name": "Same"},
        )
        event = _events(session, "programme", p.id)[-1]
        assert event.action == "programme.updated"
        assert event.changes == {"min_meetings_per_month": {"old": 1, "new": 2}}

    def test_a_required_field_cannot_be_cleared(self, client, session, coordinator) -> None:
        p = make_programme(session)
        r = client.patch(
            f"/api/v1/programmes/{p.id}",
            headers={**coordinator, "If-Match": '"1"'},
            json={"organiser": None},
        )
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {"field": "organiser", "message": "This cannot be left empty."}
        ]

    def test_a_malformed_if_match_names_the_header(self, client, session, coordinator) -> None:
        p = make_programme(session)
        r = client.patch(
            f"/api/v1/programmes/{p.id}",
            headers={**coordinator, "If-Match": "yesterday"},
            json={"name": "x"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "If-Match"


class TestWorkflow:
    def test_a_programme_runs_only_with_a_cohort(self, client, session, coordinator) -> None:
        p = make_programme(session)
        url = f"/api/v1/programmes/{p.id}/transitions"
        r = client.post(
            url, headers={**coordinator, "If-Match": f'"{p.version}"'}, json={"to": "running"}
        )
        assert r.status_code == 422
        make_cohort(session, p)
        r = client.post(
            url, headers={**coordinator, "If-Match": f'"{p.version}"'}, json={"to": "running"}
        )
        assert r.status_code == 200
        assert r.json()["status"] == "running"

    def test_an_illegal_move_is_409_and_names_the_allowed_ones(
        self, client, session, coordinator
    ) -> None:
        p = make_programme(session)
        r = client.post(
            f"/api/v1/programmes/{p.id}/transitions",
            headers={**coordinator, "If-Match": '"1"'},
            json={"to": "closed"},
        )
        assert r.status_code == 409
        assert r.json()["allowed"] == ["running", "cancelled"]

    def test_cancelling_needs_a_reason_which_is_audited(self, client, session, coordinator) -> None:
        p = make_programme(session)
        url = f"/api/v1/programmes/{p.id}/transitions"
        headers = {**coordinator, "If-Match": '"1"'}
        r = client.post(url, headers=headers, json={"to": "cancelled"})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "reason"
        r = client.post(
            url, headers=headers, json={"to": "cancelled", "reason": "no funding granted"}
        )
        assert r.status_code == 200
        event = _events(session, "programme", p.id)[-1]
        assert event.action == "programme.transitioned"
        assert event.reason == "no funding granted"
        assert event.changes == {"status": {"old": "planned", "new": "cancelled"}}


class TestCohorts:
    def test_the_midpoint_defaults_to_halfway(self, client, session, coordinator) -> None:
        p = make_programme(session)
        r = client.post(
            f"/api/v1/programmes/{p.id}/cohorts",
            headers=coordinator,
            json={"code": "2026", "name": "2026", "start_on": "2026-02-01", "end_on": "2027-01-31"},
        )
        assert r.status_code == 201
        assert r.json()["midpoint_on"] == "2026-08-02"
        assert default_midpoint(date(2026, 2, 1), date(2027, 1, 31)) == date(2026, 8, 2)

    def test_dates_out_of_order_name_the_field(self, client, session, coordinator) -> None:
        p = make_programme(session)
        r = client.post(
            f"/api/v1/programmes/{p.id}/cohorts",
            headers=coordinator,
            json={
                "code": "BAD",
                "name": "Bad",
                "start_on": "2026-02-01",
                "midpoint_on": "2027-06-01",
                "end_on": "2027-01-31",
            },
        )
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {
                "field": "midpoint_on",
                "message": "Enter a midpoint between the start date and the end date.",
            }
        ]

    def test_dates_out_of_order_are_said_in_norwegian(self, client, session, coordinator) -> None:
        p = make_programme(session)
        r = client.post(
            f"/api/v1/programmes/{p.id}/cohorts",
            headers={**coordinator, "Accept-Language": "nb"},
            json={"code": "BAD", "name": "Bad", "start_on": "2027-02-01", "end_on": "2027-01-31"},
        )
        assert r.status_code == 422
        assert r.json()["detail"] == "Datoene for kullet kommer i feil rekkefølge."
        assert r.json()["errors"] == [
            {"field": "end_on", "message": "Skriv inn en sluttdato etter startdatoen."}
        ]

    def test_a_cohort_edit_is_checked_against_the_stored_dates(
        self, client, session, coordinator
    ) -> None:
        p = make_programme(session)
        c = make_cohort(session, p, start_on=date(2026, 1, 5), end_on=date(2026, 12, 18))
        r = client.patch(
            f"/api/v1/cohorts/{c.id}",
            headers={**coordinator, "If-Match": f'"{c.version}"'},
            json={"end_on": "2025-12-01"},
        )
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} >= {"end_on"}

    def test_cohorts_are_listed_by_start(self, client, session, coordinator) -> None:
        p = make_programme(session)
        make_cohort(session, p, code="LATE", start_on=date(2027, 1, 4), end_on=date(2027, 12, 17))
        make_cohort(session, p, code="EARLY", start_on=date(2026, 1, 5), end_on=date(2026, 12, 18))
        r = client.get(f"/api/v1/programmes/{p.id}/cohorts", headers=coordinator)
        assert [c["code"] for c in r.json()] == ["EARLY", "LATE"]


class TestPagination:
    def test_the_cursor_walks_every_programme_once(self, client, session, coordinator) -> None:
        made = {make_programme(session).code for _ in range(7)}
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/programmes", headers=coordinator, params=params).json()
            seen += [p["code"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert made <= set(seen)
        assert len(seen) == len(set(seen))

    def test_a_limit_over_the_maximum_is_refused(self, client, coordinator) -> None:
        r = client.get("/api/v1/programmes?limit=201", headers=coordinator)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "limit"


class TestAuditTrailOverHttp:
    def test_events_filter_by_entity(self, client, session) -> None:
        p = make_programme(session)
        make_cohort(session, p)
        lead = auth(make_token(session, Role.quality_lead))
        r = client.get(
            "/api/v1/audit/events",
            headers=lead,
            params={"entity": "programme", "entity_id": str(p.id)},
        )
        assert r.status_code == 200
        assert [e["action"] for e in r.json()["items"]] == ["programme.created"]

    def test_verify_reports_ok(self, client, session) -> None:
        make_programme(session)
        lead = auth(make_token(session, Role.auditor))
        body = client.get("/api/v1/audit/verify", headers=lead).json()
        assert body["ok"] is True
        assert body["count"] == body["head_count"] >= 3
