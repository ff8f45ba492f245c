"""Corrective actions: open, list, change, carry out and verify."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.signing import ReaderLanguage, in_language
from api.sorting import sort_query
from qms.actions import service
from qms.actions.models import ActionStatus, ActionType
from qms.actions.repository import SORTS, ActionFilter
from qms.actions.schemas import ActionCreate, ActionRead, ActionTransition, ActionUpdate
from qms.exports import ACTION_COLUMNS
from qms.fields import MAX_INT, IsoDate
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/actions", tags=["corrective actions"])


@router.get(
    "",
    response_model=PageRead[ActionRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_actions(
    actor: Annotated[Actor, allowed(Action.action_read)],
    session: SessionDep,
    request: Request,
    status: ActionStatus | None = None,
    type: ActionType | None = None,
    owner: Annotated[str | None, Query(max_length=100, description="the owner's user name")] = None,
    mine: Annotated[bool | None, Query(description="true: the actions the caller owns")] = None,
    deviation_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    due_from: Annotated[IsoDate | None, Query(description="due on or after")] = None,
    due_to: Annotated[IsoDate | None, Query(description="due on or before")] = None,
    overdue: Annotated[bool | None, Query(description="past due and not done")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(SORTS)] = None,
    format: FormatQuery = None,
) -> PageRead[ActionRead] | StreamingResponse:
    """List corrective actions, newest first or sorted, filtered; or take them all as a file."""
    filters = ActionFilter(
        status=status,
        type=type,
        deviation_id=deviation_id,
        programme_id=programme_id,
        owner_id=(actor.user_id or -1) if mine else None,
        due_from=due_from,
        due_to=due_to,
        overdue=overdue,
        sort=sort,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_actions(
                session, actor=actor, filters=filters, owner=owner, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="actions",
            title="Corrective actions",
            columns=ACTION_COLUMNS,
            records=(service.to_read(session, a, actor).model_dump(mode="json") for a in every),
        )
    page = service.list_actions(
        session, actor=actor, filters=filters, owner=owner, limit=limit, cursor=cursor
    )
    return PageRead[ActionRead](
        items=[service.to_read(session, a, actor) for a in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "", status_code=201, response_model=ActionRead, responses=responses(401, 403, 409, 422)
)
def create_action(
    actor: Annotated[Actor, allowed(Action.action_manage)],
    data: ActionCreate,
    session: SessionDep,
    response: Response,
) -> ActionRead:
    """Open a corrective action on one or more deviations; it is numbered CA-YYYY-NNNN."""
    action = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(action.version)
    response.headers["Location"] = f"/api/v1/actions/{action.id}"
    return service.to_read(session, action, actor)


@router.get("/{action_id}", response_model=ActionRead, responses=responses(401, 403, 404, 422))
def get_action(
    actor: Annotated[Actor, allowed(Action.action_read)],
    action_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ActionRead:
    """Return one corrective action; its ETag is the version to send back in If-Match."""
    action = service.get(session, actor=actor, action_id=action_id)
    response.headers["ETag"] = etag(action.version)
    return service.to_read(session, action, actor)


@router.patch(
    "/{action_id}",
    response_model=ActionRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_action(
    actor: Annotated[Actor, allowed(Action.action_manage)],
    action_id: IdPath,
    data: ActionUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ActionRead:
    """Change an action that is not yet done; If-Match must carry the ETag it was read with."""
    action = service.update(session, actor=actor, action_id=action_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(action.version)
    return service.to_read(session, action, actor)


@router.post(
    "/{action_id}/transitions",
    response_model=ActionRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_action(
    actor: Annotated[Actor, allowed(Action.action_progress)],
    action_id: IdPath,
    data: ActionTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
    language: ReaderLanguage,
) -> ActionRead:
    """Move an action: planned -> in_progress -> done -> verified_effective | ineffective."""
    data.signature = in_language(data.signature, language)
    action = service.transition(
        session, actor=actor, action_id=action_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(action.version)
    return service.to_read(session, action, actor)
