"""The house style of every document: the identification block, the header and footer on every
page, the document-control block, tables that read well.

Every text comes in the document's language (qms.i18n). A document says who it is of and from
(organisation, title, number), which issue it is (the issued document's id, so that a printout
leads back to the bytes kept), who issued it and when, what it covers, in which language, the
time its records were read (as of) and the SHA-256 of the data it shows, so two issues of the
same records can be compared. A record not yet in force (a draft procedure version, an audit not
yet reported, a review not yet held) is marked DRAFT in the header of every page.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt, RGBColor, Twips
from docx.table import Table

from qms.fields import NOT_TEXT
from qms.i18n import N_, NAMES, format_moment, translate

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
UNCONTROLLED = N_("Uncontrolled when printed")
ISSUE_NUMBER = N_("Issue %(number)s")
NOT_ISSUED = N_("Not issued")
DRAFT = N_("DRAFT")
DRAFT_NOTE = N_("Draft: not in force until approved or held")
ISSUED_BY = N_("%(person)s, %(role)s")
NONE_RECORDED = N_("None recorded")
WHOLE_ORGANISATION = N_("The whole organisation")
# The identification block under the title, a line each.
IDENTIFICATION: dict[str, str] = {
    "organisation": N_("Organisation"),
    "document": N_("Document"),
    "number": N_("Document number"),
    "issue": N_("Issue number"),
    "issued_on": N_("Issued on"),
    "issued_by": N_("Issued by"),
    "scope": N_("Scope"),
    "language": N_("Language"),
    "as_of": N_("Records as of"),
    "data": N_("Data SHA-256"),
}
FIELDS = {"page": "PAGE", "pages": "NUMPAGES"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# A record's number or code (DEV-2026-0001, CA-2026-0002, PAIR-0005, PR-05, VIA-JOB) and a date
# written with hyphens (2026-11-30, 2025-07): their hyphens do not break a line.
UNBROKEN = re.compile(r"\b(?:[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+|\d{4}-\d\d(?:-\d\d)?)\b")
# A value that is one unbroken unit: a code, a date, a number, a moment, a short word.
_ATOMIC = re.compile(
    r"(?:[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*(?: v\d+)?|[\d.,:/ %-]+|v?\d+(?:\.\d+)*|\d{4}-\d\d(?:-\d\d)?)"
)
RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x59, 0x59, 0x59)
HEADER_FILL = "E7ECF3"
# A table of at most this many rows is kept whole on one page, with what leads into it.
SHORT_TABLE = 8


@dataclass(frozen=True)
class Issue:
    """What every page says about where the document came from.

    `draft` is the state of the record the document shows: a procedure version not approved, an
    audit not yet reported, a review not yet held; every page of it is marked DRAFT."""

    organisation: str
    title: str
    code: str
    as_of: datetime
    generated_at: datetime
    data_sha256: str
    language: str = "en"
    draft: bool = False

    def label(self, key: str) -> str:
        """Return a label in the document's language."""
        return translate(LABELS[key], self.language)


@dataclass(frozen=True)
class Issuing:
    """What the issue knows before the document is made: its number, when and by whom it is
    issued, whose document it is (a programme's organiser) and what it covers, in words."""

    number: int | None = None
    issued_at: datetime | None = None
    issued_by: str = ""
    organisation: str | None = None
    scope: str = ""


_ISSUING: ContextVar[Issuing] = ContextVar("issuing", default=Issuing())  # noqa: B039


@contextmanager
def issuing(issue: Issuing) -> Iterator[None]:
    """Make every document made inside carry this issue's identification."""
    token = _ISSUING.set(issue)
    try:
        yield
    finally:
        _ISSUING.reset(token)


def current_issuing() -> Issuing:
    """Return the issue being made (an empty one outside an issue)."""
    return _ISSUING.get()


def xml_text(text: str) -> str:
    """Return the text with each character XML cannot hold shown as U+FFFD.

    The schemas refuse such characters (qms.fields.NOT_TEXT); a record kept from before they did,
    or written around them, still gives its document, with the place of each one visible."""
    return NOT_TEXT.sub("\ufffd", text)


def _field(paragraph: Any, instruction: str) -> Any:
    """Add a Word field (PAGE, NUMPAGES): begin, instruction, separate, placeholder, end."""
    run = paragraph.add_run()
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
    return run


def _text_into(r: Any, text: str) -> None:
    """Put text into a run element, each hyphen of a code or a date a non-breaking one."""
    start = 0
    for match in UNBROKEN.finditer(text):
        if match.start() > start:
            _plain_into(r, text[start : match.start()])
        for n, part in enumerate(match.group().split("-")):
            if n:
                r.append(OxmlElement("w:noBreakHyphen"))
            r.add_t(part)
        start = match.end()
    if start < len(text):
        _plain_into(r, text[start:])


def _plain_into(r: Any, text: str) -> None:
    for n, part in enumerate(text.split("\t")):
        if n:
            r.append(OxmlElement("w:tab"))
        if part:
            r.add_t(part)


def write(paragraph: Any, text: str, *, bold: bool = False) -> Any:
    """Add text to a paragraph as one run (lines kept as breaks), codes and dates unbroken."""
    run = paragraph.add_run()
    if bold:
        run.bold = True
    _fill_run(run._r, xml_text(text))
    return run


def _fill_run(r: Any, text: str) -> None:
    if "-" not in text:
        r.text = text  # python-docx turns \n into breaks and \t into tabs
        return
    for n, line in enumerate(text.split("\n")):
        if n:
            r.append(OxmlElement("w:br"))
        _text_into(r, line)


def _keep_next(p: Any) -> None:
    p.get_or_add_pPr().insert_element_before(
        OxmlElement("w:keepNext"),
        *(
            "w:keepLines",
            "w:pageBreakBefore",
            "w:framePr",
            "w:widowControl",
            "w:numPr",
            "w:suppressLineNumbers",
            "w:pBdr",
            "w:shd",
            "w:tabs",
            "w:spacing",
            "w:ind",
            "w:jc",
        ),
    )


def _right_tab(paragraph: Any, width: int) -> None:
    """One tab stop, at the right margin: the Header and Footer styles' own (centre 8.25 cm,
    right 16.5 cm, for US Letter) cleared."""
    stops = paragraph.paragraph_format.tab_stops
    for position in (Twips(4680), Twips(9360)):
        stops.add_tab_stop(position, WD_TAB_ALIGNMENT.CLEAR)
    stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)


def _shade(tc: Any, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc.get_or_add_tcPr().append(shd)


class HouseDocument:
    """A python-docx document in the house style."""

    def __init__(self, issue: Issue, *, landscape: bool = False) -> None:
        self.issue = issue
        self.issuing = current_issuing()
        self.organisation = self.issuing.organisation or issue.organisation
        self.doc = Document()
        styles = self.doc.styles
        styles["Normal"].font.name = "Calibri"
        styles["Normal"].font.size = Pt(10)
        section = self.doc.sections[0]
        # A4, as the organisations print; python-docx's own template is US Letter.
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2))
        section.top_margin = section.bottom_margin = Cm(2)
        section.header_distance = section.footer_distance = Cm(1)
        self.text_width = int((section.page_width or 0) - Cm(4))
        self._header(section)
        self._footer(section)
        properties = self.doc.core_properties
        properties.title = xml_text(issue.title)
        properties.identifier = xml_text(issue.code)
        properties.author = xml_text(self.organisation)
        properties.created = properties.modified = issue.as_of.replace(tzinfo=None)
        properties.revision = 1
        write(self.doc.add_heading("", level=0), issue.title)
        self._identification()

    @property
    def shown(self) -> str:
        """The document as the header names it: its title, and its number unless the title
        already says it."""
        title, code = self.issue.title, self.issue.code
        return title if not code or code in title else f"{title} · {code}"

    def _issue_number(self) -> str:
        number = self.issuing.number
        if number is None:
            return translate(NOT_ISSUED, self.issue.language)
        return translate(ISSUE_NUMBER, self.issue.language) % {"number": number}

    def _header(self, section: Any) -> None:
        language = self.issue.language
        header = section.header.paragraphs[0]
        _right_tab(header, self.text_width)
        if self.issue.draft:
            mark = header.add_run(translate(DRAFT, language) + "  ")
            mark.bold = True
            mark.font.size = Pt(14)
            mark.font.color.rgb = RED
        write(header, f"{self.organisation} — {self.shown}").font.size = Pt(8)
        tail = header.add_run(f"\t{self._issue_number()}")
        tail.font.size = Pt(8)
        for run in header.runs[-2:]:
            run.font.color.rgb = GREY

    def _footer(self, section: Any) -> None:
        language = self.issue.language
        footer = section.footer.paragraphs[0]
        _right_tab(footer, self.text_width)
        runs = [footer.add_run(f"{self._issue_number()} · ")]
        # Split keeps the placeholders' names at the odd places: text, field, text, field, text.
        for i, part in enumerate(_PLACEHOLDER.split(translate(PAGE_OF, language))):
            if i % 2:
                runs.append(_field(footer, FIELDS[part]))
            elif part:
                runs.append(footer.add_run(part))
        uncontrolled = footer.add_run(f"\t{translate(UNCONTROLLED, language)}")
        uncontrolled.bold = True
        for run in [*runs, uncontrolled]:
            run.font.size = Pt(8)
        # The moments stay ISO 8601 in UTC in every language: the data's integrity is read
        # from them and the hash beside them, not by a reader of the language.
        line = section.footer.add_paragraph(
            translate(PROVENANCE, language)
            % {
                "generated": f"{self.issue.generated_at:%Y-%m-%d %H:%M}",
                "as_of": f"{self.issue.as_of:%Y-%m-%d %H:%M}",
                "data": self.issue.data_sha256,
            }
        )
        line.runs[0].font.size = Pt(7)
        line.runs[0].font.color.rgb = GREY

    def _identification(self) -> None:
        """The block under the title: what the document is, which issue, by whom, of what."""
        issue, issuing, language = self.issue, self.issuing, self.issue.language
        said = {
            "organisation": self.organisation,
            "document": issue.title,
            "number": issue.code if issue.code and issue.code not in issue.title else "",
            "issue": str(issuing.number) if issuing.number is not None else self._issue_number(),
            "issued_on": format_moment(issuing.issued_at, language) if issuing.issued_at else "",
            "issued_by": issuing.issued_by,
            "scope": issuing.scope or translate(WHOLE_ORGANISATION, language),
            "language": NAMES.get(language, language),
            "as_of": format_moment(issue.as_of, language),
            "data": issue.data_sha256,
        }
        rows = [(translate(IDENTIFICATION[key], language), value) for key, value in said.items()]
        if issue.draft:
            rows.insert(0, (translate(DRAFT, language), translate(DRAFT_NOTE, language)))
        rows = [(name, value) for name, value in rows if value]
        indent = Cm(4)
        for n, (name, value) in enumerate(rows):
            paragraph = self.doc.add_paragraph()
            form = paragraph.paragraph_format
            form.left_indent, form.first_line_indent = indent, -indent
            form.tab_stops.add_tab_stop(indent)
            form.space_after = Pt(0)
            form.space_before = Pt(4) if n == 0 else Pt(0)
            form.keep_with_next = n < len(rows) - 1
            head = write(paragraph, f"{name}\t", bold=True)
            body = write(paragraph, value)
            for run in (head, body):
                run.font.size = Pt(8.5)
            if issue.draft and n == 0:
                head.font.color.rgb = body.font.color.rgb = RED
        self.doc.add_paragraph().paragraph_format.space_after = Pt(2)

    def control_block(self, rows: Sequence[tuple[str, str]]) -> None:
        """Add the document-control block: code, version, status, owner, approver, dates."""
        self.doc.add_heading(
            self.issue.label("document_control"), level=2
        ).paragraph_format.keep_with_next = True
        self.definitions(rows)

    def heading(self, text: str, level: int = 1) -> None:
        """Add a heading, kept on the page of what follows it."""
        heading = self.doc.add_heading("", level=level)
        write(heading, text)
        heading.paragraph_format.keep_with_next = True

    def paragraph(self, text: str, *, bold: bool = False) -> None:
        """Add a paragraph of text."""
        write(self.doc.add_paragraph(), text, bold=bold)

    def none_recorded(self) -> None:
        """Say that the record has none of what a table would list."""
        self.paragraph(translate(NONE_RECORDED, self.issue.language))

    def definitions(self, rows: Sequence[tuple[str, str]]) -> Table | None:
        """Add labels and their values: a two-column table, the labels shaded and bold."""
        if not rows:
            self.none_recorded()
            return None
        return self.table(["", ""], [list(r) for r in rows], header=False, labels=True)

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        header: bool = True,
        labels: bool = False,
    ) -> Table | None:
        """Add a table whose header row repeats on every page and whose rows do not split.

        Columns are as wide as their content asks (a code or a date never broken, the text
        columns given the rest); a short table is kept whole on one page, a long one never leaves
        its header or its last row alone. A table with no rows is the words "None recorded".
        `labels` shades and bolds the first column (a definition layout)."""
        if header and not rows:
            self.none_recorded()
            return None
        table: Table = self.doc.add_table(rows=0, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        widths, size = table_layout(
            headers if header else None, rows, self.text_width, labels=labels
        )
        half_points = str(int(size * 2)) if size != 10 else None
        grid = table._tbl.tblGrid
        for col, width in zip(grid.gridCol_lst, widths, strict=True):
            col.w = Emu(width)
        count = len(rows) + (1 if header else 0)
        short = count <= SHORT_TABLE
        position = 0

        def add(values: Sequence[str], *, bold: bool, first_bold: bool) -> Any:
            nonlocal position
            row = table.add_row()  # type: ignore[no-untyped-call]
            tr = row._tr
            keep = (short and position < count - 1) or position in (0, 1, count - 2)
            for n, (tc, text) in enumerate(zip(tr.tc_lst, values, strict=True)):
                p = tc.p_lst[0]
                r = p.add_r()
                if bold or (first_bold and n == 0):
                    r.get_or_add_rPr().append(OxmlElement("w:b"))
                    _shade(tc, HEADER_FILL)
                if half_points:
                    sz = OxmlElement("w:sz")
                    sz.set(qn("w:val"), half_points)
                    r.get_or_add_rPr().append(sz)
                _fill_run(r, xml_text(text))
                if keep:
                    _keep_next(p)
            position += 1
            return row

        if header:
            _repeat_header(add(headers, bold=True, first_bold=False))
        for values in rows:
            _no_split(add(values, bold=False, first_bold=labels))
        # A little space after: two tables one after the other would otherwise run together.
        self.doc.add_paragraph().paragraph_format.space_after = Pt(0)
        return table

    def to_bytes(self) -> bytes:
        """Return the .docx file: the same records as of the same moment give the same bytes."""
        # python-docx stamps every part of the package with the wall clock at saving, so two
        # issues of one document a few seconds apart differed in bytes though not in a word.
        # Stamp each part with the time the records were read, as the footer, the core
        # properties and the audit pack's entries already do. The parts are written as
        # python-docx's own save writes them, in its order, straight into the stamped package
        # (not saved, unpacked and packed again).
        from docx.opc.pkgwriter import PackageWriter

        moment = self.issue.as_of
        stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
        packed = io.BytesIO()
        package = self.doc.part.package
        parts = list(package.parts)
        # python-docx's writer, untyped: its steps take any writer with a write(uri, blob).
        steps: Any = PackageWriter
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
            writer = _Stamped(target, stamp)
            for part in parts:
                part.before_marshal()
            steps._write_content_types_stream(writer, parts)
            steps._write_pkg_rels(writer, package.rels)
            steps._write_parts(writer, parts)
        return packed.getvalue()


class _Stamped:
    """Writes a package's parts into a zip, each stamped with one moment."""

    def __init__(self, target: zipfile.ZipFile, stamp: tuple[int, int, int, int, int, int]) -> None:
        self.target, self.stamp = target, stamp

    def write(self, pack_uri: Any, blob: bytes) -> None:
        name = pack_uri.membername
        # A picture (a chart's PNG) is compressed already: stored, not deflated again.
        media = name.startswith("word/media/")
        self.target.writestr(
            zipfile.ZipInfo(name, date_time=self.stamp),
            blob,
            compress_type=zipfile.ZIP_STORED if media else zipfile.ZIP_DEFLATED,
        )


# Calibri's advance widths in em (a close average by kind of character), 10 pt, and the cell's
# own margins (0.19 cm each side in Word and LibreOffice) with a little room to spare.
_NARROW = frozenset("ijlt.,:;'|!()[] fI")
_WIDE = frozenset("mwMW%@")
_EM_CM = 10 * 2.54 / 72
_PADDING_CM = 0.42
# The font sizes a table may take, largest first.
SIZES = (10.0, 9.0, 8.0)
_EMU_PER_CM = 360000
# No column is made wider than this for one unbroken word (a SHA-256 may wrap).
_LONGEST_WORD_CM = 4.6
_LONGEST_TEXT_CM = 14.0


def text_cm(text: str, *, bold: bool = False) -> float:
    """Return the width of a text in Calibri 10 pt, in cm (an estimate on the safe side)."""
    em = 0.0
    for ch in text:
        if ch.isdigit():
            em += 0.507
        elif ch in _NARROW:
            em += 0.26
        elif ch == "/":
            em += 0.39
        elif ch in _WIDE:
            em += 0.82
        elif ch.isupper():
            em += 0.6
        else:
            em += 0.5
    return em * _EM_CM * (1.07 if bold else 1.0) * 1.04


def _atomic(text: str) -> bool:
    return len(text) <= 24 and _ATOMIC.fullmatch(text) is not None


def table_layout(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    available: int,
    *,
    labels: bool = False,
) -> tuple[list[int], float]:
    """The columns' widths (EMU) and the font size (pt) of a table: 10 pt, or 9 or 8 where the
    codes, dates and longest words of many columns would leave the text columns too little."""
    for size in SIZES:
        widths, fits = _widths(headers, rows, available, labels=labels, scale=size / 10)
        if fits:
            return widths, size
    return widths, SIZES[-1]


def column_widths(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    available: int,
    *,
    labels: bool = False,
) -> list[int]:
    """The columns' widths (EMU) of a table in 10 pt (see _widths)."""
    return _widths(headers, rows, available, labels=labels, scale=1.0)[0]


def _widths(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    available: int,
    *,
    labels: bool,
    scale: float,
) -> tuple[list[int], bool]:
    """Widths (EMU) from the content: a column of codes, dates and numbers as wide as its widest
    value, so none breaks inside; a text column at least as wide as its longest word; the rest
    of the line shared among the text columns by how much text they hold.

    Reads the header and at most the first 500 rows: enough to size the columns, and the cost
    stays flat however long the table is.
    """
    sample = [list(r) for r in rows[:500]]
    count = len(headers) if headers is not None else (len(sample[0]) if sample else 0)
    if count == 0:
        return [], True
    need = [0.0] * count  # the narrowest the column may be
    want = [0.0] * count  # what it would take on one line (capped)
    text = [0.0] * count  # how much text it holds, to share the spare width
    atomic = [True] * count
    for values in sample:
        for i, value in enumerate(values):
            if not value:
                continue
            bold = labels and i == 0
            words = max((text_cm(w, bold=bold) for w in value.split()), default=0.0) * scale
            whole = text_cm(value, bold=bold) * scale
            if _atomic(value):
                need[i] = max(need[i], min(whole, _LONGEST_WORD_CM))
            else:
                atomic[i] = False
                need[i] = max(need[i], min(words, _LONGEST_WORD_CM))
            want[i] = max(want[i], min(whole, _LONGEST_TEXT_CM))
            text[i] += min(whole, _LONGEST_TEXT_CM * 3)
    for i, value in enumerate(headers or []):
        # A heading breaks between its words, never inside one.
        words = max((text_cm(w, bold=True) for w in value.split()), default=0.0) * scale
        need[i] = max(need[i], min(words, _LONGEST_WORD_CM))
        want[i] = max(want[i], need[i])
    need = [n + _PADDING_CM for n in need]
    want = [max(w + _PADDING_CM, n) for w, n in zip(want, need, strict=True)]
    room = available / _EMU_PER_CM
    # Fits: every column at its narrowest leaves the text columns a fair part of what they
    # would take on one line.
    excess = sum(w - n for w, n in zip(want, need, strict=True))
    fits = sum(want) <= room or room - sum(need) >= min(0.3 * room, 0.5 * excess)
    if sum(want) <= room:
        # Everything fits on one line: the spare width goes to the text columns.
        grow = [0.0 if a else w for a, w in zip(atomic, want, strict=True)]
        total, spare = sum(grow), room - sum(want)
        if total == 0:
            grow, total = want, sum(want)
        cm = [w + spare * g / total for w, g in zip(want, grow, strict=True)]
    elif sum(need) >= room:
        # Too many columns for the line: the codes and dates keep their width (they may not
        # break), and the text columns share what is left.
        fixed = sum(n for n, a in zip(need, atomic, strict=True) if a)
        free = sum(n for n, a in zip(need, atomic, strict=True) if not a)
        if fixed < room * 0.7 and free:
            cm = [n if a else n * (room - fixed) / free for n, a in zip(need, atomic, strict=True)]
        else:
            cm = [n * room / sum(need) for n in need]
    else:
        # The text columns share what the codes and dates leave, by how much text they hold
        # (beyond their longest word), and never more than they would take on one line.
        cm = list(need)
        spare = room - sum(need)
        open_ = [i for i in range(count) if want[i] > need[i]]
        while spare > 1e-6 and open_:
            weights = {i: max(text[i], 0.01) for i in open_}
            total = sum(weights.values())
            given = 0.0
            for i in list(open_):
                share = spare * weights[i] / total
                room_left = want[i] - cm[i]
                if share >= room_left:
                    cm[i] = want[i]
                    given += room_left
                    open_.remove(i)
                else:
                    cm[i] += share
                    given += share
            spare -= given
            if given < 1e-6:
                break
    return [int(c * _EMU_PER_CM) for c in cm], fits


def _row_property(row: Any, tag: str) -> None:
    tr = row._tr
    properties = tr.get_or_add_trPr()
    element = OxmlElement(tag)
    element.set(qn("w:val"), "true")
    properties.append(element)


def _repeat_header(row: Any) -> None:
    _row_property(row, "w:tblHeader")


def _no_split(row: Any) -> None:
    _row_property(row, "w:cantSplit")
