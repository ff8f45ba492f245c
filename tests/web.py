"""Helpers for the web front's tests: users with passwords, signing in, reading forms back."""

from __future__ import annotations

import html
import re
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


def error_beside(page: str, field: str) -> str | None:
    """Return the error message shown beside a form field, if any."""
    match = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else None
