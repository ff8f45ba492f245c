"""What the API takes and gives for procedures and their versions."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import IsoClause, IsoDate, MarkdownText, Name, Reason, RequiredText, RequirementRefs
from qms.permissions import Role
from qms.procedures.library import CODE_PATTERN
from qms.procedures.models import VersionStatus
from qms.signatures.schemas import SignatureConfirmation, SignatureRead


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VersionDraft(_In):
    """The text and metadata of a draft version, and what changed."""

    title: Name
    owner_role: Role
    review_months: int = Field(ge=1, le=60, strict=True)
    iso_clauses: list[IsoClause] = Field(default_factory=list, max_length=30)
    requirements: RequirementRefs = Field(default_factory=list)
    content: MarkdownText = Field(description="The procedure's text, as Markdown")
    change_summary: RequiredText
    acknowledge_roles: list[Role] | None = Field(
        default=None,
        max_length=5,
        description="The users' roles asked to acknowledge it as read and understood once "
        "approved; default: the owner role",
    )


class ProcedureCreate(VersionDraft):
    """A new procedure: its code and its first draft."""

    code: str = Field(pattern=CODE_PATTERN, description="e.g. PR-15")


class DraftUpdate(_In):
    """Changes to a draft; fields left out stay as they are."""

    title: Name | None = None
    owner_role: Role | None = None
    review_months: int | None = Field(default=None, ge=1, le=60, strict=True)
    iso_clauses: list[IsoClause] | None = Field(default=None, max_length=30)
    requirements: RequirementRefs | None = None
    content: MarkdownText | None = None
    change_summary: RequiredText | None = None
    acknowledge_roles: list[Role] | None = Field(
        default=None,
        max_length=5,
        description="The users' roles asked to acknowledge it as read and understood once approved",
    )


class VersionTransition(_In):
    """A move of a version: submit, request changes, approve, or withdraw."""

    to: VersionStatus
    reason: Reason | None = None
    effective_from: IsoDate | None = Field(default=None, description="On approval; default today")
    signature: SignatureConfirmation | None = Field(
        default=None, description="Required to approve, which is signed: meaning approved"
    )


class ReviewRequest(_In):
    """A periodic review of the effective version that finds no need to change it."""

    comment: Reason | None = None
    signature: SignatureConfirmation | None = Field(
        default=None, description="Required: the review is signed with the meaning reviewed"
    )


class VersionRead(BaseModel):
    """A version of a procedure, with its signatures."""

    id: int
    procedure_id: int
    code: str
    number: int
    status: VersionStatus
    title: str
    owner_role: Role
    review_months: int
    iso_clauses: list[str]
    requirements: list[str]
    acknowledge_roles: list[str]
    content_sha256: str
    change_summary: str
    author: str
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    effective_from: date | None
    next_review_on: date | None
    last_reviewed_on: date | None
    signatures: list[SignatureRead]
    allowed_transitions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class ProcedureRead(BaseModel):
    """A procedure with its effective version (a master-list line) and any version in the making."""

    id: int
    code: str
    title: str
    owner_role: Role
    status: str = Field(
        description="The effective version's status, or 'draft' before any approval"
    )
    effective_version: int | None
    effective_from: date | None
    next_review_on: date | None
    review_due: bool
    open_version: int | None = Field(description="The number of a draft or version in review")
    iso_clauses: list[str]
    requirements: list[str]


class DiffRead(BaseModel):
    """A unified diff between two versions of a procedure."""

    code: str
    from_version: int
    to_version: int
    diff: str


class SyncItem(BaseModel):
    """What a sync did with one file."""

    file: str
    code: str
    result: str
    version: int | None = None
    detail: str = ""


class SyncReport(BaseModel):
    """What a sync of the library did, file by file."""

    items: list[SyncItem]

    def count(self, result: str) -> int:
        """Count the files with this result."""
        return sum(1 for i in self.items if i.result == result)


class ProcedureDraftCreate(VersionDraft):
    """A new draft of an existing procedure (one draft at a time)."""
