"""A recorded disposition decision."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, utcnow


class RetentionDecision(Base):
    """Who decided to dispose of which records of a kind, why, and under which cut-off."""

    __tablename__ = "retention_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    disposition: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    cutoff: Mapped[date] = mapped_column(Date)
    record_ids: Mapped[list[Any]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
