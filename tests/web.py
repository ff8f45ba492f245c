"""Helpers for the web front's tests: users with passwords, signing in, reading forms back."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from sqlalchemy.orm import Session

from qms.accounts import web as web_accounts
from qms.permissions import Role
from tests.factories import ADMIN, make_user

PASSWORD = "correct horse battery staple"


def web_user(session: Session, role: Role, name: str | None = None) -> str:
    """Create a user of the role with PASSWORD; return the name."""
    user = make_user(session, role, name)
    web_accounts.set_password(session, actor=ADMIN, user_name=user.name, password=PASSWORD)
    session.flush()
    return user.name


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, as a browser would; return the response to the POST."""
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post(
        "/sign-in",
        data={"csrf_token": token.group(1), "name": name, "password": password, "next": "/"},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    """Return the CSRF token the page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def error_beside(page: str, field: str) -> str:
    """Return the error message shown beside a form field, or an empty text if there is none."""
    match = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else ""


@dataclass
class FormField:
    """One named control of a form: its kind, the value it starts with, the options it offers."""

    name: str
    kind: str
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class PageForm:
    """A form as the browser sees it: where it goes, how, and its controls by name."""

    action: str
    method: str
    fields: dict[str, FormField] = field(default_factory=dict)
    multipart: bool = False

    def defaults(self) -> list[tuple[str, str]]:
        """Return what the browser would send untouched (a select's first option, no radio)."""
        sent = []
        for control in self.fields.values():
            if control.kind == "select":
                sent.append((control.name, control.value or next(iter(control.options), "")))
            elif control.kind not in ("radio", "checkbox", "submit", "file"):
                sent.append((control.name, control.value))
        return sent


class _PageReader(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def _add(self, control: FormField) -> FormField:
        assert self._form is not None
        return self._form.fields.setdefault(control.name, control)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            action = a.get("action") or self.base
            self._form = PageForm(
                action=action,
                method=a.get("method", "get").lower(),
                multipart=a.get("enctype") == "multipart/form-data",
            )
            self.forms.append(self._form)
        elif self._form is None or "name" not in a or "disabled" in a:
            return
        elif tag == "input":
            kind = a.get("type", "text")
            control = self._add(
                FormField(a["name"], kind, "" if kind == "radio" else a.get("value", ""))
            )
            if kind in ("radio", "checkbox"):
                control.options.append(a.get("value", "on"))
        elif tag == "select":
            self._select = self._add(FormField(a["name"], "select"))
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif tag == "textarea":
            self._textarea = self._add(FormField(a["name"], "textarea"))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_page(path: str, text: str) -> tuple[list[str], list[PageForm]]:
    """Return a page's on-site links and its forms, read as a browser reads them."""
    reader = _PageReader(path)
    reader.feed(text)
    return reader.links, reader.forms
