"""Queries over programmes and cohorts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.pagination import Page, paginate
from qms.programmes.models import Cohort, Programme, ProgrammeStatus


def get_by_code(session: Session, code: str) -> Programme | None:
    """Return the programme with this code, if any."""
    return session.scalars(select(Programme).where(Programme.code == code)).one_or_none()


def list_programmes(
    session: Session,
    *,
    scope: int | None,
    status: ProgrammeStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Programme]:
    """List programmes in creation order, within the scope."""
    stmt = select(Programme)
    if scope is not None:
        stmt = stmt.where(Programme.id == scope)
    if status is not None:
        stmt = stmt.where(Programme.status == status)
    return paginate(session, stmt, key=Programme.id, limit=limit, cursor=cursor)


def get_cohort_by_code(session: Session, programme_id: int, code: str) -> Cohort | None:
    """Return the programme's cohort with this code, if any."""
    return session.scalars(
        select(Cohort).where(Cohort.programme_id == programme_id, Cohort.code == code)
    ).one_or_none()


def list_cohorts(session: Session, *, programme_id: int) -> Sequence[Cohort]:
    """List a programme's cohorts by start date."""
    return session.scalars(
        select(Cohort)
        .where(Cohort.programme_id == programme_id)
        .order_by(Cohort.start_on, Cohort.id)
    ).all()
