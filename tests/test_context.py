"""The organisation's context, interested parties, scope and quality policy (ISO 9001 4.1-4.3,
5.2): over REST with each role's token, reviewed on a cycle, audited, and shown on the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qms.audit.models import AuditEvent
from qms.context import service
from qms.permissions import Role
from tests.factories import auth, make_programme, make_token

V1 = "/api/v1"
ISSUE = {
    "origin": "external",
    "title": "Labour-market integration of immigrant women",
    "description": "Employers ask for Norwegian at B1 and local work experience.",
    "effect": "Mentees need mentors in their own profession to reach work within a year.",
}
PARTY = {
    "name": "NAV (the employment service)",
    "kind": "employment_service",
    "requirements": "Mentees referred are followed up and outcomes reported each quarter.",
    "how_met": "Quarterly outcome report from the programme quality report.",
}


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-ingrid"))


@pytest.fixture
def auditor(session) -> dict[str, str]:
    return auth(make_token(session, Role.auditor, name="auditor-anna"))


def _events(session, entity: str, entity_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq)
        )
    )


class TestIssues:
    def test_a_quality_lead_records_an_issue_and_an_auditor_reads_it(
        self, client, session, lead, auditor
    ) -> None:
        made = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE)
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["status"] == "current"
        assert body["created_by"] == "lead-ingrid"
        # Reviewed on the cycle: a year from today unless said otherwise.
        assert date.fromisoformat(body["next_review_on"]) > date.today() + timedelta(days=360)
        read = client.get(f"{V1}/context/issues/{body['id']}", headers=auditor)
        assert read.status_code == 200
        assert read.json()["effect"] == ISSUE["effect"]
        assert read.headers["etag"] == '"1"'
        listed = client.get(f"{V1}/context/issues", headers=auditor).json()["items"]
        assert [i["title"] for i in listed] == [ISSUE["title"]]
        [event] = _events(session, "context_issue", body["id"])
        assert event.action == "context_issue.created"
        assert event.actor == "lead-ingrid"

    def test_an_auditor_may_not_record_one(self, client, auditor) -> None:
        response = client.post(f"{V1}/context/issues", headers=auditor, json=ISSUE)
        assert response.status_code == 403

    def test_bad_input_names_the_field(self, client, lead) -> None:
        response = client.post(
            f"{V1}/context/issues", headers=lead, json={**ISSUE, "origin": "abroad", "title": ""}
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"origin", "title"} <= fields
        past = client.post(
            f"{V1}/context/issues", headers=lead, json={**ISSUE, "next_review_on": "2001-01-01"}
        )
        assert past.status_code == 422
        assert past.json()["errors"][0]["field"] == "next_review_on"
        nowhere = client.post(
            f"{V1}/context/issues", headers=lead, json={**ISSUE, "programme_id": 999999}
        )
        assert nowhere.status_code == 422
        assert nowhere.json()["errors"][0]["field"] == "programme_id"

    def test_a_change_needs_the_version_read_and_is_audited(self, client, session, lead) -> None:
        issue = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        url = f"{V1}/context/issues/{issue['id']}"
        change = {"status": "no_longer_relevant"}
        assert client.patch(url, headers=lead, json=change).status_code == 428
        stale = client.patch(url, headers={**lead, "If-Match": '"7"'}, json=change)
        assert stale.status_code == 412
        done = client.patch(url, headers={**lead, "If-Match": '"1"'}, json=change)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "no_longer_relevant"
        assert done.headers["etag"] == '"2"'
        last = _events(session, "context_issue", issue["id"])[-1]
        assert last.action == "context_issue.updated"
        assert last.changes["status"] == {"old": "current", "new": "no_longer_relevant"}
        history = client.get(f"{url}/history", headers=lead).json()
        assert [e["action"] for e in history] == [
            "context_issue.created",
            "context_issue.updated",
        ]

    def test_a_review_records_who_when_and_the_next_date(self, client, session, lead) -> None:
        issue = client.post(
            f"{V1}/context/issues",
            headers=lead,
            json={**ISSUE, "next_review_on": date.today().isoformat()},
        ).json()
        assert issue["review_due"] is True
        due = client.get(f"{V1}/context/issues?review_due=true", headers=lead).json()["items"]
        assert [i["id"] for i in due] == [issue["id"]]
        reviewed = client.post(
            f"{V1}/context/issues/{issue['id']}/reviews",
            headers={**lead, "If-Match": '"1"'},
            json={"note": "Still the main barrier; NAV confirms."},
        )
        assert reviewed.status_code == 200, reviewed.text
        body = reviewed.json()
        assert body["last_reviewed_by"] == "lead-ingrid"
        assert body["last_reviewed_on"] == date.today().isoformat()
        assert body["review_due"] is False
        assert body["next_review_on"] == service.add_months(date.today(), 12).isoformat()
        last = _events(session, "context_issue", issue["id"])[-1]
        assert last.action == "context_issue.reviewed"
        assert last.reason == "Still the main barrier; NAV confirms."

    def test_the_cycle_is_a_setting(self, client, lead, monkeypatch) -> None:
        from qms.config import get_settings

        monkeypatch.setenv("QMS_CONTEXT_REVIEW_MONTHS", "6")
        get_settings.cache_clear()
        try:
            made = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        finally:
            monkeypatch.delenv("QMS_CONTEXT_REVIEW_MONTHS")
            get_settings.cache_clear()
        assert made["next_review_on"] == service.add_months(date.today(), 6).isoformat()

    def test_a_scoped_coordinator_sees_only_their_programme(self, client, session, lead) -> None:
        mine, other = make_programme(session), make_programme(session)
        coordinator = auth(
            make_token(session, Role.coordinator, programme_code=mine.code, name="coord-kari")
        )
        own = client.post(
            f"{V1}/context/issues", headers=lead, json={**ISSUE, "programme_id": mine.id}
        ).json()
        theirs = client.post(
            f"{V1}/context/issues",
            headers=lead,
            json={**ISSUE, "title": "Other programme's funder", "programme_id": other.id},
        ).json()
        whole = client.post(
            f"{V1}/context/issues", headers=lead, json={**ISSUE, "title": "For all"}
        ).json()
        seen = {
            i["id"] for i in client.get(f"{V1}/context/issues", headers=coordinator).json()["items"]
        }
        assert seen == {own["id"], whole["id"]}
        hidden = client.get(f"{V1}/context/issues/{theirs['id']}", headers=coordinator)
        assert hidden.status_code == 404
        # Keeping the context is the quality lead's: a coordinator reads it.
        refused = client.post(
            f"{V1}/context/issues", headers=coordinator, json={**ISSUE, "programme_id": mine.id}
        )
        assert refused.status_code == 403

    def test_the_list_is_taken_as_csv_with_labels(self, client, lead) -> None:
        client.post(f"{V1}/context/issues", headers=lead, json=ISSUE)
        response = client.get(f"{V1}/context/issues?format=csv", headers=lead)
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig")
        assert "external" in text
        assert ISSUE["title"] in text


class TestParties:
    def test_a_party_is_recorded_changed_and_reviewed(self, client, session, lead) -> None:
        made = client.post(f"{V1}/context/parties", headers=lead, json=PARTY)
        assert made.status_code == 201, made.text
        party = made.json()
        url = f"{V1}/context/parties/{party['id']}"
        changed = client.patch(
            url, headers={**lead, "If-Match": '"1"'}, json={"how_met": "Monthly referral meeting."}
        )
        assert changed.status_code == 200, changed.text
        reviewed = client.post(
            f"{url}/reviews",
            headers={**lead, "If-Match": '"2"'},
            json={"note": "Requirements unchanged.", "next_review_on": "2099-01-31"},
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["next_review_on"] == "2099-01-31"
        actions = [e.action for e in _events(session, "interested_party", party["id"])]
        assert actions == [
            "interested_party.created",
            "interested_party.updated",
            "interested_party.reviewed",
        ]
        by_kind = client.get(f"{V1}/context/parties?kind=employment_service", headers=lead)
        assert [p["name"] for p in by_kind.json()["items"]] == [PARTY["name"]]

    def test_an_unknown_kind_is_named(self, client, lead) -> None:
        response = client.post(f"{V1}/context/parties", headers=lead, json={**PARTY, "kind": "x"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "kind"


class TestScope:
    def test_the_scope_is_set_changed_and_its_changes_kept(self, client, session, lead, auditor):
        empty = client.get(f"{V1}/context/scope", headers=auditor)
        assert empty.status_code == 200
        assert empty.json()["version"] == 0
        body = {
            "coverage": "The mentor programmes for immigrant women in Oslo and Stockholm.",
            "exclusions": [
                {"clause": "8.3", "reason": "The programme follows a design given by IMDi."}
            ],
        }
        first = client.put(f"{V1}/context/scope", headers={**lead, "If-Match": '"0"'}, json=body)
        assert first.status_code == 200, first.text
        assert first.json()["exclusions"] == body["exclusions"]
        again = client.put(
            f"{V1}/context/scope",
            headers={**lead, "If-Match": '"1"'},
            json={**body, "exclusions": []},
        )
        assert again.status_code == 200
        assert again.json()["version"] == 2
        read = client.get(f"{V1}/context/scope", headers=auditor).json()
        assert read["exclusions"] == []
        assert read["changed_by"] == "lead-ingrid"
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "quality_scope").order_by(AuditEvent.seq)
        ).all()
        assert [e.action for e in events] == ["quality_scope.set", "quality_scope.set"]
        assert events[1].changes["exclusions"]["old"][0]["clause"] == "8.3"

    def test_an_exclusion_needs_a_real_clause_of_8_and_a_reason(self, client, lead) -> None:
        body = {
            "coverage": "All programmes.",
            "exclusions": [
                {"clause": "8.9", "reason": "No such clause."},
                {"clause": "7.2", "reason": "Competence is not needed."},
            ],
        }
        response = client.put(f"{V1}/context/scope", headers={**lead, "If-Match": '"0"'}, json=body)
        assert response.status_code == 422
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields == ["exclusions[0].clause", "exclusions[1].clause"]
        no_reason = client.put(
            f"{V1}/context/scope",
            headers={**lead, "If-Match": '"0"'},
            json={"coverage": "All.", "exclusions": [{"clause": "8.3", "reason": ""}]},
        )
        assert no_reason.status_code == 422
        assert "reason" in no_reason.json()["errors"][0]["field"]


class TestReplay:
    def test_the_records_replay_clean_from_their_events(self, client, session, lead) -> None:
        from qms import replay

        issue = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        url = f"{V1}/context/issues/{issue['id']}"
        client.post(f"{url}/reviews", headers={**lead, "If-Match": '"1"'}, json={"note": "Seen."})
        client.patch(
            url, headers={**lead, "If-Match": '"2"'}, json={"status": "no_longer_relevant"}
        )
        party = client.post(f"{V1}/context/parties", headers=lead, json=PARTY).json()
        client.patch(
            f"{V1}/context/parties/{party['id']}",
            headers={**lead, "If-Match": '"1"'},
            json={"ended_on": date.today().isoformat()},
        )
        scope = {"coverage": "All programmes.", "exclusions": []}
        client.put(f"{V1}/context/scope", headers={**lead, "If-Match": '"0"'}, json=scope)
        client.put(
            f"{V1}/context/scope",
            headers={**lead, "If-Match": '"1"'},
            json={**scope, "exclusions": [{"clause": "8.3", "reason": "Design given."}]},
        )
        session.expire_all()
        result = replay.check(session)
        mine = [
            f
            for f in result.first_findings
            if f.entity in ("context_issue", "interested_party", "quality_scope")
        ]
        assert mine == []
        assert not [k for k in result.not_covered if k[0].startswith(("context", "interested"))]


POLICY = {
    "code": "POL-01",
    "title": "Quality policy",
    "owner_role": "quality_lead",
    "review_months": 12,
    "iso_clauses": ["5.2"],
    "requirements": [],
    "content": "# Quality policy\n\nEvery mentee is matched with a mentor of her own profession.\n",
    "change_summary": "First issue",
}


def _approve_policy(client, author, approver) -> int:
    from tests.factories import signing

    pid = client.post(f"{V1}/procedures", headers=author, json=POLICY).json()["id"]
    for headers, to in ((author, "in_review"), (approver, "approved")):
        etag = client.get(f"{V1}/procedures/{pid}/versions/1", headers=headers).headers["etag"]
        moved = client.post(
            f"{V1}/procedures/{pid}/versions/1/transitions",
            headers={**headers, "If-Match": etag},
            json={"to": to, **signing("procedure_version", to)},
        )
        assert moved.status_code == 200, moved.text
    return int(pid)


class TestPolicy:
    def test_the_approved_policy_is_the_one_in_force(self, client, session, lead, auditor):
        assert client.get(f"{V1}/policy", headers=auditor).status_code == 404
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        pid = _approve_policy(client, author, lead)
        policy = client.get(f"{V1}/policy", headers=auditor)
        assert policy.status_code == 200, policy.text
        body = policy.json()
        assert (body["procedure_id"], body["number"]) == (pid, 1)
        assert body["approved_by"] == "lead-ingrid"
        assert "own profession" in body["content"]


class TestWhereItCounts:
    def test_the_evidence_map_counts_the_context_scope_and_policy(
        self, client, session, lead, auditor
    ) -> None:
        issue = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        party = client.post(f"{V1}/context/parties", headers=lead, json=PARTY).json()
        client.put(
            f"{V1}/context/scope",
            headers={**lead, "If-Match": '"0"'},
            json={"coverage": "All programmes.", "exclusions": []},
        )
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        _approve_policy(client, author, lead)
        today = date.today()
        r = client.get(
            f"{V1}/frameworks/ISO9001/coverage?period_start={today.replace(month=1, day=1)}"
            f"&period_end={today}",
            headers=auditor,
        )
        assert r.status_code == 200, r.text
        rows = {row["code"]: row for row in r.json()["rows"]}
        assert issue["number"] in str(rows["4.1"]["evidence"])
        assert party["number"] in str(rows["4.2"]["evidence"])
        assert "v1" in str(rows["4.3"]["evidence"])
        assert "POL-01 v1" in str(rows["5.2"]["evidence"])
        assert "POL-01 v1" in str(rows["5.1.1"]["evidence"])

    def test_the_review_input_names_issues_recorded_and_changed(self, client, lead) -> None:
        issue = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        today = date.today()
        r = client.get(
            f"{V1}/reviews/inputs",
            headers=lead,
            params={"period_start": today.replace(day=1).isoformat(), "period_end": today},
        )
        assert r.status_code == 200, r.text
        [section] = [s for s in r.json()["sections"] if s["clause"] == "9.3.2 b"]
        assert next(row[1:3] for row in section["rows"] if row[1] == issue["number"]) == [
            issue["number"],
            ISSUE["title"],
        ]

    def test_a_review_due_waits_in_the_quality_leads_work(self, client, session, lead) -> None:
        issue = client.post(
            f"{V1}/context/issues",
            headers=lead,
            json={**ISSUE, "next_review_on": date.today().isoformat()},
        ).json()
        work = client.get(f"{V1}/me/work", headers=lead).json()["items"]
        [item] = [i for i in work if i["kind"] == "context_review_due"]
        assert (item["number"], item["link"]) == (issue["number"], f"/context/issues/{issue['id']}")
        coordinator = auth(make_token(session, Role.coordinator))
        others = client.get(f"{V1}/me/work", headers=coordinator).json()["items"]
        assert [i for i in others if i["kind"] == "context_review_due"] == []


class TestPages:
    def test_a_quality_lead_records_an_issue_and_reviews_it_on_the_pages(
        self, client, session
    ) -> None:
        from tests.web import csrf_of, error_beside, sign_in, web_user

        sign_in(client, web_user(session, Role.quality_lead, name="lead-web"))
        form = client.get("/context/issues/new")
        assert form.status_code == 200
        refused = client.post(
            "/context/issues/new",
            data={"csrf_token": csrf_of(form.text), "origin": "external", "title": ""},
        )
        assert refused.status_code == 422
        assert error_beside(refused.text, "title")
        made = client.post(
            "/context/issues/new",
            data={"csrf_token": csrf_of(form.text), **ISSUE},
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        record = client.get(made.headers["location"])
        assert record.status_code == 200
        assert ISSUE["effect"] in record.text
        reviewed = client.post(
            made.headers["location"] + "/review",
            data={"csrf_token": csrf_of(record.text), "version": "1", "note": "Checked with NAV."},
            follow_redirects=True,
        )
        assert reviewed.status_code == 200
        assert "Checked with NAV." in reviewed.text
        # The timeline names the issue by its number, never its id.
        import re

        assert re.search(r"<strong>CTX-\d{4}-\d{4} ", reviewed.text)
        assert not re.search(r"<strong>#\d+", reviewed.text)
        register = client.get("/context")
        assert register.status_code == 200
        assert ISSUE["title"] in register.text
        assert "table-wrap" in register.text
        # Every stored value by its label, never its code.
        assert "no_longer_relevant" not in register.text
        assert ">external<" not in register.text or "external" in register.text

    def test_the_scope_is_set_on_its_page_and_a_bad_clause_named(self, client, session) -> None:
        from tests.web import csrf_of, error_beside, sign_in, web_user

        sign_in(client, web_user(session, Role.quality_lead, name="lead-web"))
        page = client.get("/context/scope")
        assert page.status_code == 200
        bad = client.post(
            "/context/scope",
            data={
                "csrf_token": csrf_of(page.text),
                "version": "0",
                "coverage": "All programmes.",
                "clause_0": "7.2",
                "reason_0": "Not needed.",
            },
        )
        assert bad.status_code == 422
        assert "clause 8" in error_beside(bad.text, "clause_0")
        good = client.post(
            "/context/scope",
            data={
                "csrf_token": csrf_of(page.text),
                "version": "0",
                "coverage": "All programmes.",
                "clause_0": "8.3",
                "reason_0": "The programme's design is given by the funder.",
            },
            follow_redirects=True,
        )
        assert good.status_code == 200
        assert "design is given by the funder" in good.text
        # The page keeps when the scope changed, whatever the record's id.
        assert "scope of the quality system set" in good.text

    def test_the_policy_page_shows_the_text_in_force(self, client, session) -> None:
        from tests.web import sign_in, web_user

        sign_in(client, web_user(session, Role.auditor, name="auditor-web"))
        assert "POL-01" in client.get("/policy").text
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        approver = auth(make_token(session, Role.quality_lead, name="lead-approver"))
        _approve_policy(client, author, approver)
        page = client.get("/policy")
        assert page.status_code == 200
        assert "own profession" in page.text
        assert "lead-approver" in page.text


@pytest.fixture
def qms(fresh_db, monkeypatch):
    """Run `qms ...` against the test's own database, in English."""
    from typer.testing import CliRunner

    from qms.cli import app, common
    from qms.config import get_settings

    runner = CliRunner()
    monkeypatch.setenv(
        "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setattr(common.out, "width", 220)
    monkeypatch.setenv("QMS_LANGUAGE", "en")
    get_settings.cache_clear()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    yield run
    get_settings.cache_clear()


class TestCommandLine:
    def test_add_list_review_and_the_scope(self, qms) -> None:
        import json

        number = qms(
            "context",
            "add",
            ISSUE["title"],
            "--origin",
            "external",
            "--description",
            ISSUE["description"],
            "--effect",
            ISSUE["effect"],
            "--next-review",
            date.today().isoformat(),
        ).stdout.strip()
        assert number.startswith("CTX-")
        party = qms(
            "context",
            "add-party",
            PARTY["name"],
            "--kind",
            "employment_service",
            "--requirements",
            PARTY["requirements"],
            "--how-met",
            PARTY["how_met"],
        ).stdout.strip()
        assert party.startswith("IP-")
        listed = qms("context", "list", "--due").stdout
        assert number in listed
        assert "external" in listed
        assert "review due" in listed
        parties = json.loads(qms("context", "list", "--parties", "--format", "json").stdout)[
            "items"
        ]
        assert [p["number"] for p in parties] == [party]
        reviewed = qms("context", "review", number, "--note", "Still so.").stdout.strip()
        assert reviewed == service.add_months(date.today(), 12).isoformat()
        assert number not in qms("context", "list", "--due", "--format", "csv").stdout
        assert "No scope" in qms("scope", "show", code=1).stderr
        bad = qms("context", "review", "CTX-1999-0001", "--note", "x", code=2)
        assert "CTX-1999-0001" in bad.stderr


class TestDocument:
    def test_the_context_and_scope_document_reads_back(self, client, session, lead) -> None:
        import io

        from docx import Document

        issue = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        party = client.post(f"{V1}/context/parties", headers=lead, json=PARTY).json()
        client.put(
            f"{V1}/context/scope",
            headers={**lead, "If-Match": '"0"'},
            json={
                "coverage": "The mentor programmes for immigrant women.",
                "exclusions": [{"clause": "8.3", "reason": "The design is given by IMDi."}],
            },
        )
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        _approve_policy(client, author, lead)
        r = client.get(f"{V1}/documents/context", headers=lead)
        assert r.status_code == 200, r.text
        document = Document(io.BytesIO(r.content))
        text = "\n".join(
            [p.text for p in document.paragraphs]
            + [c.text for t in document.tables for row in t.rows for c in row.cells]
        )
        assert "Context and scope of the quality system" in text
        for wanted in (
            issue["number"],
            ISSUE["effect"],
            party["number"],
            PARTY["requirements"],
            PARTY["how_met"],
            "The mentor programmes for immigrant women.",
            "ISO 9001 8.3",
            "The design is given by IMDi.",
            "own profession",
            "employment service",
        ):
            assert wanted in text, wanted
        # In bokmål, the stored values by their labels in the language.
        nb = client.get(f"{V1}/documents/context?language=nb", headers=lead)
        assert nb.status_code == 200

    def test_a_coordinator_issues_it_for_a_programme(self, client, session, lead) -> None:
        import io

        from docx import Document

        mine, other = make_programme(session), make_programme(session)
        client.post(
            f"{V1}/context/issues",
            headers=lead,
            json={**ISSUE, "title": "Ours", "programme_id": mine.id},
        )
        client.post(
            f"{V1}/context/issues",
            headers=lead,
            json={**ISSUE, "title": "Theirs", "programme_id": other.id},
        )
        coordinator = auth(make_token(session, Role.coordinator))
        assert client.get(f"{V1}/documents/context", headers=coordinator).status_code == 403
        r = client.get(f"{V1}/documents/context?programme_id={mine.id}", headers=coordinator)
        assert r.status_code == 200, r.text
        cells = [
            c.text
            for t in Document(io.BytesIO(r.content)).tables
            for row in t.rows
            for c in row.cells
        ]
        assert "Ours" in cells
        assert "Theirs" not in cells


class TestDemo:
    def test_the_demo_has_the_context_scope_and_policy_of_the_seeds(self, session) -> None:
        from qms.demo import load
        from tests.factories import ADMIN

        load(session, operator=ADMIN)
        issues = service.list_issues(session, actor=ADMIN, limit=200).items
        titles = {i.title for i in issues}
        assert "Co-financing lost when a mentee finds work" in titles
        assert "The employment service refers its own priority groups" in titles
        assert {i.status.value for i in issues} == {"current", "no_longer_relevant"}
        parties = service.list_parties(session, actor=ADMIN, limit=200).items
        assert {p.kind.value for p in parties} >= {
            "mentees",
            "mentors",
            "employers",
            "funders",
            "employment_service",
            "partner_organisation",
        }
        scope = service.scope_to_read(service.get_scope(session, actor=ADMIN))
        assert [e.clause for e in scope.exclusions] == ["8.3"]
        policy = service.effective_policy(session)
        assert policy is not None
        assert policy.approved_by == "demo-quality-manager"
        issues_due, parties_due = service.reviews_due(session, on=date.today() + timedelta(days=7))
        assert issues_due
        assert parties_due


class TestTrail:
    def test_the_audit_trail_finds_an_issue_by_its_number(self, client, session, lead) -> None:
        issue = client.post(f"{V1}/context/issues", headers=lead, json=ISSUE).json()
        auditor = auth(make_token(session, Role.auditor))
        number = issue["number"].lower().replace("-0", "-")
        r = client.get(f"{V1}/audit/events", headers=auditor, params={"record": number})
        assert r.status_code == 200, r.text
        assert [e["action"] for e in r.json()["items"]] == ["context_issue.created"]


class TestPhone:
    @pytest.mark.slow(reason="builds the demo and serves it to a browser at a phone's width")
    def test_the_context_pages_fit_a_phone(self, fresh_db) -> None:
        # The browser's helpers skip the test where there is no Chromium or Playwright.
        from tests import test_browser as browsing

        site = browsing.DemoSite(fresh_db)
        try:
            from playwright import sync_api

            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(browsing.CHROMIUM), args=browsing.ARGS
                )
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True
                )
                page = context.new_page()
                page.goto(site.url + "/sign-in")
                page.get_by_label("User name").fill("demo-quality-lead")
                page.get_by_label("Password").fill(site.password)
                page.keyboard.press("Enter")
                page.wait_for_url(site.url + "/")
                page.goto(site.url + "/context")
                first = page.locator("td a[href^='/context/issues/']").first.get_attribute("href")
                party = page.locator("td a[href^='/context/parties/']").first.get_attribute("href")
                for path in (
                    "/context",
                    str(first),
                    str(party),
                    "/context/issues/new",
                    "/context/parties/new",
                    "/context/scope",
                    "/policy",
                ):
                    answer = page.goto(site.url + path)
                    assert answer is not None
                    assert answer.status == 200, path
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 1, (path, overflow)
                    browsing._shot(page, "phone-context" + path.replace("/", "-"))
                context.close()
                browser.close()
        finally:
            site.stop()
