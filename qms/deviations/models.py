"""Deviations: nonconformities, deviations from plan and observations (ISO 9001 8.7, 10.2)."""

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

if TYPE_CHECKING:
    from qms.accounts.models import User
    from qms.actions.models import CorrectiveAction
    from qms.risks.models import Risk

from qms.db import Base, UTCDateTime, str_enum, utcnow

# The values a deviation takes, in a module of their own: the command line's options name them
# without the ORM.
from qms.deviations.enums import DeviationKind as DeviationKind
from qms.deviations.enums import DeviationSource as DeviationSource
from qms.deviations.enums import DeviationStatus as DeviationStatus
from qms.deviations.enums import RootCauseMethod as RootCauseMethod
from qms.deviations.enums import Severity as Severity

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
    # The external provider the finding is raised against (ISO 9001 8.4), if any.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    # The risk it realised (ISO 9001 6.1), if any.
    risk_id: Mapped[int | None] = mapped_column(ForeignKey("risk.id"), index=True)
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
    # Who sees it through: a user, named in its events by their user name.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    actions: Mapped[list[CorrectiveAction]] = relationship(
        secondary=deviation_action, back_populates="deviations", order_by="CorrectiveAction.id"
    )

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    # Loaded with the deviation: its number is read wherever the deviation is shown.
    risk: Mapped[Risk | None] = relationship(foreign_keys=[risk_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
