"""The audit trail: append-only events, hash-chained, with the chain's head kept apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One thing that happened to a record; never updated or deleted (the database refuses)."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    programme_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """The chain's newest hash and its length, updated in the same transaction as each append.

    Kept apart from the events so that deleting the newest events is detected too.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditCheckpoint(Base):
    """A signed statement that the chain's event `seq` had this hash (qms.audit.checkpoints);
    never updated or deleted (the database refuses), and copied to a file outside it."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The start of the SHA-256 of the public key that verifies the signature.
    key_id: Mapped[str] = mapped_column(String(16))
    # Ed25519 over the checkpoint's seq, hash and time, base64.
    signature: Mapped[str] = mapped_column(String(100))
