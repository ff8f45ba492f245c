"""The changes between two versions of a procedure's text, as a reader wants them: the new text
rendered as the procedure page shows it, with the blocks added and removed and, in a block that
changed, the words added and removed marked (<ins>, <del>, each with a cue a screen reader says:
never colour alone).

The Markdown is compared block by block (a heading, a paragraph, a list, a table, a code block),
so what did not change reads as it always does; a changed block is compared word by word and
shown as its text, since its marks would not survive the Markdown's own rendering."""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

from markupsafe import Markup, escape

from api.web.markdown import to_html

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def blocks(markdown: str) -> list[str]:
    """Split Markdown into its blocks: runs of lines between blank lines, a fenced code block
    (blank lines and all) kept whole."""
    found: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        opening = _FENCE.match(line)
        if fence is not None:
            current.append(line)
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
        if line.strip() or fence is not None:
            current.append(line)
        elif current:
            found.append("\n".join(current))
            current = []
    if current:
        found.append("\n".join(current))
    return found


def _marked(tag: str, cue: str, content: Markup | str) -> Markup:
    return Markup('<{tag}><span class="visually-hidden">{cue}</span>{content}</{tag}>').format(
        tag=Markup(tag), cue=cue, content=content
    )


def words(old: str, new: str, added: str, removed: str) -> Markup:
    """Return the new text with the words removed from the old one and those added marked."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    parts: list[Markup] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(_marked("del", removed, "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            parts.append(_marked("ins", added, "".join(b[j1:j2])))
    return Markup("").join(parts)


def _html(block: str, first: bool) -> Markup:
    # The text's opening level-1 heading is the title, which the page shows already.
    return to_html(block, skip_title=first)


def _block(kind: str, cue: str, markdown: str, first: bool) -> Markup:
    return Markup('<div class="change {kind}">{marked}</div>\n').format(
        kind=kind, marked=_marked(kind, cue, _html(markdown, first))
    )


def _alike(old: str, new: str) -> bool:
    """Say whether two blocks share enough words to be read as one block changed."""
    matcher = SequenceMatcher(None, _WORDS.findall(old), _WORDS.findall(new), autojunk=False)
    return matcher.ratio() >= 0.4


def _pieces(old: list[str], new: list[str], cues: dict[str, str]) -> Iterator[Markup]:
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            yield Markup("").join(_html(new[j], j == 0) for j in range(j1, j2))
            continue
        before, after = old[i1:i2], new[j1:j2]
        # A replaced block that shares most of its words with the one it replaced is shown word
        # by word against it; any other as removed and added whole.
        paired = 0
        if op == "replace":
            while paired < min(len(before), len(after)) and _alike(before[paired], after[paired]):
                paired += 1
        for was, now in zip(before[:paired], after[:paired], strict=True):
            yield Markup(
                '<div class="change changed"><p class="visually-hidden">{cue}</p>'
                '<p class="source">{text}</p></div>\n'
            ).format(cue=cues["changed"], text=words(was, now, cues["added"], cues["removed"]))
        for offset, was in enumerate(before[paired:], start=paired):
            yield _block("del", cues["removed"], was, i1 + offset == 0)
        for offset, now in enumerate(after[paired:], start=paired):
            yield _block("ins", cues["added"], now, j1 + offset == 0)


def changes(old: str, new: str, cues: dict[str, str]) -> Markup:
    """Return the new Markdown rendered with its changes from the old one marked; `cues` gives
    the words a screen reader says for "added", "removed" and "changed"."""
    return Markup("").join(_pieces(blocks(old), blocks(new), cues))
