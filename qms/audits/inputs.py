"""The management-review inputs of ISO 9001 9.3.2, compiled from the records for a period."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from qms.accounts.models import User
from qms.actions.models import ActionStatus, CorrectiveAction
from qms.audits.models import Conformity, InternalAudit, ManagementReview, ReviewStatus
from qms.audits.schemas import InputSection, ReviewInputs
from qms.checks.models import RuleFinding
from qms.complaints.enums import ComplaintOutcome
from qms.complaints.models import Complaint
from qms.context import service as context
from qms.deviations.models import Deviation, DeviationKind, DeviationSource, deviation_action
from qms.documents.base import figure
from qms.evaluations.models import EvaluationResponse, Instrument, Question
from qms.followups.models import FollowUp
from qms.i18n import N_, format_day, format_number, label, translate
from qms.i18n.values import VALUES
from qms.indicators import service as indicators
from qms.objectives import service as quality_objectives
from qms.pairs.models import Meeting, Pair, PairStatus
from qms.pairs.service import within_programme
from qms.participants.models import Participant
from qms.periods import bounds
from qms.permissions import Actor, Role
from qms.procedures.models import Procedure, ProcedureVersion
from qms.programmes.models import Cohort, Programme
from qms.providers.models import Provider
from qms.risks import service as risks
from qms.risks.models import Risk

# The inputs are compiled in English and kept so when a review is held; a document says them
# in its language when it shows them (`say`). The lines made of a sentence and a value are
# read back by these sentences, so inputs frozen before a translation existed are said too.
DEVIATIONS_BY = N_("deviations %(severity)s (%(status)s)")
LIVE_PAIRS_ON = N_("live pairs on %(day)s")
SENTENCES = tuple(
    (
        sentence,
        re.compile(
            re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(sentence)),
        ),
    )
    for sentence in (DEVIATIONS_BY, LIVE_PAIRS_ON)
)
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_DECIMAL = re.compile(r"-?\d+\.\d+")


def say(text: str, language: str) -> str:
    """Return a cell, title or note of the inputs in the language: a date or a decimal as the
    language writes it, a stored value by its label, a sentence of the catalogue translated;
    anything else (a record's number, title or text) as it was written."""
    if _DAY.fullmatch(text):
        return format_day(date.fromisoformat(text), language)
    if _DECIMAL.fullmatch(text):
        return format_number(float(text), language)
    if text in VALUES:
        return label(text, language)
    for sentence, pattern in SENTENCES:
        found = pattern.fullmatch(text)
        if found:
            return translate(sentence, language) % {
                name: say(value, language) for name, value in found.groupdict().items()
            }
    return translate(text, language)


def _deviations(programme_id: int | None, start: datetime, end: datetime) -> Select[Any]:
    stmt = select(Deviation.id).where(Deviation.detected_at >= start, Deviation.detected_at < end)
    if programme_id is not None:
        stmt = stmt.where(Deviation.programme_id == programme_id)
    return stmt


def _actions(session: Session, programme_id: int | None) -> list[CorrectiveAction]:
    stmt = select(CorrectiveAction).order_by(CorrectiveAction.id)
    if programme_id is not None:
        linked = (
            select(deviation_action.c.action_id)
            .join(Deviation, Deviation.id == deviation_action.c.deviation_id)
            .where(Deviation.programme_id == programme_id)
        )
        stmt = stmt.where(CorrectiveAction.id.in_(linked))
    return list(session.scalars(stmt))


def previous_actions(
    session: Session, programme_id: int | None, before: date, exclude: int | None
) -> InputSection:
    """a) the decisions of earlier reviews and where their actions stand."""
    stmt = (
        select(ManagementReview)
        .where(
            ManagementReview.status.in_([ReviewStatus.held, ReviewStatus.closed]),
            ManagementReview.held_on <= before,
        )
        .order_by(ManagementReview.held_on, ManagementReview.id)
    )
    if programme_id is not None:
        stmt = stmt.where(ManagementReview.programme_id == programme_id)
    rows = []
    for review in session.scalars(stmt):
        if review.id == exclude:
            continue
        for decision in review.decisions:
            action = (
                session.get(CorrectiveAction, decision.action_id) if decision.action_id else None
            )
            rows.append(
                [
                    review.number,
                    decision.kind.value,
                    decision.text[:200],
                    action.number if action else "",
                    action.status.value if action else N_("no action"),
                ]
            )
    return InputSection(
        clause="9.3.2 a",
        title=N_("Status of actions from previous management reviews"),
        rows=[[N_("Review"), N_("Decision"), N_("Text"), N_("Action"), N_("Status")], *rows],
        note="" if rows else N_("No earlier review decisions."),
    )


def changes(session: Session, programme_id: int | None, start: date, end: date) -> InputSection:
    """b) changes: procedure versions that took effect, cohorts that started or ended."""
    rows = [
        [N_("procedure"), f"{code} v{number}", summary[:200], str(effective)]
        for code, number, summary, effective in session.execute(
            select(
                Procedure.code,
                ProcedureVersion.number,
                ProcedureVersion.change_summary,
                ProcedureVersion.effective_from,
            )
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .where(ProcedureVersion.effective_from >= start, ProcedureVersion.effective_from <= end)
            .order_by(ProcedureVersion.effective_from, Procedure.code)
        )
    ]
    cohorts = select(Cohort, Programme.code).join(Programme, Programme.id == Cohort.programme_id)
    if programme_id is not None:
        cohorts = cohorts.where(Cohort.programme_id == programme_id)
    for cohort, code in session.execute(cohorts.order_by(Cohort.start_on)):
        if start <= cohort.start_on <= end:
            rows.append(
                [N_("cohort started"), f"{code} {cohort.code}", cohort.name, str(cohort.start_on)]
            )
        if start <= cohort.end_on <= end:
            rows.append(
                [N_("cohort ended"), f"{code} {cohort.code}", cohort.name, str(cohort.end_on)]
            )
    # The organisation's context: each issue recorded or changed in the period (a review that
    # changed nothing of it but its dates counts too: the issue was looked at again).
    lo, hi = bounds(start, end)
    for issue in context.changed_in(session, start=lo, end=hi):
        if programme_id is not None and issue.programme_id not in (None, programme_id):
            continue
        recorded = lo <= issue.created_at < hi
        rows.append(
            [
                N_("context issue recorded") if recorded else N_("context issue changed"),
                issue.number,
                issue.title[:200],
                str(issue.created_at.date() if recorded else issue.updated_at.date()),
            ]
        )
    return InputSection(
        clause="9.3.2 b",
        title=N_(
            "Changes in external and internal issues relevant to the quality management system"
        ),
        rows=[[N_("Change"), N_("What"), N_("Summary"), N_("On")], *rows],
        note=""
        if rows
        else N_(
            "No procedure took effect, no cohort started or ended and no issue of the context "
            "was recorded or changed."
        ),
    )


def satisfaction(
    session: Session, programme_id: int | None, start: date, end: date
) -> InputSection:
    """c1) satisfaction and feedback: evaluation answers per question, complaints."""
    # Named as the readers know them: the instrument's name and the question's own text.
    stmt = (
        select(
            Instrument.name,
            Question.text,
            func.count(EvaluationResponse.id),
            func.avg(EvaluationResponse.value_number),
        )
        .join(Question, Question.id == EvaluationResponse.question_id)
        .join(Instrument, Instrument.id == Question.instrument_id)
        .where(EvaluationResponse.submitted_on >= start, EvaluationResponse.submitted_on <= end)
        .group_by(Instrument.code, Question.code, Instrument.name, Question.text)
        .order_by(Instrument.code, Question.code)
    )
    if programme_id is not None:
        stmt = (
            stmt.join(Participant, Participant.id == EvaluationResponse.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(Cohort.programme_id == programme_id)
        )
    rows = [[i, q, str(n), figure(m)] for i, q, n, m in session.execute(stmt)]
    lo, hi = bounds(start, end)
    complaints = session.scalar(
        select(func.count()).select_from(
            _deviations(programme_id, lo, hi)
            .where(Deviation.source == DeviationSource.complaint)
            .subquery()
        )
    )
    rows.append(
        [N_("complaints"), N_("deviations with source complaint"), str(complaints or 0), ""]
    )
    received = select(Complaint).where(Complaint.received_on >= start, Complaint.received_on <= end)
    answered = select(Complaint).where(Complaint.answered_at >= lo, Complaint.answered_at < hi)
    if programme_id is not None:
        received = received.where(Complaint.programme_id == programme_id)
        answered = answered.where(Complaint.programme_id == programme_id)
    answers = list(session.scalars(answered))
    on_time = [c for c in answers if c.answered_at and c.answered_at.date() <= c.answer_due_on]
    upheld = [
        c for c in answers if c.outcome in (ComplaintOutcome.upheld, ComplaintOutcome.partly_upheld)
    ]
    counted = session.scalar(select(func.count()).select_from(received.subquery())) or 0
    rows.extend(
        [
            [N_("complaints"), N_("complaints received"), str(counted), ""],
            [N_("complaints"), N_("complaints answered"), str(len(answers)), ""],
            [N_("complaints"), N_("complaints answered on time"), str(len(on_time)), ""],
            [N_("complaints"), N_("complaints upheld or partly upheld"), str(len(upheld)), ""],
        ]
    )
    return InputSection(
        clause="9.3.2 c1",
        title=N_("Customer satisfaction and feedback from relevant interested parties"),
        rows=[
            [N_("Instrument"), N_("Question"), N_("Answers"), N_("Mean (scale questions)")],
            *rows,
        ],
    )


def objectives(
    session: Session, actor: Actor, programme_id: int | None, end: date, start: date | None = None
) -> InputSection:
    """c2) the extent to which quality objectives are met: each quality objective of the period
    with its status and the indicators that measure it, planned against actual; then the
    programmes' other indicators."""
    if programme_id is None and actor.programme_id is not None:
        programme_id = actor.programme_id
    codes = dict(session.execute(select(Programme.id, Programme.code)).all())
    rows: list[list[str]] = []
    measured: set[int] = set()
    for objective in quality_objectives.for_period(
        session, start=start or end, end=end, programme_id=programme_id
    ):
        read = quality_objectives.to_read(session, objective, end)
        rows.append(
            [
                f"{read.number} {read.title}",
                read.programme_code or N_("The whole organisation"),
                # An objective whose indicator is in breach, or past due and open, says so.
                "at_risk" if read.at_risk else "",
                "",
                "",
                read.status.value,
            ]
        )
        for i in read.indicators:
            measured.add(i.id)
            rows.append(
                [
                    "",
                    i.programme_code,
                    f"{i.code} {i.name}",
                    figure(i.planned),
                    figure(i.actual),
                    i.status,
                ]
            )
    stmt = select(Programme).order_by(Programme.code)
    if programme_id is not None:
        stmt = stmt.where(Programme.id == programme_id)
    for programme in session.scalars(stmt):
        table = indicators.table(session, actor=actor, programme_id=programme.id, as_of=end)
        rows.extend(
            [
                "",
                codes[programme.id],
                f"{r.code} {r.name}",
                figure(r.planned),
                figure(r.actual),
                r.status,
            ]
            for r in table.rows
            if r.id not in measured
        )
    return InputSection(
        clause="9.3.2 c2",
        title=N_("The extent to which quality objectives have been met"),
        rows=[
            [
                N_("Quality objective"),
                N_("Programme"),
                N_("Indicator"),
                N_("Planned"),
                N_("Actual"),
                N_("Status"),
            ],
            *rows,
        ],
        note="" if rows else N_("No quality objectives or indicators are defined."),
    )


def process_performance(
    session: Session, programme_id: int | None, start: date, end: date
) -> InputSection:
    """c3) process performance: follow-ups, meetings, pairs completed and unwound."""
    follow_ups = list(
        session.scalars(
            within_programme(
                select(FollowUp).join(Pair, Pair.id == FollowUp.pair_id),
                programme_id,
            ).where(FollowUp.scheduled_on >= start, FollowUp.scheduled_on <= end)
        )
    )
    held = sum(1 for f in follow_ups if f.held_on is not None)
    overdue = sum(1 for f in follow_ups if f.held_on is None and f.scheduled_on < end)
    meetings = session.scalar(
        within_programme(
            select(func.count(Meeting.id)).join(Pair, Pair.id == Meeting.pair_id),
            programme_id,
        ).where(Meeting.held_on >= start, Meeting.held_on <= end)
    )
    ended = Counter(
        session.scalars(
            within_programme(select(Pair.status), programme_id).where(
                Pair.ended_on >= start, Pair.ended_on <= end
            )
        )
    )
    rows = [
        [N_("follow-ups scheduled in the period"), str(len(follow_ups))],
        [N_("follow-ups held"), str(held)],
        [N_("follow-ups not held and past their date"), str(overdue)],
        [N_("mentor meetings recorded"), str(meetings or 0)],
        [N_("pairs completed"), str(ended.get(PairStatus.completed, 0))],
        [N_("pairs unwound"), str(ended.get(PairStatus.unwound, 0))],
    ]
    return InputSection(
        clause="9.3.2 c3",
        title=N_("Process performance and conformity of products and services"),
        rows=[[N_("Measure"), N_("Count")], *rows],
    )


def nonconformities(
    session: Session, programme_id: int | None, start: date, end: date
) -> InputSection:
    """c4) nonconformities and corrective actions."""
    lo, hi = bounds(start, end)
    found = list(
        session.scalars(
            select(Deviation).where(Deviation.id.in_(_deviations(programme_id, lo, hi)))
        )
    )
    by = Counter((d.severity.value, d.status.value) for d in found)
    rows = [
        [DEVIATIONS_BY % {"severity": s, "status": st}, str(n)] for (s, st), n in sorted(by.items())
    ]
    rows.insert(0, [N_("deviations detected in the period"), str(len(found))])
    actions = _actions(session, programme_id)
    today = end
    rows += [
        [
            N_("actions open"),
            str(
                sum(
                    1
                    for a in actions
                    if a.status in (ActionStatus.planned, ActionStatus.in_progress)
                )
            ),
        ],
        [
            N_("actions overdue"),
            str(
                sum(
                    1
                    for a in actions
                    if a.status in (ActionStatus.planned, ActionStatus.in_progress)
                    and a.due_on < today
                )
            ),
        ],
        [
            N_("actions verified effective in the period"),
            str(
                sum(
                    1
                    for a in actions
                    if a.status is ActionStatus.verified_effective
                    and a.verified_at is not None
                    and lo <= a.verified_at < hi
                )
            ),
        ],
        [
            N_("actions found ineffective in the period"),
            str(
                sum(
                    1
                    for a in actions
                    if a.status is ActionStatus.ineffective
                    and a.verified_at is not None
                    and lo <= a.verified_at < hi
                )
            ),
        ],
    ]
    return InputSection(
        clause="9.3.2 c4",
        title=N_("Nonconformities and corrective actions"),
        rows=[["", ""], *rows],
    )


def monitoring(session: Session, programme_id: int | None, start: date, end: date) -> InputSection:
    """c5) monitoring and measurement results: the rule findings of the period."""
    stmt = (
        select(RuleFinding.rule, func.count())
        .join(Deviation, Deviation.id == RuleFinding.deviation_id)
        .where(RuleFinding.found_on >= start, RuleFinding.found_on <= end)
        .group_by(RuleFinding.rule)
        .order_by(RuleFinding.rule)
    )
    if programme_id is not None:
        stmt = stmt.where(Deviation.programme_id == programme_id)
    rows = [[rule, str(n)] for rule, n in session.execute(stmt)]
    return InputSection(
        clause="9.3.2 c5",
        title=N_("Monitoring and measurement results"),
        rows=[[N_("Rule"), N_("Findings")], *rows],
        note="" if rows else N_("No rule findings in the period."),
    )


def _audits(
    session: Session, programme_id: int | None, start: date, end: date
) -> list[InternalAudit]:
    stmt = (
        select(InternalAudit)
        .where(InternalAudit.start_on >= start, InternalAudit.start_on <= end)
        .order_by(InternalAudit.start_on, InternalAudit.id)
    )
    if programme_id is not None:
        stmt = stmt.where(InternalAudit.programme_id == programme_id)
    return list(session.scalars(stmt))


def audit_results(audits: list[InternalAudit]) -> InputSection:
    """c6) audit results."""
    rows = [
        [
            a.number,
            a.title,
            a.status.value,
            str(len(a.lines)),
            str(sum(1 for line in a.lines if line.conforms is Conformity.no)),
        ]
        for a in audits
    ]
    return InputSection(
        clause="9.3.2 c6",
        title=N_("Audit results"),
        rows=[[N_("Audit"), N_("Title"), N_("Status"), N_("Lines"), N_("Non-conforming")], *rows],
        note="" if rows else N_("No internal audit started in the period."),
    )


def resources(session: Session, programme_id: int | None, end: date) -> InputSection:
    """d) adequacy of resources: live pairs against coordinators."""
    live = session.scalar(
        within_programme(select(func.count(Pair.id)), programme_id).where(
            Pair.status.in_([PairStatus.matched, PairStatus.active])
        )
    )
    coordinators = session.scalar(
        select(func.count(User.id)).where(User.role == Role.coordinator, User.is_active.is_(True))
    )
    per = (live or 0) / coordinators if coordinators else None
    return InputSection(
        clause="9.3.2 d",
        title=N_("The adequacy of resources"),
        rows=[
            ["", ""],
            [LIVE_PAIRS_ON % {"day": end}, str(live or 0)],
            [N_("active coordinators"), str(coordinators or 0)],
            [N_("live pairs per coordinator"), figure(per)],
        ],
    )


def risk_actions(
    session: Session, programme_id: int | None, start: date, end: date
) -> InputSection:
    """e) effectiveness of actions taken to address risks and opportunities: compiled from the
    register, each risk or opportunity kept in the period with its level before and after its
    treatment, the actions that treat it, and those verified effective in the period."""
    lo, hi = bounds(start, end)
    kept = (
        select(Risk)
        .where(Risk.created_at < hi, or_(Risk.closed_at.is_(None), Risk.closed_at >= lo))
        .order_by(Risk.id)
    )
    if programme_id is not None:
        kept = kept.where(or_(Risk.programme_id.is_(None), Risk.programme_id == programme_id))
    rows = []
    for risk in session.scalars(kept):
        after = risks.residual_score(risk)
        verified = [
            a.number
            for a in risk.actions
            if a.status is ActionStatus.verified_effective
            and a.verified_at is not None
            and lo <= a.verified_at < hi
        ]
        rows.append(
            [
                risk.number,
                risk.kind.value,
                risk.title,
                risk.status.value,
                risks.level(risk.likelihood * risk.consequence).value,
                risk.treatment.value if risk.treatment else "",
                risks.level(after).value if after is not None else "",
                ", ".join(a.number for a in risk.actions),
                ", ".join(verified),
            ]
        )
    return InputSection(
        clause="9.3.2 e",
        title=N_("The effectiveness of actions taken to address risks and opportunities"),
        rows=[
            [
                N_("Number"),
                N_("Kind"),
                N_("Title"),
                N_("Status"),
                N_("Level"),
                N_("Treatment"),
                N_("Level after treatment"),
                N_("Actions"),
                N_("Verified effective in the period"),
            ],
            *rows,
        ],
        note="" if rows else N_("No risk or opportunity was kept in the register in the period."),
    )


def provider_performance(
    session: Session, programme_id: int | None, start: date, end: date
) -> InputSection:
    """c7) the performance of external providers: their evaluations in the period with the
    score and decision, the deviations raised against them, and the next evaluation date."""
    lo, hi = bounds(start, end)
    kept = select(Provider).order_by(Provider.code)
    if programme_id is not None:
        kept = kept.where(
            or_(Provider.programme_id.is_(None), Provider.programme_id == programme_id)
        )
    rows = []
    for provider in session.scalars(kept):
        raised = session.scalar(
            select(func.count()).where(
                Deviation.id.in_(_deviations(programme_id, lo, hi)),
                Deviation.provider_id == provider.id,
            )
        )
        evaluated = [e for e in provider.evaluations if start <= e.evaluated_on <= end]
        name = f"{provider.code} {provider.name}"
        next_on = provider.next_evaluation_on.isoformat() if provider.next_evaluation_on else ""
        for e in reversed(evaluated):
            rows.append(
                [
                    name,
                    e.evaluated_on.isoformat(),
                    f"{e.score}/5",
                    e.decision.value,
                    str(raised),
                    next_on,
                ]
            )
        if not evaluated and raised:
            rows.append([name, "", "", "", str(raised), next_on])
    return InputSection(
        clause="9.3.2 c7",
        title=N_("The performance of external providers"),
        rows=[
            [
                N_("External provider"),
                N_("Evaluated on"),
                N_("Score"),
                N_("Decision"),
                N_("Deviations raised"),
                N_("Next evaluation"),
            ],
            *rows,
        ],
        note=""
        if rows
        else N_("No external provider was evaluated or raised a deviation in the period."),
    )


def opportunities(
    session: Session, programme_id: int | None, start: date, end: date, audits: list[InternalAudit]
) -> InputSection:
    """f) opportunities for improvement: audits' points to improve, observations."""
    rows = [[a.number, a.improvement_points] for a in audits if a.improvement_points.strip()]
    lo, hi = bounds(start, end)
    rows += [
        [d.number, d.title]
        for d in session.scalars(
            select(Deviation)
            .where(
                Deviation.id.in_(_deviations(programme_id, lo, hi)),
                Deviation.kind == DeviationKind.observation,
            )
            .order_by(Deviation.id)
        )
    ]
    return InputSection(
        clause="9.3.2 f",
        title=N_("Opportunities for improvement"),
        rows=[[N_("From"), N_("Opportunity")], *rows],
        note="" if rows else N_("None recorded in the period."),
    )


def compile_inputs(
    session: Session,
    *,
    actor: Actor,
    programme_id: int | None,
    period_start: date,
    period_end: date,
    review_id: int | None = None,
) -> ReviewInputs:
    """Compile the 9.3.2 inputs for the period from the records."""
    audits = _audits(session, programme_id, period_start, period_end)
    sections = [
        previous_actions(session, programme_id, period_end, review_id),
        changes(session, programme_id, period_start, period_end),
        satisfaction(session, programme_id, period_start, period_end),
        objectives(session, actor, programme_id, period_end, period_start),
        process_performance(session, programme_id, period_start, period_end),
        nonconformities(session, programme_id, period_start, period_end),
        monitoring(session, programme_id, period_start, period_end),
        audit_results(audits),
        provider_performance(session, programme_id, period_start, period_end),
        resources(session, programme_id, period_end),
        risk_actions(session, programme_id, period_start, period_end),
        opportunities(session, programme_id, period_start, period_end, audits),
    ]
    return ReviewInputs(
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
        sections=sections,
    )
