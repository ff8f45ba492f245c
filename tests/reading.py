"""Reading what the service wrote, as a reader's software sees it."""

from __future__ import annotations

import io

from docx import Document


def docx_text(content: bytes) -> str:
    """Return the text of a .docx: paragraphs, table cells, headers and footers, a line each."""
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in doc.sections:
        parts.extend(p.text for p in section.header.paragraphs + section.footer.paragraphs)
    return "\n".join(parts)
