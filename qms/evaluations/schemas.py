"""What the API takes and gives for instruments, imports and their batches."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qms.evaluations.models import BatchKind, QuestionType, Respondent
from qms.fields import Code, Name, Reason, RequiredText


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuestionCreate(_In):
    """A question: a code, its text, and how it is answered."""

    code: Code
    text: RequiredText
    type: QuestionType
    scale_min: int | None = Field(default=None, ge=-100, le=100, strict=True)
    scale_max: int | None = Field(default=None, ge=-100, le=100, strict=True)
    options: list[Name] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuestionCreate:
        if self.type is QuestionType.scale:
            if self.scale_min is None or self.scale_max is None or self.scale_min >= self.scale_max:
                raise ValueError("a scale question needs scale_min below scale_max")
        if self.type is QuestionType.choice and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        return self


class InstrumentCreate(_In):
    """An evaluation instrument with its questions."""

    code: Code
    name: Name
    respondent: Respondent
    questions: list[QuestionCreate] = Field(min_length=1, max_length=200)


class QuestionRead(BaseModel):
    """A question as stored."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    text: str
    type: QuestionType
    scale_min: int | None
    scale_max: int | None
    options: list[str]


class InstrumentRead(BaseModel):
    """An instrument with its questions."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    respondent: Respondent
    questions: list[QuestionRead]


class RejectedRow(BaseModel):
    """A row that was not written, and why."""

    row: int | None
    column: str
    message: str


class BatchRead(BaseModel):
    """An import batch: the file's provenance and what became of its rows."""

    id: int | None
    kind: BatchKind
    sha256: str
    file_name: str
    size_bytes: int
    file_format: str
    shape: str
    mode: str
    rows_total: int
    rows_written: int
    rows_rejected: int
    rejected: list[RejectedRow]
    importer: str
    source: str | None
    idempotency_key: str | None
    started_at: datetime
    finished_at: datetime
    rolled_back_at: datetime | None = None
    rolled_back_by: str | None = None
    rollback_reason: str | None = None
    dry_run: bool = False
    replayed: bool = Field(
        default=False, description="The same content was imported before: this is that batch"
    )


class RollbackRequest(_In):
    """Why a batch is taken back out."""

    reason: Reason


Mode = Literal["all", "partial"]
Shape = Literal["long", "wide"]
