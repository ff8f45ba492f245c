"""A list of the API taken as a file: `?format=csv|xlsx|json`, or Accept (see qms.exports)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Annotated, Any

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from api.problems import reader_language
from qms import exports, i18n
from qms.deviations.listing import today

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
