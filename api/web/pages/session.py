"""Sign in, sign out, and the language of the pages."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import get_database
from api.web.core import (
    FORM_EXPIRED,
    LANGUAGE_COOKIE,
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    Form,
    WebProblem,
    check_csrf,
    render,
    see_other,
    signed_in,
)
from qms.accounts import web as web_accounts
from qms.i18n import LANGUAGES, NAMES, Either, Text

router = APIRouter(include_in_schema=False)


def _local(url: str | None) -> str:
    """Return the URL if it stays on this site (a path), else the overview."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    parts = urlsplit(url)
    return url if not parts.scheme and not parts.netloc else "/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _sign_in_form(
    request: Request,
    *,
    status: int = 200,
    name: str = "",
    refused: str | None = None,
    retry_after: int = 0,
    next_url: str = "/",
) -> Response:
    token = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        None,
        request,
        "sign_in.html",
        status=status,
        pre_csrf=token,
        name=name,
        refused=refused,
        retry_after=retry_after,
        next_url=next_url,
        section="sign-in",
    )
    response.set_cookie(
        PRE_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """The sign-in form."""
    return _sign_in_form(request, next_url=_local(next))


@router.post("/sign-in")
def sign_in(request: Request, form: Form) -> Response:
    """Check the user name and password; on success the session cookie is set."""
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    given = str(form.get("csrf_token") or "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebProblem(403, FORM_EXPIRED)
    name = str(form.get("name") or "").strip()[:100]
    password = str(form.get("password") or "")[:1024]
    next_url = _local(str(form.get("next") or "/"))
    with get_database(request).unit_of_work() as session:
        result = web_accounts.sign_in(
            session,
            name=name,
            password=password,
            client=request.client.host if request.client else None,
        )
    if result.secret is None:
        return _sign_in_form(
            request,
            status=429 if result.retry_after else 401,
            name=name,
            refused=web_accounts.REFUSED,
            retry_after=result.retry_after,
            next_url=next_url,
        )
    response = see_other(next_url, saved=False)
    response.set_cookie(
        SESSION_COOKIE,
        result.secret,
        max_age=web_accounts.SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(PRE_CSRF_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session (the form carries the session's CSRF token)."""
    page = await signed_in(request)
    await check_csrf(request, page.csrf_token)
    secret = request.cookies.get(SESSION_COOKIE, "")
    with get_database(request).unit_of_work() as session:
        web_accounts.sign_out(session, secret)
    response = see_other("/sign-in", saved=False)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language")
def choose_language(request: Request, set: Annotated[str, Query(max_length=5)] = "en") -> Response:
    """Switch the pages' language (English, Norwegian bokmål or Swedish) and go back."""
    if set not in LANGUAGES:
        raise WebProblem(
            422,
            Text("Choose one of the languages: %(languages)s.", languages=Either(NAMES.values())),
        )
    referer = request.headers.get("referer", "/")
    parts = urlsplit(referer)
    back = "/"
    if parts.netloc in ("", request.url.netloc):
        back = _local(parts.path + (f"?{parts.query}" if parts.query else ""))
    response = see_other(back, saved=False)
    response.set_cookie(
        LANGUAGE_COOKIE, set, max_age=365 * 86400, samesite="lax", secure=_secure(request)
    )
    return response
