"""Participants (mentors and mentees) with their personal data kept apart, and mentees' goals."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.programmes.models import Cohort


class ParticipantRole(enum.StrEnum):
    """Which side of a pair a participant is on."""

    mentor = "mentor"
    mentee = "mentee"


class Participant(Base):
    """A mentor or mentee in a cohort, known to documents and auditors by a code only."""

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(str_enum(ParticipantRole, "role"))
    field: Mapped[str] = mapped_column(String(200))
    competence_needs: Mapped[str] = mapped_column(Text, default="")
    career_goals: Mapped[str] = mapped_column(Text, default="")
    screened_on: Mapped[date | None] = mapped_column(Date)
    screened_by: Mapped[str | None] = mapped_column(String(200))
    training_modules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    consent_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    cohort: Mapped[Cohort] = relationship()
    personal: Mapped[ParticipantPersonal] = relationship(
        back_populates="participant", uselist=False, cascade="all"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class ParticipantPersonal(Base):
    """A participant's personal data, seen only by the roles that need it; erasable for good."""

    __tablename__ = "participant_personal"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    participant: Mapped[Participant] = relationship(back_populates="personal")


class GoalStatus(enum.StrEnum):
    """Where a learning-plan goal stands."""

    open = "open"
    achieved = "achieved"
    dropped = "dropped"


class Goal(Base):
    """A goal of a mentee's individual learning plan, with its progress."""

    __tablename__ = "goal"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    target_on: Mapped[date | None] = mapped_column(Date)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[GoalStatus] = mapped_column(
        str_enum(GoalStatus, "status"), default=GoalStatus.open
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
