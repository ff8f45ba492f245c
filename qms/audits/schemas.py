"""What the API takes and gives for internal audits and management reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from qms.actions.models import ActionType
from qms.actions.schemas import FollowOnCreate
from qms.audits.models import AuditStatus, Conformity, DecisionKind, ReviewStatus
from qms.deviations.models import Severity
from qms.fields import (
    Code,
    Id,
    IsoDate,
    LongText,
    Name,
    Reason,
    RequiredText,
    RequirementRef,
    RequirementRefs,
)
from qms.signatures.schemas import SignatureConfirmation

Names = Annotated[list[Name], Field(max_length=20)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChecklistLineCreate(_In):
    """A question to put to the auditees, and what it checks."""

    question: RequiredText
    procedure_code: Code | None = Field(default=None, description="The procedure it checks")
    requirement: RequirementRef | None = None


class AuditCreate(_In):
    """The plan of an internal audit."""

    title: Name
    scope: RequiredText
    programme_id: Id | None = Field(default=None, description="Leave out for the whole system")
    criteria: RequirementRefs = Field(
        min_length=1, description="The requirements audited against, as FRAMEWORK:code"
    )
    procedure_codes: Annotated[list[Code], Field(max_length=30)] = Field(
        default_factory=list, description="The procedures in scope"
    )
    auditors: Names = Field(
        min_length=1,
        description="User names of the auditors: never among the auditees, never the author "
        "or approver of a procedure in scope",
    )
    auditees: Names = Field(min_length=1, description="Who is audited (names or roles)")
    start_on: IsoDate
    end_on: IsoDate
    checklist: Annotated[list[ChecklistLineCreate], Field(max_length=200)] = Field(
        default_factory=list
    )


class AuditUpdate(_In):
    """Changes to an audit: the plan while planned, the findings until it is reported."""

    title: Name | None = None
    scope: RequiredText | None = None
    criteria: RequirementRefs | None = None
    procedure_codes: Annotated[list[Code], Field(max_length=30)] | None = None
    auditors: Names | None = None
    auditees: Names | None = None
    start_on: IsoDate | None = None
    end_on: IsoDate | None = None
    strong_points: LongText | None = None
    improvement_points: LongText | None = None
    conclusion: LongText | None = None


class LineAnswer(_In):
    """The answer to a checklist line; "no" raises a deviation (source internal_audit)."""

    conforms: Conformity
    evidence: LongText = Field(default="", description="Required when the answer is no")
    comment: LongText = ""
    severity: Severity = Field(
        default=Severity.minor, description="The severity of the deviation a 'no' raises"
    )


class Transition(_In):
    """A move of the workflow."""

    to: str = Field(max_length=32)
    reason: Reason | None = None
    held_on: IsoDate | None = Field(default=None, description="Required to mark a review held")
    signature: SignatureConfirmation | None = Field(
        default=None,
        description="Required to close, which is signed: an internal audit with the meaning "
        "closed, a management review with the meaning approved",
    )


class ChecklistLineRead(BaseModel):
    """A checklist line as it stands."""

    id: int
    position: int
    question: str
    procedure_id: int | None
    procedure_code: str | None
    requirement: str | None
    conforms: Conformity | None
    evidence: str
    comment: str
    deviation_id: int | None
    deviation_number: str | None
    answered_by: str | None
    answered_at: datetime | None
    version: int


class AuditRead(BaseModel):
    """An internal audit with its checklist and the moves open to it."""

    id: int
    number: str
    title: str
    scope: str
    programme_id: int | None
    criteria: list[str]
    procedure_codes: list[str]
    auditors: list[str]
    auditees: list[str]
    start_on: date
    end_on: date
    status: AuditStatus
    strong_points: str
    improvement_points: str
    conclusion: str
    reported_at: datetime | None
    closed_at: datetime | None
    created_by: str
    lines: list[ChecklistLineRead]
    nonconforming: int
    allowed_transitions: list[str]
    version: int


class ActionOpen(FollowOnCreate):
    """The action a decision opens (a preventive one unless told)."""

    type: ActionType = ActionType.preventive


class ReviewCreate(_In):
    """The plan of a management review: the period it looks back on."""

    title: Name
    programme_id: Id | None = Field(default=None, description="Leave out for the whole system")
    period_start: IsoDate
    period_end: IsoDate
    planned_on: IsoDate
    participants: Names = Field(default_factory=list)


class ReviewUpdate(_In):
    """Changes to a review not yet closed; fields left out stay as they are."""

    title: Name | None = None
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None
    planned_on: IsoDate | None = None
    participants: Names | None = None
    conclusion: LongText | None = None


class DecisionCreate(_In):
    """A decision of the review (ISO 9001 9.3.3), which may open an action."""

    kind: DecisionKind
    text: RequiredText
    action: ActionOpen | None = None


class ReviewDecisionRead(BaseModel):
    """A decision and the action it opened."""

    id: int
    position: int
    kind: DecisionKind
    text: str
    action_id: int | None
    action_number: str | None
    action_status: str | None
    decided_by: str


class InputSection(BaseModel):
    """One input of ISO 9001 9.3.2, compiled from the records."""

    clause: str
    title: str
    rows: list[list[str]]
    note: str = ""


class ReviewInputs(BaseModel):
    """The 9.3.2 inputs for a period, compiled from the records."""

    programme_id: int | None
    period_start: date
    period_end: date
    sections: list[InputSection]


class ReviewRead(BaseModel):
    """A management review, its inputs (live until held, frozen after) and its decisions."""

    id: int
    number: str
    title: str
    programme_id: int | None
    period_start: date
    period_end: date
    planned_on: date
    held_on: date | None
    participants: list[str]
    status: ReviewStatus
    inputs: ReviewInputs
    inputs_frozen: bool
    decisions: list[ReviewDecisionRead]
    conclusion: str
    closed_at: datetime | None
    created_by: str
    allowed_transitions: list[str]
    version: int


def frozen_inputs(value: dict[str, Any]) -> ReviewInputs:
    """Read back the inputs a review kept when it was held."""
    return ReviewInputs.model_validate(value)
