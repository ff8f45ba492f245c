"""What the API takes and gives for programmes and cohorts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import Code, Count, IsoDate, LongText, Months, Name, Reason
from qms.programmes.models import ProgrammeStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgrammeCreate(_In):
    """A new programme."""

    code: Code
    name: Name
    organiser: Name
    target_group: LongText = ""
    objectives: LongText = ""
    min_meetings_per_month: Count | None = None
    min_minutes_per_month: Count | None = None
    length_months: Months | None = None
    follow_up_at_midpoint: bool = Field(default=True, strict=True)
    max_mentees_per_mentor: int = Field(default=1, ge=1, le=20, strict=True)


class ProgrammeUpdate(_In):
    """Changes to a programme; fields left out stay as they are."""

    name: Name | None = None
    organiser: Name | None = None
    target_group: LongText | None = None
    objectives: LongText | None = None
    min_meetings_per_month: Count | None = None
    min_minutes_per_month: Count | None = None
    length_months: Months | None = None
    follow_up_at_midpoint: bool | None = Field(default=None, strict=True)
    max_mentees_per_mentor: int | None = Field(default=None, ge=1, le=20, strict=True)


class ProgrammeRead(BaseModel):
    """A programme as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    organiser: str
    target_group: str
    objectives: str
    min_meetings_per_month: int | None
    min_minutes_per_month: int | None
    length_months: int | None
    follow_up_at_midpoint: bool
    max_mentees_per_mentor: int
    status: ProgrammeStatus
    created_at: datetime
    updated_at: datetime
    version: int


class TransitionRequest(_In):
    """A workflow move: the state to go to and why."""

    to: str = Field(min_length=1, max_length=32)
    reason: Reason | None = None


class CohortCreate(_In):
    """A new cohort of a programme."""

    code: Code
    name: Name
    start_on: IsoDate
    midpoint_on: IsoDate | None = None
    end_on: IsoDate


class CohortUpdate(_In):
    """Changes to a cohort; fields left out stay as they are."""

    name: Name | None = None
    start_on: IsoDate | None = None
    midpoint_on: IsoDate | None = None
    end_on: IsoDate | None = None


class CohortRead(BaseModel):
    """A cohort as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    code: str
    name: str
    start_on: date
    midpoint_on: date | None
    end_on: date
    created_at: datetime
    updated_at: datetime
    version: int
