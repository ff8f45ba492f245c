"""What the API takes and gives for participants and their learning-plan goals."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import Email, Id, IsoDate, LongText, Name, Phone, Reason
from qms.participants.models import GoalStatus, ParticipantRole


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonalData(_In):
    """Name and contact details: kept apart, shown only to those who need them."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None


class EraseRequest(_In):
    """Why the personal data is erased (e.g. the person asked), for the audit trail."""

    reason: Reason | None = None


class ParticipantCreate(_In):
    """A new mentor or mentee in a cohort; the code (P-0042) is given by the system."""

    cohort_id: Id
    role: ParticipantRole
    field: Name = Field(description="Profession or professional field")
    competence_needs: LongText = ""
    career_goals: LongText = ""
    screened_on: IsoDate | None = None
    screened_by: Name | None = None
    training_modules: list[Name] = Field(default_factory=list, max_length=20)
    consent_on: IsoDate | None = Field(default=None, description="When consent was recorded")
    personal: PersonalData | None = None


class ParticipantUpdate(_In):
    """Changes to a participant; fields left out stay as they are."""

    field: Name | None = None
    competence_needs: LongText | None = None
    career_goals: LongText | None = None
    screened_on: IsoDate | None = None
    screened_by: Name | None = None
    training_modules: list[Name] | None = Field(default=None, max_length=20)
    consent_on: IsoDate | None = None
    personal: PersonalData | None = None


class PersonalRead(BaseModel):
    """Personal data as stored (blank once erased)."""

    name: str | None
    email: str | None
    phone: str | None
    erased_at: datetime | None


class ParticipantRead(BaseModel):
    """A participant; `personal` only for roles that may see it."""

    id: int
    code: str
    cohort_id: int
    programme_id: int
    role: ParticipantRole
    field: str
    competence_needs: str
    career_goals: str
    screened_on: date | None
    screened_by: str | None
    training_modules: list[str]
    consent_on: date | None
    personal: PersonalRead | None
    created_at: datetime
    updated_at: datetime
    version: int


class GoalCreate(_In):
    """A goal of a mentee's individual learning plan."""

    title: Name
    description: LongText = ""
    target_on: IsoDate | None = None
    progress: int = Field(default=0, ge=0, le=100, strict=True, description="Percent done")


class GoalUpdate(_In):
    """Changes to a goal; fields left out stay as they are."""

    title: Name | None = None
    description: LongText | None = None
    target_on: IsoDate | None = None
    progress: int | None = Field(default=None, ge=0, le=100, strict=True)
    status: GoalStatus | None = None


class GoalRead(BaseModel):
    """A learning-plan goal as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    participant_id: int
    title: str
    description: str
    target_on: date | None
    progress: int
    status: GoalStatus
    created_at: datetime
    updated_at: datetime
    version: int
