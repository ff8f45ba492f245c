"""Users and their bearer tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qms.db import Base, UTCDateTime, str_enum, utcnow
from qms.permissions import Role


class User(Base):
    """Someone (or some script) who uses the service, with exactly one role."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The login: what audit events, owners and signatures keep.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The name as compared (NFKC, case folded): no two users differ only in case or form.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    # How people read who someone is ("Kari Nordmann"); none means the login is shown.
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # For the web front: an scrypt hash (qms.accounts.passwords); none means no web sign-in.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Where reminders go and the language they are written in (none: English); the address is
    # never put in the audit trail.
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(8))
    # The kinds of reminder the person has turned off (qms.notifications.models.ReminderKind).
    reminder_opt_outs: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token, stored only as its SHA-256; it may expire, be revoked or be scoped."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class WebSession(Base):
    """A signed-in browser: the cookie's secret is stored only as its SHA-256."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The synchroniser token every form of this session carries (not a secret from the user).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class AuthFailure(Base):
    """Failed authentications of one user (or of unknown ones) from one client address.

    The client's failures in a row make its next attempts wait, not the user's from elsewhere;
    the trail gets a summary at most once a minute (the failures since the last one), never
    the text that was typed.
    """

    __tablename__ = "auth_failure"
    __table_args__ = (UniqueConstraint("via", "subject", "client"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "web" (the sign-in form) or "api" (a bearer token).
    via: Mapped[str] = mapped_column(String(8))
    # Whom the attempts were for: "user:<id>", "token:<id>", or an unknown user or token.
    subject: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The address the attempts came from, as the service saw it.
    client: Mapped[str] = mapped_column(String(64))
    in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # Failures not yet summarised in the trail, and when the last summary was written.
    unreported: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_unreported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
