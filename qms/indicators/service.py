"""Compute a programme's indicators from its records, planned against actual."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.actions.models import CorrectiveAction
from qms.audit.service import created, record_event
from qms.db import utcnow
from qms.deviations.models import Deviation, DeviationStatus, deviation_action
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.evaluations.models import EvaluationResponse, Instrument, Outcome, OutcomeKind, Question
from qms.followups.models import FollowUp
from qms.i18n import N_, Text, format_day, format_number, translate
from qms.indicators.models import Computation, Direction, IndicatorDefinition, IndicatorValue
from qms.indicators.schemas import (
    IndicatorCreate,
    IndicatorRow,
    IndicatorTable,
    IndicatorValueCreate,
)
from qms.pairs.models import Pair, PairStatus
from qms.pairs.rules import pair_months
from qms.participants.models import Participant
from qms.permissions import Action, Actor, require
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme

OCCUPIED = {OutcomeKind.employed_full_time, OutcomeKind.employed_part_time, OutcomeKind.education}
EMPLOYED = {OutcomeKind.employed_full_time, OutcomeKind.employed_part_time}


@dataclass(frozen=True)
class Figure:
    """A computed value and what it was computed from: a sentence of the catalogue (English in
    the code) and the figures and dates it names, so a report can say it in its language."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    text: str = ""
    values: dict[str, int | float | date] = field(default_factory=dict)
    # An entered value for a period that does not cover the date: shown, not rated.
    stale: bool = False

    @property
    def detail(self) -> str:
        """What the value was computed from, in English as the records and the API give it."""
        return self.text % {k: str(v) for k, v in self.values.items()}

    def detail_in(self, language: str) -> str:
        """What the value was computed from, in the language, its dates and numbers too."""
        return translate(self.text, language) % {
            k: format_day(v, language) if isinstance(v, date) else format_number(v, language)
            for k, v in self.values.items()
        }


# Each ratio said in two whole sentences: before there is anything to count, and after.
RATIOS = {
    Computation.completion_rate: (
        N_("no mentees completed yet"),
        N_("%(numerator)s of %(denominator)s mentees completed"),
    ),
    Computation.occupation_rate: (
        N_("no who completed in work or study yet"),
        N_("%(numerator)s of %(denominator)s who completed in work or study"),
    ),
    Computation.employment_rate: (
        N_("no who completed employed yet"),
        N_("%(numerator)s of %(denominator)s who completed employed"),
    ),
    Computation.full_time_rate: (
        N_("no who completed employed full time yet"),
        N_("%(numerator)s of %(denominator)s who completed employed full time"),
    ),
    Computation.follow_up_completion: (
        N_("no follow-ups due were held yet"),
        N_("%(numerator)s of %(denominator)s follow-ups due were held"),
    ),
    Computation.meeting_rule_compliance: (
        N_("no pair-months kept the meeting rule yet"),
        N_("%(numerator)s of %(denominator)s pair-months kept the meeting rule"),
    ),
    Computation.on_time_capa_closure: (
        N_("no actions done on time yet"),
        N_("%(numerator)s of %(denominator)s actions done on time"),
    ),
}


def _ratio(numerator: int, denominator: int, computation: Computation) -> Figure:
    none_yet, some = RATIOS[computation]
    if denominator == 0:
        return Figure(None, numerator, denominator, none_yet)
    return Figure(
        round(100 * numerator / denominator, 1),
        numerator,
        denominator,
        some,
        {"numerator": numerator, "denominator": denominator},
    )


def _pairs(session: Session, programme: Programme) -> list[Pair]:
    return list(
        session.scalars(
            select(Pair)
            .join(Cohort, Cohort.id == Pair.cohort_id)
            .where(Cohort.programme_id == programme.id)
            .order_by(Pair.id)
        )
    )


def _completers(pairs: Sequence[Pair], as_of: date) -> tuple[set[int], set[int]]:
    """Return (mentees who completed, mentees who started) in cohorts ended by the date."""
    ended = [p for p in pairs if p.mentee.cohort.end_on <= as_of]
    started = {p.mentee_id for p in ended if p.started_on and p.started_on <= as_of}
    completed = {
        p.mentee_id
        for p in ended
        if p.status is PairStatus.completed and p.ended_on and p.ended_on <= as_of
    }
    return completed, started


def _latest_outcomes(session: Session, ids: set[int], as_of: date) -> dict[int, OutcomeKind]:
    latest: dict[int, tuple[date, OutcomeKind]] = {}
    if not ids:
        return {}
    rows = session.execute(
        select(Outcome.participant_id, Outcome.outcome_on, Outcome.outcome).where(
            Outcome.participant_id.in_(ids), Outcome.outcome_on <= as_of
        )
    )
    for participant_id, on, kind in rows:
        if participant_id not in latest or on >= latest[participant_id][0]:
            latest[participant_id] = (on, kind)
    return {pid: kind for pid, (_, kind) in latest.items()}


def compute(
    session: Session, programme: Programme, definition: IndicatorDefinition, as_of: date
) -> Figure:
    """Compute one indicator of a programme as of a date."""
    c = definition.computation
    if c is Computation.entered:
        # The value of the period that covers the date; else the last one before it, stale.
        value = session.scalars(
            select(IndicatorValue)
            .where(
                IndicatorValue.indicator_id == definition.id,
                IndicatorValue.period_start <= as_of,
            )
            .order_by(IndicatorValue.period_end.desc())
        ).first()
        if value is None:
            return Figure(None, text=N_("no value entered"))
        period: dict[str, int | float | date] = {
            "start": value.period_start,
            "end": value.period_end,
        }
        if value.period_end < as_of:
            return Figure(
                value.value,
                text=N_("entered for %(start)s to %(end)s, a period that ends before %(as_of)s"),
                values={**period, "as_of": as_of},
                stale=True,
            )
        return Figure(value.value, text=N_("entered for %(start)s to %(end)s"), values=period)
    if c in (
        Computation.completion_rate,
        Computation.occupation_rate,
        Computation.employment_rate,
        Computation.full_time_rate,
    ):
        completed, started = _completers(_pairs(session, programme), as_of)
        if c is Computation.completion_rate:
            return _ratio(len(completed), len(started), c)
        outcomes = _latest_outcomes(session, completed, as_of)
        wanted = {
            Computation.occupation_rate: OCCUPIED,
            Computation.employment_rate: EMPLOYED,
            Computation.full_time_rate: {OutcomeKind.employed_full_time},
        }[c]
        hits = sum(1 for pid in completed if outcomes.get(pid) in wanted)
        return _ratio(hits, len(completed), c)
    if c is Computation.follow_up_completion:
        rows = session.scalars(
            select(FollowUp)
            .join(Pair, Pair.id == FollowUp.pair_id)
            .join(Cohort, Cohort.id == Pair.cohort_id)
            .where(Cohort.programme_id == programme.id, FollowUp.scheduled_on <= as_of)
        ).all()
        held = sum(1 for f in rows if f.held_on is not None and f.held_on <= as_of)
        return _ratio(held, len(rows), c)
    if c is Computation.meeting_rule_compliance:
        months = list(pair_months(session, _pairs(session, programme), as_of))
        kept = sum(1 for m in months if not m.short)
        return _ratio(kept, len(months), c)
    if c is Computation.mean_score:
        question = session.scalars(
            select(Question)
            .join(Instrument, Instrument.id == Question.instrument_id)
            .where(
                Instrument.code == definition.params.get("instrument"),
                Question.code == definition.params.get("question"),
            )
        ).first()
        if question is None:
            return Figure(None, text=N_("no such instrument and question"))
        total, count = session.execute(
            select(func.sum(EvaluationResponse.value_number), func.count(EvaluationResponse.id))
            .join(Participant, Participant.id == EvaluationResponse.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(
                Cohort.programme_id == programme.id,
                EvaluationResponse.question_id == question.id,
                EvaluationResponse.submitted_on <= as_of,
            )
        ).one()
        if not count or total is None:
            return Figure(None, 0, 0, N_("no answers yet"))
        return Figure(
            round(float(total) / count, 2),
            float(total),
            count,
            N_("mean of %(count)s answers"),
            {"count": count},
        )
    deviations = select(Deviation.id).where(Deviation.programme_id == programme.id)
    if c is Computation.open_deviations:
        # Detected by the end of the date and not closed by then.
        detected = session.scalars(
            select(Deviation).where(Deviation.programme_id == programme.id)
        ).all()
        n = sum(
            1
            for d in detected
            if d.detected_at.date() <= as_of
            and not (
                d.status is DeviationStatus.closed
                and d.closed_at is not None
                and d.closed_at.date() <= as_of
            )
        )
        return Figure(n, n, None, N_("%(count)s open"), {"count": n})
    actions = list(
        session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.id.in_(
                    select(deviation_action.c.action_id).where(
                        deviation_action.c.deviation_id.in_(deviations)
                    )
                )
            )
        )
    )
    if c is Computation.overdue_actions:
        # Planned by the date, due before it, and not done by then.
        late = [
            a
            for a in actions
            if a.created_at.date() <= as_of
            and a.due_on < as_of
            and (a.done_at is None or a.done_at.date() > as_of)
        ]
        return Figure(len(late), len(late), None, N_("%(count)s overdue"), {"count": len(late)})
    done = [a for a in actions if a.done_at is not None and a.done_at.date() <= as_of]
    on_time = sum(1 for a in done if a.done_at is not None and a.done_at.date() <= a.due_on)
    return _ratio(on_time, len(done), Computation.on_time_capa_closure)


def status_of(
    definition: IndicatorDefinition, value: float | None, *, stale: bool = False
) -> Literal["met", "below_plan", "breach", "no_data", "stale"]:
    """Say whether the actual meets the plan, falls below it, or breaches the threshold."""
    if value is None:
        return "no_data"
    if stale:
        return "stale"
    higher = definition.direction is Direction.higher_is_better
    if definition.threshold is not None and (
        value < definition.threshold if higher else value > definition.threshold
    ):
        return "breach"
    met = value >= definition.planned if higher else value <= definition.planned
    return "met" if met else "below_plan"


def definitions(session: Session, programme_id: int) -> list[IndicatorDefinition]:
    """List a programme's indicators in the order they were defined."""
    return list(
        session.scalars(
            select(IndicatorDefinition)
            .where(IndicatorDefinition.programme_id == programme_id)
            .order_by(IndicatorDefinition.id)
        )
    )


def table(session: Session, *, actor: Actor, programme_id: int, as_of: date) -> IndicatorTable:
    """Return the programme's indicators, planned against actual, as of a date."""
    return table_with_figures(session, actor=actor, programme_id=programme_id, as_of=as_of)[0]


def table_with_figures(
    session: Session, *, actor: Actor, programme_id: int, as_of: date
) -> tuple[IndicatorTable, list[Figure]]:
    """Return the programme's indicators as of a date, and the figure behind each row (whose
    detail a report says in its own language)."""
    require(actor, Action.indicator_read)
    programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    rows = []
    figures = []
    for d in definitions(session, programme.id):
        figure = compute(session, programme, d, as_of)
        figures.append(figure)
        rows.append(
            IndicatorRow(
                id=d.id,
                code=d.code,
                name=d.name,
                unit=d.unit,
                computation=d.computation,
                planned=d.planned,
                actual=figure.value,
                numerator=figure.numerator,
                denominator=figure.denominator,
                detail=figure.detail,
                direction=d.direction,
                threshold=d.threshold,
                status=status_of(d, figure.value, stale=figure.stale),
            )
        )
    found = IndicatorTable(
        programme_id=programme.id, programme_code=programme.code, as_of=as_of, rows=rows
    )
    return found, figures


def define(
    session: Session, *, actor: Actor, programme_id: int, data: IndicatorCreate
) -> IndicatorDefinition:
    """Define an indicator of a programme."""
    require(actor, Action.indicator_write)
    programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    if any(d.code == data.code for d in definitions(session, programme.id)):
        raise Conflict(
            Text(
                "%(programme)s has an indicator %(code)s already: choose another code.",
                programme=programme.code,
                code=data.code,
            )
        )
    definition = IndicatorDefinition(programme_id=programme.id, **data.model_dump())
    session.add(definition)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="indicator.defined",
        entity="indicator",
        entity_id=definition.id,
        programme_id=programme.id,
        changes=created(data.model_dump()),
    )
    return definition


def enter_value(
    session: Session, *, actor: Actor, indicator_id: int, data: IndicatorValueCreate
) -> IndicatorValue:
    """Enter a value by hand for an indicator computed by no rule."""
    require(actor, Action.indicator_write)
    definition = session.get(IndicatorDefinition, indicator_id)
    if definition is None or actor.programme_id not in (None, definition.programme_id):
        raise NotFound(Text("There is no indicator with the id %(id)s.", id=indicator_id))
    if definition.computation is not Computation.entered:
        raise Conflict(
            Text(
                "%(code)s is computed from the records: it takes no entered values.",
                code=definition.code,
            )
        )
    if data.period_end < data.period_start:
        raise ValidationFailed(
            Text("The date range ends before it starts."),
            [FieldError("period_end", Text("Enter a date on or after the start date."))],
        )
    value = IndicatorValue(indicator_id=definition.id, entered_by=actor.name, **data.model_dump())
    session.add(value)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="indicator.value_entered",
        entity="indicator",
        entity_id=definition.id,
        programme_id=definition.programme_id,
        changes=created(data.model_dump()),
    )
    return value


def today() -> date:
    """Return today's date (UTC)."""
    return utcnow().date()


def programme_of(session: Session, indicator_id: int) -> int:
    """Return the programme an indicator belongs to."""
    definition = session.get(IndicatorDefinition, indicator_id)
    if definition is None:
        raise NotFound(Text("There is no indicator with the id %(id)s.", id=indicator_id))
    return definition.programme_id
