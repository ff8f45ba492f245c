"""What the API takes and gives for deviations."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.deviations.models import (
    DeviationKind,
    DeviationSource,
    DeviationStatus,
    RootCauseMethod,
    Severity,
)
from qms.fields import (
    Id,
    IsoClause,
    IsoDate,
    IsoDateTime,
    LongText,
    Name,
    Reason,
    RequiredText,
    RequirementRefs,
)
from qms.signatures.schemas import SignatureConfirmation
from qms.workflow import BlockedMove


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviationCreate(_In):
    """A deviation as logged: what was found, where, by whom, and what was done at once."""

    kind: DeviationKind
    source: DeviationSource
    severity: Severity
    title: Name
    description: RequiredText
    immediate_containment: LongText | None = None
    programme_id: Id | None = None
    cohort_id: Id | None = Field(
        default=None, description="The programme is taken from the cohort when left out"
    )
    pair_id: Id | None = Field(
        default=None, description="The pair it concerns; cohort and programme follow from it"
    )
    procedure_version_id: Id | None = Field(
        default=None, description="The version of the procedure that was not followed"
    )
    provider_id: Id | None = Field(
        default=None, description="The external provider it is raised against"
    )
    risk_id: Id | None = Field(
        default=None, description="The risk it realised: the risk is marked realised"
    )
    iso_clause: IsoClause | None = None
    requirements: RequirementRefs = Field(
        default_factory=list, description="The requirements it concerns, as FRAMEWORK:code"
    )
    detected_at: IsoDateTime | None = Field(default=None, description="Default: now")
    detected_by: Name | None = Field(default=None, description="Default: who logs it")
    due_on: IsoDate | None = Field(
        default=None,
        description="When it should be closed; default by severity: critical 14 days, "
        "major 30, minor 60 after detection",
    )
    owner: Name | None = Field(
        default=None, description="The user name of who sees it through (optional)"
    )


class DeviationUpdate(_In):
    """Changes to an open deviation; fields left out stay as they are."""

    kind: DeviationKind | None = None
    source: DeviationSource | None = None
    severity: Severity | None = None
    title: Name | None = None
    description: RequiredText | None = None
    immediate_containment: LongText | None = None
    programme_id: Id | None = None
    cohort_id: Id | None = None
    pair_id: Id | None = None
    procedure_version_id: Id | None = None
    provider_id: Id | None = None
    risk_id: Id | None = None
    iso_clause: IsoClause | None = None
    requirements: RequirementRefs | None = None
    detected_at: IsoDateTime | None = None
    detected_by: Name | None = None
    due_on: IsoDate | None = None
    root_cause_method: RootCauseMethod | None = None
    root_cause: LongText | None = None
    owner: Name | None = Field(
        default=None, description="The user name of who sees it through; null: no owner"
    )


class DeviationTransition(_In):
    """A move of a deviation's workflow, with what the move needs."""

    to: DeviationStatus
    reason: Reason | None = None
    closure_summary: RequiredText | None = Field(
        default=None, description="Required to close: what was found and done"
    )
    no_action_reason: Reason | None = Field(
        default=None, description="Required to close a deviation without corrective actions"
    )
    signature: SignatureConfirmation | None = Field(
        default=None, description="Required to close, which is signed: meaning closed"
    )


class DeviationRead(BaseModel):
    """A deviation as stored, with its actions and the moves open to it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    kind: DeviationKind
    source: DeviationSource
    severity: Severity
    status: DeviationStatus
    title: str
    description: str
    immediate_containment: str | None
    programme_id: int | None
    cohort_id: int | None
    pair_id: int | None
    procedure_version_id: int | None
    provider_id: int | None = None
    risk_id: int | None = Field(default=None, description="The risk it realised")
    risk_number: str | None = Field(default=None, description="Its number (RISK-2026-0001)")
    iso_clause: str | None
    requirements: list[str]
    detected_at: datetime
    detected_by: str
    due_on: date
    overdue: bool
    root_cause_method: RootCauseMethod | None
    root_cause: str | None
    closure_summary: str | None
    no_action_reason: str | None
    closed_at: datetime | None
    reported_by: str
    owner: str | None = Field(description="The user name of who sees it through")
    owner_display_name: str | None = Field(description="The name people read the owner by")
    action_ids: list[int]
    action_numbers: list[str]
    allowed_transitions: list[str] = Field(
        description="The moves open to the deviation now: their conditions hold"
    )
    blocked: list[BlockedMove] = Field(
        description="The workflow's other moves from this state, each with what it waits for"
    )
    created_at: datetime
    updated_at: datetime
    version: int
