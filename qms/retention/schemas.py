"""What the API takes and gives for retention."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import Id, Reason


class RetentionDue(BaseModel):
    """One kind of record: how long it is kept, from when, and what is due now."""

    kind: str
    years: int
    counted_from: str
    disposition: str
    due: int
    record_ids: list[int] = Field(description="The first 200 records due, oldest first")


class RetentionReport(BaseModel):
    """What is due for disposition on a date."""

    as_of: date
    kinds: list[RetentionDue]


class DispositionCreate(BaseModel):
    """A decision to dispose of records of a kind that are due."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=40)
    reason: Reason
    record_ids: Annotated[list[Id], Field(max_length=10_000)] | None = Field(
        default=None, description="Default: every record of the kind that is due"
    )


class RetentionDecisionRead(BaseModel):
    """A recorded disposition."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    disposition: str
    reason: str
    cutoff: date
    record_ids: list[int]
    count: int
    decided_by: str
    decided_at: datetime
