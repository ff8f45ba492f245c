"""The Markdown of a procedure: parsed once by markdown-it-py (CommonMark and tables), and its token
stream rendered into the house style (Word) here and into HTML by the web front (api.web.markdown),
so that both show the same words in the same order.

What a procedure may hold: headings, paragraphs with bold, italic and code, links (and images,
shown as a link to them), ordered and bullet lists nested to any depth, block quotes, tables with
their columns' alignment, code blocks and horizontal rules. Raw HTML is never markup: it is shown
as the text it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor, Twips
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from markdown_it import MarkdownIt
from markdown_it.token import Token

from qms.documents.style import HouseDocument, xml_text

# CommonMark with GitHub's tables; raw HTML stays text, and validateLink keeps javascript:,
# vbscript:, file: and data: (but for a few image types) addresses out of every link.
PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")

# Word's list styles go three deep; below that the third level's style, indented one step
# (the styles' own step: a quarter inch) for each level further.
STEP = Twips(360)
DEEPEST_STYLE = 3
MONOSPACE = "Consolas"
LINK_COLOUR = RGBColor(0x05, 0x63, 0xC1)
ALIGNMENT = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}
_PIPE = re.compile(r"(?<!\\)\|")
_CONTAINER = re.compile(r"^\s*(?:>\s?)*")


def _cells(line: str) -> list[str]:
    """The cells of a table row as GitHub's tables count them (outer pipes dropped)."""
    cells = _PIPE.split(_CONTAINER.sub("", line).strip())
    if cells and cells[0].strip() == "":
        cells = cells[1:]
    if cells and cells[-1].strip() == "":
        cells = cells[:-1]
    return cells


def _widened(markdown: str, tokens: Sequence[Token]) -> str | None:
    """The text again with each table's header as wide as its widest row, or None when every
    table is as wide as its rows already.

    GitHub's tables drop a cell typed past the header's last column; a procedure loses no word
    that way: the header gets empty columns instead, so the cell shows."""
    lines = markdown.splitlines()
    changed = False
    for token in tokens:
        if token.type != "table_open" or token.map is None:
            continue
        start, end = token.map
        header = len(_cells(lines[start]))
        widest = max((len(_cells(lines[n])) for n in range(start + 2, end)), default=header)
        if widest <= header:
            continue
        extra = widest - header
        for n, cell in ((start, " |"), (start + 1, " --- |")):
            line = lines[n].rstrip()
            lines[n] = (line if line.endswith("|") else line + " |") + cell * extra
        changed = True
    return "\n".join(lines) + "\n" if changed else None


def tokens(markdown: str, *, skip_title: bool = True) -> list[Token]:
    """The block tokens of a procedure's text; with skip_title, without the level-1 heading it
    opens with (the document and the page show the title already)."""
    parsed = PARSER.parse(markdown)
    widened = _widened(markdown, parsed)
    if widened is not None:
        parsed = PARSER.parse(widened)
    if (
        skip_title
        and len(parsed) >= 3
        and parsed[0].type == "heading_open"
        and parsed[0].tag == "h1"
    ):
        parsed = parsed[3:]
    return parsed


def plain(children: Sequence[Token] | None) -> str:
    """An inline token's text as it reads in the Word document, each link's address after it."""
    parts: list[str] = []
    links: list[str] = []
    for token in children or ():
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type == "softbreak":
            parts.append(" ")
        elif token.type == "hardbreak":
            parts.append("\n")
        elif token.type == "link_open":
            links.append(str(token.attrGet("href") or ""))
            parts.append("\0")
        elif token.type == "link_close":
            href = links.pop()
            start = len(parts) - 1 - parts[::-1].index("\0")
            text = "".join(parts[start + 1 :])
            parts[start:] = [text + address(text, href)]
        elif token.type == "image":
            href = str(token.attrGet("src") or "")
            text = plain(token.children)
            parts.append(text + address(text, href))
    return "".join(parts)


def address(text: str, href: str) -> str:
    """What follows a link's text on paper: its address in brackets, unless the text is it."""
    shown = href.removeprefix("mailto:")
    return "" if not href or text in (href, shown) else f" ({href})"


def list_style(ordered: bool, depth: int) -> str:
    """Word's list style for an item this deep: List Bullet, List Bullet 2, … List Number 3."""
    base = "List Number" if ordered else "List Bullet"
    return base if depth == 1 else f"{base} {min(depth, DEEPEST_STYLE)}"


@dataclass
class _List:
    ordered: bool
    number_id: int | None = None


@dataclass
class _Inline:
    """Where the inline text goes: a paragraph, with the formatting around it."""

    paragraph: Paragraph
    bold: int = 0
    italic: int = 0
    links: list[tuple[Any, str, int]] = field(default_factory=list)


class WordWriter:
    """Writes a procedure's tokens into a house-style document."""

    def __init__(self, document: HouseDocument) -> None:
        self.document = document
        self.doc = document.doc
        self.lists: list[_List] = []
        # For each list item open, whether its first paragraph (the one with the bullet) is
        # written.
        self.items: list[bool] = []
        self.quotes = 0
        # The list's last paragraph so far: the space after a whole list goes under it.
        self.last_item: Paragraph | None = None

    def write(self, stream: Sequence[Token]) -> None:
        """Write the tokens, block by block."""
        i = 0
        while i < len(stream):
            token = stream[i]
            kind = token.type
            if kind == "heading_open":
                paragraph = self.doc.add_heading("", level=min(int(token.tag[1]), 4))
                self.inline(paragraph, stream[i + 1].children)
            elif kind == "paragraph_open":
                self.inline(self.block_paragraph(), stream[i + 1].children)
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.open_list(token)
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                if not self.lists and self.last_item is not None:
                    self.last_item.paragraph_format.space_after = Pt(8)
                    self.last_item = None
            elif kind == "list_item_open":
                self.items.append(False)
            elif kind == "list_item_close":
                if not self.items[-1]:
                    self.block_paragraph()  # an empty item keeps its bullet
                self.items.pop()
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind in ("fence", "code_block"):
                self.code(token.content)
            elif kind == "hr":
                self.rule()
            elif kind == "table_open":
                end = next(n for n in range(i, len(stream)) if stream[n].type == "table_close")
                self.table(stream[i:end])
                i = end
            i += 1

    def open_list(self, token: Token) -> None:
        ordered = token.type == "ordered_list_open"
        entry = _List(ordered)
        if ordered:
            # Each numbered list counts from its own start, not on from the list before it.
            start = int(token.attrGet("start") or 1)
            entry.number_id = self.numbering(list_style(True, len(self.lists) + 1), start)
        self.lists.append(entry)

    def numbering(self, style: str, start: int) -> int:
        """A new numbering instance of the style's list, starting at start."""
        numbering = self.doc.part.numbering_part.element
        style_number = self.doc.styles[style].element.pPr.numPr.numId.val
        abstract = next(n.abstractNumId.val for n in numbering.num_lst if n.numId == style_number)
        instance = numbering.add_num(abstract)
        instance.add_lvlOverride(ilvl=0).add_startOverride(start)
        return int(instance.numId)

    def block_paragraph(self) -> Paragraph:
        """A new paragraph where the text stands: a list item's first (with its bullet or
        number) or a further one, a quote, or a plain paragraph."""
        depth = len(self.lists)
        if self.items and depth:
            paragraph = self.list_paragraph(depth)
            # Items close together, whatever their depth; the list as a whole apart.
            paragraph.paragraph_format.space_after = Pt(2)
            self.last_item = paragraph
            return paragraph
        if self.quotes:
            paragraph = self.doc.add_paragraph(style="Quote")
            paragraph.paragraph_format.left_indent = STEP * 2 * self.quotes
            return paragraph
        return self.doc.add_paragraph()

    def list_paragraph(self, depth: int) -> Paragraph:
        """An item's first paragraph, with its bullet or number, or a further one under it."""
        entry = self.lists[-1]
        further = depth if depth <= DEEPEST_STYLE else DEEPEST_STYLE
        if self.items[-1]:
            paragraph = self.doc.add_paragraph(
                style="List Continue" + ("" if further == 1 else f" {further}")
            )
            if depth > DEEPEST_STYLE:
                paragraph.paragraph_format.left_indent = STEP * depth
            return paragraph
        self.items[-1] = True
        paragraph = self.doc.add_paragraph(style=list_style(entry.ordered, depth))
        if entry.number_id is not None:
            number = paragraph._p.get_or_add_pPr().get_or_add_numPr()
            number.get_or_add_ilvl().val = 0
            number.get_or_add_numId().val = entry.number_id
        if depth > DEEPEST_STYLE:
            paragraph.paragraph_format.left_indent = STEP * depth
            paragraph.paragraph_format.first_line_indent = -STEP
        return paragraph

    def inline(
        self, paragraph: Paragraph, children: Sequence[Token] | None, bold: bool = False
    ) -> None:
        """Write an inline token's children as runs: bold, italic, code, links."""
        state = _Inline(paragraph, bold=int(bold))
        for token in children or ():
            kind = token.type
            if kind == "text":
                self.run(state, token.content)
            elif kind == "code_inline":
                code = self.run(state, token.content)
                code.font.name = MONOSPACE
                code.font.size = Pt(9)
            elif kind == "softbreak":
                self.run(state, " ")
            elif kind == "hardbreak":
                self.run(state, "").add_break()
            elif kind == "strong_open":
                state.bold += 1
            elif kind == "strong_close":
                state.bold -= 1
            elif kind == "em_open":
                state.italic += 1
            elif kind == "em_close":
                state.italic -= 1
            elif kind == "link_open":
                self.open_link(state, str(token.attrGet("href") or ""))
            elif kind == "link_close":
                self.close_link(state)
            elif kind == "image":
                self.open_link(state, str(token.attrGet("src") or ""))
                self.run(state, plain(token.children))
                self.close_link(state)

    def run(self, state: _Inline, text: str) -> Run:
        run = state.paragraph.add_run(xml_text(text))
        if state.bold:
            run.bold = True
        if state.italic:
            run.italic = True
        if state.links:
            run.font.underline = True
            run.font.color.rgb = LINK_COLOUR
            hyperlink = state.links[-1][0]
            hyperlink.append(run._r)
        return run

    def open_link(self, state: _Inline, href: str) -> None:
        """A hyperlink Word and a PDF follow; its runs go inside it."""
        hyperlink = OxmlElement("w:hyperlink")
        if href:
            part = state.paragraph.part
            hyperlink.set(
                qn("r:id"), part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
            )
        state.paragraph._p.append(hyperlink)
        state.links.append((hyperlink, href, len(_text(state.paragraph))))

    def close_link(self, state: _Inline) -> None:
        """After the link's text, its address in brackets: a printed procedure names it too."""
        _, href, start = state.links.pop()
        text = _text(state.paragraph)[start:]
        after = address(text, href)
        if after:
            self.run(state, after)

    def code(self, content: str) -> None:
        """A code block: monospace, on a light ground, its lines kept."""
        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.left_indent = STEP * (len(self.lists) + 2 * self.quotes)
        paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(6)
        run = paragraph.add_run(xml_text(content.rstrip("\n")))
        run.font.name = MONOSPACE
        run.font.size = Pt(9)
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), "F2F2F2")
        paragraph._p.get_or_add_pPr().append(shading)

    def rule(self) -> None:
        """A horizontal rule: an empty paragraph with a line under it."""
        paragraph = self.doc.add_paragraph()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "A6A6A6")):
            bottom.set(qn(f"w:{key}"), value)
        borders.append(bottom)
        paragraph._p.get_or_add_pPr().append(borders)

    def table(self, stream: Sequence[Token]) -> None:
        """A table in the house style (column widths, repeated header row, rows kept whole),
        each cell's text formatted as written and aligned as the Markdown says."""
        rows: list[list[tuple[str, Token]]] = []
        header_rows = 0
        for n, token in enumerate(stream):
            if token.type == "tr_open":
                rows.append([])
            elif token.type in ("th_open", "td_open"):
                style = str(token.attrGet("style") or "")
                rows[-1].append((style.removeprefix("text-align:"), stream[n + 1]))
                if token.type == "th_open" and len(rows) == 1:
                    header_rows = 1
        if not rows:
            return
        texts = [[plain(inline.children) for _, inline in row] for row in rows]
        table = self.document.table(texts[0], texts[1:], header=bool(header_rows))
        if table is None:
            # A table of headers only is said as "None recorded"; there are no cells to fill.
            return
        for number, (row, cells) in enumerate(zip(table.rows, rows, strict=False)):
            for cell, (align, inline) in zip(row.cells, cells, strict=False):
                paragraph = cell.paragraphs[0]
                for old in list(paragraph._p.r_lst):
                    paragraph._p.remove(old)
                self.inline(paragraph, inline.children, bold=number < header_rows)
                if align in ALIGNMENT:
                    paragraph.alignment = ALIGNMENT[align]


def _text(paragraph: Paragraph) -> str:
    """The paragraph's text so far, its hyperlinks' text included."""
    return "".join(t.text or "" for t in paragraph._p.iter(qn("w:t")))


def render(document: HouseDocument, markdown: str, *, skip_title: bool = True) -> None:
    """Add the Markdown text to the document."""
    WordWriter(document).write(tokens(markdown, skip_title=skip_title))
