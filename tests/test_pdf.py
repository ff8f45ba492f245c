"""Every document as a reader's office software lays it out: each kind, in English, bokmål and
Swedish, converted to PDF by LibreOffice (one conversion for all), read back with pdftotext and
saved as PNG pages for a person to look at ($QMS_TEST_OUTPUT/documents, else a folder under
pytest's temporary folder, named in the test's output).

.ci/run installs the tools and sets QMS_REQUIRE_OFFICE=1, so there the test runs; elsewhere it
is skipped when they are missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qms.accounts import service as accounts
from qms.audits.models import AuditStatus, InternalAudit, ManagementReview, ReviewStatus
from qms.demo import load
from qms.documents.style import DRAFT, PAGE_OF, UNCONTROLLED
from qms.i18n import translate
from qms.permissions import Role
from qms.procedures import service as procedures
from qms.procedures.schemas import VersionDraft
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text
from tests.test_document_language import _coded_values

OFFICE_PACKAGES = ("libreoffice-writer-nogui", "poppler-utils", "fonts-crosextra-carlito")


def _missing_tools() -> list[str]:
    """Name what the conversion needs and this machine lacks."""
    missing = [
        tool
        for tool in ("soffice", "pdftotext", "pdftoppm", "fc-list")
        if shutil.which(tool) is None
    ]
    if "fc-list" not in missing:
        fonts = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
        if "carlito" not in fonts.lower():
            # Without Calibri's metric twin LibreOffice lays the pages out in another font.
            missing.append("the Carlito font")
    return missing


MISSING = _missing_tools()
if MISSING:
    message = f"{', '.join(MISSING)} missing (Debian: {' '.join(OFFICE_PACKAGES)})"
    if os.environ.get("QMS_REQUIRE_OFFICE") == "1":
        pytest.fail(f"QMS_REQUIRE_OFFICE=1 but {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)

LANGUAGES = ("en", "nb", "sv")
PERIOD = "period_start=2025-02-01&period_end=2026-06-30"
# What each document must show once laid out: the key figures and codes. A record number carries
# the year the demo was loaded in, so it is named by the record ({deviations/1}) and read back.
DOCUMENTS = {
    "deviation-register": ("/api/v1/documents/deviation-register", ["{deviations/1}"]),
    "deviation-register-filtered": (
        "/api/v1/documents/deviation-register?programme_id=1&status=closed",
        ["{deviations/1}", "VIA-JOB"],
    ),
    "deviation-report": ("/api/v1/documents/deviation-report/1", ["{deviations/1}"]),
    "deviation-report-open": ("/api/v1/documents/deviation-report/5", ["{deviations/5}"]),
    "master-list": ("/api/v1/documents/master-list", ["PR-01", "PR-14"]),
    "procedure": ("/api/v1/documents/procedure/5", ["PR-05"]),
    "procedure-draft": ("/api/v1/documents/procedure/5?version={draft}", ["PR-05"]),
    "capa-status": ("/api/v1/documents/capa-status?programme_id=1", ["{actions/1}"]),
    "follow-up-report": ("/api/v1/documents/follow-up-report/1", ["PAIR-0001"]),
    "quality-report": ("/api/v1/documents/quality-report/1", ["COMPLETED"]),
    "audit-report": ("/api/v1/documents/audit-report/1", ["{audits/1}"]),
    "management-review": ("/api/v1/documents/management-review/1", ["{reviews/1}"]),
    "management-review-input": (f"/api/v1/documents/management-review-input?{PERIOD}", []),
    "evidence-map": ("/api/v1/documents/evidence-map/MENTOR?programme_id=1", ["MENTOR:closure"]),
}
# A record's number or code, and a date as each language writes it.
CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b")
DATE = re.compile(r"\b(?:\d\d\.\d\d\.\d{4}|\d{4}-\d\d-\d\d|\d\d/\d\d/\d{4})\b")
# What is left on a line where a code or a date was broken: "DEV-2026-", "2026-06-", "30.06.".
BROKEN = re.compile(
    r"(?<![\w.-])(?:[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-|\d{4}-(?:\d\d-)?|\d\d\.\d\d\.|\d\d/\d\d/)(?=\s|$)"
)
TIMEOUT = 300


def _output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the PDF and PNG pages are kept for a person to look at."""
    given = os.environ.get("QMS_TEST_OUTPUT")
    if given:
        folder = Path(given) / "documents"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("documents")


@pytest.fixture(scope="module")
def laid_out(new_database, tmp_path_factory) -> dict[str, Any]:
    """Every document in every language, issued over REST from the demo (with a draft of PR-05
    in progress) and converted to PDF in one LibreOffice run: kind -> language -> texts."""
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        accounts.create_user(session, actor=ADMIN, name="pdf-auditor", role=Role.auditor)
        headers = auth(accounts.create_token(session, actor=ADMIN, user_name="pdf-auditor").secret)
        effective = procedures.effective(procedures.get(session, actor=ADMIN, procedure_id=5))
        assert effective is not None
        draft = procedures.new_draft(
            session,
            actor=ADMIN,
            procedure_id=5,
            data=VersionDraft(
                title=effective.title,
                owner_role=effective.owner_role,
                review_months=12,
                content=f"{effective.content}\n\nA step added in the draft.\n",
                change_summary="A step added.",
            ),
        )
        drafts = {
            "procedure-draft": True,
            "procedure": False,
            "audit-report": session.get(InternalAudit, 1).status
            in (AuditStatus.planned, AuditStatus.in_progress),
            "management-review": session.get(ManagementReview, 1).status is ReviewStatus.planned,
        }
        draft_number = draft.number
    client = make_client(database)
    numbers = {
        record: client.get(f"/api/v1/{record}", headers=headers).json()["number"]
        for record in ("deviations/1", "deviations/5", "actions/1", "audits/1", "reviews/1")
    }
    folder = _output(tmp_path_factory)
    files: list[Path] = []
    issued: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, (url, _) in DOCUMENTS.items():
        for language in LANGUAGES:
            address = url.format(draft=draft_number)
            joiner = "&" if "?" in address else "?"
            r = client.get(f"{address}{joiner}language={language}", headers=headers)
            assert r.status_code == 200, (kind, language, r.text)
            path = folder / f"{kind}-{language}.docx"
            path.write_bytes(r.content)
            files.append(path)
            issued.setdefault(kind, {})[language] = {
                "docx": docx_text(r.content),
                "issue": r.headers["x-issued-document"],
            }
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{folder / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    for path in files:
        pdf = path.with_suffix(".pdf")
        assert pdf.exists(), f"{path.name} did not convert"
        kind, language = path.stem.rsplit("-", 1)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # A hyphen that does not break a line comes out as U+2011.
        issued[kind][language]["pdf"] = text.replace("\u2011", "-").replace("\u00ad", "")
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(pdf), str(folder / path.stem)],
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
    print(f"\nPDF and PNG pages of every document: {folder}")  # noqa: T201
    return {"issued": issued, "numbers": numbers, "drafts": drafts, "folder": folder}


@pytest.mark.slow(
    reason="issues 14 documents in 3 languages and converts the 42 with LibreOffice in one run, "
    "then renders their pages as PNG: about 2 minutes on two cores"
)
class TestLaidOut:
    def test_every_page_has_its_footer_issue_and_hash(self, laid_out: dict[str, Any]) -> None:
        for kind, languages in laid_out["issued"].items():
            for language, texts in languages.items():
                text = texts["pdf"]
                pattern = re.escape(translate(PAGE_OF, language)).replace(
                    re.escape("%(page)s"), r"(\d+)"
                )
                pattern = pattern.replace(re.escape("%(pages)s"), r"(\d+)")
                pages = re.findall(pattern, text)
                assert pages, f"{kind} {language}: no page footer in the PDF"
                total = int(pages[0][1])
                assert pages[0][0] == "1"
                assert len(pages) == total, f"{kind} {language}: {len(pages)} footers, {total}"
                assert text.count(translate(UNCONTROLLED, language)) == total, (kind, language)
                assert re.search(r"[0-9a-f]{64}", text), (kind, language)
                assert f" {texts['issue']} " in text.replace("\n", " "), (kind, language)

    def test_codes_and_dates_are_never_broken_across_lines(self, laid_out: dict[str, Any]) -> None:
        broken: dict[str, list[str]] = {}
        for kind, languages in laid_out["issued"].items():
            for language, texts in languages.items():
                text, source = texts["pdf"], texts["docx"]
                whole = set(CODE.findall(source)) | set(DATE.findall(source))
                missing = sorted(value for value in whole if value not in text)
                # A code may end a line where a word follows it ("PR-05-matching.md").
                pieces = [
                    line.strip()
                    for line in text.splitlines()
                    if not re.search(r"[0-9a-f]{64}", line)
                    and any(
                        not re.search(re.escape(found.group()) + "[a-z]", source)
                        for found in BROKEN.finditer(line)
                    )
                ]
                if missing or pieces:
                    broken[f"{kind} {language}"] = missing + pieces
        assert broken == {}

    def test_the_key_figures_are_on_the_page(self, laid_out: dict[str, Any]) -> None:
        for kind, (_, figures) in DOCUMENTS.items():
            for language, texts in laid_out["issued"][kind].items():
                for figure in (f.format_map(laid_out["numbers"]) for f in figures):
                    assert figure in texts["pdf"], f"{kind} {language}: {figure!r} missing"

    def test_no_stored_value_appears_raw(self, laid_out: dict[str, Any]) -> None:
        codes = _coded_values()
        shown: dict[str, list[str]] = {}
        for kind, languages in laid_out["issued"].items():
            for language, texts in languages.items():
                found = [c for c in codes if re.search(rf"\b{re.escape(c)}\b", texts["pdf"])]
                if found:
                    shown[f"{kind} {language}"] = found
        assert shown == {}

    def test_draft_is_marked_on_every_page_where_the_record_is_not_in_force(
        self, laid_out: dict[str, Any]
    ) -> None:
        drafts = laid_out["drafts"]
        assert drafts["procedure-draft"]
        for kind, languages in laid_out["issued"].items():
            for language, texts in languages.items():
                mark = translate(DRAFT, language)
                pages = texts["pdf"].count("\f") or 1
                marks = len(re.findall(rf"\b{re.escape(mark)}\b", texts["pdf"]))
                if drafts.get(kind, False):
                    assert marks >= pages, f"{kind} {language}: {marks} marks on {pages} pages"
                else:
                    assert marks == 0, f"{kind} {language}: marked {mark} but in force"

    def test_the_pages_are_kept_as_pictures(self, laid_out: dict[str, Any]) -> None:
        folder: Path = laid_out["folder"]
        for kind in DOCUMENTS:
            for language in LANGUAGES:
                assert list(folder.glob(f"{kind}-{language}-*.png")), (kind, language)
