"""The access log: entries written in batches, each batch hashed and chained to the one before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AccessEntry(Base):
    """One read by an audited user; never updated or deleted (the database refuses)."""

    __tablename__ = "access_entry"

    # Numbered from 1 without gaps, in the order the batches were written.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The batch the entry was written in (access_batch.seq).
    batch_seq: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    # What the reader came in by: a token or a web session, and its id.
    via: Mapped[str] = mapped_column(String(16))
    via_id: Mapped[int | None] = mapped_column(Integer)
    programme_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The method, path and query: "GET /api/v1/deviations?status=open".
    request: Mapped[str] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(64))


class AccessBatch(Base):
    """The entries written together: their count and a hash over them chained to the batch
    before; signed with the audit trail's key when one exists. Never updated or deleted."""

    __tablename__ = "access_batch"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))
    signature: Mapped[str | None] = mapped_column(String(100))


class AccessLogHead(Base):
    """The newest batch and its hash, updated with each batch: the row the writers of batches
    take turns on (never the audit chain's), and what shows the newest batches removed."""

    __tablename__ = "access_log_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
