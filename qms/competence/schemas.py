"""What the API takes and gives for competences, training records and acknowledgements."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.competence.models import CompetenceRole, ObtainedBy
from qms.fields import Code, IsoDate, LongText, Months, Name


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompetenceCreate(_In):
    """A competence a role needs."""

    code: Code = Field(description="A short code of its own, e.g. MENTOR-TRAINING-1")
    role: CompetenceRole
    title: Name
    description: LongText = Field(default="", description="What it means to have it")
    obtained_by: ObtainedBy = ObtainedBy.training
    renewal_months: Months | None = Field(
        default=None, description="Renewed after this many months; none: held for good"
    )
    before_matching: bool = Field(
        default=False,
        strict=True,
        description="A mentor must have it before being matched (mentors only)",
    )


class CompetenceUpdate(_In):
    """Changes to a competence; fields left out stay as they are."""

    title: Name | None = None
    description: LongText | None = None
    obtained_by: ObtainedBy | None = None
    renewal_months: Months | None = None
    before_matching: bool | None = Field(default=None, strict=True)
    is_active: bool | None = Field(default=None, strict=True)


class CompetenceRead(BaseModel):
    """A competence a role needs."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    role: CompetenceRole
    title: str
    description: str
    obtained_by: ObtainedBy
    renewal_months: int | None
    before_matching: bool
    is_active: bool
    version: int


class TrainingRecordCreate(_In):
    """A person's completion of a competence: a user (by name) or a mentor (by code)."""

    competence: Code = Field(description="The competence's code")
    user: Name | None = Field(default=None, description="The user name of the person trained")
    participant: Code | None = Field(
        default=None, description="The code of the mentor trained (P-0042)"
    )
    completed_on: IsoDate
    given_by: Name | None = Field(default=None, description="Who gave the training")
    notes: LongText = ""


class TrainingRecordUpdate(_In):
    """Changes to a training record; fields left out stay as they are."""

    completed_on: IsoDate | None = None
    given_by: Name | None = None
    notes: LongText | None = None


class TrainingRecordRead(BaseModel):
    """A person's completion of a competence, and until when it holds."""

    id: int
    number: str
    competence: str = Field(description="The competence's code")
    competence_title: str
    role: CompetenceRole
    user: str | None = Field(description="The user name, for a user's record")
    participant: str | None = Field(description="The mentor's code, for a mentor's record")
    programme_id: int | None
    completed_on: date
    given_by: str
    notes: str
    expires_on: date | None
    expired: bool
    recorded_by: str
    version: int


class CompetenceMatrixCell(BaseModel):
    """One person's standing on one competence."""

    competence: str
    state: str = Field(description="has, expired or missing")
    completed_on: date | None
    expires_on: date | None


class CompetenceMatrixRow(BaseModel):
    """One person and their standing on each competence of their role."""

    person: str = Field(description="A user's name, or a mentor's code")
    role: CompetenceRole
    programme_id: int | None
    cells: list[CompetenceMatrixCell]
    missing: int


class CompetenceMatrixRead(BaseModel):
    """Who has what and what is missing, for each role's competences."""

    on: date
    competences: list[CompetenceRead]
    rows: list[CompetenceMatrixRow]


class AcknowledgementRead(BaseModel):
    """A user asked to acknowledge a procedure version as read and understood."""

    id: int
    procedure_id: int
    code: str
    number: int
    title: str
    user: str
    requested_at: datetime
    due_on: date
    acknowledged_at: datetime | None
    overdue: bool
