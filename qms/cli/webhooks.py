"""`qms webhooks`: subscribe URLs to events, list and remove them, test, send and report."""

from __future__ import annotations

from typing import Annotated

import typer

from qms.cli.common import (
    database_of_work,
    err,
    failed,
    operator,
    out,
    shown,
    shown_moment,
    t,
    unit_of_work,
)
from qms.config import Settings

webhooks_app = typer.Typer(
    help="Outgoing webhooks: add, list, remove, test, send, status.", no_args_is_help=True
)


def _settings() -> Settings:
    # Read afresh: a command's environment is what it says (not a value cached before).
    return Settings()


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="Where the events are POSTed (https://).")],
    kind: Annotated[
        list[str],
        typer.Option("--kind", help="A kind of event wanted (repeat the option for several)."),
    ],
    description: Annotated[
        str | None, typer.Option(help="What the subscription is for (a team, a channel).")
    ] = None,
) -> None:
    """Subscribe a URL to kinds of event; print its secret, shown this once."""
    from qms.webhooks import service

    with unit_of_work() as session:
        subscription, secret = service.create(
            session,
            actor=operator(),
            data=service.WebhookCreate.model_validate(
                {"url": url, "kinds": kind, "description": description}
            ),
            settings=_settings(),
        )
        number = subscription.id
    out.print(t("webhook %(id)s subscribed") % {"id": number}, markup=False)
    out.print(t("secret (shown only now): %(secret)s") % {"secret": secret}, markup=False)


@webhooks_app.command("list")
def webhooks_list() -> None:
    """List the subscriptions: URL, kinds, whether active, and their deliveries."""
    from qms.webhooks import service

    with unit_of_work(write=False) as session:
        rows = [service.read(session, s) for s in service.list_(session, actor=operator())]
    if not rows:
        err.print(t("No webhooks."), markup=False)
    for row in rows:
        state = shown("active") if row.is_active else t("inactive")
        out.print(
            f"{row.id}  {row.url}  {state}  " + ", ".join(shown(k.value) for k in row.kinds),
            markup=False,
            soft_wrap=True,
        )
        out.print(
            "    "
            + t("%(pending)s pending, %(failed)s failed, %(delivered)s delivered")
            % {"pending": row.pending, "failed": row.failed, "delivered": row.delivered},
            markup=False,
        )


@webhooks_app.command("remove")
def webhooks_remove(
    webhook: Annotated[int, typer.Argument(help="The subscription's number (qms webhooks list).")],
) -> None:
    """Remove a subscription and its delivery log."""
    from qms.webhooks import service

    with unit_of_work() as session:
        service.remove(session, actor=operator(), subscription_id=webhook)
    out.print(t("webhook %(id)s removed") % {"id": webhook}, markup=False)


@webhooks_app.command("test")
def webhooks_test(
    webhook: Annotated[int, typer.Argument(help="The subscription's number (qms webhooks list).")],
) -> None:
    """Send a test event to one subscription now and say how its receiver answered."""
    from qms.db import utcnow
    from qms.scheduler import held
    from qms.webhooks import service
    from qms.webhooks.models import WebhookDelivery

    settings = _settings()
    with unit_of_work() as session:
        delivery_id = service.queue_test(
            session, actor=operator(), subscription_id=webhook, public_url=settings.public_url
        ).id
    with database_of_work() as database, held(database, "webhooks") as mine:
        if not mine:
            failed(t("The webhooks are being sent by a scheduler now: try again later."))
            raise typer.Exit(1)
        service.attempt(database, delivery_id=delivery_id, now=utcnow(), settings=settings)
        with database.unit_of_work(write=False) as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            assert delivery is not None
            after = service.delivery_read(session, delivery)
    if after.status.value == "delivered":
        out.print(
            t("delivered: the receiver answered %(code)s") % {"code": after.response_code},
            markup=False,
        )
        return
    failed(
        t("not delivered: %(error)s; tried again by the scheduler")
        % {"error": after.last_error or ""}
    )
    raise typer.Exit(1)


@webhooks_app.command("send")
def webhooks_send() -> None:
    """Send every delivery whose time has come (the scheduler does it at each pass)."""
    from qms.db import utcnow
    from qms.scheduler import held
    from qms.webhooks import service

    settings = _settings()
    with database_of_work() as database, held(database, "webhooks") as mine:
        if not mine:
            failed(t("The webhooks are being sent by a scheduler now: try again later."))
            raise typer.Exit(1)
        sent = service.send_due(database, now=utcnow(), settings=settings)
    err.print(
        t("%(delivered)s delivered, %(retrying)s to try again, %(failed)s failed")
        % {"delivered": sent.delivered, "retrying": sent.retrying, "failed": sent.failed},
        markup=False,
    )


@webhooks_app.command("status")
def webhooks_status() -> None:
    """Say how many deliveries are pending (and of those waiting after a failed attempt),
    failed after the last attempt, and delivered."""
    from qms.webhooks import service

    with unit_of_work(write=False) as session:
        state = service.status(session, actor=operator())
    out.print(
        t(
            "%(pending)s pending (%(retrying)s to try again), %(failed)s failed, "
            "%(delivered)s delivered"
        )
        % {
            "pending": state.pending,
            "retrying": state.retrying,
            "failed": state.failed,
            "delivered": state.delivered,
        },
        markup=False,
    )
    if state.last_error:
        out.print(
            t("last failure: %(error)s; next try %(moment)s")
            % {
                "error": state.last_error,
                "moment": shown_moment(state.next_attempt_at) or t("none"),
            },
            markup=False,
        )
