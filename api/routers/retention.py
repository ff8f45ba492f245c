"""Retention: what is due for disposition, and the recorded decisions that dispose of it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, allowed
from api.problems import responses
from qms.fields import IsoDate
from qms.pairs.service import today
from qms.permissions import Action, Actor
from qms.retention import service
from qms.retention.schemas import DispositionCreate, RetentionDecisionRead, RetentionReport

router = APIRouter(prefix="/api/v1/retention", tags=["retention"])


@router.get("", response_model=RetentionReport, responses=responses(401, 403, 422))
def retention_report(
    actor: Annotated[Actor, allowed(Action.retention_read)],
    session: SessionDep,
    as_of: Annotated[IsoDate | None, Query(description="Default: today")] = None,
) -> RetentionReport:
    """List, per kind of record, its retention period and what is due for disposition."""
    return service.report(session, actor=actor, as_of=as_of or today())


@router.get(
    "/dispositions", response_model=list[RetentionDecisionRead], responses=responses(401, 403, 422)
)
def list_dispositions(
    actor: Annotated[Actor, allowed(Action.retention_read)],
    session: SessionDep,
) -> list[RetentionDecisionRead]:
    """The recorded disposition decisions, newest first."""
    return [
        RetentionDecisionRead.model_validate(d) for d in service.decisions(session, actor=actor)
    ]


@router.post(
    "/dispositions",
    status_code=201,
    response_model=RetentionDecisionRead,
    responses=responses(401, 403, 404, 422),
)
def dispose(
    actor: Annotated[Actor, allowed(Action.retention_dispose)],
    data: DispositionCreate,
    session: SessionDep,
) -> RetentionDecisionRead:
    """Dispose of due records of a kind (removed or pseudonymised) under a recorded decision."""
    decision = service.dispose(session, actor=actor, data=data, as_of=today())
    return RetentionDecisionRead.model_validate(decision)
