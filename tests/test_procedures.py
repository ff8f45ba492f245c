"""Controlled procedures: the library, versions, signed approval, immutability, review, sync."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from qms.audit.models import AuditEvent
from qms.errors import Conflict, ValidationFailed
from qms.permissions import Actor, Role
from qms.procedures import service
from qms.procedures.models import Procedure, ProcedureVersion
from qms.procedures.schemas import DraftUpdate, VersionDraft, VersionTransition
from qms.resources import procedures_dir
from qms.signatures.service import confirmation_of, content_hash
from tests.factories import auth, make_deviation, make_token, signed, signing

BODY = "# Exit interviews\n\n## Purpose\nLearn why participants leave early.\n"
NEW = {
    "code": "PR-15",
    "title": "Exit interviews",
    "owner_role": "coordinator",
    "review_months": 12,
    "iso_clauses": ["9.1.2"],
    "requirements": ["MENTOR:closure"],
    "content": BODY,
    "change_summary": "First issue",
}


@pytest.fixture
def author(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-author"))


@pytest.fixture
def approver(session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-approver"))


def _version(client, headers, pid, n):
    r = client.get(f"/api/v1/procedures/{pid}/versions/{n}", headers=headers)
    return r.json(), r.headers.get("etag")


def _move(client, headers, pid, n, **body):
    _, etag = _version(client, headers, pid, n)
    return client.post(
        f"/api/v1/procedures/{pid}/versions/{n}/transitions",
        headers={**headers, "If-Match": etag},
        # Approving signs: the helper confirms it as the signer would.
        json={**signing("procedure_version", body.get("to", "")), **body},
    )


def _approved(client, author, approver) -> int:
    pid = client.post("/api/v1/procedures", headers=author, json=NEW).json()["id"]
    assert _move(client, author, pid, 1, to="in_review").status_code == 200
    assert _move(client, approver, pid, 1, to="approved").status_code == 200
    return pid


class TestRefusalsInBokmal:
    def test_an_unknown_procedure_is_named_in_bokmal(self, client, session) -> None:
        headers = {**auth(make_token(session, Role.auditor)), "Accept-Language": "nb"}
        r = client.get("/api/v1/procedures/424242", headers=headers)
        assert r.status_code == 404
        assert r.json()["title"] == "Not found"
        assert r.json()["detail"] == "Det finnes ingen prosedyre med id 424242."


class TestLibrary:
    def test_the_library_has_the_fourteen_procedures_with_their_sections(self) -> None:
        from qms.procedures.library import load_folder

        files = load_folder(procedures_dir())
        assert [f.code for f in files] == [f"PR-{n:02d}" for n in range(1, 15)]
        for f in files:
            for section in (
                "## Purpose",
                "## Scope",
                "## Responsibilities",
                "## Steps",
                "## Records kept",
                "## How compliance is measured",
            ):
                assert section in f.document.content, (f.code, section)
            assert f.document.iso_clauses
            assert f.document.requirements


class TestSync:
    def test_a_second_sync_changes_nothing(self, session) -> None:
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        first = service.sync(session, actor=lead, folder=procedures_dir())
        assert first.count("created") == 14
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        second = service.sync(session, actor=lead, folder=procedures_dir())
        assert second.count("unchanged") == 14
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events

    def test_a_changed_file_makes_a_new_draft(self, session, tmp_path) -> None:
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        folder = tmp_path / "library"
        shutil.copytree(procedures_dir(), folder)
        service.sync(session, actor=lead, folder=folder)
        path = folder / "PR-05-matching.md"
        path.write_text(
            path.read_text() + "\n7. Ask both sides after a month how the match works.\n"
        )
        report = service.sync(session, actor=lead, folder=folder)
        [changed] = [i for i in report.items if i.result != "unchanged"]
        assert (changed.code, changed.result) == ("PR-05", "draft updated")

    def _approve_a_change_elsewhere(self, session, folder) -> tuple[Actor, Procedure]:
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        service.sync(session, actor=lead, folder=folder)
        procedure = service.get_by_code(session, "PR-05")
        assert procedure is not None
        writer = Actor(user_id=None, name="writer", role=Role.quality_lead)
        signer = Actor(user_id=None, name="signer", role=Role.quality_lead)
        first = procedure.versions[0]
        for to in ("in_review", "approved"):
            service.transition(
                session,
                actor=signer,
                procedure_id=procedure.id,
                number=1,
                data=VersionTransition(to=to, **confirmation_of("procedure_version", to)),
                if_match=first.version,
            )
        document = service.document_of(first).model_dump()
        document["content"] += "\n7. Ask both sides after a month how the match works.\n"
        draft = service.new_draft(
            session,
            actor=writer,
            procedure_id=procedure.id,
            data=VersionDraft(**document, change_summary="Ask after a month"),
        )
        for to in ("in_review", "approved"):
            service.transition(
                session,
                actor=signer,
                procedure_id=procedure.id,
                number=2,
                data=VersionTransition(to=to, **confirmation_of("procedure_version", to)),
                if_match=draft.version,
            )
        return lead, procedure

    def test_an_approved_change_made_elsewhere_stays(self, session, tmp_path) -> None:
        folder = tmp_path / "library"
        shutil.copytree(procedures_dir(), folder)
        lead, procedure = self._approve_a_change_elsewhere(session, folder)
        report = service.sync(session, actor=lead, folder=folder)
        [item] = [i for i in report.items if i.code == "PR-05"]
        assert item.result == "changed elsewhere"
        assert item.version == 2
        assert [(v.number, v.status.value) for v in procedure.versions] == [
            (1, "superseded"),
            (2, "approved"),
        ]
        assert report.count("unchanged") == 13
        # Said once: the next sync still says so, and writes nothing.
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        again = service.sync(session, actor=lead, folder=folder)
        assert [i.result for i in again.items if i.code == "PR-05"] == ["changed elsewhere"]
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events

    def test_a_file_changed_too_is_not_drafted_over_the_change(self, session, tmp_path) -> None:
        folder = tmp_path / "library"
        shutil.copytree(procedures_dir(), folder)
        lead, procedure = self._approve_a_change_elsewhere(session, folder)
        path = folder / "PR-05-matching.md"
        path.write_text(path.read_text() + "\n8. Tell the coordinator.\n")
        report = service.sync(session, actor=lead, folder=folder)
        [item] = [i for i in report.items if i.code == "PR-05"]
        assert (item.result, item.version) == ("changed elsewhere", 2)
        assert item.detail
        assert len(procedure.versions) == 2

    def test_a_procedure_synced_before_the_baseline_was_kept_is_not_reverted(
        self, session, tmp_path
    ) -> None:
        folder = tmp_path / "library"
        shutil.copytree(procedures_dir(), folder)
        lead, procedure = self._approve_a_change_elsewhere(session, folder)
        session.execute(text("UPDATE procedure SET synced_sha256 = NULL"))
        session.expire_all()
        report = service.sync(session, actor=lead, folder=folder)
        [item] = [i for i in report.items if i.code == "PR-05"]
        assert item.result == "changed elsewhere"
        assert len(procedure.versions) == 2
        assert report.count("unchanged") == 13

    def test_a_file_changed_after_an_approval_makes_a_draft(self, session, tmp_path) -> None:
        folder = tmp_path / "library"
        shutil.copytree(procedures_dir(), folder)
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        service.sync(session, actor=lead, folder=folder)
        procedure = service.get_by_code(session, "PR-05")
        assert procedure is not None
        signer = Actor(user_id=None, name="signer", role=Role.quality_lead)
        for to in ("in_review", "approved"):
            service.transition(
                session,
                actor=signer,
                procedure_id=procedure.id,
                number=1,
                data=VersionTransition(to=to, **confirmation_of("procedure_version", to)),
                if_match=procedure.versions[0].version,
            )
        path = folder / "PR-05-matching.md"
        path.write_text(path.read_text() + "\n8. Tell the coordinator.\n")
        report = service.sync(session, actor=lead, folder=folder)
        [item] = [i for i in report.items if i.code == "PR-05"]
        assert (item.result, item.version) == ("drafted", 2)
        assert service.sync(session, actor=lead, folder=folder).count("unchanged") == 14

    def test_broken_front_matter_and_duplicates_are_named_by_file_and_line(
        self, session, tmp_path
    ) -> None:
        folder = tmp_path / "library"
        shutil.copytree(procedures_dir(), folder)
        (folder / "PR-99-broken.md").write_text("---\ncode: PR-99\ntitle: [unclosed\n---\nText\n")
        (folder / "PR-98-copy.md").write_text((folder / "PR-05-matching.md").read_text())
        (folder / "PR-97-role.md").write_text(
            "---\ncode: PR-97\ntitle: T\nowner_role: boss\nreview_months: 12\n---\nText\n"
        )
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        with pytest.raises(ValidationFailed) as info:
            service.sync(session, actor=lead, folder=folder)
        found = {(e.field, e.row) for e in info.value.errors}
        assert ("PR-99-broken.md", 3) in found  # the title line
        assert ("PR-98-copy.md", 2) in found
        assert ("PR-97-role.md", 4) in found
        assert session.scalars(select(Procedure)).all() == []


class TestVersions:
    def test_approval_is_by_another_person_signed_over_the_content(
        self, client, session, author, approver
    ) -> None:
        pid = client.post("/api/v1/procedures", headers=author, json=NEW).json()["id"]
        assert _move(client, author, pid, 1, to="in_review").status_code == 200
        assert _move(client, author, pid, 1, to="approved").status_code == 403
        r = _move(client, approver, pid, 1, to="approved")
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "approved"
        assert body["effective_from"] == str(date.today())
        [signature] = body["signatures"]
        assert (signature["meaning"], signature["signer"]) == ("approved", "lead-approver")
        assert signature["content_sha256"] == content_hash(
            {
                "code": "PR-15",
                "number": 1,
                "sha256": body["content_sha256"],
                "statement": signature["statement"],
            }
        )
        assert signature["statement"].startswith("I approve PR-15 version 1 (")
        content = client.get(f"/api/v1/procedures/{pid}/versions/1/content", headers=author)
        assert content.headers["content-type"].startswith("text/markdown")
        assert content.headers["x-content-sha256"] == body["content_sha256"]
        assert content.text.startswith("---\ncode: PR-15\n")
        assert BODY in content.text

    def test_change_requested_sends_it_back_with_a_reason(self, client, author, approver) -> None:
        pid = client.post("/api/v1/procedures", headers=author, json=NEW).json()["id"]
        _move(client, author, pid, 1, to="in_review")
        assert _move(client, approver, pid, 1, to="draft").status_code == 422
        r = _move(client, approver, pid, 1, to="draft", reason="Say who holds the interview")
        assert r.json()["status"] == "draft"

    def test_approving_the_next_version_supersedes_the_one_before(
        self, client, session, author, approver
    ) -> None:
        pid = _approved(client, author, approver)
        r = client.post(
            f"/api/v1/procedures/{pid}/versions",
            headers=author,
            json={
                **{k: v for k, v in NEW.items() if k != "code"},
                "content": BODY + "Hold it within two weeks.\n",
                "change_summary": "Timing",
            },
        )
        assert r.status_code == 201
        again = client.post(
            f"/api/v1/procedures/{pid}/versions",
            headers=author,
            json={**{k: v for k, v in NEW.items() if k != "code"}},
        )
        assert again.status_code == 409  # one draft at a time
        _move(client, author, pid, 2, to="in_review")
        _move(client, approver, pid, 2, to="approved")
        versions = client.get(f"/api/v1/procedures/{pid}/versions", headers=author).json()
        assert [(v["number"], v["status"]) for v in versions] == [
            (1, "superseded"),
            (2, "approved"),
        ]
        master = client.get(f"/api/v1/procedures/{pid}", headers=author).json()
        assert master["effective_version"] == 2
        d = client.get(f"/api/v1/procedures/{pid}/diff?from=1&to=2", headers=author).json()
        assert "+Hold it within two weeks." in d["diff"]
        assert "-version: 1" in d["diff"]
        assert _move(client, approver, pid, 1, to="superseded").status_code == 409

    def test_an_approved_version_never_changes(self, client, session, author, approver) -> None:
        pid = _approved(client, author, approver)
        _, etag = _version(client, author, pid, 1)
        r = client.patch(
            f"/api/v1/procedures/{pid}/versions/1",
            headers={**author, "If-Match": etag},
            json={"content": "Rewritten quietly"},
        )
        assert r.status_code == 409
        lead = Actor(user_id=None, name="lead", role=Role.quality_lead)
        with pytest.raises(Conflict):
            service.update_draft(
                session,
                actor=lead,
                procedure_id=pid,
                number=1,
                data=DraftUpdate(content="Rewritten quietly"),
                if_match=int(etag.strip('"')),
            )
        with pytest.raises(DatabaseError, match="immutable"), session.begin_nested():
            session.execute(
                text("UPDATE procedure_version SET content = 'Rewritten' WHERE procedure_id = :p"),
                {"p": pid},
            )
        assert (
            BODY in client.get(f"/api/v1/procedures/{pid}/versions/1/content", headers=author).text
        )

    def test_a_review_without_change_is_signed_and_moves_the_date(
        self, client, session, author, approver
    ) -> None:
        pid = _approved(client, author, approver)
        session.execute(
            text("UPDATE procedure_version SET next_review_on = :d WHERE procedure_id = :p"),
            {"d": date.today() - timedelta(days=1), "p": pid},
        )
        due = client.get("/api/v1/procedures?review_due=true", headers=author).json()
        assert [p["code"] for p in due] == ["PR-15"]
        r = client.post(
            f"/api/v1/procedures/{pid}/review",
            headers=approver,
            json={"comment": "ok", "signature": signed("reviewed")},
        )
        assert r.status_code == 200
        assert [s["meaning"] for s in r.json()["signatures"]] == ["approved", "reviewed"]
        assert r.json()["next_review_on"] > str(date.today())
        assert client.get("/api/v1/procedures?review_due=true", headers=author).json() == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"title": ""}, "title"),
            ({"code": "pr 15"}, "code"),
            ({"owner_role": "boss"}, "owner_role"),
            ({"review_months": 0}, "review_months"),
            ({"content": ""}, "content"),
        ],
    )
    def test_bad_input_names_the_field(self, client, session, author, change, field) -> None:
        r = client.post("/api/v1/procedures", headers=author, json={**NEW, **change})
        assert r.status_code == 422
        assert field in {e["field"] for e in r.json()["errors"]}
        assert session.scalars(select(ProcedureVersion)).all() == []


class TestPermissionsAndLinks:
    @pytest.mark.parametrize(
        ("role", "read", "write"),
        [(Role.coordinator, 200, 403), (Role.auditor, 200, 403), (Role.importer, 403, 403)],
    )
    def test_who_reads_and_who_writes(self, client, session, author, approver, role, read, write):
        pid = _approved(client, author, approver)
        headers = auth(make_token(session, role))
        assert client.get(f"/api/v1/procedures/{pid}/versions", headers=headers).status_code == read
        assert (
            client.post(
                "/api/v1/procedures", headers=headers, json={**NEW, "code": "PR-16"}
            ).status_code
            == write
        )

    def test_a_procedure_shows_its_deviations(self, client, session, author, approver) -> None:
        pid = _approved(client, author, approver)
        version_id = client.get(f"/api/v1/procedures/{pid}/versions/1", headers=author).json()["id"]
        deviation = make_deviation(session, procedure_version_id=version_id)
        make_deviation(session)
        listed = client.get(f"/api/v1/procedures/{pid}/deviations", headers=author).json()
        assert [d["number"] for d in listed] == [deviation.number]
        filtered = client.get(f"/api/v1/deviations?procedure_id={pid}", headers=author).json()[
            "items"
        ]
        assert [d["id"] for d in filtered] == [deviation.id]
        r = client.post(
            "/api/v1/deviations",
            headers=author,
            json={
                "kind": "observation",
                "source": "self_reported",
                "severity": "minor",
                "title": "t",
                "description": "d",
                "procedure_version_id": 999_999,
            },
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "procedure_version_id"
