"""External providers (ISO 9001 8.4): kept, evaluated with a score and the next date, named by
deviations, listed, shown on their pages, in the register document and the review's input."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from qms import replay
from qms.audit.models import AuditEvent
from qms.cli import app, common
from qms.config import get_settings
from qms.db import utcnow
from qms.permissions import Actor, Role
from qms.providers import service as providers
from qms.providers.models import Provider
from qms.providers.schemas import ProviderCreate, ProviderEvaluationCreate, ProviderUpdate
from qms.retention.service import RULES
from tests.factories import auth, make_deviation, make_programme, make_token
from tests.reading import docx_text
from tests.web import csrf_of, error_beside, sign_in, web_user

TODAY = utcnow().date()
ADMIN = Actor(user_id=None, name="admin", role=Role.admin)
V1 = "/api/v1/providers"


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "code": "NAV",
        "name": "NAV Oslo",
        "kind": "referrer",
        "provides": "Refers job-seeking mentees to the programme.",
        "criteria": "Referrals on time; mentees within the target group.",
        "contact": "nav.oslo@example.org",
        **extra,
    }


def make_provider(session: Session, **overrides: Any) -> Provider:
    """Add a provider with sensible defaults."""
    return providers.create(session, actor=ADMIN, data=ProviderCreate(**_body(**overrides)))


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


class TestKeepProviders:
    def test_a_quality_lead_adds_a_provider_and_reads_it_back(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        reply = client.post(V1, headers=lead, json=_body())
        assert reply.status_code == 201, reply.text
        record = reply.json()
        assert (record["code"], record["kind"], record["status"]) == ("NAV", "referrer", "approved")
        assert record["next_evaluation_on"] == providers.add_months(TODAY, 12).isoformat()
        assert record["last_score"] is None
        got = client.get(f"{V1}/{record['id']}", headers=lead)
        assert got.status_code == 200
        assert got.headers["ETag"] == '"1"'
        assert [e.entity_id for e in _events(session, "provider.created")] == [str(record["id"])]

    def test_auditors_and_coordinators_read_but_do_not_add(self, client, session) -> None:
        make_provider(session)
        for role in (Role.auditor, Role.coordinator):
            headers = auth(make_token(session, role))
            assert client.get(V1, headers=headers).json()["items"][0]["code"] == "NAV"
            assert client.post(V1, headers=headers, json=_body(code="LDO")).status_code == 403

    def test_bad_input_names_the_field(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        reply = client.post(V1, headers=lead, json=_body(kind="bank", code="nav x"))
        assert reply.status_code == 422
        fields = {e["field"] for e in reply.json()["errors"]}
        assert {"kind", "code"} <= fields
        make_provider(session)
        again = client.post(V1, headers=lead, json=_body())
        assert again.status_code == 422
        assert [e["field"] for e in again.json()["errors"]] == ["code"]
        no_reason = client.post(V1, headers=lead, json=_body(code="LDO", status="conditional"))
        assert [e["field"] for e in no_reason.json()["errors"]] == ["status_reason"]

    def test_a_change_needs_if_match_and_a_new_status_a_reason(self, client, session) -> None:
        provider = make_provider(session)
        lead = auth(make_token(session, Role.quality_lead))
        url = f"{V1}/{provider.id}"
        assert client.patch(url, headers=lead, json={"name": "NAV Grünerløkka"}).status_code == 428
        stale = client.patch(url, headers={**lead, "If-Match": '"9"'}, json={"name": "X"})
        assert stale.status_code == 412
        no_reason = client.patch(
            url, headers={**lead, "If-Match": '"1"'}, json={"status": "suspended"}
        )
        assert no_reason.status_code == 422
        assert [e["field"] for e in no_reason.json()["errors"]] == ["status_reason"]
        reply = client.patch(
            url,
            headers={**lead, "If-Match": '"1"'},
            json={"status": "suspended", "status_reason": "Referrals stopped in May."},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["status"] == "suspended"
        event = _events(session, "provider.updated")[-1]
        assert event.reason == "Referrals stopped in May."
        assert event.changes["status"] == {"old": "approved", "new": "suspended"}


class TestEvaluations:
    def test_an_evaluation_sets_the_score_status_and_next_date(self, client, session) -> None:
        provider = make_provider(session, evaluation_months=6)
        lead = auth(make_token(session, Role.quality_lead))
        reply = client.post(
            f"{V1}/{provider.id}/evaluations",
            headers=lead,
            json={
                "score": 2,
                "summary": "Two referrals outside the target group.",
                "decision": "conditional",
            },
        )
        assert reply.status_code == 201, reply.text
        evaluation = reply.json()
        assert evaluation["next_evaluation_on"] == providers.add_months(TODAY, 6).isoformat()
        record = client.get(f"{V1}/{provider.id}", headers=lead).json()
        assert (record["status"], record["last_score"]) == ("conditional", 2)
        assert record["last_evaluated_on"] == TODAY.isoformat()
        assert record["status_reason"] == "Two referrals outside the target group."
        listed = client.get(f"{V1}/{provider.id}/evaluations", headers=lead).json()
        assert [e["score"] for e in listed] == [2]
        assert _events(session, "provider_evaluation.recorded")
        assert _events(session, "provider.evaluated")

    def test_a_score_outside_one_to_five_or_a_future_day_is_named(self, client, session) -> None:
        provider = make_provider(session)
        lead = auth(make_token(session, Role.quality_lead))
        url = f"{V1}/{provider.id}/evaluations"
        body = {"score": 6, "summary": "Fine.", "decision": "keep_approved"}
        reply = client.post(url, headers=lead, json=body)
        assert reply.status_code == 422
        assert [e["field"] for e in reply.json()["errors"]] == ["score"]
        later = (TODAY + timedelta(days=3)).isoformat()
        reply = client.post(url, headers=lead, json={**body, "score": 4, "evaluated_on": later})
        assert [e["field"] for e in reply.json()["errors"]] == ["evaluated_on"]
        reply = client.post(
            url, headers=lead, json={**body, "score": 4, "next_evaluation_on": TODAY.isoformat()}
        )
        assert [e["field"] for e in reply.json()["errors"]] == ["next_evaluation_on"]

    def test_an_ended_provider_is_evaluated_no_more(self, client, session) -> None:
        provider = make_provider(session)
        lead = auth(make_token(session, Role.quality_lead))
        url = f"{V1}/{provider.id}/evaluations"
        ended = client.post(
            url, headers=lead, json={"score": 1, "summary": "Closed.", "decision": "end"}
        )
        assert ended.status_code == 201
        assert ended.json()["next_evaluation_on"] is None
        again = client.post(
            url, headers=lead, json={"score": 3, "summary": "Again.", "decision": "keep_approved"}
        )
        assert again.status_code == 409

    def test_an_auditor_may_not_evaluate(self, client, session) -> None:
        provider = make_provider(session)
        auditor = auth(make_token(session, Role.auditor))
        reply = client.post(
            f"{V1}/{provider.id}/evaluations",
            headers=auditor,
            json={"score": 3, "summary": "Fine.", "decision": "keep_approved"},
        )
        assert reply.status_code == 403


class TestDeviations:
    def test_a_deviation_names_a_provider_and_the_provider_lists_it(self, client, session) -> None:
        provider = make_provider(session)
        lead = auth(make_token(session, Role.quality_lead))
        reply = client.post(
            "/api/v1/deviations",
            headers=lead,
            json={
                "kind": "nonconformity",
                "source": "self_reported",
                "severity": "minor",
                "title": "Referral outside the target group",
                "description": "A mentee referred who was in work already.",
                "provider_id": provider.id,
            },
        )
        assert reply.status_code == 201, reply.text
        assert reply.json()["provider_id"] == provider.id
        listed = client.get(f"{V1}/{provider.id}/deviations", headers=lead).json()
        assert [d["number"] for d in listed] == [reply.json()["number"]]

    def test_a_provider_that_does_not_exist_is_named(self, client, session) -> None:
        lead = auth(make_token(session, Role.quality_lead))
        deviation = make_deviation(session)
        reply = client.patch(
            f"/api/v1/deviations/{deviation.id}",
            headers={**lead, "If-Match": f'"{deviation.version}"'},
            json={"provider_id": 999999},
        )
        assert reply.status_code == 422
        assert [e["field"] for e in reply.json()["errors"]] == ["provider_id"]


class TestScope:
    def test_a_scoped_coordinator_sees_only_their_programme(self, client, session) -> None:
        mine, other = make_programme(session), make_programme(session)
        make_provider(session, code="ORG")
        make_provider(session, code="MINE", programme_id=mine.id)
        theirs = make_provider(session, code="THEIRS", programme_id=other.id)
        headers = auth(make_token(session, Role.coordinator, programme_code=mine.code))
        codes = [p["code"] for p in client.get(V1, headers=headers).json()["items"]]
        assert codes == ["ORG", "MINE"]
        assert client.get(f"{V1}/{theirs.id}", headers=headers).status_code == 404

    def test_a_list_is_taken_out_as_csv(self, client, session) -> None:
        make_provider(session)
        lead = auth(make_token(session, Role.quality_lead))
        reply = client.get(f"{V1}?format=csv", headers=lead)
        assert reply.status_code == 200
        text = reply.content.decode("utf-8-sig")
        assert "NAV Oslo" in text
        assert "Referrer" in text or "referrer" not in text


class TestPages:
    def test_a_quality_lead_adds_evaluates_and_suspends_on_the_pages(self, client, session) -> None:
        sign_in(client, web_user(session, Role.quality_lead))
        form = client.get("/providers/new")
        assert form.status_code == 200
        reply = client.post(
            "/providers/new",
            data={
                "csrf_token": csrf_of(form.text),
                "code": "LDO",
                "name": "Likestillingssenteret",
                "kind": "training_provider",
                "provides": "Five training modules for mentors and mentees.",
                "criteria": "Modules held as planned; participants' ratings of 4 or more.",
                "evaluation_months": "12",
            },
            follow_redirects=False,
        )
        assert reply.status_code == 303, reply.text
        url = reply.headers["location"]
        page = client.get(url)
        assert "Likestillingssenteret" in page.text
        assert "training provider" in page.text
        assert "training_provider" not in page.text
        evaluated = client.post(
            f"{url}/evaluations",
            data={
                "csrf_token": csrf_of(page.text),
                "score": "4",
                "summary": "All five modules held; ratings 4.3 on average.",
                "decision": "keep_approved",
            },
        )
        assert evaluated.status_code == 200
        assert "4 of 5" in evaluated.text
        assert "All five modules held" in evaluated.text
        listing = client.get("/providers")
        assert "LDO" in listing.text
        assert "4 of 5" in listing.text
        provider = session.scalars(select(Provider).where(Provider.code == "LDO")).one()
        refused = client.post(
            f"{url}/change",
            data={
                "csrf_token": csrf_of(evaluated.text),
                "version": str(provider.version),
                "status": "suspended",
            },
        )
        assert error_beside(refused.text, "ch-status_reason")
        changed = client.post(
            f"{url}/change",
            data={
                "csrf_token": csrf_of(evaluated.text),
                "version": str(provider.version),
                "status": "suspended",
                "status_reason": "Modules cancelled this spring.",
            },
        )
        assert changed.status_code == 200
        assert "Modules cancelled this spring." in changed.text

    def test_a_bad_score_is_named_beside_its_field(self, client, session) -> None:
        provider = make_provider(session)
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get(f"/providers/{provider.id}")
        reply = client.post(
            f"/providers/{provider.id}/evaluations",
            data={
                "csrf_token": csrf_of(page.text),
                "score": "9",
                "summary": "x",
                "decision": "end",
            },
        )
        assert reply.status_code in (200, 422)
        assert error_beside(reply.text, "ev-score")

    def test_the_provider_page_lists_its_deviations(self, client, session) -> None:
        provider = make_provider(session)
        deviation = make_deviation(session, provider_id=provider.id)
        sign_in(client, web_user(session, Role.auditor))
        page = client.get(f"/providers/{provider.id}")
        assert page.status_code == 200
        assert deviation.number in page.text
        assert "Record an evaluation" not in page.text
        assert client.get("/providers/new").status_code == 403


def _evaluate(session: Session, provider: Provider, **overrides: Any) -> Any:
    data = {"score": 3, "summary": "Referrals mostly on time.", "decision": "keep_approved"}
    data.update(overrides)
    return providers.evaluate(
        session,
        actor=ADMIN,
        provider_id=provider.id,
        data=ProviderEvaluationCreate(**data),
    )


class TestRecordsAround:
    def test_a_quality_lead_is_told_of_an_overdue_evaluation(self, client, session) -> None:
        make_provider(session, next_evaluation_on=(TODAY - timedelta(days=2)).isoformat())
        make_provider(
            session, code="LATER", next_evaluation_on=(TODAY + timedelta(days=90)).isoformat()
        )
        lead = auth(make_token(session, Role.quality_lead))
        items = client.get("/api/v1/me/work", headers=lead).json()["items"]
        due = [i for i in items if i["kind"] == "provider_evaluation_due"]
        assert [(i["number"], i["overdue"]) for i in due] == [("NAV", True)]
        coordinator = auth(make_token(session, Role.coordinator))
        items = client.get("/api/v1/me/work", headers=coordinator).json()["items"]
        assert not [i for i in items if i["kind"] == "provider_evaluation_due"]

    def test_the_review_input_names_the_evaluations_and_deviations(self, client, session) -> None:
        provider = make_provider(session)
        _evaluate(session, provider, score=2, decision="conditional")
        make_deviation(session, provider_id=provider.id)
        lead = auth(make_token(session, Role.quality_lead))
        reply = client.get(
            "/api/v1/reviews/inputs",
            headers=lead,
            params={
                "period_start": (TODAY - timedelta(days=30)).isoformat(),
                "period_end": TODAY.isoformat(),
            },
        )
        assert reply.status_code == 200, reply.text
        section = next(s for s in reply.json()["sections"] if s["clause"] == "9.3.2 c7")
        assert section["rows"][1][:5] == [
            "NAV NAV Oslo",
            TODAY.isoformat(),
            "2/5",
            "conditional",
            "1",
        ]
        assert section["note"] == ""

    def test_providers_and_evaluations_are_evidence_of_8_4(self, client, session) -> None:
        provider = make_provider(session)
        _evaluate(session, provider)
        auditor = auth(make_token(session, Role.auditor))
        reply = client.get(
            "/api/v1/frameworks/ISO9001/coverage",
            headers=auditor,
            params={
                "period_start": (TODAY - timedelta(days=30)).isoformat(),
                "period_end": TODAY.isoformat(),
            },
        )
        assert reply.status_code == 200, reply.text
        row = next(r for r in reply.json()["rows"] if r["ref"] == "ISO9001:8.4")
        kinds = {e["kind"]: e["records"] for e in row["evidence"]}
        counts = {e["kind"]: e["count"] for e in row["evidence"]}
        assert kinds["external providers with criteria"] == ["NAV"]
        # Each evaluation counted; its provider named by its code, as people know it.
        assert kinds["external provider evaluations"] == ["NAV"]
        assert counts["external provider evaluations"] == 1

    def test_the_trail_replays_providers_and_evaluations(self, session) -> None:
        provider = make_provider(session)
        _evaluate(session, provider, decision="suspend", score=1)
        providers.update(
            session,
            actor=ADMIN,
            provider_id=provider.id,
            data=ProviderUpdate(status="approved", status_reason="Back on track."),
            if_match=provider.version,
        )
        result = replay.check(session)
        assert result.ok, [f.message("en") for f in result.first_findings]
        session.execute(
            text("UPDATE provider SET criteria = 'changed' WHERE id = :id"), {"id": provider.id}
        )
        found = [f for f in replay.check(session).first_findings if f.entity == "provider"]
        assert [f.field for f in found] == ["criteria"]

    def test_an_evaluation_is_never_changed(self, session) -> None:
        evaluation = _evaluate(session, make_provider(session))
        with pytest.raises(DatabaseError):
            with session.begin_nested():
                session.execute(
                    text("UPDATE provider_evaluation SET score = 5 WHERE id = :id"),
                    {"id": evaluation.id},
                )

    def test_an_ended_provider_is_due_for_retention_ten_years_on(self, session) -> None:
        provider = make_provider(session)
        _evaluate(session, provider, decision="end", score=1, summary="Venue closed.")
        rule = RULES["provider"]
        assert provider.id not in list(session.scalars(rule.due(TODAY)))
        assert provider.id in list(session.scalars(rule.due(TODAY + timedelta(days=1))))
        rule.dispose(session, [provider.id])
        assert (provider.contact, provider.status_reason) == ("[disposed]", "[disposed]")


class TestDocument:
    def test_the_register_reads_back_with_score_next_date_and_deviations(
        self, client, session
    ) -> None:
        provider = make_provider(session)
        _evaluate(session, provider, score=4, summary="Referrals on time all spring.")
        deviation = make_deviation(session, provider_id=provider.id)
        auditor = auth(make_token(session, Role.auditor))
        reply = client.get("/api/v1/documents/external-providers", headers=auditor)
        assert reply.status_code == 200, reply.text
        text = docx_text(reply.content)
        assert "External providers" in text
        assert "NAV Oslo" in text
        assert "Refers job-seeking mentees to the programme." in text
        assert "Referrals on time; mentees within the target group." in text
        assert f"4 of 5 on {TODAY:%d/%m/%Y}" in text
        assert "Referrals on time all spring." in text
        assert deviation.number in text
        assert providers.add_months(TODAY, 12).strftime("%d/%m/%Y") in text
        assert "referrer" not in text

    def test_the_register_in_bokmal(self, client, session) -> None:
        make_provider(session)
        auditor = auth(make_token(session, Role.auditor))
        reply = client.get(
            "/api/v1/documents/external-providers", headers=auditor, params={"language": "nb"}
        )
        assert reply.status_code == 200
        assert "NAV Oslo" in docx_text(reply.content)


class TestCommandLine:
    def test_add_evaluate_and_list(self, fresh_db, monkeypatch, tmp_path) -> None:
        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        monkeypatch.setattr(common.out, "width", 220)
        get_settings.cache_clear()
        try:
            added = CliRunner().invoke(
                app,
                [
                    "providers", "add", "LDO",
                    "--name", "Likestillingssenteret",
                    "--kind", "training_provider",
                    "--provides", "Five training modules.",
                    "--criteria", "Modules held as planned.",
                    "--every", "6",
                ],
            )  # fmt: skip
            assert added.exit_code == 0, (added.stdout, added.stderr)
            assert added.stdout.strip() == "LDO"
            evaluated = CliRunner().invoke(
                app,
                [
                    "providers", "evaluate", "LDO", "--score", "5",
                    "--summary", "All modules held.", "--decision", "keep_approved",
                ],
            )  # fmt: skip
            assert evaluated.exit_code == 0, (evaluated.stdout, evaluated.stderr)
            table = CliRunner().invoke(app, ["providers", "list"])
            assert table.exit_code == 0, table.stderr
            assert "Likestillingssenteret" in table.stdout
            assert "training provider" in table.stdout
            assert "5/5" in table.stdout
            listed = CliRunner().invoke(app, ["providers", "list", "--format", "json"])
            records = json.loads(listed.stdout)["items"]
            assert [(r["code"], r["last_score"]) for r in records] == [("LDO", 5)]
            bad = CliRunner().invoke(
                app,
                [
                    "providers", "evaluate", "LDO", "--score", "9",
                    "--summary", "x", "--decision", "keep_approved",
                ],
            )  # fmt: skip
            assert bad.exit_code != 0
            assert "score" in bad.stderr
            target = tmp_path / "providers.docx"
            issued = CliRunner().invoke(app, ["docs", "external-providers", "-o", str(target)])
            assert issued.exit_code == 0, (issued.stdout, issued.stderr)
            assert "All modules held." in docx_text(target.read_bytes())
            with fresh_db.unit_of_work(write=False) as session:
                actions = [e.action for e in session.scalars(select(AuditEvent))]
            assert "provider.created" in actions
            assert "provider_evaluation.recorded" in actions
        finally:
            get_settings.cache_clear()


class TestDeviationPages:
    def test_a_deviation_logged_on_the_page_names_its_provider(self, client, session) -> None:
        provider = make_provider(session)
        sign_in(client, web_user(session, Role.quality_lead))
        form = client.get("/deviations/new")
        assert "NAV · NAV Oslo" in form.text
        reply = client.post(
            "/deviations/new",
            data={
                "csrf_token": csrf_of(form.text),
                "kind": "nonconformity",
                "source": "self_reported",
                "severity": "minor",
                "title": "Referral outside the target group",
                "description": "A mentee referred who was in work already.",
                "provider_id": str(provider.id),
            },
            follow_redirects=False,
        )
        assert reply.status_code == 303, reply.text
        page = client.get(reply.headers["location"])
        assert f'<a href="/providers/{provider.id}">NAV · NAV Oslo</a>' in page.text
        assert "Referral outside the target group" in client.get(f"/providers/{provider.id}").text


class TestDocumentsPage:
    def test_the_register_is_issued_from_the_documents_page(self, client, session) -> None:
        make_provider(session)
        sign_in(client, web_user(session, Role.quality_lead))
        listing = client.get("/providers")
        assert 'href="/documents"' in listing.text
        token = csrf_of(client.get("/documents").text)
        reply = client.post(
            "/documents/issue",
            data={"csrf_token": token, "kind": "external-providers", "language": "nb"},
        )
        assert reply.status_code == 200, reply.text[:300]
        assert "NAV Oslo" in docx_text(reply.content)
