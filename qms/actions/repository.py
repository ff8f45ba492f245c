"""Queries over corrective actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, or_, select, union
from sqlalchemy.orm import Session, selectinload

from qms.actions.models import ActionStatus, ActionType, CorrectiveAction
from qms.deviations.models import Deviation, deviation_action
from qms.pagination import Page, ordering, paginate
from qms.risks.models import Risk, risk_action

OPEN_STATUSES = (ActionStatus.planned, ActionStatus.in_progress)


@dataclass(frozen=True)
class ActionFilter:
    """What an action list is narrowed to."""

    status: ActionStatus | None = None
    type: ActionType | None = None
    owner_id: int | None = None
    deviation_id: int | None = None
    programme_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    # A column of SORTS ("-due": the other way round); by default newest first.
    sort: str | None = None


# The columns an action list sorts by: states in workflow order.
SORTS: dict[str, Any] = {
    "number": CorrectiveAction.id,
    "title": CorrectiveAction.title,
    "type": CorrectiveAction.type,
    "status": case({s.value: i for i, s in enumerate(ActionStatus)}, value=CorrectiveAction.status),
    "due": CorrectiveAction.due_on,
}


def _in_programme(programme_id: int) -> Any:
    # An action is of a programme through its deviations or the risks it treats.
    return union(
        select(deviation_action.c.action_id)
        .join(Deviation, Deviation.id == deviation_action.c.deviation_id)
        .where(Deviation.programme_id == programme_id),
        select(risk_action.c.action_id)
        .join(Risk, Risk.id == risk_action.c.risk_id)
        .where(Risk.programme_id == programme_id),
    )


def list_actions(
    session: Session,
    f: ActionFilter,
    *,
    scope: int | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> Page[CorrectiveAction]:
    """List actions, newest first, filtered."""
    stmt = select(CorrectiveAction).options(
        selectinload(CorrectiveAction.deviations),
        selectinload(CorrectiveAction.risks),
        selectinload(CorrectiveAction.owner),
    )
    if scope is not None:
        stmt = stmt.where(CorrectiveAction.id.in_(_in_programme(scope)))
    if f.programme_id is not None:
        stmt = stmt.where(CorrectiveAction.id.in_(_in_programme(f.programme_id)))
    if f.deviation_id is not None:
        stmt = stmt.where(
            CorrectiveAction.id.in_(
                select(deviation_action.c.action_id).where(
                    deviation_action.c.deviation_id == f.deviation_id
                )
            )
        )
    if f.status is not None:
        stmt = stmt.where(CorrectiveAction.status == f.status)
    if f.type is not None:
        stmt = stmt.where(CorrectiveAction.type == f.type)
    if f.owner_id is not None:
        stmt = stmt.where(CorrectiveAction.owner_id == f.owner_id)
    if f.due_from is not None:
        stmt = stmt.where(CorrectiveAction.due_on >= f.due_from)
    if f.due_to is not None:
        stmt = stmt.where(CorrectiveAction.due_on <= f.due_to)
    if f.overdue is True:
        stmt = stmt.where(
            CorrectiveAction.due_on < today, CorrectiveAction.status.in_(OPEN_STATUSES)
        )
    elif f.overdue is False:
        stmt = stmt.where(
            or_(CorrectiveAction.due_on >= today, CorrectiveAction.status.not_in(OPEN_STATUSES))
        )
    return paginate(
        session,
        stmt,
        key=CorrectiveAction.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(f.sort, SORTS),
    )


def follow_ons(session: Session, action_id: int) -> Sequence[CorrectiveAction]:
    """List the actions that took over from this one."""
    return session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.follows_action_id == action_id)
        .order_by(CorrectiveAction.id)
    ).all()


def get_by_number(session: Session, number: str) -> CorrectiveAction | None:
    """Return the corrective action with this number, if any."""
    return session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.number == number)
    ).one_or_none()
