"""Pairs: match, start, complete or unwind; their meetings; their follow-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.sorting import sort_query
from qms.exports import PAIR_COLUMNS
from qms.fields import MAX_INT
from qms.followups import service as followups
from qms.followups.schemas import FollowUpRead, FollowUpSchedule
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.pairs import service
from qms.pairs.models import PairStatus
from qms.pairs.schemas import (
    BulkResult,
    MeetingBulk,
    MeetingCreate,
    MeetingRead,
    PairCreate,
    PairRead,
    PairTransition,
)
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["pairs and meetings"])


@router.get(
    "/pairs",
    response_model=PageRead[PairRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_pairs(
    actor: Annotated[Actor, allowed(Action.pair_read)],
    session: SessionDep,
    request: Request,
    cohort_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    participant_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    status: PairStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(service.SORTS)] = None,
    format: FormatQuery = None,
) -> PageRead[PairRead] | StreamingResponse:
    """List pairs in the order they were matched, or sorted; or take them all as a file."""
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_pairs(
                session,
                actor=actor,
                cohort_id=cohort_id,
                status=status,
                participant_id=participant_id,
                limit=MAX_LIMIT,
                cursor=after,
                sort=sort,
            )
        )
        return exported(
            request,
            fmt,
            stem="pairs",
            title="Pairs",
            columns=PAIR_COLUMNS,
            records=(service.to_read(p).model_dump(mode="json") for p in every),
        )
    page = service.list_pairs(
        session,
        actor=actor,
        cohort_id=cohort_id,
        status=status,
        participant_id=participant_id,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )
    return PageRead[PairRead](
        items=[service.to_read(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/pairs", status_code=201, response_model=PairRead, responses=responses(401, 403, 409, 422)
)
def match_pair(
    actor: Annotated[Actor, allowed(Action.pair_write)],
    data: PairCreate,
    session: SessionDep,
    response: Response,
) -> PairRead:
    """Match a mentor and a mentee of one cohort, with the rationale for the match."""
    pair = service.match(session, actor=actor, data=data)
    response.headers["ETag"] = etag(pair.version)
    response.headers["Location"] = f"/api/v1/pairs/{pair.id}"
    return service.to_read(pair)


@router.get("/pairs/{pair_id}", response_model=PairRead, responses=responses(401, 403, 404, 422))
def get_pair(
    actor: Annotated[Actor, allowed(Action.pair_read)],
    pair_id: IdPath,
    session: SessionDep,
    response: Response,
) -> PairRead:
    """Return one pair."""
    pair = service.get(session, actor=actor, pair_id=pair_id)
    response.headers["ETag"] = etag(pair.version)
    return service.to_read(pair)


@router.post(
    "/pairs/{pair_id}/transitions",
    response_model=PairRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_pair(
    actor: Annotated[Actor, allowed(Action.pair_write)],
    pair_id: IdPath,
    data: PairTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> PairRead:
    """Move a pair: matched -> active -> completed, or unwound (with a reason)."""
    pair = service.transition(session, actor=actor, pair_id=pair_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(pair.version)
    return service.to_read(pair)


@router.get(
    "/pairs/{pair_id}/meetings",
    response_model=list[MeetingRead],
    responses=responses(401, 403, 404, 422),
)
def list_meetings(
    actor: Annotated[Actor, allowed(Action.pair_read)], pair_id: IdPath, session: SessionDep
) -> list[MeetingRead]:
    """List a pair's meetings by date."""
    return [
        MeetingRead.model_validate(m)
        for m in service.list_meetings(session, actor=actor, pair_id=pair_id)
    ]


@router.post(
    "/pairs/{pair_id}/meetings",
    status_code=201,
    response_model=MeetingRead,
    responses=responses(401, 403, 404, 422),
)
def record_meeting(
    actor: Annotated[Actor, allowed(Action.pair_write)],
    pair_id: IdPath,
    data: MeetingCreate,
    session: SessionDep,
) -> MeetingRead:
    """Record a meeting of a pair."""
    meeting = service.record_meeting(session, actor=actor, pair_id=pair_id, data=data)
    return MeetingRead.model_validate(meeting)


@router.post(
    "/meetings/bulk",
    status_code=201,
    response_model=BulkResult,
    responses=responses(401, 403, 422),
)
def record_meetings(
    actor: Annotated[Actor, allowed(Action.pair_write)], data: MeetingBulk, session: SessionDep
) -> BulkResult:
    """Record many meetings at once; any bad row (named by its number) stops them all."""
    return BulkResult(created=len(service.record_meetings(session, actor=actor, data=data)))


@router.post(
    "/pairs/{pair_id}/follow-ups",
    status_code=201,
    response_model=FollowUpRead,
    responses=responses(401, 403, 404, 409, 422),
)
def schedule_follow_up(
    actor: Annotated[Actor, allowed(Action.followup_write)],
    pair_id: IdPath,
    data: FollowUpSchedule,
    session: SessionDep,
) -> FollowUpRead:
    """Schedule (or move) the pair's mid-programme follow-up to a date."""
    follow_up = followups.schedule_pair(session, actor=actor, pair_id=pair_id, on=data.scheduled_on)
    return followups.to_read(follow_up)
