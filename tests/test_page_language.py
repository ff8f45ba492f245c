"""Every page speaks the reader's language, for every role: on the demo, each role's pages are
walked from the overview by their links, in Norwegian bokmål and in Swedish, and read as a person
reads them (the text, and the words of titles, labels and placeholders).

No English text of the catalogue may remain (what people wrote in the records stays as written),
and no stored code (an enum member or a rule with an '_') may be shown.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from qms.accounts import web as web_accounts
from qms.audit.models import AuditEvent
from qms.i18n.values import VALUES
from qms.permissions import Role
from tests import test_document_language as documents
from tests.conftest import make_client
from tests.factories import ADMIN, make_user
from tests.test_document_language import _coded_values, _english, _own
from tests.web import PASSWORD, sign_in

LANGUAGES = ("nb", "sv")
# The roles that sign in to the pages (an importer's token is for scripts only).
ROLES = (Role.admin, Role.quality_lead, Role.coordinator, Role.auditor)
# Addresses not to follow: leaving, switching the language, files rather than pages.
NOT_PAGES = re.compile(r"^/(sign-out|language|static/)|/(download|issued)/|\.(docx|zip|csv|xlsx)$")
# The demo, its records and the texts people wrote in them, as the documents' test loads it.
demo = documents.demo
# Pages of one kind are alike: each address shape (numbers made N) is read twice at most.
PER_SHAPE = 2


class _Reader(HTMLParser):
    """The page's text, the words a person reads in attributes, and the links it offers."""

    SPOKEN = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        # The element holding what people wrote (a procedure's rendered text, its differences
        # between versions), read as its authors wrote it: its tag and how deep we are in it.
        self._written: tuple[str, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self._written and tag == self._written[0]:
            self._written = (tag, self._written[1] + 1)
        elif not self._written and "rendered" in str(found.get("class", "")).split():
            self._written = (tag, 1)
        # A script is not read; a text box holds what someone wrote, as they wrote it.
        if tag in ("script", "style", "template", "textarea"):
            self._hidden += 1
        self.parts += [str(found[name]) for name in self.SPOKEN if found.get(name)]
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self._hidden -= 1
        if self._written and tag == self._written[0]:
            depth = self._written[1] - 1
            self._written = (tag, depth) if depth else None

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._written:
            self.parts.append(data)


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def walk(client: Any, language: str) -> dict[str, str]:
    """Return every page the signed-in reader reaches by links from the overview, as its text."""
    assert client.get(f"/language?set={language}").status_code in (200, 303)
    seen: dict[str, str] = {}
    shapes: dict[str, int] = {}
    waiting = ["/"]
    while waiting:
        path = waiting.pop(0)
        if path in seen:
            continue
        shape = _shape(path)
        if shapes.get(shape, 0) >= PER_SHAPE:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if not response.headers["content-type"].startswith("text/html"):
            continue
        reader = _Reader()
        reader.feed(response.text)
        seen[path] = re.sub(r"\s+", " ", " ".join(reader.parts).replace("\xa0", " "))
        for link in reader.links:
            target = urlsplit(link)
            if target.netloc or not target.path.startswith("/") or NOT_PAGES.search(target.path):
                continue
            waiting.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


@pytest.fixture(scope="module")
def pages(demo: tuple[Any, list[str]]) -> dict[tuple[Role, str], dict[str, str]]:
    """Each role's pages in each language (role, language -> path -> text)."""
    database, _ = demo
    walked: dict[tuple[Role, str], dict[str, str]] = {}
    for role in ROLES:
        with database.unit_of_work() as session:
            name = f"walker-{role.value.replace('_', '-')}"
            make_user(session, role, name)
            web_accounts.set_password(session, actor=ADMIN, user_name=name, password=PASSWORD)
        client = make_client(database)
        assert sign_in(client, name).status_code == 303
        for language in LANGUAGES:
            walked[(role, language)] = walk(client, language)
    return walked


@pytest.mark.slow(reason="walks every page of four roles in two languages over the demo")
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_every_page_speaks_the_language(
    demo: tuple[Any, list[str]],
    pages: dict[tuple[Role, str], dict[str, str]],
    role: Role,
    language: str,
) -> None:
    walked = pages[(role, language)]
    # The walk reaches the role's working pages, not only the overview.
    assert len(walked) >= 10, sorted(walked)
    english = _english(language)
    codes = _coded_values()
    _, written = demo
    left: dict[str, list[str]] = {}
    shown: dict[str, list[str]] = {}
    for path, text in walked.items():
        own = _own(text, written)
        for english_text in (m for m in english if m in own):
            left.setdefault(english_text, []).append(path)
        for code in (c for c in codes if re.search(rf"\b{re.escape(c)}\b", own)):
            shown.setdefault(code, []).append(path)
    assert left == {}, _where(left)
    assert shown == {}, _where(shown)


def _where(found: dict[str, list[str]]) -> str:
    """Each text found, with the first pages it was found on."""
    return "\n".join(f"{text!r} on {', '.join(paths[:3])}" for text, paths in sorted(found.items()))


def test_the_walk_would_see_a_page_left_in_english() -> None:
    """The checks above can fail: an English page read as bokmål shows catalogue texts and
    codes."""
    english = _english("nb")
    text = "Log a deviation · Severity · Corrective actions · status action_required"
    assert [m for m in english if m in text]
    assert [c for c in _coded_values() if re.search(rf"\b{re.escape(c)}\b", text)]


def test_every_field_an_event_changes_has_its_label(demo: tuple[Any, list[str]]) -> None:
    """A timeline and the audit trail name each changed field by its label: every key of every
    event's changes in the demo has one (and its translation, by the catalogue tests)."""
    database, _ = demo
    with database.unit_of_work(write=False) as session:
        keys = {
            key: event
            for event, changes in session.execute(select(AuditEvent.action, AuditEvent.changes))
            if isinstance(changes, dict)
            for key in changes
        }
    assert len(keys) > 50
    assert {key: event for key, event in keys.items() if key not in VALUES} == {}
