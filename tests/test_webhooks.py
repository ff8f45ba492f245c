"""Outgoing webhooks, received by an HTTP server on loopback in the test process."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qms.audit.models import AuditEvent
from qms.cli import app, common
from qms.config import Settings, get_settings
from qms.db import Database, utcnow
from qms.errors import ValidationFailed
from qms.permissions import Role
from qms.scheduler import held, run_due, run_reminders, send_webhooks
from qms.webhooks import service
from qms.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEventKind
from tests.factories import (
    ADMIN,
    auth,
    make_action,
    make_cohort,
    make_deviation,
    make_meeting,
    make_pair,
    make_participant,
    make_programme,
    make_token,
    make_user,
)

PUBLIC = "https://qms.example.org"


@dataclass
class Received:
    headers: Message  # read case-insensitively, as HTTP names headers
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that keeps what it is sent and answers the codes given, in
    turn (the last one from then on)."""

    answers: list[int] = field(default_factory=lambda: [200])
    got: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.got.append(Received(self.headers, body))
                code = receiver.answers[min(len(receiver.got), len(receiver.answers)) - 1]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return f"http://127.0.0.1:{port}/hook"


def settings_for(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC,
        "remind_days": 7,
        "webhook_allow_private": True,
        "webhook_max_attempts": 4,
    }
    return Settings(**{**values, **overrides})


def verify(secret: str, header: str, body: bytes) -> bool:
    """The receiver's check, as the README gives it."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def _subscribe(database: Database, url: str, *kinds: WebhookEventKind) -> tuple[int, str]:
    with database.unit_of_work() as session:
        subscription, secret = service.create(
            session,
            actor=ADMIN,
            data=service.WebhookCreate(url=url, kinds=list(kinds)),
            settings=settings_for(),
        )
        return subscription.id, secret


def _overdue_action(database: Database) -> str:
    today = utcnow().date()
    with database.unit_of_work() as session:
        kari = make_user(session, Role.coordinator, "kari")
        action = make_action(session, [make_deviation(session)], kari, due_on=today)
        action.due_on = today - timedelta(days=3)
        action.created_at = utcnow() - timedelta(days=10)
        session.flush()
        return action.number


def _deliveries(database: Database) -> list[WebhookDelivery]:
    with database.unit_of_work(write=False) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


class TestDelivery:
    def test_the_daily_job_tells_a_receiver_of_an_overdue_action_signed_with_the_secret(
        self, fresh_db, receiver
    ) -> None:
        subscription_id, secret = _subscribe(
            fresh_db, receiver.url, WebhookEventKind.overdue, WebhookEventKind.due_soon
        )
        number = _overdue_action(fresh_db)
        now = utcnow()
        settings = settings_for()

        run_reminders(fresh_db, now, now.date(), settings)
        # Queued in the job's transaction, nothing sent yet: sending is a step of its own.
        assert receiver.got == []
        said = send_webhooks(fresh_db, now, settings)

        assert said == "1 delivered, 0 to try again, 0 failed"
        [got] = receiver.got
        assert verify(secret, got.headers["X-QMS-Signature"], got.body)
        assert not verify("whsec_another", got.headers["X-QMS-Signature"], got.body)
        assert got.headers["X-QMS-Signature"].startswith(f"t={int(now.timestamp())},v1=")
        assert got.headers["X-QMS-Event"] == "overdue"
        assert got.headers["Content-Type"] == "application/json"
        body = json.loads(got.body)
        assert body["kind"] == "overdue"
        assert body["record"]["type"] == "corrective_action"
        assert body["record"]["number"] == number
        assert body["record"]["link"].startswith(f"{PUBLIC}/actions/")
        assert body["record"]["due_on"] == (now.date() - timedelta(days=3)).isoformat()
        assert body["text"].startswith(f"{number} ")
        assert "is overdue since" in body["text"]
        [delivery] = _deliveries(fresh_db)
        assert got.headers["X-QMS-Delivery"] == delivery.uid
        assert (delivery.status, delivery.attempts, delivery.response_code) == (
            DeliveryStatus.delivered,
            1,
            200,
        )
        # The same day's job again tells nobody twice; a later day's overdue is news again.
        run_reminders(fresh_db, now, now.date(), settings)
        assert send_webhooks(fresh_db, now, settings) is None
        later = now + timedelta(days=1)
        run_reminders(fresh_db, later, later.date(), settings)
        send_webhooks(fresh_db, later, settings)
        assert len(receiver.got) == 2
        assert json.loads(receiver.got[1].body)["id"] != body["id"]
        assert subscription_id

    def test_a_receiver_answering_500_gets_it_once_more_after_the_wait(
        self, fresh_db, receiver
    ) -> None:
        receiver.answers = [500, 200]
        _subscribe(fresh_db, receiver.url, WebhookEventKind.overdue)
        _overdue_action(fresh_db)
        now = utcnow()
        settings = settings_for()
        run_reminders(fresh_db, now, now.date(), settings)

        assert send_webhooks(fresh_db, now, settings) == "0 delivered, 1 to try again, 0 failed"
        [waiting] = _deliveries(fresh_db)
        assert (waiting.status, waiting.attempts, waiting.response_code) == (
            DeliveryStatus.pending,
            1,
            500,
        )
        assert waiting.last_error == "HTTP 500"
        assert waiting.next_attempt_at == now + timedelta(minutes=1)
        # Not before its time, …
        assert send_webhooks(fresh_db, now + timedelta(seconds=59), settings) is None
        assert len(receiver.got) == 1
        # … then once, with the same delivery id and a signature of its own moment.
        later = now + timedelta(minutes=1)
        assert send_webhooks(fresh_db, later, settings) == "1 delivered, 0 to try again, 0 failed"
        first, second = receiver.got
        assert first.body == second.body
        assert first.headers["X-QMS-Delivery"] == second.headers["X-QMS-Delivery"]
        assert second.headers["X-QMS-Signature"].startswith(f"t={int(later.timestamp())},")
        [delivered] = _deliveries(fresh_db)
        assert (delivered.status, delivered.attempts, delivered.response_code) == (
            DeliveryStatus.delivered,
            2,
            200,
        )
        assert send_webhooks(fresh_db, later + timedelta(hours=1), settings) is None
        assert len(receiver.got) == 2

    def test_a_dead_url_ends_failed_after_the_last_attempt_and_is_reported(
        self, fresh_db, client_of, caplog
    ) -> None:
        url = _dead_url()
        subscription_id, secret = _subscribe(fresh_db, url, WebhookEventKind.overdue)
        _overdue_action(fresh_db)
        now = utcnow()
        settings = settings_for(webhook_max_attempts=4)
        run_reminders(fresh_db, now, now.date(), settings)

        waits = []
        moment = now
        with caplog.at_level(logging.DEBUG):
            for _ in range(4):
                send_webhooks(fresh_db, moment, settings)
                [delivery] = _deliveries(fresh_db)
                if delivery.next_attempt_at is not None:
                    waits.append(delivery.next_attempt_at - moment)
                    moment = delivery.next_attempt_at

        assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
        [delivery] = _deliveries(fresh_db)
        assert (delivery.status, delivery.attempts, delivery.response_code) == (
            DeliveryStatus.failed,
            4,
            None,
        )
        assert delivery.last_error is not None
        assert "ConnectionRefused" in delivery.last_error or "refused" in delivery.last_error
        assert send_webhooks(fresh_db, moment + timedelta(days=1), settings) is None
        with fresh_db.unit_of_work(write=False) as session:
            state = service.status(session, actor=ADMIN)
            actions = session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("webhook.%"))
            ).all()
        assert (state.pending, state.failed, state.delivered) == (0, 1, 0)
        assert actions.count("webhook.attempt_failed") == 3
        assert actions.count("webhook.failed") == 1
        assert secret not in caplog.text
        client, token = client_of(fresh_db)
        answer = client.get("/api/v1/webhook-deliveries/status", headers=auth(token))
        assert answer.status_code == 200
        assert answer.json()["failed"] == 1
        listed = client.get(f"/api/v1/webhooks/{subscription_id}/deliveries", headers=auth(token))
        assert [d["status"] for d in listed.json()] == ["failed"]
        assert listed.json()[0]["attempts"] == 4

    def test_the_scheduler_sends_at_every_pass_and_a_rule_deviation_is_told_at_once(
        self, fresh_db, receiver
    ) -> None:
        _subscribe(fresh_db, receiver.url, WebhookEventKind.deviation_opened_by_rule)
        with fresh_db.unit_of_work() as session:
            deviation = make_deviation(session, title="Meetings below the minimum")
            event = service.emit(
                session,
                actor=ADMIN,
                kind=WebhookEventKind.deviation_opened_by_rule,
                record="deviation",
                record_id=deviation.id,
                number=deviation.number,
                title=deviation.title,
                link=f"/deviations/{deviation.id}",
                public_url=PUBLIC,
            )
            assert event is not None
            # Told again by the daily job or another caller: still one event.
            again = service.emit(
                session,
                actor=ADMIN,
                kind=WebhookEventKind.deviation_opened_by_rule,
                record="deviation",
                record_id=deviation.id,
                number=deviation.number,
                title=deviation.title,
            )
            assert again is None
            number = deviation.number
        assert receiver.got == []

        outcomes = run_due(fresh_db, now=utcnow(), settings=settings_for())

        assert ("webhooks", True) in [(o.job, o.ran) for o in outcomes]
        [got] = receiver.got
        body = json.loads(got.body)
        assert body["kind"] == "deviation_opened_by_rule"
        assert (
            body["text"] == f"The rule check opened deviation {number} Meetings below the minimum."
        )

    def test_one_sender_at_a_time(self, fresh_db, receiver) -> None:
        _subscribe(fresh_db, receiver.url, WebhookEventKind.overdue)
        _overdue_action(fresh_db)
        now = utcnow()
        run_reminders(fresh_db, now, now.date(), settings_for())

        with held(fresh_db, "webhooks", now=now) as mine:
            assert mine
            # Another process (a scheduler, qms webhooks send) leaves them to the holder.
            assert send_webhooks(fresh_db, now, settings_for()) is None
            assert receiver.got == []
        assert (
            send_webhooks(fresh_db, now, settings_for()) == "1 delivered, 0 to try again, 0 failed"
        )
        assert len(receiver.got) == 1

    def test_a_critical_deviation_is_queued_with_it_and_sent_after(
        self, fresh_db, receiver, client_of
    ) -> None:
        _subscribe(fresh_db, receiver.url, WebhookEventKind.deviation_critical)
        off_id, _ = _subscribe(fresh_db, receiver.url, WebhookEventKind.deviation_critical)
        client, token = client_of(fresh_db)
        off = client.get(f"/api/v1/webhooks/{off_id}", headers=auth(token))
        client.patch(
            f"/api/v1/webhooks/{off_id}",
            json={"is_active": False},
            headers={**auth(token), "If-Match": off.headers["ETag"]},
        )
        made = client.post(
            "/api/v1/deviations",
            json={
                "kind": "nonconformity",
                "source": "self_reported",
                "severity": "critical",
                "title": "Mentee's personal data sent to the wrong mentor",
                "description": "An e-mail with the mentee's contact sheet went to another pair.",
            },
            headers=auth(token),
        )
        assert made.status_code == 201, made.text
        minor = client.post(
            "/api/v1/deviations",
            json={
                "kind": "nonconformity",
                "source": "self_reported",
                "severity": "minor",
                "title": "A meeting logged a week late",
                "description": "The pair's February meeting was logged in March.",
            },
            headers=auth(token),
        )
        assert minor.status_code == 201
        # The request answered without anyone being told: the deliveries wait for the sender.
        assert receiver.got == []

        send_webhooks(fresh_db, utcnow(), settings_for())

        [got] = receiver.got
        body = json.loads(got.body)
        assert got.headers["X-QMS-Event"] == "deviation_critical"
        assert body["record"]["number"] == made.json()["number"]
        assert body["record"]["link"] == f"{PUBLIC}/deviations/{made.json()['id']}"
        assert body["text"] == (
            f"Critical deviation {made.json()['number']} "
            "Mentee's personal data sent to the wrong mentor was logged."
        )
        # An inactive subscription is told nothing of what happens while it is off.
        unsent = client.get(f"/api/v1/webhooks/{off_id}/deliveries", headers=auth(token))
        assert unsent.json() == []


@pytest.fixture
def client_of(monkeypatch) -> Iterator[Any]:
    """An API client over a database, with an admin's token, loopback receivers allowed."""
    from tests.conftest import make_client

    monkeypatch.setenv("QMS_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("QMS_PUBLIC_URL", PUBLIC)
    get_settings.cache_clear()

    def make(database: Database, role: Role = Role.admin) -> tuple[Any, str]:
        with database.unit_of_work() as session:
            token = make_token(session, role)
        return make_client(database), token

    yield make
    get_settings.cache_clear()


class TestApi:
    def test_the_secret_is_shown_once_and_never_again(
        self, bound_db, client_of, receiver, caplog
    ) -> None:
        client, token = client_of(bound_db)
        with caplog.at_level(logging.DEBUG):
            made = client.post(
                "/api/v1/webhooks",
                json={"url": receiver.url, "kinds": ["overdue", "deviation_critical"]},
                headers=auth(token),
            )
            assert made.status_code == 201, made.text
            secret = made.json()["secret"]
            assert secret.startswith("whsec_")
            assert len(secret) > 40
            webhook = f"/api/v1/webhooks/{made.json()['id']}"
            read = client.get(webhook, headers=auth(token))
            changed = client.patch(
                webhook,
                json={"kinds": ["overdue"], "description": "Quality team chat"},
                headers={**auth(token), "If-Match": read.headers["ETag"]},
            )
            stale = client.patch(
                webhook, json={"is_active": True}, headers={**auth(token), "If-Match": '"1"'}
            )
            tested = client.post(f"{webhook}/test", headers=auth(token))
            answers = [
                read,
                changed,
                tested,
                client.get("/api/v1/webhooks", headers=auth(token)),
                client.get(f"{webhook}/deliveries", headers=auth(token)),
                client.get("/api/v1/webhook-deliveries/status", headers=auth(token)),
            ]
            sent = service.send_due(bound_db, now=utcnow(), settings=settings_for())
            trail = client.get("/api/v1/audit/events?limit=200", headers=auth(token))

        assert changed.status_code == 200
        assert changed.json()["kinds"] == ["overdue"]
        assert changed.json()["description"] == "Quality team chat"
        assert stale.status_code == 412
        assert tested.status_code == 202
        assert tested.json()["kind"] == "test"
        assert sent.delivered == 1
        assert verify(secret, receiver.got[0].headers["X-QMS-Signature"], receiver.got[0].body)
        for answer in answers:
            assert answer.status_code in (200, 202), answer.text
            assert secret not in answer.text
            shown = answer.json()
            rows = shown if isinstance(shown, list) else [shown]
            assert all("secret" not in row for row in rows)
        assert trail.status_code == 200
        assert "webhook.created" in trail.text
        assert secret not in trail.text
        with bound_db.unit_of_work(write=False) as session:
            for event in session.scalars(select(AuditEvent)):
                assert secret not in json.dumps(event.changes, default=str)
                assert secret not in (event.reason or "")
        assert secret not in caplog.text

        removed = client.delete(webhook, headers=auth(token))
        assert removed.status_code == 204
        assert client.get(webhook, headers=auth(token)).status_code == 404

    def test_the_rule_check_tells_of_each_deviation_it_opens(
        self, bound_db, session, client_of, receiver
    ) -> None:
        client, token = client_of(bound_db)
        made = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "kinds": ["deviation_opened_by_rule"]},
            headers=auth(token),
        )
        secret = made.json()["secret"]
        today = utcnow().date()
        start = (today.replace(day=1) - timedelta(days=100)).replace(day=1)
        programme = make_programme(session, min_meetings_per_month=2, min_minutes_per_month=120)
        cohort = make_cohort(
            session, programme, start_on=start, midpoint_on=today - timedelta(days=30),
            end_on=today + timedelta(days=120),
        )  # fmt: skip
        pair = make_pair(
            session, make_participant(session, cohort, "mentor"), make_participant(session, cohort),
            started_on=start,
        )  # fmt: skip
        make_meeting(session, pair, start + timedelta(days=3), minutes=30)
        session.flush()

        run = client.post("/api/v1/checks/run", headers=auth(token), json={})
        assert run.status_code == 200, run.text
        opened = {f["deviation_number"] for f in run.json()["opened"]}
        assert opened
        assert receiver.got == []
        sent = service.send_due(bound_db, now=utcnow(), settings=settings_for())

        assert sent.delivered == len(opened)
        told = {json.loads(got.body)["record"]["number"] for got in receiver.got}
        assert told == opened
        assert all(verify(secret, g.headers["X-QMS-Signature"], g.body) for g in receiver.got)
        # Run again: nothing new opened, nobody told twice.
        client.post("/api/v1/checks/run", headers=auth(token), json={})
        assert service.send_due(bound_db, now=utcnow(), settings=settings_for()).delivered == 0

    @pytest.mark.parametrize("role", [Role.quality_lead, Role.coordinator, Role.auditor])
    def test_only_an_admin_manages_webhooks(self, bound_db, client_of, role) -> None:
        client, admin = client_of(bound_db)
        made = client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "kinds": ["overdue"]},
            headers=auth(admin),
        )
        assert made.status_code == 201
        webhook = f"/api/v1/webhooks/{made.json()['id']}"
        _, token = client_of(bound_db, role)

        refused = [
            client.get("/api/v1/webhooks", headers=auth(token)),
            client.get("/api/v1/webhook-deliveries/status", headers=auth(token)),
            client.get(webhook, headers=auth(token)),
            client.get(f"{webhook}/deliveries", headers=auth(token)),
            client.post(
                "/api/v1/webhooks",
                json={"url": "http://127.0.0.1:9/x", "kinds": ["overdue"]},
                headers=auth(token),
            ),
            client.patch(
                webhook, json={"is_active": False}, headers={**auth(token), "If-Match": '"1"'}
            ),
            client.post(f"{webhook}/test", headers=auth(token)),
            client.delete(webhook, headers=auth(token)),
        ]

        assert [r.status_code for r in refused] == [403] * len(refused)
        assert client.get(webhook, headers=auth(admin)).json()["is_active"] is True

    def test_a_bad_subscription_is_refused_by_field(self, bound_db, client_of) -> None:
        client, token = client_of(bound_db)
        for body in (
            {"url": "ftp://127.0.0.1/hook", "kinds": ["overdue"]},
            {"url": "http://127.0.0.1:9/hook", "kinds": []},
            {"url": "http://127.0.0.1:9/hook", "kinds": ["sometimes"]},
            {"url": "http://127.0.0.1:9/hook", "kinds": ["test"]},
            {"url": "https://user:pw@127.0.0.1/hook", "kinds": ["overdue"]},
        ):
            answer = client.post("/api/v1/webhooks", json=body, headers=auth(token))
            assert answer.status_code == 422, (body, answer.text)


class TestAddresses:
    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://192.168.0.10/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[fe80::1]/hook",
            "https://[::ffff:10.0.0.1]/hook",
            "https://0.0.0.0/hook",
            "https://localhost/hook",
        ],
    )
    def test_a_private_loopback_or_link_local_address_is_refused(self, url) -> None:
        with pytest.raises(ValidationFailed, match="private, loopback or link-local"):
            service.check_url(url, settings=Settings())

    def test_loopback_is_taken_when_allowed_and_http_only_there(self) -> None:
        allowed = Settings(webhook_allow_private=True)
        assert service.check_url("http://127.0.0.1:8080/x", settings=allowed)
        with pytest.raises(ValidationFailed, match="https://"):
            service.check_url("http://10.0.0.1/x", settings=allowed)
        assert service.check_url(
            "http://10.0.0.1/x",
            settings=Settings(webhook_allow_private=True, webhook_allow_http=True),
        )
        # A public address: https only.
        with pytest.raises(ValidationFailed, match="https://"):
            service.check_url("http://93.184.215.14/x", settings=Settings())
        assert service.check_url("https://93.184.215.14/x", settings=Settings())

    def test_a_subscription_whose_address_became_private_is_not_sent_to(
        self, fresh_db, receiver
    ) -> None:
        _subscribe(fresh_db, receiver.url, WebhookEventKind.overdue)
        _overdue_action(fresh_db)
        now = utcnow()
        run_reminders(fresh_db, now, now.date(), settings_for())

        send_webhooks(fresh_db, now, settings_for(webhook_allow_private=False))

        assert receiver.got == []
        [delivery] = _deliveries(fresh_db)
        assert delivery.status is DeliveryStatus.pending
        assert "private, loopback or link-local" in (delivery.last_error or "")


class TestCommands:
    @pytest.fixture
    def qms(self, fresh_db, monkeypatch):
        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setattr(common.out, "width", 220)
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        monkeypatch.setenv("QMS_WEBHOOK_ALLOW_PRIVATE", "true")
        get_settings.cache_clear()
        runner = CliRunner()

        def run(*args: str, code: int = 0) -> Any:
            result = runner.invoke(app, list(args))
            assert result.exit_code == code, (result.stdout, result.stderr)
            return result

        yield run
        get_settings.cache_clear()

    def test_add_list_test_status_and_remove(self, qms, fresh_db, receiver) -> None:
        added = qms(
            "webhooks",
            "add",
            receiver.url,
            "--kind",
            "overdue",
            "--kind",
            "due_soon",
            "--description",
            "Quality team chat",
        )
        secret = added.stdout.split("secret (shown only now): ", 1)[1].split()[0]
        listed = qms("webhooks", "list")
        assert receiver.url in listed.stdout
        assert "due soon, overdue" in listed.stdout
        assert secret not in listed.stdout

        tested = qms("webhooks", "test", "1")

        assert "delivered: the receiver answered 200" in tested.stdout
        [got] = receiver.got
        assert verify(secret, got.headers["X-QMS-Signature"], got.body)
        assert got.headers["X-QMS-Event"] == "test"
        status = qms("webhooks", "status")
        assert "0 pending (0 to try again), 0 failed, 1 delivered" in status.stdout
        qms("webhooks", "add", "ftp://127.0.0.1/hook", "--kind", "overdue", code=2)
        qms("webhooks", "remove", "1")
        assert receiver.url not in qms("webhooks", "list").stdout
        qms("webhooks", "remove", "1", code=2)
