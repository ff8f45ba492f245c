"""The house style of every document: header, footer with Page X of Y, control block, tables.

Every text comes in the document's language (qms.i18n). A document carries the time its records
were read (as of) and the SHA-256 of the data it shows, so two issues of the same records can be
compared.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from qms.fields import NOT_TEXT
from qms.i18n import N_, translate

# The labels of the document-control block, translated through the catalogue.
LABELS: dict[str, str] = {
    "code": N_("Code"),
    "version": N_("Version"),
    "status": N_("Status"),
    "owner": N_("Owner"),
    "approver": N_("Approved by"),
    "effective": N_("Effective from"),
    "document_control": N_("Document control"),
}
# The footer: whole sentences, so that each language orders its words its own way; the page
# number and count are Word fields put where the sentence has their placeholders.
PAGE_OF = N_("Page %(page)s of %(pages)s")
PROVENANCE = N_(
    "Generated %(generated)s UTC from records as of %(as_of)s UTC — data SHA-256 %(data)s"
)
FIELDS = {"page": "PAGE", "pages": "NUMPAGES"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Issue:
    """What every page says about where the document came from."""

    organisation: str
    title: str
    code: str
    as_of: datetime
    generated_at: datetime
    data_sha256: str
    language: str = "en"

    def label(self, key: str) -> str:
        """Return a label in the document's language."""
        return translate(LABELS[key], self.language)


def xml_text(text: str) -> str:
    """Return the text with each character XML cannot hold shown as U+FFFD.

    The schemas refuse such characters (qms.fields.NOT_TEXT); a record kept from before they did,
    or written around them, still gives its document, with the place of each one visible."""
    return NOT_TEXT.sub("\ufffd", text)


def _field(paragraph: object, instruction: str) -> None:
    """Add a Word field (PAGE, NUMPAGES): begin, instruction, separate, placeholder, end."""
    run = paragraph.add_run()  # type: ignore[attr-defined]
    for kind, text in (
        ("begin", None),
        (None, instruction),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


class HouseDocument:
    """A python-docx document in the house style."""

    def __init__(self, issue: Issue, *, landscape: bool = False) -> None:
        self.issue = issue
        self.doc = Document()
        styles = self.doc.styles
        styles["Normal"].font.name = "Calibri"
        styles["Normal"].font.size = Pt(10)
        section = self.doc.sections[0]
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2))
        header = section.header.paragraphs[0]
        header.text = xml_text(f"{issue.organisation} — {issue.title} — {issue.code}")
        footer = section.footer.paragraphs[0]
        # Split keeps the placeholders' names at the odd places: text, field, text, field, text.
        for i, part in enumerate(_PLACEHOLDER.split(translate(PAGE_OF, issue.language))):
            if i % 2:
                _field(footer, FIELDS[part])
            elif part:
                footer.add_run(part)
        # The moments stay ISO 8601 in UTC in every language: the data's integrity is read
        # from them and the hash beside them, not by a reader of the language.
        line = section.footer.add_paragraph(
            translate(PROVENANCE, issue.language)
            % {
                "generated": f"{issue.generated_at:%Y-%m-%d %H:%M}",
                "as_of": f"{issue.as_of:%Y-%m-%d %H:%M}",
                "data": issue.data_sha256,
            }
        )
        line.runs[0].font.size = Pt(7)
        properties = self.doc.core_properties
        properties.title = xml_text(issue.title)
        properties.identifier = xml_text(issue.code)
        properties.author = xml_text(issue.organisation)
        properties.created = properties.modified = issue.as_of.replace(tzinfo=None)
        properties.revision = 1
        self.doc.add_heading(xml_text(issue.title), level=0)

    def control_block(self, rows: Sequence[tuple[str, str]]) -> None:
        """Add the document-control block: code, version, status, owner, approver, dates."""
        self.doc.add_heading(self.issue.label("document_control"), level=2)
        self.table(["", ""], [list(r) for r in rows], header=False)

    def heading(self, text: str, level: int = 1) -> None:
        """Add a heading."""
        self.doc.add_heading(xml_text(text), level=level)

    def paragraph(self, text: str, *, bold: bool = False) -> None:
        """Add a paragraph of text."""
        paragraph = self.doc.add_paragraph()
        paragraph.add_run(xml_text(text)).bold = bold

    def table(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], *, header: bool = True
    ) -> None:
        """Add a table whose header row repeats on every page and whose rows do not split."""
        table = self.doc.add_table(rows=1 if header else 0, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        section = self.doc.sections[-1]
        available = (
            (section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)
        )
        widths = column_widths(headers if header else None, rows, available)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        if header:
            first = table.rows[0]
            for cell, text, width in zip(first.cells, headers, widths, strict=True):
                cell.text = xml_text(text)
                cell.width = width
                cell.paragraphs[0].runs[0].bold = True
            _repeat_header(first)
        for values in rows:
            row = table.add_row()
            for cell, text in zip(row.cells, values, strict=True):
                cell.text = xml_text(text)
            _no_split(row)

    def to_bytes(self) -> bytes:
        """Return the .docx file: the same records as of the same moment give the same bytes."""
        saved = io.BytesIO()
        self.doc.save(saved)
        # python-docx stamps every part of the package with the wall clock at saving, so two
        # issues of one document a few seconds apart differed in bytes though not in a word.
        # Stamp each part with the time the records were read, as the footer, the core
        # properties and the audit pack's entries already do.
        stamp = self.issue.as_of.timetuple()[:6]
        packed = io.BytesIO()
        with (
            zipfile.ZipFile(saved) as source,
            zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            for entry in source.infolist():
                target.writestr(
                    zipfile.ZipInfo(entry.filename, date_time=stamp),
                    source.read(entry),
                    compress_type=zipfile.ZIP_DEFLATED,
                )
        return packed.getvalue()


# Calibri 10 pt: about 0.2 cm a character, and the cell's own padding on top.
_CHAR = Cm(0.2)
_PADDING = Cm(0.35)


def column_widths(
    headers: Sequence[str] | None, rows: Sequence[Sequence[str]], available: int
) -> list[int]:
    """Widths that keep each column's longest word (a number, a code, a status) on one line and
    give the rest of the page to the columns with the most text.

    Reads the header and at most the first 500 rows: enough to size the columns, and the cost
    stays flat however long the table is.
    """
    sample = [list(headers)] if headers else []
    sample += [list(r) for r in rows[:500]]
    count = len(sample[0]) if sample else len(headers or [])
    shortest = [1] * count
    longest = [1] * count
    for values in sample:
        for i, text in enumerate(values):
            if not text:
                continue
            shortest[i] = max(shortest[i], min(24, max(map(len, text.split()), default=1)))
            longest[i] = max(longest[i], min(60, len(text)))
    need = [_PADDING + _CHAR * n for n in shortest]
    want = [_PADDING + _CHAR * max(a, b) for a, b in zip(shortest, longest, strict=True)]
    if sum(want) <= available:
        # Everything fits on one line: share the spare width in proportion to the text.
        return [int(w * available / sum(want)) for w in want]
    if sum(need) >= available:
        return [int(n * available / sum(need)) for n in need]
    spare = available - sum(need)
    extra = [w - n for w, n in zip(want, need, strict=True)]
    total = sum(extra) or 1
    return [int(n + spare * e / total) for n, e in zip(need, extra, strict=True)]


def _row_property(row: object, tag: str) -> None:
    tr = row._tr  # type: ignore[attr-defined]
    properties = tr.get_or_add_trPr()
    element = OxmlElement(tag)
    element.set(qn("w:val"), "true")
    properties.append(element)


def _repeat_header(row: object) -> None:
    _row_property(row, "w:tblHeader")


def _no_split(row: object) -> None:
    _row_property(row, "w:cantSplit")
