"""Read the rows of an import file — CSV, JSON (array or JSON Lines) or XLSX — one at a time.

Row numbers are the file's own: in CSV and XLSX the header is row 1 and data starts at row 2; in
JSON Lines they are line numbers; in a JSON array, the position of the object (from 1).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Either, Text

FORMATS = ("csv", "json", "xlsx")
TOO_DEEP = Text("The JSON is nested too deeply: write each row as an object of plain values.")


@dataclass(frozen=True)
class ImportFile:
    """A file to import, kept on disk so that it can be read twice without holding it in memory."""

    path: Path
    name: str
    format: str
    sheet: str | None = None


def detect_format(name: str, given: str | None = None) -> str:
    """Return the file's format from what the client said or the file name's ending."""
    if given:
        if given not in FORMATS:
            raise ValidationFailed(
                Text("The file's format is not one we read."),
                [FieldError("format", Text("Choose %(choices)s.", choices=Either(FORMATS)))],
            )
        return given
    ending = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ending in ("csv", "txt"):
        return "csv"
    if ending in ("json", "jsonl", "ndjson"):
        return "json"
    if ending == "xlsx":
        return "xlsx"
    raise ValidationFailed(
        Text("The file's format cannot be told from its name."),
        [
            FieldError(
                "format",
                Text(
                    "Name the format (%(formats)s) or use a file name ending in it.",
                    formats=Either(FORMATS),
                ),
            )
        ],
    )


def _problem(name: str, message: Text, row: int | None = None) -> ValidationFailed:
    return ValidationFailed(
        Text("The file %(file)s cannot be read.", file=name),
        [FieldError("file", message, row)],
    )


NOT_UTF8 = Text("The file is not UTF-8 text: save it as UTF-8 and send it again.")


def read_rows(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Return the header and an iterator of (row number, row) for the file."""
    if source.format == "csv":
        return _csv(source)
    if source.format == "json":
        return _json(source)
    return _xlsx(source)


def _csv(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    handle = source.path.open(encoding="utf-8-sig", newline="")
    try:
        sample = handle.read(65536)
    except UnicodeDecodeError as exc:
        handle.close()
        raise _problem(source.name, NOT_UTF8) from exc
    handle.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        raise _problem(source.name, Text("The file is empty."), 1) from None

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield reader.line_num, dict(zip(header, values, strict=False))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _problem(
                source.name,
                Text("The file is not valid CSV (%(error)s).", error=str(exc)),
                reader.line_num,
            ) from exc
        finally:
            handle.close()

    return header, rows()


def _json(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    try:
        with source.path.open(encoding="utf-8-sig") as handle:
            first = handle.read(1)
            while first and first.isspace():
                first = handle.read(1)
    except UnicodeDecodeError as exc:
        raise _problem(source.name, NOT_UTF8, None) from exc
    if first == "[":
        try:
            data = json.loads(source.path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _problem(
                source.name,
                Text("The file is not valid JSON (%(error)s).", error=str(exc)),
                getattr(exc, "lineno", None),
            ) from exc
        except RecursionError as exc:
            raise _problem(source.name, TOO_DEEP, None) from exc

        def items() -> Iterator[tuple[int, dict[str, Any]]]:
            for number, item in enumerate(data, start=1):
                if not isinstance(item, dict):
                    raise _problem(
                        source.name, Text("Write each element of the array as an object."), number
                    )
                yield number, item

        header = sorted({k for item in data[:1000] if isinstance(item, dict) for k in item})
        return header, items()

    def lines() -> Iterator[tuple[int, dict[str, Any]]]:
        with source.path.open(encoding="utf-8-sig") as handle:
            number = 0
            while True:
                try:
                    line = handle.readline()
                except UnicodeDecodeError as exc:
                    raise _problem(source.name, NOT_UTF8, number + 1) from exc
                if not line:
                    return
                number += 1
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise _problem(
                        source.name,
                        Text("The line is not valid JSON (%(error)s).", error=exc.msg),
                        number,
                    ) from exc
                except RecursionError as exc:
                    raise _problem(source.name, TOO_DEEP, number) from exc
                if not isinstance(item, dict):
                    raise _problem(source.name, Text("Write each line as a JSON object."), number)
                yield number, item

    peek = lines()
    first_row = next(peek, None)
    header = sorted(first_row[1]) if first_row else []

    def chained() -> Iterator[tuple[int, dict[str, Any]]]:
        if first_row is not None:
            yield first_row
        yield from peek

    return header, chained()


def _xlsx(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook  # only when a workbook comes: it is slow to import

    # A file object, not a path: openpyxl would judge a path by its ending, not its content.
    handle = source.path.open("rb")
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        handle.close()
        raise _problem(source.name, Text("The file is not an XLSX workbook.")) from exc
    if source.sheet is not None and source.sheet not in book.sheetnames:
        book.close()
        handle.close()
        raise ValidationFailed(
            Text("The workbook has no sheet %(sheet)s.", sheet=source.sheet),
            [
                FieldError(
                    "sheet",
                    Text("Choose %(choices)s.", choices=Either(book.sheetnames)),
                )
            ],
        )
    sheet = book[source.sheet] if source.sheet else book.worksheets[0]
    stream = sheet.iter_rows(values_only=True)
    first = next(stream, None)
    if first is None:
        book.close()
        handle.close()
        raise _problem(source.name, Text("The sheet is empty."), 1)
    header = ["" if h is None else str(h).strip() for h in first]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, values in enumerate(stream, start=2):
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                yield number, dict(zip(header, values, strict=False))
        finally:
            book.close()
            handle.close()

    return header, rows()


def text_of(value: Any) -> str:
    """Return a cell's value as stripped text (numbers as written, no trailing .0)."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
