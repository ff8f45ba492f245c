"""The web front: server-rendered pages (Jinja2, htmx) over the same services as the REST API.

Browsers sign in with a password and carry a session cookie; every form carries the session's
CSRF token. The pages are left out of the OpenAPI, which describes the REST API alone.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.web.core import WebProblem, problem_page
from api.web.pages import (
    actions,
    audits,
    competence,
    complaints,
    context,
    dashboard,
    deviations,
    documents,
    evidence,
    followups,
    instruments,
    objectives,
    pairs,
    participants,
    procedures,
    programmes,
    providers,
    records,
    reviews,
    risks,
    session,
    system,
    users,
    work,
)
from qms.i18n import Text

STATIC = Path(__file__).parent / "static"
# Sent with every page: no framing (clickjacking), scripts and forms from this site only, no
# caching of pages that show records.
PAGE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
        b"form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")
NOT_PAGES = ("/api/", "/healthz", "/docs", "/redoc", "/openapi")


def is_page(path: str) -> bool:
    """Say whether an address belongs to the web front (the REST API and its docs do not)."""
    return not path.startswith(NOT_PAGES)


class PageHeaders:
    """ASGI middleware that adds the pages' security headers (the REST API is left as it is)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else "/api/"
        if not is_page(path):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += PAGE_HEADERS
                if not path.startswith("/static/"):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def router() -> APIRouter:
    """Every page of the web front."""
    pages = APIRouter(include_in_schema=False)
    for module in (
        session,
        dashboard,
        programmes,
        deviations,
        actions,
        procedures,
        audits,
        reviews,
        participants,
        pairs,
        followups,
        records,
        instruments,
        documents,
        evidence,
        users,
        work,
        system,
        context,
        objectives,
        providers,
        complaints,
        risks,
        competence,
    ):
        pages.include_router(module.router)
    return pages


def install(app: FastAPI) -> None:
    """Serve the pages, their static files, and error pages for them."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def _favicon(request: Request) -> Response:
        # Where browsers look for the site's icon when a page does not name one.
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")

    app.add_route("/favicon.ico", _favicon, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_middleware(PageHeaders)
    app.include_router(router(), include_in_schema=False)

    @app.exception_handler(WebProblem)
    async def _problem(request: Request, exc: WebProblem) -> Response:
        return await problem_page(request, exc.status, exc.detail, sign_in=exc.sign_in)

    # An address no route serves: a page to a browser, a problem document to the REST API.
    api_answer = app.exception_handlers[StarletteHTTPException]

    @app.exception_handler(StarletteHTTPException)
    async def _no_route(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request.url.path) and exc.status_code in (404, 405):
            detail = (
                Text("There is no page at this address.")
                if exc.status_code == 404
                else Text("This page cannot be used that way.")
            )
            return await problem_page(request, exc.status_code, detail)
        answer = api_answer(request, exc)
        return await answer if inspect.isawaitable(answer) else answer
