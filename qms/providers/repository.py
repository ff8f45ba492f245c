"""Queries over external providers and their evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qms.deviations.models import Deviation
from qms.pagination import Page, paginate
from qms.providers.models import Provider, ProviderEvaluation, ProviderKind, ProviderStatus


@dataclass(frozen=True)
class ProviderFilter:
    """What a list of providers is narrowed to."""

    kind: ProviderKind | None = None
    status: ProviderStatus | None = None
    programme_id: int | None = None
    due_by: date | None = None


def list_providers(
    session: Session,
    f: ProviderFilter,
    *,
    scope: int | None,
    limit: int,
    cursor: str | None,
) -> Page[Provider]:
    """List providers in creation order, within the scope, filtered."""
    stmt = select(Provider)
    if scope is not None:
        stmt = stmt.where(or_(Provider.programme_id.is_(None), Provider.programme_id == scope))
    if f.kind is not None:
        stmt = stmt.where(Provider.kind == f.kind)
    if f.status is not None:
        stmt = stmt.where(Provider.status == f.status)
    if f.programme_id is not None:
        stmt = stmt.where(Provider.programme_id == f.programme_id)
    if f.due_by is not None:
        stmt = stmt.where(
            Provider.next_evaluation_on <= f.due_by,
            Provider.status.not_in([ProviderStatus.ended]),
        )
    return paginate(session, stmt, key=Provider.id, limit=limit, cursor=cursor)


def get_by_code(session: Session, code: str) -> Provider | None:
    """Return the provider with this code, if any."""
    return session.scalars(select(Provider).where(Provider.code == code)).one_or_none()


def every(session: Session, *, scope: int | None) -> Sequence[Provider]:
    """Return every provider within the scope, by code."""
    stmt = select(Provider).order_by(Provider.code)
    if scope is not None:
        stmt = stmt.where(or_(Provider.programme_id.is_(None), Provider.programme_id == scope))
    return session.scalars(stmt).all()


def due(session: Session, *, by: date, scope: int | None) -> Sequence[Provider]:
    """Return the providers still in use whose next evaluation falls on or before the day."""
    stmt = (
        select(Provider)
        .where(
            Provider.next_evaluation_on.is_not(None),
            Provider.next_evaluation_on <= by,
            Provider.status != ProviderStatus.ended,
        )
        .order_by(Provider.next_evaluation_on, Provider.code)
    )
    if scope is not None:
        stmt = stmt.where(or_(Provider.programme_id.is_(None), Provider.programme_id == scope))
    return session.scalars(stmt).all()


def evaluations(session: Session, provider_id: int) -> Sequence[ProviderEvaluation]:
    """Return a provider's evaluations, newest first."""
    return session.scalars(
        select(ProviderEvaluation)
        .where(ProviderEvaluation.provider_id == provider_id)
        .order_by(ProviderEvaluation.evaluated_on.desc(), ProviderEvaluation.id.desc())
    ).all()


def evaluations_between(
    session: Session, start: date, end: date, *, scope: int | None
) -> Sequence[ProviderEvaluation]:
    """Return the evaluations made in a period, oldest first, within the scope."""
    stmt = (
        select(ProviderEvaluation)
        .join(Provider)
        .where(ProviderEvaluation.evaluated_on >= start, ProviderEvaluation.evaluated_on <= end)
        .order_by(ProviderEvaluation.evaluated_on, ProviderEvaluation.id)
    )
    if scope is not None:
        stmt = stmt.where(or_(Provider.programme_id.is_(None), Provider.programme_id == scope))
    return session.scalars(stmt).all()


def deviations(session: Session, provider_id: int, *, scope: int | None) -> Sequence[Deviation]:
    """Return the deviations raised against a provider, newest first, within the scope."""
    stmt = (
        select(Deviation)
        .where(Deviation.provider_id == provider_id)
        .order_by(Deviation.detected_at.desc(), Deviation.id.desc())
    )
    if scope is not None:
        stmt = stmt.where(Deviation.programme_id == scope)
    return session.scalars(stmt).all()
