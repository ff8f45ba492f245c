"""Indicators per programme: planned against actual, computed from the records or entered."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow


class Direction(enum.StrEnum):
    """Which way is better."""

    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"


class Computation(enum.StrEnum):
    """How an indicator is computed from the records (entered: typed in for a period)."""

    completion_rate = "completion_rate"
    occupation_rate = "occupation_rate"
    employment_rate = "employment_rate"
    full_time_rate = "full_time_rate"
    follow_up_completion = "follow_up_completion"
    meeting_rule_compliance = "meeting_rule_compliance"
    mean_score = "mean_score"
    open_deviations = "open_deviations"
    overdue_actions = "overdue_actions"
    on_time_capa_closure = "on_time_capa_closure"
    entered = "entered"


class IndicatorDefinition(Base):
    """An indicator of a programme, with its planned value and where it becomes a breach."""

    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    computation: Mapped[Computation] = mapped_column(str_enum(Computation, "computation"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    planned: Mapped[float] = mapped_column(Float)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    threshold: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IndicatorValue(Base):
    """A value entered by hand for an indicator and a period."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "period_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
