"""Risks and opportunities (ISO 9001 6.1): the register over REST, its workflow and review, the
actions that treat them, the deviations that realised them, the matrix, the pages, the command
line and the register document."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import docx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qms.audit.models import AuditEvent
from qms.cli import app, common
from qms.config import get_settings
from qms.permissions import Role
from qms.risks.models import Risk
from tests.factories import (
    auth,
    make_deviation,
    make_programme,
    make_token,
    make_user,
)
from tests.web import csrf_of, error_beside, sign_in, web_user

RISK = {
    "kind": "risk",
    "title": "Co-financing conflicts with another measure",
    "description": "The employment service's measure and the programme cannot both fund a mentee.",
    "cause": "Co-financing rules not checked before recruitment.",
    "likelihood": 4,
    "consequence": 4,
}
OPPORTUNITY = {
    "kind": "opportunity",
    "title": "Employers ask to mentor",
    "description": "Two employers in the network ask to provide mentors.",
    "likelihood": 3,
    "consequence": 3,
}


@pytest.fixture
def lead(session) -> dict[str, str]:
    make_user(session, Role.quality_lead, name="lead-kari")
    return auth(make_token(session, Role.quality_lead, name="lead-ragnhild"))


def _etag(client: Any, headers: dict[str, str], risk_id: int) -> str:
    return client.get(f"/api/v1/risks/{risk_id}", headers=headers).headers["etag"]


def _create(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/risks", headers=headers, json={**RISK, **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestRegister:
    def test_a_risk_is_numbered_scored_and_audited(self, client, session, lead) -> None:
        body = _create(client, lead, owner="lead-kari")
        year = date.today().year
        assert body["number"] == f"RISK-{year}-0001"
        assert body["status"] == "open"
        assert body["score"] == 16
        assert body["level"] == "high"
        assert body["owner"] == "lead-kari"
        assert body["programme_id"] is None
        opp = client.post("/api/v1/risks", headers=lead, json=OPPORTUNITY).json()
        assert opp["number"] == f"OPP-{year}-0001"
        assert opp["level"] == "medium"
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "risk").order_by(AuditEvent.seq)
        ).all()
        assert [e.action for e in events] == ["risk.created", "risk.created"]
        assert events[0].changes["likelihood"] == {"old": None, "new": 4}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"likelihood": 6}, "likelihood"),
            ({"consequence": 0}, "consequence"),
            ({"likelihood": "3"}, "likelihood"),
            ({"residual_consequence": 9}, "residual_consequence"),
            ({"kind": "threat"}, "kind"),
            ({"treatment": "pursue"}, "treatment"),
            ({"treatment": "accept"}, "treatment_reason"),
            ({"owner": "nobody"}, "owner"),
            ({"programme_id": 999_999}, "programme_id"),
            ({"title": ""}, "title"),
            ({"review_on": "31.12.2026"}, "review_on"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(
        self, client, session, lead, change, field
    ) -> None:
        r = client.post("/api/v1/risks", headers=lead, json={**RISK, **change})
        assert r.status_code == 422, r.text
        assert field in {e["field"] for e in r.json()["errors"]}
        assert session.scalars(select(Risk)).all() == []

    def test_a_declined_opportunity_needs_its_reason(self, client, lead) -> None:
        r = client.post("/api/v1/risks", headers=lead, json={**OPPORTUNITY, "treatment": "decline"})
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"treatment_reason"}
        r = client.post(
            "/api/v1/risks",
            headers=lead,
            json={**OPPORTUNITY, "treatment": "decline", "treatment_reason": "No capacity."},
        )
        assert r.status_code == 201, r.text

    def test_the_scale_is_the_organisations(self, client, lead, monkeypatch) -> None:
        from qms.config import get_settings

        monkeypatch.setattr(get_settings(), "risk_scale", 3)
        r = client.post("/api/v1/risks", headers=lead, json={**RISK, "likelihood": 4})
        assert r.status_code == 422
        assert "likelihood" in {e["field"] for e in r.json()["errors"]}
        matrix = client.get("/api/v1/risks/matrix", headers=lead).json()
        assert matrix["scale"] == 3

    def test_readers_read_and_only_quality_leads_write(self, client, session, lead) -> None:
        body = _create(client, lead)
        for role in (Role.auditor, Role.coordinator):
            headers = auth(make_token(session, role))
            assert client.get(f"/api/v1/risks/{body['id']}", headers=headers).status_code == 200
            assert client.post("/api/v1/risks", headers=headers, json=RISK).status_code == 403
        importer = auth(make_token(session, Role.importer))
        assert client.get("/api/v1/risks", headers=importer).status_code == 403


class TestChange:
    def test_an_update_needs_the_version_read(self, client, lead) -> None:
        body = _create(client, lead)
        url = f"/api/v1/risks/{body['id']}"
        assert client.patch(url, headers=lead, json={"likelihood": 2}).status_code == 428
        stale = client.patch(url, headers={**lead, "If-Match": '"99"'}, json={"likelihood": 2})
        assert stale.status_code == 412
        r = client.patch(
            url,
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"treatment": "reduce", "residual_likelihood": 2, "residual_consequence": 3},
        )
        assert r.status_code == 200, r.text
        assert r.json()["residual_score"] == 6
        assert r.json()["residual_level"] == "medium"

    def test_treated_needs_a_treatment_and_a_rating_after_it(self, client, lead) -> None:
        body = _create(client, lead)
        url = f"/api/v1/risks/{body['id']}/transitions"
        r = client.post(
            url,
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"to": "treated"},
        )
        assert r.status_code == 422
        fields = {e["field"] for e in r.json()["errors"]}
        assert {"treatment", "residual_likelihood", "residual_consequence"} <= fields
        client.patch(
            f"/api/v1/risks/{body['id']}",
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"treatment": "reduce", "residual_likelihood": 2, "residual_consequence": 2},
        )
        r = client.post(
            url,
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"to": "treated"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "treated"
        # Realised only when a deviation names it; closing needs the reason.
        r = client.post(
            url,
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"to": "realised"},
        )
        assert r.status_code == 409
        r = client.post(
            url,
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"to": "closed"},
        )
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"reason"}

    def test_a_treated_risk_keeps_its_treatment(self, client, lead) -> None:
        body = _create(
            client, lead, treatment="avoid", residual_likelihood=1, residual_consequence=4
        )
        url = f"/api/v1/risks/{body['id']}"
        moved = client.post(
            f"{url}/transitions",
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"to": "treated"},
        )
        assert moved.status_code == 200, moved.text
        r = client.patch(
            url,
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"residual_likelihood": None},
        )
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"residual_likelihood"}
        assert client.get(url, headers=lead).json()["residual_likelihood"] == 1

    def test_a_review_sets_the_next_date_and_is_audited(self, client, session, lead) -> None:
        body = _create(client, lead, review_on=str(date.today() - timedelta(days=1)))
        assert body["review_overdue"] is True
        next_on = date.today() + timedelta(days=90)
        r = client.post(
            f"/api/v1/risks/{body['id']}/reviews",
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"likelihood": 3, "next_review_on": str(next_on), "note": "Checked with NAV."},
        )
        assert r.status_code == 200, r.text
        assert r.json()["review_overdue"] is False
        assert r.json()["likelihood"] == 3
        assert r.json()["review_on"] == str(next_on)
        history = client.get(f"/api/v1/risks/{body['id']}/history", headers=lead).json()
        assert [e["action"] for e in history] == ["risk.created", "risk.reviewed"]
        r = client.post(
            f"/api/v1/risks/{body['id']}/reviews",
            headers={**lead, "If-Match": _etag(client, lead, body["id"])},
            json={"next_review_on": str(date.today())},
        )
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"next_review_on"}


class TestListAndMatrix:
    def test_filters_and_the_matrix(self, client, session, lead) -> None:
        p = make_programme(session)
        high = _create(client, lead, programme_id=p.id)
        _create(client, lead, likelihood=1, consequence=2)
        client.post("/api/v1/risks", headers=lead, json=OPPORTUNITY)
        numbers = lambda q: [  # noqa: E731
            r["number"] for r in client.get(f"/api/v1/risks?{q}", headers=lead).json()["items"]
        ]
        assert numbers(f"programme_id={p.id}") == [high["number"]]
        assert numbers("level=high") == [high["number"]]
        assert len(numbers("kind=risk")) == 2
        assert len(numbers("organisation=true")) == 2
        matrix = client.get("/api/v1/risks/matrix", headers=lead).json()
        assert matrix["scale"] == 5
        assert matrix["before"][3][3] == 1
        assert matrix["before"][0][1] == 1
        assert sum(map(sum, matrix["after"])) == 0

    def test_the_list_as_a_spreadsheet_file(self, client, lead) -> None:
        _create(client, lead)
        r = client.get("/api/v1/risks?format=csv", headers=lead)
        assert r.status_code == 200
        assert "Co-financing conflicts" in r.text
        assert "high" in r.text

    def test_a_scoped_coordinator_sees_only_their_programme(self, client, session, lead) -> None:
        a = make_programme(session)
        b = make_programme(session)
        mine = _create(client, lead, programme_id=a.id)
        other = _create(client, lead, programme_id=b.id)
        org = _create(client, lead)
        scoped = auth(make_token(session, Role.coordinator, programme_code=a.code))
        items = client.get("/api/v1/risks", headers=scoped).json()["items"]
        assert [r["number"] for r in items] == [mine["number"]]
        assert client.get(f"/api/v1/risks/{other['id']}", headers=scoped).status_code == 404
        assert client.get(f"/api/v1/risks/{org['id']}", headers=scoped).status_code == 404


class TestActionsAndDeviations:
    def test_a_preventive_action_treats_a_risk(self, client, session, lead) -> None:
        make_user(session, Role.coordinator, name="coordinator-ola")
        p = make_programme(session)
        risk = _create(client, lead, programme_id=p.id)
        action = {
            "risk_ids": [risk["id"]],
            "type": "preventive",
            "title": "Check co-financing before admission",
            "action": "The coordinator checks each mentee's other measures at intake.",
            "owner": "coordinator-ola",
            "due_on": str(date.today() + timedelta(days=60)),
        }
        wrong = client.post("/api/v1/actions", headers=lead, json={**action, "type": "corrective"})
        assert wrong.status_code == 422
        assert {e["field"] for e in wrong.json()["errors"]} == {"type"}
        r = client.post("/api/v1/actions", headers=lead, json=action)
        assert r.status_code == 201, r.text
        assert r.json()["risk_numbers"] == [risk["number"]]
        assert r.json()["deviation_ids"] == []
        read = client.get(f"/api/v1/risks/{risk['id']}", headers=lead).json()
        assert read["action_numbers"] == [r.json()["number"]]
        history = client.get(f"/api/v1/risks/{risk['id']}/history", headers=lead).json()
        assert [e["action"] for e in history] == ["risk.created", "risk.action_linked"]
        # The action is the risk's programme's: a coordinator of another does not see it.
        other = make_programme(session)
        outsider = auth(make_token(session, Role.coordinator, programme_code=other.code))
        assert client.get(f"/api/v1/actions/{r.json()['id']}", headers=outsider).status_code == 404
        insider = auth(make_token(session, Role.coordinator, programme_code=p.code))
        assert client.get(f"/api/v1/actions/{r.json()['id']}", headers=insider).status_code == 200
        listed = client.get("/api/v1/actions", headers=insider).json()["items"]
        assert [a["number"] for a in listed] == [r.json()["number"]]
        assert client.get("/api/v1/actions", headers=outsider).json()["items"] == []

    def test_an_action_names_a_deviation_or_a_risk(self, client, session, lead) -> None:
        make_user(session, Role.coordinator, name="coordinator-ola")
        r = client.post(
            "/api/v1/actions",
            headers=lead,
            json={
                "type": "preventive",
                "title": "Nothing to answer",
                "action": "Something.",
                "owner": "coordinator-ola",
                "due_on": str(date.today() + timedelta(days=60)),
            },
        )
        assert r.status_code == 422
        assert {"deviation_ids", "risk_ids"} <= {e["field"] for e in r.json()["errors"]}

    def test_a_deviation_naming_the_risk_realises_it(self, client, session, lead) -> None:
        p = make_programme(session)
        risk = _create(client, lead, programme_id=p.id)
        r = client.post(
            "/api/v1/deviations",
            headers=lead,
            json={
                "kind": "deviation_from_plan",
                "source": "self_reported",
                "severity": "major",
                "title": "A mentee lost the employment service's measure",
                "description": "The co-financing conflicted with another measure.",
                "programme_id": p.id,
                "risk_id": risk["id"],
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["risk_number"] == risk["number"]
        read = client.get(f"/api/v1/risks/{risk['id']}", headers=lead).json()
        assert read["status"] == "realised"
        assert read["deviation_numbers"] == [r.json()["number"]]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "risk.realised")
        ).one()
        assert event.reason == r.json()["number"]

    def test_a_deviation_cannot_name_another_programmes_risk(self, client, session, lead) -> None:
        a = make_programme(session)
        b = make_programme(session)
        risk = _create(client, lead, programme_id=b.id)
        deviation = make_deviation(session, programme_id=a.id)
        r = client.patch(
            f"/api/v1/deviations/{deviation.id}",
            headers={
                **lead,
                "If-Match": client.get(f"/api/v1/deviations/{deviation.id}", headers=lead).headers[
                    "etag"
                ],
            },
            json={"risk_id": risk["id"]},
        )
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"risk_id"}


class TestWorkMapAndReview:
    def test_a_review_due_waits_in_the_owners_work(self, client, session, lead) -> None:
        due = _create(
            client, lead, owner="lead-ragnhild", review_on=str(date.today() - timedelta(days=2))
        )
        _create(
            client, lead, owner="lead-ragnhild", review_on=str(date.today() + timedelta(days=200))
        )
        _create(client, lead, owner="lead-kari", review_on=str(date.today()))
        items = client.get("/api/v1/me/work", headers=lead).json()["items"]
        mine = [(i["kind"], i["number"], i["overdue"]) for i in items if i["record"] == "risk"]
        assert mine == [("risk_review_due", due["number"], True)]

    def test_risks_and_their_actions_count_for_clause_6_1(self, client, session, lead) -> None:
        make_user(session, Role.coordinator, name="coordinator-ola")
        risk = _create(client, lead)
        action = client.post(
            "/api/v1/actions",
            headers=lead,
            json={
                "risk_ids": [risk["id"]],
                "type": "preventive",
                "title": "Check co-financing at intake",
                "action": "The coordinator asks about other measures.",
                "owner": "coordinator-ola",
                "due_on": str(date.today() + timedelta(days=30)),
            },
        ).json()
        today = date.today()
        r = client.get(
            f"/api/v1/frameworks/ISO9001/coverage?period_start={today - timedelta(days=30)}"
            f"&period_end={today}",
            headers=lead,
        )
        assert r.status_code == 200, r.text
        rows = {row["code"]: row for row in r.json()["rows"]}
        assert risk["number"] in str(rows["6.1"]["evidence"])
        assert action["number"] in str(rows["6.1"]["evidence"])

    def test_the_review_input_9_3_2_e_is_compiled_from_the_register(
        self, client, session, lead
    ) -> None:
        risk = _create(
            client,
            lead,
            treatment="reduce",
            residual_likelihood=2,
            residual_consequence=2,
        )
        year = date.today().year
        r = client.get(
            f"/api/v1/reviews/inputs?period_start={year}-01-01&period_end={year}-12-31",
            headers=lead,
        )
        assert r.status_code == 200, r.text
        [section] = [s for s in r.json()["sections"] if s["clause"] == "9.3.2 e"]
        [row] = [row for row in section["rows"] if row[0] == risk["number"]]
        assert row[1:7] == ["risk", RISK["title"], "open", "high", "reduce", "low"]


class TestPages:
    def test_the_register_shows_the_matrix_and_the_chart(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead, name="page-lead"))
        page = client.get("/risks/new")
        r = client.post(
            "/risks/new",
            data={
                "csrf_token": csrf_of(page.text),
                **{k: str(v) for k, v in RISK.items()},
                "residual_likelihood": "2",
                "residual_consequence": "2",
                "treatment": "reduce",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        record = client.get(r.headers["location"])
        assert record.status_code == 200
        assert "Co-financing conflicts" in record.text
        assert "likelihood 4 \u00d7 consequence 4 = 16" in record.text
        listing = client.get("/risks")
        assert listing.status_code == 200
        assert 'class="heat-map"' in listing.text
        # The chart: its text alternative and its titles, in the reader's language.
        assert "<svg" in listing.text
        assert "Risk matrix: likelihood by consequence" in listing.text
        assert "Before treatment" in listing.text
        assert "After treatment" in listing.text
        assert "1 risks and opportunities placed" in listing.text

    def test_bad_input_is_named_beside_its_field(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead, name="page-lead-2"))
        page = client.get("/risks/new")
        r = client.post(
            "/risks/new",
            data={
                "csrf_token": csrf_of(page.text),
                **{k: str(v) for k, v in OPPORTUNITY.items()},
                "treatment": "decline",
            },
        )
        assert r.status_code == 422
        assert error_beside(r.text, "treatment_reason")
        assert session.scalars(select(Risk)).all() == []

    def test_a_deviation_logged_on_the_page_names_the_risk(self, client, session, lead) -> None:
        body = _create(client, lead)
        sign_in(client, web_user(session, Role.quality_lead, name="page-lead-3"))
        form = client.get("/deviations/new")
        assert f"{body['number']} · {body['title']}" in form.text
        r = client.post(
            "/deviations/new",
            data={
                "csrf_token": csrf_of(form.text),
                "title": "Co-financing lost",
                "description": "A mentee moved to another measure.",
                "severity": "minor",
                "kind": "deviation_from_plan",
                "source": "self_reported",
                "risk_id": str(body["id"]),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        deviation = client.get(r.headers["location"]).text
        assert f'<a href="/risks/{body["id"]}">{body["number"]}</a>' in deviation
        record = client.get(f"/risks/{body['id']}").text
        assert "Co-financing lost" in record

    def test_a_logged_deviation_names_its_risk_later_on_its_page(
        self, client, session, lead
    ) -> None:
        p = make_programme(session)
        body = _create(client, lead, programme_id=p.id)
        other = _create(client, lead, programme_id=make_programme(session).id, title="Elsewhere")
        deviation = make_deviation(session, programme_id=p.id)
        sign_in(client, web_user(session, Role.quality_lead, name="page-lead-links"))
        page = client.get(f"/deviations/{deviation.id}")
        assert "Risk realised and external provider" in page.text

        def save(risk_id: str, version: int) -> Any:
            return client.post(
                f"/deviations/{deviation.id}/links",
                data={
                    "csrf_token": csrf_of(page.text),
                    "risk_id": risk_id,
                    "version": str(version),
                },
                follow_redirects=False,
            )

        # Another programme's risk is refused beside the field, and nothing changes.
        refused = save(str(other["id"]), deviation.version)
        assert refused.status_code == 422
        assert error_beside(refused.text, "links-risk_id")
        session.refresh(deviation)
        assert deviation.risk_id is None

        saved = save(str(body["id"]), deviation.version)
        assert saved.status_code == 303, saved.text
        shown = client.get(f"/deviations/{deviation.id}").text
        assert f'<a href="/risks/{body["id"]}">{body["number"]}</a>' in shown
        read = client.get(f"/api/v1/risks/{body['id']}", headers=lead).json()
        assert read["status"] == "realised"
        # The realised risk is still offered as the one it names, selected.
        assert f'<option value="{body["id"]}" selected' in shown

    def test_an_actions_page_links_the_risks_it_treats(self, client, session, lead) -> None:
        make_user(session, Role.coordinator, name="coordinator-ola")
        risk = _create(client, lead)
        action = client.post(
            "/api/v1/actions",
            headers=lead,
            json={
                "risk_ids": [risk["id"]],
                "type": "preventive",
                "title": "Check co-financing at intake",
                "action": "The coordinator asks about other measures.",
                "owner": "coordinator-ola",
                "due_on": str(date.today() + timedelta(days=30)),
            },
        ).json()
        sign_in(client, web_user(session, Role.auditor, name="page-auditor-2"))
        page = client.get(f"/actions/{action['id']}").text
        assert f'<a href="/risks/{risk["id"]}">{risk["number"]}</a>' in page
        record = client.get(f"/risks/{risk['id']}").text
        assert f'<a href="/actions/{action["id"]}">{action["number"]}</a>' in record

    def test_an_auditor_reads_but_is_offered_no_change(self, client, session, lead) -> None:
        body = _create(client, lead)
        sign_in(client, web_user(session, Role.auditor, name="page-auditor"))
        page = client.get(f"/risks/{body['id']}")
        assert page.status_code == 200
        assert f"/risks/{body['id']}/review" not in page.text
        assert client.get("/risks/new").status_code == 403


class TestDocument:
    def test_the_register_document_reads_back(self, client, session, lead) -> None:
        make_user(session, Role.coordinator, name="coordinator-ola")
        body = _create(
            client,
            lead,
            treatment="reduce",
            treatment_plan="Check each mentee's other measures at intake.",
            residual_likelihood=2,
            residual_consequence=2,
        )
        client.post(
            "/api/v1/actions",
            headers=lead,
            json={
                "risk_ids": [body["id"]],
                "type": "preventive",
                "title": "Check co-financing at intake",
                "action": "The coordinator asks about other measures.",
                "owner": "coordinator-ola",
                "due_on": str(date.today() + timedelta(days=30)),
            },
        )
        r = client.get("/api/v1/documents/risk-register?language=nb", headers=lead)
        assert r.status_code == 200, r.text
        document = docx.Document(io.BytesIO(r.content))
        text = read_docx(r.content)
        assert body["number"] in text
        assert "Co-financing conflicts with another measure" in text
        assert "Check co-financing at intake" in text
        assert "Check each mentee's other measures at intake." in text
        # The matrix as a picture, described for a screen reader, and as tables.
        assert len(document.inline_shapes) == 1
        assert "4 × 4 = 16" in text  # noqa: RUF001
        assert "2 × 2 = 4" in text  # noqa: RUF001
        assert body["number"] in [
            c.text for t in document.tables for row in t.rows for c in row.cells
        ]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.issued")
        ).all()
        assert event

    def test_a_scoped_reader_gets_their_programmes_only(self, client, session, lead) -> None:
        a = make_programme(session)
        b = make_programme(session)
        mine = _create(client, lead, programme_id=a.id)
        other = _create(client, lead, programme_id=b.id, title="Another programme's risk")
        scoped = auth(make_token(session, Role.auditor, programme_code=a.code))
        r = client.get("/api/v1/documents/risk-register", headers=scoped)
        assert r.status_code == 200, r.text
        text = read_docx(r.content)
        assert mine["number"] in text
        assert other["number"] not in text


class TestCommandLine:
    def test_add_rate_move_list_and_issue(self, fresh_db, monkeypatch, tmp_path) -> None:
        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        monkeypatch.setattr(common.out, "width", 220)
        with fresh_db.unit_of_work(write=True) as session:
            make_programme(session, code="VIA-JOB")
        get_settings.cache_clear()
        try:
            added = CliRunner().invoke(
                app,
                [
                    "risks", "add", "--programme", "VIA-JOB",
                    "--title", "Target group changed mid-way",
                    "--description", "Referrals may not match the planned target group.",
                    "--likelihood", "3", "--consequence", "4",
                ],
            )  # fmt: skip
            assert added.exit_code == 0, (added.stdout, added.stderr)
            number = added.stdout.strip()
            assert number.startswith("RISK-")
            wrong = CliRunner().invoke(app, ["risks", "rate", number, "--likelihood", "9"])
            assert wrong.exit_code != 0
            assert "likelihood" in wrong.stderr
            refused = CliRunner().invoke(app, ["risks", "move", number, "--to", "treated"])
            assert refused.exit_code != 0
            assert "treatment" in refused.stderr
            rated = CliRunner().invoke(
                app,
                [
                    "risks", "rate", number, "--treatment", "reduce",
                    "--plan", "Confirm the target group with the referrer.",
                    "--after-likelihood", "1", "--after-consequence", "4",
                ],
            )  # fmt: skip
            assert rated.exit_code == 0, (rated.stdout, rated.stderr)
            moved = CliRunner().invoke(app, ["risks", "move", number, "--to", "treated"])
            assert moved.exit_code == 0, (moved.stdout, moved.stderr)
            table = CliRunner().invoke(app, ["risks", "list"])
            assert table.exit_code == 0, table.stderr
            assert number in table.stdout
            assert "treated" in table.stdout
            assert "VIA-JOB" in table.stdout
            listed = CliRunner().invoke(app, ["risks", "list", "--format", "json"])
            records = json.loads(listed.stdout)["items"]
            assert [(r["number"], r["treatment"], r["residual_score"]) for r in records] == [
                (number, "reduce", 4)
            ]
            csv = CliRunner().invoke(app, ["risks", "list", "--format", "csv"])
            assert "reduce" in csv.stdout
            assert "VIA-JOB" in csv.stdout
            target = tmp_path / "risks.docx"
            issued = CliRunner().invoke(
                app, ["docs", "risk-register", "--programme", "VIA-JOB", "-o", str(target)]
            )
            assert issued.exit_code == 0, (issued.stdout, issued.stderr)
            assert number in read_docx(target.read_bytes())
        finally:
            get_settings.cache_clear()


def read_docx(content: bytes) -> str:
    """Return the text of a .docx: its paragraphs and its tables' cells."""
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)
