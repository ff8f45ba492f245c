"""What the API takes and gives for mid-programme follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from qms.fields import Id, IsoDate, LongText, Name, Reason, RequirementRefs
from qms.followups.models import FollowUpOutcome


class _In(BaseModel):
    model_config = {"extra": "forbid"}


class ScheduleRequest(_In):
    """Schedule the follow-up of each live pair of a cohort that has none."""

    on: IsoDate | None = Field(default=None, description="Default: the cohort's midpoint")


class FollowUpSchedule(_In):
    """Schedule (or move) one pair's follow-up to a date the coordinator sets."""

    scheduled_on: IsoDate


class FollowUpRecord(_In):
    """The follow-up as held: the structured answers and the outcome."""

    held_on: IsoDate
    held_by: Name | None = Field(default=None, description="Default: who records it")
    expectations_clarified: bool = Field(strict=True)
    goal_progress: int = Field(ge=1, le=5, strict=True, description="1 (none) to 5 (ahead)")
    meeting_frequency_kept: bool = Field(strict=True)
    relationship: int = Field(ge=1, le=5, strict=True, description="1 (poor) to 5 (very good)")
    extra_support_needed: bool = Field(strict=True)
    notes: LongText = ""
    outcome: FollowUpOutcome
    decision: Reason | None = Field(
        default=None, description="What was decided (at_risk needs this or a deviation)"
    )
    deviation_id: Id | None = None
    requirements: RequirementRefs = Field(
        default_factory=list,
        description="Requirements this follow-up evidences beyond monitoring and support "
        "(which every held follow-up does), as FRAMEWORK:code",
    )


class FollowUpRead(BaseModel):
    """A follow-up with where it stands."""

    id: int
    pair_id: int
    pair_code: str
    mentor_code: str
    mentee_code: str
    scheduled_on: date
    state: Literal["held", "due", "overdue"]
    held_on: date | None
    held_by: str | None
    expectations_clarified: bool | None
    goal_progress: int | None
    meeting_frequency_kept: bool | None
    relationship: int | None
    extra_support_needed: bool | None
    notes: str | None
    outcome: FollowUpOutcome | None
    decision: str | None
    deviation_id: int | None
    requirements: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class CohortFollowUps(BaseModel):
    """A cohort's follow-up board: each pair's follow-up, and the counts."""

    cohort_id: int
    held: int
    due: int
    overdue: int
    items: list[FollowUpRead]
