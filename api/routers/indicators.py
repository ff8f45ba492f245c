"""Indicators: a programme's planned-against-actual table, definitions, entered values."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import IdPath, SessionDep, allowed
from api.problems import responses
from qms.fields import IsoDate
from qms.indicators import service
from qms.indicators.schemas import IndicatorCreate, IndicatorTable, IndicatorValueCreate
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["indicators"])


@router.get(
    "/programmes/{programme_id}/indicators",
    response_model=IndicatorTable,
    responses=responses(401, 403, 404, 422),
)
def indicator_table(
    actor: Annotated[Actor, allowed(Action.indicator_read)],
    programme_id: IdPath,
    session: SessionDep,
    as_of: Annotated[IsoDate | None, Query(description="Default: today")] = None,
) -> IndicatorTable:
    """Return the programme's indicators, planned against actual, with the figures behind each."""
    return service.table(
        session, actor=actor, programme_id=programme_id, as_of=as_of or service.today()
    )


@router.post(
    "/programmes/{programme_id}/indicators",
    status_code=201,
    response_model=IndicatorTable,
    responses=responses(401, 403, 404, 409, 422),
)
def define_indicator(
    actor: Annotated[Actor, allowed(Action.indicator_write)],
    programme_id: IdPath,
    data: IndicatorCreate,
    session: SessionDep,
) -> IndicatorTable:
    """Define an indicator of the programme; answers with the table as it now stands."""
    service.define(session, actor=actor, programme_id=programme_id, data=data)
    return service.table(session, actor=actor, programme_id=programme_id, as_of=service.today())


@router.post(
    "/indicators/{indicator_id}/values",
    status_code=201,
    response_model=IndicatorTable,
    responses=responses(401, 403, 404, 409, 422),
)
def enter_value(
    actor: Annotated[Actor, allowed(Action.indicator_write)],
    indicator_id: IdPath,
    data: IndicatorValueCreate,
    session: SessionDep,
) -> IndicatorTable:
    """Enter a value for an indicator that is not computed from the records."""
    value = service.enter_value(session, actor=actor, indicator_id=indicator_id, data=data)
    programme_id = service.programme_of(session, value.indicator_id)
    return service.table(session, actor=actor, programme_id=programme_id, as_of=data.period_end)
