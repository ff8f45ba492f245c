"""Risks and opportunities (ISO 9001 6.1): rated, treated, acted on and reviewed."""

from __future__ import annotations

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

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.risks.enums import RiskKind as RiskKind
from qms.risks.enums import RiskLevel as RiskLevel
from qms.risks.enums import RiskStatus as RiskStatus
from qms.risks.enums import Treatment as Treatment

if TYPE_CHECKING:
    from qms.accounts.models import User
    from qms.actions.models import CorrectiveAction

risk_action = Table(
    "risk_action",
    Base.metadata,
    Column("risk_id", ForeignKey("risk.id"), primary_key=True),
    Column("action_id", ForeignKey("corrective_action.id"), primary_key=True, index=True),
)


class Risk(Base):
    """A risk or an opportunity of one programme, or of the organisation (no programme)."""

    __tablename__ = "risk"
    __table_args__ = (UniqueConstraint("kind", "year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RiskKind] = mapped_column(str_enum(RiskKind, "kind"), index=True)
    status: Mapped[RiskStatus] = mapped_column(
        str_enum(RiskStatus, "status"), default=RiskStatus.open, index=True
    )
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    likelihood: Mapped[int] = mapped_column(Integer)
    consequence: Mapped[int] = mapped_column(Integer)
    treatment: Mapped[Treatment | None] = mapped_column(str_enum(Treatment, "treatment"))
    treatment_plan: Mapped[str | None] = mapped_column(Text)
    treatment_reason: Mapped[str | None] = mapped_column(Text)
    residual_likelihood: Mapped[int | None] = mapped_column(Integer)
    residual_consequence: Mapped[int | None] = mapped_column(Integer)
    review_on: Mapped[date | None] = mapped_column(Date, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    actions: Mapped[list[CorrectiveAction]] = relationship(
        secondary=risk_action, back_populates="risks", order_by="CorrectiveAction.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
