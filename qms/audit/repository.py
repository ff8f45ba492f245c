"""Queries over the audit trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from qms.audit.models import AuditEvent
from qms.pagination import Page, paginate

# The event a read of an audited user leaves (qms.accounts.service.record_access).
ACCESS_READ = "access.read"


def about(records: Iterable[tuple[str, str]]) -> Any:
    """Return the condition an event meets when it is about one of the records (kind, id)."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, record_id in records:
        by_kind[kind].append(record_id)
    return or_(
        false(),
        *(
            and_(AuditEvent.entity == kind, AuditEvent.entity_id.in_(ids))
            for kind, ids in by_kind.items()
        ),
    )


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
    records: Iterable[tuple[str, str]] | None = None,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = False,
    views_left_out_of: str | None = None,
) -> Page[AuditEvent]:
    """List events in chain order (or newest first), filtered; `records` keeps the events about
    any of those records (kind and id, as a record number resolves to), none if it is empty."""
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
    if records is not None:
        stmt = stmt.where(about(records))
    if views_left_out_of is not None:
        # A reader's own page views (recorded as they read) crowd out what they look for.
        stmt = stmt.where(
            or_(AuditEvent.actor != views_left_out_of, AuditEvent.action != ACCESS_READ)
        )
    return paginate(
        session, stmt, key=AuditEvent.seq, limit=limit, cursor=cursor, descending=newest_first
    )
