"""The organisation's context (ISO 9001 4.1), its interested parties (4.2) and the scope of the
quality management system (4.3)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow

# The reserved code of the procedure that is the quality policy (ISO 9001 5.2): a controlled
# document of the procedures' machinery, versioned, approved and reviewed like the others.
POLICY_CODE = "POL-01"


class IssueOrigin(enum.StrEnum):
    """Whether an issue arises inside the organisation or outside it."""

    internal = "internal"
    external = "external"


class IssueStatus(enum.StrEnum):
    """Whether an issue still bears on the programmes."""

    current = "current"
    no_longer_relevant = "no_longer_relevant"


class PartyKind(enum.StrEnum):
    """Which kind of interested party it is."""

    mentees = "mentees"
    mentors = "mentors"
    employers = "employers"
    funders = "funders"
    employment_service = "employment_service"
    partner_organisation = "partner_organisation"
    other = "other"


class ContextIssue(Base):
    """An internal or external issue that bears on the programmes and how they reach their aims."""

    __tablename__ = "context_issue"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    origin: Mapped[IssueOrigin] = mapped_column(str_enum(IssueOrigin, "origin"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    effect: Mapped[str] = mapped_column(Text)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    status: Mapped[IssueStatus] = mapped_column(str_enum(IssueStatus, "status"))
    # The day it was found no longer relevant: its retention is counted from it.
    ended_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date] = mapped_column(Date, index=True)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    last_reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class InterestedParty(Base):
    """A party whose requirements bear on the programmes, and how the system meets them."""

    __tablename__ = "interested_party"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PartyKind] = mapped_column(str_enum(PartyKind, "kind"))
    requirements: Mapped[str] = mapped_column(Text)
    how_met: Mapped[str] = mapped_column(Text)
    # The day it ceased to be a party of the programmes: its retention is counted from it.
    ended_on: Mapped[date | None] = mapped_column(Date)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    next_review_on: Mapped[date] = mapped_column(Date, index=True)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    last_reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class QualityScope(Base):
    """The scope of the quality management system: one row, its changes in the audit trail."""

    __tablename__ = "quality_scope"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coverage: Mapped[str] = mapped_column(Text)
    # Each requirement of ISO 9001 not applicable: {"clause": "8.3", "reason": "..."}.
    exclusions: Mapped[list[Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
