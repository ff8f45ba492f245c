"""Programmes and their cohorts."""

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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow


class ProgrammeStatus(enum.StrEnum):
    """Where a programme is in its life."""

    planned = "planned"
    running = "running"
    closed = "closed"
    cancelled = "cancelled"


class Programme(Base):
    """A mentor programme: who runs it, for whom, to what end, and by which rules."""

    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint(
            "min_meetings_per_month IS NULL OR min_meetings_per_month >= 0",
            name="min_meetings_nonnegative",
        ),
        CheckConstraint(
            "min_minutes_per_month IS NULL OR min_minutes_per_month >= 0",
            name="min_minutes_nonnegative",
        ),
        CheckConstraint("length_months IS NULL OR length_months > 0", name="length_positive"),
        CheckConstraint("max_mentees_per_mentor >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(200))
    target_group: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    min_meetings_per_month: Mapped[int | None] = mapped_column(Integer)
    min_minutes_per_month: Mapped[int | None] = mapped_column(Integer)
    length_months: Mapped[int | None] = mapped_column(Integer)
    follow_up_at_midpoint: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    max_mentees_per_mentor: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[ProgrammeStatus] = mapped_column(
        str_enum(ProgrammeStatus, "status"), default=ProgrammeStatus.planned
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="programme", order_by="Cohort.start_on"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class Cohort(Base):
    """One intake of a programme, with its start, midpoint and end."""

    __tablename__ = "cohort"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint("start_on < end_on", name="start_before_end"),
        CheckConstraint(
            "midpoint_on IS NULL OR (midpoint_on > start_on AND midpoint_on < end_on)",
            name="midpoint_between",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    start_on: Mapped[date] = mapped_column(Date)
    midpoint_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    programme: Mapped[Programme] = relationship(back_populates="cohorts")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
