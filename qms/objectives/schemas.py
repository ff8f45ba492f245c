"""What the API takes and gives for quality objectives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import Id, IsoDate, LongText, Name, Reason, RequiredText, RequirementRefs
from qms.indicators.models import Direction
from qms.objectives.models import ObjectiveStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectiveCreate(_In):
    """A quality objective (ISO 9001 6.2): what is to be reached, by whom and when, and how."""

    title: Name
    programme_id: Id | None = Field(
        default=None, description="The programme it is for; left out: the organisation's"
    )
    target: RequiredText = Field(description='What "reached" means, in words')
    owner: Name = Field(description="The user name of who answers for it")
    due_on: IsoDate
    plan: RequiredText = Field(description="What will be done to reach it")
    resources: LongText | None = Field(default=None, description="What resources it needs")
    responsible: Name | None = Field(
        default=None, description="Who carries out the plan, when not the owner alone"
    )
    evaluation: LongText | None = Field(
        default=None, description="How the results will be evaluated"
    )
    indicator_ids: list[Id] = Field(
        default_factory=list, max_length=20, description="The indicators that measure it"
    )
    requirements: RequirementRefs = Field(
        default_factory=list, description="The requirements it serves, as FRAMEWORK:code"
    )


class ObjectiveUpdate(_In):
    """Changes to an objective still open; fields left out stay as they are."""

    title: Name | None = None
    target: RequiredText | None = None
    owner: Name | None = None
    due_on: IsoDate | None = None
    plan: RequiredText | None = None
    resources: LongText | None = None
    responsible: Name | None = None
    evaluation: LongText | None = None
    indicator_ids: list[Id] | None = Field(default=None, max_length=20)
    requirements: RequirementRefs | None = None


class ObjectiveTransition(_In):
    """A move of an objective's workflow, with what the move needs."""

    to: ObjectiveStatus
    reason: Reason | None = Field(default=None, description="Required to withdraw it")
    result_note: RequiredText | None = Field(
        default=None, description="Required to close it: what the result was, and why"
    )


class ObjectiveIndicatorRead(BaseModel):
    """An indicator that measures the objective: its plan and threshold against its value."""

    id: int
    programme_id: int
    programme_code: str
    code: str
    name: str
    unit: str
    direction: Direction
    planned: float
    threshold: float | None
    actual: float | None
    detail: str
    status: Literal["met", "below_plan", "breach", "no_data", "stale"]


class ObjectiveRead(BaseModel):
    """A quality objective as stored, with its indicators as of a date."""

    id: int
    number: str
    programme_id: int | None
    programme_code: str | None
    status: ObjectiveStatus
    title: str
    target: str
    owner: str
    due_on: date
    overdue: bool
    at_risk: bool = Field(
        description="An indicator that measures it is in breach, or it is past due and open"
    )
    at_risk_reasons: list[Literal["indicator_breach", "overdue"]]
    plan: str
    resources: str | None
    responsible: str | None
    evaluation: str | None
    started_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    result_note: str | None
    withdrawal_reason: str | None
    requirements: list[str]
    as_of: date = Field(description="The date the indicators' values are as of")
    indicators: list[ObjectiveIndicatorRead]
    allowed_transitions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int
