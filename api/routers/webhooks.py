"""Outgoing webhooks: subscriptions (admin only), their deliveries and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.problems import responses
from qms.config import get_settings
from qms.permissions import Action, Actor
from qms.webhooks import service
from qms.webhooks.service import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class WebhookStatusRead(BaseModel):
    """Where the delivery log stands."""

    pending: int = Field(description="Deliveries waiting to be sent or tried again")
    retrying: int = Field(description="Of those, deliveries a receiver did not take yet")
    failed: int = Field(description="Deliveries given up after the last attempt")
    delivered: int
    next_attempt_at: datetime | None
    last_error: str | None


@router.get("/webhooks", response_model=list[WebhookRead], responses=responses(401, 403))
def list_webhooks(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    session: SessionDep,
) -> list[WebhookRead]:
    """List the webhook subscriptions (never their secrets), oldest first."""
    return [service.read(session, s) for s in service.list_(session, actor=actor)]


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=responses(401, 403, 422),
)
def create_webhook(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    data: WebhookCreate,
    session: SessionDep,
    response: Response,
) -> WebhookCreated:
    """Subscribe a URL to kinds of event; the answer holds its secret, shown this once."""
    subscription, secret = service.create(session, actor=actor, data=data, settings=get_settings())
    response.headers["ETag"] = etag(subscription.version)
    response.headers["Location"] = f"/api/v1/webhooks/{subscription.id}"
    return WebhookCreated(**service.read(session, subscription).model_dump(), secret=secret)


@router.get(
    "/webhook-deliveries/status", response_model=WebhookStatusRead, responses=responses(401, 403)
)
def get_webhook_status(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    session: SessionDep,
) -> WebhookStatusRead:
    """Report the deliveries pending, waiting to be tried again, failed and delivered."""
    found = service.status(session, actor=actor)
    return WebhookStatusRead(
        pending=found.pending,
        retrying=found.retrying,
        failed=found.failed,
        delivered=found.delivered,
        next_attempt_at=found.next_attempt_at,
        last_error=found.last_error,
    )


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    responses=responses(401, 403, 404, 422),
)
def get_webhook(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    webhook_id: IdPath,
    session: SessionDep,
    response: Response,
) -> WebhookRead:
    """Return one subscription (never its secret); its ETag goes back in If-Match."""
    subscription = service.get_or_raise(session, actor=actor, subscription_id=webhook_id)
    response.headers["ETag"] = etag(subscription.version)
    return service.read(session, subscription)


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    responses=responses(401, 403, 404, 412, 422, 428),
)
def update_webhook(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    webhook_id: IdPath,
    data: WebhookUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> WebhookRead:
    """Change a subscription's URL, kinds, description or whether it is active."""
    subscription = service.update(
        session,
        actor=actor,
        subscription_id=webhook_id,
        data=data,
        if_match=if_match,
        settings=get_settings(),
    )
    response.headers["ETag"] = etag(subscription.version)
    return service.read(session, subscription)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=responses(401, 403, 404, 422))
def delete_webhook(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    webhook_id: IdPath,
    session: SessionDep,
) -> Response:
    """Remove a subscription and its delivery log (the audit trail keeps that it was there)."""
    service.remove(session, actor=actor, subscription_id=webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryRead],
    responses=responses(401, 403, 404, 422),
)
def list_webhook_deliveries(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    webhook_id: IdPath,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryRead]:
    """List a subscription's deliveries, the newest first: status, attempts, response code,
    next attempt and last error."""
    return service.deliveries(session, actor=actor, subscription_id=webhook_id, limit=limit)


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=202,
    response_model=DeliveryRead,
    responses=responses(401, 403, 404, 422),
)
def test_webhook(
    actor: Annotated[Actor, allowed(Action.user_manage)],
    webhook_id: IdPath,
    session: SessionDep,
) -> DeliveryRead:
    """Queue a test event for the subscription; the scheduler sends it at its next pass."""
    delivery = service.queue_test(
        session, actor=actor, subscription_id=webhook_id, public_url=get_settings().public_url
    )
    return service.delivery_read(session, delivery)
