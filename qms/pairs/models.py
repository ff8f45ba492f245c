"""Pairs of a mentor and a mentee, and their meetings."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.participants.models import Participant


class PairStatus(enum.StrEnum):
    """Where a pair is in its life (see qms.workflow.PAIR)."""

    matched = "matched"
    active = "active"
    completed = "completed"
    unwound = "unwound"


class Pair(Base):
    """A mentor and a mentee matched in a cohort, from the match to its closure."""

    __tablename__ = "pair"
    __table_args__ = (
        CheckConstraint("mentor_id <> mentee_id", name="two_people"),
        # A mentee is in one live pair at a time, even when two coordinators match at once.
        Index(
            "uq_pair_live_mentee",
            "mentee_id",
            unique=True,
            sqlite_where=text("status IN ('matched', 'active')"),
            postgresql_where=text("status IN ('matched', 'active')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    status: Mapped[PairStatus] = mapped_column(
        str_enum(PairStatus, "status"), default=PairStatus.matched, index=True
    )
    matched_on: Mapped[date] = mapped_column(Date)
    rationale: Mapped[str] = mapped_column(Text)
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    closure_reason: Mapped[str | None] = mapped_column(Text)
    mentor_feedback: Mapped[str | None] = mapped_column(Text)
    mentee_feedback: Mapped[str | None] = mapped_column(Text)
    rematch_of_id: Mapped[int | None] = mapped_column(ForeignKey("pair.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    mentor: Mapped[Participant] = relationship(foreign_keys=[mentor_id])
    mentee: Mapped[Participant] = relationship(foreign_keys=[mentee_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class MeetingMode(enum.StrEnum):
    """How a meeting was held."""

    in_person = "in_person"
    video = "video"
    phone = "phone"
    other = "other"


class Meeting(Base):
    """One meeting of a pair."""

    __tablename__ = "meeting"
    __table_args__ = (CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_in_a_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[MeetingMode] = mapped_column(str_enum(MeetingMode, "mode"))
    topics: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
