"""What every document generator shares."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from qms.accounts.service import display_names, shown_name
from qms.audit.service import canonical_json, jsonable
from qms.i18n import format_day, format_moment, format_number, label, translate
from qms.signatures.service import signatures_of


@dataclass
class Draft:
    """A document before it is issued: its bytes and what it was made from."""

    kind: str
    title: str
    code: str
    content: bytes
    data_sha256: str
    programme_id: int | None = None


def data_hash(data: Any) -> str:
    return hashlib.sha256(canonical_json({"data": jsonable(data)}).encode()).hexdigest()


def title_in(text: str, language: str) -> str:
    """Return a document's title in its language (the catalogue's)."""
    return translate(text, language)


def day(value: date | None, language: str) -> str:
    """A date as the document's language writes it (nb 30.11.2026, sv 2026-11-30)."""
    return format_day(value, language)


def moment(value: datetime | None, language: str) -> str:
    """A moment to the minute, in the organisation's time zone, as the language writes it."""
    return format_moment(value, language)


def figure(value: float | None) -> str:
    """A number as the records keep it: whole numbers bare, others to two decimals."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def number(value: float | None, language: str) -> str:
    """A number as a report shows it: whole numbers bare, others to two decimals, with the
    language's decimal sign."""
    return format_number(value, language)


def people(session: Session) -> dict[str, str]:
    """The names people read users by, keyed by login: loaded once for a document."""
    return display_names(session)


def person(names: dict[str, str], login: str | None) -> str:
    """Who someone is in a document: their display name, else the login (or actor) as kept."""
    return shown_name(names, login)


def signature_rows(session: Session, entity: str, entity_id: int, language: str) -> list[list[str]]:
    """A record's signatures as table rows: meaning, signer, time, SHA-256 signed."""
    signatures = signatures_of(session, entity=entity, entity_id=entity_id)
    names = display_names(session, (s.signer for s in signatures))
    return [
        [
            label(s.meaning, language),
            person(names, s.signer),
            moment(s.signed_at, language),
            s.content_sha256,
        ]
        for s in signatures
    ]


def signature_headers(language: str) -> list[str]:
    """The column headers of a signature table."""
    return [
        translate("Meaning", language),
        translate("Signer", language),
        translate("Signed", language),
        translate("SHA-256 of what was signed", language),
    ]
