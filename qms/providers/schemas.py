"""What the API takes and gives for external providers and their evaluations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from qms.exports import Column
from qms.fields import Code, Id, IsoDate, LongText, Months, Name, Reason, RequiredText
from qms.i18n import N_
from qms.providers.enums import EvaluationDecision, ProviderKind, ProviderStatus

Score = Annotated[
    int, Strict(), Field(ge=1, le=5, description="1 (poor) to 5 (excellent), overall")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderCreate(_In):
    """A new external provider."""

    code: Code
    name: Name
    kind: ProviderKind
    provides: RequiredText
    criteria: RequiredText
    contact: LongText = ""
    programme_id: Id | None = Field(
        default=None, description="The programme it serves; none for the whole organisation"
    )
    status: ProviderStatus = ProviderStatus.approved
    status_reason: Reason | None = None
    evaluation_months: Months = 12
    next_evaluation_on: IsoDate | None = Field(
        default=None, description="Without one, the evaluation cycle from today"
    )


class ProviderUpdate(_In):
    """Changes to a provider; fields left out stay as they are. A new status needs a reason."""

    name: Name | None = None
    kind: ProviderKind | None = None
    provides: RequiredText | None = None
    criteria: RequiredText | None = None
    contact: LongText | None = None
    programme_id: Id | None = None
    status: ProviderStatus | None = None
    status_reason: Reason | None = None
    evaluation_months: Months | None = None
    next_evaluation_on: IsoDate | None = None


class ProviderRead(BaseModel):
    """A provider as stored, with its latest evaluation."""

    id: int
    code: str
    name: str
    kind: ProviderKind
    provides: str
    criteria: str
    contact: str
    programme_id: int | None
    programme_code: str | None
    status: ProviderStatus
    status_reason: str | None
    evaluation_months: int
    next_evaluation_on: date | None
    evaluation_overdue: bool
    last_evaluated_on: date | None
    last_score: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class ProviderEvaluationCreate(_In):
    """An evaluation of a provider: its score, what was found, and the decision."""

    evaluated_on: IsoDate | None = Field(default=None, description="Without one, today")
    score: Score
    summary: RequiredText
    decision: EvaluationDecision
    next_evaluation_on: IsoDate | None = Field(
        default=None,
        description="Without one, the provider's evaluation cycle from the evaluation's day; "
        "none when the decision ends the provider",
    )


class ProviderEvaluationRead(BaseModel):
    """A recorded evaluation (never changed: a correction is a new one)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    provider_id: int
    evaluated_on: date
    evaluated_by: str
    score: int
    summary: str
    decision: EvaluationDecision
    next_evaluation_on: date | None
    created_at: datetime


# A list of providers taken out as a file (qms.exports).
PROVIDER_COLUMNS = (
    Column("code", N_("Code")),
    Column("name", N_("Name")),
    Column("kind", N_("Kind"), coded=True),
    Column("provides", N_("Provides")),
    Column("criteria", N_("Criteria")),
    Column("contact", N_("Contact point")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("status", N_("Status"), coded=True),
    Column("status_reason", N_("Reason for the status")),
    Column("evaluation_months", N_("Evaluated every (months)")),
    Column("last_evaluated_on", N_("Last evaluated")),
    Column("last_score", N_("Last score")),
    Column("next_evaluation_on", N_("Next evaluation")),
    Column("evaluation_overdue", N_("Evaluation overdue")),
)
