"""Complaints (ISO 9001 9.1.2, 10.2), with the complainant's details kept apart as personal data."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.complaints.enums import ComplainantCategory as ComplainantCategory
from qms.complaints.enums import ComplaintChannel as ComplaintChannel
from qms.complaints.enums import ComplaintOutcome as ComplaintOutcome
from qms.complaints.enums import ComplaintStatus as ComplaintStatus
from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.deviations.models import Deviation


class Complaint(Base):
    """A complaint from receipt through acknowledgement and answer to closure."""

    __tablename__ = "complaint"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[ComplaintChannel] = mapped_column(str_enum(ComplaintChannel, "channel"))
    complainant_category: Mapped[ComplainantCategory] = mapped_column(
        str_enum(ComplainantCategory, "complainant_category")
    )
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus, "status"), default=ComplaintStatus.received, index=True
    )
    acknowledge_due_on: Mapped[date] = mapped_column(Date)
    answer_due_on: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[ComplaintOutcome | None] = mapped_column(str_enum(ComplaintOutcome, "outcome"))
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviation.id"), index=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    deviation: Mapped[Deviation | None] = relationship(foreign_keys=[deviation_id])
    complainant: Mapped[Complainant] = relationship(
        back_populates="complaint", uselist=False, cascade="all"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class Complainant(Base):
    """Who made a complaint and how to reach them: personal data, seen only by those who may."""

    __tablename__ = "complainant"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    complaint: Mapped[Complaint] = relationship(back_populates="complainant")
