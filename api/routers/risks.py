"""Risks and opportunities: register, list, rate, treat, review, and see them on the matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.sorting import sort_query
from qms.audit.schemas import AuditEventRead
from qms.fields import MAX_INT
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor
from qms.risks import service
from qms.risks.enums import RiskKind, RiskLevel, RiskStatus
from qms.risks.exports import RISK_COLUMNS
from qms.risks.repository import SORTS, RiskFilter
from qms.risks.schemas import (
    MatrixRead,
    RiskCreate,
    RiskRead,
    RiskReview,
    RiskTransition,
    RiskUpdate,
)

router = APIRouter(prefix="/api/v1/risks", tags=["risks and opportunities"])


def _filters(
    actor: Actor,
    *,
    kind: RiskKind | None,
    status: RiskStatus | None,
    level: RiskLevel | None,
    programme_id: int | None,
    organisation: bool | None,
    mine: bool | None,
    sort: str | None = None,
) -> RiskFilter:
    return RiskFilter(
        kind=kind,
        status=status,
        level=level,
        programme_id=programme_id,
        organisation=organisation,
        owner_id=(actor.user_id or -1) if mine else None,
        sort=sort,
    )


ProgrammeQuery = Annotated[int | None, Query(ge=1, le=MAX_INT)]
OrganisationQuery = Annotated[
    bool | None,
    Query(description="true: the organisation's own (no programme); false: the programmes'"),
]
MineQuery = Annotated[bool | None, Query(description="true: those the caller owns")]


@router.get(
    "",
    response_model=PageRead[RiskRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_risks(
    actor: Annotated[Actor, allowed(Action.risk_read)],
    session: SessionDep,
    request: Request,
    kind: RiskKind | None = None,
    status: RiskStatus | None = None,
    level: Annotated[RiskLevel | None, Query(description="by the score before treatment")] = None,
    programme_id: ProgrammeQuery = None,
    organisation: OrganisationQuery = None,
    mine: MineQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, sort_query(SORTS)] = None,
    format: FormatQuery = None,
) -> PageRead[RiskRead] | StreamingResponse:
    """List risks and opportunities, newest first or sorted, filtered; or take them as a file."""
    filters = _filters(
        actor,
        kind=kind,
        status=status,
        level=level,
        programme_id=programme_id,
        organisation=organisation,
        mine=mine,
        sort=sort,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_risks(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="risks",
            title="Risks and opportunities",
            columns=RISK_COLUMNS,
            records=(service.to_read(session, r).model_dump(mode="json") for r in every),
        )
    page = service.list_risks(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PageRead[RiskRead](
        items=[service.to_read(session, r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/matrix", response_model=MatrixRead, responses=responses(401, 403, 422))
def get_risk_matrix(
    actor: Annotated[Actor, allowed(Action.risk_read)],
    session: SessionDep,
    kind: RiskKind | None = None,
    status: RiskStatus | None = None,
    programme_id: ProgrammeQuery = None,
    organisation: OrganisationQuery = None,
    mine: MineQuery = None,
) -> MatrixRead:
    """Count the risks in each cell of the likelihood x consequence grid, before and after."""
    filters = _filters(
        actor,
        kind=kind,
        status=status,
        level=None,
        programme_id=programme_id,
        organisation=organisation,
        mine=mine,
    )
    return service.matrix(service.register(session, actor=actor, filters=filters))


@router.post("", status_code=201, response_model=RiskRead, responses=responses(401, 403, 409, 422))
def create_risk(
    actor: Annotated[Actor, allowed(Action.risk_write)],
    data: RiskCreate,
    session: SessionDep,
    response: Response,
) -> RiskRead:
    """Register a risk (RISK-YYYY-NNNN) or an opportunity (OPP-YYYY-NNNN); it starts open."""
    risk = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(risk.version)
    response.headers["Location"] = f"/api/v1/risks/{risk.id}"
    return service.to_read(session, risk)


@router.get("/{risk_id:int}", response_model=RiskRead, responses=responses(401, 403, 404, 422))
def get_risk(
    actor: Annotated[Actor, allowed(Action.risk_read)],
    risk_id: IdPath,
    session: SessionDep,
    response: Response,
) -> RiskRead:
    """Return one risk or opportunity; its ETag is the version to send back in If-Match."""
    risk = service.get(session, actor=actor, risk_id=risk_id)
    response.headers["ETag"] = etag(risk.version)
    return service.to_read(session, risk)


@router.patch(
    "/{risk_id:int}",
    response_model=RiskRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_risk(
    actor: Annotated[Actor, allowed(Action.risk_write)],
    risk_id: IdPath,
    data: RiskUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> RiskRead:
    """Change a risk that is not closed; If-Match must carry the ETag it was read with."""
    risk = service.update(session, actor=actor, risk_id=risk_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(risk.version)
    return service.to_read(session, risk)


@router.post(
    "/{risk_id:int}/transitions",
    response_model=RiskRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_risk(
    actor: Annotated[Actor, allowed(Action.risk_write)],
    risk_id: IdPath,
    data: RiskTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> RiskRead:
    """Move a risk: open -> treated -> closed (realised when a deviation names it)."""
    risk = service.transition(session, actor=actor, risk_id=risk_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(risk.version)
    return service.to_read(session, risk)


@router.post(
    "/{risk_id:int}/reviews",
    response_model=RiskRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def review_risk(
    actor: Annotated[Actor, allowed(Action.risk_write)],
    risk_id: IdPath,
    data: RiskReview,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> RiskRead:
    """Record a review of a risk: its rating now and the date of the next review."""
    risk = service.review(session, actor=actor, risk_id=risk_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(risk.version)
    return service.to_read(session, risk)


@router.get(
    "/{risk_id:int}/history",
    response_model=list[AuditEventRead],
    responses=responses(401, 403, 404, 422),
)
def risk_history(
    actor: Annotated[Actor, allowed(Action.risk_read)],
    risk_id: IdPath,
    session: SessionDep,
) -> list[AuditEventRead]:
    """Return the risk's timeline from the audit trail."""
    events = service.history(session, actor=actor, risk_id=risk_id)
    return [AuditEventRead.model_validate(e) for e in events]
