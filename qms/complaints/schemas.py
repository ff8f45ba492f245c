"""What the API takes and gives for complaints and their complainants."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.complaints.enums import (
    ComplainantCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintStatus,
)
from qms.deviations.enums import Severity
from qms.fields import Email, Id, IsoDate, IsoDateTime, Name, Phone, Reason, RequiredText
from qms.workflow import BlockedMove


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplainantData(_In):
    """Who made the complaint and how to reach them: personal data, kept apart."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    contact_consent: bool = Field(
        default=False,
        strict=True,
        description="Whether they agreed to be contacted about the complaint",
    )


class ComplainantRead(BaseModel):
    """A complainant's details, for those who may read them."""

    name: str | None
    email: str | None
    phone: str | None
    contact_consent: bool
    erased_at: datetime | None


class ComplainantErasure(_In):
    """Why who made the complaint is blanked for good, for the audit trail."""

    reason: Reason


class ComplaintCreate(_In):
    """A complaint as received: when, how, from which kind of party, and what it says."""

    programme_id: Id
    received_on: IsoDate | None = Field(default=None, description="Default: today")
    channel: ComplaintChannel
    complainant_category: ComplainantCategory = Field(
        description="Who complained, as a kind of party (not personal data)"
    )
    subject: Name
    description: RequiredText
    complainant: ComplainantData | None = Field(
        default=None, description="Who complained (personal data; kept apart)"
    )


class ComplaintUpdate(_In):
    """Changes to a complaint that is not closed or withdrawn; fields left out stay."""

    received_on: IsoDate | None = None
    channel: ComplaintChannel | None = None
    complainant_category: ComplainantCategory | None = None
    subject: Name | None = None
    description: RequiredText | None = None
    answer: RequiredText | None = None
    outcome: ComplaintOutcome | None = None


class ComplaintTransition(_In):
    """A move of a complaint's workflow, with what the move needs."""

    to: ComplaintStatus
    reason: Reason | None = Field(default=None, description="Required to withdraw")
    answer: RequiredText | None = Field(
        default=None, description="Required to answer: what the complainant was told"
    )
    outcome: ComplaintOutcome | None = Field(default=None, description="Required to answer")
    at: IsoDateTime | None = Field(
        default=None,
        description="When it happened (the complainant was told, answered…), if not now: "
        "not in the future, nor before the complaint was received or its step before",
    )


class ComplaintDeviationCreate(_In):
    """The deviation a justified complaint opens."""

    severity: Severity = Severity.minor
    title: Name | None = Field(default=None, description="Default: the complaint's subject")
    description: RequiredText | None = Field(
        default=None, description="Default: the complaint's text"
    )


class ComplaintRead(BaseModel):
    """A complaint as stored, with its limits, overdue flags and the moves open to it."""

    id: int
    number: str
    programme_id: int
    received_on: date
    channel: ComplaintChannel
    complainant_category: ComplainantCategory
    subject: str
    description: str
    status: ComplaintStatus
    acknowledge_due_on: date
    answer_due_on: date
    acknowledged_at: datetime | None
    answered_at: datetime | None
    answer: str | None
    outcome: ComplaintOutcome | None
    deviation_id: int | None
    deviation_number: str | None
    withdrawal_reason: str | None
    closed_at: datetime | None
    received_by: str
    acknowledgement_overdue: bool = Field(
        description="Not acknowledged and past the day it should have been"
    )
    answer_overdue: bool = Field(description="Not answered and past the day it should have been")
    overdue: bool = Field(description="Either of the two")
    complainant: ComplainantRead | None = Field(
        description="Who complained; null for those who may not read it (see complainant_withheld)"
    )
    complainant_withheld: bool = Field(
        description="True when the caller may not read who complained"
    )
    allowed_transitions: list[str]
    blocked: list[BlockedMove]
    created_at: datetime
    updated_at: datetime
    version: int
