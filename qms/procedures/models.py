"""Controlled procedures and their versions (ISO 9001 7.5)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.permissions import Role


class VersionStatus(enum.StrEnum):
    """Where a version is in its control (see qms.workflow.PROCEDURE_VERSION)."""

    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    superseded = "superseded"
    obsolete = "obsolete"


class Procedure(Base):
    """A documented procedure, identified by its code (PR-05); its text lives in versions."""

    __tablename__ = "procedure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # The SHA-256 of the library file's document as last brought in by a sync: a sync compares
    # the file with it, not with the versions, which may have changed since by approval.
    synced_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[ProcedureVersion]] = relationship(
        back_populates="procedure", order_by="ProcedureVersion.number"
    )


class ProcedureVersion(Base):
    """One version of a procedure: its text and front matter, and how it was approved."""

    __tablename__ = "procedure_version"
    __table_args__ = (
        UniqueConstraint("procedure_id", "number"),
        # One version in the making (draft or in review) per procedure at a time.
        Index(
            "uq_procedure_version_open",
            "procedure_id",
            unique=True,
            sqlite_where=text("status IN ('draft', 'in_review')"),
            postgresql_where=text("status IN ('draft', 'in_review')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedure.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(str_enum(VersionStatus, "status"))
    title: Mapped[str] = mapped_column(String(200))
    owner_role: Mapped[Role] = mapped_column(str_enum(Role, "owner_role"))
    review_months: Mapped[int] = mapped_column(Integer)
    iso_clauses: Mapped[list[Any]] = mapped_column(JSON)
    # The users' roles asked to acknowledge the version as read and understood once approved
    # (ISO 9001 7.3); a new version names its owner role unless told otherwise.
    acknowledge_roles: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    requirements: Mapped[list[Any]] = mapped_column(JSON)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    change_summary: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_from: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date, index=True)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer)

    procedure: Mapped[Procedure] = relationship(back_populates="versions")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)
