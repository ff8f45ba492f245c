"""Electronic signatures: who signed what, meaning what, when, over which content."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow


class SignatureMeaning(enum.StrEnum):
    """What a signature attests."""

    verified = "verified"
    approved = "approved"
    reviewed = "reviewed"
    closed = "closed"


class Signature(Base):
    """A signature over a record's content, identified by the content's SHA-256.

    The manifestation is kept with it as it was given (21 CFR 11.50): the signer's printed name,
    the moment, the meaning, and the statement they read and signed, in their language; the
    SHA-256 covers the statement too."""

    __tablename__ = "signature"
    __table_args__ = (Index("ix_signature_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(Integer)
    meaning: Mapped[SignatureMeaning] = mapped_column(str_enum(SignatureMeaning, "meaning"))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signer: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_sha256: Mapped[str] = mapped_column(String(64))
    # The name people read the signer by when they signed (the login when they had none).
    signer_name: Mapped[str | None] = mapped_column(String(200))
    # What the signer read and signed ("I verify that CA-2026-0002 was effective: …").
    statement: Mapped[str | None] = mapped_column(Text)
    statement_language: Mapped[str | None] = mapped_column(String(8))
