"""What the API takes and gives for pairs and meetings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import Id, IsoDate, LongText, Reason, RequiredText
from qms.pairs.models import MeetingMode, PairStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PairCreate(_In):
    """A match of a mentor and a mentee of the same cohort, and why they were matched."""

    mentor_id: Id
    mentee_id: Id
    rationale: RequiredText = Field(
        description="Why this match: shared professional field, goals, personal factors"
    )
    matched_on: IsoDate | None = Field(default=None, description="Default: today")
    rematch_of_id: Id | None = Field(
        default=None, description="The unwound pair this match replaces"
    )


class PairTransition(_In):
    """A move of a pair; completing or unwinding records the closure."""

    to: PairStatus
    reason: Reason | None = None
    on: IsoDate | None = Field(default=None, description="When it started or ended; default today")
    mentor_feedback: LongText | None = None
    mentee_feedback: LongText | None = None


class PairRead(BaseModel):
    """A pair with its participants' codes (never their names)."""

    id: int
    code: str
    cohort_id: int
    programme_id: int
    mentor_id: int
    mentor_code: str
    mentee_id: int
    mentee_code: str
    status: PairStatus
    matched_on: date
    rationale: str
    started_on: date | None
    ended_on: date | None
    closure_reason: str | None
    mentor_feedback: str | None
    mentee_feedback: str | None
    rematch_of_id: int | None
    allowed_transitions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class MeetingCreate(_In):
    """A meeting of a pair."""

    held_on: IsoDate
    minutes: int = Field(ge=1, le=1440, strict=True)
    mode: MeetingMode
    topics: LongText = ""


class MeetingRow(MeetingCreate):
    """One row of a bulk upload: the pair by id or by code."""

    pair_id: Id | None = None
    pair: str | None = Field(default=None, max_length=16, description="The pair's code")


class MeetingBulk(_In):
    """Meetings as coordinators collect them in spreadsheets; all are written or none."""

    meetings: list[MeetingRow] = Field(min_length=1, max_length=5000)


class MeetingRead(BaseModel):
    """A meeting as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    pair_id: int
    held_on: date
    minutes: int
    mode: MeetingMode
    topics: str
    recorded_by: str
    created_at: datetime


class BulkResult(BaseModel):
    """What a bulk upload wrote."""

    created: int
