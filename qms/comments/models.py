"""Comments on records: who said what, when; never changed once written."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow


class CommentedRecord(enum.StrEnum):
    """The kinds of record that take comments, named as the audit trail names them."""

    deviation = "deviation"
    action = "action"
    internal_audit = "internal_audit"
    management_review = "management_review"


class Comment(Base):
    """A remark on a record, kept as written (a correction is a new comment)."""

    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_record_record_id", "record", "record_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record: Mapped[CommentedRecord] = mapped_column(str_enum(CommentedRecord, "record"))
    record_id: Mapped[int] = mapped_column(Integer)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
