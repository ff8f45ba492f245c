"""Programmes and their cohorts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from qms.exports import PROGRAMME_COLUMNS
from qms.i18n import N_
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor
from qms.programmes import service
from qms.programmes.models import ProgrammeStatus
from qms.programmes.schemas import (
    CohortCreate,
    CohortRead,
    CohortUpdate,
    ProgrammeCreate,
    ProgrammeRead,
    ProgrammeUpdate,
    TransitionRequest,
)

router = APIRouter(prefix="/api/v1", tags=["programmes"])


@router.get(
    "/programmes",
    response_model=PageRead[ProgrammeRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_programmes(
    actor: Annotated[Actor, allowed(Action.programme_read)],
    session: SessionDep,
    request: Request,
    status: ProgrammeStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[ProgrammeRead] | StreamingResponse:
    """List programmes, oldest first; or take them all as a file."""
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_programmes(
                session, actor=actor, status=status, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="programmes",
            title=N_("Programmes"),
            columns=PROGRAMME_COLUMNS,
            records=(ProgrammeRead.model_validate(p).model_dump(mode="json") for p in every),
        )
    page = service.list_programmes(session, actor=actor, status=status, limit=limit, cursor=cursor)
    return PageRead[ProgrammeRead](
        items=[ProgrammeRead.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/programmes",
    status_code=201,
    response_model=ProgrammeRead,
    responses=responses(401, 403, 409, 422),
)
def create_programme(
    actor: Annotated[Actor, allowed(Action.programme_write)],
    data: ProgrammeCreate,
    session: SessionDep,
    response: Response,
) -> ProgrammeRead:
    """Create a programme (state planned)."""
    programme = service.create_programme(session, actor=actor, data=data)
    response.headers["ETag"] = etag(programme.version)
    response.headers["Location"] = f"/api/v1/programmes/{programme.id}"
    return ProgrammeRead.model_validate(programme)


@router.get(
    "/programmes/{programme_id}",
    response_model=ProgrammeRead,
    responses=responses(401, 403, 404, 422),
)
def get_programme(
    actor: Annotated[Actor, allowed(Action.programme_read)],
    programme_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ProgrammeRead:
    """Return one programme; its ETag is the version to send back in If-Match."""
    programme = service.get_programme(session, actor=actor, programme_id=programme_id)
    response.headers["ETag"] = etag(programme.version)
    return ProgrammeRead.model_validate(programme)


@router.patch(
    "/programmes/{programme_id}",
    response_model=ProgrammeRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_programme(
    actor: Annotated[Actor, allowed(Action.programme_write)],
    programme_id: IdPath,
    data: ProgrammeUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ProgrammeRead:
    """Change a programme; If-Match must carry the ETag it was read with."""
    programme = service.update_programme(
        session, actor=actor, programme_id=programme_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(programme.version)
    return ProgrammeRead.model_validate(programme)


@router.post(
    "/programmes/{programme_id}/transitions",
    response_model=ProgrammeRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_programme(
    actor: Annotated[Actor, allowed(Action.programme_write)],
    programme_id: IdPath,
    data: TransitionRequest,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ProgrammeRead:
    """Move a programme: planned -> running -> closed, or planned -> cancelled."""
    programme = service.transition_programme(
        session,
        actor=actor,
        programme_id=programme_id,
        to=data.to,
        reason=data.reason,
        if_match=if_match,
    )
    response.headers["ETag"] = etag(programme.version)
    return ProgrammeRead.model_validate(programme)


@router.get(
    "/programmes/{programme_id}/cohorts",
    response_model=list[CohortRead],
    responses=responses(401, 403, 404, 422),
)
def list_cohorts(
    actor: Annotated[Actor, allowed(Action.programme_read)],
    programme_id: IdPath,
    session: SessionDep,
) -> list[CohortRead]:
    """List a programme's cohorts by start date."""
    cohorts = service.list_cohorts(session, actor=actor, programme_id=programme_id)
    return [CohortRead.model_validate(c) for c in cohorts]


@router.post(
    "/programmes/{programme_id}/cohorts",
    status_code=201,
    response_model=CohortRead,
    responses=responses(401, 403, 404, 409, 422),
)
def create_cohort(
    actor: Annotated[Actor, allowed(Action.programme_write)],
    programme_id: IdPath,
    data: CohortCreate,
    session: SessionDep,
    response: Response,
) -> CohortRead:
    """Add a cohort; without a midpoint, the midpoint is the day halfway."""
    cohort = service.create_cohort(session, actor=actor, programme_id=programme_id, data=data)
    response.headers["ETag"] = etag(cohort.version)
    response.headers["Location"] = f"/api/v1/cohorts/{cohort.id}"
    return CohortRead.model_validate(cohort)


@router.get(
    "/cohorts/{cohort_id}", response_model=CohortRead, responses=responses(401, 403, 404, 422)
)
def get_cohort(
    actor: Annotated[Actor, allowed(Action.programme_read)],
    cohort_id: IdPath,
    session: SessionDep,
    response: Response,
) -> CohortRead:
    """Return one cohort."""
    cohort = service.get_cohort(session, actor=actor, cohort_id=cohort_id)
    response.headers["ETag"] = etag(cohort.version)
    return CohortRead.model_validate(cohort)


@router.patch(
    "/cohorts/{cohort_id}",
    response_model=CohortRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_cohort(
    actor: Annotated[Actor, allowed(Action.programme_write)],
    cohort_id: IdPath,
    data: CohortUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> CohortRead:
    """Change a cohort's name or dates; If-Match must carry the ETag it was read with."""
    cohort = service.update_cohort(
        session, actor=actor, cohort_id=cohort_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(cohort.version)
    return CohortRead.model_validate(cohort)
