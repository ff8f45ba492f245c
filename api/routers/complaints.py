"""Complaints: receive, list, change, move through the workflow, open a deviation, and the
complainant's details for those who may read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.sorting import sort_query
from qms.audit.schemas import AuditEventRead
from qms.complaints import service
from qms.complaints.enums import ComplainantCategory, ComplaintChannel, ComplaintStatus
from qms.complaints.schemas import (
    ComplainantData,
    ComplainantErasure,
    ComplainantRead,
    ComplaintCreate,
    ComplaintDeviationCreate,
    ComplaintRead,
    ComplaintTransition,
    ComplaintUpdate,
)
from qms.complaints.service import SORTS, ComplaintFilter
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationRead
from qms.exports import COMPLAINT_COLUMNS
from qms.fields import MAX_INT, IsoDate
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])


@router.get(
    "",
    response_model=PageRead[ComplaintRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_complaints(
    actor: Annotated[Actor, allowed(Action.complaint_read)],
    session: SessionDep,
    request: Request,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    status: ComplaintStatus | None = None,
    channel: ComplaintChannel | None = None,
    complainant_category: ComplainantCategory | None = None,
    overdue: Annotated[
        bool | None, Query(description="true: past the day to acknowledge or to answer")
    ] = None,
    received_from: Annotated[IsoDate | None, Query(description="received on or after")] = None,
    received_to: Annotated[IsoDate | None, Query(description="received on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(SORTS)] = None,
    format: FormatQuery = None,
) -> PageRead[ComplaintRead] | StreamingResponse:
    """List complaints, newest first or sorted, filtered; or take them all as a file."""
    filters = ComplaintFilter(
        programme_id=programme_id,
        status=status,
        channel=channel,
        complainant_category=complainant_category,
        overdue=overdue,
        received_from=received_from,
        received_to=received_to,
        sort=sort,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_complaints(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="complaints",
            title="Complaints",
            columns=COMPLAINT_COLUMNS,
            records=(service.to_read(c, actor).model_dump(mode="json") for c in every),
        )
    page = service.list_complaints(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor
    )
    return PageRead[ComplaintRead](
        items=[service.to_read(c, actor) for c in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "", status_code=201, response_model=ComplaintRead, responses=responses(401, 403, 409, 422)
)
def create_complaint(
    actor: Annotated[Actor, allowed(Action.complaint_write)],
    data: ComplaintCreate,
    session: SessionDep,
    response: Response,
) -> ComplaintRead:
    """Receive a complaint; it is numbered CMP-YYYY-NNNN and its limits are set."""
    complaint = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(complaint.version)
    response.headers["Location"] = f"/api/v1/complaints/{complaint.id}"
    return service.to_read(complaint, actor)


@router.get(
    "/{complaint_id}", response_model=ComplaintRead, responses=responses(401, 403, 404, 422)
)
def get_complaint(
    actor: Annotated[Actor, allowed(Action.complaint_read)],
    complaint_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ComplaintRead:
    """Return one complaint; its ETag is the version to send back in If-Match."""
    complaint = service.get(session, actor=actor, complaint_id=complaint_id)
    response.headers["ETag"] = etag(complaint.version)
    return service.to_read(complaint, actor)


@router.patch(
    "/{complaint_id}",
    response_model=ComplaintRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_complaint(
    actor: Annotated[Actor, allowed(Action.complaint_write)],
    complaint_id: IdPath,
    data: ComplaintUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ComplaintRead:
    """Change a complaint that is not closed or withdrawn; If-Match carries the ETag read."""
    complaint = service.update(
        session, actor=actor, complaint_id=complaint_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(complaint.version)
    return service.to_read(complaint, actor)


@router.post(
    "/{complaint_id}/transitions",
    response_model=ComplaintRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_complaint(
    actor: Annotated[Actor, allowed(Action.complaint_write)],
    complaint_id: IdPath,
    data: ComplaintTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ComplaintRead:
    """Move a complaint: received -> acknowledged -> answered -> closed (or withdrawn)."""
    complaint = service.transition(
        session, actor=actor, complaint_id=complaint_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(complaint.version)
    return service.to_read(complaint, actor)


@router.post(
    "/{complaint_id}/deviation",
    status_code=201,
    response_model=DeviationRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def open_complaint_deviation(
    actor: Annotated[Actor, allowed(Action.complaint_write)],
    complaint_id: IdPath,
    data: ComplaintDeviationCreate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> DeviationRead:
    """Open a deviation (source complaint) from a justified complaint, linked to it."""
    deviation = service.open_deviation(
        session, actor=actor, complaint_id=complaint_id, data=data, if_match=if_match
    )
    response.headers["Location"] = f"/api/v1/deviations/{deviation.id}"
    return deviations.to_read(deviation)


@router.get(
    "/{complaint_id}/complainant",
    response_model=ComplainantRead,
    responses=responses(401, 403, 404, 422),
)
def get_complainant(
    actor: Annotated[Actor, allowed(Action.complaint_personal_read)],
    complaint_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ComplainantRead:
    """Return who made the complaint (personal data); the ETag is the complaint's version."""
    record = service.get_complainant(session, actor=actor, complaint_id=complaint_id)
    response.headers["ETag"] = etag(record.complaint.version)
    return service.complainant_to_read(record)


@router.put(
    "/{complaint_id}/complainant",
    response_model=ComplainantRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def set_complainant(
    actor: Annotated[Actor, allowed(Action.complaint_write)],
    complaint_id: IdPath,
    data: ComplainantData,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ComplainantRead:
    """Record who made the complaint; the audit trail says it changed, never the values."""
    complaint = service.set_complainant(
        session, actor=actor, complaint_id=complaint_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(complaint.version)
    return service.complainant_to_read(complaint.complainant)


@router.post(
    "/{complaint_id}/complainant/erasure",
    response_model=ComplainantRead,
    responses=responses(401, 403, 404, 409, 422),
)
def erase_complainant(
    actor: Annotated[Actor, allowed(Action.complaint_write)],
    complaint_id: IdPath,
    data: ComplainantErasure,
    session: SessionDep,
    response: Response,
) -> ComplainantRead:
    """Blank who made the complaint for good (they asked to be forgotten); the complaint stays."""
    complaint = service.erase_complainant(
        session, actor=actor, complaint_id=complaint_id, reason=data.reason
    )
    response.headers["ETag"] = etag(complaint.version)
    return service.complainant_to_read(complaint.complainant)


@router.get(
    "/{complaint_id}/history",
    response_model=list[AuditEventRead],
    responses=responses(401, 403, 404, 422),
)
def get_complaint_history(
    actor: Annotated[Actor, allowed(Action.complaint_read)],
    complaint_id: IdPath,
    session: SessionDep,
) -> list[AuditEventRead]:
    """Return the complaint's timeline from the audit trail."""
    events = service.history(session, actor=actor, complaint_id=complaint_id)
    return [AuditEventRead.model_validate(e) for e in events]
