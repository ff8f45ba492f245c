"""Queries over quality objectives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, selectinload

from qms.objectives.models import ObjectiveStatus, QualityObjective
from qms.pagination import Page, ordering, paginate

OPEN_STATUSES = (ObjectiveStatus.planned, ObjectiveStatus.in_progress)


@dataclass(frozen=True)
class ObjectiveFilter:
    """What an objective list is narrowed to."""

    status: ObjectiveStatus | None = None
    programme_id: int | None = None
    # True: only the organisation's objectives (those of no one programme).
    organisation: bool | None = None
    owner_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    sort: str | None = None


SORTS: dict[str, Any] = {
    "number": QualityObjective.id,
    "title": QualityObjective.title,
    "status": case(
        {s.value: i for i, s in enumerate(ObjectiveStatus)}, value=QualityObjective.status
    ),
    "due": QualityObjective.due_on,
}


def list_objectives(
    session: Session,
    f: ObjectiveFilter,
    *,
    scope: int | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> Page[QualityObjective]:
    """List objectives, newest first, filtered."""
    stmt = select(QualityObjective).options(
        selectinload(QualityObjective.owner), selectinload(QualityObjective.indicators)
    )
    if scope is not None:
        stmt = stmt.where(QualityObjective.programme_id == scope)
    if f.programme_id is not None:
        stmt = stmt.where(QualityObjective.programme_id == f.programme_id)
    if f.organisation is True:
        stmt = stmt.where(QualityObjective.programme_id.is_(None))
    elif f.organisation is False:
        stmt = stmt.where(QualityObjective.programme_id.is_not(None))
    if f.status is not None:
        stmt = stmt.where(QualityObjective.status == f.status)
    if f.owner_id is not None:
        stmt = stmt.where(QualityObjective.owner_id == f.owner_id)
    if f.due_from is not None:
        stmt = stmt.where(QualityObjective.due_on >= f.due_from)
    if f.due_to is not None:
        stmt = stmt.where(QualityObjective.due_on <= f.due_to)
    if f.overdue is True:
        stmt = stmt.where(
            QualityObjective.due_on < today, QualityObjective.status.in_(OPEN_STATUSES)
        )
    elif f.overdue is False:
        stmt = stmt.where(
            or_(QualityObjective.due_on >= today, QualityObjective.status.not_in(OPEN_STATUSES))
        )
    return paginate(
        session,
        stmt,
        key=QualityObjective.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(f.sort, SORTS),
    )


def for_period(
    session: Session, *, start: date, end: date, programme_id: int | None
) -> list[QualityObjective]:
    """List the objectives that were open in a period or fell due in it, by number.

    With a programme: its own objectives and the organisation's."""
    stmt = (
        select(QualityObjective)
        .options(selectinload(QualityObjective.owner), selectinload(QualityObjective.indicators))
        .where(QualityObjective.due_on >= start)
        .order_by(QualityObjective.id)
    )
    if programme_id is not None:
        stmt = stmt.where(
            or_(
                QualityObjective.programme_id == programme_id,
                QualityObjective.programme_id.is_(None),
            )
        )
    return [o for o in session.scalars(stmt) if o.created_at.date() <= end]


def owned_by(session: Session, *, owner_id: int, due_by: date) -> list[QualityObjective]:
    """List the open objectives a user owns that fall due on or before the date."""
    return list(
        session.scalars(
            select(QualityObjective)
            .where(
                QualityObjective.owner_id == owner_id,
                QualityObjective.status.in_(OPEN_STATUSES),
                QualityObjective.due_on <= due_by,
            )
            .order_by(QualityObjective.due_on, QualityObjective.id)
        )
    )


def get_by_number(session: Session, number: str) -> QualityObjective | None:
    """Return the objective with this number, if any."""
    return session.scalars(
        select(QualityObjective).where(QualityObjective.number == number)
    ).one_or_none()
