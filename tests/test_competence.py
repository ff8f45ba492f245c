"""Competence and awareness (ISO 9001 7.2, 7.3): competences, training records, the matrix, and
procedure versions acknowledged as read and understood."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qms.audit.models import AuditEvent
from qms.competence.models import Acknowledgement
from qms.db import utcnow
from qms.permissions import Role
from tests.factories import (
    auth,
    make_cohort,
    make_participant,
    make_programme,
    make_token,
    make_user,
    signing,
)

MENTOR_TRAINING = {
    "code": "MT-1",
    "role": "mentor",
    "title": "The mentor role and expectations",
    "description": "Module 1 of the mentor training: what a mentor is and is not.",
    "obtained_by": "training",
    "before_matching": True,
}
QUALITY = {
    "code": "QL-AUDIT",
    "role": "quality_lead",
    "title": "Internal auditing",
    "obtained_by": "training",
    "renewal_months": 24,
}


@pytest.fixture
def lead(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="kari-lead"))


@pytest.fixture
def auditor(session) -> dict[str, str]:
    return auth(make_token(session, Role.auditor, name="ola-auditor"))


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


class TestCompetences:
    def test_a_lead_adds_a_competence_an_auditor_reads_it(self, client, session, lead, auditor):
        r = client.post("/api/v1/competences", headers=lead, json=MENTOR_TRAINING)
        assert r.status_code == 201, r.text
        assert r.headers["etag"] == '"1"'
        cid = r.json()["id"]
        got = client.get(f"/api/v1/competences/{cid}", headers=auditor)
        assert got.status_code == 200
        assert got.json()["before_matching"] is True
        assert [c["code"] for c in client.get("/api/v1/competences", headers=auditor).json()] == [
            "MT-1"
        ]
        (event,) = _events(session, "competence.created")
        assert event.changes["code"]["new"] == "MT-1"

    def test_an_auditor_cannot_add_one(self, client, auditor):
        r = client.post("/api/v1/competences", headers=auditor, json=MENTOR_TRAINING)
        assert r.status_code == 403

    def test_bad_input_names_the_field(self, client, lead):
        r = client.post("/api/v1/competences", headers=lead, json={**QUALITY, "role": "boss"})
        assert r.status_code == 422
        assert any("role" in e["field"] for e in r.json()["errors"])
        r = client.post(
            "/api/v1/competences", headers=lead, json={**QUALITY, "before_matching": True}
        )
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["before_matching"]
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        again = client.post("/api/v1/competences", headers=lead, json=QUALITY)
        assert again.status_code == 422
        assert [e["field"] for e in again.json()["errors"]] == ["code"]

    def test_an_update_needs_the_version_read(self, client, session, lead):
        cid = client.post("/api/v1/competences", headers=lead, json=QUALITY).json()["id"]
        url = f"/api/v1/competences/{cid}"
        assert client.patch(url, headers=lead, json={"title": "Auditing"}).status_code == 428
        stale = client.patch(url, headers={**lead, "If-Match": '"7"'}, json={"title": "x"})
        assert stale.status_code == 412
        r = client.patch(url, headers={**lead, "If-Match": '"1"'}, json={"is_active": False})
        assert r.status_code == 200
        assert r.json()["is_active"] is False
        (event,) = _events(session, "competence.updated")
        assert event.changes == {"is_active": {"old": True, "new": False}}


class TestTrainingRecords:
    def test_a_users_training_expires_after_the_renewal(self, client, session, lead, auditor):
        make_user(session, Role.quality_lead, name="siri")
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        r = client.post(
            "/api/v1/training-records",
            headers=lead,
            json={
                "competence": "QL-AUDIT",
                "user": "siri",
                "completed_on": "2024-03-31",
                "given_by": "Nordic Quality Institute",
            },
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["number"] == "TR-2024-0001"
        assert body["expires_on"] == "2026-03-31"
        assert body["expired"] is (date(2026, 3, 31) < utcnow().date())
        listed = client.get("/api/v1/training-records?user=siri", headers=auditor).json()
        assert [i["number"] for i in listed["items"]] == ["TR-2024-0001"]
        (event,) = _events(session, "training_record.created")
        assert event.changes["user"]["new"] == "siri"
        assert event.changes["competence"]["new"] == "QL-AUDIT"

    def test_a_mentor_is_named_by_code_and_a_wrong_person_is_refused(self, client, session, lead):
        cohort = make_cohort(session, make_programme(session))
        mentor = make_participant(session, cohort, role="mentor")
        mentee = make_participant(session, cohort, role="mentee")
        client.post("/api/v1/competences", headers=lead, json=MENTOR_TRAINING)
        base = {"competence": "MT-1", "completed_on": "2026-01-10"}
        ok = client.post(
            "/api/v1/training-records", headers=lead, json={**base, "participant": mentor.code}
        )
        assert ok.status_code == 201, ok.text
        assert ok.json()["participant"] == mentor.code
        assert ok.json()["expires_on"] is None
        for body, field in (
            ({**base, "participant": mentee.code}, "participant"),
            ({**base, "user": "kari-lead"}, "participant"),
            ({**base, "competence": "NOPE", "participant": mentor.code}, "competence"),
            ({**base, "participant": mentor.code, "completed_on": "2999-01-01"}, "completed_on"),
            ({**base, "participant": mentor.code, "completed_on": "10.01.2026"}, "completed_on"),
        ):
            r = client.post("/api/v1/training-records", headers=lead, json=body)
            assert r.status_code == 422, (body, r.text)
            assert field in [e["field"].split(".")[-1] for e in r.json()["errors"]], r.json()

    def test_a_scoped_coordinator_sees_only_their_programmes_mentors(self, client, session, lead):
        mine = make_programme(session)
        theirs = make_programme(session)
        here = make_participant(session, make_cohort(session, mine), role="mentor")
        there = make_participant(session, make_cohort(session, theirs), role="mentor")
        client.post("/api/v1/competences", headers=lead, json=MENTOR_TRAINING)
        ids = {}
        for mentor in (here, there):
            r = client.post(
                "/api/v1/training-records",
                headers=lead,
                json={
                    "competence": "MT-1",
                    "participant": mentor.code,
                    "completed_on": "2026-01-10",
                },
            )
            ids[mentor.code] = r.json()["id"]
        scoped = auth(make_token(session, Role.coordinator, programme_code=mine.code))
        listed = client.get("/api/v1/training-records", headers=scoped).json()["items"]
        assert [i["participant"] for i in listed] == [here.code]
        assert (
            client.get(f"/api/v1/training-records/{ids[there.code]}", headers=scoped).status_code
            == 404
        )
        matrix = client.get("/api/v1/competence-matrix?role=mentor", headers=scoped).json()
        assert [row["person"] for row in matrix["rows"]] == [here.code]
        assert matrix["rows"][0]["cells"][0]["state"] == "has"
        refused = client.post(
            "/api/v1/training-records",
            headers=scoped,
            json={"competence": "MT-1", "participant": there.code, "completed_on": "2026-01-11"},
        )
        assert refused.status_code == 422

    def test_the_matrix_says_has_expired_and_missing(self, client, session, lead, auditor):
        make_user(session, Role.quality_lead, name="anna")
        make_user(session, Role.quality_lead, name="bjorn")
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        long_ago = (utcnow().date() - timedelta(days=3 * 366)).isoformat()
        for name, on in (("anna", utcnow().date().isoformat()), ("bjorn", long_ago)):
            client.post(
                "/api/v1/training-records",
                headers=lead,
                json={"competence": "QL-AUDIT", "user": name, "completed_on": on},
            )
        matrix = client.get("/api/v1/competence-matrix?role=quality_lead", headers=auditor).json()
        states = {row["person"]: row["cells"][0]["state"] for row in matrix["rows"]}
        assert states["anna"] == "has"
        assert states["bjorn"] == "expired"
        assert states["kari-lead"] == "missing"

    def test_the_list_is_taken_out_as_csv(self, client, session, lead, auditor):
        make_user(session, Role.quality_lead, name="siri")
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        client.post(
            "/api/v1/training-records",
            headers=lead,
            json={"competence": "QL-AUDIT", "user": "siri", "completed_on": "2026-01-05"},
        )
        r = client.get("/api/v1/training-records?format=csv", headers=auditor)
        assert r.status_code == 200
        assert "TR-2026-0001" in r.text
        assert "Quality lead" in r.text or "quality lead" in r.text.lower()


# Trained two months ago: still within a two-year renewal, wherever the clock stands.
RECENTLY = date.today() - timedelta(days=60)

NEW_PROCEDURE = {
    "code": "PR-21",
    "title": "Mentor training before matching",
    "owner_role": "coordinator",
    "review_months": 12,
    "iso_clauses": ["7.2"],
    "content": "# Mentor training\n\nEvery mentor completes the five modules before matching.\n",
    "change_summary": "First issue",
}


def _approve(client, author, approver, body) -> int:
    pid = client.post("/api/v1/procedures", headers=author, json=body).json()["id"]
    for headers, to in ((author, "in_review"), (approver, "approved")):
        etag = client.get(f"/api/v1/procedures/{pid}/versions/1", headers=headers).headers["etag"]
        r = client.post(
            f"/api/v1/procedures/{pid}/versions/1/transitions",
            headers={**headers, "If-Match": etag},
            json={"to": to, **signing("procedure_version", to)},
        )
        assert r.status_code == 200, r.text
    return pid


class TestReadAndUnderstood:
    def test_approval_asks_the_named_roles_and_each_acknowledges(self, client, session, lead):
        coordinator = auth(make_token(session, Role.coordinator, name="per-coordinator"))
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        auditor = auth(make_token(session, Role.auditor))
        pid = _approve(client, author, lead, NEW_PROCEDURE)
        version = client.get(f"/api/v1/procedures/{pid}/versions/1", headers=auditor).json()
        assert version["acknowledge_roles"] == ["coordinator"]
        asked = client.get(
            f"/api/v1/procedures/{pid}/versions/1/acknowledgements", headers=auditor
        ).json()
        assert [(a["user"], a["acknowledged_at"]) for a in asked] == [("per-coordinator", None)]
        assert asked[0]["due_on"] == (utcnow().date() + timedelta(days=14)).isoformat()
        # A quality lead was not asked: the version names coordinators.
        r = client.post(f"/api/v1/procedures/{pid}/versions/1/acknowledge", headers=lead)
        assert r.status_code == 409
        r = client.post(f"/api/v1/procedures/{pid}/versions/1/acknowledge", headers=coordinator)
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_at"] is not None
        (event,) = _events(session, "acknowledgement.acknowledged")
        assert event.actor == "per-coordinator"
        pending = client.get("/api/v1/acknowledgements?pending=true", headers=auditor).json()
        assert pending == []
        # An auditor may read but not acknowledge.
        refused = client.post(f"/api/v1/procedures/{pid}/versions/1/acknowledge", headers=auditor)
        assert refused.status_code == 403

    def test_roles_named_on_the_draft_are_asked(self, client, session, lead):
        make_user(session, Role.coordinator, name="c1")
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        pid = client.post(
            "/api/v1/procedures", headers=author, json={**NEW_PROCEDURE, "code": "PR-22"}
        ).json()["id"]
        etag = client.get(f"/api/v1/procedures/{pid}/versions/1", headers=author).headers["etag"]
        r = client.patch(
            f"/api/v1/procedures/{pid}/versions/1",
            headers={**author, "If-Match": etag},
            json={"acknowledge_roles": ["quality_lead", "coordinator"]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["acknowledge_roles"] == ["quality_lead", "coordinator"]
        bad = client.patch(
            f"/api/v1/procedures/{pid}/versions/1",
            headers={**author, "If-Match": r.headers["etag"]},
            json={"acknowledge_roles": ["chief"]},
        )
        assert bad.status_code == 422
        assert "acknowledge_roles" in bad.json()["errors"][0]["field"]
        for headers, to in ((author, "in_review"), (lead, "approved")):
            etag = client.get(f"/api/v1/procedures/{pid}/versions/1", headers=headers).headers[
                "etag"
            ]
            client.post(
                f"/api/v1/procedures/{pid}/versions/1/transitions",
                headers={**headers, "If-Match": etag},
                json={"to": to, **signing("procedure_version", to)},
            )
        users = {
            a.user.name
            for a in session.scalars(select(Acknowledgement))
            if a.procedure_version.procedure_id == pid
        }
        assert {"c1", "kari-lead", "lead-author"} <= users

    def test_an_overdue_acknowledgement_is_listed(self, client, session, lead):
        make_user(session, Role.coordinator, name="late-coordinator")
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        pid = _approve(client, author, lead, NEW_PROCEDURE)
        for a in session.scalars(select(Acknowledgement)):
            a.due_on = utcnow().date() - timedelta(days=1)
        session.flush()
        overdue = client.get("/api/v1/acknowledgements?overdue=true", headers=lead).json()
        assert [(a["code"], a["user"], a["overdue"]) for a in overdue] == [
            ("PR-21", "late-coordinator", True)
        ]
        assert pid


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class TestAroundTheRecords:
    def test_a_certificate_is_attached_to_a_training_record(self, client, session, lead, auditor):
        make_user(session, Role.quality_lead, name="siri")
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        rid = client.post(
            "/api/v1/training-records",
            headers=lead,
            json={"competence": "QL-AUDIT", "user": "siri", "completed_on": "2026-01-05"},
        ).json()["id"]
        r = client.post(
            f"/api/v1/training-records/{rid}/evidence",
            headers=lead,
            files={"file": ("certificate.pdf", PDF, "application/pdf")},
        )
        assert r.status_code == 201, r.text
        files = client.get(f"/api/v1/training-records/{rid}/evidence", headers=auditor).json()
        assert [f["file_name"] for f in files] == ["certificate.pdf"]
        # The file stays as attached: the table's rebuilt by the migration keeps its trigger.
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(text("UPDATE evidence_file SET file_name = 'other.pdf'"))
        refused = client.post(
            f"/api/v1/training-records/{rid}/evidence",
            headers=auditor,
            files={"file": ("certificate.pdf", PDF, "application/pdf")},
        )
        assert refused.status_code == 403

    def test_my_work_and_the_reminders_name_the_acknowledgement(self, client, session, lead):
        from qms.notifications import service as notifications

        user = make_user(session, Role.coordinator, name="ida-coordinator")
        coordinator = auth(make_token(session, Role.coordinator, name="ida-2"))
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        _approve(client, author, lead, NEW_PROCEDURE)
        work = client.get("/api/v1/me/work", headers=coordinator).json()
        (item,) = [i for i in work["items"] if i["kind"] == "acknowledgement_due"]
        assert (item["number"], item["overdue"]) == ("PR-21 v1", False)
        today = utcnow().date()
        found = notifications.candidates(session, user=user, on=today, now=utcnow(), horizon_days=7)
        assert [(r.kind.value, r.number) for r in found] == [("acknowledgement_due", "PR-21 v1")]
        late = notifications.candidates(
            session, user=user, on=today + timedelta(days=30), now=utcnow(), horizon_days=7
        )
        assert [(r.kind.value, r.number) for r in late] == [("overdue", "PR-21 v1")]
        client.post("/api/v1/procedures/1/versions/1/acknowledge", headers=coordinator)

    def test_the_rule_check_finds_a_mentor_matched_untrained(self, client, session, lead):
        from qms.checks import service as checks
        from tests.factories import ADMIN, make_pair

        cohort = make_cohort(session, make_programme(session))
        trained = make_participant(session, cohort, role="mentor")
        untrained = make_participant(session, cohort, role="mentor")
        client.post("/api/v1/competences", headers=lead, json=MENTOR_TRAINING)
        client.post(
            "/api/v1/training-records",
            headers=lead,
            json={
                "competence": "MT-1",
                "participant": trained.code,
                "completed_on": (cohort.start_on - timedelta(days=10)).isoformat(),
            },
        )
        good = make_pair(
            session, trained, make_participant(session, cohort), started_on=cohort.start_on
        )
        bad = make_pair(
            session, untrained, make_participant(session, cohort), started_on=cohort.start_on
        )
        found = checks.find(session, actor=ADMIN, on=utcnow().date())
        keys = {k for k in found.findings if k.startswith("mentor_untrained")}
        assert keys == {f"mentor_untrained:{bad.code}:MT-1"}
        assert good.code not in " ".join(keys)
        result = checks.run(session, actor=ADMIN, on=utcnow().date())
        assert any(f.rule == "mentor_untrained" for f in result.opened)

    def test_the_evidence_map_counts_training_for_7_2_and_acknowledgements_for_7_3(
        self, client, session, lead, auditor
    ):
        make_user(session, Role.quality_lead, name="siri")
        coordinator = auth(make_token(session, Role.coordinator, name="per-coordinator"))
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        today = utcnow().date()
        client.post(
            "/api/v1/training-records",
            headers=lead,
            json={"competence": "QL-AUDIT", "user": "siri", "completed_on": today.isoformat()},
        )
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        pid = _approve(client, author, lead, NEW_PROCEDURE)
        client.post(f"/api/v1/procedures/{pid}/versions/1/acknowledge", headers=coordinator)
        r = client.get(
            f"/api/v1/frameworks/ISO9001/coverage?period_start={today.replace(month=1, day=1)}"
            f"&period_end={today}",
            headers=auditor,
        )
        assert r.status_code == 200, r.text
        rows = {row["code"]: row for row in r.json()["rows"]}
        assert "TR-" in str(rows["7.2"])
        assert "PR-21 v1" in str(rows["7.3"])


class TestPages:
    def test_the_matrix_page_and_adding_a_competence(self, client, session) -> None:
        from tests.web import csrf_of, sign_in, web_user

        name = web_user(session, Role.quality_lead)
        sign_in(client, name)
        page = client.get("/competence")
        assert page.status_code == 200
        assert "table-wrap" in page.text
        r = client.post(
            "/competence/new",
            data={
                "csrf_token": csrf_of(page.text),
                "code": "QL-AUDIT",
                "role": "quality_lead",
                "title": "Internal auditing",
                "obtained_by": "training",
                "renewal_months": "24",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:2000]
        matrix = client.get("/competence").text
        assert "QL-AUDIT" in matrix
        assert "missing" in matrix.lower()
        assert "quality_lead" not in matrix.replace('value="quality_lead"', "")
        # A refused form names the field.
        refused = client.post(
            "/competence/new",
            data={
                "csrf_token": csrf_of(matrix),
                "code": "bad code",
                "role": "quality_lead",
                "title": "x",
            },
        )
        assert refused.status_code in (200, 422)
        assert 'id="e-code"' in refused.text

    def test_recording_a_training_on_its_page(self, client, session) -> None:
        from tests.web import csrf_of, sign_in, web_user

        name = web_user(session, Role.coordinator)
        make_user(session, Role.quality_lead, name="siri")
        from qms.competence import service
        from qms.competence.schemas import CompetenceCreate
        from tests.factories import ADMIN

        service.create_competence(
            session, actor=ADMIN, data=CompetenceCreate.model_validate(QUALITY)
        )
        session.flush()
        sign_in(client, name)
        page = client.get("/competence/records")
        r = client.post(
            "/competence/records",
            data={
                "csrf_token": csrf_of(page.text),
                "competence": "QL-AUDIT",
                "user": "siri",
                "completed_on": "2026-01-05",
                "given_by": "Nordic Quality Institute",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:2000]
        listed = client.get("/competence/records").text
        assert "TR-2026-0001" in listed
        assert "Nordic Quality Institute" in listed
        link = re.search(r'href="(/competence/records/\d+)"', listed)
        assert link is not None
        record_page = client.get(link.group(1))
        assert record_page.status_code == 200
        attached = client.post(
            f"{link.group(1)}/evidence",
            data={"csrf_token": csrf_of(record_page.text)},
            files={"file": ("certificate.pdf", PDF, "application/pdf")},
            follow_redirects=False,
        )
        assert attached.status_code == 303, attached.text[:1000]
        assert "certificate.pdf" in client.get(link.group(1)).text
        empty = client.post(
            f"{link.group(1)}/evidence",
            data={"csrf_token": csrf_of(record_page.text)},
        )
        assert 'id="e-evidence-file"' in empty.text

    def test_acknowledging_on_the_procedure_page(self, client, session) -> None:
        from tests.web import csrf_of, sign_in, web_user

        name = web_user(session, Role.coordinator)
        lead = auth(make_token(session, Role.quality_lead, name="kari-lead"))
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        pid = _approve(client, author, lead, NEW_PROCEDURE)
        sign_in(client, name)
        page = client.get(f"/procedures/{pid}")
        assert "I have read and understood this version" in page.text
        r = client.post(
            f"/procedures/{pid}/versions/1/acknowledge",
            data={"csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        after = client.get(f"/procedures/{pid}").text
        assert "I have read and understood this version" not in after
        (event,) = _events(session, "acknowledgement.acknowledged")
        assert event.actor == name


class TestCommandLine:
    def test_add_train_list_matrix_and_acknowledge(self, fresh_db, monkeypatch, tmp_path) -> None:
        import json

        from typer.testing import CliRunner

        from qms.cli import app
        from qms.cli import common as cli_common
        from qms.config import get_settings

        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setattr(cli_common.out, "width", 220)
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        get_settings.cache_clear()
        runner = CliRunner()

        def run(*args: str, code: int = 0):
            result = runner.invoke(app, list(args))
            assert result.exit_code == code, (result.stdout, result.stderr)
            return result

        try:
            run("users", "add", "siri", "--role", "quality_lead")
            run("users", "add", "per", "--role", "coordinator")
            assert (
                run(
                    "competence",
                    "add",
                    "QL-AUDIT",
                    "--role",
                    "quality_lead",
                    "--title",
                    "Internal auditing",
                    "--renewal-months",
                    "24",
                ).stdout.strip()
                == "QL-AUDIT"
            )
            number = run(
                "competence",
                "train",
                "QL-AUDIT",
                "--user",
                "siri",
                "--on",
                RECENTLY.isoformat(),
                "--given-by",
                "Kiwa",
            ).stdout.strip()
            assert number == f"TR-{RECENTLY.year}-0001"
            bad = run("competence", "train", "QL-AUDIT", "--mentor", "P-9999", code=2)
            assert "user" in bad.stderr or "mentor" in bad.stderr
            listed = json.loads(run("competence", "list", "--format", "json").stdout)["items"]
            assert [c["code"] for c in listed] == ["QL-AUDIT"]
            table = run("competence", "matrix", "--role", "quality_lead").stdout
            assert "siri" in table
            assert "has" in table
            cells = json.loads(run("competence", "matrix", "--format", "json").stdout)["items"]
            assert {(c["person"], c["state"]) for c in cells} >= {("siri", "has")}
            missing = run("acknowledge", "PR-99", "--as", "per", code=2)
            assert "PR-99" in missing.stderr
            with fresh_db.unit_of_work() as session:
                _approved_by_service(session)
            said = run("acknowledge", "pr-21", "--as", "per").stdout
            assert said.startswith("PR-21 v1")
            out_file = str(tmp_path / "matrix.docx")
            run("docs", "competence-matrix", "-o", out_file)
            import docx

            cells = [
                c.text for t in docx.Document(out_file).tables for r in t.rows for c in r.cells
            ]
            assert "QL-AUDIT" in cells
            again = json.loads(run("competence", "list", "--format", "json").stdout)["items"]
            assert again
        finally:
            get_settings.cache_clear()


def _approved_by_service(session) -> None:
    """Create PR-21 and approve it, asking the coordinators to acknowledge it."""
    from qms.accounts import service as accounts
    from qms.procedures import service as procedures
    from qms.procedures.schemas import ProcedureCreate, VersionTransition
    from qms.signatures.service import confirmation_of
    from tests.factories import ADMIN

    procedure = procedures.create(
        session, actor=ADMIN, data=ProcedureCreate.model_validate(NEW_PROCEDURE)
    )
    approver = accounts.actor_for(session, "siri")
    for to, who in (("in_review", ADMIN), ("approved", approver)):
        version = procedures.get_version(session, actor=who, procedure_id=procedure.id, number=1)
        procedures.transition(
            session,
            actor=who,
            procedure_id=procedure.id,
            number=1,
            data=VersionTransition.model_validate(
                {"to": to, **confirmation_of("procedure_version", to)}
            ),
            if_match=version.version,
        )


class TestDocument:
    def test_the_competence_matrix_is_read_back(self, client, session, lead, auditor) -> None:
        import io

        import docx

        make_user(session, Role.quality_lead, name="siri")
        cohort = make_cohort(session, make_programme(session))
        mentor = make_participant(session, cohort, role="mentor")
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        client.post("/api/v1/competences", headers=lead, json=MENTOR_TRAINING)
        client.post(
            "/api/v1/training-records",
            headers=lead,
            json={"competence": "QL-AUDIT", "user": "siri", "completed_on": RECENTLY.isoformat()},
        )
        coordinator = auth(make_token(session, Role.coordinator, name="per-coordinator"))
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        _approve(client, author, lead, NEW_PROCEDURE)
        r = client.get("/api/v1/documents/competence-matrix?language=en", headers=auditor)
        assert r.status_code == 200, r.text
        document = docx.Document(io.BytesIO(r.content))
        texts = [p.text for p in document.paragraphs]
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        assert "Competence matrix" in " ".join(texts)
        assert "QL-AUDIT" in cells
        assert "MT-1" in cells
        assert mentor.code in cells
        assert any(c.startswith("has ") for c in cells)
        assert "missing" in cells
        assert "PR-21 v1" in cells
        assert "per-coordinator" in cells
        nb = client.get("/api/v1/documents/competence-matrix?language=nb", headers=auditor)
        assert nb.status_code == 200
        del coordinator


class TestDraftForm:
    def test_the_roles_to_acknowledge_are_ticked_on_the_draft(self, client, session) -> None:
        from qms.procedures.models import ProcedureVersion
        from tests.web import csrf_of, sign_in, web_user

        name = web_user(session, Role.quality_lead)
        author = auth(make_token(session, Role.quality_lead, name="lead-author"))
        pid = client.post("/api/v1/procedures", headers=author, json=NEW_PROCEDURE).json()["id"]
        sign_in(client, name)
        page = client.get(f"/procedures/{pid}?version=1").text
        assert "Roles asked to acknowledge it" in page
        draft = session.scalars(
            select(ProcedureVersion).where(ProcedureVersion.procedure_id == pid)
        ).one()
        r = client.post(
            f"/procedures/{pid}/versions/1",
            data={
                "csrf_token": csrf_of(page),
                "version": str(draft.version),
                "acknowledge_roles_shown": "1",
                "acknowledge_roles": ["quality_lead", "coordinator"],
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:1000]
        session.refresh(draft)
        assert draft.acknowledge_roles == ["quality_lead", "coordinator"]
        (event,) = [
            e for e in _events(session, "procedure_version.updated") if e.entity_id == str(draft.id)
        ]
        assert event.changes["acknowledge_roles"]["new"] == ["quality_lead", "coordinator"]


class TestRetention:
    def test_an_expired_training_is_disposed_of_with_its_certificate(
        self, client, session, lead, monkeypatch
    ) -> None:
        import json

        from qms import replay
        from qms.audit.service import verify
        from qms.competence.models import TrainingRecord
        from qms.config import get_settings
        from qms.evidence.models import EvidenceFile

        make_user(session, Role.quality_lead, name="siri")
        client.post("/api/v1/competences", headers=lead, json=QUALITY)
        old = client.post(
            "/api/v1/training-records",
            headers=lead,
            json={"competence": "QL-AUDIT", "user": "siri", "completed_on": "2012-02-01"},
        ).json()
        fresh = client.post(
            "/api/v1/training-records",
            headers=lead,
            json={"competence": "QL-AUDIT", "user": "siri", "completed_on": "2026-02-01"},
        ).json()
        client.post(
            f"/api/v1/training-records/{old['id']}/evidence",
            headers=lead,
            files={"file": ("certificate.pdf", PDF, "application/pdf")},
        )
        monkeypatch.setenv("QMS_RETENTION_YEARS", json.dumps({"training_record": 10}))
        get_settings.cache_clear()
        try:
            report = client.get("/api/v1/retention", headers=lead).json()
            kinds = {k["kind"]: k for k in report["kinds"]}
            assert kinds["training_record"]["due"] == 1
            assert kinds["acknowledgement"]["years"] == 10
            r = client.post(
                "/api/v1/retention/dispositions",
                headers=lead,
                json={"kind": "training_record", "reason": "Kept ten years after it expired."},
            )
            assert r.status_code == 201, r.text
        finally:
            get_settings.cache_clear()
        left = [t.number for t in session.scalars(select(TrainingRecord))]
        assert left == [fresh["number"]]
        assert list(session.scalars(select(EvidenceFile))) == []
        assert verify(session).ok
        result = replay.check(session)
        assert [f for f in result.first_findings if f.entity == "training_record"] == []


class TestRetiring:
    def test_a_competence_is_retired_and_asked_for_again_on_the_page(self, client, session):
        from qms.competence import service
        from qms.competence.models import Competence
        from qms.competence.schemas import CompetenceCreate
        from tests.factories import ADMIN
        from tests.web import csrf_of, sign_in, web_user

        competence = service.create_competence(
            session, actor=ADMIN, data=CompetenceCreate.model_validate(QUALITY)
        )
        session.flush()
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get("/competence").text
        assert "Retire QL-AUDIT" in page
        r = client.post(
            f"/competence/{competence.id}/active",
            data={"csrf_token": csrf_of(page), "version": "1", "is_active": "false"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        session.refresh(competence)
        assert competence.is_active is False
        stale = client.post(
            f"/competence/{competence.id}/active",
            data={"csrf_token": csrf_of(page), "version": "1", "is_active": "true"},
        )
        assert stale.status_code in (200, 409, 412)
        assert session.get(Competence, competence.id).is_active is False
        again = client.get("/competence").text
        assert "Ask for QL-AUDIT again" in again
