"""What the API takes and gives for corrective actions."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.actions.models import ActionStatus, ActionType
from qms.deviations.models import RootCauseMethod
from qms.fields import Id, IsoDate, LongText, Name, Reason, RequiredText, RequirementRefs
from qms.signatures.schemas import SignatureConfirmation, SignatureRead
from qms.workflow import BlockedMove


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FollowOnCreate(_In):
    """The action that takes over from one found ineffective."""

    type: ActionType
    title: Name
    action: RequiredText
    owner: Name = Field(description="The user name of who carries it out")
    due_on: IsoDate
    root_cause_method: RootCauseMethod | None = None
    root_cause: LongText | None = None
    requirements: RequirementRefs = Field(
        default_factory=list, description="The requirements it serves, as FRAMEWORK:code"
    )


class ActionCreate(FollowOnCreate):
    """A corrective action on one or more deviations, or risks and opportunities, or both."""

    deviation_ids: list[Id] = Field(
        default_factory=list,
        max_length=50,
        description="The deviations it answers; at least one of these or of risk_ids",
    )
    risk_ids: list[Id] = Field(
        default_factory=list,
        max_length=50,
        description="The risks and opportunities it treats (an action on risks alone is "
        "preventive); at least one of these or of deviation_ids",
    )
    effectiveness_check_on: IsoDate | None = Field(
        default=None, description="When to check that the action worked"
    )


class ActionUpdate(_In):
    """Changes to an action not yet done; fields left out stay as they are."""

    type: ActionType | None = None
    title: Name | None = None
    action: RequiredText | None = None
    owner: Name | None = None
    due_on: IsoDate | None = None
    root_cause_method: RootCauseMethod | None = None
    root_cause: LongText | None = None
    effectiveness_check_on: IsoDate | None = None
    requirements: RequirementRefs | None = None
    deviation_ids: list[Id] | None = Field(default=None, min_length=1, max_length=50)
    risk_ids: list[Id] | None = Field(default=None, max_length=50)


class ActionTransition(_In):
    """A move of an action's workflow, with what the move needs."""

    to: ActionStatus
    reason: Reason | None = None
    completion_note: LongText | None = Field(default=None, description="What was done")
    evidence: RequiredText | None = Field(
        default=None, description="Required to verify: what shows the action worked or not"
    )
    follow_on: FollowOnCreate | None = Field(
        default=None, description="Required when the action is found ineffective"
    )
    signature: SignatureConfirmation | None = Field(
        default=None,
        description="Required to verify (either result), which is signed: meaning verified",
    )


class VerificationRead(BaseModel):
    """Who checked the action's effect, when, on what evidence, and their signature."""

    verified_by: str
    verified_at: datetime
    result: ActionStatus
    evidence: str
    signature_sha256: str | None
    signature: SignatureRead | None = Field(
        default=None, description="The signature: who, when, meaning and the statement signed"
    )


class ActionRead(BaseModel):
    """A corrective action as stored."""

    id: int
    number: str
    type: ActionType
    status: ActionStatus
    title: str
    action: str
    root_cause_method: RootCauseMethod | None
    root_cause: str | None
    owner: str
    due_on: date
    overdue: bool
    effectiveness_check_on: date | None
    started_at: datetime | None
    done_at: datetime | None
    completion_note: str | None
    verification: VerificationRead | None
    follows_action_id: int | None
    requirements: list[str]
    follow_on_action_ids: list[int]
    deviation_ids: list[int]
    deviation_numbers: list[str]
    risk_ids: list[int] = Field(default_factory=list, description="The risks it treats")
    risk_numbers: list[str] = Field(default_factory=list)
    allowed_transitions: list[str] = Field(
        description="The moves open to the action now, for the reader: their conditions hold"
    )
    blocked: list[BlockedMove] = Field(
        description="The workflow's other moves from this state, each with what it waits for"
    )
    created_at: datetime
    updated_at: datetime
    version: int
