"""Queries over the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.models import AuditEvent
from qms.pagination import Page, paginate


def list_events(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    programme_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = False,
) -> Page[AuditEvent]:
    """List events in chain order (or newest first), filtered."""
    stmt = select(AuditEvent)
    if entity is not None:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    if programme_id is not None:
        stmt = stmt.where(AuditEvent.programme_id == programme_id)
    return paginate(
        session, stmt, key=AuditEvent.seq, limit=limit, cursor=cursor, descending=newest_first
    )
