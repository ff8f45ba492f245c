"""What the API takes and gives for risks and opportunities."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from qms.fields import Id, IsoDate, LongText, Name, Reason, RequiredText, RequirementRefs
from qms.risks.enums import RiskKind, RiskLevel, RiskStatus, Treatment
from qms.workflow import BlockedMove

# A rating on the organisation's scale (QMS_RISK_SCALE, 1 to at most 10); the service holds it
# to the scale set.
Rating = Annotated[int, Strict(), Field(ge=1, le=10, description="1 .. the scale (default 5)")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RiskCreate(_In):
    """A risk or an opportunity as first registered, with its rating before treatment."""

    kind: RiskKind
    title: Name
    description: RequiredText
    cause: LongText | None = None
    programme_id: Id | None = Field(
        default=None, description="The programme it belongs to; none: the organisation's"
    )
    owner: Name | None = Field(default=None, description="The user name of who keeps it")
    likelihood: Rating
    consequence: Rating
    treatment: Treatment | None = None
    treatment_plan: LongText | None = None
    treatment_reason: Reason | None = Field(
        default=None, description="Required to accept a risk or decline an opportunity"
    )
    residual_likelihood: Rating | None = None
    residual_consequence: Rating | None = None
    review_on: IsoDate | None = Field(default=None, description="When it is next reviewed")
    requirements: RequirementRefs = Field(
        default_factory=list, description="The requirements it concerns, as FRAMEWORK:code"
    )


class RiskUpdate(_In):
    """Changes to a risk not closed; fields left out stay as they are."""

    title: Name | None = None
    description: RequiredText | None = None
    cause: LongText | None = None
    programme_id: Id | None = None
    owner: Name | None = None
    likelihood: Rating | None = None
    consequence: Rating | None = None
    treatment: Treatment | None = None
    treatment_plan: LongText | None = None
    treatment_reason: Reason | None = None
    residual_likelihood: Rating | None = None
    residual_consequence: Rating | None = None
    review_on: IsoDate | None = None
    requirements: RequirementRefs | None = None


class RiskTransition(_In):
    """A move of a risk's workflow."""

    to: RiskStatus
    reason: Reason | None = None


class RiskReview(_In):
    """A review of a risk: the rating as it stands now and the next review date."""

    likelihood: Rating | None = None
    consequence: Rating | None = None
    residual_likelihood: Rating | None = None
    residual_consequence: Rating | None = None
    next_review_on: IsoDate
    note: Reason | None = Field(default=None, description="What the review found")


class RiskRead(BaseModel):
    """A risk or opportunity as stored, with its scores, levels, actions and deviations."""

    id: int
    number: str
    kind: RiskKind
    status: RiskStatus
    programme_id: int | None
    title: str
    description: str
    cause: str | None
    owner: str | None
    owner_display_name: str | None
    likelihood: int
    consequence: int
    score: int = Field(description="likelihood x consequence")
    level: RiskLevel
    treatment: Treatment | None
    treatment_plan: str | None
    treatment_reason: str | None
    residual_likelihood: int | None
    residual_consequence: int | None
    residual_score: int | None
    residual_level: RiskLevel | None
    review_on: date | None
    review_overdue: bool
    reviewed_at: datetime | None
    requirements: list[str]
    action_ids: list[int]
    action_numbers: list[str]
    deviation_ids: list[int] = Field(description="The deviations in which it came true")
    deviation_numbers: list[str]
    allowed_transitions: list[str]
    blocked: list[BlockedMove]
    closed_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class MatrixRead(BaseModel):
    """The register on the likelihood x consequence grid: how many risks in each cell."""

    scale: int
    before: list[list[int]] = Field(
        description="[likelihood - 1][consequence - 1]: how many, as rated before treatment"
    )
    after: list[list[int]] = Field(
        description="The same after treatment (those with a rating after treatment)"
    )
    numbers_before: list[list[list[str]]] = Field(
        description="[likelihood - 1][consequence - 1]: the numbers of those placed there"
    )
    numbers_after: list[list[list[str]]]
