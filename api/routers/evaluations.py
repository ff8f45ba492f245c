"""Evaluation answers and outcomes, read back: paginated, filtered, participants by their code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import SessionDep, allowed
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from qms.evaluations import reads
from qms.evaluations.models import OutcomeKind
from qms.exports import ANSWER_COLUMNS, OUTCOME_COLUMNS
from qms.fields import MAX_INT, IsoDate
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["evaluations"])

Id = Annotated[int | None, Query(ge=1, le=MAX_INT)]
Code = Annotated[str | None, Query(max_length=16, description="a participant's code, P-0042")]


@router.get(
    "/evaluation-answers",
    response_model=PageRead[reads.AnswerRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_answers(
    actor: Annotated[Actor, allowed(Action.evaluation_read)],
    session: SessionDep,
    request: Request,
    instrument_id: Id = None,
    question_id: Id = None,
    programme_id: Id = None,
    cohort_id: Id = None,
    participant: Code = None,
    batch_id: Id = None,
    submitted_from: Annotated[IsoDate | None, Query(description="on or after")] = None,
    submitted_to: Annotated[IsoDate | None, Query(description="on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[reads.AnswerRead] | StreamingResponse:
    """List evaluation answers in the order they were imported, filtered; or take them all as a
    file. Participants are named by their code only."""
    filters = reads.AnswerFilter(
        instrument_id=instrument_id,
        question_id=question_id,
        programme_id=programme_id,
        cohort_id=cohort_id,
        participant_code=participant,
        batch_id=batch_id,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: reads.list_answers(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="evaluation-answers",
            title="Answer",
            columns=ANSWER_COLUMNS,
            records=(a.model_dump(mode="json") for a in every),
        )
    page = reads.list_answers(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PageRead[reads.AnswerRead](items=list(page.items), next_cursor=page.next_cursor)


@router.get(
    "/outcomes",
    response_model=PageRead[reads.OutcomeRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_outcomes(
    actor: Annotated[Actor, allowed(Action.evaluation_read)],
    session: SessionDep,
    request: Request,
    outcome: OutcomeKind | None = None,
    programme_id: Id = None,
    cohort_id: Id = None,
    participant: Code = None,
    outcome_from: Annotated[IsoDate | None, Query(description="on or after")] = None,
    outcome_to: Annotated[IsoDate | None, Query(description="on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[reads.OutcomeRead] | StreamingResponse:
    """List participants' outcomes in the order they were recorded, filtered; or take them all
    as a file. Participants are named by their code only."""
    filters = reads.OutcomeFilter(
        outcome=outcome,
        programme_id=programme_id,
        cohort_id=cohort_id,
        participant_code=participant,
        outcome_from=outcome_from,
        outcome_to=outcome_to,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: reads.list_outcomes(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="outcomes",
            title="Outcome",
            columns=OUTCOME_COLUMNS,
            records=(o.model_dump(mode="json") for o in every),
        )
    page = reads.list_outcomes(session, actor=actor, filters=filters, limit=limit, cursor=cursor)
    return PageRead[reads.OutcomeRead](items=list(page.items), next_cursor=page.next_cursor)
