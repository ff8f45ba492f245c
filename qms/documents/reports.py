"""Reports over many records: the CAPA status report and a cohort's follow-up report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import ActionStatus, CorrectiveAction
from qms.actions.repository import ActionFilter
from qms.audits.models import ManagementReview, ReviewDecision
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
from qms.i18n import label, translate
from qms.indicators import service as indicators
from qms.participants.models import Participant
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
            i.decision or (label("deviation", language) if i.deviation_id else ""),
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
            translate("Goal progress", language),
            translate("Relationship", language),
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


def quality_report(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int
) -> Draft:
    """The programme quality report: indicators planned against actual, outcomes, evaluation
    answers per question, and the deviations and actions of the programme."""
    programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    table, figures = indicators.table_with_figures(
        session, actor=actor, programme_id=programme.id, as_of=as_of.date()
    )
    indicator_rows = [
        [
            r.code,
            r.name,
            number(r.planned, language),
            number(r.actual, language),
            f.detail_in(language),
            label(r.status, language),
        ]
        for r, f in zip(table.rows, figures, strict=True)
    ]
    outcome_rows = [
        [label(kind, language), number(count, language)]
        for kind, count in session.execute(
            select(Outcome.outcome, func.count())
            .join(Participant, Participant.id == Outcome.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(Cohort.programme_id == programme.id, Outcome.outcome_on <= as_of.date())
            .group_by(Outcome.outcome)
            .order_by(Outcome.outcome)
        )
    ]
    answer_rows = [
        [instrument, code, number(count, language), number(mean, language)]
        for instrument, code, count, mean in session.execute(
            select(
                Instrument.code,
                Question.code,
                func.count(EvaluationResponse.id),
                func.avg(EvaluationResponse.value_number),
            )
            .join(Question, Question.id == EvaluationResponse.question_id)
            .join(Instrument, Instrument.id == Question.instrument_id)
            .join(Participant, Participant.id == EvaluationResponse.participant_id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(
                Cohort.programme_id == programme.id, EvaluationResponse.submitted_on <= as_of.date()
            )
            .group_by(Instrument.code, Question.code)
            .order_by(Instrument.code, Question.code)
        )
    ]
    deviation_rows = [
        [
            d.number,
            label(d.severity, language),
            label(d.status, language),
            d.title,
            ", ".join(f"{a.number} ({label(a.status, language)})" for a in d.actions),
        ]
        for d in session.scalars(
            select(Deviation).where(Deviation.programme_id == programme.id).order_by(Deviation.id)
        )
    ]
    data = {
        "indicators": indicator_rows,
        "outcomes": outcome_rows,
        "answers": answer_rows,
        "deviations": deviation_rows,
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
    doc.heading(translate("Indicators, planned against actual", language))
    doc.table(
        [
            translate("Code", language),
            translate("Indicator", language),
            translate("Planned", language),
            translate("Actual", language),
            translate("From", language),
            translate("Status", language),
        ],
        indicator_rows,
    )
    doc.heading(translate("Outcomes", language))
    doc.table([translate("Outcome", language), translate("Participants", language)], outcome_rows)
    doc.heading(translate("Evaluation answers", language))
    doc.table(
        [
            translate("Instrument", language),
            translate("Question", language),
            translate("Answers", language),
            translate("Mean (scale questions)", language),
        ],
        answer_rows,
    )
    doc.heading(translate("Deviations and corrective actions", language))
    doc.table(
        [
            translate("Deviation", language),
            translate("Severity", language),
            translate("Status", language),
            translate("Title", language),
            translate("Actions", language),
        ],
        deviation_rows,
    )
    return Draft(
        "quality-report", title, issue.code, doc.to_bytes(), issue.data_sha256, programme.id
    )
