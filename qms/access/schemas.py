"""What the API gives for the access log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AccessEntryRead(BaseModel):
    """One read by an audited user, with the batch it was written in."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_seq: int
    at: datetime
    actor: str
    actor_id: int | None
    via: str
    via_id: int | None
    programme_id: int | None
    request: str
    client: str | None


class AccessVerifyRead(BaseModel):
    """Whether the access log's batches are whole, and if not, where they first break."""

    model_config = ConfigDict(from_attributes=True)

    ok: bool
    batches: int
    entries: int
    last_hash: str
    first_broken_batch: int | None
    problem: str | None
