"""Internal audits: plan, checklist, answers (a 'no' raises a deviation), report, close."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.problems import responses
from api.signing import ReaderLanguage, in_language
from qms.audits import service
from qms.audits.models import AuditStatus
from qms.audits.schemas import (
    AuditCreate,
    AuditRead,
    AuditUpdate,
    ChecklistLineCreate,
    ChecklistLineRead,
    LineAnswer,
    Transition,
)
from qms.fields import MAX_INT, IsoDate
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/audits", tags=["internal audits"])


@router.get("", response_model=list[AuditRead], responses=responses(401, 403, 422))
def list_audits(
    actor: Annotated[Actor, allowed(Action.internal_audit_read)],
    session: SessionDep,
    status: AuditStatus | None = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    start_from: Annotated[IsoDate | None, Query(description="starting on or after")] = None,
    start_to: Annotated[IsoDate | None, Query(description="starting on or before")] = None,
) -> list[AuditRead]:
    """List internal audits, latest first."""
    return [
        service.to_read(session, a)
        for a in service.list_audits(
            session,
            actor=actor,
            status=status,
            programme_id=programme_id,
            start_from=start_from,
            start_to=start_to,
        )
    ]


@router.post("", status_code=201, response_model=AuditRead, responses=responses(401, 403, 409, 422))
def plan_audit(
    actor: Annotated[Actor, allowed(Action.internal_audit_manage)],
    data: AuditCreate,
    session: SessionDep,
    response: Response,
) -> AuditRead:
    """Plan an internal audit (numbered IA-YYYY-NNNN), with its checklist."""
    audit = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(audit.version)
    response.headers["Location"] = f"/api/v1/audits/{audit.id}"
    return service.to_read(session, audit)


@router.get("/{audit_id}", response_model=AuditRead, responses=responses(401, 403, 404, 422))
def get_audit(
    actor: Annotated[Actor, allowed(Action.internal_audit_read)],
    audit_id: IdPath,
    session: SessionDep,
    response: Response,
) -> AuditRead:
    """Return one audit with its checklist."""
    audit = service.get(session, actor=actor, audit_id=audit_id)
    response.headers["ETag"] = etag(audit.version)
    return service.to_read(session, audit)


@router.patch(
    "/{audit_id}",
    response_model=AuditRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_audit(
    actor: Annotated[Actor, allowed(Action.internal_audit_manage)],
    audit_id: IdPath,
    data: AuditUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> AuditRead:
    """Change the plan while planned, the findings until reported."""
    audit = service.update(session, actor=actor, audit_id=audit_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(audit.version)
    return service.to_read(session, audit)


@router.post(
    "/{audit_id}/transitions",
    response_model=AuditRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_audit(
    actor: Annotated[Actor, allowed(Action.internal_audit_manage)],
    audit_id: IdPath,
    data: Transition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
    language: ReaderLanguage,
) -> AuditRead:
    """Move an audit: planned -> in_progress -> reported -> closed (signed)."""
    data.signature = in_language(data.signature, language)
    audit = service.transition(
        session, actor=actor, audit_id=audit_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(audit.version)
    return service.to_read(session, audit)


@router.post(
    "/{audit_id}/lines",
    status_code=201,
    response_model=ChecklistLineRead,
    responses=responses(401, 403, 404, 409, 422),
)
def add_line(
    actor: Annotated[Actor, allowed(Action.internal_audit_manage)],
    audit_id: IdPath,
    data: ChecklistLineCreate,
    session: SessionDep,
    response: Response,
) -> ChecklistLineRead:
    """Add a question to the checklist."""
    line = service.add_line(session, actor=actor, audit_id=audit_id, data=data)
    response.headers["ETag"] = etag(line.version)
    return service.line_to_read(session, line)


@router.put(
    "/{audit_id}/lines/{line_id}/answer",
    response_model=ChecklistLineRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def answer_line(
    actor: Annotated[Actor, allowed(Action.internal_audit_manage)],
    audit_id: IdPath,
    line_id: IdPath,
    data: LineAnswer,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ChecklistLineRead:
    """Answer a line while the audit is in progress; 'no' raises a deviation linked to it."""
    line = service.answer_line(
        session, actor=actor, audit_id=audit_id, line_id=line_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(line.version)
    return service.line_to_read(session, line)
