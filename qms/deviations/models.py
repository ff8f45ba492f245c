"""Deviations: nonconformities, deviations from plan and observations (ISO 9001 8.7, 10.2)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from qms.actions.models import CorrectiveAction

from qms.db import Base, UTCDateTime, str_enum, utcnow


class DeviationKind(enum.StrEnum):
    """What kind of finding it is."""

    nonconformity = "nonconformity"
    deviation_from_plan = "deviation_from_plan"
    observation = "observation"


class DeviationSource(enum.StrEnum):
    """Where the finding came from."""

    follow_up = "follow_up"
    evaluation = "evaluation"
    meeting_rule = "meeting_rule"
    internal_audit = "internal_audit"
    complaint = "complaint"
    self_reported = "self_reported"
    indicator = "indicator"


class Severity(enum.StrEnum):
    """How serious it is."""

    minor = "minor"
    major = "major"
    critical = "critical"


class DeviationStatus(enum.StrEnum):
    """Where the deviation is in its workflow (see qms.workflow.DEVIATION)."""

    open = "open"
    investigating = "investigating"
    action_required = "action_required"
    closed = "closed"
    reopened = "reopened"


class RootCauseMethod(enum.StrEnum):
    """How the root cause was found."""

    five_whys = "five_whys"
    fishbone = "fishbone"
    other = "other"


deviation_action = Table(
    "deviation_action",
    Base.metadata,
    Column("deviation_id", ForeignKey("deviation.id"), primary_key=True),
    Column("action_id", ForeignKey("corrective_action.id"), primary_key=True, index=True),
)


class Deviation(Base):
    """A finding, from detection through investigation and action to closure."""

    __tablename__ = "deviation"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DeviationKind] = mapped_column(str_enum(DeviationKind, "kind"))
    source: Mapped[DeviationSource] = mapped_column(str_enum(DeviationSource, "source"))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"), index=True)
    status: Mapped[DeviationStatus] = mapped_column(
        str_enum(DeviationStatus, "status"), default=DeviationStatus.open, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    immediate_containment: Mapped[str | None] = mapped_column(Text)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pair.id"), index=True)
    procedure_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedure_version.id"), index=True
    )
    iso_clause: Mapped[str | None] = mapped_column(String(16))
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    detected_by: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    root_cause_method: Mapped[RootCauseMethod | None] = mapped_column(
        str_enum(RootCauseMethod, "root_cause_method")
    )
    root_cause: Mapped[str | None] = mapped_column(Text)
    closure_summary: Mapped[str | None] = mapped_column(Text)
    no_action_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    actions: Mapped[list[CorrectiveAction]] = relationship(
        secondary=deviation_action, back_populates="deviations", order_by="CorrectiveAction.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
