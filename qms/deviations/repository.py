"""Queries over deviations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from qms.deviations.models import (
    Deviation,
    DeviationKind,
    DeviationSource,
    DeviationStatus,
    Severity,
)
from qms.pagination import Page, ordering, paginate
from qms.procedures.models import ProcedureVersion


@dataclass(frozen=True)
class DeviationFilter:
    """What a deviation list is narrowed to."""

    status: DeviationStatus | None = None
    severity: Severity | None = None
    kind: DeviationKind | None = None
    source: DeviationSource | None = None
    programme_id: int | None = None
    cohort_id: int | None = None
    pair_id: int | None = None
    procedure_id: int | None = None
    detected_from: date | None = None
    detected_to: date | None = None
    q: str | None = None
    overdue: bool | None = None
    # True: not closed (whatever the state); False: closed.
    open: bool | None = None
    # A column of SORTS ("-due": the other way round); by default newest first.
    sort: str | None = None


# The columns a deviation list sorts by: severities from minor up, states in workflow order.
SORTS: dict[str, Any] = {
    "number": Deviation.id,
    "title": Deviation.title,
    "severity": case({s.value: i for i, s in enumerate(Severity)}, value=Deviation.severity),
    "status": case({s.value: i for i, s in enumerate(DeviationStatus)}, value=Deviation.status),
    "detected": Deviation.detected_at,
    "due": Deviation.due_on,
}


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching the text anywhere, with its wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(
    stmt: Select[Any], f: DeviationFilter, *, scope: int | None, today: date
) -> Select[Any]:
    if scope is not None:
        stmt = stmt.where(Deviation.programme_id == scope)
    if f.status is not None:
        stmt = stmt.where(Deviation.status == f.status)
    if f.severity is not None:
        stmt = stmt.where(Deviation.severity == f.severity)
    if f.kind is not None:
        stmt = stmt.where(Deviation.kind == f.kind)
    if f.source is not None:
        stmt = stmt.where(Deviation.source == f.source)
    if f.programme_id is not None:
        stmt = stmt.where(Deviation.programme_id == f.programme_id)
    if f.cohort_id is not None:
        stmt = stmt.where(Deviation.cohort_id == f.cohort_id)
    if f.pair_id is not None:
        stmt = stmt.where(Deviation.pair_id == f.pair_id)
    if f.procedure_id is not None:
        stmt = stmt.where(
            Deviation.procedure_version_id.in_(
                select(ProcedureVersion.id).where(ProcedureVersion.procedure_id == f.procedure_id)
            )
        )
    if f.detected_from is not None:
        stmt = stmt.where(Deviation.detected_at >= datetime.combine(f.detected_from, time(), UTC))
    if f.detected_to is not None:
        end = datetime.combine(f.detected_to + timedelta(days=1), time(), UTC)
        stmt = stmt.where(Deviation.detected_at < end)
    if f.q:
        pattern = like_pattern(f.q)
        stmt = stmt.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        Deviation.number,
                        Deviation.title,
                        Deviation.description,
                        Deviation.immediate_containment,
                        Deviation.root_cause,
                        Deviation.closure_summary,
                    )
                )
            )
        )
    if f.open is not None:
        stmt = stmt.where(
            Deviation.status != DeviationStatus.closed
            if f.open
            else Deviation.status == DeviationStatus.closed
        )
    if f.overdue is True:
        stmt = stmt.where(Deviation.due_on < today, Deviation.status != DeviationStatus.closed)
    elif f.overdue is False:
        stmt = stmt.where(
            or_(Deviation.due_on >= today, Deviation.status == DeviationStatus.closed)
        )
    return stmt


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
        select(Deviation).options(selectinload(Deviation.actions)), f, scope=scope, today=today
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
