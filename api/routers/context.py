"""The organisation's context, its interested parties, the scope of the quality management
system (ISO 9001 4.1-4.3), and the quality policy in force (5.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from qms.audit.schemas import AuditEventRead
from qms.context import service
from qms.context.exports import ISSUE_COLUMNS, PARTY_COLUMNS
from qms.context.models import IssueOrigin, IssueStatus, PartyKind
from qms.context.schemas import (
    ContextIssueCreate,
    ContextIssueRead,
    ContextIssueUpdate,
    ContextReview,
    PartyCreate,
    PartyRead,
    PartyUpdate,
    PolicyRead,
    ScopeRead,
    ScopeUpdate,
)
from qms.fields import MAX_INT
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["context and policy"])

ProgrammeQuery = Annotated[
    int | None, Query(ge=1, le=MAX_INT, description="Only those of this programme")
]
DueQuery = Annotated[bool | None, Query(description="true: those whose review date has come")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/context/issues",
    response_model=PageRead[ContextIssueRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_context_issues(
    actor: Annotated[Actor, allowed(Action.context_read)],
    session: SessionDep,
    request: Request,
    origin: IssueOrigin | None = None,
    status: IssueStatus | None = None,
    programme_id: ProgrammeQuery = None,
    review_due: DueQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    format: FormatQuery = None,
) -> PageRead[ContextIssueRead] | StreamingResponse:
    """List the internal and external issues, oldest first; or take them all as a file."""
    filters = service.ContextFilter(
        programme_id=programme_id, review_due=review_due, origin=origin, status=status
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_issues(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="context-issues",
            title="Context issues",
            columns=ISSUE_COLUMNS,
            records=(service.issue_to_read(i).model_dump(mode="json") for i in every),
        )
    page = service.list_issues(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PageRead[ContextIssueRead](
        items=[service.issue_to_read(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/context/issues",
    status_code=201,
    response_model=ContextIssueRead,
    responses=responses(401, 403, 422),
)
def create_context_issue(
    actor: Annotated[Actor, allowed(Action.context_write)],
    data: ContextIssueCreate,
    session: SessionDep,
    response: Response,
) -> ContextIssueRead:
    """Record an internal or external issue of the organisation's context."""
    issue = service.create_issue(session, actor=actor, data=data)
    response.headers["ETag"] = etag(issue.version)
    response.headers["Location"] = f"/api/v1/context/issues/{issue.id}"
    return service.issue_to_read(issue)


@router.get(
    "/context/issues/{issue_id}",
    response_model=ContextIssueRead,
    responses=responses(401, 403, 404, 422),
)
def get_context_issue(
    actor: Annotated[Actor, allowed(Action.context_read)],
    issue_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ContextIssueRead:
    """Return one issue; its ETag is the version to send back in If-Match."""
    issue = service.get_issue(session, actor=actor, issue_id=issue_id)
    response.headers["ETag"] = etag(issue.version)
    return service.issue_to_read(issue)


@router.patch(
    "/context/issues/{issue_id}",
    response_model=ContextIssueRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_context_issue(
    actor: Annotated[Actor, allowed(Action.context_write)],
    issue_id: IdPath,
    data: ContextIssueUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ContextIssueRead:
    """Change an issue (its status among them); If-Match must carry the ETag it was read with."""
    issue = service.update_issue(
        session, actor=actor, issue_id=issue_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(issue.version)
    return service.issue_to_read(issue)


@router.post(
    "/context/issues/{issue_id}/reviews",
    response_model=ContextIssueRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def review_context_issue(
    actor: Annotated[Actor, allowed(Action.context_write)],
    issue_id: IdPath,
    data: ContextReview,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ContextIssueRead:
    """Record a review of an issue and set when it is reviewed next."""
    issue = service.review_issue(
        session, actor=actor, issue_id=issue_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(issue.version)
    return service.issue_to_read(issue)


@router.get(
    "/context/issues/{issue_id}/history",
    response_model=list[AuditEventRead],
    responses=responses(401, 403, 404, 422),
)
def get_context_issue_history(
    actor: Annotated[Actor, allowed(Action.context_read)],
    issue_id: IdPath,
    session: SessionDep,
) -> list[AuditEventRead]:
    """Return the issue's timeline from the audit trail."""
    issue = service.get_issue(session, actor=actor, issue_id=issue_id)
    events = service.history(session, actor=actor, entity="context_issue", entity_id=issue.id)
    return [AuditEventRead.model_validate(e) for e in events]


@router.get(
    "/context/parties",
    response_model=PageRead[PartyRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_interested_parties(
    actor: Annotated[Actor, allowed(Action.context_read)],
    session: SessionDep,
    request: Request,
    kind: PartyKind | None = None,
    programme_id: ProgrammeQuery = None,
    review_due: DueQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    format: FormatQuery = None,
) -> PageRead[PartyRead] | StreamingResponse:
    """List the interested parties, oldest first; or take them all as a file."""
    filters = service.ContextFilter(programme_id=programme_id, review_due=review_due, kind=kind)
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_parties(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="interested-parties",
            title="Interested parties",
            columns=PARTY_COLUMNS,
            records=(service.party_to_read(p).model_dump(mode="json") for p in every),
        )
    page = service.list_parties(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PageRead[PartyRead](
        items=[service.party_to_read(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/context/parties",
    status_code=201,
    response_model=PartyRead,
    responses=responses(401, 403, 422),
)
def create_interested_party(
    actor: Annotated[Actor, allowed(Action.context_write)],
    data: PartyCreate,
    session: SessionDep,
    response: Response,
) -> PartyRead:
    """Record an interested party, its requirements and how the system meets them."""
    party = service.create_party(session, actor=actor, data=data)
    response.headers["ETag"] = etag(party.version)
    response.headers["Location"] = f"/api/v1/context/parties/{party.id}"
    return service.party_to_read(party)


@router.get(
    "/context/parties/{party_id}",
    response_model=PartyRead,
    responses=responses(401, 403, 404, 422),
)
def get_interested_party(
    actor: Annotated[Actor, allowed(Action.context_read)],
    party_id: IdPath,
    session: SessionDep,
    response: Response,
) -> PartyRead:
    """Return one interested party; its ETag is the version to send back in If-Match."""
    party = service.get_party(session, actor=actor, party_id=party_id)
    response.headers["ETag"] = etag(party.version)
    return service.party_to_read(party)


@router.patch(
    "/context/parties/{party_id}",
    response_model=PartyRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_interested_party(
    actor: Annotated[Actor, allowed(Action.context_write)],
    party_id: IdPath,
    data: PartyUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> PartyRead:
    """Change an interested party; If-Match must carry the ETag it was read with."""
    party = service.update_party(
        session, actor=actor, party_id=party_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(party.version)
    return service.party_to_read(party)


@router.post(
    "/context/parties/{party_id}/reviews",
    response_model=PartyRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def review_interested_party(
    actor: Annotated[Actor, allowed(Action.context_write)],
    party_id: IdPath,
    data: ContextReview,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> PartyRead:
    """Record a review of an interested party and set when it is reviewed next."""
    party = service.review_party(
        session, actor=actor, party_id=party_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(party.version)
    return service.party_to_read(party)


@router.get("/context/scope", response_model=ScopeRead, responses=responses(401, 403, 422))
def get_scope(
    actor: Annotated[Actor, allowed(Action.context_read)],
    session: SessionDep,
    response: Response,
) -> ScopeRead:
    """Return the scope of the quality management system and the requirements not applicable."""
    scope = service.get_scope(session, actor=actor)
    read = service.scope_to_read(scope)
    response.headers["ETag"] = etag(read.version)
    return read


@router.put(
    "/context/scope",
    response_model=ScopeRead,
    responses=responses(401, 403, 412, 422, 428),
)
def set_scope(
    actor: Annotated[Actor, allowed(Action.context_write)],
    data: ScopeUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ScopeRead:
    """Set the scope; If-Match carries the ETag it was read with ("0" before the first)."""
    scope = service.set_scope(session, actor=actor, data=data, if_match=if_match)
    response.headers["ETag"] = etag(scope.version)
    return service.scope_to_read(scope)


@router.get("/policy", response_model=PolicyRead, responses=responses(401, 403, 404, 422))
def get_policy(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    session: SessionDep,
    response: Response,
) -> PolicyRead:
    """Return the quality policy in force: the approved version of procedure POL-01."""
    version = service.get_policy(session, actor=actor)
    response.headers["ETag"] = etag(version.version)
    return service.policy_to_read(version)
