"""A list of the API taken as a file: `?format=csv|xlsx|json`, or Accept (see qms.exports)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Annotated, Any

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from api.problems import reader_language
from qms import exports, i18n, references
from qms.accounts import service as accounts
from qms.deviations.listing import today
from qms.i18n import field_label, label, timeline, values

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qms.audit.models import AuditEvent
    from qms.pagination import Page


class ExportFormat(enum.StrEnum):
    """The formats a list is taken out in."""

    csv = "csv"
    xlsx = "xlsx"
    json = "json"


FormatQuery = Annotated[
    ExportFormat | None,
    Query(
        alias="format",
        description="Take the whole list, every page as filtered and sorted, as a file: csv "
        "(UTF-8, labels in the Accept-Language), xlsx, or json (the items as here, codes and "
        "all). Accept: text/csv or the XLSX media type asks the same.",
    ),
]

_BINARY = {"schema": {"type": "string", "format": "binary"}}
# The files a list answers with besides its page of JSON, for the route's `responses`.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": _BINARY, exports.XLSX: _BINARY}},
}


def wanted(request: Request, requested: ExportFormat | None) -> str | None:
    """Return the format the request asks a list in, if a file."""
    return exports.wanted(requested.value if requested else None, request.headers.get("accept"))


def exported(
    request: Request,
    fmt: str,
    *,
    stem: str,
    title: str,
    columns: Iterable[exports.Column],
    records: Iterable[dict[str, Any]],
) -> StreamingResponse:
    """Answer with the records as a file to save, written a page at a time."""
    language = reader_language(request)
    columns = list(columns)
    names = None
    if any(c.refers for c in columns):
        with request.app.state.database.unit_of_work(write=False) as session:
            names = exports.reference_names(session, columns)
    file = exports.spooled(
        fmt,
        columns,
        records,
        language=language,
        title=i18n.translate(title, language),
        names=names,
    )
    return file_response(file, fmt, stem)


def page_export(
    request: Request,
    fmt: str,
    *,
    language: str,
    stem: str,
    title: str,
    columns: Iterable[exports.Column],
    records: Callable[[Session], Iterable[dict[str, Any]]],
) -> StreamingResponse:
    """Answer a page's Export link: the records read in the page's own unit of work."""
    from api.web.core import read

    columns = list(columns)

    def write(session: Session) -> IO[bytes]:
        names = exports.reference_names(session, columns)
        return exports.spooled(
            fmt, columns, records(session), language=language, title=title, names=names
        )

    return file_response(read(request, write), fmt, stem)


def file_response(file: IO[bytes], fmt: str, stem: str) -> StreamingResponse:
    """Answer with a list's file (see qms.exports.spooled), saved under the list's name."""
    name = exports.file_name(stem, fmt, today())
    return StreamingResponse(
        exports.chunks(file),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": exports.disposition(name)},
    )


def _said(value: Any, field: str, language: str) -> str:
    """A value as the trail keeps it, for a spreadsheet: a code by its label, a list its items."""
    if value is None or value == "":
        return timeline.NOTHING
    if isinstance(value, list):
        return ", ".join(_said(item, field, language) for item in value) or timeline.NOTHING
    from api.web.core import CODED_FIELDS

    if field in CODED_FIELDS and isinstance(value, str):
        return label(value, language)
    return str(value)


def _changes(event: AuditEvent, language: str) -> str:
    """The changes of an event as a line: "Severity: minor → major; Due: 2026-06-01 → …"."""
    said = []
    for name, change in timeline.changes(event).items():
        if isinstance(change, Mapping) and "new" in change:
            said.append(
                f"{field_label(name, language)}: {_said(change.get('old'), name, language)} → "
                f"{_said(change.get('new'), name, language)}"
            )
    return "; ".join(said)


def trail_rows(
    session: Session, fetch: Callable[[str | None], Page[AuditEvent]], language: str
) -> Iterator[dict[str, Any]]:
    """Yield every event as a row the reader reads: names, numbers and sentences, a page at a
    time (the names and numbers of a page looked up at once)."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        numbers = references.numbers(session, [(e.entity, e.entity_id or "") for e in page.items])
        people = accounts.display_names(session, {e.actor for e in page.items})
        for event in page.items:
            yield {
                "seq": event.seq,
                "at": event.at.isoformat(),
                "actor": people.get(event.actor, event.actor),
                "record_kind": values.record_kind(event.entity, language),
                "record": numbers.get((event.entity, event.entity_id or ""), ""),
                "happened": timeline.headline(event, language, numbers),
                "changes": _changes(event, language),
                "reason": event.reason or "",
                "hash": event.hash,
            }
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
