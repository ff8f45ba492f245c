"""Deviations: log, list, change, move through the workflow, and read their history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.signing import ReaderLanguage, in_language
from api.sorting import sort_query
from qms.audit.schemas import AuditEventRead
from qms.db import read_committed
from qms.deviations import service
from qms.deviations.models import DeviationKind, DeviationSource, DeviationStatus, Severity
from qms.deviations.repository import SORTS, DeviationFilter
from qms.deviations.schemas import (
    DeviationCreate,
    DeviationRead,
    DeviationTransition,
    DeviationUpdate,
)
from qms.exports import DEVIATION_COLUMNS
from qms.fields import MAX_INT, IsoDate
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/deviations", tags=["deviations"])
_JSON: TypeAdapter[Any] = TypeAdapter(Any)


@router.get(
    "",
    response_model=PageRead[DeviationRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_deviations(
    actor: Annotated[Actor, allowed(Action.deviation_read)],
    session: SessionDep,
    request: Request,
    status: DeviationStatus | None = None,
    severity: Severity | None = None,
    kind: DeviationKind | None = None,
    source: DeviationSource | None = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    cohort_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    pair_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    procedure_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    mine: Annotated[bool | None, Query(description="true: the deviations the caller owns")] = None,
    detected_from: Annotated[IsoDate | None, Query(description="detected on or after")] = None,
    detected_to: Annotated[IsoDate | None, Query(description="detected on or before")] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text")] = None,
    overdue: Annotated[bool | None, Query(description="past due and not closed")] = None,
    open_: Annotated[
        bool | None, Query(alias="open", description="true: not closed; false: closed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(SORTS)] = None,
    format: FormatQuery = None,
) -> Response:
    """List deviations, newest first or sorted, filtered; or take them all as a file."""
    read_committed(session)
    filters = DeviationFilter(
        status=status,
        severity=severity,
        kind=kind,
        source=source,
        programme_id=programme_id,
        cohort_id=cohort_id,
        pair_id=pair_id,
        procedure_id=procedure_id,
        owner_id=(actor.user_id or -1) if mine else None,
        detected_from=detected_from,
        detected_to=detected_to,
        q=q.strip() if q else None,
        overdue=overdue,
        open=open_,
        sort=sort,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.read_page(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="deviations",
            title="Deviations",
            columns=DEVIATION_COLUMNS,
            records=(DeviationRead(**d).model_dump(mode="json") for d in every),
        )
    page = service.read_page(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    # Written as JSON once, here, as the page's model would be (its fields in order, times and
    # dates as pydantic writes them): no model built and checked row by row, no second turn of
    # the server's loop to serialise it.
    body = _JSON.dump_json({"items": page.items, "next_cursor": page.next_cursor})
    return Response(body, media_type="application/json")


@router.post(
    "", status_code=201, response_model=DeviationRead, responses=responses(401, 403, 409, 422)
)
def log_deviation(
    actor: Annotated[Actor, allowed(Action.deviation_log)],
    data: DeviationCreate,
    session: SessionDep,
    response: Response,
) -> DeviationRead:
    """Log a deviation; it is numbered DEV-YYYY-NNNN and starts open."""
    deviation = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(deviation.version)
    response.headers["Location"] = f"/api/v1/deviations/{deviation.id}"
    return service.to_read(deviation)


@router.get(
    "/{deviation_id}", response_model=DeviationRead, responses=responses(401, 403, 404, 422)
)
def get_deviation(
    actor: Annotated[Actor, allowed(Action.deviation_read)],
    deviation_id: IdPath,
    session: SessionDep,
    response: Response,
) -> DeviationRead:
    """Return one deviation; its ETag is the version to send back in If-Match."""
    deviation = service.get(session, actor=actor, deviation_id=deviation_id)
    response.headers["ETag"] = etag(deviation.version)
    return service.to_read(deviation)


@router.patch(
    "/{deviation_id}",
    response_model=DeviationRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_deviation(
    actor: Annotated[Actor, allowed(Action.deviation_write)],
    deviation_id: IdPath,
    data: DeviationUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> DeviationRead:
    """Change a deviation that is not closed; If-Match must carry the ETag it was read with."""
    deviation = service.update(
        session, actor=actor, deviation_id=deviation_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(deviation.version)
    return service.to_read(deviation)


@router.post(
    "/{deviation_id}/transitions",
    response_model=DeviationRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_deviation(
    actor: Annotated[Actor, allowed(Action.deviation_transition)],
    deviation_id: IdPath,
    data: DeviationTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
    language: ReaderLanguage,
) -> DeviationRead:
    """Move a deviation: open -> investigating -> action_required -> closed (-> reopened)."""
    data.signature = in_language(data.signature, language)
    deviation = service.transition(
        session, actor=actor, deviation_id=deviation_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(deviation.version)
    return service.to_read(deviation)


@router.get(
    "/{deviation_id}/history",
    response_model=list[AuditEventRead],
    responses=responses(401, 403, 404, 422),
)
def deviation_history(
    actor: Annotated[Actor, allowed(Action.deviation_read)],
    deviation_id: IdPath,
    session: SessionDep,
) -> list[AuditEventRead]:
    """Return the deviation's timeline from the audit trail, with its actions' events."""
    events = service.history(session, actor=actor, deviation_id=deviation_id)
    return [AuditEventRead.model_validate(e) for e in events]
