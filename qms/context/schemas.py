"""What the API takes and gives for the context, the interested parties and the scope."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.context.models import IssueOrigin, IssueStatus, PartyKind
from qms.fields import Id, IsoClause, IsoDate, Name, Reason, RequiredText


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContextIssueCreate(_In):
    """An internal or external issue as first recorded."""

    origin: IssueOrigin
    title: Name
    description: RequiredText = Field(description="The issue itself")
    effect: RequiredText = Field(description="Its effect on the programmes and their aims")
    programme_id: Id | None = Field(
        default=None, description="The programme it bears on; left out: the whole organisation"
    )
    next_review_on: IsoDate | None = Field(
        default=None, description="Default: the review cycle's months from today"
    )


class ContextIssueUpdate(_In):
    """The fields of an issue to change; those left out stay as they are."""

    origin: IssueOrigin | None = None
    title: Name | None = None
    description: RequiredText | None = None
    effect: RequiredText | None = None
    programme_id: Id | None = None
    status: IssueStatus | None = None
    next_review_on: IsoDate | None = None


class ContextIssueRead(BaseModel):
    """An issue of the organisation's context, with its last review."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str = Field(description="CTX-YYYY-NNNN")
    origin: IssueOrigin
    title: str
    description: str
    effect: str
    programme_id: int | None
    status: IssueStatus
    ended_on: date | None = Field(description="When it was found no longer relevant")
    next_review_on: date
    review_due: bool = Field(description="Its next review date has come")
    last_reviewed_on: date | None
    last_reviewed_by: str | None
    review_note: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class PartyCreate(_In):
    """An interested party, its requirements and how the system meets them."""

    name: Name
    kind: PartyKind
    requirements: RequiredText = Field(description="What the party requires of the programmes")
    how_met: RequiredText = Field(description="How the quality management system meets it")
    programme_id: Id | None = Field(
        default=None, description="The programme it bears on; left out: the whole organisation"
    )
    next_review_on: IsoDate | None = Field(
        default=None, description="Default: the review cycle's months from today"
    )


class PartyUpdate(_In):
    """The fields of an interested party to change; those left out stay as they are."""

    name: Name | None = None
    kind: PartyKind | None = None
    requirements: RequiredText | None = None
    how_met: RequiredText | None = None
    programme_id: Id | None = None
    next_review_on: IsoDate | None = None
    ended_on: IsoDate | None = Field(
        default=None, description="The day it ceased to be a party of the programmes"
    )


class PartyRead(BaseModel):
    """An interested party, with its last review."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str = Field(description="IP-YYYY-NNNN")
    name: str
    kind: PartyKind
    requirements: str
    how_met: str
    programme_id: int | None
    ended_on: date | None
    next_review_on: date
    review_due: bool = Field(description="Its next review date has come")
    last_reviewed_on: date | None
    last_reviewed_by: str | None
    review_note: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class ContextReview(_In):
    """A review of an issue or a party: what was found, and when to look again."""

    note: Reason = Field(description="What the review found (still as recorded, or what changed)")
    next_review_on: IsoDate | None = Field(
        default=None, description="Default: the review cycle's months from today"
    )


class Exclusion(_In):
    """A requirement of ISO 9001 that does not apply, and why."""

    clause: IsoClause
    reason: Reason


class ScopeUpdate(_In):
    """The scope of the quality management system as it now stands."""

    coverage: RequiredText = Field(
        description="What the system covers: programmes, sites and services"
    )
    exclusions: list[Exclusion] = Field(default_factory=list, max_length=50)


class ScopeRead(BaseModel):
    """The current scope of the quality management system."""

    coverage: str
    exclusions: list[Exclusion]
    changed_by: str | None
    updated_at: datetime | None
    version: int = Field(description="0 while no scope has been set")


class PolicyRead(BaseModel):
    """The effective quality policy: a controlled document of the procedures."""

    procedure_id: int
    version_id: int
    number: int = Field(description="The version's number")
    title: str
    content: str = Field(description="The policy's text, Markdown")
    content_sha256: str
    approved_by: str | None
    approved_at: datetime | None
    effective_from: date | None
    next_review_on: date | None
