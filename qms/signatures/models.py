"""Electronic signatures: who signed what, meaning what, when, over which content."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow


class SignatureMeaning(enum.StrEnum):
    """What a signature attests."""

    verified = "verified"
    approved = "approved"
    reviewed = "reviewed"
    closed = "closed"


class Signature(Base):
    """A signature over a record's content, identified by the content's SHA-256."""

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
