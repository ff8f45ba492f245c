"""Quality objectives (ISO 9001 6.2): set, list, change, and move them to their result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.sorting import sort_query
from qms.fields import MAX_INT, IsoDate
from qms.objectives import service
from qms.objectives.models import ObjectiveStatus
from qms.objectives.repository import SORTS, ObjectiveFilter
from qms.objectives.schemas import (
    ObjectiveCreate,
    ObjectiveRead,
    ObjectiveTransition,
    ObjectiveUpdate,
)
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/objectives", tags=["quality objectives"])

AsOf = Annotated[
    IsoDate | None, Query(description="The date the indicators' values are as of; default: today")
]


@router.get(
    "",
    response_model=PageRead[ObjectiveRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_objectives(
    actor: Annotated[Actor, allowed(Action.objective_read)],
    session: SessionDep,
    request: Request,
    status: ObjectiveStatus | None = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    organisation: Annotated[
        bool | None, Query(description="true: only the organisation's objectives")
    ] = None,
    mine: Annotated[bool | None, Query(description="true: the objectives the caller owns")] = None,
    due_from: Annotated[IsoDate | None, Query(description="due on or after")] = None,
    due_to: Annotated[IsoDate | None, Query(description="due on or before")] = None,
    overdue: Annotated[bool | None, Query(description="past due and still open")] = None,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(SORTS)] = None,
    format: FormatQuery = None,
) -> PageRead[ObjectiveRead] | StreamingResponse:
    """List quality objectives, newest first or sorted, filtered; or take them all as a file."""
    filters = ObjectiveFilter(
        status=status,
        programme_id=programme_id,
        organisation=organisation,
        owner_id=(actor.user_id or -1) if mine else None,
        due_from=due_from,
        due_to=due_to,
        overdue=overdue,
        sort=sort,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_objectives(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="objectives",
            title="Quality objectives",
            columns=service.OBJECTIVE_COLUMNS,
            records=(service.flat(service.to_read(session, o, as_of)) for o in every),
        )
    page = service.list_objectives(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor
    )
    return PageRead[ObjectiveRead](
        items=[service.to_read(session, o, as_of) for o in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "", status_code=201, response_model=ObjectiveRead, responses=responses(401, 403, 409, 422)
)
def create_objective(
    actor: Annotated[Actor, allowed(Action.objective_write)],
    data: ObjectiveCreate,
    session: SessionDep,
    response: Response,
) -> ObjectiveRead:
    """Set a quality objective; it is numbered OBJ-YYYY-NNNN."""
    objective = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(objective.version)
    response.headers["Location"] = f"/api/v1/objectives/{objective.id}"
    return service.to_read(session, objective)


@router.get(
    "/{objective_id}", response_model=ObjectiveRead, responses=responses(401, 403, 404, 422)
)
def get_objective(
    actor: Annotated[Actor, allowed(Action.objective_read)],
    objective_id: IdPath,
    session: SessionDep,
    response: Response,
    as_of: AsOf = None,
) -> ObjectiveRead:
    """Return one quality objective with its indicators; its ETag is the version for If-Match."""
    objective = service.get(session, actor=actor, objective_id=objective_id)
    response.headers["ETag"] = etag(objective.version)
    return service.to_read(session, objective, as_of)


@router.patch(
    "/{objective_id}",
    response_model=ObjectiveRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_objective(
    actor: Annotated[Actor, allowed(Action.objective_write)],
    objective_id: IdPath,
    data: ObjectiveUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ObjectiveRead:
    """Change an open objective; If-Match must carry the ETag it was read with."""
    objective = service.update(
        session, actor=actor, objective_id=objective_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(objective.version)
    return service.to_read(session, objective)


@router.post(
    "/{objective_id}/transitions",
    response_model=ObjectiveRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_objective(
    actor: Annotated[Actor, allowed(Action.objective_write)],
    objective_id: IdPath,
    data: ObjectiveTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ObjectiveRead:
    """Move an objective: planned -> in_progress -> achieved | not_achieved; or withdrawn."""
    objective = service.transition(
        session, actor=actor, objective_id=objective_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(objective.version)
    return service.to_read(session, objective)
