"""Mid-programme follow-ups: a cohort's board, scheduling, recording; and the rule checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag, get_database
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from qms.checks import service as checks
from qms.checks.schemas import CheckResult, CheckRun
from qms.db import Database
from qms.exports import FOLLOW_UP_COLUMNS
from qms.followups import service
from qms.followups.schemas import CohortFollowUps, FollowUpRead, FollowUpRecord, ScheduleRequest
from qms.i18n import N_
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["follow-ups and checks"])


@router.get(
    "/cohorts/{cohort_id}/follow-ups",
    response_model=CohortFollowUps,
    responses={**responses(401, 403, 404, 422), **EXPORT_RESPONSES},
)
def cohort_follow_ups(
    actor: Annotated[Actor, allowed(Action.followup_read)],
    cohort_id: IdPath,
    session: SessionDep,
    request: Request,
    format: FormatQuery = None,
) -> CohortFollowUps | StreamingResponse:
    """Return the cohort's follow-ups, each held, due or overdue, with the counts; or taken as a
    file (CSV or XLSX: each pair's follow-up, the deviation it opened by its number)."""
    board = service.cohort_board(session, actor=actor, cohort_id=cohort_id)
    # JSON is this board's own answer (every follow-up, the counts): only a spreadsheet is a file.
    if (fmt := wanted(request, format)) and fmt != "json":
        return exported(
            request,
            fmt,
            stem="follow-ups",
            title=N_("Follow-ups"),
            columns=FOLLOW_UP_COLUMNS,
            records=(f.model_dump(mode="json") for f in board.items),
        )
    return board


@router.post(
    "/cohorts/{cohort_id}/follow-ups/schedule",
    status_code=201,
    response_model=list[FollowUpRead],
    responses=responses(401, 403, 404, 422),
)
def schedule_cohort_follow_ups(
    actor: Annotated[Actor, allowed(Action.followup_write)],
    cohort_id: IdPath,
    data: ScheduleRequest,
    session: SessionDep,
) -> list[FollowUpRead]:
    """Schedule a follow-up at the midpoint (or a given date) for each live pair without one."""
    made = service.schedule_cohort(session, actor=actor, cohort_id=cohort_id, on=data.on)
    return [service.to_read(f) for f in made]


@router.get(
    "/follow-ups/{follow_up_id}",
    response_model=FollowUpRead,
    responses=responses(401, 403, 404, 422),
)
def get_follow_up(
    actor: Annotated[Actor, allowed(Action.followup_read)],
    follow_up_id: IdPath,
    session: SessionDep,
    response: Response,
) -> FollowUpRead:
    """Return one follow-up."""
    follow_up = service.get(session, actor=actor, follow_up_id=follow_up_id)
    response.headers["ETag"] = etag(follow_up.version)
    return service.to_read(follow_up)


@router.post(
    "/follow-ups/{follow_up_id}/record",
    response_model=FollowUpRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def record_follow_up(
    actor: Annotated[Actor, allowed(Action.followup_write)],
    follow_up_id: IdPath,
    data: FollowUpRecord,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> FollowUpRead:
    """Record the follow-up as held, with its answers and outcome."""
    follow_up = service.record(
        session, actor=actor, follow_up_id=follow_up_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(follow_up.version)
    return service.to_read(follow_up)


@router.post("/checks/run", response_model=CheckResult, responses=responses(401, 403, 422))
def run_checks(
    actor: Annotated[Actor, allowed(Action.check_run)],
    data: CheckRun,
    database: Annotated[Database, Depends(get_database)],
) -> CheckResult:
    """Run the rules as of a date: each new finding opens a deviation, once."""
    return checks.run_from_snapshot(database, actor=actor, on=data.on)
