"""The charts the records give: indicators planned against actual, the period's trends by month,
and each cohort's pairs against the meeting rule and its mentees' outcomes at close.

Each function reads the records and returns a Chart in the reader's language; nothing here
draws (qms.charts.draw does, when a page or a document asks for the picture).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from textwrap import shorten

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload

from qms.actions.models import CorrectiveAction
from qms.charts import Chart, Panel, Series
from qms.deviations.models import Deviation, Severity, deviation_action
from qms.evaluations.models import (
    EvaluationResponse,
    Instrument,
    Outcome,
    OutcomeKind,
    Question,
)
from qms.followups.models import FollowUp
from qms.i18n import (
    LOCALES,
    N_,
    format_day,
    format_moment,
    format_number,
    format_percent,
    label,
    translate,
)
from qms.pairs.models import Pair
from qms.pairs.rules import pair_months, remembering
from qms.participants.models import Participant, ParticipantRole
from qms.periods import bounds
from qms.permissions import Action, Actor
from qms.programmes.models import Cohort

PERIOD = N_("%(start)s to %(end)s")
CAPTION = N_("%(period)s · records as of %(as_of)s")
AS_OF = N_("records as of %(as_of)s")
INDICATORS = N_("Indicators, planned against actual")
INDICATORS_SAID = N_(
    "Each indicator's planned and actual value as bars on one scale, per cent of the plan (of "
    "the threshold for one planned at nothing), each bar labelled with its value in the "
    "indicator's unit and the threshold a dashed mark: %(met)s of %(count)s met the plan."
)
PLANNED, ACTUAL = N_("Planned"), N_("Actual")
THRESHOLD_MARK = N_("threshold")
OF_PLAN = N_("per cent of the planned value")
NO_VALUE = N_("no value")
PART = N_("(%(part)s of %(parts)s)")
# Indicators on one chart at most, and the furthest past its plan a bar is drawn (per cent).
ROWS_A_CHART = 9
# The most of a question's text its line in the scores' legend shows.
QUESTION_SHOWN = 60
CEILING = 200.0
TRENDS = N_("Trends by month")
TRENDS_SAID = N_(
    "Month by month over the period: deviations opened and closed by severity, corrective "
    "actions due and done on time, follow-ups due and held, and evaluation scores by question. "
    "The figures are in the tables with the chart, where a month with none is left out."
)
OPENED = N_("Deviations opened, by severity")
CLOSED = N_("Deviations closed, by severity")
DEVIATIONS_COUNT = N_("deviations (count)")
ACTIONS = N_("Corrective actions due and done on time")
ACTIONS_COUNT = N_("actions (count)")
DUE, ON_TIME = N_("due"), N_("done on time")
FOLLOW_UPS = N_("Follow-ups due and held")
FOLLOW_UPS_COUNT = N_("follow-ups (count)")
HELD = N_("held")
SCORES = N_("Evaluation scores by question (mean)")
SCORE_AXIS = N_("mean score (scale of %(low)s to %(high)s)")
QUESTION_COUNT = N_("%(question)s (%(count)s answers)")
MEAN_OF = N_("%(mean)s (%(count)s answers)")
RULE = N_("Pairs meeting the programme's meeting rule, by month")
RULE_AXIS = N_("pairs meeting the rule (per cent)")
RULE_SHOWN = N_("%(share)s (%(met)s of %(pairs)s pairs)")
RULE_SAID = N_(
    "The share of the cohort's active pairs that met the programme's minimum of meetings or "
    "minutes in each complete month: %(summary)s."
)
OUTCOMES = N_("Outcomes at close")
OUTCOMES_AXIS = N_("mentees (count)")
NO_OUTCOME = N_("no outcome recorded")
OUTCOMES_SAID = N_(
    "Each mentee's latest outcome by the cohort's end, stacked by kind: %(summary)s."
)
IN_WORK = N_("%(cohort)s: in work or study %(work)s of %(mentees)s, full-time %(full)s")
# Outcomes counted as in work or study, and as full-time employed (the report's two measures).
WORK_OR_STUDY = (
    OutcomeKind.employed_full_time,
    OutcomeKind.employed_part_time,
    OutcomeKind.education,
)
MONTH_FORMAT = "LLL yyyy"
MONTH, COHORT, INDICATOR = N_("Month"), N_("Cohort"), N_("Indicator")


def caption(start: date, end: date, as_of: datetime | date, language: str) -> str:
    """The period a chart covers and the time its records were read, as the reader writes them."""
    period = translate(PERIOD, language) % {
        "start": format_day(start, language),
        "end": format_day(end, language),
    }
    read = (
        format_moment(as_of, language)
        if isinstance(as_of, datetime)
        else format_day(as_of, language)
    )
    return translate(CAPTION, language) % {"period": period, "as_of": read}


def as_of_caption(as_of: datetime | date, language: str) -> str:
    """The time a chart's records were read, for a chart of one moment."""
    read = (
        format_moment(as_of, language)
        if isinstance(as_of, datetime)
        else format_day(as_of, language)
    )
    return translate(AS_OF, language) % {"as_of": read}


def months(start: date, end: date) -> list[date]:
    """The first day of each month from the start's to the end's."""
    first, found = start.replace(day=1), []
    while first <= end:
        found.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return found


def month_name(first: date, language: str) -> str:
    """A month as the reader writes it short: jan. 2026, Jan 2026."""
    from babel import Locale
    from babel.dates import format_date

    return format_date(first, MONTH_FORMAT, locale=Locale.parse(LOCALES[language]))


def _counts(values: Sequence[float], language: str) -> tuple[str, ...]:
    return tuple(format_number(v, language) for v in values)


@dataclass(frozen=True)
class IndicatorBar:
    """One indicator as the chart shows it: its figures and how they read with their unit."""

    code: str
    name: str
    unit: str
    planned: float
    actual: float | None
    threshold: float | None
    planned_shown: str
    actual_shown: str
    threshold_shown: str
    met: bool
    top: float | None = None


def indicators(
    bars: Sequence[IndicatorBar], *, caption_text: str, language: str, key: str = "indicators"
) -> list[Chart]:
    """Each indicator's planned and actual value as a pair of bars laid across its row, on one
    scale (per cent of the planned value), its threshold marked; each bar says its value in the
    indicator's own unit. At most ROWS_A_CHART indicators a chart, so that one fits a page."""
    planned, actual = translate(PLANNED, language), translate(ACTUAL, language)
    summary = translate(INDICATORS_SAID, language) % {
        "met": format_number(sum(1 for b in bars if b.met), language),
        "count": format_number(len(bars), language),
    }
    parts = [bars[n : n + ROWS_A_CHART] for n in range(0, len(bars), ROWS_A_CHART)]
    charts = []
    for n, part in enumerate(parts):

        def scaled(value: float | None, b: IndicatorBar) -> float | None:
            # Per cent of the plan. A plan of nothing (no deviation open, no action overdue) is
            # read against its threshold, the most it may reach, so that a figure past it shows
            # past its mark; without one, against the figure itself.
            base = b.planned or b.threshold or b.actual or 1
            return None if value is None else min(100 * value / base, CEILING)

        panel = Panel(
            title="",
            unit=translate(OF_PLAN, language),
            categories=tuple(f"{b.code} {b.name}" for b in part),
            series=(
                Series(
                    planned,
                    tuple(scaled(b.planned, b) for b in part),
                    tuple(b.planned_shown for b in part),
                ),
                Series(
                    actual,
                    tuple(scaled(b.actual, b) for b in part),
                    tuple(b.actual_shown or translate(NO_VALUE, language) for b in part),
                ),
            ),
            kind="rows",
            threshold_label=translate(THRESHOLD_MARK, language),
            top=100.0,
            marks=tuple(scaled(b.threshold, b) for b in part),
        )
        title = translate(INDICATORS, language)
        if len(parts) > 1:
            title += " " + translate(PART, language) % {"part": n + 1, "parts": len(parts)}
        charts.append(
            Chart(
                key=f"{key}-{n + 1}",
                title=title,
                caption=caption_text,
                summary=summary,
                panels=(panel,),
                category_name=translate(INDICATOR, language),
            )
        )
    return charts


def _in_programme(stmt: Select, programme_id: int | None) -> Select:  # type: ignore[type-arg]
    return stmt if programme_id is None else stmt.where(Deviation.programme_id == programme_id)


def trends(
    session: Session,
    *,
    actor: Actor,
    programme_id: int | None,
    start: date,
    end: date,
    as_of: datetime | date,
    language: str,
    key: str = "trends",
) -> Chart:
    """The period's trends by month, each part only where the reader may read its records."""
    scope = programme_id if programme_id is not None else actor.programme_id
    firsts = months(start, end)
    names = tuple(month_name(m, language) for m in firsts)
    slot = {(m.year, m.month): n for n, m in enumerate(firsts)}

    def at(day: date | None) -> int | None:
        if day is None or not start <= day <= end:
            return None
        return slot.get((day.year, day.month))

    panels: list[Panel] = []
    lo, hi = bounds(start, end)
    if actor.can(Action.deviation_read):
        rows = session.execute(
            _in_programme(
                select(Deviation.detected_at, Deviation.closed_at, Deviation.severity).where(
                    or_(
                        Deviation.detected_at.between(lo, hi),
                        Deviation.closed_at.between(lo, hi),
                    )
                ),
                scope,
            )
        ).all()
        for title, column in ((OPENED, 0), (CLOSED, 1)):
            counted: dict[str, list[float]] = {s.value: [0.0] * len(firsts) for s in Severity}
            for row in rows:
                moment = row[column]
                n = at(moment.date() if moment is not None else None)
                if n is not None:
                    counted[str(row[2])][n] += 1
            panels.append(
                Panel(
                    title=translate(title, language),
                    unit=translate(DEVIATIONS_COUNT, language),
                    categories=names,
                    series=tuple(
                        Series(label(s, language), tuple(v), _counts(v, language))
                        for s, v in counted.items()
                    ),
                    kind="stacked",
                )
            )
    if actor.can(Action.action_read):
        stmt = select(CorrectiveAction.due_on, CorrectiveAction.done_at).where(
            CorrectiveAction.due_on.between(start, end)
        )
        if scope is not None:
            stmt = stmt.where(
                CorrectiveAction.id.in_(
                    select(deviation_action.c.action_id)
                    .join(Deviation, Deviation.id == deviation_action.c.deviation_id)
                    .where(Deviation.programme_id == scope)
                )
            )
        due, on_time = [0.0] * len(firsts), [0.0] * len(firsts)
        for due_on, done_at in session.execute(stmt):
            n = at(due_on)
            if n is None:
                continue
            due[n] += 1
            if done_at is not None and done_at.date() <= due_on:
                on_time[n] += 1
        panels.append(
            Panel(
                title=translate(ACTIONS, language),
                unit=translate(ACTIONS_COUNT, language),
                categories=names,
                series=(
                    Series(translate(DUE, language), tuple(due), _counts(due, language)),
                    Series(
                        translate(ON_TIME, language), tuple(on_time), _counts(on_time, language)
                    ),
                ),
            )
        )
    if actor.can(Action.followup_read):
        held_stmt = (
            select(FollowUp.scheduled_on, FollowUp.held_on)
            .join(Pair, Pair.id == FollowUp.pair_id)
            .join(Cohort, Cohort.id == Pair.cohort_id)
            .where(FollowUp.scheduled_on.between(start, end))
        )
        if scope is not None:
            held_stmt = held_stmt.where(Cohort.programme_id == scope)
        scheduled, held = [0.0] * len(firsts), [0.0] * len(firsts)
        for scheduled_on, held_on in session.execute(held_stmt):
            n = at(scheduled_on)
            if n is None:
                continue
            scheduled[n] += 1
            if held_on is not None:
                held[n] += 1
        panels.append(
            Panel(
                title=translate(FOLLOW_UPS, language),
                unit=translate(FOLLOW_UPS_COUNT, language),
                categories=names,
                series=(
                    Series(
                        translate(DUE, language), tuple(scheduled), _counts(scheduled, language)
                    ),
                    Series(translate(HELD, language), tuple(held), _counts(held, language)),
                ),
            )
        )
    if actor.can(Action.evaluation_read):
        panels += _scores(session, scope, start, end, firsts, names, at, language)
    return Chart(
        key=key,
        title=translate(TRENDS, language),
        caption=caption(start, end, as_of, language),
        summary=translate(TRENDS_SAID, language),
        panels=tuple(panels),
        columns=2,
        category_name=translate(MONTH, language),
    )


def _scores(
    session: Session,
    scope: int | None,
    start: date,
    end: date,
    firsts: list[date],
    names: tuple[str, ...],
    at: object,
    language: str,
) -> list[Panel]:
    """Mean evaluation scores by question and month, for the questions on a scale."""
    stmt = (
        select(
            Instrument.code,
            Question.code,
            Instrument.name,
            Question.text,
            Question.scale_min,
            Question.scale_max,
            EvaluationResponse.submitted_on,
            EvaluationResponse.value_number,
        )
        .join(Question, Question.id == EvaluationResponse.question_id)
        .join(Instrument, Instrument.id == Question.instrument_id)
        .join(Participant, Participant.id == EvaluationResponse.participant_id)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .where(
            EvaluationResponse.submitted_on.between(start, end),
            EvaluationResponse.value_number.is_not(None),
            Question.scale_max.is_not(None),
        )
    )
    if scope is not None:
        stmt = stmt.where(Cohort.programme_id == scope)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(firsts))
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(firsts))
    low, high = None, 0
    # Each question named by its own text, shortened for the legend (the same text asked in
    # two instruments followed by the instrument's name).
    said: dict[tuple[str, str], str] = {}
    for row in session.execute(stmt):
        instrument, question, called, text, scale_min, scale_max, submitted_on, value = row
        n = at(submitted_on)  # type: ignore[operator]
        if n is None:
            continue
        name = said.get((instrument, question))
        if name is None:
            name = shorten(" ".join(text.split()), QUESTION_SHOWN, placeholder=" …")
            if name in said.values():
                name = f"{name} — {called}"
            said[(instrument, question)] = name
        sums[name][n] += value
        counts[name][n] += 1
        low = scale_min if low is None else min(low, scale_min or 0)
        high = max(high, scale_max or 0)
    if not sums:
        return []
    # The questions most answered, as many as a reader tells apart on one plot.
    shown = sorted(sums, key=lambda q: (-sum(counts[q]), q))[:6]
    series = []
    for name in sorted(shown):
        means = tuple(s / c if c else None for s, c in zip(sums[name], counts[name], strict=True))
        series.append(
            Series(
                translate(QUESTION_COUNT, language)
                % {"question": name, "count": format_number(sum(counts[name]), language)},
                means,
                tuple(
                    translate(MEAN_OF, language)
                    % {"mean": format_number(m, language), "count": format_number(c, language)}
                    if m is not None
                    else ""
                    for m, c in zip(means, counts[name], strict=True)
                ),
            )
        )
    return [
        Panel(
            title=translate(SCORES, language),
            unit=translate(SCORE_AXIS, language)
            % {"low": format_number(low or 0, language), "high": format_number(high, language)},
            categories=names,
            series=tuple(series),
            kind="lines",
            top=float(high),
        )
    ]


def _cohort_pairs(session: Session, cohorts: Sequence[Cohort]) -> list[Pair]:
    ids = [c.id for c in cohorts]
    found = select(Pair).where(Pair.cohort_id.in_(ids)).order_by(Pair.id)
    if remembering():
        # A document that counted these pairs' months for its indicators: they are remembered.
        return list(session.scalars(found))
    # The rule is read from each pair's programme through its mentee's cohort: loaded at once,
    # in the pairs' own query (each pair has one mentee, of one cohort, of one programme).
    return list(
        session.scalars(
            found.options(
                joinedload(Pair.mentee).joinedload(Participant.cohort).joinedload(Cohort.programme)
            )
        )
    )


def meeting_rule(
    session: Session,
    *,
    cohorts: Sequence[Cohort],
    on: date,
    as_of: datetime | date,
    language: str,
    since: date | None = None,
    key: str = "meeting-rule",
) -> Chart:
    """Per cohort, the share of its active pairs that met the meeting rule in each complete
    month before the date (from the month of `since`, if given)."""
    first = f"{since:%Y-%m}" if since else ""
    met: dict[tuple[int, str], int] = Counter()
    total: dict[tuple[int, str], int] = Counter()
    for month in pair_months(session, _cohort_pairs(session, cohorts), on):
        if month.month < first:
            continue
        slot = (month.pair.cohort_id, month.month)
        total[slot] += 1
        met[slot] += 0 if month.short else 1
    keys = sorted({m for _, m in total})
    firsts = [date.fromisoformat(f"{m}-01") for m in keys]
    names = tuple(month_name(m, language) for m in firsts)
    series, said = [], []
    for cohort in cohorts:
        shares = tuple(
            100 * met[(cohort.id, m)] / total[(cohort.id, m)] if total[(cohort.id, m)] else None
            for m in keys
        )
        shown = tuple(
            translate(RULE_SHOWN, language)
            % {
                "share": format_percent(met[(cohort.id, m)] / total[(cohort.id, m)], language),
                "met": format_number(met[(cohort.id, m)], language),
                "pairs": format_number(total[(cohort.id, m)], language),
            }
            if total[(cohort.id, m)]
            else ""
            for m in keys
        )
        if any(s is not None for s in shares):
            short = tuple(
                format_percent(share / 100, language) if share is not None else ""
                for share in shares
            )
            series.append(Series(cohort.name, shares, shown, short))
            latest = next((n, s) for n, s in reversed(list(enumerate(shown))) if s)
            said.append(f"{cohort.name} {names[latest[0]]}: {latest[1]}")
    start = firsts[0] if firsts else on
    panel = Panel(
        title="",
        unit=translate(RULE_AXIS, language),
        categories=names,
        series=tuple(series),
        kind="lines" if len(series) > 1 or len(names) > 12 else "bars",
        top=100.0,
    )
    return Chart(
        key=key,
        title=translate(RULE, language),
        caption=caption(start, on, as_of, language),
        summary=translate(RULE_SAID, language) % {"summary": "; ".join(said)},
        panels=(panel,) if series else (),
        category_name=translate(MONTH, language),
    )


def outcomes(
    session: Session,
    *,
    cohorts: Sequence[Cohort],
    on: date,
    as_of: datetime | date,
    language: str,
    key: str = "outcomes",
) -> Chart:
    """Each cohort's mentees by their latest outcome by the cohort's end (or the date, if
    sooner), stacked by kind: in work or study, full-time among them."""
    mentees = dict(
        session.execute(
            select(Participant.id, Participant.cohort_id).where(
                Participant.cohort_id.in_([c.id for c in cohorts]),
                Participant.role == ParticipantRole.mentee,
            )
        ).all()
    )
    ends = {c.id: min(c.end_on, on) for c in cohorts}
    latest: dict[int, tuple[date, OutcomeKind]] = {}
    if mentees:
        for participant_id, outcome_on, kind in session.execute(
            select(Outcome.participant_id, Outcome.outcome_on, Outcome.outcome).where(
                Outcome.participant_id.in_(list(mentees))
            )
        ):
            if outcome_on > ends[mentees[participant_id]]:
                continue
            if participant_id not in latest or outcome_on >= latest[participant_id][0]:
                latest[participant_id] = (outcome_on, kind)
    kinds: list[str] = [k.value for k in OutcomeKind] + ["none"]
    counted = {c.id: dict.fromkeys(kinds, 0) for c in cohorts}
    for participant_id, cohort_id in mentees.items():
        where = latest[participant_id][1].value if participant_id in latest else "none"
        counted[cohort_id][where] += 1
    shown_cohorts = [
        c for c in cohorts if latest.keys() & {p for p, cid in mentees.items() if cid == c.id}
    ]
    series = tuple(
        Series(
            translate(NO_OUTCOME, language) if kind == "none" else label(kind, language),
            tuple(float(counted[c.id][kind]) for c in shown_cohorts),
            tuple(format_number(counted[c.id][kind], language) for c in shown_cohorts),
        )
        for kind in kinds
    )
    said = [
        translate(IN_WORK, language)
        % {
            "cohort": c.name,
            "work": format_number(sum(counted[c.id][k.value] for k in WORK_OR_STUDY), language),
            "mentees": format_number(sum(counted[c.id].values()), language),
            "full": format_number(counted[c.id][OutcomeKind.employed_full_time.value], language),
        }
        for c in shown_cohorts
    ]
    start = min((c.start_on for c in shown_cohorts), default=on)
    panel = Panel(
        title="",
        unit=translate(OUTCOMES_AXIS, language),
        categories=tuple(c.name for c in shown_cohorts),
        series=series,
        kind="stacked",
    )
    return Chart(
        key=key,
        title=translate(OUTCOMES, language),
        caption=caption(
            start, max((ends[c.id] for c in shown_cohorts), default=on), as_of, language
        ),
        summary=translate(OUTCOMES_SAID, language) % {"summary": "; ".join(said)},
        panels=(panel,) if shown_cohorts else (),
        category_name=translate(COHORT, language),
    )
