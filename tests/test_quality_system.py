"""Requirement frameworks, internal audits, management reviews and the evidence map."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audit.service import verify
from qms.audits.models import InternalAudit, ManagementReview
from qms.deviations.models import Deviation
from qms.permissions import Actor, Role
from qms.procedures import service as procedures
from qms.resources import procedures_dir
from qms.signatures.models import Signature
from tests.factories import (
    auth,
    make_cohort,
    make_deviation,
    make_participant,
    make_programme,
    make_token,
    make_user,
    signing,
)

TODAY = date.today()


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-astrid"))


@pytest.fixture
def auditor_user(session):
    return make_user(session, Role.quality_lead, name="auditor-bjorn")


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _etag(client, headers, path: str) -> str:
    return client.get(path, headers=headers).headers["etag"]


def _plan(**overrides):
    return {
        "title": "Matching and follow-up",
        "scope": "Cohort 2026: matching and the mid-programme follow-up.",
        "criteria": ["EMCC:selection-matching", "MENTOR:monitoring"],
        "auditors": ["auditor-bjorn"],
        "auditees": ["coordinator-kari"],
        "start_on": TODAY.isoformat(),
        "end_on": (TODAY + timedelta(days=1)).isoformat(),
        "checklist": [
            {"question": "Is each match's rationale recorded?", "requirement": "MENTOR:matching"},
            {
                "question": "Was every follow-up held by the midpoint?",
                "requirement": "ISO9001:9.1.1",
            },
        ],
        **overrides,
    }


def _move(client, headers, path: str, **body):
    # Closing signs: the helper confirms it as the signer would.
    entity = "internal_audit" if "/audits/" in path else "management_review"
    return client.post(
        f"{path}/transitions",
        headers={**headers, "If-Match": _etag(client, headers, path)},
        json={**signing(entity, body.get("to", "")), **body},
    )


class TestFrameworks:
    def test_the_three_frameworks_ship_with_their_requirements(self, client, lead) -> None:
        listed = client.get("/api/v1/frameworks", headers=lead).json()
        assert {f["code"]: f["requirements"] for f in listed} == {
            "ISO9001": 66,
            "EMCC": 6,
            "MENTOR": 6,
        }
        emcc = client.get("/api/v1/frameworks/emcc", headers=lead).json()
        titles = {r["ref"]: r["title"] for r in emcc["items"]}
        assert titles["EMCC:selection-matching"] == "Processes for selection and matching"
        assert "unwound" in next(
            r["guidance"] for r in emcc["items"] if r["code"] == "selection-matching"
        )
        iso = client.get("/api/v1/frameworks/ISO9001", headers=lead).json()
        assert {r["code"]: r["title"] for r in iso["items"]}["8.7"] == (
            "Control of nonconforming outputs"
        )
        r = client.get("/api/v1/frameworks/ISO14001", headers=lead)
        assert r.status_code == 404
        assert "ISO9001, EMCC or MENTOR" in r.json()["detail"]
        nb = client.get("/api/v1/frameworks/ISO14001", headers={**lead, "Accept-Language": "nb"})
        assert nb.json()["detail"] == (
            "Det finnes ikke noe rammeverk ISO14001: velg ISO9001, EMCC eller MENTOR."
        )

    def test_a_deviation_carries_known_references_and_unknown_ones_are_named(
        self, client, session, lead
    ) -> None:
        body = {
            "kind": "nonconformity",
            "source": "follow_up",
            "severity": "minor",
            "title": "Follow-up held late",
            "description": "Held five weeks after the midpoint.",
        }
        before = _count(session, Deviation)
        r = client.post(
            "/api/v1/deviations",
            headers=lead,
            json={**body, "requirements": ["MENTOR:monitoring", "EMCC:mentoring"]},
        )
        assert r.status_code == 422
        (error,) = r.json()["errors"]
        assert error["field"].startswith("requirements")
        assert "EMCC has no requirement mentoring" in error["message"]
        assert _count(session, Deviation) == before
        r = client.post(
            "/api/v1/deviations", headers=lead, json={**body, "requirements": ["MENTOR:monitoring"]}
        )
        assert r.status_code == 201
        assert r.json()["requirements"] == ["MENTOR:monitoring"]


class TestInternalAudits:
    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ({"auditees": ["auditor-bjorn"]}, "auditors[0]", "also an auditee"),
            ({"auditors": ["nobody"]}, "auditors[0]", "There is no active user nobody."),
            ({"end_on": "2000-01-01"}, "end_on", "on or after the start date"),
            ({"procedure_codes": ["PR-99"]}, "procedure_codes[0]", "There is no procedure PR-99."),
        ],
    )
    def test_a_plan_that_cannot_stand_is_refused_by_field_and_nothing_kept(
        self, client, session, lead, auditor_user, change, field, message
    ) -> None:
        before = (_count(session, InternalAudit), _count(session, AuditEvent))
        r = client.post("/api/v1/audits", headers=lead, json=_plan(**change))
        assert r.status_code == 422, r.text
        assert any(e["field"] == field and message in e["message"] for e in r.json()["errors"])
        assert (_count(session, InternalAudit), _count(session, AuditEvent)) == before

    def test_a_refused_plan_is_explained_in_bokmal(
        self, client, session, lead, auditor_user
    ) -> None:
        r = client.post(
            "/api/v1/audits",
            headers={**lead, "Accept-Language": "nb"},
            json=_plan(auditors=["nobody"]),
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["title"] == "Validation failed"
        assert body["detail"] == "Revisjonsplanen kan ikke stå slik den er: velg andre revisorer."
        assert {e["field"]: e["message"] for e in body["errors"]} == {
            "auditors[0]": "Det finnes ingen aktiv bruker nobody."
        }

    def test_no_one_audits_a_procedure_they_wrote(self, client, session, lead) -> None:
        writer = make_user(session, Role.quality_lead, name="lead-writer")
        procedures.sync(
            session,
            actor=Actor(user_id=writer.id, name=writer.name, role=writer.role),
            folder=procedures_dir(),
        )
        r = client.post(
            "/api/v1/audits",
            headers=lead,
            json=_plan(auditors=["lead-writer"], procedure_codes=["PR-05"]),
        )
        assert r.status_code == 422
        assert "wrote or approved PR-05" in r.json()["errors"][0]["message"]

    def test_an_audit_runs_to_closure_and_a_no_raises_a_linked_deviation(
        self, client, session, lead, auditor_user
    ) -> None:
        created = client.post("/api/v1/audits", headers=lead, json=_plan())
        assert created.status_code == 201, created.text
        audit = created.json()
        assert audit["number"].startswith(f"IA-{TODAY.year}-")
        assert audit["status"] == "planned"
        path = f"/api/v1/audits/{audit['id']}"
        line1, line2 = audit["lines"]

        def answer(line, **body):
            return client.put(
                f"{path}/lines/{line['id']}/answer",
                headers={**lead, "If-Match": f'"{line["version"]}"'},
                json=body,
            )

        assert answer(line1, conforms="yes").status_code == 409  # not started yet
        assert _move(client, lead, path, to="in_progress").status_code == 200
        assert answer(line1, conforms="yes", evidence="Twelve rationales seen.").status_code == 200
        refused = answer(line2, conforms="no")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "evidence"
        raised = answer(line2, conforms="no", evidence="Two held late.", severity="major")
        assert raised.status_code == 200
        deviation_id = raised.json()["deviation_id"]
        deviation = client.get(f"/api/v1/deviations/{deviation_id}", headers=lead).json()
        assert deviation["source"] == "internal_audit"
        assert deviation["severity"] == "major"
        assert deviation["iso_clause"] == "9.1.1"
        assert deviation["requirements"] == ["ISO9001:9.1.1"]
        assert audit["number"] in deviation["title"]
        assert "Two held late." in deviation["description"]

        not_yet = _move(client, lead, path, to="reported")
        assert not_yet.status_code == 422
        assert not_yet.json()["errors"][0]["field"] == "conclusion"
        r = client.patch(
            path,
            headers={**lead, "If-Match": _etag(client, lead, path)},
            json={"conclusion": "Matching conforms; follow-up timing does not."},
        )
        assert r.status_code == 200
        assert _move(client, lead, path, to="reported").status_code == 200
        late = client.get(path, headers=lead).json()["lines"][0]
        assert answer(late, conforms="no", evidence="x").status_code == 409
        wrong = _move(client, lead, path, to="planned")
        assert wrong.status_code == 409
        assert "closed" in wrong.json()["detail"]
        closed = _move(client, lead, path, to="closed")
        assert closed.status_code == 200
        assert closed.json()["nonconforming"] == 1
        signature = session.scalars(
            select(Signature).where(
                Signature.entity == "internal_audit", Signature.entity_id == audit["id"]
            )
        ).one()
        assert signature.meaning.value == "closed"
        actions = set(
            session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.entity == "internal_audit", AuditEvent.entity_id == str(audit["id"])
                )
            )
        )
        assert {
            "internal_audit.planned",
            "internal_audit.line_answered",
            "internal_audit.reported",
            "internal_audit.closed",
        } <= actions
        assert verify(session).ok

    def test_only_quality_leads_plan_and_auditors_read(
        self, client, session, lead, auditor_user
    ) -> None:
        audit = client.post("/api/v1/audits", headers=lead, json=_plan()).json()
        reader = auth(make_token(session, Role.auditor))
        coordinator = auth(make_token(session, Role.coordinator))
        assert client.get(f"/api/v1/audits/{audit['id']}", headers=reader).status_code == 200
        assert client.post("/api/v1/audits", headers=reader, json=_plan()).status_code == 403
        assert client.post("/api/v1/audits", headers=coordinator, json=_plan()).status_code == 403
        listed = client.get("/api/v1/audits?status=planned", headers=reader).json()
        assert audit["id"] in {a["id"] for a in listed}


class TestManagementReviews:
    def _plan(self, client, lead, **overrides):
        body = {
            "title": "Annual management review",
            "period_start": (TODAY - timedelta(days=200)).isoformat(),
            "period_end": (TODAY - timedelta(days=1)).isoformat(),
            "planned_on": TODAY.isoformat(),
            "participants": ["lead-astrid", "manager-per"],
            **overrides,
        }
        r = client.post("/api/v1/reviews", headers=lead, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def test_the_inputs_cover_9_3_2_and_freeze_when_the_review_is_held(
        self, client, session, lead
    ) -> None:
        make_deviation(session, source="complaint", title="A mentee complained")
        review = self._plan(client, lead)
        clauses = [s["clause"] for s in review["inputs"]["sections"]]
        assert clauses == [
            "9.3.2 a",
            "9.3.2 b",
            "9.3.2 c1",
            "9.3.2 c2",
            "9.3.2 c3",
            "9.3.2 c4",
            "9.3.2 c5",
            "9.3.2 c6",
            "9.3.2 c7",
            "9.3.2 d",
            "9.3.2 e",
            "9.3.2 f",
        ]
        assert review["inputs_frozen"] is False
        path = f"/api/v1/reviews/{review['id']}"
        early = _move(
            client, lead, path, to="held", held_on=(TODAY - timedelta(days=100)).isoformat()
        )
        assert early.status_code == 422
        assert early.json()["errors"][0]["field"] == "held_on"
        norwegian = _move(
            client,
            {**lead, "Accept-Language": "nb"},
            path,
            to="held",
            held_on=(TODAY - timedelta(days=100)).isoformat(),
        )
        end = TODAY - timedelta(days=1)
        assert norwegian.json()["errors"][0]["message"] == (
            f"Oppgi en dato på eller etter periodens slutt, {end:%d.%m.%Y}."
        )
        held = _move(client, lead, path, to="held", held_on=TODAY.isoformat())
        assert held.status_code == 200
        assert held.json()["inputs_frozen"] is True
        frozen = held.json()["inputs"]
        # A record logged later, dated inside the period, changes the live input, not the frozen.
        make_deviation(
            session,
            source="complaint",
            detected_at=f"{(TODAY - timedelta(days=5)).isoformat()}T10:00:00Z",
        )
        assert client.get(path, headers=lead).json()["inputs"] == frozen
        live = client.get(
            "/api/v1/reviews/inputs",
            headers=lead,
            params={
                "period_start": review["period_start"],
                "period_end": review["period_end"],
            },
        ).json()
        assert live != frozen

    def test_decisions_open_actions_and_the_next_review_sees_where_they_stand(
        self, client, session, lead
    ) -> None:
        make_user(session, Role.coordinator, name="coordinator-kari")
        review = self._plan(client, lead)
        path = f"/api/v1/reviews/{review['id']}"
        decision: dict[str, Any] = {
            "kind": "improvement",
            "text": "Book follow-ups at the kick-off.",
            "action": {
                "title": "Follow-ups booked at kick-off",
                "action": "Add it to the kick-off agenda.",
                "owner": "coordinator-kari",
                "due_on": (TODAY + timedelta(days=60)).isoformat(),
            },
        }
        assert client.post(f"{path}/decisions", headers=lead, json=decision).status_code == 409
        assert _move(client, lead, path, to="held", held_on=TODAY.isoformat()).status_code == 200
        actions_before = _count(session, CorrectiveAction)
        r = client.post(f"{path}/decisions", headers=lead, json=decision)
        assert r.status_code == 201, r.text
        assert r.json()["action_number"].startswith("CA-")
        assert r.json()["action_status"] == "planned"
        assert _count(session, CorrectiveAction) == actions_before + 1
        bad = client.post(
            f"{path}/decisions",
            headers=lead,
            json={**decision, "action": {**decision["action"], "owner": "nobody"}},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "action.owner"
        assert _count(session, CorrectiveAction) == actions_before + 1

        refused = _move(client, lead, path, to="closed")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "conclusion"
        client.patch(
            path,
            headers={**lead, "If-Match": _etag(client, lead, path)},
            json={"conclusion": "Suitable and effective."},
        )
        assert _move(client, lead, path, to="closed").status_code == 200
        assert session.scalars(
            select(Signature).where(
                Signature.entity == "management_review", Signature.entity_id == review["id"]
            )
        ).one()

        following = self._plan(
            client,
            lead,
            title="Next review",
            period_start=TODAY.isoformat(),
            period_end=(TODAY + timedelta(days=1)).isoformat(),
            planned_on=(TODAY + timedelta(days=2)).isoformat(),
        )
        section_a = following["inputs"]["sections"][0]
        assert [review["number"], "improvement", "Book follow-ups at the kick-off."] == (
            section_a["rows"][1][:3]
        )
        assert section_a["rows"][1][4] == "planned"

    def test_a_coordinator_reads_but_does_not_plan(self, client, session, lead) -> None:
        coordinator = auth(make_token(session, Role.coordinator))
        review = self._plan(client, lead)
        assert client.get(f"/api/v1/reviews/{review['id']}", headers=coordinator).status_code == 200
        r = client.post(
            "/api/v1/reviews",
            headers=coordinator,
            json={
                "title": "x",
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "planned_on": "2026-07-01",
            },
        )
        assert r.status_code == 403
        assert _count(session, ManagementReview) == 1


class TestEvidenceMap:
    def test_each_requirement_shows_its_evidence_open_deviations_and_gaps(
        self, client, session, lead
    ) -> None:
        programme = make_programme(session)
        cohort = make_cohort(session, programme)
        mentor = make_participant(session, cohort, role="mentor", training_modules=["M1"])
        deviation = make_deviation(
            session, programme_id=programme.id, requirements=["EMCC:selection-matching"]
        )
        r = client.get(
            "/api/v1/frameworks/EMCC/coverage",
            headers=lead,
            params={
                "programme_id": programme.id,
                "period_start": cohort.start_on.isoformat(),
                "period_end": cohort.end_on.isoformat(),
            },
        )
        assert r.status_code == 200, r.text
        rows = {row["code"]: row for row in r.json()["rows"]}
        assert rows["selection-matching"]["open_deviations"] == [deviation.number]
        # Each count with the records behind it, by their codes.
        assert {
            "kind": "participants trained",
            "count": 1,
            "records": [mentor.code],
        } in rows["training"]["evidence"]
        # No procedure is effective in a fresh database: every requirement shows that gap.
        assert all("no effective procedure" in row["gaps"] for row in rows.values())
        assert rows["ethics"]["gaps"] == ["no effective procedure", "no evidence in the period"]
        assert r.json()["gaps"] == 6

        iso = client.get(
            "/api/v1/frameworks/ISO9001/coverage",
            headers=lead,
            # The cohort's dates are fixed; the default period (the year to today) is not.
            params={
                "programme_id": programme.id,
                "period_start": cohort.start_on.isoformat(),
                "period_end": cohort.end_on.isoformat(),
            },
        ).json()
        # ISO 9001 7.2 is evidenced by training, and so is the enclosing clause 7.
        iso_rows = {row["code"]: row for row in iso["rows"]}
        assert iso_rows["7.2"]["evidence"] == iso_rows["7"]["evidence"]
        assert iso_rows["7.2"]["evidence"]

    def test_recruitment_screening_and_purpose_have_their_evidence(
        self, client, session, lead
    ) -> None:
        from qms.indicators import service as indicators
        from qms.indicators.schemas import IndicatorCreate
        from tests.factories import ADMIN

        programme = make_programme(
            session,
            target_group="Job-seeking graduates with a foreign degree",
            objectives="9 of 12 mentees employed at close",
        )
        cohort = make_cohort(session, programme)
        screened = make_participant(session, cohort, screened_on=cohort.start_on)
        other = make_participant(session, cohort)
        indicators.define(
            session,
            actor=ADMIN,
            programme_id=programme.id,
            data=IndicatorCreate(
                code="EMPLOYED",
                name="Employed at close",
                unit="percent",
                computation="employment_rate",
                planned=75,
            ),
        )
        today = date.today()
        params = {
            "programme_id": programme.id,
            "period_start": min(cohort.start_on, today).isoformat(),
            "period_end": max(cohort.end_on, today).isoformat(),
        }
        mentor = client.get("/api/v1/frameworks/MENTOR/coverage", headers=lead, params=params)
        rows = {row["code"]: row for row in mentor.json()["rows"]}
        assert {
            "kind": "participants enrolled",
            "count": 2,
            "records": sorted([screened.code, other.code]),
        } in rows["recruitment"]["evidence"]
        assert {
            "kind": "participants screened",
            "count": 1,
            "records": [screened.code],
        } in rows["screening"]["evidence"]
        emcc = client.get("/api/v1/frameworks/EMCC/coverage", headers=lead, params=params)
        purpose = {row["code"]: row for row in emcc.json()["rows"]}["purpose"]
        assert purpose["evidence"] == [
            {"kind": "indicators with a planned value", "count": 1, "records": ["EMPLOYED"]},
            {"kind": "programmes with a stated purpose", "count": 1, "records": [programme.code]},
        ]

    def test_a_period_that_ends_before_it_starts_is_refused(self, client, lead) -> None:
        r = client.get(
            "/api/v1/frameworks/MENTOR/coverage",
            headers=lead,
            params={"period_start": "2026-06-01", "period_end": "2026-01-01"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "period_end"
