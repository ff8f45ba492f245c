"""Internal audits with their checklists, and management reviews with their decisions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow


class AuditStatus(enum.StrEnum):
    """Where an internal audit stands."""

    planned = "planned"
    in_progress = "in_progress"
    reported = "reported"
    closed = "closed"
    cancelled = "cancelled"


class Conformity(enum.StrEnum):
    """A checklist line's answer."""

    yes = "yes"
    no = "no"
    not_applicable = "not_applicable"


class InternalAudit(Base):
    """An internal audit: its plan, its checklist, and what it found."""

    __tablename__ = "internal_audit"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
    procedure_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    auditors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    auditees: Mapped[list[Any]] = mapped_column(JSON, default=list)
    start_on: Mapped[date] = mapped_column(Date, index=True)
    end_on: Mapped[date] = mapped_column(Date)
    status: Mapped[AuditStatus] = mapped_column(
        str_enum(AuditStatus, "status"), default=AuditStatus.planned
    )
    strong_points: Mapped[str] = mapped_column(Text, default="")
    improvement_points: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    lines: Mapped[list[ChecklistLine]] = relationship(
        back_populates="audit", order_by="ChecklistLine.position"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class ChecklistLine(Base):
    """One question of an audit's checklist and its answer."""

    __tablename__ = "audit_checklist_line"
    __table_args__ = (UniqueConstraint("audit_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("internal_audit.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedure.id"))
    requirement: Mapped[str | None] = mapped_column(String(64))
    conforms: Mapped[Conformity | None] = mapped_column(str_enum(Conformity, "conforms"))
    evidence: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviation.id"), index=True)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)

    audit: Mapped[InternalAudit] = relationship(back_populates="lines")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class ReviewStatus(enum.StrEnum):
    """Where a management review stands."""

    planned = "planned"
    held = "held"
    closed = "closed"
    cancelled = "cancelled"


class DecisionKind(enum.StrEnum):
    """The outputs ISO 9001 9.3.3 asks a review to decide on."""

    improvement = "improvement"
    change = "change"
    resources = "resources"


class ManagementReview(Base):
    """A management review: the period it looks back on, the inputs, who took part, what it
    decided and concluded."""

    __tablename__ = "management_review"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    planned_on: Mapped[date] = mapped_column(Date, index=True)
    held_on: Mapped[date | None] = mapped_column(Date)
    participants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    conclusion: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, "status"), default=ReviewStatus.planned
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    decisions: Mapped[list[ReviewDecision]] = relationship(
        back_populates="review", order_by="ReviewDecision.position"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class ReviewDecision(Base):
    """One decision of a review; it may open a corrective or preventive action."""

    __tablename__ = "review_decision"
    __table_args__ = (UniqueConstraint("review_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("management_review.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DecisionKind] = mapped_column(str_enum(DecisionKind, "kind"))
    text: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    decided_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    review: Mapped[ManagementReview] = relationship(back_populates="decisions")
