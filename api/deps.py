"""Request dependencies: the session (one transaction per request) and the acting user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from qms.access.service import AccessLog
from qms.accounts import service as accounts
from qms.db import Database
from qms.errors import FieldError, TooManyFailures, Unauthenticated, ValidationFailed
from qms.fields import MAX_INT
from qms.i18n import Text
from qms.permissions import Action, Actor, require

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(
    auto_error=False, description="A token from `qms users add` or `qms tokens create`"
)


def get_database(request: Request) -> Database:
    """Return the application's database."""
    database: Database = request.app.state.database
    return database


def get_access_log(request: Request) -> AccessLog:
    """Return the application's access log (the buffer of auditors' reads)."""
    log: AccessLog = request.app.state.access_log
    return log


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Open the request's unit of work: committed when the route returns, rolled back on error.

    Opening it reads nothing (a session takes its connection at its first statement), so it is
    opened in the server's loop rather than handed to a worker thread and back on every request;
    ending it (commit or rollback, the connection returned) runs in a worker thread, as FastAPI
    runs a synchronous dependency's exit: shielded from cancellation, outside the threads' limit.
    """
    unit = get_database(request).unit_of_work(write=request.method not in _READ_METHODS)
    session = unit.__enter__()
    exit_limiter = CapacityLimiter(1)
    try:
        yield session
    except BaseException as error:
        with CancelScope(shield=True):
            handled = await to_thread.run_sync(
                unit.__exit__, type(error), error, error.__traceback__, limiter=exit_limiter
            )
        if not handled:
            raise
    else:
        with CancelScope(shield=True):
            await to_thread.run_sync(unit.__exit__, None, None, None, limiter=exit_limiter)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Return who is calling, from the bearer token; a failure is put into the audit trail.

    The token is checked in a short transaction of its own, before the request's unit of work
    begins: a failed login is recorded (and committed) whatever becomes of the request, and on
    SQLite no write lock is held while that record is written. An auditor's read goes into the
    access log's buffer, which never waits for a writer.
    """
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated(Text("Send a bearer token: Authorization: Bearer <token>."))
    secret = credentials.credentials
    database = get_database(request)
    try:
        with database.reading_once() as session:
            actor = accounts.authenticate(session, secret)
    except Unauthenticated as exc:
        with database.unit_of_work() as audit_session:
            wait = accounts.record_login_failure(
                audit_session,
                refused=exc,
                client=request.client.host if request.client else None,
            )
        if wait:
            raise TooManyFailures(
                Text(
                    "Too many failed attempts from this address: wait %(seconds)s seconds before "
                    "trying again.",
                    seconds=wait,
                ),
                retry_after=wait,
            ) from exc
        raise
    if accounts.use_is_audited(actor):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        accounts.record_access(
            get_access_log(request),
            actor=actor,
            request=f"{request.method} {target}",
            client=request.client.host if request.client else None,
        )
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


class Permission:
    """A dependency that lets the request through only if the actor's role allows the action."""

    def __init__(self, action: Action) -> None:
        self.action = action

    # Asynchronous, as it reads nothing but the request: run in the server's loop, not handed
    # to a worker thread and back on every request.
    async def __call__(self, request: Request, actor: CurrentActor) -> Actor:
        require(actor, self.action)
        check_query_parameters(request)
        return actor


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def check_query_parameters(request: Request) -> None:
    """Refuse query parameters the route does not know, or repeats of single ones.

    A misspelt filter (`?stauts=open`) would otherwise be ignored silently and the reader would
    take an unfiltered list for a filtered one.
    """
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    # Gathered from the route's dependencies once, and kept on the route.
    known = getattr(route, "_query_names", None)
    if known is None:
        known = frozenset(_query_names(dependant))
        route._query_names = known  # type: ignore[union-attr]
    problems = [
        FieldError(
            name,
            Text("This address takes no such parameter; it takes: %(known)s.", known=sorted(known))
            if known
            else Text("This address takes no parameters."),
        )
        for name in request.query_params
        if name not in known
    ]
    problems += [
        FieldError(name, Text("Give this parameter once."))
        for name in known
        if len(request.query_params.getlist(name)) > 1
    ]
    problems += [
        FieldError(name, Text("Remove the NUL characters from this parameter."))
        for name, value in request.query_params.multi_items()
        if "\x00" in value
    ]
    if problems:
        raise ValidationFailed(
            Text("The query has parameters this address does not take."), problems
        )


def allowed(action: Action) -> Any:
    """Declare the action a route performs: `actor: Annotated[Actor, allowed(Action.x)]`.

    Put it first among the route's parameters, so that a request without a valid token is
    answered 401 before anything else about it is checked.
    """
    return Depends(Permission(action))


IdPath = Annotated[int, Path(ge=1, le=MAX_INT)]


def if_match_version(
    if_match: Annotated[
        str | None,
        Header(description='The ETag of the version being changed, e.g. "3"'),
    ] = None,
) -> int | None:
    """Parse If-Match into a version number."""
    if if_match is None:
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit() or len(value) > 9:
        raise ValidationFailed(
            Text("If-Match is not an ETag of this service."),
            [FieldError("If-Match", Text('Send the ETag the record was read with, such as "3".'))],
        )
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match_version)]


def etag(version: int) -> str:
    """Return the ETag header value for a record version."""
    return f'"{version}"'
