"""Reports over many records: the CAPA status report and a cohort's follow-up report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import ActionStatus, CorrectiveAction
from qms.actions.repository import ActionFilter
from qms.config import get_settings
from qms.deviations.models import Deviation
from qms.documents.base import Draft, data_hash, day, figure, title_in
from qms.documents.style import HouseDocument, Issue
from qms.evaluations.models import EvaluationResponse, Instrument, Outcome, Question
from qms.followups import service as followups
from qms.indicators import service as indicators
from qms.participants.models import Participant
from qms.permissions import Actor
from qms.programmes import service as programmes
from qms.programmes.models import Cohort


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
    table = [
        [
            a.number,
            a.type.value,
            a.status.value,
            a.title,
            a.owner.name,
            day(a.due_on),
            "yes" if actions.is_overdue(a) else "",
            a.verified_by or "",
            ", ".join(d.number for d in a.deviations),
        ]
        for a in rows
    ]
    counts = {
        "open": sum(
            1 for a in rows if a.status in (ActionStatus.planned, ActionStatus.in_progress)
        ),
        "overdue": sum(1 for a in rows if actions.is_overdue(a)),
        "verified effective": sum(1 for a in rows if a.status is ActionStatus.verified_effective),
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
    doc.table(["", ""], [[k, str(v)] for k, v in counts.items()], header=False)
    doc.table(
        [
            "Action",
            "Type",
            "Status",
            "Title",
            "Owner",
            "Due",
            "Overdue",
            "Verified by",
            "Deviations",
        ],
        table,
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
            day(i.scheduled_on),
            i.state,
            day(i.held_on),
            i.outcome.value if i.outcome else "",
            "" if i.goal_progress is None else str(i.goal_progress),
            "" if i.relationship is None else str(i.relationship),
            i.decision or ("deviation" if i.deviation_id else ""),
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
    doc.paragraph(f"Held {board.held}, due {board.due}, overdue {board.overdue}.")
    doc.table(
        [
            "Pair",
            "Mentor",
            "Mentee",
            "Scheduled",
            "State",
            "Held",
            "Outcome",
            "Goal progress",
            "Relationship",
            "What was done",
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
    table = indicators.table(session, actor=actor, programme_id=programme.id, as_of=as_of.date())
    indicator_rows = [
        [r.code, r.name, figure(r.planned), figure(r.actual), r.detail, r.status]
        for r in table.rows
    ]
    outcome_rows = [
        [kind.value, str(count)]
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
        [instrument, code, str(count), figure(mean)]
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
            d.severity.value,
            d.status.value,
            d.title,
            ", ".join(f"{a.number} ({a.status.value})" for a in d.actions),
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
    title = f"{title_in('Programme quality report', language)} {programme.code}"
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
    doc.heading("Indicators, planned against actual")
    doc.table(["Code", "Indicator", "Planned", "Actual", "From", "Status"], indicator_rows)
    doc.heading("Outcomes")
    doc.table(["Outcome", "Participants"], outcome_rows)
    doc.heading("Evaluation answers")
    doc.table(["Instrument", "Question", "Answers", "Mean (scale questions)"], answer_rows)
    doc.heading("Deviations and corrective actions")
    doc.table(["Deviation", "Severity", "Status", "Title", "Actions"], deviation_rows)
    return Draft(
        "quality-report", title, issue.code, doc.to_bytes(), issue.data_sha256, programme.id
    )
