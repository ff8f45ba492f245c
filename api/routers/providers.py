"""External providers: list, add, change, evaluate, and the deviations raised against them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationRead
from qms.fields import MAX_INT, IsoDate
from qms.i18n import N_
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor
from qms.providers import service
from qms.providers.models import ProviderKind, ProviderStatus
from qms.providers.repository import ProviderFilter
from qms.providers.schemas import (
    PROVIDER_COLUMNS,
    ProviderCreate,
    ProviderEvaluationCreate,
    ProviderEvaluationRead,
    ProviderRead,
    ProviderUpdate,
)

router = APIRouter(prefix="/api/v1/providers", tags=["external providers"])


@router.get(
    "",
    response_model=PageRead[ProviderRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_providers(
    actor: Annotated[Actor, allowed(Action.provider_read)],
    session: SessionDep,
    request: Request,
    kind: ProviderKind | None = None,
    status: ProviderStatus | None = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    due_by: Annotated[
        IsoDate | None, Query(description="next evaluation on or before this day, still in use")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[ProviderRead] | StreamingResponse:
    """List external providers, oldest first, filtered; or take them all as a file."""
    filters = ProviderFilter(kind=kind, status=status, programme_id=programme_id, due_by=due_by)
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_providers(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="providers",
            title=N_("External providers"),
            columns=PROVIDER_COLUMNS,
            records=(service.to_read(session, p).model_dump(mode="json") for p in every),
        )
    page = service.list_providers(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PageRead[ProviderRead](
        items=[service.to_read(session, p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "", status_code=201, response_model=ProviderRead, responses=responses(401, 403, 409, 422)
)
def create_provider(
    actor: Annotated[Actor, allowed(Action.provider_write)],
    data: ProviderCreate,
    session: SessionDep,
    response: Response,
) -> ProviderRead:
    """Add an external provider; its first evaluation falls due one cycle from today."""
    provider = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(provider.version)
    response.headers["Location"] = f"/api/v1/providers/{provider.id}"
    return service.to_read(session, provider)


@router.get("/{provider_id}", response_model=ProviderRead, responses=responses(401, 403, 404, 422))
def get_provider(
    actor: Annotated[Actor, allowed(Action.provider_read)],
    provider_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ProviderRead:
    """Return one provider; its ETag is the version to send back in If-Match."""
    provider = service.get(session, actor=actor, provider_id=provider_id)
    response.headers["ETag"] = etag(provider.version)
    return service.to_read(session, provider)


@router.patch(
    "/{provider_id}",
    response_model=ProviderRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_provider(
    actor: Annotated[Actor, allowed(Action.provider_write)],
    provider_id: IdPath,
    data: ProviderUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ProviderRead:
    """Change a provider; If-Match must carry the ETag it was read with."""
    provider = service.update(
        session, actor=actor, provider_id=provider_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(provider.version)
    return service.to_read(session, provider)


@router.get(
    "/{provider_id}/evaluations",
    response_model=list[ProviderEvaluationRead],
    responses=responses(401, 403, 404, 422),
)
def list_provider_evaluations(
    actor: Annotated[Actor, allowed(Action.provider_read)],
    provider_id: IdPath,
    session: SessionDep,
) -> list[ProviderEvaluationRead]:
    """List a provider's evaluations, newest first."""
    rows = service.evaluations(session, actor=actor, provider_id=provider_id)
    return [ProviderEvaluationRead.model_validate(e) for e in rows]


@router.post(
    "/{provider_id}/evaluations",
    status_code=201,
    response_model=ProviderEvaluationRead,
    responses=responses(401, 403, 404, 409, 422),
)
def create_provider_evaluation(
    actor: Annotated[Actor, allowed(Action.provider_write)],
    provider_id: IdPath,
    data: ProviderEvaluationCreate,
    session: SessionDep,
    response: Response,
) -> ProviderEvaluationRead:
    """Record an evaluation; its decision sets the provider's status and next evaluation date."""
    evaluation = service.evaluate(session, actor=actor, provider_id=provider_id, data=data)
    response.headers["Location"] = f"/api/v1/providers/{provider_id}/evaluations"
    return ProviderEvaluationRead.model_validate(evaluation)


@router.get(
    "/{provider_id}/deviations",
    response_model=list[DeviationRead],
    responses=responses(401, 403, 404, 422),
)
def list_provider_deviations(
    actor: Annotated[Actor, allowed(Action.provider_read)],
    provider_id: IdPath,
    session: SessionDep,
) -> list[DeviationRead]:
    """List the deviations raised against a provider, newest first."""
    rows = service.deviations(session, actor=actor, provider_id=provider_id)
    return [deviations.to_read(d) for d in rows]
