"""Turn every error into application/problem+json (RFC 9457); never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.routing import api_routes
from qms import errors
from qms.i18n import DEFAULT_LANGUAGE, negotiate, said, translate, validation

log = logging.getLogger("qms.api")

PROBLEM = "application/problem+json"

STATUS: dict[type[errors.QMSError], int] = {
    errors.TooManyFailures: 429,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.StaleVersion: 412,
    errors.PreconditionRequired: 428,
    errors.ValidationFailed: 422,
    errors.TooLarge: 413,
}


class ProblemError(BaseModel):
    """One field (or row) that is wrong, and why."""

    field: str
    message: str
    row: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemError] | None = None
    allowed: list[str] | None = None


def _status_of(exc: errors.QMSError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    field_errors: list[dict[str, Any]] | None = None,
    allowed: list[str] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """Build a problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if field_errors is not None:
        body["errors"] = field_errors
    if allowed is not None:
        body["allowed"] = allowed
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join(rest) or where
    return ".".join(parts)


def reader_language(request: Request) -> str:
    """Return the language a client asks for (Accept-Language) among ours, else English.

    A problem's `detail` and its errors' messages are in that language; `type`, `title` and the
    field names stay the same in every language, for scripts."""
    return negotiate(request.headers.get("accept-language")) or DEFAULT_LANGUAGE


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Return the methods the application serves at a path."""
    matching = [r for r in api_routes(app) if r.path_regex.match(path)]
    # A fixed path (/imports/evaluations) is its own resource, though a template
    # (/imports/{batch_id}) would match it too.
    exact = [r for r in matching if r.path == path]
    methods: set[str] = set()
    for route in exact or matching:
        methods |= route.methods or set()
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers that map errors to problems."""

    @app.exception_handler(errors.QMSError)
    async def _domain(request: Request, exc: errors.QMSError) -> JSONResponse:
        status = _status_of(exc)
        language = reader_language(request)
        field_errors = None
        if isinstance(exc, errors.ValidationFailed):
            field_errors = [
                {
                    "field": e.field,
                    "message": said(e.message, language),
                    **({"row": e.row} if e.row else {}),
                }
                for e in exc.errors
            ]
        allowed = exc.allowed if isinstance(exc, errors.InvalidTransition) else None
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, errors.TooManyFailures):
            headers = {"Retry-After": str(exc.retry_after)}
        extensions = None
        if isinstance(exc, errors.SignatureRequired):
            # What a script shows the signer before it sends the move again, confirmed.
            extensions = {
                "signature": {
                    "meaning": exc.meaning,
                    "statement": said(exc.statement, language),
                    "statement_language": language,
                }
            }
        return problem_response(
            status,
            exc.title,
            said(exc.detail, language),
            field_errors=field_errors,
            allowed=allowed,
            headers=headers,
            extensions=extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = reader_language(request)
        field_errors = [
            {
                "field": "body"
                if e.get("type") == "json_invalid"
                else _field_path(tuple(e["loc"])),
                "message": validation.message(e, language),
            }
            for e in exc.errors()
        ]
        return problem_response(
            422,
            "Validation failed",
            translate("The request does not match the schema: see each field.", language),
            field_errors=field_errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, "Request failed"
        )
        if exc.status_code == 405:
            # Name every method the path supports, not just those of the first route matched.
            methods = allowed_methods(request.app, request.url.path)
            if methods:
                headers = {**(getattr(exc, "headers", None) or {}), "Allow": ", ".join(methods)}
                return problem_response(405, title, str(exc.detail), headers=headers)
        if exc.status_code == 400:
            # Starlette's "error parsing the body": a body that is not JSON is a validation problem.
            not_json = validation.message({"type": "json_invalid"}, reader_language(request))
            return problem_response(
                422,
                "Validation failed",
                not_json,
                field_errors=[{"field": "body", "message": not_json}],
            )
        return problem_response(
            exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return problem_response(
            412,
            "Precondition failed",
            "the record was changed by someone else meanwhile; read it again",
        )

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold that slipped past validation: the client's input.
        log.warning("data error: %s", exc.orig)
        return problem_response(
            422,
            "Validation failed",
            "a value in the request cannot be stored or compared",
            field_errors=[{"field": "request", "message": "a value the database cannot hold"}],
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return problem_response(
            409,
            "Conflict",
            "the change conflicts with a record written at the same time; try again",
        )

    @app.exception_handler(OperationalError)
    async def _operational(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc.orig)
        return problem_response(
            503,
            "Service unavailable",
            "the database could not serve the request; try again",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem_response(500, "Internal error", "the error has been logged")


TOO_LARGE = "The request body is larger than the service takes"


def document(app: FastAPI) -> None:
    """Make the OpenAPI say what the service answers with when it refuses a request.

    FastAPI puts a documented response's model under the route's own media type (JSON, CSV);
    problems are sent as application/problem+json, so their schema is moved there, and only
    there, where a client — or a fuzzer — validates against it. Every operation that takes a
    body also documents 413: the body limit is checked before any route sees the request."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # kept by FastAPI as app.openapi_schema: changed here once
        problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                answers = operation["responses"]
                if "requestBody" in operation:
                    answers.setdefault("413", {"description": TOO_LARGE, "content": problem})
                for answer in answers.values():
                    if PROBLEM in answer.get("content", {}):
                        answer["content"] = problem
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the problems a route may answer with, for the OpenAPI."""
    described = {
        400: "Bad request",
        401: "Missing, unknown, expired or revoked token",
        403: "The role may not do this",
        404: "No such record, or not visible to this token",
        409: "Conflicts with the record's state",
        412: "If-Match is not the current version",
        413: TOO_LARGE,
        422: "Invalid input; `errors` names each field",
        428: "If-Match is required",
        429: "Too many failed authentications from this client: wait `Retry-After` seconds",
    }
    # Where a token is checked, a client that keeps sending wrong ones is made to wait.
    documented = [*statuses, 429] if 401 in statuses and 429 not in statuses else statuses
    return {
        s: {"model": Problem, "description": described[s], "content": {PROBLEM: {}}}
        for s in documented
    }
