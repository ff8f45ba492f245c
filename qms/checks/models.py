"""Findings of the rules that watch the programme records, one deviation per finding."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, utcnow


class RuleFinding(Base):
    """What a rule found, under a key that says it once (e.g. meeting_rule:PAIR-0003:2026-05)."""

    __tablename__ = "rule_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pair.id"))
    detail: Mapped[str] = mapped_column(Text)
    found_on: Mapped[date] = mapped_column(Date)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviation.id"))
    cleared_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
