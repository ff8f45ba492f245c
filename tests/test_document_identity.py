"""What a document says about itself, read back as a reader's software reads it: which
organisation's, which document and issue, issued by whom, of what; DRAFT where the record is not
in force; tables that read well; a download named in the language's letters."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from docx import Document
from sqlalchemy import select

from qms.accounts import service as accounts
from qms.charts import draw
from qms.config import get_settings
from qms.demo import load
from qms.deviations.models import DeviationStatus
from qms.deviations.repository import DeviationFilter
from qms.documents import service
from qms.documents.models import IssuedDocument
from qms.documents.style import HouseDocument, Issue, column_widths, text_cm
from qms.i18n import label, translate
from qms.permissions import Actor, Role
from qms.procedures import service as procedures
from qms.procedures.schemas import VersionDraft
from qms.programmes.models import Programme
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text

AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)
LEAD = Actor(user_id=None, name="demo-quality-lead", role=Role.quality_lead)


@pytest.fixture(scope="module")
def demo(new_database) -> tuple[Any, Any, dict[str, str]]:
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        accounts.create_user(session, actor=ADMIN, name="id-auditor", role=Role.auditor)
        headers = auth(accounts.create_token(session, actor=ADMIN, user_name="id-auditor").secret)
    return database, make_client(database), headers


def _header(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    return "\n".join(p.text for p in doc.sections[0].header.paragraphs)


def _lines(content: bytes) -> dict[str, str]:
    """The identification block's lines: label -> value."""
    found = {}
    for line in docx_text(content).splitlines():
        name, tab, value = line.partition("\t")
        if tab and name not in found:
            found[name] = value
    return found


class TestIdentification:
    def test_a_programme_s_register_names_its_organiser_issue_issuer_and_filters(
        self, demo
    ) -> None:
        database, _, _ = demo
        with database.unit_of_work() as session:
            document = service.issue(
                session,
                actor=LEAD,
                kind="deviation-register",
                language="nb",
                as_of=AS_OF,
                filters=DeviationFilter(programme_id=1, status=DeviationStatus.closed),
            )
            organiser = session.get(Programme, 1).organiser
            lines = _lines(document.content)
            header = _header(document.content)
        t = lambda text: translate(text, "nb")  # noqa: E731
        assert lines[t("Organisation")] == organiser
        assert organiser in header
        assert lines[t("Issue number")] == str(document.id)
        assert t("Issue %(number)s") % {"number": document.id} in header
        assert lines[t("Issued by")] == f"Ingrid Solberg, {label('quality_lead', 'nb')}"
        scope = lines[t("Scope")]
        assert "VIA-JOB" in scope
        assert f"{t('Status')}: {label('closed', 'nb')}" in scope
        assert lines[t("Language")] == "Norsk bokmål"
        assert lines[t("Data SHA-256")] == document.data_sha256
        footer = docx_text(document.content)
        assert t("Uncontrolled when printed") in footer

    def test_the_whole_organisation_s_register_names_the_organisation_setting(self, demo) -> None:
        database, _, _ = demo
        with database.unit_of_work() as session:
            document = service.issue(
                session, actor=LEAD, kind="master-list", language="en", as_of=AS_OF
            )
        lines = _lines(document.content)
        assert lines["Organisation"] == get_settings().organisation
        assert lines["Scope"] == "The whole organisation"

    def test_the_header_says_the_number_once(self, demo) -> None:
        _, client, headers = demo
        r = client.get("/api/v1/documents/deviation-report/1", headers=headers)
        header = _header(r.content)
        numbers = re.findall(r"DEV-\d{4}-\d{4}", header)
        assert len(numbers) == 1, header
        assert f"Issue {r.headers['x-issued-document']}" in header

    def test_a_failed_issue_gives_its_number_up(self, demo) -> None:
        database, client, headers = demo
        with database.unit_of_work() as session:
            before = session.scalar(select(IssuedDocument.id).order_by(IssuedDocument.id.desc()))
        r = client.get("/api/v1/documents/deviation-report/999999", headers=headers)
        assert r.status_code == 404
        with database.unit_of_work() as session:
            after = session.scalar(select(IssuedDocument.id).order_by(IssuedDocument.id.desc()))
            assert after == before
            assert all(d.sha256 for d in service.list_issued(session, actor=ADMIN))


class TestCharts:
    # The parts of a .docx that say which issue it is; every other part is the records'.
    ISSUE_PARTS = ("word/document.xml", "word/header1.xml", "word/footer1.xml", "docProps/core.xml")

    def test_a_report_with_charts_is_the_same_bytes_issued_again_and_fetched_again(
        self, demo
    ) -> None:
        """Two issues of the quality report as of one moment, each chart drawn afresh (none kept
        from the first): every part but the issue's own text is the same bytes, the pictures
        with them; each issue fetched again is the bytes kept."""
        database, client, headers = demo
        issued = []
        for _ in range(2):
            draw.forget()
            with database.unit_of_work() as session:
                document = service.issue(
                    session,
                    actor=ADMIN,
                    kind="quality-report",
                    language="nb",
                    as_of=AS_OF,
                    programme_id=1,
                )
                issued.append((document.id, document.content))

        def parts(content: bytes) -> dict[str, bytes]:
            with zipfile.ZipFile(io.BytesIO(content)) as package:
                return {
                    name: package.read(name)
                    for name in package.namelist()
                    if name not in self.ISSUE_PARTS
                }

        [(_, first), (_, second)] = issued
        assert first != second
        assert parts(first) == parts(second)
        assert len([name for name in parts(first) if name.startswith("word/media/")]) == 4
        for number, content in issued:
            again = client.get(f"/api/v1/documents/issued/{number}", headers=headers)
            assert again.status_code == 200
            assert again.content == content


class TestDraft:
    def test_a_draft_procedure_version_is_marked_on_every_page_and_the_effective_one_not(
        self, demo
    ) -> None:
        database, _, _ = demo
        with database.unit_of_work() as session:
            effective = procedures.effective(procedures.get(session, actor=ADMIN, procedure_id=3))
            assert effective is not None
            draft = procedures.new_draft(
                session,
                actor=ADMIN,
                procedure_id=3,
                data=VersionDraft(
                    title=effective.title,
                    owner_role=effective.owner_role,
                    review_months=12,
                    content=effective.content + "\n\nOne more step.\n",
                    change_summary="One more step.",
                ),
            )
            marked = service.issue(
                session,
                actor=ADMIN,
                kind="procedure",
                language="nb",
                procedure_id=3,
                number=draft.number,
            )
            in_force = service.issue(
                session, actor=ADMIN, kind="procedure", language="nb", procedure_id=3, number=None
            )
        mark = translate("DRAFT", "nb")
        assert _header(marked.content).startswith(mark)
        assert mark not in docx_text(in_force.content)


class TestTables:
    @staticmethod
    def _doc() -> HouseDocument:
        return HouseDocument(Issue("Org", "Title", "T-1", AS_OF, AS_OF, "0" * 64, "sv"))

    def test_an_empty_table_is_said_in_words(self) -> None:
        doc = self._doc()
        assert doc.table(["Number", "Title"], []) is None
        content = doc.to_bytes()
        assert Document(io.BytesIO(content)).tables == []
        assert translate("None recorded", "sv") in docx_text(content)

    def test_codes_and_dates_keep_their_hyphens_together(self) -> None:
        doc = self._doc()
        doc.table(["Number", "Due"], [["CA-2026-0002", "2026-06-30"]])
        xml = doc.doc.tables[0]._tbl.xml
        assert xml.count("<w:noBreakHyphen/>") == 4
        assert docx_text(doc.to_bytes()).count("CA-2026-0002") == 1

    def test_codes_are_as_wide_as_they_are_and_text_takes_the_rest(self) -> None:
        rows = [
            ["DEV-2026-0001", "30.06.2026", "A long title that says what the deviation was " * 2]
        ]
        widths = column_widths(["Number", "Due", "Title"], rows, 16 * 360000)
        code, date, title = (w / 360000 for w in widths)
        assert code >= text_cm("DEV-2026-0001")
        assert date >= text_cm("30.06.2026")
        assert title > code + date

    def test_a_short_table_is_kept_whole_and_its_header_repeats(self) -> None:
        doc = self._doc()
        doc.heading("Actions")
        doc.table(["Number", "Title"], [["CA-1", "one"], ["CA-2", "two"], ["CA-3", "three"]])
        table = doc.doc.tables[0]
        [heading] = [p for p in doc.doc.paragraphs if p.text == "Actions"]
        assert heading.paragraph_format.keep_with_next
        assert "w:tblHeader" in table.rows[0]._tr.xml
        kept = ["w:keepNext" in row._tr.xml for row in table.rows]
        assert kept == [True, True, True, False]
        assert all("w:cantSplit" in row._tr.xml for row in table.rows[1:])


class TestFileNames:
    def test_a_download_keeps_the_language_s_letters_with_an_ascii_fallback(self, demo) -> None:
        database, client, headers = demo
        r = client.get("/api/v1/documents/follow-up-report/1?language=nb", headers=headers)
        assert r.status_code == 200
        disposition = r.headers["content-disposition"]
        fallback = re.search(r'filename="([^"]*)"', disposition)
        encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
        assert fallback, disposition
        assert encoded, disposition
        name = unquote(encoded.group(1), encoding="utf-8")
        assert "oppfølging" in name, name
        assert fallback.group(1) == service.ascii_file_name(name)
        assert fallback.group(1).isascii()
        again = client.get(
            f"/api/v1/documents/issued/{r.headers['x-issued-document']}", headers=headers
        )
        assert again.headers["content-disposition"] == disposition
        with database.unit_of_work() as session:
            kept = service.get_issued(
                session, actor=ADMIN, document_id=int(r.headers["x-issued-document"])
            )
            assert kept.file_name == name

    @pytest.mark.parametrize(
        ("name", "ascii_name"),
        [
            ("Ledelsens gjennomgåelse.docx", "Ledelsens gjennomgaelse.docx"),
            ("Rapport fra midtveisoppfølging.docx", "Rapport fra midtveisoppfolging.docx"),
            ("Særskilt ærend.docx", "Saerskilt aerend.docx"),
            ("Ledningens genomgång \u2013 åtgärder.docx", "Ledningens genomgang - atgarder.docx"),
            ("Mätvärden för året.docx", "Matvarden for aret.docx"),
            ('Odd "quote" \\ name.docx', "Odd _quote_ _ name.docx"),
        ],
    )
    def test_the_ascii_fallback_spells_the_letters_without_marks(
        self, name: str, ascii_name: str
    ) -> None:
        assert service.ascii_file_name(name) == ascii_name
        disposition = service.content_disposition(name)
        encoded = disposition.split("filename*=UTF-8''")[1]
        assert unquote(encoded, encoding="utf-8") == name
        assert disposition.isascii()
