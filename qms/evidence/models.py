"""Evidence files: a blob per distinct content (its SHA-256), and each attachment to a record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, utcnow

# The records a file can be attached to, named as the audit trail names them.
RECORDS = (
    "deviation",
    "action",
    "checklist_line",
    "follow_up",
    "management_review",
    "procedure",
    "training_record",
)
# What a corrective action's file shows: the work done, or the check that it worked.
PURPOSES = ("completion", "verification")


class EvidenceBlob(Base):
    """The bytes of one file, stored once whatever the number of records it is attached to.

    Never updated (a trigger refuses it): the key is the SHA-256 of the content.
    """

    __tablename__ = "evidence_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EvidenceFile(Base):
    """A file attached to a record: its name as uploaded (made safe), its type as sniffed from
    the content, and who attached it when."""

    __tablename__ = "evidence_file"
    __table_args__ = (
        CheckConstraint(
            "record IN ('deviation', 'action', 'checklist_line', 'follow_up', "
            "'management_review', 'procedure', 'training_record')",
            name="record",
        ),
        CheckConstraint(
            "purpose IS NULL OR purpose IN ('completion', 'verification')", name="purpose"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str | None] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_blob.sha256"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
