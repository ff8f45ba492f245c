"""Render the Markdown of a procedure into the house style: headings, lists, tables, emphasis."""

from __future__ import annotations

import re

from qms.documents.style import HouseDocument

_EMPHASIS = re.compile(r"(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`)")


def _runs(paragraph: object, text: str) -> None:
    for part in _EMPHASIS.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            paragraph.add_run(part[2:-2]).bold = True  # type: ignore[attr-defined]
        elif part.startswith("*") and part.endswith("*"):
            paragraph.add_run(part[1:-1]).italic = True  # type: ignore[attr-defined]
        elif part.startswith("`") and part.endswith("`"):
            paragraph.add_run(part[1:-1]).font.name = "Consolas"  # type: ignore[attr-defined]
        else:
            paragraph.add_run(part)  # type: ignore[attr-defined]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def render(document: HouseDocument, markdown: str, *, skip_title: bool = True) -> None:
    """Add the Markdown text to the document."""
    lines = markdown.splitlines()
    doc = document.doc
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            level = len(heading.group(1))
            if not (skip_title and level == 1):
                doc.add_heading(heading.group(2), level=min(level, 4))
            i += 1
            continue
        if stripped.startswith("|"):
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            rows = [_cells(r) for r in block if not re.match(r"^\|?\s*:?-{2,}", r.strip())]
            if rows:
                width = len(rows[0])
                body = [(r + [""] * width)[:width] for r in rows[1:]]
                document.table(rows[0], body)
            continue
        bullet = re.match(r"^(\s*)[-*]\s+(.*)$", line)
        number = re.match(r"^(\s*)\d+\.\s+(.*)$", line)
        if bullet or number:
            match = bullet or number
            assert match is not None
            style = "List Bullet" if bullet else "List Number"
            if len(match.group(1)) >= 2:
                style += " 2"
            text = match.group(2)
            i += 1
            # A list item may run on over indented lines.
            while (
                i < len(lines)
                and lines[i].startswith("   ")
                and lines[i].strip()
                and not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i])
            ):
                text += " " + lines[i].strip()
                i += 1
            _runs(doc.add_paragraph(style=style), text)
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
        _runs(doc.add_paragraph(), text)
