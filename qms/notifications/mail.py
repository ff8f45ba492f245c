"""Sending e-mail through the SMTP server QMS_SMTP_URL names (standard library smtplib)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from qms.errors import FieldError, ValidationFailed
from qms.i18n import Text

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: host, port, STARTTLS or TLS from the start, and the login if any."""

    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None

    def __repr__(self) -> str:
        # The login is never shown (logs, tracebacks, reports): only where the server is.
        return f"SmtpServer({self.where})"

    @property
    def where(self) -> str:
        """Say where the server is, without its login."""
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"


def parse(url: str) -> SmtpServer:
    """Read QMS_SMTP_URL: smtp://[user:password@]host[:587] (STARTTLS) or smtps://…[:465] (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValidationFailed(
            Text("QMS_SMTP_URL must be smtp://host:port (STARTTLS) or smtps://host:port (TLS)."),
            [FieldError("smtp_url", Text("Enter an smtp:// or smtps:// address."))],
        )
    tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 587)
    except ValueError:
        raise ValidationFailed(
            Text("QMS_SMTP_URL must be smtp://host:port (STARTTLS) or smtps://host:port (TLS)."),
            [FieldError("smtp_url", Text("Enter the port as a number."))],
        ) from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send(server: SmtpServer, messages: list[EmailMessage]) -> None:
    """Hand the messages to the server in one connection; raise OSError or SMTPException if it
    does not take them. STARTTLS is required on smtp://: mail never goes out in the clear."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.tls:
        client = smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    with client:
        if not server.tls:
            client.ehlo()
            client.starttls(context=context)
            client.ehlo()
        if server.user is not None:
            client.login(server.user, server.password or "")
        for message in messages:
            client.send_message(message)
