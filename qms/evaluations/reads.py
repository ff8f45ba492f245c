"""Evaluation answers and outcomes as read back: a page at a time, filtered, each participant by
their code alone (the pseudonym an auditor reads), never by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from qms.evaluations.models import (
    EvaluationBatch,
    EvaluationResponse,
    Instrument,
    Outcome,
    OutcomeKind,
    Question,
)
from qms.pagination import Page, paginate
from qms.participants.models import Participant
from qms.periods import check_range
from qms.permissions import Action, Actor, require
from qms.programmes.models import Cohort


class AnswerRead(BaseModel):
    """One answer to one question, by a participant named by their code."""

    id: int
    participant_code: str
    instrument_code: str
    question_code: str
    value_number: float | None
    value_text: str | None
    submitted_on: date
    batch_id: int


class OutcomeRead(BaseModel):
    """A participant's outcome on a date, the participant named by their code."""

    id: int
    participant_code: str
    outcome: OutcomeKind
    outcome_on: date
    note: str | None
    batch_id: int | None


@dataclass(frozen=True)
class AnswerFilter:
    """What a list of answers is narrowed to."""

    instrument_id: int | None = None
    question_id: int | None = None
    programme_id: int | None = None
    cohort_id: int | None = None
    participant_code: str | None = None
    batch_id: int | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None


@dataclass(frozen=True)
class OutcomeFilter:
    """What a list of outcomes is narrowed to."""

    outcome: OutcomeKind | None = None
    programme_id: int | None = None
    cohort_id: int | None = None
    participant_code: str | None = None
    outcome_from: date | None = None
    outcome_to: date | None = None


def _among_participants(
    stmt: Select[Any],
    participant_id: Any,
    *,
    scope: int | None,
    programme_id: int | None,
    cohort_id: int | None,
    code: str | None,
) -> Select[Any]:
    """Narrow to the participants of a programme (the actor's, and the one asked), a cohort, or
    one participant by code."""
    stmt = stmt.join(Participant, Participant.id == participant_id).join(
        Cohort, Cohort.id == Participant.cohort_id
    )
    for programme in (scope, programme_id):
        if programme is not None:
            stmt = stmt.where(Cohort.programme_id == programme)
    if cohort_id is not None:
        stmt = stmt.where(Participant.cohort_id == cohort_id)
    if code is not None:
        stmt = stmt.where(Participant.code == code)
    return stmt


def _codes(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    found = session.execute(select(Participant.id, Participant.code).where(Participant.id.in_(ids)))
    return {int(pid): str(code) for pid, code in found}


def list_answers(
    session: Session,
    *,
    actor: Actor,
    filters: AnswerFilter,
    limit: int,
    cursor: str | None,
) -> Page[AnswerRead]:
    """List the answers the actor may read, in the order they were imported; a rolled-back
    import's answers are not among them."""
    require(actor, Action.evaluation_read)
    check_range(filters.submitted_from, filters.submitted_to, "submitted_from", "submitted_to")
    stmt = (
        select(EvaluationResponse)
        .join(EvaluationBatch, EvaluationBatch.id == EvaluationResponse.batch_id)
        .where(EvaluationBatch.rolled_back_at.is_(None))
    )
    stmt = _among_participants(
        stmt,
        EvaluationResponse.participant_id,
        scope=actor.programme_id,
        programme_id=filters.programme_id,
        cohort_id=filters.cohort_id,
        code=filters.participant_code,
    )
    if filters.question_id is not None:
        stmt = stmt.where(EvaluationResponse.question_id == filters.question_id)
    if filters.instrument_id is not None:
        stmt = stmt.where(
            EvaluationResponse.question_id.in_(
                select(Question.id).where(Question.instrument_id == filters.instrument_id)
            )
        )
    if filters.batch_id is not None:
        stmt = stmt.where(EvaluationResponse.batch_id == filters.batch_id)
    if filters.submitted_from is not None:
        stmt = stmt.where(EvaluationResponse.submitted_on >= filters.submitted_from)
    if filters.submitted_to is not None:
        stmt = stmt.where(EvaluationResponse.submitted_on <= filters.submitted_to)
    page = paginate(session, stmt, key=EvaluationResponse.id, limit=limit, cursor=cursor)
    answers: list[EvaluationResponse] = list(page.items)
    codes = _codes(session, {a.participant_id for a in answers})
    questions = {
        qid: (qcode, icode)
        for qid, qcode, icode in session.execute(
            select(Question.id, Question.code, Instrument.code)
            .join(Instrument, Instrument.id == Question.instrument_id)
            .where(Question.id.in_({a.question_id for a in answers}))
        )
    }
    return Page(
        [
            AnswerRead(
                id=a.id,
                participant_code=codes[a.participant_id],
                instrument_code=questions[a.question_id][1],
                question_code=questions[a.question_id][0],
                value_number=a.value_number,
                value_text=a.value_text,
                submitted_on=a.submitted_on,
                batch_id=a.batch_id,
            )
            for a in answers
        ],
        page.next_cursor,
    )


def list_outcomes(
    session: Session,
    *,
    actor: Actor,
    filters: OutcomeFilter,
    limit: int,
    cursor: str | None,
) -> Page[OutcomeRead]:
    """List the outcomes the actor may read, in the order they were recorded; a rolled-back
    import's outcomes are not among them."""
    require(actor, Action.evaluation_read)
    check_range(filters.outcome_from, filters.outcome_to, "outcome_from", "outcome_to")
    stmt = (
        select(Outcome)
        .outerjoin(EvaluationBatch, EvaluationBatch.id == Outcome.batch_id)
        .where(EvaluationBatch.rolled_back_at.is_(None))
    )
    stmt = _among_participants(
        stmt,
        Outcome.participant_id,
        scope=actor.programme_id,
        programme_id=filters.programme_id,
        cohort_id=filters.cohort_id,
        code=filters.participant_code,
    )
    if filters.outcome is not None:
        stmt = stmt.where(Outcome.outcome == filters.outcome)
    if filters.outcome_from is not None:
        stmt = stmt.where(Outcome.outcome_on >= filters.outcome_from)
    if filters.outcome_to is not None:
        stmt = stmt.where(Outcome.outcome_on <= filters.outcome_to)
    page = paginate(session, stmt, key=Outcome.id, limit=limit, cursor=cursor)
    outcomes: list[Outcome] = list(page.items)
    codes = _codes(session, {o.participant_id for o in outcomes})
    return Page(
        [
            OutcomeRead(
                id=o.id,
                participant_code=codes[o.participant_id],
                outcome=o.outcome,
                outcome_on=o.outcome_on,
                note=o.note,
                batch_id=o.batch_id,
            )
            for o in outcomes
        ],
        page.next_cursor,
    )
