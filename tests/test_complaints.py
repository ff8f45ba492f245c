"""Complaints: received with the complainant kept apart, acknowledged and answered in time, and a
deviation opened from a justified one."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from qms.audit.models import AuditEvent
from qms.cli import app, common
from qms.complaints import service
from qms.complaints.models import Complaint
from qms.complaints.schemas import ComplaintCreate, ComplaintDeviationCreate, ComplaintTransition
from qms.config import get_settings
from qms.db import utcnow
from qms.deviations.models import Deviation
from qms.permissions import Role
from qms.retention import service as retention
from qms.retention.schemas import DispositionCreate
from tests.factories import ADMIN, auth, make_programme, make_token
from tests.reading import docx_text
from tests.web import csrf_of, error_beside, sign_in, web_user

SECRET_NAME = "Kari Nordmann-Complainant"
SECRET_MAIL = "kari.complainant@example.org"


def receive(client: Any, headers: dict[str, str], programme_id: int, **over: Any) -> Any:
    body: dict[str, Any] = {
        "programme_id": programme_id,
        "channel": "email",
        "complainant_category": "mentee",
        "subject": "My mentor stopped meeting me",
        "description": "We met twice in January and not since; my mentor does not answer.",
        "complainant": {"name": SECRET_NAME, "email": SECRET_MAIL, "contact_consent": True},
    }
    body.update(over)
    return client.post("/api/v1/complaints", headers=headers, json=body)


def make_complaint(session: Session, programme_id: int, **over: Any) -> Complaint:
    data: dict[str, Any] = {
        "programme_id": programme_id,
        "channel": "phone",
        "complainant_category": "employer",
        "subject": "The trainee's mentor was never introduced",
        "description": "An employer says the mentee arrived without the agreed introduction.",
    }
    data.update(over)
    return service.create(session, actor=ADMIN, data=ComplaintCreate(**data))


def move(client: Any, headers: dict[str, str], complaint_id: int, **body: Any) -> Any:
    version = client.get(f"/api/v1/complaints/{complaint_id}", headers=headers).headers["etag"]
    return client.post(
        f"/api/v1/complaints/{complaint_id}/transitions",
        headers={**headers, "If-Match": version},
        json=body,
    )


@pytest.fixture
def programme(session: Session) -> Any:
    return make_programme(session)


@pytest.fixture
def lead(session: Session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead))


@pytest.fixture
def coordinator(session: Session) -> dict[str, str]:
    return auth(make_token(session, Role.coordinator))


@pytest.fixture
def auditor(session: Session) -> dict[str, str]:
    return auth(make_token(session, Role.auditor))


class TestReceive:
    def test_a_complaint_is_numbered_and_given_its_limits(self, client, lead, programme) -> None:
        r = receive(client, lead, programme.id, received_on=date.today().isoformat())
        assert r.status_code == 201, r.text
        body = r.json()
        year = utcnow().year
        assert body["number"] == f"CMP-{year}-0001"
        assert body["status"] == "received"
        received = date.fromisoformat(body["received_on"])
        assert date.fromisoformat(body["acknowledge_due_on"]) == received + timedelta(days=3)
        assert date.fromisoformat(body["answer_due_on"]) == received + timedelta(days=14)
        assert body["complainant"]["name"] == SECRET_NAME
        assert body["complainant_withheld"] is False
        assert r.headers["etag"] == '"1"'
        second = receive(client, lead, programme.id)
        assert second.json()["number"] == f"CMP-{year}-0002"

    def test_the_limits_follow_the_settings(self, client, lead, programme, monkeypatch) -> None:
        from qms.config import get_settings

        monkeypatch.setattr(get_settings(), "complaint_acknowledge_days", 1)
        monkeypatch.setattr(get_settings(), "complaint_answer_days", 7)
        body = receive(client, lead, programme.id, received_on="2026-03-02").json()
        assert body["acknowledge_due_on"] == "2026-03-03"
        assert body["answer_due_on"] == "2026-03-09"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"channel": "pigeon"}, "channel"),
            ({"complainant_category": "neighbour"}, "complainant_category"),
            ({"subject": ""}, "subject"),
            ({"programme_id": 999999}, "programme_id"),
            ({"received_on": "2999-01-01"}, "received_on"),
            ({"received_on": "yesterday"}, "received_on"),
            ({"complainant": {"email": "not an address"}}, "email"),
        ],
    )
    def test_bad_input_names_the_field(self, client, lead, programme, change, field) -> None:
        r = receive(client, lead, change.pop("programme_id", programme.id), **change)
        assert r.status_code == 422, r.text
        assert any(field in e["field"] for e in r.json()["errors"]), r.json()

    def test_an_auditor_may_not_receive_one(self, client, auditor, programme) -> None:
        assert receive(client, auditor, programme.id).status_code == 403


class TestComplainantKeptApart:
    def test_an_auditor_reads_the_complaint_but_not_who_made_it(
        self, client, lead, auditor, programme
    ) -> None:
        complaint = receive(client, lead, programme.id).json()
        seen = client.get(f"/api/v1/complaints/{complaint['id']}", headers=auditor)
        assert seen.status_code == 200
        assert seen.json()["complainant"] is None
        assert seen.json()["complainant_withheld"] is True
        assert SECRET_NAME not in seen.text
        listed = client.get("/api/v1/complaints", headers=auditor)
        assert SECRET_NAME not in listed.text
        assert SECRET_MAIL not in listed.text
        personal = f"/api/v1/complaints/{complaint['id']}/complainant"
        assert client.get(personal, headers=auditor).status_code == 403

    def test_the_trail_says_the_details_changed_never_what_they_are(
        self, client, session, lead, coordinator, programme
    ) -> None:
        complaint = receive(client, lead, programme.id).json()
        url = f"/api/v1/complaints/{complaint['id']}/complainant"
        got = client.get(url, headers=coordinator)
        assert got.json()["email"] == SECRET_MAIL
        put = client.put(
            url,
            headers={**coordinator, "If-Match": got.headers["etag"]},
            json={"name": "Kari N. Complainant", "phone": "+47 900 00 000"},
        )
        assert put.status_code == 200, put.text
        assert put.json()["phone"] == "+47 900 00 000"
        assert put.json()["contact_consent"] is False
        stale = client.put(url, headers={**coordinator, "If-Match": '"1"'}, json={})
        assert stale.status_code == 412
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "complaint", AuditEvent.entity_id == str(complaint["id"])
            )
        ).all()
        actions = [e.action for e in events]
        assert actions == ["complaint.created", "complaint.complainant_changed"]
        changed = events[1].changes
        assert changed["complainant_name"] == {"changed": True}
        assert changed["complainant_phone"] == {"changed": True}
        for event in events:
            text = str(event.changes)
            for secret in ("Kari", SECRET_MAIL, "900"):
                assert secret not in text


class TestWorkflow:
    def test_received_acknowledged_answered_closed(self, client, lead, programme) -> None:
        complaint = receive(client, lead, programme.id).json()
        cid = complaint["id"]
        assert complaint["allowed_transitions"] == ["acknowledged", "withdrawn"]
        r = move(client, lead, cid, to="acknowledged")
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_at"] is not None
        missing = move(client, lead, cid, to="answered")
        assert missing.status_code == 422
        assert {e["field"] for e in missing.json()["errors"]} == {"answer", "outcome"}
        r = move(
            client,
            lead,
            cid,
            to="answered",
            answer="We have spoken with the mentor and found you a new one.",
            outcome="upheld",
        )
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "upheld"
        assert r.json()["answered_at"] is not None
        r = move(client, lead, cid, to="closed")
        assert r.json()["status"] == "closed"
        assert r.json()["closed_at"]
        again = move(client, lead, cid, to="acknowledged")
        assert again.status_code == 409

    def test_a_skipped_step_is_refused_naming_the_allowed(self, client, lead, programme) -> None:
        cid = receive(client, lead, programme.id).json()["id"]
        r = move(client, lead, cid, to="closed")
        assert r.status_code == 409
        assert "acknowledged" in r.text

    def test_withdrawn_needs_a_reason(self, client, lead, programme) -> None:
        cid = receive(client, lead, programme.id).json()["id"]
        assert move(client, lead, cid, to="withdrawn").status_code == 422
        r = move(client, lead, cid, to="withdrawn", reason="The mentee settled it with the mentor.")
        assert r.json()["status"] == "withdrawn"
        assert r.json()["withdrawal_reason"] == "The mentee settled it with the mentor."

    def test_update_needs_if_match_and_moves_the_limits(self, client, lead, programme) -> None:
        created = receive(client, lead, programme.id)
        url = f"/api/v1/complaints/{created.json()['id']}"
        assert client.patch(url, headers=lead, json={"subject": "X"}).status_code == 428
        r = client.patch(
            url,
            headers={**lead, "If-Match": created.headers["etag"]},
            json={"received_on": "2026-02-02", "channel": "letter"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["answer_due_on"] == "2026-02-16"
        stale = client.patch(
            url, headers={**lead, "If-Match": created.headers["etag"]}, json={"subject": "Y"}
        )
        assert stale.status_code == 412
        early = client.patch(
            url, headers={**lead, "If-Match": r.headers["etag"]}, json={"outcome": "upheld"}
        )
        assert early.status_code == 422
        assert early.json()["errors"][0]["field"] == "outcome"


class TestOverdue:
    def test_late_ones_are_flagged_and_filtered(self, client, session, lead, programme) -> None:
        old = make_complaint(session, programme.id, received_on=date.today() - timedelta(days=20))
        fresh = make_complaint(session, programme.id)
        body = client.get(f"/api/v1/complaints/{old.id}", headers=lead).json()
        assert body["acknowledgement_overdue"]
        assert body["answer_overdue"]
        assert body["overdue"]
        late = client.get("/api/v1/complaints?overdue=true", headers=lead).json()["items"]
        assert [c["number"] for c in late] == [old.number]
        on_time = client.get("/api/v1/complaints?overdue=false", headers=lead).json()["items"]
        assert [c["number"] for c in on_time] == [fresh.number]


class TestOpenDeviation:
    def test_a_justified_complaint_opens_a_linked_deviation(
        self, client, session, lead, programme
    ) -> None:
        created = receive(client, lead, programme.id)
        cid = created.json()["id"]
        r = client.post(
            f"/api/v1/complaints/{cid}/deviation",
            headers={**lead, "If-Match": created.headers["etag"]},
            json={"severity": "major"},
        )
        assert r.status_code == 201, r.text
        deviation = r.json()
        assert deviation["source"] == "complaint"
        assert deviation["severity"] == "major"
        assert deviation["programme_id"] == programme.id
        complaint = client.get(f"/api/v1/complaints/{cid}", headers=lead).json()
        assert complaint["deviation_id"] == deviation["id"]
        assert complaint["deviation_number"] == deviation["number"]
        assert complaint["number"] in deviation["description"]
        again = client.post(
            f"/api/v1/complaints/{cid}/deviation",
            headers={**lead, "If-Match": f'"{complaint["version"]}"'},
            json={},
        )
        assert again.status_code == 409
        assert session.get(Deviation, deviation["id"]) is not None

    def test_one_not_upheld_opens_none(self, client, lead, programme) -> None:
        cid = receive(client, lead, programme.id).json()["id"]
        move(client, lead, cid, to="acknowledged")
        move(client, lead, cid, to="answered", answer="Meetings were held.", outcome="not_upheld")
        version = client.get(f"/api/v1/complaints/{cid}", headers=lead).headers["etag"]
        r = client.post(
            f"/api/v1/complaints/{cid}/deviation",
            headers={**lead, "If-Match": version},
            json={},
        )
        assert r.status_code == 409


class TestScope:
    def test_a_scoped_coordinator_sees_only_their_programme(
        self, client, session, programme
    ) -> None:
        other = make_programme(session)
        mine = make_complaint(session, programme.id)
        theirs = make_complaint(session, other.id)
        scoped = auth(make_token(session, Role.coordinator, programme_code=programme.code))
        listed = client.get("/api/v1/complaints", headers=scoped).json()["items"]
        assert [c["number"] for c in listed] == [mine.number]
        assert client.get(f"/api/v1/complaints/{theirs.id}", headers=scoped).status_code == 404
        r = receive(client, scoped, other.id)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "programme_id"


class TestExport:
    def test_the_list_as_csv_names_labels_not_codes(self, client, session, lead, programme) -> None:
        make_complaint(session, programme.id, channel="in_person")
        r = client.get("/api/v1/complaints?format=csv", headers=lead)
        assert r.status_code == 200
        assert "in person" in r.text
        assert "in_person" not in r.text
        assert programme.code in r.text


class TestPages:
    def test_receiving_one_on_the_page_and_answering_it(self, client, session, programme) -> None:
        sign_in(client, web_user(session, Role.coordinator))
        form = client.get("/complaints/new")
        assert form.status_code == 200
        r = client.post(
            "/complaints/new",
            data={
                "csrf_token": csrf_of(form.text),
                "programme_id": str(programme.id),
                "subject": "My mentor stopped meeting me",
                "description": "No meeting since February.",
                "channel": "in_person",
                "complainant_category": "mentee",
                "name": SECRET_NAME,
                "contact_consent": "true",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        record = client.get(r.headers["location"])
        assert "My mentor stopped meeting me" in record.text
        assert SECRET_NAME in record.text
        assert "in person" in record.text
        assert "in_person" not in record.text.split("<main", 1)[1].replace('value="in_person"', "")
        complaint = session.scalars(select(Complaint)).one()
        moved = client.post(
            f"/complaints/{complaint.id}/move",
            data={
                "csrf_token": csrf_of(record.text),
                "to": "acknowledged",
                "version": str(complaint.version),
            },
            follow_redirects=False,
        )
        assert moved.status_code == 303
        session.refresh(complaint)
        assert complaint.status == "acknowledged"
        page = client.get(f"/complaints/{complaint.id}")
        refused = client.post(
            f"/complaints/{complaint.id}/move",
            data={
                "csrf_token": csrf_of(page.text),
                "to": "answered",
                "version": str(complaint.version),
            },
        )
        assert refused.status_code == 422
        assert error_beside(refused.text, "answered-answer")
        listed = client.get("/complaints")
        assert complaint.number in listed.text
        assert 'class="table-wrap"' in listed.text

    def test_an_auditor_sees_withheld_and_no_forms(self, client, session, programme) -> None:
        complaint = make_complaint(
            session,
            programme.id,
            complainant={"name": SECRET_NAME, "email": SECRET_MAIL},
        )
        sign_in(client, web_user(session, Role.auditor))
        page = client.get(f"/complaints/{complaint.id}")
        assert page.status_code == 200
        assert SECRET_NAME not in page.text
        assert "Withheld" in page.text
        assert 'action="/complaints/' not in page.text
        assert client.get("/complaints/new").status_code == 403

    def test_opening_a_deviation_from_the_page(self, client, session, programme) -> None:
        complaint = make_complaint(session, programme.id)
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get(f"/complaints/{complaint.id}")
        r = client.post(
            f"/complaints/{complaint.id}/deviation",
            data={
                "csrf_token": csrf_of(page.text),
                "severity": "major",
                "version": str(complaint.version),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        session.refresh(complaint)
        assert complaint.deviation is not None
        assert r.headers["location"] == f"/deviations/{complaint.deviation_id}"
        assert complaint.deviation.number in client.get(f"/complaints/{complaint.id}").text
        back = client.get(f"/deviations/{complaint.deviation_id}")
        assert f'<a href="/complaints/{complaint.id}">{complaint.number}</a>' in back.text


class TestRetention:
    def test_who_complained_goes_a_year_after_closing_the_complaint_later(
        self, client, session, lead, programme
    ) -> None:
        complaint = make_complaint(
            session, programme.id, complainant={"name": SECRET_NAME, "email": SECRET_MAIL}
        )
        service.transition(
            session,
            actor=ADMIN,
            complaint_id=complaint.id,
            data=ComplaintTransition(to="withdrawn", reason="Settled by phone."),
            if_match=complaint.version,
        )
        session.flush()
        closed = complaint.closed_at.date()
        admin = auth(make_token(session, Role.admin))
        as_of = (closed + timedelta(days=400)).isoformat()
        report = client.get(f"/api/v1/retention?as_of={as_of}", headers=admin).json()
        due = {k["kind"]: k for k in report["kinds"]}
        assert complaint.id in due["complainant"]["record_ids"]
        assert complaint.id not in due["complaint"]["record_ids"]
        retention.dispose(
            session,
            actor=ADMIN,
            data=DispositionCreate(
                kind="complainant", reason="A year after the complaint was withdrawn."
            ),
            as_of=date.fromisoformat(as_of),
        )
        session.flush()
        session.refresh(complaint.complainant)
        assert complaint.complainant.name is None
        assert complaint.complainant.erased_at is not None
        body = client.get(f"/api/v1/complaints/{complaint.id}", headers=lead).json()
        assert body["subject"] == complaint.subject
        assert body["complainant"]["erased_at"] is not None
        later = (closed + timedelta(days=6 * 366)).isoformat()
        report = client.get(f"/api/v1/retention?as_of={later}", headers=admin).json()
        due = {k["kind"]: k for k in report["kinds"]}
        assert complaint.id in due["complaint"]["record_ids"]


class TestMyWork:
    def test_complaints_to_acknowledge_and_answer_wait_the_overdue_first(
        self, client, session, coordinator, programme
    ) -> None:
        late = make_complaint(session, programme.id, received_on=date.today() - timedelta(days=9))
        fresh = make_complaint(session, programme.id)
        service.transition(
            session,
            actor=ADMIN,
            complaint_id=fresh.id,
            data=ComplaintTransition(to="acknowledged"),
            if_match=fresh.version,
        )
        session.flush()
        items = client.get("/api/v1/me/work", headers=coordinator).json()["items"]
        mine = [(i["kind"], i["number"], i["overdue"]) for i in items if i["record"] == "complaint"]
        assert mine == [
            ("complaint_to_acknowledge", late.number, True),
            ("complaint_to_answer", fresh.number, False),
        ]

    def test_an_auditor_is_not_waited_on(self, client, session, auditor, programme) -> None:
        make_complaint(session, programme.id)
        items = client.get("/api/v1/me/work", headers=auditor).json()["items"]
        assert [i for i in items if i["record"] == "complaint"] == []


def _answer(session: Session, complaint: Complaint, outcome: str) -> None:
    for to, extra in (
        ("acknowledged", {}),
        ("answered", {"answer": "We found a new mentor.", "outcome": outcome}),
    ):
        service.transition(
            session,
            actor=ADMIN,
            complaint_id=complaint.id,
            data=ComplaintTransition.model_validate({"to": to, **extra}),
            if_match=complaint.version,
        )
    session.flush()


class TestEvidenceAndReview:
    def test_complaints_count_for_9_1_2_10_2_and_8_2_1(
        self, client, session, auditor, programme
    ) -> None:
        received = make_complaint(session, programme.id)
        answered = make_complaint(session, programme.id)
        _answer(session, answered, "upheld")
        today = date.today()
        r = client.get(
            f"/api/v1/frameworks/ISO9001/coverage?period_start={today - timedelta(days=30)}"
            f"&period_end={today}",
            headers=auditor,
        )
        assert r.status_code == 200, r.text
        rows = {row["code"]: row for row in r.json()["rows"]}
        assert received.number in str(rows["9.1.2"]["evidence"])
        assert received.number in str(rows["8.2.1"]["evidence"])
        assert answered.number in str(rows["10.2"]["evidence"])
        assert received.number not in str(rows["10.2"]["evidence"])

    def test_the_review_input_counts_received_on_time_and_upheld(
        self, client, session, lead, programme
    ) -> None:
        make_complaint(session, programme.id)
        _answer(session, make_complaint(session, programme.id), "partly_upheld")
        _answer(session, make_complaint(session, programme.id), "not_upheld")
        today = date.today()
        r = client.get(
            "/api/v1/reviews/inputs",
            headers=lead,
            params={
                "period_start": (today - timedelta(days=30)).isoformat(),
                "period_end": today.isoformat(),
                "programme_id": programme.id,
            },
        )
        assert r.status_code == 200, r.text
        [section] = [s for s in r.json()["sections"] if s["clause"] == "9.3.2 c1"]
        counts = {row[1]: row[2] for row in section["rows"] if row[0] == "complaints"}
        assert counts["complaints received"] == "3"
        assert counts["complaints answered"] == "2"
        assert counts["complaints answered on time"] == "2"
        assert counts["complaints upheld or partly upheld"] == "1"


class TestCommandLine:
    def test_add_move_and_list(self, fresh_db, monkeypatch, tmp_path) -> None:
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
                    "complaints", "add", "--programme", "VIA-JOB",
                    "--subject", "My mentor stopped meeting me",
                    "--description", "No meeting since February.",
                    "--channel", "in_person", "--from", "mentee",
                ],
            )  # fmt: skip
            assert added.exit_code == 0, (added.stdout, added.stderr)
            number = added.stdout.strip()
            assert number.startswith("CMP-")
            moved = CliRunner().invoke(app, ["complaints", "move", number, "--to", "acknowledged"])
            assert moved.exit_code == 0, (moved.stdout, moved.stderr)
            refused = CliRunner().invoke(app, ["complaints", "move", number, "--to", "answered"])
            assert refused.exit_code != 0
            assert "answer" in refused.stderr
            answered = CliRunner().invoke(
                app,
                [
                    "complaints", "move", number, "--to", "answered",
                    "--answer", "A new mentor from March.", "--outcome", "upheld",
                ],
            )  # fmt: skip
            assert answered.exit_code == 0, (answered.stdout, answered.stderr)
            table = CliRunner().invoke(app, ["complaints", "list"])
            assert table.exit_code == 0, table.stderr
            assert number in table.stdout
            assert "answered" in table.stdout
            assert "upheld" in table.stdout
            listed = CliRunner().invoke(app, ["complaints", "list", "--format", "json"])
            records = json.loads(listed.stdout)["items"]
            assert [(r["number"], r["outcome"]) for r in records] == [(number, "upheld")]
            csv = CliRunner().invoke(app, ["complaints", "list", "--format", "csv"])
            assert "in person" in csv.stdout
            register = tmp_path / "complaints.docx"
            issued = CliRunner().invoke(
                app,
                ["docs", "complaints-register", "-o", str(register), "--programme", "VIA-JOB"],
            )
            assert issued.exit_code == 0, (issued.stdout, issued.stderr)
            assert number in docx_text(register.read_bytes())
            with fresh_db.unit_of_work(write=False) as session:
                actions = [e.action for e in session.scalars(select(AuditEvent))]
            assert "complaint.created" in actions
            assert actions.count("complaint.transitioned") == 2
        finally:
            get_settings.cache_clear()


class TestDocument:
    def test_the_register_reads_back_without_who_complained(
        self, client, session, auditor, programme
    ) -> None:
        late = make_complaint(
            session,
            programme.id,
            received_on=date.today() - timedelta(days=20),
            complainant={"name": SECRET_NAME, "email": SECRET_MAIL},
        )
        answered = make_complaint(session, programme.id, channel="in_person")
        _answer(session, answered, "upheld")
        deviation = service.open_deviation(
            session,
            actor=ADMIN,
            complaint_id=answered.id,
            data=ComplaintDeviationCreate(severity="major"),
            if_match=answered.version,
        )
        session.flush()
        r = client.get("/api/v1/documents/complaints-register", headers=auditor)
        assert r.status_code == 200, r.text
        text = docx_text(r.content)
        assert "Complaints register" in text
        assert late.number in text
        assert answered.number in text
        assert deviation.number in text
        assert "(overdue)" in text
        assert "in time" in text
        assert "upheld" in text
        assert "in person" in text
        assert "2 complaints; 1 answered, 1 of them in time; 1 upheld or partly upheld." in text
        assert SECRET_NAME not in text
        assert SECRET_MAIL not in text

    def test_a_period_that_ends_before_it_starts_is_named(self, client, auditor) -> None:
        r = client.get(
            "/api/v1/documents/complaints-register",
            headers=auditor,
            params={"period_start": "2026-06-01", "period_end": "2026-01-01"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "period_end"

    def test_the_register_in_bokmal(self, client, session, auditor, programme) -> None:
        make_complaint(session, programme.id)
        r = client.get(
            "/api/v1/documents/complaints-register",
            headers=auditor,
            params={"language": "nb"},
        )
        assert r.status_code == 200

    def test_a_coordinator_issues_the_register_of_a_programme(
        self, client, session, coordinator, programme
    ) -> None:
        make_complaint(session, programme.id)
        whole = client.get("/api/v1/documents/complaints-register", headers=coordinator)
        assert whole.status_code == 403
        r = client.get(
            "/api/v1/documents/complaints-register",
            headers=coordinator,
            params={"programme_id": programme.id},
        )
        assert r.status_code == 200, r.text
        assert "1 complaint;" in docx_text(r.content)


class TestWhenItHappened:
    def test_a_move_made_earlier_is_dated_when_it_happened(self, client, lead, programme) -> None:
        received = (date.today() - timedelta(days=10)).isoformat()
        cid = receive(client, lead, programme.id, received_on=received).json()["id"]
        early = move(client, lead, cid, to="acknowledged", at=f"{received}T00:00:00+05:00")
        assert early.status_code == 422
        assert early.json()["errors"][0]["field"] == "at"
        future = (utcnow() + timedelta(days=1)).isoformat()
        assert move(client, lead, cid, to="acknowledged", at=future).status_code == 422
        at = (date.today() - timedelta(days=9)).isoformat() + "T09:30:00Z"
        r = move(client, lead, cid, to="acknowledged", at=at)
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_at"].startswith(at[:16])
        assert r.json()["acknowledgement_overdue"] is False
        before = move(
            client,
            lead,
            cid,
            to="answered",
            answer="Answered.",
            outcome="upheld",
            at=(date.today() - timedelta(days=10)).isoformat() + "T12:00:00Z",
        )
        assert before.status_code == 422
        assert before.json()["errors"][0]["field"] == "at"

    def test_on_the_page_in_the_organisations_time(self, client, session, programme) -> None:
        complaint = make_complaint(
            session, programme.id, received_on=date.today() - timedelta(days=3)
        )
        sign_in(client, web_user(session, Role.coordinator))
        page = client.get(f"/complaints/{complaint.id}")
        typed = (date.today() - timedelta(days=2)).isoformat() + "T10:15"
        r = client.post(
            f"/complaints/{complaint.id}/move",
            data={
                "csrf_token": csrf_of(page.text),
                "to": "acknowledged",
                "version": str(complaint.version),
                "at": typed,
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        session.refresh(complaint)
        from zoneinfo import ZoneInfo

        local = complaint.acknowledged_at.astimezone(ZoneInfo(get_settings().timezone))
        assert local.strftime("%Y-%m-%dT%H:%M") == typed
        wrong = client.post(
            f"/complaints/{complaint.id}/move",
            data={
                "csrf_token": csrf_of(page.text),
                "to": "withdrawn",
                "reason": "x",
                "version": str(complaint.version),
                "at": "2026-13-45T99:99",
            },
        )
        assert wrong.status_code == 422


class TestAuditTrail:
    def test_a_complaints_events_found_by_its_number_without_who_complained(
        self, client, session, programme
    ) -> None:
        complaint = make_complaint(
            session, programme.id, complainant={"name": SECRET_NAME, "email": SECRET_MAIL}
        )
        sign_in(client, web_user(session, Role.auditor))
        _, year, seq = complaint.number.split("-")
        page = client.get("/audit-trail", params={"record": f"cmp-{year}-{int(seq)}"})
        assert page.status_code == 200
        body = page.text.split("<tbody>", 1)[1]
        assert complaint.number in body
        assert f"{complaint.number} recorded" in body
        # Who complained is said to be recorded, not what it is.
        assert "name: changed (personal data, not shown)" in body
        assert "→ None" not in body
        assert SECRET_NAME not in page.text
        assert SECRET_MAIL not in page.text


class TestErasure:
    def test_who_complained_is_erased_for_good_and_the_complaint_stays(
        self, client, session, lead, coordinator, auditor, programme
    ) -> None:
        complaint = receive(client, lead, programme.id).json()
        url = f"/api/v1/complaints/{complaint['id']}/complainant"
        assert (
            client.post(f"{url}/erasure", headers=auditor, json={"reason": "x"}).status_code == 403
        )
        missing = client.post(f"{url}/erasure", headers=coordinator, json={})
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["field"] == "reason"
        r = client.post(f"{url}/erasure", headers=coordinator, json={"reason": "She asked."})
        assert r.status_code == 200, r.text
        assert r.json()["name"] is None
        assert r.json()["erased_at"] is not None
        again = client.post(f"{url}/erasure", headers=coordinator, json={"reason": "Again."})
        assert again.status_code == 409
        version = client.get(url, headers=coordinator).headers["etag"]
        refill = client.put(
            url, headers={**coordinator, "If-Match": version}, json={"name": SECRET_NAME}
        )
        assert refill.status_code == 409
        body = client.get(f"/api/v1/complaints/{complaint['id']}", headers=lead).json()
        assert body["subject"] == complaint["subject"]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "complaint.complainant_erased")
        ).one()
        assert event.reason == "She asked."
        assert event.changes["complainant_name"] == {"changed": True}
        assert SECRET_NAME not in str(event.changes)
        # The records still hold to their events.
        from qms import replay

        result = replay.check(session)
        assert result.ok, [f.message("en") for f in result.first_findings]

    def test_erased_on_the_page(self, client, session, programme) -> None:
        complaint = make_complaint(session, programme.id, complainant={"name": SECRET_NAME})
        sign_in(client, web_user(session, Role.quality_lead))
        page = client.get(f"/complaints/{complaint.id}")
        assert SECRET_NAME in page.text
        refused = client.post(
            f"/complaints/{complaint.id}/complainant/erase",
            data={"csrf_token": csrf_of(page.text)},
        )
        assert refused.status_code == 422
        assert error_beside(refused.text, "erase-reason")
        done = client.post(
            f"/complaints/{complaint.id}/complainant/erase",
            data={"csrf_token": csrf_of(page.text), "reason": "He asked to be forgotten."},
            follow_redirects=False,
        )
        assert done.status_code == 303
        after = client.get(f"/complaints/{complaint.id}")
        assert SECRET_NAME not in after.text
        assert "Disposed of on" in after.text


class TestReminders:
    def test_a_complaint_past_its_limit_is_an_overdue_reminder(self, session, programme) -> None:
        from qms.accounts import repository as users
        from qms.notifications import service as notifications
        from qms.notifications.models import ReminderKind

        late = make_complaint(session, programme.id, received_on=date.today() - timedelta(days=9))
        fresh = make_complaint(session, programme.id)
        make_token(session, Role.coordinator, name="kari-complaints")
        user = users.get_user_by_name(session, "kari-complaints")
        assert user is not None
        found = notifications.found_for(
            session, user=user, on=date.today(), now=utcnow(), horizon_days=7
        )
        kinds = {(r.record, r.record_id): r.kind for r in found if r.record == "complaint"}
        assert kinds[("complaint", late.id)] is ReminderKind.overdue
        assert kinds[("complaint", fresh.id)] is ReminderKind.due_soon
