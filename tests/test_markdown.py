"""A procedure's Markdown as a reader meets it: in the Word document and on the page, the same
words in the same order, lists as deep, tables aligned, links followable and never a script."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Twips
from docx.table import Table
from docx.text.paragraph import Paragraph

from api.web.markdown import to_html
from qms.documents.markdown import render
from qms.documents.style import HouseDocument, Issue
from qms.procedures.library import load_folder

LIBRARY = Path(__file__).parent.parent / "procedures"

RICH = """\
# Matching

## Purpose
Pairs are matched on **professional field** first, then on *goals*, with `qms pairs match`.
See [the EMCC standard](https://www.emccglobal.org/accreditation/ismcp/) and
<https://mentor.example.org/guide>; write to <quality@example.org>.
A line ends here\\
and goes on. Raw <b>markup</b> stays text.

## Steps
1. Collect the profiles:
   - mentees' goals
     - career goals
       - a first job in the field
       - a network
     - learning goals
   - mentors' experience
2. Propose pairs.

   The coordinator writes the rationale for each pair.
3. Confirm.

Afterwards:

3. Restarted at three
4. And on.

- A bullet after the numbers
-

> Matching is the programme's most important decision.
>
> > Quoted inside a quote.

| Step | Who | Days |
|:-----|:---:|-----:|
| Match | *Coordinator* | 5 |
| Confirm | [Quality lead](mailto:lead@example.org) | 10 |

```
qms pairs match --cohort 2026
qms pairs confirm 12
```

    indented code

***

Done.
"""


def _build(markdown: str) -> tuple[bytes, int]:
    """The document with the Markdown in it, and where the Markdown's part of its body begins
    (after the house style's title and identification)."""
    moment = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    document = HouseDocument(Issue("Mentor", "Matching", "PR-05", moment, moment, "0" * 64))
    body = document.doc.element.body
    start = len([c for c in body.iterchildren() if c.tag != qn("w:sectPr")])
    render(document, markdown)
    return document.to_bytes(), start


def _document(markdown: str) -> bytes:
    return _build(markdown)[0]


def _with_address(text: str, href: str) -> str:
    """A link's text as it reads on paper: its address after it, unless the text is it."""
    if text in (href, href.removeprefix("mailto:")):
        return text
    return f"{text} ({href})"


def _flat(text: str) -> str:
    return " ".join(text.split())


def word_items(content: bytes, start: int) -> list[tuple[str, int, str]]:
    """The Markdown part of a document read back, from the body's element start on: (kind,
    depth or level, text) a block."""
    doc = Document(io.BytesIO(content))
    items: list[tuple[str, int, str]] = []
    for child in list(doc.element.body.iterchildren())[start:]:
        if child.tag == qn("w:tbl"):
            for row in Table(child, doc).rows:
                items.append(("row", 0, " | ".join(_flat(c.text) for c in row.cells)))
            continue
        if child.tag != qn("w:p"):
            continue
        paragraph = Paragraph(child, doc)
        style = paragraph.style.name if paragraph.style is not None else "Normal"
        text = _flat(paragraph.text)
        number = style.rsplit(" ", 1)[-1]
        level = int(number) if number.isdigit() else 1
        indent = paragraph.paragraph_format.left_indent
        if indent is not None and style.startswith("List"):
            level = round(indent / Twips(360))
        if style.startswith("Heading"):
            items.append(("heading", level, text))
        elif style.startswith(("List Bullet", "List Number")):
            kind = "ol" if "Number" in style else "ul"
            items.append((kind, level, text))
        elif style.startswith("List Continue"):
            items.append(("more", level, text))
        elif style == "Quote":
            items.append(("quote", round((indent or 0) / Twips(720)), text))
        elif paragraph.runs and all(r.font.name == "Consolas" for r in paragraph.runs):
            items.append(("code", 0, paragraph.text))
        elif child.find(f"{qn('w:pPr')}/{qn('w:pBdr')}") is not None:
            items.append(("rule", 0, text))
        elif text:
            # An empty paragraph is the house style's space after a table, not a block.
            items.append(("paragraph", 0, text))
    return items


class _PageReader(HTMLParser):
    """The page's HTML read the same way."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, int, str]] = []
        self.lists: list[str] = []
        self.quotes = 0
        self.current: tuple[str, int] | None = None
        self.parts: list[str] = []
        self.fresh_item = False
        self.cells: list[str] | None = None
        self.links: list[tuple[str, int]] = []

    def flush(self) -> None:
        if self.current is not None:
            kind, depth = self.current
            text = "".join(self.parts)
            self.items.append((kind, depth, text.rstrip("\n") if kind == "code" else _flat(text)))
        self.current, self.parts = None, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self.flush()
            self.lists.append(tag)
        elif tag == "li":
            self.flush()
            self.current, self.fresh_item = (self.lists[-1], len(self.lists)), True
        elif tag == "p":
            if self.fresh_item:
                self.fresh_item = False  # the item's own text
                return
            self.flush()
            if self.lists:
                self.current = ("more", len(self.lists))
            else:
                self.current = ("quote", self.quotes) if self.quotes else ("paragraph", 0)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.flush()
            self.current = ("heading", min(int(tag[1]) - 1, 4))
        elif tag == "pre":
            self.flush()
            self.current = ("code", 0)
        elif tag == "hr":
            self.flush()
            self.items.append(("rule", 0, ""))
        elif tag == "blockquote":
            self.flush()
            self.quotes += 1
        elif tag == "tr":
            self.flush()
            self.cells = []
        elif tag in ("th", "td"):
            self.parts = []
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len("".join(self.parts))))
        elif tag == "br":
            self.parts.append("\n")
        if tag in ("ul", "ol", "pre", "blockquote", "table"):
            self.fresh_item = False

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.flush()
            self.fresh_item = False
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists.pop()
        elif tag == "blockquote":
            self.flush()
            self.quotes -= 1
        elif tag in ("th", "td"):
            assert self.cells is not None
            self.cells.append(_flat("".join(self.parts)))
            self.parts = []
        elif tag == "tr":
            assert self.cells is not None
            self.items.append(("row", 0, " | ".join(self.cells)))
            self.cells = None
        elif tag == "a":
            href, start = self.links.pop()
            text = "".join(self.parts)
            self.parts = [text[:start], _with_address(text[start:], href)]

    def handle_data(self, data: str) -> None:
        if self.current is None and self.cells is None:
            if not data.strip():
                return
            self.current = ("paragraph", 0)
        self.parts.append(data)


def page_items(markdown: str) -> list[tuple[str, int, str]]:
    reader = _PageReader()
    reader.feed(str(to_html(markdown)))
    reader.close()
    reader.flush()
    return reader.items


def _procedures() -> list[tuple[str, str]]:
    return [(p.code, p.document.content) for p in load_folder(LIBRARY)]


@pytest.mark.parametrize(
    ("name", "markdown"), [("rich sample", RICH), *_procedures()], ids=lambda v: v[:12]
)
def test_the_document_and_the_page_say_the_same_item_by_item(name: str, markdown: str) -> None:
    word = word_items(*_build(markdown))
    page = page_items(markdown)
    assert len(word) > 5, name
    assert word == page, name


def test_the_rich_sample_reads_as_written() -> None:
    items = word_items(*_build(RICH))
    assert ("heading", 2, "Purpose") in items
    assert ("heading", 1, "Matching") not in items  # the title, which the document has already
    # Four levels of list, each under the one before it.
    assert [i for i in items if i[0] in ("ol", "ul")][:6] == [
        ("ol", 1, "Collect the profiles:"),
        ("ul", 2, "mentees' goals"),
        ("ul", 3, "career goals"),
        ("ul", 4, "a first job in the field"),
        ("ul", 4, "a network"),
        ("ul", 3, "learning goals"),
    ]
    assert ("more", 1, "The coordinator writes the rationale for each pair.") in items
    assert ("ul", 1, "") in items  # an empty item keeps its bullet
    paragraph = next(i[2] for i in items if i[2].startswith("Pairs are matched"))
    assert "the EMCC standard (https://www.emccglobal.org/accreditation/ismcp/)" in paragraph
    assert "https://mentor.example.org/guide;" in paragraph
    assert "write to quality@example.org." in paragraph
    assert "Raw <b>markup</b> stays text." in next(i[2] for i in items if "Raw" in i[2])
    assert ("quote", 1, "Matching is the programme's most important decision.") in items
    assert ("quote", 2, "Quoted inside a quote.") in items
    assert ("row", 0, "Step | Who | Days") in items
    assert ("row", 0, "Confirm | Quality lead (mailto:lead@example.org) | 10") in items
    assert ("code", 0, "qms pairs match --cohort 2026\nqms pairs confirm 12") in items
    assert ("code", 0, "indented code") in items
    assert ("rule", 0, "") in items
    assert items[-1] == ("paragraph", 0, "Done.")


def test_the_word_document_formats_and_links_as_the_markdown_says() -> None:
    content = _document(RICH)
    doc = Document(io.BytesIO(content))
    paragraphs = {p.text: p for p in doc.paragraphs}
    styles = [p.style.name for p in doc.paragraphs if p.style.name.startswith("List")]
    assert {"List Number", "List Bullet 2", "List Bullet 3", "List Continue"} <= set(styles)
    deepest = paragraphs["a first job in the field"].paragraph_format.left_indent
    assert deepest > doc.styles["List Continue 3"].paragraph_format.left_indent
    purpose = next(p for t, p in paragraphs.items() if t.startswith("Pairs are matched"))
    assert [r.text for r in purpose.runs if r.bold] == ["professional field"]
    assert [r.text for r in purpose.runs if r.italic] == ["goals"]
    assert [r.text for r in purpose.runs if r.font.name == "Consolas"] == ["qms pairs match"]
    # A link is a hyperlink to its address, which a printout shows after it too.
    targets = {
        rel.target_ref for rel in doc.part.rels.values() if rel.reltype.endswith("/hyperlink")
    }
    assert "https://www.emccglobal.org/accreditation/ismcp/" in targets
    assert "mailto:lead@example.org" in targets
    assert purpose._p.findall(qn("w:hyperlink"))
    quote = paragraphs["Matching is the programme's most important decision."]
    assert quote.style.name == "Quote"
    table = doc.tables[-1]
    assert [c.paragraphs[0].alignment for c in table.rows[1].cells] == [
        WD_ALIGN_PARAGRAPH.LEFT,
        WD_ALIGN_PARAGRAPH.CENTER,
        WD_ALIGN_PARAGRAPH.RIGHT,
    ]
    assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    assert table.rows[1].cells[1].paragraphs[0].runs[0].italic


def test_each_numbered_list_counts_from_its_own_start() -> None:
    """A second numbered list starts again (at 3 where it says 3), not on from the first."""
    doc = Document(io.BytesIO(_document(RICH)))
    numbered = [p for p in doc.paragraphs if p.style.name == "List Number"]
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert len(set(ids)) == 2
    numbering = doc.part.numbering_part.element
    starts = {
        n.numId: n.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}").get(qn("w:val"))
        for n in numbering.num_lst
        if n.numId in ids
    }
    assert starts == {ids[0]: "1", ids[-1]: "3"}


def test_the_page_shows_lists_quotes_and_aligned_tables() -> None:
    html = str(to_html(RICH))
    assert html.count("<ul>") == 4
    assert "<blockquote>" in html
    assert '<th style="text-align:center" scope="col">Who</th>' in html
    assert '<td style="text-align:right">10</td>' in html
    assert '<a href="https://www.emccglobal.org/accreditation/ismcp/">the EMCC standard</a>' in html
    assert "<pre><code>qms pairs match --cohort 2026" in html
    assert "<hr />" in html
    assert "Raw &lt;b&gt;markup&lt;/b&gt; stays text." in html


@pytest.mark.parametrize(
    "link",
    [
        "[press](javascript:alert(1))",
        "[press](JAVASCRIPT:alert(1))",
        "[press](vbscript:msgbox)",
        "[press](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
    ],
)
def test_a_link_to_a_script_is_no_link_on_the_page_nor_in_the_document(link: str) -> None:
    html = str(to_html(f"Before {link} after.\n\n<script>alert(2)</script>\n"))
    assert "href" not in html
    assert "<script>" not in html
    doc = Document(io.BytesIO(_document(f"Before {link} after.\n")))
    assert not [r for r in doc.part.rels.values() if r.reltype.endswith("/hyperlink")]


def test_a_table_of_headers_only_is_said_as_none_recorded() -> None:
    """A Markdown table with a header and no rows is no empty grid in Word."""
    from datetime import UTC, datetime

    from qms.documents import markdown
    from qms.documents.style import HouseDocument, Issue

    now = datetime(2026, 11, 30, tzinfo=UTC)
    document = HouseDocument(Issue("Org", "T", "C", now, now, "0" * 64, "en"))
    markdown.render(document, "# T\n\n| Record | Where |\n|---|---|\n\nText after.\n")
    texts = [p.text for p in document.doc.paragraphs]
    assert "None recorded" in texts
    assert "Text after." in texts
    assert len(document.doc.tables) == 0
