"""Evidence files: uploaded to a record, kept by SHA-256 in the database, downloaded byte for byte,
refused when their content is not an allowed type or too large, fixed once the record closes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from datetime import date

import docx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from qms import replay
from qms.audit.models import AuditEvent
from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.schemas import AuditCreate, ChecklistLineCreate, ReviewCreate
from qms.config import get_settings
from qms.evidence.models import EvidenceBlob, EvidenceFile
from qms.permissions import Role
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureCreate
from qms.retention import service as retention
from qms.retention.schemas import DispositionCreate
from tests.factories import (
    ADMIN,
    auth,
    make_action,
    make_deviation,
    make_programme,
    make_token,
    make_user,
    signing,
)
from tests.web import csrf_of, error_beside, sign_in, web_user


def pdf_bytes(words: str = "Minutes of the follow-up") -> bytes:
    """A one-page PDF with its cross-reference table, as a PDF writer makes one."""
    stream = f"BT /F1 12 Tf 72 720 Td ({words}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A small RGB PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    """A Word document with one paragraph."""
    document = docx.Document()
    document.add_paragraph("Signed attendance list of the mentor training, 12 March.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


CSV = b"pair,meetings\nP-0001,2\nP-0002,1\n"


@pytest.fixture
def lead(session: Session) -> dict[str, str]:
    return auth(make_token(session, Role.quality_lead, name="lead-ingrid"))


@pytest.fixture
def auditor(session: Session) -> dict[str, str]:
    return auth(make_token(session, Role.auditor, name="auditor-per"))


def upload(client, headers, path: str, name: str, content: bytes, **form):
    return client.post(
        path,
        headers=headers,
        files={"file": (name, content, "application/octet-stream")},
        data=form,
    )


def _move(client, headers, deviation_id: int, **body):
    version = client.get(f"/api/v1/deviations/{deviation_id}", headers=headers).headers["etag"]
    return client.post(
        f"/api/v1/deviations/{deviation_id}/transitions",
        headers={**headers, "If-Match": version},
        json={**signing("deviation", body.get("to", "")), **body},
    )


class TestUploadAndDownload:
    @pytest.mark.parametrize(
        ("name", "make", "media_type"),
        [
            ("minutes.pdf", pdf_bytes, "application/pdf"),
            (
                "attendance.docx",
                docx_bytes,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("meeting-log.png", png_bytes, "image/png"),
            ("meetings.csv", lambda: CSV, "text/csv"),
        ],
    )
    def test_a_file_comes_back_byte_for_byte_with_its_hash(
        self, client, session, lead, name, make, media_type
    ) -> None:
        content = make()
        d = make_deviation(session)
        r = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", name, content)
        assert r.status_code == 201, r.text
        body = r.json()
        sha256 = hashlib.sha256(content).hexdigest()
        assert body["sha256"] == sha256
        assert body["media_type"] == media_type
        assert body["file_name"] == name
        assert body["size"] == len(content)
        got = client.get(body["download"], headers=lead)
        assert got.status_code == 200
        assert got.content == content
        assert got.headers["x-content-sha256"] == sha256
        assert got.headers["content-type"].startswith(media_type)
        assert f"filename*=UTF-8''{name}" in got.headers["content-disposition"]
        listed = client.get(f"/api/v1/deviations/{d.id}/evidence", headers=lead).json()
        assert [(f["file_name"], f["sha256"]) for f in listed] == [(name, sha256)]

    def test_the_same_content_twice_is_kept_once(self, client, session, lead) -> None:
        first, second = make_deviation(session), make_deviation(session)
        content = pdf_bytes("kept once")
        for d in (first, second):
            r = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "a.pdf", content)
            assert r.status_code == 201
        sha256 = hashlib.sha256(content).hexdigest()
        assert session.scalar(select(func.count()).where(EvidenceBlob.sha256 == sha256)) == 1
        assert session.scalar(select(func.count()).where(EvidenceFile.sha256 == sha256)) == 2

    def test_a_name_is_kept_without_its_folders_and_with_its_real_ending(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session)
        r = upload(
            client, lead, f"/api/v1/deviations/{d.id}/evidence", "../../etc/Møte|plan*.txt", CSV
        )
        assert r.status_code == 201, r.text
        assert r.json()["file_name"] == "Møte_plan_.txt.csv"

    def test_an_action_takes_files_of_its_completion_and_its_verification(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session)
        a = make_action(session, [d], make_user(session, Role.coordinator))
        path = f"/api/v1/actions/{a.id}/evidence"
        done = upload(client, lead, path, "done.pdf", pdf_bytes("done"), purpose="completion")
        checked = upload(client, lead, path, "check.png", png_bytes(), purpose="verification")
        assert (done.status_code, checked.status_code) == (201, 201)
        listed = client.get(path, headers=lead).json()
        assert [f["purpose"] for f in listed] == ["completion", "verification"]
        wrong = upload(client, lead, path, "x.pdf", pdf_bytes(), purpose="decoration")
        assert wrong.status_code == 422


class TestRefused:
    def test_a_program_is_refused_naming_the_file_field(self, client, session, lead) -> None:
        d = make_deviation(session)
        exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
        r = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "report.exe", exe)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["file"]
        assert session.scalar(select(func.count()).select_from(EvidenceFile)) == 0

    def test_a_web_page_named_pdf_is_refused(self, client, session, lead) -> None:
        d = make_deviation(session)
        page = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
        r = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "minutes.pdf", page)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "file"
        assert "PDF" in r.json()["errors"][0]["message"]

    @pytest.mark.skipif(
        shutil.which("soffice") is None and os.environ.get("QMS_REQUIRE_OFFICE") != "1",
        reason="LibreOffice missing (Debian: libreoffice-writer-nogui)",
    )
    def test_a_word_97_document_as_office_writes_it_is_taken(
        self, client, session, lead, tmp_path
    ) -> None:
        source = tmp_path / "attendance.docx"
        source.write_bytes(docx_bytes())
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                "--headless",
                "--convert-to",
                "doc",
                "--outdir",
                str(tmp_path),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        content = (tmp_path / "attendance.doc").read_bytes()
        d = make_deviation(session)
        r = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "attendance.doc", content)
        assert r.status_code == 201, r.text
        assert r.json()["media_type"] == "application/msword"
        assert client.get(r.json()["download"], headers=lead).content == content

    @pytest.mark.parametrize(
        ("stream", "media_type", "ending"),
        [
            ("Workbook", "application/vnd.ms-excel", "xls"),
            ("PowerPoint Document", "application/vnd.ms-powerpoint", "ppt"),
        ],
    )
    def test_the_older_office_files_are_told_by_their_streams(
        self, stream, media_type, ending
    ) -> None:
        from qms.evidence.sniff import safe_name, sniff

        # A compound file's header, then a directory entry naming the application's stream.
        content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + stream.encode("utf-16-le")
        assert sniff(content, "x") == media_type
        assert safe_name("budget", media_type) == f"budget.{ending}"
        # An OLE2 file that is none of them stays refused.
        assert sniff(content[:512] + "Contents".encode("utf-16-le"), "x") is None

    def test_a_zip_that_is_no_office_file_is_refused(self, client, session, lead) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("payload.bin", b"\x00" * 10)
        d = make_deviation(session)
        r = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "a.docx", out.getvalue())
        assert r.status_code == 422

    def test_a_file_over_the_limit_is_refused_naming_it(
        self, client, session, lead, monkeypatch
    ) -> None:
        monkeypatch.setenv("QMS_EVIDENCE_MAX_BYTES", "1000")
        get_settings.cache_clear()
        try:
            d = make_deviation(session)
            path = f"/api/v1/deviations/{d.id}/evidence"
            r = upload(client, lead, path, "big.csv", b"a,b\n" * 251)
            assert r.status_code == 413
            assert "1000" in r.json()["detail"]
            assert upload(client, lead, path, "fits.csv", b"a,b\n" * 250).status_code == 201
        finally:
            monkeypatch.delenv("QMS_EVIDENCE_MAX_BYTES")
            get_settings.cache_clear()

    def test_an_auditor_cannot_upload_but_can_download(
        self, client, session, lead, auditor
    ) -> None:
        d = make_deviation(session)
        path = f"/api/v1/deviations/{d.id}/evidence"
        assert upload(client, auditor, path, "a.pdf", pdf_bytes()).status_code == 403
        kept = upload(client, lead, path, "a.pdf", pdf_bytes()).json()
        assert client.get(kept["download"], headers=auditor).content == pdf_bytes()
        assert client.delete(f"/api/v1/evidence/{kept['id']}", headers=auditor).status_code == 403


class TestFixedOnceClosed:
    def test_a_closed_deviations_files_cannot_be_added_or_removed(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session)
        path = f"/api/v1/deviations/{d.id}/evidence"
        kept = upload(client, lead, path, "a.pdf", pdf_bytes()).json()
        _move(client, lead, d.id, to="investigating")
        closed = _move(
            client, lead, d.id, to="closed", closure_summary="s", no_action_reason="none needed"
        )
        assert closed.status_code == 200, closed.text
        added = upload(client, lead, path, "b.pdf", pdf_bytes("late"))
        assert added.status_code == 409
        assert d.number in added.json()["detail"]
        assert "closed" in added.json()["detail"]
        removed = client.delete(f"/api/v1/evidence/{kept['id']}", headers=lead)
        assert removed.status_code == 409
        assert client.get(kept["download"], headers=lead).content == pdf_bytes()

    def test_an_open_deviations_file_is_removed_with_an_event(self, client, session, lead) -> None:
        d = make_deviation(session)
        kept = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "a.csv", CSV).json()
        assert client.delete(f"/api/v1/evidence/{kept['id']}", headers=lead).status_code == 204
        assert client.get(kept["download"], headers=lead).status_code == 404
        assert session.get(EvidenceBlob, kept["sha256"]) is None
        history = client.get(f"/api/v1/deviations/{d.id}/history", headers=lead).json()
        assert history[-1]["action"] == "evidence.removed"
        assert history[-1]["changes"]["sha256"]["old"] == kept["sha256"]

    def test_a_stored_file_is_never_rewritten(self, client, session, lead) -> None:
        d = make_deviation(session)
        kept = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "a.csv", CSV).json()
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(
                text("UPDATE evidence_blob SET content = :c WHERE sha256 = :h"),
                {"c": b"x,y\n1,2\n", "h": kept["sha256"]},
            )
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(
                text("UPDATE evidence_file SET file_name = 'other.csv' WHERE id = :i"),
                {"i": kept["id"]},
            )


class TestAudited:
    def test_each_upload_is_an_event_on_the_records_timeline(self, client, session, lead) -> None:
        d = make_deviation(session)
        content = pdf_bytes()
        kept = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "a.pdf", content)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "evidence.attached")
        ).one()
        assert (event.entity, event.entity_id, event.actor) == (
            "deviation",
            str(d.id),
            "lead-ingrid",
        )
        assert event.changes["sha256"]["new"] == hashlib.sha256(content).hexdigest()
        assert event.changes["file_name"]["new"] == "a.pdf"
        assert event.changes["evidence_file"]["new"] == kept.json()["id"]


def _document_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


class TestInDocuments:
    def test_the_deviation_report_lists_the_files_with_their_hashes(
        self, client, session, lead
    ) -> None:
        d = make_deviation(session)
        a = make_action(session, [d], make_user(session, Role.coordinator))
        on_deviation = upload(
            client, lead, f"/api/v1/deviations/{d.id}/evidence", "minutes.pdf", pdf_bytes()
        ).json()
        on_action = upload(
            client, lead, f"/api/v1/actions/{a.id}/evidence", "log.csv", CSV, purpose="completion"
        ).json()
        r = client.get(f"/api/v1/documents/deviation-report/{d.id}", headers=lead)
        assert r.status_code == 200, r.text
        text = _document_text(r.content)
        assert "Evidence files" in text
        for kept in (on_deviation, on_action):
            assert kept["file_name"] in text
            assert kept["sha256"] in text
        assert "completion" in text

    def test_an_audit_reviews_and_procedures_documents_list_their_files(
        self, client, session, lead
    ) -> None:
        make_user(session, Role.quality_lead, name="auditor-kari")
        make_user(session, Role.coordinator, name="coordinator-ola")
        audit = audits.create(
            session,
            actor=ADMIN,
            data=AuditCreate(
                title="Matching",
                scope="Matching and follow-up.",
                criteria=["MENTOR:monitoring"],
                auditors=["auditor-kari"],
                auditees=["coordinator-ola"],
                start_on=date(2026, 6, 1),
                end_on=date(2026, 6, 2),
            ),
        )
        line = audits.add_line(
            session,
            actor=ADMIN,
            audit_id=audit.id,
            data=ChecklistLineCreate(question="Are the matches' reasons written down?"),
        )
        review = reviews.create(
            session,
            actor=ADMIN,
            data=ReviewCreate(
                title="Review of the year",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 6, 30),
                planned_on=date(2026, 9, 1),
            ),
        )
        procedure = procedures.create(
            session,
            actor=ADMIN,
            data=ProcedureCreate(
                code="PR-77",
                title="Matching",
                owner_role=Role.quality_lead,
                review_months=12,
                content="Pairs are matched on their goals.",
                change_summary="First issue",
            ),
        )
        session.flush()
        cases = [
            (
                f"/api/v1/audits/{audit.id}/lines/{line.id}/evidence",
                "matching-notes.csv",
                CSV,
                f"/api/v1/documents/audit-report/{audit.id}",
            ),
            (
                f"/api/v1/reviews/{review.id}/evidence",
                "minutes.pdf",
                pdf_bytes("review minutes"),
                f"/api/v1/documents/management-review/{review.id}",
            ),
            (
                f"/api/v1/procedures/{procedure.id}/evidence",
                "matching-form.docx",
                docx_bytes(),
                f"/api/v1/documents/procedure/{procedure.id}?version=1",
            ),
        ]
        for path, name, content, document in cases:
            kept = upload(client, lead, path, name, content)
            assert kept.status_code == 201, kept.text
            r = client.get(document, headers=lead)
            assert r.status_code == 200, r.text
            text = _document_text(r.content)
            assert name in text
            assert hashlib.sha256(content).hexdigest() in text
        wrong_audit = f"/api/v1/audits/{audit.id + 1000}/lines/{line.id}/evidence"
        assert client.get(wrong_audit, headers=lead).status_code == 404

    def test_the_audit_pack_holds_the_files_and_their_hashes(self, client, session, lead) -> None:
        p = make_programme(session)
        d = make_deviation(session, programme_id=p.id)
        content = pdf_bytes("evidence in the pack")
        kept = upload(
            client, lead, f"/api/v1/deviations/{d.id}/evidence", "minutes.pdf", content
        ).json()
        r = client.get(f"/api/v1/documents/audit-pack?programme_id={p.id}", headers=lead)
        assert r.status_code == 200, r.text
        pack = zipfile.ZipFile(io.BytesIO(r.content))
        name = f"Evidence/{d.number}/{kept['id']} minutes.pdf"
        assert pack.read(name) == content
        manifest = json.loads(pack.read("manifest.json"))
        assert manifest["files"][name] == hashlib.sha256(content).hexdigest()
        index = next(n for n in pack.namelist() if n.startswith("00 "))
        listed = _document_text(pack.read(index))
        assert name in listed
        assert kept["sha256"] in listed


class TestRetention:
    def test_a_disposed_deviations_files_go_with_it(self, client, session, lead) -> None:
        d = make_deviation(session)
        content = pdf_bytes("to be disposed of")
        kept = upload(client, lead, f"/api/v1/deviations/{d.id}/evidence", "a.pdf", content)
        other = make_deviation(session)
        shared = upload(
            client, lead, f"/api/v1/deviations/{other.id}/evidence", "b.pdf", content
        ).json()
        _move(client, lead, d.id, to="investigating")
        _move(client, lead, d.id, to="closed", closure_summary="s", no_action_reason="none needed")
        session.expire_all()  # closed through the API since it was read here
        retention.dispose(
            session,
            actor=ADMIN,
            data=DispositionCreate(
                kind="deviation", reason="Kept ten years since closing.", record_ids=[d.id]
            ),
            # Long after the deviation's keeping time, wherever the clock stands.
            as_of=date.today().replace(year=date.today().year + 20, day=1),
        )
        assert client.get(kept.json()["download"], headers=lead).status_code == 404
        assert client.get(f"/api/v1/deviations/{d.id}/evidence", headers=lead).json() == []
        # The same bytes attached to another record stay for it.
        assert client.get(shared["download"], headers=lead).content == content


class TestReplay:
    def test_a_records_files_leave_its_replay_clean(self, client, session, lead) -> None:
        d = make_deviation(session)
        path = f"/api/v1/deviations/{d.id}/evidence"
        kept = upload(client, lead, path, "a.pdf", pdf_bytes()).json()
        upload(client, lead, path, "b.csv", CSV)
        assert client.delete(f"/api/v1/evidence/{kept['id']}", headers=lead).status_code == 204
        session.expire_all()
        result = replay.check(session)
        assert [f for f in result.first_findings if f.entity == "deviation"] == []


class TestCommandLine:
    def test_qms_attach_keeps_the_file_and_prints_its_hash(
        self, fresh_db, monkeypatch, tmp_path
    ) -> None:
        from typer.testing import CliRunner

        from qms.cli import app

        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        get_settings.cache_clear()
        try:
            with fresh_db.unit_of_work() as session:
                number = make_deviation(session).number
            minutes = tmp_path / "minutes.pdf"
            minutes.write_bytes(pdf_bytes("from the command line"))
            runner = CliRunner()
            result = runner.invoke(app, ["attach", number, str(minutes)])
            assert result.exit_code == 0, (result.stdout, result.stderr)
            assert result.stdout.strip() == hashlib.sha256(minutes.read_bytes()).hexdigest()
            assert number in result.stderr
            page = tmp_path / "page.pdf"
            page.write_bytes(b"<html><body>not a pdf</body></html>")
            refused = runner.invoke(app, ["attach", number, str(page)])
            assert refused.exit_code != 0
            with fresh_db.unit_of_work(write=False) as session:
                kept = session.scalars(select(EvidenceFile)).all()
                assert [(f.file_name, f.record) for f in kept] == [("minutes.pdf", "deviation")]
        finally:
            get_settings.cache_clear()


class TestPages:
    def test_a_file_attached_on_the_page_is_listed_and_downloaded(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        d = make_deviation(session)
        sign_in(client, name)
        page = client.get(f"/deviations/{d.id}")
        assert "Evidence files" in page.text
        content = pdf_bytes("attached on the page")
        posted = client.post(
            f"/deviations/{d.id}/evidence",
            data={"csrf_token": csrf_of(page.text)},
            files={"file": ("minutes.pdf", content, "application/pdf")},
            follow_redirects=False,
        )
        assert posted.status_code == 303, posted.text
        shown = client.get(f"/deviations/{d.id}").text
        sha256 = hashlib.sha256(content).hexdigest()
        assert "minutes.pdf" in shown
        assert sha256 in shown
        kept = session.scalars(select(EvidenceFile)).one()
        got = client.get(f"/evidence/{kept.id}")
        assert got.content == content
        assert got.headers["x-content-sha256"] == sha256

    def test_a_refused_file_is_named_beside_its_field(self, client, session) -> None:
        name = web_user(session, Role.quality_lead)
        d = make_deviation(session)
        a = make_action(session, [d], make_user(session, Role.coordinator))
        sign_in(client, name)
        page = client.get(f"/actions/{a.id}")
        refused = client.post(
            f"/actions/{a.id}/evidence",
            data={"csrf_token": csrf_of(page.text), "purpose": "completion"},
            files={"file": ("tool.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")},
        )
        assert refused.status_code == 422
        assert error_beside(refused.text, "evidence-file")
        assert session.scalars(select(EvidenceFile)).all() == []
