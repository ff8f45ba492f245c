"""Every document speaks the language it is issued in: headings, column headers, labels, fixed
sentences and stored values through the catalogue, dates and numbers as the language writes them.

Each kind of document is issued in Norwegian bokmål and in Swedish from the demo and read back
(paragraphs, tables, headers, footers) as a reader's software would read it.
"""

from __future__ import annotations

import enum
import importlib
import io
import pkgutil
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import JSON, String, select

import qms
from qms import i18n
from qms.accounts import service as accounts
from qms.checks.service import RULES
from qms.db import Base
from qms.demo import load
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text

LANGUAGES = ("nb", "sv")
PERIOD = "period_start=2025-02-01&period_end=2026-06-30"
DOCUMENTS = {
    "deviation-register": "/api/v1/documents/deviation-register",
    "deviation-report": "/api/v1/documents/deviation-report/5",
    "deviation-report-closed": "/api/v1/documents/deviation-report/1",
    "master-list": "/api/v1/documents/master-list",
    "procedure": "/api/v1/documents/procedure/5",
    "capa-status": "/api/v1/documents/capa-status?programme_id=1",
    "follow-up-report": "/api/v1/documents/follow-up-report/1",
    "quality-report": "/api/v1/documents/quality-report/1",
    "audit-report": "/api/v1/documents/audit-report/1",
    "management-review": "/api/v1/documents/management-review/1",
    "management-review-input": f"/api/v1/documents/management-review-input?{PERIOD}",
    "evidence-map": "/api/v1/documents/evidence-map/MENTOR?programme_id=1",
    "evidence-map-emcc": "/api/v1/documents/evidence-map/EMCC?period_start=2025-01-01",
    "audit-pack": "/api/v1/documents/audit-pack?programme_id=1",
}
# The line of the footer that carries the data's SHA-256: its moments stay ISO 8601 in UTC, as
# the integrity of the data is read from them, in every language.
INTEGRITY = re.compile(r"[0-9a-f]{64}")
ISO_DAY = re.compile(r"\b\d{4}-\d\d-\d\d\b")
NB_DAY = re.compile(r"\b\d\d\.\d\d\.\d{4}\b")
SLASHED_DAY = re.compile(r"\b\d\d/\d\d/\d{4}\b")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")
MARKUP = re.compile(r"\*\*|\*|`")
LIST_MARK = re.compile(r"^(#+|[-*]|\d+\.)\s+")


@pytest.fixture(scope="module")
def demo(new_database) -> tuple[Any, list[str]]:
    """The demo, and the texts its records hold (what people wrote, in English, stays so)."""
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        return database, written_texts(session)


# Tables whose JSON the service wrote itself (the trail's changes repeat the records' own texts;
# the others hold what was sent or issued): their words are the catalogue's, not people's.
GENERATED = frozenset({"audit_event", "webhook_event", "webhook_delivery", "issued_document"})


def written_texts(session: Any) -> list[str]:
    """The texts people wrote in the records (in English in the demo, and shown as written), the
    longest first."""
    written: set[str] = set()

    def strings(value: Any) -> Iterator[str]:
        # What a JSON column holds that someone typed: the strings at any depth.
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String):
                written.update(str(v) for v in session.scalars(select(column)) if v)
            elif isinstance(column.type, JSON) and table.name not in GENERATED:
                for value in session.scalars(select(column)):
                    written.update(s for s in strings(value) if s)
    # A procedure's Markdown is read back paragraph by paragraph and cell by cell, unmarked.
    parts = {
        LIST_MARK.sub("", MARKUP.sub("", part).strip())
        for text in written
        for line in text.splitlines()
        for part in line.split("|")
    }
    return sorted((p for p in parts if " " in p), key=len, reverse=True)


@pytest.fixture(scope="module")
def issued(demo: tuple[Any, list[str]]) -> dict[str, dict[str, str]]:
    """Every document in each language, as the text a reader reads (kind -> language -> text)."""
    database, _ = demo
    with database.unit_of_work() as session:
        accounts.create_user(session, actor=ADMIN, name="lang-auditor", role=Role.auditor)
        headers = auth(accounts.create_token(session, actor=ADMIN, user_name="lang-auditor").secret)
    client = make_client(database)
    texts: dict[str, dict[str, str]] = {}
    for kind, url in DOCUMENTS.items():
        for language in LANGUAGES:
            joiner = "&" if "?" in url else "?"
            r = client.get(f"{url}{joiner}language={language}", headers=headers)
            assert r.status_code == 200, (kind, language, r.text)
            if kind == "audit-pack":
                archive = zipfile.ZipFile(io.BytesIO(r.content))
                inner = [n for n in archive.namelist() if n.endswith(".docx")]
                assert inner
                text = "\n".join(docx_text(archive.read(n)) for n in sorted(inner))
            else:
                text = docx_text(r.content)
            texts.setdefault(kind, {})[language] = text
    return texts


def _own(text: str, written: list[str]) -> str:
    """The document's own words: what the records hold (a description, a procedure's text) is
    shown as it was written, in the language and with the dates its author wrote."""
    for part in written:
        text = text.replace(part, "\n")
    return text


def _english(language: str) -> list[str]:
    """The English texts of the catalogue, two words or more, whose translation differs: the
    whole text, or each fixed part of a text with placeholders."""
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    found = set()
    for message in catalogue:
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        for part in PLACEHOLDER.split(message.id):
            part = part.strip(" —:;,.()")
            if len(part.split()) >= 2 and part not in str(message.string):
                found.add(part)
    return sorted(found)


def _coded_values() -> list[str]:
    """Every stored value whose code is not a word: an enum member or a rule with an '_'."""
    values = set(RULES)
    for info in pkgutil.walk_packages(qms.__path__, "qms."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, enum.StrEnum):
                values.update(str(member) for member in obj)
    return sorted(v for v in values if "_" in v)


@pytest.mark.parametrize("language", LANGUAGES)
class TestDocumentsSpeakTheLanguage:
    def test_no_english_text_of_the_catalogue_remains(
        self, demo: tuple[Any, list[str]], issued: dict[str, dict[str, str]], language: str
    ) -> None:
        english = _english(language)
        assert len(english) > 100
        _, written = demo
        left: dict[str, list[str]] = {}
        for kind, texts in issued.items():
            text = _own(texts[language], written)
            found = [m for m in english if m in text]
            if found:
                left[kind] = found
        assert left == {}

    def test_no_stored_code_is_shown(
        self, demo: tuple[Any, list[str]], issued: dict[str, dict[str, str]], language: str
    ) -> None:
        codes = _coded_values()
        assert {"action_required", "quality_lead", "verified_effective", "at_risk"} <= set(codes)
        # A procedure may name a code its readers type ("source meeting_rule"): what people
        # wrote stays as written.
        _, written = demo
        shown: dict[str, list[str]] = {}
        for kind, texts in issued.items():
            own = _own(texts[language], written)
            found = [c for c in codes if re.search(rf"\b{re.escape(c)}\b", own)]
            if found:
                shown[kind] = found
        assert shown == {}

    def test_dates_are_written_as_the_language_writes_them(
        self, demo: tuple[Any, list[str]], issued: dict[str, dict[str, str]], language: str
    ) -> None:
        _, records = demo
        wrong: dict[str, list[str]] = {}
        written = 0
        for kind, texts in issued.items():
            text = _own(texts[language], records)
            lines = [line for line in text.splitlines() if not INTEGRITY.search(line)]
            body = "\n".join(lines)
            if language == "nb":
                found = ISO_DAY.findall(body) + SLASHED_DAY.findall(body)
                written += bool(NB_DAY.search(body))
            else:
                found = NB_DAY.findall(body) + SLASHED_DAY.findall(body)
                written += bool(ISO_DAY.search(body))
            if found:
                wrong[kind] = [line for line in lines if any(day in line for day in found)]
        assert wrong == {}
        # Most documents show dates of their own (due, detected, effective, scheduled, period).
        assert written >= 8
