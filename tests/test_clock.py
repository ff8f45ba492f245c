"""The demo and every document under a clock moved into other years.

Record numbers (DEV-, CA-, IA-, MR-) take the year of the moment they are made, and a document
shows the moment it was issued; the demo's programme dates stay as the demo fixes them. Under a
clock set to days of 2027 and 2030 the demo is loaded afresh, every kind of document is issued and
opened, and the numbers, the dates printed and the dates kept must all agree with that day.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from docx import Document
from sqlalchemy import func, select

from qms.accounts import service as accounts
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audits.models import InternalAudit, ManagementReview
from qms.db import Database
from qms.demo import load
from qms.deviations.models import Deviation
from qms.documents.models import IssuedDocument
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text

# New Year's Day, midsummer, New Year's Eve, the end of a February, the last day of a decade's year.
DAYS = [
    date(2027, 1, 1),
    date(2027, 7, 15),
    date(2027, 12, 31),
    date(2030, 2, 28),
    date(2030, 12, 31),
]

# Every kind of document, and the record numbers each must show (by series and sequence; the
# year is the day's).
DOCUMENTS: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "deviation-register": ("/api/v1/documents/deviation-register", [("DEV", 1), ("DEV", 5)]),
    "deviation-report": ("/api/v1/documents/deviation-report/5", [("DEV", 5), ("CA", 2)]),
    "master-list": ("/api/v1/documents/master-list", []),
    "procedure": ("/api/v1/documents/procedure/5", []),
    "capa-status": ("/api/v1/documents/capa-status?programme_id=1", [("CA", 1), ("CA", 3)]),
    "follow-up-report": ("/api/v1/documents/follow-up-report/1", []),
    "quality-report": ("/api/v1/documents/quality-report/1", [("DEV", 2)]),
    "audit-report": ("/api/v1/documents/audit-report/1", [("IA", 1)]),
    "management-review": ("/api/v1/documents/management-review/1", [("MR", 1), ("IA", 1)]),
    "management-review-input": (
        # The period is the demo's own review period, fixed whatever the clock says.
        "/api/v1/documents/management-review-input?period_start=2025-02-01&period_end=2026-06-30",
        [("IA", 1)],
    ),
    "evidence-map": ("/api/v1/documents/evidence-map/MENTOR", []),
    "audit-pack": ("/api/v1/documents/audit-pack?programme_id=1", []),
}

NUMBER = re.compile(r"\b(DEV|CA|IA|MR)-(\d{4})-(\d{4})\b")
FOOTER = re.compile(
    r"Generated (\d{4}-\d\d-\d\d) (\d\d:\d\d) UTC"
    r" from records as of (\d{4}-\d\d-\d\d) (\d\d:\d\d) UTC"
)


def _check_docx(name: str, content: bytes, day: date) -> str:
    """Check that a .docx says, in its footer, properties and package, that it was made on the
    day; return its text."""
    text = docx_text(content)
    [(generated_on, _, as_of_on, _)] = FOOTER.findall(text)
    assert generated_on == as_of_on == day.isoformat(), name
    properties = Document(io.BytesIO(content)).core_properties
    assert properties.created.date() == properties.modified.date() == day, name
    stamps = {e.date_time[:3] for e in zipfile.ZipFile(io.BytesIO(content)).infolist()}
    assert stamps == {(day.year, day.month, day.day)}, name
    # Every record number shown was made today, so it carries this year and no other.
    years = {int(year) for _, year, _ in NUMBER.findall(text)}
    assert years <= {day.year}, (name, years)
    return text


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_the_demo_and_its_documents_agree_with_the_clock(
    new_database: Callable[[], Database], day: date
) -> None:
    # Morning of the day, and the clock running on, so an issue takes real seconds as in use.
    with time_machine.travel(datetime.combine(day, time(9), UTC), tick=True):
        assert date.today() == day
        database = new_database()
        with database.unit_of_work() as session:
            load(session, operator=ADMIN)
            accounts.create_user(session, actor=ADMIN, name="clock-auditor", role=Role.auditor)
            secret = accounts.create_token(session, actor=ADMIN, user_name="clock-auditor").secret
        headers = auth(secret)
        client = make_client(database)

        # The records read back: numbered in this year, and made today.
        with database.unit_of_work(write=False) as session:
            for model, series in (
                (Deviation, "DEV"),
                (CorrectiveAction, "CA"),
                (InternalAudit, "IA"),
                (ManagementReview, "MR"),
            ):
                made = session.execute(select(model.number, model.year, model.created_at)).all()
                assert made, series
                for number, year, created_at in made:
                    assert NUMBER.fullmatch(number), number
                    assert number.startswith(f"{series}-{day.year}-"), number
                    assert year == created_at.year == day.year, number
                    assert created_at.date() == day, number

        for kind, (url, numbers) in DOCUMENTS.items():
            r = client.get(url, headers=headers)
            assert r.status_code == 200, (kind, r.text)
            assert f"-{day:%Y%m%d}-" in r.headers["content-disposition"], kind
            if kind == "audit-pack":
                archive = zipfile.ZipFile(io.BytesIO(r.content))
                assert {e.date_time[:3] for e in archive.infolist()} == {
                    (day.year, day.month, day.day)
                }
                inner = [n for n in archive.namelist() if n.endswith(".docx")]
                assert inner
                for name in inner:
                    _check_docx(f"{kind}/{name}", archive.read(name), day)
                continue
            text = _check_docx(kind, r.content, day)
            for series, seq in numbers:
                assert f"{series}-{day.year}-{seq:04d}" in text, (kind, series, seq)

        # What was kept agrees with what was printed: every issue and every audit event today.
        with database.unit_of_work(write=False) as session:
            issued = session.execute(select(IssuedDocument.as_of, IssuedDocument.issued_at)).all()
            assert len(issued) == len(DOCUMENTS)
            for as_of, issued_at in issued:
                assert as_of.date() == issued_at.date() == day
                assert as_of <= issued_at
            first, last = session.execute(
                select(func.min(AuditEvent.at), func.max(AuditEvent.at))
            ).one()
            assert first.date() == last.date() == day
