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
