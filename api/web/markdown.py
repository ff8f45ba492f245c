"""A procedure's Markdown as HTML: markdown-it-py's own renderer over the same tokens the Word
document is written from (qms.documents.markdown), so the page and the document agree.

Raw HTML is not markup (the parser runs with html=False: a tag shows as the text it is), every
text is escaped, and a link to a javascript:, vbscript:, file: or data: address stays text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape

from qms.documents.markdown import PARSER, tokens


class PageRenderer(RendererHTML):
    """markdown-it's HTML in the page's frame: headings one level below the page's own, tables in
    the page's scrolling wrapper with column headers, images as links to them."""

    def heading_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f"<h{_level(tokens[idx])}>"

    def heading_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # The heading a table comes under names the table's scrolling box.
        env["heading"] = self.renderInlineAsText(tokens[idx - 1].children or [], options, env)
        return f"</h{_level(tokens[idx])}>\n"

    def table_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # A table wider than the screen scrolls in its own box, which the keyboard can reach and
        # a screen reader names: by the heading above it, else by its column headers.
        columns = []
        for token in tokens[idx + 1 :]:
            if token.type == "thead_close":
                break
            if token.type == "inline":
                columns.append(self.renderInlineAsText(token.children or [], options, env))
        name = env.get("heading") or ", ".join(c for c in columns if c)
        return (
            f'<div class="table-wrap" role="region" tabindex="0" aria-label="{escape(name)}">'
            "<table>\n"
        )

    def table_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</table></div>\n"

    def th_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        tokens[idx].attrSet("scope", "col")
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        return f'<a href="{escape(token.attrGet("src") or "")}">{escape(alt)}</a>'


def _level(token: Token) -> int:
    return min(int(token.tag[1]) + 1, 6)


_RENDERER = PageRenderer(PARSER)


def to_html(markdown: str, *, skip_title: bool = True) -> Markup:
    """Render a procedure's Markdown to HTML; every piece of text is escaped. With skip_title,
    the level-1 heading the text opens with is left out (the page shows the title already)."""
    options: Any = PARSER.options
    # markdown-it escapes every text and attribute it writes (html=False: no raw HTML passes).
    return Markup(_RENDERER.render(tokens(markdown, skip_title=skip_title), options, {}))
