"""What the API takes and gives for instruments, imports and their batches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from qms.evaluations.models import BatchKind, QuestionType, Respondent
from qms.fields import Code, Figure, Name, Reason, RequiredText


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuestionCreate(_In):
    """A question: a code, its text, and how it is answered."""

    code: Code
    text: RequiredText
    type: QuestionType
    scale_min: int | None = Field(default=None, ge=-100, le=100, strict=True)
    scale_max: int | None = Field(default=None, ge=-100, le=100, strict=True)
    number_min: Figure | None = Field(default=None, description="a number question: at least")
    number_max: Figure | None = Field(default=None, description="a number question: at most")
    options: list[Name] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuestionCreate:
        if self.type is QuestionType.scale:
            if self.scale_min is None or self.scale_max is None or self.scale_min >= self.scale_max:
                raise ValueError("a scale question needs scale_min below scale_max")
        if self.type is not QuestionType.number and (
            self.number_min is not None or self.number_max is not None
        ):
            raise ValueError("number_min and number_max are for a number question")
        if (
            self.number_min is not None
            and self.number_max is not None
            and self.number_min >= self.number_max
        ):
            raise ValueError("a number question needs number_min below number_max")
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
    number_min: float | None = None
    number_max: float | None = None
    options: list[str]


class InstrumentRead(BaseModel):
    """An instrument with its questions."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    respondent: Respondent
    questions: list[QuestionRead]


# What a column of a file may be mapped to besides a question: who answered, and when.
MAPPING_TARGETS = ("participant", "submitted_at")
MappingName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"),
    Field(description="Letters, digits, space, '.', '_' and '-', at most 64 characters"),
]
Header = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MappingCreate(_In):
    """A mapping to keep: a survey tool's column headers to an instrument's question codes (or to
    participant and submitted_at), used by its name on later imports."""

    name: MappingName
    source: Name | None = Field(default=None, description="the survey tool, e.g. Microsoft Forms")
    columns: dict[Header, Code | Literal["participant", "submitted_at"]] = Field(
        min_length=1, max_length=500
    )


class MappingRead(BaseModel):
    """A saved mapping."""

    id: int
    instrument: str
    name: str
    source: str | None
    columns: dict[str, str]
    created_at: datetime
    created_by: str


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
    rejected: list[RejectedRow] = Field(
        description="The first problems (QMS_IMPORT_PROBLEMS_SHOWN, 1,000), by row and column"
    )
    problems_total: int | None = Field(
        default=None, description="Every problem found; all are kept with the batch"
    )
    importer: str
    source: str | None
    idempotency_key: str | None
    started_at: datetime
    finished_at: datetime
    rolled_back_at: datetime | None = None
    rolled_back_by: str | None = None
    rollback_reason: str | None = None
    encoding: str | None = Field(default=None, description="CSV: the encoding it was read in")
    delimiter: str | None = Field(default=None, description="CSV: the delimiter it was read by")
    mapping: str | None = Field(
        default=None, description="The saved mapping the file was read by, by its name"
    )
    dry_run: bool = False
    replayed: bool = Field(
        default=False, description="The same content was imported before: this is that batch"
    )


class RollbackRequest(_In):
    """Why a batch is taken back out."""

    reason: Reason


Mode = Literal["all", "partial"]
Shape = Literal["long", "wide"]
