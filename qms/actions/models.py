"""Corrective actions: correction, corrective or preventive, verified for effectiveness."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.accounts.models import User

# The values an action takes, in a module of their own: the command line's options name them
# without the ORM.
from qms.actions.enums import ActionStatus as ActionStatus
from qms.actions.enums import ActionType as ActionType
from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.deviations.models import RootCauseMethod, deviation_action
from qms.risks.models import risk_action

if TYPE_CHECKING:
    from qms.deviations.models import Deviation
    from qms.risks.models import Risk


class CorrectiveAction(Base):
    """An action taken on one or more deviations, and the check that it worked."""

    __tablename__ = "corrective_action"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[ActionType] = mapped_column(str_enum(ActionType, "type"))
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "status"), default=ActionStatus.planned, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(Text)
    root_cause_method: Mapped[RootCauseMethod | None] = mapped_column(
        str_enum(RootCauseMethod, "root_cause_method")
    )
    root_cause: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    effectiveness_check_on: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completion_note: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_by: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))
    follows_action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"))
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    deviations: Mapped[list[Deviation]] = relationship(
        secondary=deviation_action, back_populates="actions", order_by="Deviation.id"
    )
    # The risks and opportunities it treats (ISO 9001 6.1.2).
    risks: Mapped[list[Risk]] = relationship(
        secondary=risk_action, back_populates="actions", order_by="Risk.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
