"""External providers and their evaluations (ISO 9001 8.4)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.providers.enums import EvaluationDecision as EvaluationDecision
from qms.providers.enums import ProviderKind as ProviderKind
from qms.providers.enums import ProviderStatus as ProviderStatus


class Provider(Base):
    """An organisation the programme relies on: a partner, trainer, funder, referrer or venue."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProviderKind] = mapped_column(str_enum(ProviderKind, "kind"))
    provides: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text)
    # The organisation's contact point (a desk, a shared address), not a private person's data.
    contact: Mapped[str] = mapped_column(Text)
    # The programme it serves; none when it serves the whole organisation.
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    status: Mapped[ProviderStatus] = mapped_column(str_enum(ProviderStatus, "status"), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    evaluation_months: Mapped[int] = mapped_column(Integer)
    next_evaluation_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    evaluations: Mapped[list[ProviderEvaluation]] = relationship(
        back_populates="provider",
        order_by="(ProviderEvaluation.evaluated_on.desc(), ProviderEvaluation.id.desc())",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class ProviderEvaluation(Base):
    """A periodic evaluation of a provider: its score, decision and the next date. Never changed:
    a correction is a new evaluation."""

    __tablename__ = "provider_evaluation"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    evaluated_on: Mapped[date] = mapped_column(Date)
    evaluated_by: Mapped[str] = mapped_column(String(200))
    score: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    decision: Mapped[EvaluationDecision] = mapped_column(str_enum(EvaluationDecision, "decision"))
    next_evaluation_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Provider] = relationship(back_populates="evaluations")
