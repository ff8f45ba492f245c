"""What needs attention now: the figures on the front page of the web front.

Each part is read only if the reader's role may read that kind of record, and within the
programme their access is limited to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import CorrectiveAction
from qms.actions.repository import ActionFilter
from qms.deviations.models import Deviation, DeviationStatus, Severity
from qms.followups import service as followups
from qms.followups.models import FollowUp
from qms.followups.schemas import FollowUpRead
from qms.indicators import service as indicators
from qms.indicators.schemas import IndicatorRow
from qms.pairs.models import Pair, PairStatus
from qms.pairs.rules import pair_months
from qms.pairs.service import LIVE, within_programme
from qms.permissions import Action, Actor
from qms.procedures import service as procedures
from qms.procedures.schemas import ProcedureRead
from qms.programmes import service as programmes
from qms.programmes.models import ProgrammeStatus


@dataclass(frozen=True)
class Breach:
    """An indicator past its threshold, in one programme."""

    programme_id: int
    programme_code: str
    row: IndicatorRow


@dataclass(frozen=True)
class Shortfall:
    """A live pair that met less than its programme's meeting rule in the last complete month."""

    pair_id: int
    pair_code: str
    month: str
    short: tuple[str, ...]


@dataclass
class Overview:
    """The front page: open deviations by severity, overdue actions, follow-ups due this month,
    procedures due for review, indicator breaches, pairs short of the meeting rule last month
    (None where the reader may not read them)."""

    on: date
    open_by_severity: dict[str, int] | None = None
    overdue_actions: Sequence[CorrectiveAction] | None = None
    follow_ups_due: list[FollowUpRead] | None = None
    procedures_due: list[ProcedureRead] | None = None
    breaches: list[Breach] | None = field(default=None)
    meeting_shortfalls: list[Shortfall] | None = None


def end_of_month(on: date) -> date:
    """Return the last day of the month a day falls in."""
    following = (on.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def overview(session: Session, *, actor: Actor, on: date) -> Overview:
    """Read what needs attention as of a day."""
    result = Overview(on=on)
    if actor.can(Action.deviation_read):
        stmt = (
            select(Deviation.severity, func.count())
            .where(Deviation.status != DeviationStatus.closed)
            .group_by(Deviation.severity)
        )
        if actor.programme_id is not None:
            stmt = stmt.where(Deviation.programme_id == actor.programme_id)
        counts = {str(s): n for s, n in session.execute(stmt).all()}
        result.open_by_severity = {s.value: counts.get(s.value, 0) for s in Severity}
    if actor.can(Action.action_read):
        result.overdue_actions = actions.list_actions(
            session, actor=actor, filters=ActionFilter(overdue=True), limit=50
        ).items
    if actor.can(Action.followup_read):
        due = within_programme(
            select(FollowUp)
            .join(Pair, Pair.id == FollowUp.pair_id)
            .where(
                FollowUp.held_on.is_(None),
                FollowUp.scheduled_on <= end_of_month(on),
                Pair.status.in_(LIVE),
            )
            .order_by(FollowUp.scheduled_on, FollowUp.id),
            actor.programme_id,
        )
        result.follow_ups_due = [followups.to_read(f) for f in session.scalars(due)]
    if actor.can(Action.procedure_read):
        result.procedures_due = [
            procedures.to_read(p)
            for p in procedures.list_procedures(session, actor=actor, review_due=True)
        ]
    if actor.can(Action.indicator_read):
        result.breaches = []
        running = programmes.list_programmes(
            session, actor=actor, status=ProgrammeStatus.running, limit=200
        ).items
        for programme in running:
            table = indicators.table(session, actor=actor, programme_id=programme.id, as_of=on)
            result.breaches += [
                Breach(programme.id, programme.code, row)
                for row in table.rows
                if row.status == "breach"
            ]
    if actor.can(Action.pair_read):
        last_month = (on.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        active = session.scalars(
            within_programme(
                select(Pair).where(Pair.status == PairStatus.active).order_by(Pair.id),
                actor.programme_id,
            )
        ).all()
        result.meeting_shortfalls = [
            Shortfall(month.pair.id, month.pair.code, month.month, month.short)
            for month in pair_months(session, list(active), on)
            if month.month == last_month and month.short
        ]
    return result
