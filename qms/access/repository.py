"""Queries over the access log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.access.models import AccessEntry
from qms.pagination import Page, paginate

# How the access log's entries are named in the audit trail's lists of events (the event a read
# by an audited user left in the trail itself before the log had a table of its own).
ACCESS_READ = "access.read"


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    programme_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = False,
) -> Page[AccessEntry]:
    """List the access log's entries in the order they were written (or newest first),
    filtered by who read, when, and the programme their token is limited to."""
    stmt = select(AccessEntry)
    if actor is not None:
        stmt = stmt.where(AccessEntry.actor == actor)
    if since is not None:
        stmt = stmt.where(AccessEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AccessEntry.at < until)
    if programme_id is not None:
        stmt = stmt.where(AccessEntry.programme_id == programme_id)
    return paginate(
        session, stmt, key=AccessEntry.id, limit=limit, cursor=cursor, descending=newest_first
    )
