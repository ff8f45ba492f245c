"""Outgoing webhooks: admins subscribe URLs to kinds of event; events are queued in the
transaction that finds them and sent after it, by the scheduler or `qms webhooks send`, each body
signed with the subscription's secret (HMAC-SHA256) and tried again with a growing wait."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from qms import i18n
from qms.accounts.models import User
from qms.audit.service import created, record_event
from qms.concurrency import check_if_match
from qms.config import Settings, get_settings
from qms.db import Database, utcnow
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.i18n import N_, Text
from qms.permissions import Action, Actor, Role, require
from qms.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventKind,
    WebhookSubscription,
)

log = logging.getLogger("qms.webhooks")

# Who the trail says sent a webhook (the scheduler or `qms webhooks send`).
SENDER = Actor(user_id=None, name="scheduler", role=Role.admin)

# The kinds a subscription may ask for (a test event goes to the one subscription tested).
SUBSCRIBABLE = tuple(k for k in WebhookEventKind if k is not WebhookEventKind.test)
# Kinds told once a record; an overdue record is told once a day.
DAILY = frozenset({WebhookEventKind.overdue})

# The human text of each kind of event, in English (the codes beside it are for machines).
SAYS: dict[WebhookEventKind, str] = {
    WebhookEventKind.assigned: N_("%(number)s %(title)s was assigned."),
    WebhookEventKind.due_soon: N_("%(number)s %(title)s is due on %(day)s."),
    WebhookEventKind.overdue: N_("%(number)s %(title)s is overdue since %(day)s."),
    WebhookEventKind.approval_waiting: N_("%(number)s %(title)s waits for approval or review."),
    WebhookEventKind.follow_up_due: N_("Follow-up %(number)s %(title)s is due on %(day)s."),
    WebhookEventKind.procedure_review_due: N_(
        "Procedure %(number)s %(title)s is due for review on %(day)s."
    ),
    WebhookEventKind.deviation_opened_by_rule: N_(
        "The rule check opened deviation %(number)s %(title)s."
    ),
    WebhookEventKind.deviation_critical: N_("Critical deviation %(number)s %(title)s was logged."),
    WebhookEventKind.test: N_("A test event from mentor-qms."),
}


class WebhookCreate(BaseModel):
    """A new subscription: where to, and which kinds of event."""

    url: str = Field(max_length=500, description="https:// (http:// only where allowed)")
    kinds: list[WebhookEventKind] = Field(min_length=1, description="The kinds of event wanted")
    description: str | None = Field(default=None, max_length=200)
    is_active: bool = True


class WebhookUpdate(BaseModel):
    """A change to a subscription (the secret is never changed or shown: make a new one)."""

    url: str | None = Field(default=None, max_length=500)
    kinds: list[WebhookEventKind] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=200)
    is_active: bool | None = None


class WebhookRead(BaseModel):
    """A subscription as shown: never its secret."""

    id: int
    url: str
    kinds: list[WebhookEventKind]
    description: str | None
    is_active: bool
    version: int
    created_at: datetime
    created_by: str
    pending: int = Field(description="Deliveries waiting to be sent or tried again")
    failed: int = Field(description="Deliveries given up after the last attempt")
    delivered: int


class WebhookCreated(WebhookRead):
    """A subscription just made, with its secret: shown this once, never again."""

    secret: str = Field(description="Verifies X-QMS-Signature; shown only now")


class DeliveryRead(BaseModel):
    """One event's delivery to a subscription."""

    delivery: str = Field(description="X-QMS-Delivery: the same on every attempt")
    event: str = Field(description="The event's id (in the body)")
    kind: WebhookEventKind
    number: str
    status: DeliveryStatus
    attempts: int
    response_code: int | None
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def new_secret() -> str:
    """Return a new signing secret."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the X-QMS-Signature header of a body sent at a moment (unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _refused(reason: Text) -> ValidationFailed:
    return ValidationFailed(reason, [FieldError("url", reason)])


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return []
    found = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        try:
            found.append(ipaddress.ip_address(address))
        except ValueError:
            continue
    return found


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_url(url: str, *, settings: Settings) -> str:
    """Return the URL if webhooks may be sent to it; refuse a scheme other than https (http
    where allowed), a login in it, and a private, loopback or link-local address unless allowed
    (the name is resolved: a public name for a private address is refused too)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise _refused(Text("Enter an https:// URL.")) from None
    if parts.scheme not in ("https", "http") or not host or not url.isprintable() or " " in url:
        raise _refused(Text("Enter an https:// URL."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refused(Text("The URL's port is not a number.")) from None
    if parts.username or parts.password:
        raise _refused(Text("A webhook URL holds no login: the body is signed instead."))
    addresses = _addresses(host, port)
    if not addresses:
        raise _refused(Text("%(host)s is not found.", host=host))
    private = any(_private(a) for a in addresses)
    if private and not settings.webhook_allow_private:
        raise _refused(
            Text(
                "%(host)s is a private, loopback or link-local address: webhooks go only to "
                "public addresses (QMS_WEBHOOK_ALLOW_PRIVATE allows others).",
                host=host,
            )
        )
    loopback = all(a.is_loopback for a in addresses)
    if parts.scheme == "http" and not (settings.webhook_allow_http or loopback):
        raise _refused(Text("Enter an https:// URL."))
    return url


def _counts(session: Session, subscription_id: int) -> dict[DeliveryStatus, int]:
    rows = session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.subscription_id == subscription_id)
        .group_by(WebhookDelivery.status)
    )
    return {DeliveryStatus(status): int(n) for status, n in rows}


def read(session: Session, subscription: WebhookSubscription) -> WebhookRead:
    """Return the subscription as shown (its secret left out)."""
    counts = _counts(session, subscription.id)
    return WebhookRead(
        id=subscription.id,
        url=subscription.url,
        kinds=[WebhookEventKind(k) for k in subscription.kinds],
        description=subscription.description,
        is_active=subscription.is_active,
        version=subscription.version,
        created_at=subscription.created_at,
        created_by=subscription.created_by,
        pending=counts.get(DeliveryStatus.pending, 0),
        failed=counts.get(DeliveryStatus.failed, 0),
        delivered=counts.get(DeliveryStatus.delivered, 0),
    )


def _kinds(kinds: Sequence[WebhookEventKind]) -> list[str]:
    if WebhookEventKind.test in kinds:
        reason = Text("A test event is sent by `qms webhooks test`, not subscribed to.")
        raise ValidationFailed(reason, [FieldError("kinds", reason)])
    return [k.value for k in SUBSCRIBABLE if k in kinds]


def _shown(subscription: WebhookSubscription) -> dict[str, object]:
    # What the trail keeps of a subscription: never its secret.
    return {
        "url": subscription.url,
        "kinds": list(subscription.kinds),
        "description": subscription.description,
        "is_active": subscription.is_active,
    }


def create(
    session: Session, *, actor: Actor, data: WebhookCreate, settings: Settings
) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL to kinds of event; return it and its secret (shown this once)."""
    require(actor, Action.user_manage)
    secret = new_secret()
    subscription = WebhookSubscription(
        url=check_url(data.url, settings=settings),
        kinds=_kinds(data.kinds),
        secret=secret,
        description=data.description,
        is_active=data.is_active,
        version=1,
        created_by=actor.name,
    )
    session.add(subscription)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="webhook.created",
        entity="webhook_subscription",
        entity_id=subscription.id,
        changes=created(_shown(subscription)),
    )
    return subscription, secret


def list_(session: Session, *, actor: Actor) -> list[WebhookSubscription]:
    """List the subscriptions, oldest first."""
    require(actor, Action.user_manage)
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def get_or_raise(session: Session, *, actor: Actor, subscription_id: int) -> WebhookSubscription:
    """Return a subscription, or raise NotFound."""
    require(actor, Action.user_manage)
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound(Text("No webhook %(id)s.", id=subscription_id))
    return subscription


def update(
    session: Session,
    *,
    actor: Actor,
    subscription_id: int,
    data: WebhookUpdate,
    if_match: int | None,
    settings: Settings,
) -> WebhookSubscription:
    """Change a subscription's URL, kinds, description or whether it is active."""
    subscription = get_or_raise(session, actor=actor, subscription_id=subscription_id)
    check_if_match(current=subscription.version, if_match=if_match, what="webhook_subscription")
    before = _shown(subscription)
    if data.url is not None:
        subscription.url = check_url(data.url, settings=settings)
    if data.kinds is not None:
        subscription.kinds = _kinds(data.kinds)
    if "description" in data.model_fields_set:
        subscription.description = data.description
    if data.is_active is not None:
        subscription.is_active = data.is_active
    after = _shown(subscription)
    changes = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
    if changes:
        subscription.version += 1
        session.flush()
        record_event(
            session,
            actor=actor,
            action="webhook.updated",
            entity="webhook_subscription",
            entity_id=subscription.id,
            changes=changes,
        )
    return subscription


def remove(session: Session, *, actor: Actor, subscription_id: int) -> None:
    """Remove a subscription and its deliveries (the trail keeps that it was there)."""
    subscription = get_or_raise(session, actor=actor, subscription_id=subscription_id)
    before = _shown(subscription)
    for delivery in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    ):
        session.delete(delivery)
    session.flush()
    session.delete(subscription)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="webhook.removed",
        entity="webhook_subscription",
        entity_id=subscription_id,
        changes={k: {"old": v, "new": None} for k, v in before.items()},
    )


def deliveries(
    session: Session, *, actor: Actor, subscription_id: int, limit: int = 50
) -> list[DeliveryRead]:
    """List a subscription's deliveries, the newest first."""
    get_or_raise(session, actor=actor, subscription_id=subscription_id)
    rows = session.execute(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return [
        DeliveryRead(
            delivery=d.uid,
            event=e.uid,
            kind=e.kind,
            number=e.number,
            status=d.status,
            attempts=d.attempts,
            response_code=d.response_code,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )
        for d, e in rows
    ]


def body_of(
    *,
    uid: str,
    kind: WebhookEventKind,
    record: str,
    record_id: int | None,
    number: str,
    title: str,
    due_on: date | None,
    link: str | None,
    occurred_at: datetime,
    public_url: str,
) -> str:
    """Return an event's JSON body: codes for machines, and a sentence in English for people."""
    day = due_on.isoformat() if due_on is not None else ""
    text = i18n.translate(SAYS[kind], i18n.DEFAULT_LANGUAGE) % {
        "number": number,
        "title": title,
        "day": day,
    }
    payload: dict[str, Any] = {
        "id": uid,
        "kind": kind.value,
        "occurred_at": occurred_at.isoformat(),
        "record": {
            "type": record,
            "id": record_id,
            "number": number,
            "title": title,
            "due_on": due_on.isoformat() if due_on is not None else None,
            "link": public_url.rstrip("/") + link if link else None,
        },
        "text": " ".join(text.split()),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def emit(
    session: Session,
    *,
    actor: Actor,
    kind: WebhookEventKind,
    record: str,
    record_id: int | None,
    number: str,
    title: str,
    due_on: date | None = None,
    link: str | None = None,
    on: date | None = None,
    public_url: str | None = None,
    now: datetime | None = None,
    only: WebhookSubscription | None = None,
) -> WebhookEvent | None:
    """Queue an event for each active subscription that wants its kind, in the caller's
    transaction (sent after it, never while it waits); an event already queued for the record
    (that day, for an overdue one) is not queued again. Return the event, or none if nobody
    wants it or it was queued before."""
    now = now or utcnow()
    if only is not None:
        wanted = [only]
        key = f"test:{uuid.uuid4().hex}"
    else:
        wanted = [
            s
            for s in session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.is_active.is_(True))
            )
            if kind.value in s.kinds
        ]
        key = f"{kind.value}:{record}:{record_id}"
        if kind in DAILY:
            key += f":{(on or now.date()).isoformat()}"
    if not wanted:
        return None
    if session.scalar(select(WebhookEvent.id).where(WebhookEvent.key == key)) is not None:
        return None
    uid = str(uuid.uuid4())
    event = WebhookEvent(
        uid=uid,
        key=key,
        kind=kind,
        record=record,
        record_id=record_id,
        number=number[:40],
        occurred_at=now,
        body=body_of(
            uid=uid,
            kind=kind,
            record=record,
            record_id=record_id,
            number=number,
            title=title,
            due_on=due_on,
            link=link,
            occurred_at=now,
            public_url=public_url if public_url is not None else get_settings().public_url,
        ),
    )
    session.add(event)
    session.flush()
    for subscription in wanted:
        session.add(
            WebhookDelivery(
                uid=str(uuid.uuid4()),
                subscription_id=subscription.id,
                event_id=event.id,
                status=DeliveryStatus.pending,
                attempts=0,
                created_at=now,
                next_attempt_at=None,
            )
        )
    session.flush()
    record_event(
        session,
        actor=actor,
        action="webhook.queued",
        entity="webhook_event",
        entity_id=event.id,
        changes={
            "kind": {"old": None, "new": kind.value},
            "number": {"old": None, "new": event.number},
            "subscriptions": {"old": None, "new": [s.id for s in wanted]},
        },
    )
    return event


def queue_daily(
    session: Session,
    *,
    actor: Actor,
    on: date,
    now: datetime,
    horizon_days: int,
    public_url: str,
) -> int:
    """Queue the events the daily job finds (what each active person would be reminded of),
    once a record (an overdue one once a day); return how many were queued."""
    from qms.notifications import service as reminders

    if not session.scalar(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.is_active.is_(True))
    ):
        return 0
    queued = 0
    seen: set[tuple[str, str, int]] = set()
    people = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.id))
    for user in list(people):
        for r in reminders.found_for(session, user=user, on=on, now=now, horizon_days=horizon_days):
            mark = (r.kind.value, r.record, r.record_id)
            if mark in seen:
                continue
            seen.add(mark)
            event = emit(
                session,
                actor=actor,
                kind=WebhookEventKind(r.kind.value),
                record=r.record,
                record_id=r.record_id,
                number=r.number,
                title=r.title,
                due_on=r.due_on,
                link=r.link,
                on=on,
                public_url=public_url,
                now=now,
            )
            queued += event is not None
    return queued


def queue_test(
    session: Session, *, actor: Actor, subscription_id: int, public_url: str
) -> WebhookDelivery:
    """Queue a test event for one subscription; return its delivery (sent at the next pass)."""
    subscription = get_or_raise(session, actor=actor, subscription_id=subscription_id)
    event = emit(
        session,
        actor=actor,
        kind=WebhookEventKind.test,
        record="webhook_subscription",
        record_id=subscription.id,
        number=f"WH-{subscription.id}",
        title=subscription.description or subscription.url,
        public_url=public_url,
        only=subscription,
    )
    assert event is not None
    delivery = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)
    ).one()
    return delivery


def delivery_read(session: Session, delivery: WebhookDelivery) -> DeliveryRead:
    """Return one delivery as shown."""
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    return DeliveryRead(
        delivery=delivery.uid,
        event=event.uid,
        kind=event.kind,
        number=event.number,
        status=delivery.status,
        attempts=delivery.attempts,
        response_code=delivery.response_code,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
    )


def wait_after(attempts: int, settings: Settings) -> timedelta:
    """Return the wait after the given number of failed attempts: 1, 2, 4 … minutes, capped."""
    minutes = min(2 ** max(attempts - 1, 0), settings.webhook_longest_wait_minutes)
    return timedelta(minutes=minutes)


def due(session: Session, *, now: datetime) -> list[int]:
    """Return the deliveries whose time has come (to active subscriptions), oldest first."""
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                WebhookSubscription.is_active.is_(True),
                WebhookDelivery.status == DeliveryStatus.pending,
                (WebhookDelivery.next_attempt_at.is_(None))
                | (WebhookDelivery.next_attempt_at <= now),
            )
            .order_by(WebhookDelivery.id)
        )
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not an instruction: following it could lead anywhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None]:
    """POST the body; return the response's status code (none if there was no answer) and why
    it failed (none if the receiver answered 2xx)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            code = int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code), f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"[:500]
    if 200 <= code < 300:
        return code, None
    return code, f"HTTP {code}"


@dataclass
class Sent:
    """What one pass of sending did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def attempt(database: Database, *, delivery_id: int, now: datetime, settings: Settings) -> str:
    """Try one delivery, outside any transaction while the receiver answers; record how it
    went; return its status."""
    with database.unit_of_work(write=False) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.pending:
            return "gone"
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        event = session.get(WebhookEvent, delivery.event_id)
        assert subscription is not None
        assert event is not None
        url, secret, body = subscription.url, subscription.secret, event.body.encode()
        kind, uid, subscription_id = event.kind.value, delivery.uid, subscription.id
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mentor-qms-webhooks",
        "X-QMS-Event": kind,
        "X-QMS-Delivery": uid,
        "X-QMS-Signature": signature(secret, timestamp, body),
    }
    code: int | None
    error: str | None
    try:
        # Checked again when sent: the name may point elsewhere since it was subscribed.
        check_url(url, settings=settings)
    except ValidationFailed as refused:
        code, error = None, str(refused)[:500]
    else:
        code, error = post(
            url, body=body, headers=headers, timeout=settings.webhook_timeout_seconds
        )
    with database.unit_of_work() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return "gone"
        delivery.attempts += 1
        delivery.response_code = code
        delivery.last_attempt_at = now
        if error is None:
            delivery.status = DeliveryStatus.delivered
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.last_error = None
            action = "webhook.delivered"
        elif delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
            delivery.last_error = error
            action = "webhook.failed"
            log.warning("webhook delivery %s failed for good: %s", uid, error)
        else:
            delivery.next_attempt_at = now + wait_after(delivery.attempts, settings)
            delivery.last_error = error
            action = "webhook.attempt_failed"
            log.info("webhook delivery %s not taken (%s), tried again later", uid, error)
        session.flush()
        record_event(
            session,
            actor=SENDER,
            action=action,
            entity="webhook_subscription",
            entity_id=subscription_id,
            changes={
                "delivery": {"old": None, "new": uid},
                "status": {"old": DeliveryStatus.pending.value, "new": delivery.status.value},
                "attempts": {"old": delivery.attempts - 1, "new": delivery.attempts},
                "response_code": {"old": None, "new": code},
            },
            reason=error,
        )
        return delivery.status.value


def send_due(database: Database, *, now: datetime | None = None, settings: Settings) -> Sent:
    """Try every delivery whose time has come; return how many were delivered, wait to be
    tried again, and failed for good. The caller holds the webhooks job (one sender at a time)."""
    now = now or utcnow()
    with database.unit_of_work(write=False) as session:
        ids = due(session, now=now)
    sent = Sent()
    for delivery_id in ids:
        status = attempt(database, delivery_id=delivery_id, now=now, settings=settings)
        if status == DeliveryStatus.delivered.value:
            sent.delivered += 1
        elif status == DeliveryStatus.failed.value:
            sent.failed += 1
        elif status == DeliveryStatus.pending.value:
            sent.retrying += 1
    return sent


@dataclass
class Status:
    """Where the delivery log stands."""

    pending: int
    retrying: int
    failed: int
    delivered: int
    next_attempt_at: datetime | None
    last_error: str | None


def status(session: Session, *, actor: Actor) -> Status:
    """Report the deliveries pending, those waiting after a failed attempt, the failed and the
    delivered."""
    require(actor, Action.user_manage)

    def count(*where: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0

    pending = WebhookDelivery.status == DeliveryStatus.pending
    waiting = session.scalars(
        select(WebhookDelivery)
        .where(pending, WebhookDelivery.attempts > 0)
        .order_by(WebhookDelivery.next_attempt_at)
    ).first()
    last_failed = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.failed)
        .order_by(WebhookDelivery.last_attempt_at.desc())
    ).first()
    shown = waiting or last_failed
    return Status(
        pending=count(pending),
        retrying=count(pending, WebhookDelivery.attempts > 0),
        failed=count(WebhookDelivery.status == DeliveryStatus.failed),
        delivered=count(WebhookDelivery.status == DeliveryStatus.delivered),
        next_attempt_at=waiting.next_attempt_at if waiting else None,
        last_error=shown.last_error if shown else None,
    )
