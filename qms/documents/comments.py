"""The comments on a document's records: a table of them, oldest first, each with who wrote it
and when."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from qms.comments import repository
from qms.comments.models import CommentedRecord
from qms.documents.base import moment, people, person, table_or_none
from qms.documents.style import HouseDocument
from qms.i18n import N_, translate

HEADING = N_("Comments")


def rows(
    session: Session, records: Sequence[tuple[CommentedRecord, int, str]], language: str
) -> list[list[str]]:
    """Return one row a comment on the records (kind, id, the number people read it by): its
    record, when it was written, by whom, and its text; in the order the records are given."""
    names = people(session)
    found: list[list[str]] = []
    for record, record_id, number in records:
        found.extend(
            [number, moment(c.created_at, language), person(names, c.author), c.text]
            for c in repository.all_comments(session, record=record, record_id=record_id)
        )
    return found


def headers(language: str) -> list[str]:
    """Return the table's column names."""
    return [
        translate(text, language) for text in (N_("Record"), N_("Written"), N_("By"), N_("Comment"))
    ]


def section(doc: HouseDocument, table: list[list[str]], language: str) -> None:
    """Add the heading and the table of comments (or "None recorded")."""
    doc.heading(translate(HEADING, language))
    table_or_none(doc, headers(language), table, language)
