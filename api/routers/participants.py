"""Participants, their personal data (for those who may see it), erasure, and goals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.sorting import sort_query
from qms.exports import PARTICIPANT_COLUMNS, flat_personal
from qms.fields import MAX_INT
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.participants import service
from qms.participants.models import ParticipantRole
from qms.participants.schemas import (
    EraseRequest,
    GoalCreate,
    GoalRead,
    GoalUpdate,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
)
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["participants"])


@router.get(
    "/participants",
    response_model=PageRead[ParticipantRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_participants(
    actor: Annotated[Actor, allowed(Action.participant_read)],
    session: SessionDep,
    request: Request,
    cohort_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    role: ParticipantRole | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(service.SORTS)] = None,
    format: FormatQuery = None,
) -> PageRead[ParticipantRead] | StreamingResponse:
    """List participants by code, or sorted, or take them all as a file; personal data only for
    roles that may see it (an auditor reads codes)."""
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_participants(
                session,
                actor=actor,
                cohort_id=cohort_id,
                programme_id=programme_id,
                role=role,
                limit=MAX_LIMIT,
                cursor=after,
                sort=sort,
            )
        )
        return exported(
            request,
            fmt,
            stem="participants",
            title="Participants",
            columns=PARTICIPANT_COLUMNS,
            records=(
                flat_personal(service.to_read(p, actor).model_dump(mode="json")) for p in every
            ),
        )
    page = service.list_participants(
        session,
        actor=actor,
        cohort_id=cohort_id,
        programme_id=programme_id,
        role=role,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )
    return PageRead[ParticipantRead](
        items=[service.to_read(p, actor) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/participants",
    status_code=201,
    response_model=ParticipantRead,
    responses=responses(401, 403, 422),
)
def create_participant(
    actor: Annotated[Actor, allowed(Action.participant_write)],
    data: ParticipantCreate,
    session: SessionDep,
    response: Response,
) -> ParticipantRead:
    """Enrol a mentor or mentee in a cohort; the system gives the code (P-0042)."""
    participant = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(participant.version)
    response.headers["Location"] = f"/api/v1/participants/{participant.id}"
    return service.to_read(participant, actor)


@router.get(
    "/participants/{participant_id}",
    response_model=ParticipantRead,
    responses=responses(401, 403, 404, 422),
)
def get_participant(
    actor: Annotated[Actor, allowed(Action.participant_read)],
    participant_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ParticipantRead:
    """Return one participant."""
    participant = service.get(session, actor=actor, participant_id=participant_id)
    response.headers["ETag"] = etag(participant.version)
    return service.to_read(participant, actor)


@router.patch(
    "/participants/{participant_id}",
    response_model=ParticipantRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_participant(
    actor: Annotated[Actor, allowed(Action.participant_write)],
    participant_id: IdPath,
    data: ParticipantUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ParticipantRead:
    """Change a participant; If-Match must carry the ETag it was read with."""
    participant = service.update(
        session, actor=actor, participant_id=participant_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(participant.version)
    return service.to_read(participant, actor)


@router.post(
    "/participants/{participant_id}/erase",
    response_model=ParticipantRead,
    responses=responses(401, 403, 404, 409, 422),
)
def erase_participant(
    actor: Annotated[Actor, allowed(Action.participant_write)],
    participant_id: IdPath,
    data: EraseRequest,
    session: SessionDep,
) -> ParticipantRead:
    """Blank the participant's personal data for good; every other record stays."""
    participant = service.erase(
        session, actor=actor, participant_id=participant_id, reason=data.reason
    )
    return service.to_read(participant, actor)


@router.get(
    "/participants/{participant_id}/goals",
    response_model=list[GoalRead],
    responses=responses(401, 403, 404, 422),
)
def list_goals(
    actor: Annotated[Actor, allowed(Action.participant_read)],
    participant_id: IdPath,
    session: SessionDep,
) -> list[GoalRead]:
    """List a mentee's learning-plan goals."""
    goals = service.list_goals(session, actor=actor, participant_id=participant_id)
    return [service.goal_to_read(g) for g in goals]


@router.post(
    "/participants/{participant_id}/goals",
    status_code=201,
    response_model=GoalRead,
    responses=responses(401, 403, 404, 422),
)
def create_goal(
    actor: Annotated[Actor, allowed(Action.participant_write)],
    participant_id: IdPath,
    data: GoalCreate,
    session: SessionDep,
    response: Response,
) -> GoalRead:
    """Add a goal to a mentee's individual learning plan."""
    goal = service.create_goal(session, actor=actor, participant_id=participant_id, data=data)
    response.headers["ETag"] = etag(goal.version)
    return service.goal_to_read(goal)


@router.patch(
    "/goals/{goal_id}",
    response_model=GoalRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_goal(
    actor: Annotated[Actor, allowed(Action.participant_write)],
    goal_id: IdPath,
    data: GoalUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> GoalRead:
    """Change a goal or record its progress; If-Match must carry the ETag it was read with."""
    goal = service.update_goal(session, actor=actor, goal_id=goal_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(goal.version)
    return service.goal_to_read(goal)
