"""What every document generator shares."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from qms.audit.service import canonical_json, jsonable
from qms.i18n import translate
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


def day(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def figure(value: float | None) -> str:
    """A number as a report shows it: whole numbers bare, others to two decimals."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def signature_rows(session: Session, entity: str, entity_id: int) -> list[list[str]]:
    """A record's signatures as table rows: meaning, signer, time, SHA-256 signed."""
    return [
        [s.meaning.value, s.signer, f"{s.signed_at:%Y-%m-%d %H:%M}", s.content_sha256]
        for s in signatures_of(session, entity=entity, entity_id=entity_id)
    ]
