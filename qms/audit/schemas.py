"""What the API gives for the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    """One event of the trail, with its place in the chain."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_id: int | None
    action: str
    entity: str
    entity_id: str | None
    programme_id: int | None
    changes: dict[str, Any]
    reason: str | None
    prev_hash: str
    hash: str


class VerifyRead(BaseModel):
    """Whether the chain is whole, and if not, where it first breaks."""

    model_config = ConfigDict(from_attributes=True)

    ok: bool
    count: int
    head_count: int
    last_hash: str
    first_broken_seq: int | None
    problem: str | None
    # With ?records=true: each record held against its events (`qms audit verify --records`).
    records: RecordsVerifyRead | None = None


class RecordFindingRead(BaseModel):
    """A record not as its audit-trail events describe it."""

    kind: str
    record_id: str
    # What people read for the record: DEV-2026-0005, PR-05 v2, a user's name.
    record: str | None
    # changed: a field differs; no_events: a row no event describes; gone: a record the events
    # describe that is not stored, with no recorded disposal.
    problem: str
    field: str | None
    stored: Any
    expected: Any
    message: str


class RecordsVerifyRead(BaseModel):
    """Each record as stored held against the state its events describe."""

    ok: bool
    records: int
    events: int
    fields_compared: int
    findings: int
    # Stored values no event describes (events written before they held the whole record).
    not_covered: int
    items: list[RecordFindingRead]
