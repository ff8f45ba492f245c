"""Every document as a reader's office software sees it: converted to PDF by LibreOffice, then
read back with pdftotext. .ci/run installs both and sets QMS_REQUIRE_OFFICE=1, so there the test
runs; elsewhere it is skipped when they are missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qms.accounts import service as accounts
from qms.demo import load
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, auth

OFFICE_PACKAGES = ("libreoffice-writer-nogui", "poppler-utils", "fonts-crosextra-carlito")


def _missing_tools() -> list[str]:
    """Name what the conversion needs and this machine lacks."""
    missing = [tool for tool in ("soffice", "pdftotext", "fc-list") if shutil.which(tool) is None]
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

# What each document must show once laid out: the key figures and codes. A record number carries
# the year the demo was loaded in, so it is named by the record ({deviations/1}) and read back.
DOCUMENTS = {
    "deviation-register": ("/api/v1/documents/deviation-register", ["{deviations/1}"]),
    "deviation-report": ("/api/v1/documents/deviation-report/1", ["{deviations/1}", "closed"]),
    "master-list": ("/api/v1/documents/master-list", ["PR-01", "PR-14"]),
    "procedure": ("/api/v1/documents/procedure/5", ["PR-05", "Revision history"]),
    "capa-status": ("/api/v1/documents/capa-status?programme_id=1", ["{actions/1}"]),
    "follow-up-report": ("/api/v1/documents/follow-up-report/1", ["PAIR-0001"]),
    "quality-report": ("/api/v1/documents/quality-report/1", ["COMPLETED", "4.08"]),
    "audit-report": ("/api/v1/documents/audit-report/1", ["{audits/1}", "MENTOR:monitoring"]),
    "management-review": ("/api/v1/documents/management-review/1", ["{reviews/1}", "9.3.2"]),
    "management-review-input": (
        "/api/v1/documents/management-review-input?period_start=2025-02-01&period_end=2026-06-30",
        ["9.3.2 c4", "COMPLETED"],
    ),
    "evidence-map": ("/api/v1/documents/evidence-map/MENTOR", ["MENTOR:closure"]),
}


@pytest.mark.slow(
    reason="LibreOffice converts every kind of document to PDF, one process: about 20 s in all"
)
def test_every_document_converts_and_its_pdf_holds_footer_and_figures(
    new_database, tmp_path: Path
) -> None:
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        accounts.create_user(session, actor=ADMIN, name="pdf-auditor", role=Role.auditor)
        headers = auth(accounts.create_token(session, actor=ADMIN, user_name="pdf-auditor").secret)
    client = make_client(database)
    numbers = {
        record: client.get(f"/api/v1/{record}", headers=headers).json()["number"]
        for record in ("deviations/1", "actions/1", "audits/1", "reviews/1")
    }
    files = []
    for kind, (url, _) in DOCUMENTS.items():
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (kind, r.text)
        path = tmp_path / f"{kind}.docx"
        path.write_bytes(r.content)
        files.append(path)
    profile = tmp_path / "profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for kind, (_, figures) in DOCUMENTS.items():
        pdf = tmp_path / f"{kind}.pdf"
        assert pdf.exists(), f"{kind} did not convert"
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pages = re.findall(r"Page (\d+) of (\d+)", text)
        assert pages, f"{kind}: no page footer in the PDF"
        assert pages[0] == ("1", pages[0][1])
        total = int(pages[0][1])
        assert len(pages) == total, f"{kind}: {len(pages)} footers for {total} pages"
        assert "data SHA-256" in text, kind
        for figure in (f.format_map(numbers) for f in figures):
            assert figure in text, f"{kind}: {figure!r} missing from the PDF"
