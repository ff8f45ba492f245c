"""Quality objectives (ISO 9001 6.2): a target, its owner and due date, its plan, and the
indicators that measure it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.accounts.models import User
from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.indicators.models import IndicatorDefinition
from qms.objectives.enums import ObjectiveStatus as ObjectiveStatus

objective_indicator = Table(
    "objective_indicator",
    Base.metadata,
    Column("objective_id", ForeignKey("quality_objective.id"), primary_key=True),
    Column("indicator_id", ForeignKey("indicator.id"), primary_key=True, index=True),
)


class QualityObjective(Base):
    """A quality objective of the organisation or of one programme, and the plan to reach it."""

    __tablename__ = "quality_objective"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    # None: the organisation's objective, across its programmes.
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    status: Mapped[ObjectiveStatus] = mapped_column(
        str_enum(ObjectiveStatus, "status"), default=ObjectiveStatus.planned, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    # What "reached" means, in words.
    target: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # The plan (ISO 9001 6.2.2): what will be done, with what, by whom, how results are judged.
    plan: Mapped[str] = mapped_column(Text)
    resources: Mapped[str | None] = mapped_column(Text)
    responsible: Mapped[str | None] = mapped_column(String(200))
    evaluation: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))
    result_note: Mapped[str | None] = mapped_column(Text)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    indicators: Mapped[list[IndicatorDefinition]] = relationship(
        secondary=objective_indicator, order_by="IndicatorDefinition.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
