"""A procedure's Markdown as HTML, from the same blocks the Word documents are made of."""

from __future__ import annotations

from markupsafe import Markup, escape

from qms.documents.markdown import parse, spans

_TAGS = {"bold": "strong", "italic": "em", "code": "code"}


def _inline(text: str) -> str:
    parts = []
    for style, part in spans(text):
        tag = _TAGS.get(style)
        parts.append(f"<{tag}>{escape(part)}</{tag}>" if tag else str(escape(part)))
    return "".join(parts)


def to_html(markdown: str) -> Markup:
    """Render Markdown to HTML; every piece of text is escaped."""
    out: list[str] = []
    open_list: str | None = None
    for block in parse(markdown):
        tag = {"bullet": "ul", "number": "ol"}.get(block.kind)
        if open_list and open_list != tag:
            out.append(f"</{open_list}>")
            open_list = None
        if tag and not open_list:
            out.append(f"<{tag}>")
            open_list = tag
        if block.kind == "heading" and block.level == 1:
            continue  # the title, which the page shows already
        if block.kind == "heading":
            level = min(block.level + 1, 6)
            out.append(f"<h{level}>{_inline(block.text)}</h{level}>")
        elif block.kind == "table":
            head = "".join(f"<th scope='col'>{_inline(c)}</th>" for c in block.rows[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                for row in block.rows[1:]
            )
            out.append(
                f"<div class='table-wrap'><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table></div>"
            )
        elif tag:
            nested = " class='nested'" if block.level > 1 else ""
            out.append(f"<li{nested}>{_inline(block.text)}</li>")
        else:
            out.append(f"<p>{_inline(block.text)}</p>")
    if open_list:
        out.append(f"</{open_list}>")
    # Every piece of text in it went through escape() above.
    return Markup("".join(out))
