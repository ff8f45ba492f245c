"""Evaluation instruments, imported answers and outcomes, and the batches that brought them in."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow


class QuestionType(enum.StrEnum):
    """How a question is answered."""

    scale = "scale"
    choice = "choice"
    text = "text"
    number = "number"


class Respondent(enum.StrEnum):
    """Who an instrument asks."""

    mentor = "mentor"
    mentee = "mentee"
    both = "both"


class Instrument(Base):
    """An evaluation instrument: a survey with coded questions (e.g. the final survey)."""

    __tablename__ = "instrument"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    respondent: Mapped[Respondent] = mapped_column(str_enum(Respondent, "respondent"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="instrument", order_by="Question.id"
    )


class Question(Base):
    """A question of an instrument, with its code and its kind of answer."""

    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("instrument_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[QuestionType] = mapped_column(str_enum(QuestionType, "type"))
    scale_min: Mapped[int | None] = mapped_column(Integer)
    scale_max: Mapped[int | None] = mapped_column(Integer)
    # The bounds of a number question (e.g. hours from 0), either or both optional.
    number_min: Mapped[float | None] = mapped_column(Float)
    number_max: Mapped[float | None] = mapped_column(Float)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)

    instrument: Mapped[Instrument] = relationship(back_populates="questions")


class BatchKind(enum.StrEnum):
    """What a batch brought in."""

    evaluations = "evaluations"
    outcomes = "outcomes"


class EvaluationBatch(Base):
    """One import: the file's provenance, who brought it in, and what became of its rows."""

    __tablename__ = "evaluation_batch"
    __table_args__ = (
        # The same content makes one batch, until that batch is rolled back.
        Index(
            "uq_evaluation_batch_content",
            "kind",
            "sha256",
            unique=True,
            sqlite_where=text("rolled_back_at IS NULL"),
            postgresql_where=text("rolled_back_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[BatchKind] = mapped_column(str_enum(BatchKind, "kind"))
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    file_format: Mapped[str] = mapped_column(String(8))
    shape: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(8))
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_written: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[list[Any]] = mapped_column(JSON, default=list)
    importer: Mapped[str] = mapped_column(String(200))
    importer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rolled_back_by: Mapped[str | None] = mapped_column(String(200))
    rollback_reason: Mapped[str | None] = mapped_column(Text)
    # How a CSV file was read (encoding and delimiter, found or given), to say it again later.
    encoding: Mapped[str | None] = mapped_column(String(32))
    delimiter: Mapped[str | None] = mapped_column(String(8))
    # Every problem found (rejected keeps them all; the answer shows the first ones).
    problems_total: Mapped[int | None] = mapped_column(Integer)
    # The saved mapping the file was read by, if it was named (see qms.evaluations.mappings).
    mapping_id: Mapped[int | None] = mapped_column(ForeignKey("import_mapping.id"))
    mapping: Mapped[ImportMapping | None] = relationship(lazy="selectin")
    # The programme whose participants the rows are (a file answers for one programme); none
    # when no row was written, or for a batch from before batches had one that mixed programmes.
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)


class ImportProblem(Base):
    """A problem of a batch's row, every one of them (the batch itself keeps the first ones)."""

    __tablename__ = "import_problem"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("evaluation_batch.id"), index=True)
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)


class ImportMapping(Base):
    """A saved mapping of a survey tool's columns to an instrument's questions, by name."""

    __tablename__ = "import_mapping"
    __table_args__ = (UniqueConstraint("instrument_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    name: Mapped[str] = mapped_column(String(64))
    # The survey tool the mapping is for (e.g. Microsoft Forms), as the user named it.
    source: Mapped[str | None] = mapped_column(String(200))
    # The file's column (header) -> a question code, or participant / submitted_at.
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    instrument: Mapped[Instrument] = relationship()


class EvaluationResponse(Base):
    """One imported answer of a participant to a question."""

    __tablename__ = "evaluation_response"
    __table_args__ = (UniqueConstraint("participant_id", "question_id", "submitted_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("evaluation_batch.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    value_number: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date] = mapped_column(Date)
    # The moment the answer was sent, when the file said it (answers from before kept only a day).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutcomeKind(enum.StrEnum):
    """Where a participant stands after the programme."""

    employed_full_time = "employed_full_time"
    employed_part_time = "employed_part_time"
    education = "education"
    job_seeking = "job_seeking"
    other = "other"


class Outcome(Base):
    """A participant's outcome on a date."""

    __tablename__ = "outcome"
    __table_args__ = (UniqueConstraint("participant_id", "outcome_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_batch.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    outcome: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, "outcome"))
    outcome_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
