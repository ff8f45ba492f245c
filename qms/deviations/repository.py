"""Queries over deviations."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from qms.deviations.listing import DeviationFilter as DeviationFilter
from qms.deviations.listing import filtered, sorts
from qms.deviations.listing import like_pattern as like_pattern
from qms.deviations.models import Deviation
from qms.pagination import Page, ordering, paginate

# The filters and sorts are shared with the command line's list, read without the ORM.
SORTS: dict[str, Any] = sorts(Deviation)


def _filtered(
    stmt: Select[Any], f: DeviationFilter, *, scope: int | None, today: date
) -> Select[Any]:
    return filtered(stmt, f, Deviation, scope=scope, today=today)


def list_deviations(
    session: Session,
    f: DeviationFilter,
    *,
    scope: int | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> Page[Deviation]:
    """List deviations, newest first, filtered."""
    stmt = _filtered(
        select(Deviation).options(selectinload(Deviation.actions), selectinload(Deviation.owner)),
        f,
        scope=scope,
        today=today,
    )
    return paginate(
        session,
        stmt,
        key=Deviation.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(f.sort, SORTS),
    )


def get_by_number(session: Session, number: str) -> Deviation | None:
    """Return the deviation with this number, if any."""
    return session.scalars(select(Deviation).where(Deviation.number == number)).one_or_none()
