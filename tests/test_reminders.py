"""Reminders by e-mail, read from a real SMTP server (aiosmtpd, STARTTLS) in the test process."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import json
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from typer.testing import CliRunner

from qms.accounts.models import User
from qms.audit.models import AuditEvent
from qms.checks.models import RuleFinding
from qms.cli import app, common
from qms.config import Settings, get_settings
from qms.db import Database, utcnow
from qms.errors import Forbidden
from qms.notifications import service
from qms.notifications.models import Reminder, ReminderKind, ReminderStatus
from qms.permissions import Role
from qms.scheduler import run_reminders, send_reminders
from tests.factories import ADMIN, make_action, make_deviation, make_user

PASSWORD = "s3cret-Smtp-pa55"
ssl_module = __import__("ssl")


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Valid whatever day the tests' clock says: OpenSSL checks it against the machine's.
        .not_valid_before(datetime(2000, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2099, 12, 31, tzinfo=UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"qms",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://qms:{PASSWORD}@127.0.0.1:{self.port}"

    def start(self, folder: Path) -> None:
        cert_file, key_file = _certificate(folder)
        context = ssl_module.create_default_context(ssl_module.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticate,
            auth_require_tls=True,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """An SMTP server on loopback that wants STARTTLS and a login; the client trusts its
    certificate (and no other) through SSL_CERT_FILE."""
    server = SmtpServer(port=_free_port(), inbox=Inbox())
    server.start(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "smtp.pem"))
    yield server
    server.stop()


def settings_for(url: str) -> Settings:
    return Settings(smtp_url=url, public_url="https://qms.example.org", remind_days=7)


@dataclass
class People:
    kari: User
    sven: User
    idle: User
    no_address: User
    overdue_number: str
    soon_number: str
    sven_number: str
    kari_action_id: int


def _people(database: Database) -> People:
    """Kari (bokmål) owns an overdue action and one due soon; Sven (Swedish) one due soon;
    Ida has an address and nothing to do; Ola owns an action and has no address."""
    today = utcnow().date()
    with database.unit_of_work() as session:
        kari = make_user(session, Role.coordinator, "kari")
        sven = make_user(session, Role.coordinator, "sven")
        idle = make_user(session, Role.auditor, "ida")
        no_address = make_user(session, Role.coordinator, "ola")
        service.set_contact(
            session, actor=ADMIN, user_name="kari", email="kari@example.org", language="nb"
        )
        service.set_contact(
            session, actor=ADMIN, user_name="sven", email="sven@example.se", language="sv"
        )
        service.set_contact(
            session, actor=ADMIN, user_name="ida", email="ida@example.org", language=None
        )
        deviation = make_deviation(session)
        late = make_action(session, [deviation], kari, due_on=today + timedelta(days=1))
        late.due_on = today - timedelta(days=4)
        soon = make_action(session, [deviation], kari, due_on=today + timedelta(days=3))
        svens = make_action(session, [deviation], sven, due_on=today + timedelta(days=5))
        olas = make_action(session, [deviation], no_address, due_on=today + timedelta(days=2))
        # Assigned a while ago: what is said of them is their due dates, not news.
        for action in (late, soon, svens, olas):
            action.created_at = utcnow() - timedelta(days=10)
        session.flush()
        return People(kari, sven, idle, no_address, late.number, soon.number, svens.number, late.id)


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    return plain.get_content(), rich.get_content()


class TestDigest:
    def test_each_person_with_something_to_say_gets_one_digest_in_their_language(
        self, fresh_db, smtp, tmp_path
    ) -> None:
        people = _people(fresh_db)
        now = utcnow()

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        assert sorted(m["To"] for m in smtp.inbox.messages) == [
            "kari@example.org",
            "sven@example.se",
        ]
        [kari] = smtp.inbox.to("kari@example.org")
        [sven] = smtp.inbox.to("sven@example.se")
        assert kari["Content-Language"] == "nb"
        assert sven["Content-Language"] == "sv"
        text, rich = _parts(kari)
        assert people.overdue_number in text
        assert people.soon_number in text
        # The overdue first; dates as bokmål writes them; links to the records.
        assert text.index(people.overdue_number) < text.index(people.soon_number)
        overdue_on = utcnow().date() - timedelta(days=4)
        assert overdue_on.strftime("%d.%m.%Y") in text
        assert f"https://qms.example.org/actions/{people.kari_action_id}" in text
        assert f'href="https://qms.example.org/actions/{people.kari_action_id}"' in rich
        sven_text, _ = _parts(sven)
        assert people.sven_number in sven_text
        assert people.overdue_number not in sven_text
        due = utcnow().date() + timedelta(days=5)
        assert due.isoformat() in sven_text  # Swedish writes 2026-12-05

    def test_a_second_run_sends_nothing_again(self, fresh_db, smtp) -> None:
        _people(fresh_db)
        now = utcnow()
        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))
        assert len(smtp.inbox.messages) == 2

        run_reminders(fresh_db, now + timedelta(hours=1), now.date(), settings_for(smtp.url))

        assert len(smtp.inbox.messages) == 2
        with fresh_db.unit_of_work(write=False) as session:
            rows = session.scalars(select(Reminder)).all()
            assert {r.status for r in rows} == {ReminderStatus.sent}

    def test_the_next_day_only_the_overdue_is_said_again(self, fresh_db, smtp) -> None:
        people = _people(fresh_db)
        now = utcnow()
        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))
        tomorrow = now + timedelta(days=1)

        run_reminders(fresh_db, tomorrow, tomorrow.date(), settings_for(smtp.url))

        [_, again] = smtp.inbox.to("kari@example.org")
        text, _ = _parts(again)
        assert people.overdue_number in text
        assert people.soon_number not in text
        assert len(smtp.inbox.to("sven@example.se")) == 1


class TestAssigned:
    def test_a_new_action_is_said_once_as_assigned(self, fresh_db, smtp) -> None:
        today = utcnow().date()
        with fresh_db.unit_of_work() as session:
            owner = make_user(session, Role.coordinator, "nora")
            service.set_contact(
                session, actor=ADMIN, user_name="nora", email="nora@example.org", language="en"
            )
            action = make_action(
                session, [make_deviation(session)], owner, due_on=today + timedelta(days=60)
            )
            number = action.number
        now = utcnow()

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))
        tomorrow = now + timedelta(days=1)
        run_reminders(fresh_db, tomorrow, tomorrow.date(), settings_for(smtp.url))

        [message] = smtp.inbox.to("nora@example.org")
        text, _ = _parts(message)
        assert "Assigned to you" in text
        assert number in text
        assert message["Subject"] == "mentor-qms: 1 thing waits for you"


class TestHandedOver:
    def test_a_deviation_given_to_someone_and_an_action_handed_on_are_said_as_assigned(
        self, fresh_db, smtp
    ) -> None:
        from qms.actions import service as actions
        from qms.actions.schemas import ActionUpdate
        from qms.deviations import service as deviations
        from qms.deviations.schemas import DeviationUpdate

        today = utcnow().date()
        with fresh_db.unit_of_work() as session:
            make_user(session, Role.quality_lead, "nora")
            first = make_user(session, Role.coordinator, "first")
            service.set_contact(
                session, actor=ADMIN, user_name="nora", email="nora@example.org", language="en"
            )
            given = make_deviation(session)
            deviations.update(
                session,
                actor=ADMIN,
                deviation_id=given.id,
                data=DeviationUpdate(owner="nora"),
                if_match=given.version,
            )
            action = make_action(
                session, [make_deviation(session)], first, due_on=today + timedelta(days=60)
            )
            # Planned a while ago for someone else; handed to Nora today.
            action.created_at = utcnow() - timedelta(days=10)
            actions.update(
                session,
                actor=ADMIN,
                action_id=action.id,
                data=ActionUpdate(owner="nora"),
                if_match=action.version,
            )
            numbers = given.number, action.number
        now = utcnow()

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        [message] = smtp.inbox.to("nora@example.org")
        text, _ = _parts(message)
        assert "Assigned to you" in text
        for number in numbers:
            assert number in text
        assert message["Subject"] == "mentor-qms: 2 things wait for you"

    def test_what_one_takes_on_oneself_is_no_news(self, fresh_db, smtp) -> None:
        from qms.deviations import service as deviations
        from qms.deviations.schemas import DeviationUpdate

        with fresh_db.unit_of_work() as session:
            nora = make_user(session, Role.quality_lead, "nora")
            service.set_contact(
                session, actor=ADMIN, user_name="nora", email="nora@example.org", language="en"
            )
            taken = make_deviation(session)
            deviations.update(
                session,
                actor=service.actor_of(nora),
                deviation_id=taken.id,
                data=DeviationUpdate(owner="nora"),
                if_match=taken.version,
            )
        now = utcnow()

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        assert smtp.inbox.to("nora@example.org") == []


class TestOpenedByARule:
    def test_quality_leads_are_told_of_a_deviation_a_rule_opened(self, fresh_db, smtp) -> None:
        with fresh_db.unit_of_work() as session:
            for name, role in (("ingrid", Role.quality_lead), ("siri", Role.coordinator)):
                make_user(session, role, name)
                service.set_contact(
                    session, actor=ADMIN, user_name=name, email=f"{name}@example.org", language="en"
                )
            deviation = make_deviation(session, source="meeting_rule")
            session.add(
                RuleFinding(
                    key=f"meeting_rule:test:{deviation.id}",
                    rule="meeting_rule",
                    detail="One meeting in March against a rule of two.",
                    found_on=utcnow().date(),
                    deviation_id=deviation.id,
                )
            )
            number = deviation.number
        now = utcnow()

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        [message] = smtp.inbox.to("ingrid@example.org")
        text, _ = _parts(message)
        assert "Deviations opened by a rule" in text
        assert number in text
        assert smtp.inbox.to("siri@example.org") == []


class TestOptOut:
    def test_a_kind_turned_off_is_not_sent(self, fresh_db, smtp) -> None:
        people = _people(fresh_db)
        with fresh_db.unit_of_work() as session:
            kari = session.scalars(select(User).where(User.name == "kari")).one()
            service.set_opt_outs(
                session,
                actor=service.actor_of(kari),
                user_name="kari",
                opt_outs=["overdue"],
            )
        now = utcnow()

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        [message] = smtp.inbox.to("kari@example.org")
        text, _ = _parts(message)
        assert people.overdue_number not in text
        assert people.soon_number in text

    def test_someone_else_may_not_turn_off_a_persons_reminders(self, fresh_db) -> None:
        _people(fresh_db)
        with fresh_db.unit_of_work() as session:
            sven = session.scalars(select(User).where(User.name == "sven")).one()
            with pytest.raises(Forbidden, match="does not allow you"):
                service.set_opt_outs(
                    session, actor=service.actor_of(sven), user_name="kari", opt_outs=["overdue"]
                )


class TestServerDown:
    def test_reminders_stay_pending_and_a_later_run_sends_them_once(
        self, fresh_db, smtp, caplog
    ) -> None:
        _people(fresh_db)
        smtp.stop()
        now = utcnow()
        caplog.set_level(logging.DEBUG)

        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        assert smtp.inbox.messages == []
        with fresh_db.unit_of_work(write=False) as session:
            state = service.status(session)
            rows = session.scalars(select(Reminder)).all()
        assert state.pending == len(rows) == state.failing
        assert state.sent == 0
        assert {r.attempts for r in rows} == {1}
        assert PASSWORD not in caplog.text
        assert PASSWORD not in (state.last_error or "")

        # Tried too soon (the wait after a failure has not passed): nothing is sent.
        smtp.start(Path(os.environ["SSL_CERT_FILE"]).parent)
        assert send_reminders(fresh_db, now + timedelta(minutes=1), settings_for(smtp.url)) == (
            0,
            0,
        )
        sent, failed = send_reminders(fresh_db, now + timedelta(minutes=10), settings_for(smtp.url))
        assert (sent, failed) == (2, 0)
        assert len(smtp.inbox.to("kari@example.org")) == 1
        assert send_reminders(fresh_db, now + timedelta(hours=2), settings_for(smtp.url)) == (
            0,
            0,
        )
        with fresh_db.unit_of_work(write=False) as session:
            assert service.status(session).pending == 0
        assert PASSWORD not in caplog.text


class TestTrail:
    def test_each_sending_is_in_the_trail_without_any_address(self, fresh_db, smtp) -> None:
        _people(fresh_db)
        now = utcnow()
        run_reminders(fresh_db, now, now.date(), settings_for(smtp.url))

        with fresh_db.unit_of_work(write=False) as session:
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
            kari_id = session.scalars(select(User.id).where(User.name == "kari")).one()
            written = json.dumps(
                [[e.action, e.actor, e.changes, e.reason] for e in events], default=str
            )
            sent = [e for e in events if e.action == "reminder.sent"]
        assert "@" not in written
        assert {e.entity_id for e in sent} == {str(kari_id), str(_id_of(fresh_db, "sven"))}
        [kari_sent] = [e for e in sent if e.entity_id == str(kari_id)]
        assert kari_sent.changes["kinds"]["new"] == ["overdue", "due_soon"]
        assert kari_sent.changes["count"]["new"] == 2
        assert kari_sent.at is not None


def _id_of(database: Database, name: str) -> int:
    with database.unit_of_work(write=False) as session:
        return session.scalars(select(User.id).where(User.name == name)).one()


class TestCommands:
    @pytest.fixture
    def qms(self, fresh_db, monkeypatch):
        monkeypatch.setenv(
            "QMS_DATABASE_URL", fresh_db.engine.url.render_as_string(hide_password=False)
        )
        monkeypatch.setattr(common.out, "width", 220)
        monkeypatch.setenv("QMS_LANGUAGE", "en")
        monkeypatch.setenv("QMS_PUBLIC_URL", "https://qms.example.org")
        get_settings.cache_clear()
        runner = CliRunner()

        def run(*args: str, code: int = 0) -> Any:
            result = runner.invoke(app, list(args))
            assert result.exit_code == code, (result.stdout, result.stderr)
            return result

        yield run
        get_settings.cache_clear()

    def test_preview_prints_the_digest_and_sends_nothing(self, qms, fresh_db) -> None:
        people = _people(fresh_db)

        result = qms("reminders", "preview", "kari")

        # Kari reads bokmål: the digest is in her language.
        assert "Subject: mentor-qms: 2 ting venter på deg" in result.stdout
        assert people.overdue_number in result.stdout
        assert "https://qms.example.org/actions/" in result.stdout
        with fresh_db.unit_of_work(write=False) as session:
            assert session.scalars(select(Reminder)).all() == []

    def test_an_admin_sets_the_address_and_the_kinds_through_qms_users(self, qms, fresh_db) -> None:
        _people(fresh_db)
        qms("users", "contact", "ola", "--email", "ola@example.org", "--language", "sv")
        qms("users", "reminders", "ola", "--off", "assigned", "--off", "due_soon")
        qms("users", "reminders", "ola", "--off", "sometimes", code=2)

        with fresh_db.unit_of_work(write=False) as session:
            ola = session.scalars(select(User).where(User.name == "ola")).one()
            assert (ola.email, ola.language) == ("ola@example.org", "sv")
            assert ola.reminder_opt_outs == [ReminderKind.assigned, ReminderKind.due_soon]
        result = qms("reminders", "preview", "ola")
        assert "Nothing to remind ola of." in result.stderr

    def test_status_reports_the_pending_and_the_failing(self, qms, fresh_db, monkeypatch) -> None:
        _people(fresh_db)
        monkeypatch.setenv("QMS_SMTP_URL", f"smtp://qms:{PASSWORD}@127.0.0.1:{_free_port()}")
        sent = qms("reminders", "send")
        assert PASSWORD not in sent.stdout + sent.stderr

        result = qms("reminders", "status")

        assert "pending (" in result.stdout
        assert "0 sent" in result.stdout
        assert "last failure: ConnectionRefusedError" in result.stdout
        assert PASSWORD not in result.stdout

    def test_the_demo_gives_its_people_addresses_and_a_digest_to_preview(
        self, qms, fresh_db
    ) -> None:
        from qms import demo

        with fresh_db.unit_of_work() as session:
            demo.load(session, operator=ADMIN)
            coordinator = session.scalars(select(User).where(User.name == "demo-coordinator")).one()
            assert (coordinator.email, coordinator.language) == ("siri.bakke@example.org", "nb")

        result = qms("reminders", "preview", "demo-coordinator")

        assert "Subject: mentor-qms: " in result.stdout
        assert "https://qms.example.org/follow-ups/" in result.stdout

    def test_send_beside_a_scheduler_sending_is_refused(self, qms, fresh_db) -> None:
        from qms.scheduler import held

        _people(fresh_db)
        with held(fresh_db, "reminders") as mine:
            assert mine
            result = qms("reminders", "send", code=1)

        assert "being sent by a scheduler now" in result.stderr
        with fresh_db.unit_of_work(write=False) as session:
            assert session.scalars(select(Reminder)).all() == []
