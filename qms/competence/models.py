"""Competences each role needs, training records, and read-and-understood acknowledgements."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.accounts.models import User
from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.participants.models import Participant
from qms.procedures.models import ProcedureVersion


class CompetenceRole(enum.StrEnum):
    """Whom a competence is asked of: the users' roles that keep the system, or mentors."""

    coordinator = "coordinator"
    quality_lead = "quality_lead"
    mentor = "mentor"


class ObtainedBy(enum.StrEnum):
    """How a competence is obtained."""

    training = "training"
    experience = "experience"
    education = "education"


class Competence(Base):
    """A competence a role needs (ISO 9001 7.2), how it is obtained and how often it is renewed."""

    __tablename__ = "competence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[CompetenceRole] = mapped_column(str_enum(CompetenceRole, "role"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    obtained_by: Mapped[ObtainedBy] = mapped_column(str_enum(ObtainedBy, "obtained_by"))
    renewal_months: Mapped[int | None] = mapped_column(Integer)
    # A mentor lacking it may not be matched: the rule check names such pairs.
    before_matching: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class TrainingRecord(Base):
    """One person's completion of a competence: a user of the system or a mentor."""

    __tablename__ = "training_record"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (participant_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competence.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    completed_on: Mapped[date] = mapped_column(Date)
    given_by: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    expires_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    competence: Mapped[Competence] = relationship()
    user: Mapped[User | None] = relationship()
    participant: Mapped[Participant | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class Acknowledgement(Base):
    """A user asked to read and understand an approved procedure version (ISO 9001 7.3)."""

    __tablename__ = "acknowledgement"
    __table_args__ = (UniqueConstraint("procedure_version_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_version_id: Mapped[int] = mapped_column(
        ForeignKey("procedure_version.id"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    procedure_version: Mapped[ProcedureVersion] = relationship()
    user: Mapped[User] = relationship()
