"""The web front: server-rendered pages (Jinja2, htmx) over the same services as the REST API.

Browsers sign in with a password and carry a session cookie; every form carries the session's
CSRF token. The pages are left out of the OpenAPI, which describes the REST API alone.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from api.web.core import WebProblem, problem_page
from api.web.pages import (
    actions,
    dashboard,
    deviations,
    documents,
    followups,
    procedures,
    records,
    session,
)

STATIC = Path(__file__).parent / "static"


def router() -> APIRouter:
    """Every page of the web front."""
    pages = APIRouter(include_in_schema=False)
    for module in (
        session,
        dashboard,
        deviations,
        actions,
        procedures,
        followups,
        records,
        documents,
    ):
        pages.include_router(module.router)
    return pages


def install(app: FastAPI) -> None:
    """Serve the pages, their static files, and error pages for them."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router(), include_in_schema=False)

    @app.exception_handler(WebProblem)
    async def _problem(request: Request, exc: WebProblem) -> Response:
        return await problem_page(request, exc.status, exc.detail, sign_in=exc.sign_in)
