"""What every document generator shares."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from qms.accounts.service import display_names, shown_name
from qms.audit.service import canonical_json, jsonable
from qms.i18n import N_, format_day, format_moment, format_number, label, translate
from qms.signatures.service import signatures_of

if TYPE_CHECKING:
    from qms.documents.style import HouseDocument


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
    """A record's signatures as table rows: meaning, signer, time, statement, SHA-256 signed."""
    signatures = signatures_of(session, entity=entity, entity_id=entity_id)
    names = display_names(session, (s.signer for s in signatures))
    return [
        [
            label(s.meaning, language),
            s.signer_name or person(names, s.signer),
            moment(s.signed_at, language),
            s.statement or translate(NONE_RECORDED, language),
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
        translate("Statement signed", language),
        translate("SHA-256 of what was signed", language),
    ]


# What a reader is told where a record has none of something, in place of a header-only table.
NONE_RECORDED = N_("None recorded")
# What a signature attests, by the record signed and the signature's meaning: said beside the
# meaning, so a reader knows what the signer took responsibility for.
ATTESTS: dict[tuple[str, str], str] = {
    ("deviation", "closed"): N_(
        "closes the deviation: the closure summary stands and every corrective action is "
        "verified effective"
    ),
    ("action", "verified"): N_("verifies the corrective action's result against its evidence"),
    ("procedure_version", "approved"): N_("approves the procedure version for use"),
    ("procedure_version", "reviewed"): N_("has reviewed the procedure version"),
    ("internal_audit", "closed"): N_("accepts the audit report and closes the audit"),
    ("management_review", "approved"): N_("approves the review's decisions and conclusion"),
}


def not_recorded(language: str) -> str:
    """The words for a field the record leaves empty."""
    return translate(NONE_RECORDED, language)


def or_none(value: str | None, language: str) -> str:
    """The value, or "None recorded" where the record leaves it empty."""
    return value if value else not_recorded(language)


def table_or_none(
    doc: HouseDocument, headers: list[str], rows: list[list[str]], language: str
) -> None:
    """Add the table, or say "None recorded" where it would have only its header row."""
    if rows:
        doc.table(headers, rows)
    else:
        doc.paragraph(not_recorded(language))


def signed_rows(
    session: Session, records: list[tuple[str, int, str]], language: str
) -> list[list[str]]:
    """Signatures of several records as table rows: what was signed, the meaning with what it
    attests, signer (the name printed when they signed), time, the statement they signed and
    the SHA-256 signed. Each record as (entity, id, its number)."""
    rows = []
    for entity, entity_id, shown in records:
        signatures = signatures_of(session, entity=entity, entity_id=entity_id)
        names = display_names(session, (s.signer for s in signatures))
        for s in signatures:
            meaning = label(s.meaning, language)
            attests = ATTESTS.get((entity, str(s.meaning)))
            rows.append(
                [
                    shown,
                    f"{meaning} — {translate(attests, language)}" if attests else meaning,
                    s.signer_name or person(names, s.signer),
                    moment(s.signed_at, language),
                    s.statement or not_recorded(language),
                    s.content_sha256,
                ]
            )
    return rows


def signed_headers(language: str) -> list[str]:
    """The column headers of signed_rows."""
    return [translate("Record", language), *signature_headers(language)]
