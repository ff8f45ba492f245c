"""Read the rows of an import file — CSV, JSON (array or JSON Lines) or XLSX — one at a time.

Row numbers are the file's own: in CSV and XLSX the row as a spreadsheet shows it — the header is
row 1, data starts at row 2, and a CSV record whose quoted field holds line breaks is one row
(so a row is not a line of the file); in JSON Lines they are line numbers; in a JSON array, the
position of the object (from 1).

CSV files are read as survey tools write them: UTF-8 with or without a byte-order mark, UTF-16
with one (Excel's "Unicode text"), or an encoding the sender names (windows-1252); the delimiter
(comma, semicolon, tab or bar) and quoting are found by CleverCSV on a sample of the start of the
file, or named by the sender; when neither settles it the file is refused, never guessed at.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qms.config import get_settings
from qms.errors import FieldError, TooLarge, ValidationFailed
from qms.evaluations.bounds import check_workbook
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
    # CSV: what the sender says of the file, over what is found in it.
    delimiter: str | None = None
    encoding: str | None = None
    # How the file was read (CSV: its encoding and delimiter), filled in as it is read.
    found: dict[str, str] = field(default_factory=dict, compare=False)


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


class Cells:
    """A CSV file's rows as (row number, the list of its cells), with the header that names the
    cells: the import's own reading, without a dict made for each row."""

    def __init__(self, header: list[str], rows: Iterator[tuple[int, list[str]]]) -> None:
        self.header, self.rows = header, rows

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self.rows

    def __next__(self) -> tuple[int, list[str]]:
        return next(self.rows)

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def read_rows(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Return the header and an iterator of (row number, row) for the file."""
    if source.format == "csv":
        header, rows = _csv(source, as_lists=False)
        return header, rows
    if source.format == "json":
        return _json(source)
    return _xlsx(source)


def read_records(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, Any]]]:
    """Return the header and the rows as read_rows does, but a CSV file's rows as Cells: each
    row the list of its cells, each cell named by the header at its place (a row shorter than
    the header lacks the last columns; of two columns named alike, the last is read)."""
    if source.format == "csv":
        return _csv(source, as_lists=True)
    if source.format == "json":
        return _json(source)
    return _xlsx(source)


SAMPLE_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "\\t": "\t",
    "bar": "|",
    "pipe": "|",
}
# Under a question, SurveyMonkey's second header row says what kind of answer the column holds.
SUBHEADER_WORDS = frozenset({"response", "open-ended response", "other (please specify)"})


def _delimiter_given(given: str) -> str:
    delimiter = DELIMITER_NAMES.get(given.strip().lower(), given)
    if delimiter not in DELIMITERS:
        raise ValidationFailed(
            Text("The delimiter is not one we read."),
            [
                FieldError(
                    "delimiter",
                    Text(
                        "Choose %(choices)s.",
                        choices=Either(("comma", "semicolon", "tab", "bar (|)")),
                    ),
                )
            ],
        )
    return delimiter


def _codec(source: ImportFile, head: bytes) -> str:
    """Return the codec to read the file with: the one named, else by its byte-order mark."""
    if source.encoding:
        try:
            name = codecs.lookup(source.encoding.strip()).name
        except LookupError:
            raise ValidationFailed(
                Text("The encoding is not one we know."),
                [
                    FieldError(
                        "encoding",
                        Text("Name an encoding such as utf-8, utf-16 or windows-1252."),
                    )
                ],
            ) from None
        if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if name in ("utf-16-le", "utf-16-be") and head[:2] in (
            codecs.BOM_UTF16_LE,
            codecs.BOM_UTF16_BE,
        ):
            return "utf-16"
        return name
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8"


def _steady(sample: str, delimiter: str, *, cut: bool) -> bool:
    """Say whether every row of the sample has as many columns (two at least) under the
    delimiter, the standard quoting read; a last row cut by the sample's end is left out."""
    try:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
    except csv.Error:
        return False
    if cut and len(rows) > 1:
        rows = rows[:-1]
    widths = {len(r) for r in rows}
    return len(widths) == 1 and widths.pop() >= 2


def _shown_delimiter(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar (|)"}[delimiter]


def _csv(source: ImportFile, *, as_lists: bool) -> tuple[list[str], Iterator[Any]]:
    with source.path.open("rb") as raw:
        head = raw.read(4)
    codec = _codec(source, head)
    handle = source.path.open(encoding=codec, newline="")
    try:
        sample = handle.read(SAMPLE_CHARS)
    except UnicodeDecodeError as exc:
        handle.close()
        if source.encoding:
            raise _problem(
                source.name,
                Text(
                    "The file cannot be read as %(encoding)s: check the encoding named.",
                    encoding=codec,
                ),
            ) from exc
        raise ValidationFailed(
            Text("The file %(file)s cannot be read.", file=source.name),
            [
                FieldError(
                    "encoding",
                    Text(
                        "The file is not UTF-8 text: name its encoding (such as windows-1252), "
                        "or save it as UTF-8 and send it again."
                    ),
                )
            ],
        ) from exc
    handle.seek(0)
    if codec == "utf-16":
        # Seeking back to the start makes the codec read the byte-order mark again.
        handle.close()
        handle = source.path.open(encoding=codec, newline="")
    sample = sample.lstrip("\ufeff")
    if len(sample) == SAMPLE_CHARS and "\n" in sample:
        # A record cut at the sample's end would look like another dialect.
        sample = sample[: sample.rindex("\n") + 1]
    if not sample.strip():
        handle.close()
        raise _problem(source.name, Text("The file is empty."), 1)
    escapechar: str | None = None
    if source.delimiter:
        delimiter, quotechar = _delimiter_given(source.delimiter), '"'
    else:
        import clevercsv  # only when a CSV comes: it is slow to import

        try:
            # A NUL in an answer is the row's problem, named by its row later, not the file's.
            found = clevercsv.Detector().detect(
                sample.replace("\x00", " "), delimiters=list(DELIMITERS)
            )
        except clevercsv.Error:
            found = None
        delimiter = (found.delimiter if found is not None else "") or ""
        quotechar = (found.quotechar if found is not None else "") or '"'
        escapechar = (found.escapechar if found is not None else "") or None
        # Checked against the rows themselves: the one delimiter under which every row of the
        # sample has the header's number of columns (two at least) is the file's.
        steady = [d for d in DELIMITERS if _steady(sample, d, cut=len(sample) >= SAMPLE_CHARS)]
        if delimiter not in steady and len(steady) == 1:
            delimiter, quotechar, escapechar = steady[0], '"', None
        if len(steady) > 1:
            handle.close()
            raise ValidationFailed(
                Text("The file %(file)s cannot be read.", file=source.name),
                [
                    FieldError(
                        "delimiter",
                        Text(
                            "The columns may be separated by %(delimiters)s alike: every row "
                            "reads whole either way. Name the delimiter.",
                            delimiters=Either(_shown_delimiter(d) for d in steady),
                        ),
                        1,
                    )
                ],
            )
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    header_read = (
        next(csv.reader([first_line], delimiter=delimiter, quotechar=quotechar))
        if delimiter
        else [first_line]
    )
    if delimiter not in DELIMITERS or len(header_read) < 2:
        handle.close()
        raise ValidationFailed(
            Text("The file %(file)s cannot be read.", file=source.name),
            [
                FieldError(
                    "delimiter",
                    Text(
                        "The columns cannot be told apart: none of %(delimiters)s separates "
                        "them clearly in the header as read (%(header)s). Name the delimiter.",
                        delimiters=Either(_shown_delimiter(d) for d in DELIMITERS),
                        header=first_line[:200],
                    ),
                    1,
                )
            ],
        )
    source.found.update(encoding=codec, delimiter=delimiter)
    reader = csv.reader(
        handle,
        delimiter=delimiter,
        quotechar=quotechar,
        escapechar=escapechar,
        doublequote=True,
        strict=False,
    )
    try:
        first = next(reader)
    except StopIteration:
        handle.close()
        raise _problem(source.name, Text("The file is empty."), 1) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise _problem(
            source.name, Text("The file is not valid CSV (%(error)s).", error=str(exc)), 1
        ) from exc
    header = [h.lstrip("\ufeff").strip() for h in first]

    def records() -> Iterator[Any]:
        # First the header (a SurveyMonkey second header row read into it), then each row with
        # its number as a spreadsheet shows it: every record one row, a blank line a row too.
        # One generator for it all, read once per row of the file.
        number = 1
        try:
            values: list[str] | None = next(reader, None)
            names = header
            if values is not None:
                number = 2
                below = _subheader(header, values)
                if below is not None:
                    names, values = below, None
            yield names
            if values is not None and "".join(values).strip():
                yield number, values if as_lists else dict(zip(names, values, strict=False))
            for number, values in enumerate(reader, start=number + 1):  # noqa: B020
                # Text only (the csv module's): a blank row is told by one join.
                if "".join(values).strip():
                    yield number, values if as_lists else dict(zip(names, values, strict=False))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _problem(
                source.name,
                Text("The file is not valid CSV (%(error)s).", error=str(exc)),
                number + 1,
            ) from exc
        finally:
            handle.close()

    stream = records()
    names: list[str] = next(stream)
    return names, Cells(names, stream) if as_lists else stream


def _subheader(header: list[str], values: Any) -> list[str] | None:
    """Return the header with the row under it read into it, if that row is SurveyMonkey's
    second header row (what kind of answer each column holds); else None."""
    cells = ["" if _blank(v) else str(v).strip() for v in values]
    words = {c.casefold() for c in cells if c}
    if not words or not words <= SUBHEADER_WORDS:
        return None
    # SurveyMonkey: a question's other columns have no header of their own above.
    return [
        top or (f"{header[i - 1]} - {below}" if i and below else below)
        for i, (top, below) in enumerate(
            zip(header + [""] * (len(cells) - len(header)), cells, strict=False)
        )
    ]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _all_blank(values: Any) -> bool:
    try:
        # A row of text (every row of CSV): one join in C rather than a test per cell.
        return not "".join(values).strip()
    except TypeError:  # a workbook's numbers, dates or empty cells
        return all(_blank(v) for v in values)


def _with_subheader(
    header: list[str], records: Iterator[tuple[int, Any]]
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Return the header (a SurveyMonkey second header row read into it) and the rows as dicts."""
    first = next(records, None)
    if first is not None:
        below = _subheader(header, first[1])
        if below is not None:
            header, first = below, None

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        pending = [first] if first is not None else []
        for number, values in itertools.chain(pending, records):
            if _all_blank(values):
                continue
            yield number, dict(zip(header, values, strict=False))

    return header, rows()


def column_finder(header: list[str]) -> Callable[[str], str | None]:
    """Return a function finding a column by its name, whatever its case and spaces around it."""
    by_name: dict[str, str] = {}
    for name in header:
        by_name.setdefault(_normal(name), name)

    def find(name: str) -> str | None:
        return by_name.get(_normal(name))

    return find


def _normal(name: str) -> str:
    return " ".join(name.split()).casefold()


def _json(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    try:
        with source.path.open(encoding="utf-8-sig") as handle:
            first = handle.read(1)
            while first and first.isspace():
                first = handle.read(1)
    except UnicodeDecodeError as exc:
        raise _problem(source.name, NOT_UTF8, None) from exc
    if first == "[":
        return _json_array(source)

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


def _json_array(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Read a JSON array one object at a time; the header is the keys of the first objects."""
    import ijson  # type: ignore[import-untyped,unused-ignore]

    handle = source.path.open("rb")
    if handle.read(3) != codecs.BOM_UTF8:
        handle.seek(0)
    # ijson's own items() builds a prefix string per level (quadratic in the depth): the objects
    # are built here from its plain events, refusing a file nested past a depth no row needs.
    stream = enumerate(_elements(ijson.basic_parse(handle, use_float=True)), start=1)

    def next_item() -> tuple[int, Any] | None:
        try:
            return next(stream, None)
        except ijson.JSONError as exc:
            handle.close()
            raise _problem(
                source.name, Text("The file is not valid JSON (%(error)s).", error=str(exc))
            ) from exc
        except RecursionError as exc:
            handle.close()
            raise _problem(source.name, TOO_DEEP, None) from exc

    # The first objects are held to name the columns; the others are read as they come.
    first: list[tuple[int, Any]] = []
    while len(first) < 1000 and (found := next_item()) is not None:
        first.append(found)
    header = sorted({k for _, item in first if isinstance(item, dict) for k in item})

    def items() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            pending = iter(first)
            while (found := next(pending, None) or next_item()) is not None:
                number, item = found
                if not isinstance(item, dict):
                    raise _problem(
                        source.name, Text("Write each element of the array as an object."), number
                    )
                yield number, item
        finally:
            handle.close()

    return header, items()


MAX_DEPTH = 32


def _elements(events: Iterator[tuple[str, Any]]) -> Iterator[Any]:
    """Build the elements of a top-level array from parser events, one at a time."""
    stack: list[Any] = []
    keys: list[Any] = []
    for event, value in events:
        if event == "map_key":
            keys[-1] = value
            continue
        if event in ("start_map", "start_array"):
            if len(stack) >= MAX_DEPTH:
                raise RecursionError
            stack.append({} if event == "start_map" else [])
            keys.append(None)
            continue
        if event in ("end_map", "end_array"):
            value = stack.pop()
            keys.pop()
            if not stack:
                # The array has ended: what follows it must be nothing but space.
                for _ in events:
                    pass
                return
        if len(stack) == 1:
            yield value
        elif type(stack[-1]) is dict:
            stack[-1][keys[-1]] = value
        else:
            stack[-1].append(value)


def _xlsx(source: ImportFile) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook  # only when a workbook comes: it is slow to import

    # A file object, not a path: openpyxl would judge a path by its ending, not its content.
    handle = source.path.open("rb")
    try:
        check_workbook(handle)
    except TooLarge:
        handle.close()
        raise
    handle.seek(0)
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
    if hasattr(sheet, "reset_dimensions"):
        # The size a sheet declares is not believed (A1:XFD1048576 would pad every row to 16,384
        # cells): each row holds the cells it has.
        sheet.reset_dimensions()
    stream = sheet.iter_rows(values_only=True)
    first = next(stream, None)
    if first is None:
        book.close()
        handle.close()
        raise _problem(source.name, Text("The sheet is empty."), 1)
    header = ["" if h is None else str(h).strip() for h in first]

    end, most = get_settings().import_empty_rows_end, get_settings().import_max_rows

    def records() -> Iterator[tuple[int, Any]]:
        # A sheet padded with empty rows (millions, at little cost to the file's size) ends at a
        # run of them, rather than having openpyxl make each one; empty rows between full ones
        # count towards the limit of rows.
        empty = 0
        try:
            for number, values in enumerate(stream, start=2):
                if number > most + 1:
                    raise TooLarge(
                        Text(
                            "The file has more than %(limit)s rows, the most one import takes: "
                            "split it into smaller files.",
                            limit=most,
                        )
                    )
                empty = empty + 1 if _all_blank(values) else 0
                if empty >= end:
                    return
                yield number, values
        finally:
            book.close()
            handle.close()

    return _with_subheader(header, records())


def text_of(value: Any) -> str:
    """Return a cell's value as stripped text (numbers as written, no trailing .0)."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
