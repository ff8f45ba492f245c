"""The Markdown of a procedure: parsed into blocks once, rendered into the house style (Word) here
and into HTML by the web front. Headings, lists, tables, emphasis; nothing else is needed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qms.documents.style import HouseDocument, xml_text

_EMPHASIS = re.compile(r"(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`)")


@dataclass(frozen=True)
class Block:
    """One block: a heading (level), a list item (bullet or number, level), a paragraph, or a
    table (the first row is the header)."""

    kind: str
    text: str = ""
    level: int = 1
    rows: tuple[tuple[str, ...], ...] = ()


def spans(text: str) -> list[tuple[str, str]]:
    """Split inline text into (style, text): plain, bold, italic or code."""
    result = []
    for part in _EMPHASIS.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            result.append(("bold", part[2:-2]))
        elif part.startswith("*") and part.endswith("*"):
            result.append(("italic", part[1:-1]))
        elif part.startswith("`") and part.endswith("`"):
            result.append(("code", part[1:-1]))
        else:
            result.append(("plain", part))
    return result


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(markdown: str) -> list[Block]:
    """Parse Markdown into blocks."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            blocks.append(Block("heading", heading.group(2), len(heading.group(1))))
            i += 1
            continue
        if stripped.startswith("|"):
            table = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.append(lines[i])
                i += 1
            rows = [_cells(r) for r in table if not re.match(r"^\|?\s*:?-{2,}", r.strip())]
            if rows:
                # As wide as its widest row: a cell typed past the header's is kept, not dropped.
                width = max(len(r) for r in rows)
                fitted = [tuple(r + [""] * (width - len(r))) for r in rows]
                blocks.append(Block("table", rows=tuple(fitted)))
            continue
        bullet = re.match(r"^(\s*)[-*]\s+(.*)$", line)
        number = re.match(r"^(\s*)\d+\.\s+(.*)$", line)
        if bullet or number:
            match = bullet or number
            assert match is not None
            text = match.group(2)
            i += 1
            # A list item may run on over indented lines.
            while (
                i < len(lines)
                and lines[i].startswith("  ")
                and lines[i].strip()
                and not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i])
            ):
                text += " " + lines[i].strip()
                i += 1
            kind = "bullet" if bullet else "number"
            blocks.append(Block(kind, text, 2 if len(match.group(1)) >= 2 else 1))
            continue
        text = stripped
        i += 1
        while (
            i < len(lines)
            and lines[i].strip()
            and not re.match(r"^\s*(#|\||[-*]\s|\d+\.\s)", lines[i])
        ):
            text += " " + lines[i].strip()
            i += 1
        blocks.append(Block("paragraph", text))
    return blocks


def _runs(paragraph: object, text: str) -> None:
    for style, part in spans(text):
        run = paragraph.add_run(xml_text(part))  # type: ignore[attr-defined]
        if style == "bold":
            run.bold = True
        elif style == "italic":
            run.italic = True
        elif style == "code":
            run.font.name = "Consolas"


def render(document: HouseDocument, markdown: str, *, skip_title: bool = True) -> None:
    """Add the Markdown text to the document."""
    doc = document.doc
    for block in parse(markdown):
        if block.kind == "heading":
            if not (skip_title and block.level == 1):
                doc.add_heading(xml_text(block.text), level=min(block.level, 4))
        elif block.kind == "table":
            document.table(list(block.rows[0]), [list(r) for r in block.rows[1:]])
        elif block.kind in ("bullet", "number"):
            style = "List Bullet" if block.kind == "bullet" else "List Number"
            _runs(doc.add_paragraph(style=style + (" 2" if block.level > 1 else "")), block.text)
        else:
            _runs(doc.add_paragraph(), block.text)
