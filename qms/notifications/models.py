"""The send log: each reminder of a person, by kind, record and day, pending until sent."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow


class ReminderKind(enum.StrEnum):
    """What a person is reminded of (each can be turned off by the person)."""

    assigned = "assigned"
    due_soon = "due_soon"
    overdue = "overdue"
    approval_waiting = "approval_waiting"
    follow_up_due = "follow_up_due"
    procedure_review_due = "procedure_review_due"
    deviation_opened_by_rule = "deviation_opened_by_rule"
    acknowledgement_due = "acknowledgement_due"


class ReminderStatus(enum.StrEnum):
    """Whether a reminder has gone out."""

    pending = "pending"
    sent = "sent"


class Reminder(Base):
    """One thing a person is reminded of on a day: queued once (the unique key), pending until an
    SMTP server has taken the digest it is in, then sent; a failed attempt waits and is tried
    again."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("user_id", "kind", "record", "record_id", "queued_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind, "kind"))
    # The record as the audit trail names it, and its number and title as they were when queued.
    record: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    link: Mapped[str] = mapped_column(String(200))
    queued_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ReminderStatus] = mapped_column(
        str_enum(ReminderStatus, "status"), default=ReminderStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the last attempt failed (the server's answer, never its credentials).
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobRun(Base):
    """A daily job of the scheduler: the last day it ran, and (on SQLite) the lock row that lets
    one process at a time run it."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_run_on: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who holds the job now (host and process) and until when the hold counts.
    holder: Mapped[str | None] = mapped_column(String(100))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
