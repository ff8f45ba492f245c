"""Mid-programme follow-ups of pairs: a scheduled control with structured answers."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.pairs.models import Pair


class FollowUpOutcome(enum.StrEnum):
    """How the pair is doing, as the follow-up found."""

    on_track = "on_track"
    concern = "concern"
    at_risk = "at_risk"


class FollowUp(Base):
    """The mid-programme follow-up ("mittuppföljning") of a pair."""

    __tablename__ = "follow_up"
    __table_args__ = (
        CheckConstraint("goal_progress IS NULL OR goal_progress BETWEEN 1 AND 5", name="goal_1_5"),
        CheckConstraint(
            "relationship_rating IS NULL OR relationship_rating BETWEEN 1 AND 5", name="rel_1_5"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    scheduled_on: Mapped[date] = mapped_column(Date, index=True)
    held_on: Mapped[date | None] = mapped_column(Date)
    held_by: Mapped[str | None] = mapped_column(String(200))
    expectations_clarified: Mapped[bool | None] = mapped_column(Boolean)
    goal_progress: Mapped[int | None] = mapped_column(Integer)
    meeting_frequency_kept: Mapped[bool | None] = mapped_column(Boolean)
    relationship_rating: Mapped[int | None] = mapped_column(Integer)
    extra_support_needed: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[FollowUpOutcome | None] = mapped_column(str_enum(FollowUpOutcome, "outcome"))
    decision: Mapped[str | None] = mapped_column(Text)
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviation.id"))
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    pair: Mapped[Pair] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
