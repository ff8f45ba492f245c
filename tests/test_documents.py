"""Documents, opened and read back as a reader's software would read them."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from docx import Document

from qms.accounts import service as accounts
from qms.audit.service import compute_hash
from qms.demo import load
from qms.deviations.repository import DeviationFilter
from qms.documents import service
from qms.documents.models import IssuedDocument
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text

NAMES = ("Amina Haddad", "Karin Lindqvist", "example.org")
ISSUE = re.compile(r"Issue \d+")


def _issue_free(content: bytes) -> str | bytes:
    """A document's text without its issue's number and moment (a file other than a .docx as
    it is)."""
    if not content.startswith(b"PK"):
        return content
    lines = docx_text(content).splitlines()
    return "\n".join(
        ISSUE.sub("Issue N", line)
        for line in lines
        if not line.startswith(("Issued on", "Issue number"))
    )


@pytest.fixture(scope="module")
def demo(new_database):
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        tokens = {}
        for role in (Role.auditor, Role.coordinator, Role.importer):
            name = f"docs-{role.value}"
            accounts.create_user(session, actor=ADMIN, name=name, role=role)
            tokens[role] = auth(accounts.create_token(session, actor=ADMIN, user_name=name).secret)
    return database, make_client(database), tokens


def _number(client: Any, headers: dict[str, str], path: str) -> str:
    """Return the number the record was given: its year is the clock's when it was made, not a
    year the test can know in advance."""
    r = client.get(f"/api/v1/{path}", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["number"])


class TestTheSet:
    def test_the_register_lists_every_deviation_with_its_status(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/deviation-register", headers=tokens[Role.auditor])
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert r.headers["content-disposition"].startswith(
            'attachment; filename="Deviation-register-'
        )
        text = docx_text(r.content)
        auditor = tokens[Role.auditor]
        for deviation_id in (1, 5):
            assert _number(client, auditor, f"deviations/{deviation_id}") in text
        assert "action required" in text
        assert "action_required" not in text
        second, third = (_number(client, auditor, f"actions/{n}") for n in (2, 3))
        assert f"{second} (Siri Bakke), {third} (Siri Bakke)" in text
        assert not any(name in text for name in NAMES)

    def test_the_deviation_report_carries_actions_timeline_and_signatures(self, demo) -> None:
        _, client, tokens = demo
        text = docx_text(
            client.get("/api/v1/documents/deviation-report/1", headers=tokens[Role.auditor]).content
        )
        assert _number(client, tokens[Role.auditor], "deviations/1") in text
        # The timeline reads as sentences, not event names.
        assert "Status: open → investigating" in text
        assert "deviation.transitioned" not in text
        assert "VIA-JOB · " in text  # the programme by its code and name, not its id
        assert "closed" in text
        # People by the names people read them by (the closing signature, the timeline), never
        # by the logins the records keep.
        assert "Ingrid Solberg" in text
        assert "demo-quality-lead" not in text
        report = docx_text(
            client.get("/api/v1/documents/deviation-report/5", headers=tokens[Role.auditor]).content
        )
        assert _number(client, tokens[Role.auditor], "actions/2") in report
        assert "verified effective" in report
        # The action's owner and who verified it, by display name.
        assert "Siri Bakke" in report
        assert not any(login in report for login in ("demo-coordinator", "demo-quality-lead"))

    def test_a_procedure_renders_its_markdown_with_control_block_and_signatures(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/procedure/5", headers=tokens[Role.auditor])
        doc = Document(io.BytesIO(r.content))
        headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
        assert {"Purpose", "Steps", "Records kept", "Revision history", "Signatures"} <= set(
            headings
        )
        numbered = [p for p in doc.paragraphs if p.style.name == "List Number"]
        assert numbered
        assert numbered[0].text.startswith("Match first on professional field")
        bold = [run.text for p in numbered for run in p.runs if run.bold]
        assert "professional field" in bold
        control = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
        assert control["Code"] == "PR-05"
        assert control["Status"] == "approved"
        assert control["Approved by"] == "Anders Lindqvist"
        text = docx_text(r.content)
        assert "Ingrid Solberg" in text  # the author, in the revision history
        assert "demo-quality-manager" not in text
        assert "demo-quality-lead" not in text

    def test_labels_in_norwegian(self, demo) -> None:
        _, client, tokens = demo
        text = docx_text(
            client.get(
                "/api/v1/documents/master-list?language=nb", headers=tokens[Role.auditor]
            ).content
        )
        assert "Oversikt over prosedyrer" in text
        assert "Side" in text
        assert "fra registreringer per" in text
        assert "PR-14" in text


class TestHouseStyle:
    def test_the_footer_has_page_fields_and_the_data_hash(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/master-list", headers=tokens[Role.auditor])
        doc = Document(io.BytesIO(r.content))
        footer_xml = doc.sections[0].footer._element.xml
        assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml  # noqa: PT018
        assert 'w:fldCharType="begin"' in footer_xml
        assert "data SHA-256" in docx_text(r.content)
        first_row = doc.tables[0].rows[0]._tr.xml
        assert "w:tblHeader" in first_row
        assert "w:cantSplit" in doc.tables[0].rows[1]._tr.xml


class TestIssued:
    def test_an_issued_document_comes_back_byte_for_byte(self, demo) -> None:
        _, client, tokens = demo
        first = client.get("/api/v1/documents/master-list", headers=tokens[Role.auditor])
        issued = first.headers["x-issued-document"]
        again = client.get(f"/api/v1/documents/issued/{issued}", headers=tokens[Role.auditor])
        assert again.content == first.content
        assert again.headers["x-content-sha256"] == first.headers["x-content-sha256"]

    @staticmethod
    def _issue_twice(
        database: Any, kind: str, as_of: datetime, **params: Any
    ) -> tuple[IssuedDocument, IssuedDocument]:
        """Issue the document, move the clock on an hour, and issue it again as of one moment."""
        with time_machine.travel(datetime.now(UTC), tick=True) as clock:
            with database.unit_of_work() as session:
                one = service.issue(session, actor=ADMIN, kind=kind, as_of=as_of, **params)
            # Far enough on that every zip time (two-second steps) and every minute differ.
            clock.shift(timedelta(hours=1, seconds=7))
            with database.unit_of_work() as session:
                two = service.issue(session, actor=ADMIN, kind=kind, as_of=as_of, **params)
        assert two.issued_at - one.issued_at >= timedelta(hours=1)
        assert one.id != two.id
        return one, two

    @pytest.mark.parametrize(
        ("kind", "params"),
        [
            ("deviation-report", {"deviation_id": 3}),
            ("deviation-register", {"filters": DeviationFilter()}),
            ("capa-status", {"programme_id": 1}),
            ("procedure", {"procedure_id": 5, "number": None}),
        ],
    )
    def test_the_same_records_as_of_one_moment_give_the_same_bytes(
        self, demo, kind: str, params: dict[str, Any]
    ) -> None:
        """Issued again later over unchanged records and as of the same moment, a document is the
        same file byte for byte: nothing in it may come from the clock at issuing (each part of
        the package was stamped with the wall clock at saving, so issues seconds apart differed).
        """
        database, _, _ = demo
        as_of = datetime(2026, 11, 1, 12, tzinfo=UTC)
        one, two = self._issue_twice(database, kind, as_of, **params)
        # Two issues, each its own number and moment printed on it; nothing else differs.
        assert one.content != two.content
        assert _issue_free(one.content) == _issue_free(two.content)
        assert f"Issue {one.id}" in docx_text(one.content)
        assert f"Issue {two.id}" in docx_text(two.content)
        assert one.sha256 == hashlib.sha256(one.content).hexdigest()
        assert one.data_sha256 == two.data_sha256
        with database.unit_of_work() as session:
            again = service.get_issued(session, actor=ADMIN, document_id=one.id)
            assert again.content == one.content
        props = Document(io.BytesIO(one.content)).core_properties
        assert props.modified.replace(tzinfo=UTC) == as_of
        stamps = {entry.date_time for entry in zipfile.ZipFile(io.BytesIO(one.content)).infolist()}
        assert stamps == {as_of.timetuple()[:6]}

    def test_the_audit_pack_again_differs_only_by_the_issue_it_records(self, demo) -> None:
        """The pack carries the programme's audit trail, and issuing the first pack is itself an
        event of that trail: the second pack's trail, its verification, the index listing their
        hashes and the manifest are legitimately different. Everything else is the same bytes."""
        database, _, _ = demo
        as_of = datetime(2026, 11, 1, 12, tzinfo=UTC)
        one, two = self._issue_twice(database, "audit-pack", as_of, programme_id=1)
        first, second = (zipfile.ZipFile(io.BytesIO(d.content)) for d in (one, two))
        assert first.namelist() == second.namelist()
        trail, check, index = "Audit trail.jsonl", "Audit trail verification.json", "00 Index.docx"
        grown = {trail, check, index, "manifest.json"}
        assert grown <= set(first.namelist())
        for name in set(first.namelist()) - grown:
            # Each document of the pack carries the pack's issue number and moment.
            assert _issue_free(first.read(name)) == _issue_free(second.read(name)), name
        assert {e.date_time for e in [*first.infolist(), *second.infolist()]} == {
            as_of.timetuple()[:6]
        }
        old_trail, new_trail = (z.read(trail) for z in (first, second))
        assert new_trail.startswith(old_trail)
        [added] = [json.loads(line) for line in new_trail[len(old_trail) :].splitlines()]
        assert (added["action"], added["entity_id"]) == ("document.issued", str(one.id))
        old_check, new_check = (json.loads(z.read(check)) for z in (first, second))
        assert new_check["count"] == old_check["count"] + 1
        assert new_check["events"][:-1] == old_check["events"]
        assert new_check["chain"]["head_seq"] > old_check["chain"]["head_seq"]
        grew = ("count", "events", "chain")
        assert {k: v for k, v in new_check.items() if k not in grew} == {
            k: v for k, v in old_check.items() if k not in grew
        }
        old_manifest, new_manifest = (json.loads(z.read("manifest.json")) for z in (first, second))
        changed = {
            name
            for name in old_manifest["files"]
            if old_manifest["files"][name] != new_manifest["files"][name]
        }
        # Every file carries the issue but the access log's reads, which no issue adds to, and the
        # evidence files, kept as they were uploaded.
        kept = {name for name in old_manifest["files"] if name.startswith("Evidence/")}
        assert kept
        assert changed == set(old_manifest["files"]) - {"Access log.jsonl"} - kept

    def test_who_may_issue(self, demo) -> None:
        _, client, tokens = demo
        assert (
            client.get("/api/v1/documents/master-list", headers=tokens[Role.importer]).status_code
            == 403
        )
        assert (
            client.get(
                "/api/v1/documents/master-list", headers=tokens[Role.coordinator]
            ).status_code
            == 403
        )
        r = client.get(
            "/api/v1/documents/deviation-register?programme_id=1", headers=tokens[Role.coordinator]
        )
        assert r.status_code == 200

    def test_an_unknown_deviation_is_a_404_problem(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/deviation-report/99999", headers=tokens[Role.auditor])
        assert r.status_code == 404
        # A problem saying what was not found, not a document nor an empty body.
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert (problem["status"], problem["title"]) == (404, "Not found")
        assert problem["detail"] == "There is no deviation with the id 99999."
        unknown = client.get("/api/v1/documents/issued/99999", headers=tokens[Role.auditor])
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        assert unknown.json()["detail"] == "There is no issued document with the id 99999."
        nb = client.get(
            "/api/v1/documents/issued/99999",
            headers={**tokens[Role.auditor], "Accept-Language": "nb"},
        )
        assert nb.json()["detail"] == "Det finnes ikke noe utstedt dokument med id 99999."


class TestReportsAndPack:
    def test_the_capa_status_report_counts_and_flags_overdue(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/capa-status?programme_id=1", headers=tokens[Role.auditor])
        assert r.status_code == 200
        doc = Document(io.BytesIO(r.content))
        counts = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
        assert counts["overdue"] == "1"
        rows = {row.cells[0].text: [c.text for c in row.cells] for row in doc.tables[1].rows[1:]}
        second, third = (_number(client, tokens[Role.auditor], f"actions/{n}") for n in (2, 3))
        assert rows[third][6] == "yes"
        assert rows[second][2] == "verified effective"

    def test_the_follow_up_report_shows_codes_and_outcomes_only(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/follow-up-report/1", headers=tokens[Role.auditor])
        assert r.status_code == 200
        text = docx_text(r.content)
        assert "Held 12, due 0, overdue 0." in text
        assert "at risk" in text
        assert "PAIR-0001" in text
        assert "P-0001" in text
        assert not any(name in text for name in NAMES)

    def test_the_audit_pack_holds_documents_trail_verification_and_manifest(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/audit-pack?programme_id=1", headers=tokens[Role.auditor])
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["programme"] == "VIA-JOB"
        names = set(archive.namelist()) - {"manifest.json"}
        assert set(manifest["files"]) == names
        for name in names:
            assert hashlib.sha256(archive.read(name)).hexdigest() == manifest["files"][name]
        verification = json.loads(archive.read("Audit trail verification.json"))
        assert verification["chain"]["ok"] is True
        lines = [json.loads(x) for x in archive.read("Audit trail.jsonl").splitlines()]
        assert lines
        assert any(line["programme_id"] == 1 for line in lines)
        assert not any(line["programme_id"] == 2 for line in lines)
        for line in lines:
            payload = {k: v for k, v in line.items() if k not in ("prev_hash", "hash")}
            assert compute_hash(line["prev_hash"], payload) == line["hash"]
        assert any(n.endswith(" CAPA status report.docx") for n in names)
        coordinator = client.get(
            "/api/v1/documents/audit-pack?programme_id=1", headers=tokens[Role.coordinator]
        )
        assert coordinator.status_code == 403


def test_the_quality_report_reads_like_the_via_mentoring_table(demo) -> None:
    _, client, tokens = demo
    r = client.get("/api/v1/documents/quality-report/1", headers=tokens[Role.auditor])
    assert r.status_code == 200
    doc = Document(io.BytesIO(r.content))
    indicators = {row.cells[0].text: [c.text for c in row.cells] for row in doc.tables[0].rows[1:]}
    assert indicators["OCCUPIED"][5] == "11 of 12 who completed in work or study"
    assert indicators["FULL-TIME"][5] == "6 of 12 who completed employed full time"
    # Entered for the Via-mentoring project of 2012-2014: not this period's, so not rated.
    assert indicators["WOMEN"][3:5] == ["600", ""]
    outcomes = {row.cells[0].text: row.cells[1].text for row in doc.tables[1].rows[1:]}
    assert outcomes["employed full time"] == "6"
    # The instrument and the question as their readers know them, not by their codes.
    answers = {
        tuple(c.text for c in row.cells[:2]): row.cells[3].text for row in doc.tables[2].rows[1:]
    }
    satisfied = ("Final survey for mentees", "How satisfied are you with the programme as a whole?")
    assert answers[satisfied] == "4.08 of 5"
    assert not {"FINAL", "SAT", "MATCH"} & {c for key in answers for c in key}
    assert _number(client, tokens[Role.auditor], "deviations/2") in docx_text(r.content)
    assert not any(name in docx_text(r.content) for name in NAMES)


class TestQualitySystemDocuments:
    def test_the_audit_report_carries_checklist_findings_and_the_deviation(self, demo) -> None:
        _, client, tokens = demo
        r = client.get("/api/v1/documents/audit-report/1", headers=tokens[Role.auditor])
        assert r.status_code == 200
        text = docx_text(r.content)
        assert _number(client, tokens[Role.auditor], "audits/1") in text
        # The auditor by the name people read them by, not the login the audit keeps.
        assert "Maria Johansson" in text
        assert "demo-internal-auditor" not in text
        assert "4 lines; 1 not conforming" in text
        assert "MENTOR:monitoring" in text
        assert "Book the follow-up meetings at the kick-off" in text
        deviation = client.get("/api/v1/audits/1", headers=tokens[Role.auditor]).json()["lines"][2][
            "deviation_number"
        ]
        assert deviation in text
        assert not any(name in text for name in NAMES)

    def test_the_management_review_holds_its_frozen_inputs_and_decisions(self, demo) -> None:
        _, client, tokens = demo
        text = docx_text(
            client.get(
                "/api/v1/documents/management-review/1", headers=tokens[Role.auditor]
            ).content
        )
        assert _number(client, tokens[Role.auditor], "reviews/1") in text
        for clause in ("9.3.2 a", "9.3.2 c1", "9.3.2 c6", "9.3.2 f"):
            assert clause in text
        assert "VIA-JOB | SATISFACTION" not in text  # cells, not a joined line
        assert _number(client, tokens[Role.auditor], "audits/1") in text  # the audit results
        assert "Book every pair's mid-programme follow-up at the kick-off." in text
        assert "Suitable" not in text
        assert "suitable and effective" in text
        assert "approved" in text  # the closing signature
        # Participants and signatory by their display names.
        assert "Anders Lindqvist, Ingrid Solberg, Siri Bakke" in text
        assert "demo-quality-manager" not in text

    def test_the_review_input_compiles_a_period(self, demo) -> None:
        _, client, tokens = demo
        r = client.get(
            "/api/v1/documents/management-review-input",
            headers=tokens[Role.auditor],
            params={"period_start": "2025-02-01", "period_end": "2026-06-30", "programme_id": 1},
        )
        assert r.status_code == 200
        text = docx_text(r.content)
        assert "9.3.2 c2 The extent to which quality objectives have been met" in text
        assert "COMPLETED" in text
        assert "follow-ups held" in text
        bad = client.get(
            "/api/v1/documents/management-review-input",
            headers=tokens[Role.auditor],
            params={"period_start": "2026-06-30", "period_end": "2025-02-01"},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "period_end"

    def test_the_evidence_map_flags_gaps_and_a_coordinator_needs_a_programme(self, demo) -> None:
        _, client, tokens = demo
        text = docx_text(
            client.get(
                "/api/v1/documents/evidence-map/EMCC",
                headers=tokens[Role.auditor],
                params={"programme_id": 1, "period_start": "2025-01-01"},
            ).content
        )
        assert "EMCC:selection-matching" in text
        assert "PR-05 v1" in text
        assert "pairs unwound 1" in text
        assert "covered" in text
        whole = client.get("/api/v1/documents/evidence-map/EMCC", headers=tokens[Role.coordinator])
        assert whole.status_code == 403
        mine = client.get(
            "/api/v1/documents/evidence-map/EMCC?programme_id=1", headers=tokens[Role.coordinator]
        )
        assert mine.status_code == 200


def test_a_record_kept_with_a_control_character_still_gives_its_documents(new_database) -> None:
    """Text the schemas refuse now may be in records kept from before: the documents show each
    such character as U+FFFD instead of failing."""
    from sqlalchemy import update

    from qms.deviations.models import Deviation
    from tests.factories import make_deviation, make_token

    database = new_database()
    with database.unit_of_work() as session:
        deviation_id = make_deviation(session).id
        session.execute(
            update(Deviation)
            .where(Deviation.id == deviation_id)
            .values(title="Bell\x07 and escape\x1b", description="Soft\x0bbreak")
        )
        auditor = auth(make_token(session, Role.auditor))
    client = make_client(database)
    register = client.get("/api/v1/documents/deviation-register", headers=auditor)
    assert register.status_code == 200
    assert "Bell\ufffd and escape\ufffd" in docx_text(register.content)
    report = client.get(f"/api/v1/documents/deviation-report/{deviation_id}", headers=auditor)
    assert report.status_code == 200
    assert "Soft\ufffdbreak" in docx_text(report.content)


def test_a_procedure_table_row_wider_than_its_header_keeps_every_cell() -> None:
    from qms.documents.markdown import render
    from qms.documents.style import HouseDocument, Issue

    moment = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    document = HouseDocument(Issue("Mentor", "Matching", "PR-01", moment, moment, "0" * 64))
    render(document, "# Matching\n\n| Step | Who |\n|---|---|\n| Match | Coordinator | Friday |\n")
    [table] = Document(io.BytesIO(document.to_bytes())).tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Step", "Who", ""],
        ["Match", "Coordinator", "Friday"],
    ]


def test_a_write_made_while_a_document_is_generated_neither_fails_it_nor_shows_in_it(
    new_database, monkeypatch
) -> None:
    """A register issued while someone logs a deviation: the issue does not fail (PostgreSQL
    answered 503 when the issuing transaction went on to lock the chain head the other had
    changed), and the register shows the records as they stood when it began reading."""
    import threading

    from sqlalchemy import select

    from qms.deviations.models import Deviation
    from tests.factories import make_deviation, make_token

    database = new_database()
    with database.unit_of_work() as session:
        before = [make_deviation(session).number for _ in range(3)]
        lead = auth(make_token(session, Role.quality_lead))
    logged: list[str] = []

    def log_one() -> None:
        with database.unit_of_work() as session:
            logged.append(make_deviation(session, title="Logged meanwhile").number)

    register = service.GENERATORS["deviation-register"]

    def generate(session, *args, **kwargs):
        session.execute(select(Deviation.id)).all()  # the snapshot is taken at the first read
        writer = threading.Thread(target=log_one)
        writer.start()
        writer.join()
        return register(session, *args, **kwargs)

    monkeypatch.setitem(service.GENERATORS, "deviation-register", generate)
    r = make_client(database).get("/api/v1/documents/deviation-register", headers=lead)
    assert r.status_code == 200, r.text
    assert len(logged) == 1
    text = docx_text(r.content)
    assert all(number in text for number in before)
    assert logged[0] not in text
    with database.unit_of_work(write=False) as session:
        from qms.audit.service import verify

        assert verify(session).ok
