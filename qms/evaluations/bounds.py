"""What one import may hold, and reading a large file without holding it.

The limits are settings (qms.config): rows, cells in all, characters in one cell, and for an XLSX
workbook its unpacked size and its count of shared strings — judged from the zip's directory and
a scan of the shared strings before openpyxl reads anything, since openpyxl holds every shared
string in memory. A JSON array is read one object at a time (ijson), never whole.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from qms.config import get_settings
from qms.errors import FieldError, TooLarge, ValidationFailed
from qms.i18n import Text

Item = tuple[int, dict[str, Any]]
# The start tag of a shared string, with or without a namespace prefix (<si>, <x:si ...>).
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_TAIL = 64


def bounded(name: str, rows: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """Pass the rows on, refusing the file at the first row, cell or character past a limit.

    A row is a dict of its cells by column, or the list of its cells when the rows come as
    qms.evaluations.readers.Cells, whose header names them."""
    settings = get_settings()
    max_rows, max_cells = settings.import_max_rows, settings.import_max_cells
    max_chars = settings.import_max_cell_chars
    header: list[str] | None = getattr(rows, "header", None)
    cells = 0
    for count, (number, row) in enumerate(rows, start=1):
        if count > max_rows:
            raise TooLarge(
                Text(
                    "The file has more than %(limit)s rows, the most one import takes: split it "
                    "into smaller files.",
                    limit=max_rows,
                )
            )
        cells += len(row)
        if cells > max_cells:
            raise TooLarge(
                Text(
                    "The file has more than %(limit)s cells, the most one import takes: split it "
                    "into smaller files.",
                    limit=max_cells,
                )
            )
        try:
            # A row of text (all of CSV) whose characters in all are within the limit has no cell
            # past it: one sum in C instead of a test per cell.
            suspect = sum(map(len, row if type(row) is list else row.values())) > max_chars
        except TypeError:  # numbers or dates from a workbook or JSON
            suspect = True
        if not suspect:
            yield number, row
            continue
        named = row.items() if header is None else zip(header, row, strict=False)
        for column, value in named:
            if type(value) is str and len(value) > max_chars:
                raise ValidationFailed(
                    Text("The file %(file)s cannot be read.", file=name),
                    [
                        FieldError(
                            str(column),
                            Text(
                                "The cell holds more than %(limit)s characters, the most one "
                                "cell may hold: shorten it.",
                                limit=max_chars,
                            ),
                            number,
                        )
                    ],
                )
        yield number, row


def check_workbook(handle: IO[bytes]) -> None:
    """Refuse a workbook that unpacks past the limit or has too many shared strings.

    A file that is not a zip is left for openpyxl to refuse in its own words.
    """
    settings = get_settings()
    try:
        book = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError):
        return
    # The sizes in the zip's directory bind: zipfile reads no member past its stated size.
    parts = book.infolist()
    unpacked = sum(part.file_size for part in parts)
    if unpacked > settings.import_max_unpacked_bytes:
        raise TooLarge(
            Text(
                "The workbook unpacks to more than %(limit)s bytes, the most one import takes: "
                "save the sheet as CSV, or split it.",
                limit=settings.import_max_unpacked_bytes,
            )
        )
    limit = settings.import_max_shared_strings
    for part in parts:
        if not part.filename.lower().endswith("sharedstrings.xml"):
            continue
        try:
            found = _count_shared_strings(book, part, limit)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return
        if found > limit:
            raise TooLarge(
                Text(
                    "The workbook has more than %(limit)s different texts (shared strings), the "
                    "most one import takes: save the sheet as CSV, or split it.",
                    limit=limit,
                )
            )


def _count_shared_strings(book: zipfile.ZipFile, part: zipfile.ZipInfo, limit: int) -> int:
    """Count the shared strings of the part, stopping once past the limit."""
    found, tail = 0, b""
    with book.open(part) as stream:
        while chunk := stream.read(1 << 20):
            buffer = tail + chunk
            # A tag across the chunks' border is counted once: in the chunk where it ends.
            found += sum(1 for m in _SHARED_STRING.finditer(buffer) if m.end() > len(tail))
            if found > limit:
                return found
            tail = buffer[-_TAIL:]
    return found
