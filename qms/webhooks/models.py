"""Webhook subscriptions, the events found for them, and the log of each delivery."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qms.db import Base, UTCDateTime, str_enum, utcnow


class WebhookEventKind(enum.StrEnum):
    """What a subscription may be told of: the reminders' kinds, a critical deviation, a test."""

    assigned = "assigned"
    due_soon = "due_soon"
    overdue = "overdue"
    approval_waiting = "approval_waiting"
    follow_up_due = "follow_up_due"
    procedure_review_due = "procedure_review_due"
    deviation_opened_by_rule = "deviation_opened_by_rule"
    deviation_critical = "deviation_critical"
    test = "test"


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookSubscription(Base):
    """A URL told of the kinds of event it asks for, each body signed with its secret."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # The kinds wanted, as their codes.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kept as it is, since the service computes the HMAC with it; never shown again after it is
    # made, never logged, never in the audit trail.
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        # The secret stays out of logs and tracebacks.
        return f"WebhookSubscription(id={self.id!r}, url={self.url!r})"


class WebhookEvent(Base):
    """Something that happened, told once to each subscription that wants its kind (the key
    keeps an event from being found twice: once a record, or once a day for an overdue one)."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The event's id as receivers see it (in the body).
    uid: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[WebhookEventKind] = mapped_column(str_enum(WebhookEventKind, "kind"))
    record: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The JSON body sent, as sent (what is signed).
    body: Mapped[str] = mapped_column(Text)


class WebhookDelivery(Base):
    """One event to one subscription: pending until its receiver answers 2xx, tried again with
    a growing wait, failed after the last attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # X-QMS-Delivery: the same on every attempt, so a receiver can leave out a repeat.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_event.id"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "status"), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Why the last attempt failed (never the secret, never the body).
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
