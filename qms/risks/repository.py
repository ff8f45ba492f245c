"""Queries over risks and opportunities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session, selectinload

from qms.deviations.models import Deviation
from qms.pagination import Page, ordering, paginate
from qms.risks.enums import RiskKind, RiskLevel, RiskStatus
from qms.risks.models import Risk

OPEN_STATUSES = (RiskStatus.open, RiskStatus.treated)


@dataclass(frozen=True)
class RiskFilter:
    """What a risk list is narrowed to."""

    kind: RiskKind | None = None
    status: RiskStatus | None = None
    level: RiskLevel | None = None
    programme_id: int | None = None
    # True: the organisation's own (no programme); False: the programmes'.
    organisation: bool | None = None
    owner_id: int | None = None
    review_due_by: date | None = None
    sort: str | None = None


SORTS: dict[str, Any] = {
    "number": Risk.id,
    "title": Risk.title,
    "kind": Risk.kind,
    "status": case({s.value: i for i, s in enumerate(RiskStatus)}, value=Risk.status),
    "score": Risk.likelihood * Risk.consequence,
    "review": Risk.review_on,
}


def filtered(
    stmt: Select[Any], f: RiskFilter, *, scope: int | None, medium_from: int, high_from: int
) -> Select[Any]:
    """Narrow a statement over risks by the filter and the reader's programme."""
    if scope is not None:
        stmt = stmt.where(Risk.programme_id == scope)
    if f.programme_id is not None:
        stmt = stmt.where(Risk.programme_id == f.programme_id)
    if f.organisation is True:
        stmt = stmt.where(Risk.programme_id.is_(None))
    elif f.organisation is False:
        stmt = stmt.where(Risk.programme_id.is_not(None))
    if f.kind is not None:
        stmt = stmt.where(Risk.kind == f.kind)
    if f.status is not None:
        stmt = stmt.where(Risk.status == f.status)
    if f.owner_id is not None:
        stmt = stmt.where(Risk.owner_id == f.owner_id)
    if f.review_due_by is not None:
        stmt = stmt.where(Risk.review_on <= f.review_due_by, Risk.status.in_(OPEN_STATUSES))
    if f.level is not None:
        score = Risk.likelihood * Risk.consequence
        if f.level is RiskLevel.low:
            stmt = stmt.where(score < medium_from)
        elif f.level is RiskLevel.medium:
            stmt = stmt.where(score >= medium_from, score < high_from)
        else:
            stmt = stmt.where(score >= high_from)
    return stmt


def list_risks(
    session: Session,
    f: RiskFilter,
    *,
    scope: int | None,
    medium_from: int,
    high_from: int,
    limit: int,
    cursor: str | None,
) -> Page[Risk]:
    """List risks, newest first, filtered."""
    stmt = filtered(
        select(Risk).options(selectinload(Risk.actions), selectinload(Risk.owner)),
        f,
        scope=scope,
        medium_from=medium_from,
        high_from=high_from,
    )
    return paginate(
        session,
        stmt,
        key=Risk.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(f.sort, SORTS),
    )


def every(
    session: Session, f: RiskFilter, *, scope: int | None, medium_from: int, high_from: int
) -> Sequence[Risk]:
    """Return every risk the filter keeps, by number."""
    stmt = filtered(
        select(Risk).options(selectinload(Risk.actions), selectinload(Risk.owner)),
        f,
        scope=scope,
        medium_from=medium_from,
        high_from=high_from,
    )
    return session.scalars(stmt.order_by(Risk.id)).all()


def get_by_number(session: Session, number: str) -> Risk | None:
    """Return the risk with this number, if any."""
    return session.scalars(select(Risk).where(Risk.number == number)).one_or_none()


def realised_in(session: Session, risk_id: int) -> Sequence[Deviation]:
    """Return the deviations that name the risk as the one they realised."""
    return session.scalars(
        select(Deviation).where(Deviation.risk_id == risk_id).order_by(Deviation.id)
    ).all()
