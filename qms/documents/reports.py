"""Reports over many records: the CAPA status report and a cohort's follow-up report."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import ActionStatus, CorrectiveAction
from qms.actions.repository import ActionFilter
from qms.audits.models import ManagementReview, ReviewDecision
from qms.charts import Chart
from qms.charts import records as charts
from qms.charts.document import add_chart
from qms.config import get_settings
from qms.deviations.models import Deviation
from qms.documents.base import (
    Draft,
    data_hash,
    day,
    number,
    people,
    person,
    table_or_none,
    title_in,
)
from qms.documents.style import HouseDocument, Issue
from qms.evaluations.models import EvaluationResponse, Instrument, Outcome, Question
from qms.followups import service as followups
from qms.i18n import N_, label, translate
from qms.indicators import service as indicators
from qms.indicators.models import Computation, IndicatorDefinition
from qms.pairs.rules import remembered
from qms.participants.models import Participant
from qms.periods import bounds, check_range
from qms.permissions import Actor
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme


def capa_status(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int | None
) -> Draft:
    """Corrective actions by where they stand: open, overdue, verified, ineffective."""
    if programme_id is not None:
        programmes.get_programme(session, actor=actor, programme_id=programme_id)
    rows: list[CorrectiveAction] = []
    cursor = None
    while True:
        page = actions.list_actions(
            session,
            actor=actor,
            filters=ActionFilter(programme_id=programme_id),
            limit=200,
            cursor=cursor,
        )
        rows.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    rows.reverse()
    names = people(session)
    codes = dict(session.execute(select(Programme.id, Programme.code)).all())
    # An action opened by a management review's decision names the review as its source.
    decided = {
        action_id: (review_number, programme)
        for action_id, review_number, programme in session.execute(
            select(ReviewDecision.action_id, ManagementReview.number, ManagementReview.programme_id)
            .join(ManagementReview, ManagementReview.id == ReviewDecision.review_id)
            .where(ReviewDecision.action_id.is_not(None))
        )
    }

    def source(a: CorrectiveAction) -> str:
        review = decided.get(a.id)
        return ", ".join([*(d.number for d in a.deviations), *([review[0]] if review else [])])

    def programme_of(a: CorrectiveAction) -> str:
        review = decided.get(a.id)
        ids = {d.programme_id for d in a.deviations} | ({review[1]} if review else set())
        return ", ".join(sorted(codes[i] for i in ids if i in codes))

    table = [
        [
            a.number,
            label(a.type, language),
            label(a.status, language),
            a.title,
            person(names, a.owner.name),
            day(a.due_on, language),
            label("yes", language) if actions.is_overdue(a) else "",
            day(a.done_at, language),
            person(names, a.verified_by),
            day(a.verified_at, language),
            source(a),
            programme_of(a),
        ]
        for a in rows
    ]
    # Keyed by the state's code, shown by its label.
    counts = {
        "open": sum(
            1 for a in rows if a.status in (ActionStatus.planned, ActionStatus.in_progress)
        ),
        "overdue": sum(1 for a in rows if actions.is_overdue(a)),
        "verified_effective": sum(1 for a in rows if a.status is ActionStatus.verified_effective),
        "ineffective": sum(1 for a in rows if a.status is ActionStatus.ineffective),
    }
    title = title_in("CAPA status report", language)
    issue = Issue(
        get_settings().organisation,
        title,
        "REP-CAPA",
        as_of,
        as_of,
        data_hash({"table": table, "counts": counts}),
        language,
    )
    doc = HouseDocument(issue, landscape=True)
    doc.table(
        [translate("Where they stand", language), translate("Actions", language)],
        [[label(k, language), number(v, language)] for k, v in counts.items()],
    )
    table_or_none(
        doc,
        [
            translate("Action", language),
            translate("Type", language),
            translate("Status", language),
            translate("Title", language),
            translate("Owner", language),
            translate("Due", language),
            translate("Overdue", language),
            translate("Done", language),
            translate("Verified by", language),
            translate("Verified on", language),
            translate("Source", language),
            translate("Programme", language),
        ],
        table,
        language,
    )
    return Draft("capa-status", title, "REP-CAPA", doc.to_bytes(), issue.data_sha256, programme_id)


def follow_up_report(
    session: Session, actor: Actor, as_of: datetime, language: str, cohort_id: int
) -> Draft:
    """A cohort's mid-programme follow-ups, pair by pair: codes only, never names."""
    cohort = programmes.get_cohort(session, actor=actor, cohort_id=cohort_id)
    board = followups.cohort_board(session, actor=actor, cohort_id=cohort.id)
    # A deviation raised from a follow-up, by its number.
    linked = [i.deviation_id for i in board.items if i.deviation_id]
    raised = {
        d.id: translate("deviation %(number)s raised", language) % {"number": d.number}
        for d in session.scalars(select(Deviation).where(Deviation.id.in_(linked)))
    }
    table = [
        [
            i.pair_code,
            i.mentor_code,
            i.mentee_code,
            day(i.scheduled_on, language),
            label(i.state, language),
            day(i.held_on, language),
            label(i.outcome, language) if i.outcome else "",
            number(i.goal_progress, language),
            number(i.relationship, language),
            "; ".join(filter(None, [i.decision, raised.get(i.deviation_id or 0, "")])),
        ]
        for i in board.items
    ]
    name = title_in("Mid-programme follow-up report", language)
    title = f"{name} {cohort.programme.code} {cohort.code}"
    issue = Issue(
        get_settings().organisation,
        title,
        f"FU-{cohort.programme.code}-{cohort.code}",
        as_of,
        as_of,
        data_hash(table),
        language,
    )
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translate("Held %(held)s, due %(due)s, overdue %(overdue)s.", language)
        % {"held": board.held, "due": board.due, "overdue": board.overdue}
    )
    doc.table(
        [
            translate("Pair", language),
            translate("Mentor", language),
            translate("Mentee", language),
            translate("Scheduled", language),
            translate("State", language),
            translate("Held", language),
            translate("Outcome", language),
            translate("Goal progress (1 to 5)", language),
            translate("Relationship (1 to 5)", language),
            translate("What was done", language),
        ],
        table,
    )
    return Draft(
        "follow-up-report",
        title,
        issue.code,
        doc.to_bytes(),
        issue.data_sha256,
        cohort.programme_id,
    )


# The unit a figure is read in, beside the figure: a per cent sign, or the scale of a score.
PERCENT = N_("%(value)s%%")
SCORE_OF = N_("%(value)s of %(max)s")
NO_VALUE_FOR_PERIOD = N_("no value for the period (the value entered is for %(start)s to %(end)s)")


def _scales(session: Session, definitions: list[IndicatorDefinition]) -> dict[int, tuple[int, int]]:
    """The scale (lowest, highest) of each mean-score indicator's question, by indicator id."""
    scales = {}
    for d in definitions:
        if d.computation is not Computation.mean_score:
            continue
        question = session.scalars(
            select(Question)
            .join(Instrument, Instrument.id == Question.instrument_id)
            .where(
                Instrument.code == d.params.get("instrument"),
                Question.code == d.params.get("question"),
            )
        ).first()
        if question is not None and question.scale_min is not None and question.scale_max:
            scales[d.id] = (question.scale_min, question.scale_max)
    return scales


def _with_unit(value: float | None, unit: str, scale: tuple[int, int] | None, language: str) -> str:
    """A figure with its unit: 85 %, 12, 4.08 of 5."""
    if value is None:
        return ""
    shown = number(value, language)
    if unit == "percent":
        return translate(PERCENT, language) % {"value": shown}
    if unit == "score" and scale:
        return translate(SCORE_OF, language) % {"value": shown, "max": number(scale[1], language)}
    return shown


def _unit_name(unit: str, scale: tuple[int, int] | None, language: str) -> str:
    """The unit as a reader says it: per cent, count, score of 1 to 5."""
    if unit == "score" and scale:
        return translate("score of %(min)s to %(max)s", language) % {
            "min": number(scale[0], language),
            "max": number(scale[1], language),
        }
    return label(unit, language)


def _charts(
    session: Session,
    programme: Programme,
    bars: list[charts.IndicatorBar],
    start: date,
    end: date,
    as_of: datetime,
    language: str,
) -> tuple[list[Chart], list[Chart]]:
    """The quality report's charts: the indicators' (as many as they take), then every chart
    with them, the cohorts' meeting rule and outcomes after (their figures are the report's
    tables where the pictures are not drawn)."""
    cohorts = list(
        session.scalars(
            select(Cohort)
            .where(
                Cohort.programme_id == programme.id,
                Cohort.start_on <= end,
                Cohort.end_on >= start,
            )
            .order_by(Cohort.start_on, Cohort.id)
        )
    )
    shown_at = charts.caption(start, end, as_of, language)
    plotted = charts.indicators(bars, caption_text=shown_at, language=language)
    return plotted, [
        *plotted,
        charts.meeting_rule(
            session, cohorts=cohorts, on=end, since=start, as_of=as_of, language=language
        ),
        charts.outcomes(session, cohorts=cohorts, on=end, as_of=as_of, language=language),
    ]


def quality_report(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    programme_id: int,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Draft:
    """The programme quality report for a period: indicators planned against actual (an entered
    value rated only when it is for the period), outcomes, evaluation answers per question, and
    the deviations and actions of the programme live in the period.

    Without a period: from the programme's first cohort to the issue date."""
    # The meeting rule's indicator and its chart count the same pairs' months: counted once.
    with remembered():
        return _quality_report(
            session, actor, as_of, language, programme_id, period_start, period_end
        )


def _quality_report(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    programme_id: int,
    period_start: date | None,
    period_end: date | None,
) -> Draft:
    programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    first_cohort = session.scalar(
        select(func.min(Cohort.start_on)).where(Cohort.programme_id == programme.id)
    )
    end = period_end or as_of.date()
    start = period_start or min(first_cohort or end, end)
    check_range(start, end)
    table, figures = indicators.table_with_figures(
        session, actor=actor, programme_id=programme.id, as_of=end
    )
    definitions = {d.id: d for d in indicators.definitions(session, programme.id)}
    scales = _scales(session, list(definitions.values()))
    indicator_rows = []
    bars = []
    for r, f in zip(table.rows, figures, strict=True):
        scale = scales.get(r.id)
        actual, detail, status = r.actual, f.detail_in(language), r.status
        entered_for = f.values.get("start"), f.values.get("end")
        if (
            r.computation is Computation.entered
            and isinstance(entered_for[0], date)
            and entered_for[0] < start
        ):
            # A value entered for another period is not this period's: shown, not rated.
            actual, status = None, "no_data"
            detail = translate(NO_VALUE_FOR_PERIOD, language) % {
                "start": day(entered_for[0], language),
                "end": day(entered_for[1], language),  # type: ignore[arg-type]
            }
        indicator_rows.append(
            [
                r.code,
                r.name,
                _unit_name(r.unit, scale, language),
                _with_unit(r.planned, r.unit, scale, language),
                _with_unit(actual, r.unit, scale, language),
                detail,
                label(status, language),
            ]
        )
        bars.append(
            charts.IndicatorBar(
                code=r.code,
                name=r.name,
                unit=_unit_name(r.unit, scale, language),
                planned=r.planned,
                actual=actual,
                threshold=r.threshold,
                planned_shown=_with_unit(r.planned, r.unit, scale, language),
                actual_shown=_with_unit(actual, r.unit, scale, language),
                threshold_shown=_with_unit(r.threshold, r.unit, scale, language),
                met=status == "met",
                top=100.0 if r.unit == "percent" else float(scale[1]) if scale else None,
            )
        )
    outcome_rows = [
        [label(kind, language), number(count, language)]
        for kind, count in session.execute(
            select(Outcome.outcome, func.count())
            .join(Participant, Participant.id == Outcome.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(
                Cohort.programme_id == programme.id,
                Outcome.outcome_on >= start,
                Outcome.outcome_on <= end,
            )
            .group_by(Outcome.outcome)
            .order_by(Outcome.outcome)
        )
    ]
    answer_rows = [
        [
            instrument,
            code,
            number(count, language),
            translate(SCORE_OF, language)
            % {"value": number(mean, language), "max": number(high, language)}
            if mean is not None and high
            else number(mean, language),
        ]
        # Named as the readers know them: the instrument's name and the question's own text.
        for instrument, code, high, count, mean in session.execute(
            select(
                Instrument.name,
                Question.text,
                Question.scale_max,
                func.count(EvaluationResponse.id),
                func.avg(EvaluationResponse.value_number),
            )
            .join(Question, Question.id == EvaluationResponse.question_id)
            .join(Instrument, Instrument.id == Question.instrument_id)
            .join(Participant, Participant.id == EvaluationResponse.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(
                Cohort.programme_id == programme.id,
                EvaluationResponse.submitted_on >= start,
                EvaluationResponse.submitted_on <= end,
            )
            .group_by(
                Instrument.code, Question.code, Instrument.name, Question.text, Question.scale_max
            )
            .order_by(Instrument.code, Question.code)
        )
    ]
    lo, hi = bounds(start, end)
    deviation_rows = [
        [
            d.number,
            day(d.detected_at, language),
            label(d.severity, language),
            label(d.status, language),
            d.title,
            ", ".join(f"{a.number} ({label(a.status, language)})" for a in d.actions),
        ]
        for d in session.scalars(
            select(Deviation)
            .where(
                Deviation.programme_id == programme.id,
                Deviation.detected_at < hi,
                or_(Deviation.closed_at.is_(None), Deviation.closed_at >= lo),
            )
            .order_by(Deviation.id)
        )
    ]
    period = translate("%(start)s to %(end)s", language) % {
        "start": day(start, language),
        "end": day(end, language),
    }
    plotted, pictures = _charts(session, programme, bars, start, end, as_of, language)
    data = {
        "period": [start, end],
        "indicators": indicator_rows,
        "outcomes": outcome_rows,
        "answers": answer_rows,
        "deviations": deviation_rows,
        **({"charts": [c.data() for c in pictures]} if pictures else {}),
    }
    name = title_in("Programme quality report", language)
    title = f"{name} {programme.code}"
    issue = Issue(
        get_settings().organisation,
        title,
        f"QR-{programme.code}",
        as_of,
        as_of,
        data_hash(data),
        language,
    )
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(programme.name, bold=True)
    doc.paragraph(translate("Period: %(period)s", language) % {"period": period}, bold=True)
    doc.paragraph(
        translate(
            "Indicators computed from the records are as of the period's end; a value entered "
            "by hand is rated only when it is for the period. Outcomes, answers and deviations "
            "are those of the period.",
            language,
        )
    )
    doc.heading(translate("Indicators, planned against actual", language))
    # The figures are in the table below the pictures.
    for picture in plotted:
        add_chart(doc, picture, table=False)
    table_or_none(
        doc,
        [
            translate("Code", language),
            translate("Indicator", language),
            translate("Unit", language),
            translate("Planned", language),
            translate("Actual", language),
            translate("From", language),
            translate("Status", language),
        ],
        indicator_rows,
        language,
    )
    doc.heading(translate("Outcomes", language))
    table_or_none(
        doc,
        [translate("Outcome", language), translate("Participants (count)", language)],
        outcome_rows,
        language,
    )
    doc.heading(translate("Evaluation answers", language))
    table_or_none(
        doc,
        [
            translate("Instrument", language),
            translate("Question", language),
            translate("Answers (count)", language),
            translate("Mean (scale questions)", language),
        ],
        answer_rows,
        language,
    )
    doc.heading(translate("Deviations and corrective actions", language))
    table_or_none(
        doc,
        [
            translate("Deviation", language),
            translate("Detected", language),
            translate("Severity", language),
            translate("Status", language),
            translate("Title", language),
            translate("Actions", language),
        ],
        deviation_rows,
        language,
    )
    # The cohorts' pairs against the meeting rule and their mentees' outcomes at close.
    for picture in pictures[len(plotted) :]:
        if not picture.empty():
            doc.heading(picture.title)
            add_chart(doc, picture)
    return Draft(
        "quality-report", title, issue.code, doc.to_bytes(), issue.data_sha256, programme.id
    )
