"""Web sign-in: passwords, browser sessions, and slowing down repeated failures.

REST clients keep their bearer tokens (qms.accounts.service); a browser signs in with a user name
and password and gets a session whose secret lives in an HttpOnly cookie. A session started leaves
an event in the audit trail; failures are counted and summarised there (qms.accounts.failures),
and a client's failed attempts in a row make its further ones wait.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts import failures, repository
from qms.accounts.models import User, WebSession
from qms.accounts.passwords import check_strength, hash_password, verify_password
from qms.audit.service import record_event
from qms.db import utcnow
from qms.errors import Conflict, NotFound
from qms.i18n import Text
from qms.permissions import Action, Actor, require

SESSION_HOURS = 12
REFUSED = "wrong user name or password"
FREE_FAILURES = failures.FREE_FAILURES["web"]
FIRST_WAIT_SECONDS = failures.FIRST_WAIT_SECONDS["web"]
MAX_WAIT_SECONDS = failures.MAX_WAIT_SECONDS


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def wait_after(failures_in_a_row: int) -> int:
    """Return the seconds a client must wait after this many failed sign-ins in a row."""
    return failures.wait_after(failures_in_a_row, "web")


def set_password(session: Session, *, actor: Actor, user_name: str, password: str) -> User:
    """Give a user a password for the web front (or a new one); their open sessions end."""
    require(actor, Action.user_manage)
    user = repository.get_user_by_name(session, user_name)
    if user is None:
        raise NotFound(Text("There is no user named %(name)s.", name=user_name))
    if not user.is_active:
        raise Conflict(
            Text(
                "User %(name)s is deactivated: reactivate them before setting a password.",
                name=user_name,
            )
        )
    check_strength(password, user_name=user.name)
    had = user.password_hash is not None
    user.password_hash = hash_password(password)
    ended = end_sessions(session, user)
    record_event(
        session,
        actor=actor,
        action="user.password_set",
        entity="user",
        entity_id=user.id,
        # Never the hash: only that it changed.
        changes={"password": {"old": "set" if had else None, "new": "set"}},
        reason=f"{ended} open session(s) ended" if ended else None,
    )
    return user


def end_sessions(session: Session, user: User) -> int:
    """End every open browser session of the user; return how many."""
    now = utcnow()
    live = session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    ).all()
    for row in live:
        row.ended_at = now
    return len(live)


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: a session (its secret shown once) or why not."""

    secret: str | None = None
    csrf_token: str | None = None
    refused: str | None = None
    retry_after: int = 0


def sign_in(
    session: Session,
    *,
    name: str,
    password: str,
    client: str | None = None,
    now: datetime | None = None,
) -> SignIn:
    """Check a user name and password; open a session, or say why not (the same to every
    wrong guess, so that the reply does not tell which user names exist).

    Failures are counted per user and client address (`client`): the client that keeps failing
    waits, the user signs in from elsewhere. The trail gets a summary of them, never the name
    that was typed; the caller commits, also on failure.
    """
    now = now or utcnow()
    address = failures.client_of(client)
    user = repository.get_user_by_name(session, name)
    subject = f"user:{user.id}" if user is not None else failures.UNKNOWN_USER
    user_id = user.id if user is not None else None
    wait = failures.seconds_to_wait(session, via="web", subject=subject, client=address, now=now)
    if wait:
        failures.note_failure(
            session,
            via="web",
            subject=subject,
            client=address,
            reason="throttled",
            now=now,
            user_id=user_id,
            in_a_row=False,
        )
        return SignIn(refused=f"too many failed attempts: wait {wait} s", retry_after=wait)
    matches = verify_password(password, user.password_hash if user else None)
    reason = None
    if user is None:
        reason = "unknown user"
    elif user.password_hash is None:
        reason = "the user has no password"
    elif not matches:
        reason = "wrong password"
    elif not user.is_active:
        reason = "the user is deactivated"
    if reason is not None:
        failures.note_failure(
            session,
            via="web",
            subject=subject,
            client=address,
            reason=reason,
            now=now,
            user_id=user_id,
        )
        return SignIn(refused=REFUSED)
    assert user is not None
    failures.note_success(session, via="web", subject=subject, client=address, now=now)
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user.id,
        secret_hash=_hash(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=Actor(user_id=user.id, name=user.name, role=user.role),
        action="session.started",
        entity="web_session",
        entity_id=row.id,
        changes={"expires_at": {"old": None, "new": row.expires_at.isoformat()}},
    )
    return SignIn(secret=secret, csrf_token=row.csrf_token)


@dataclass(frozen=True)
class Signed:
    """Who a live session belongs to, and the token its forms must carry."""

    actor: Actor
    csrf_token: str
    session_id: int


def session_of(session: Session, secret: str, now: datetime | None = None) -> Signed | None:
    """Return the signed-in user behind a cookie's secret, or None if it is not a live session."""
    now = now or utcnow()
    row = session.scalars(
        select(WebSession).where(WebSession.secret_hash == _hash(secret))
    ).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    user = row.user
    if not user.is_active or user.password_hash is None:
        return None
    actor = Actor(
        user_id=user.id,
        name=user.name,
        role=user.role,
        web_session_id=row.id,
        display_name=user.display_name,
    )
    return Signed(actor=actor, csrf_token=row.csrf_token, session_id=row.id)


def sign_out(session: Session, secret: str) -> bool:
    """End the session behind a cookie's secret; say whether there was a live one."""
    signed = session_of(session, secret)
    if signed is None:
        return False
    row = session.get(WebSession, signed.session_id)
    assert row is not None
    row.ended_at = utcnow()
    record_event(
        session,
        actor=signed.actor,
        action="session.ended",
        entity="web_session",
        entity_id=row.id,
        changes={"ended_at": {"old": None, "new": row.ended_at.isoformat()}},
    )
    return True


def has_password(session: Session, actor: Actor) -> bool:
    """Say whether the actor has a password, which signing on a page asks for again."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    return user is not None and user.password_hash is not None


def check_signer(
    session: Session,
    *,
    actor: Actor,
    password: str,
    client: str | None = None,
    now: datetime | None = None,
) -> Text | None:
    """Check the password a signer enters again to sign; return why it is refused, or None.

    A wrong password is counted like a failed sign-in of that user from that client (the
    client that keeps failing waits), so a signature cannot be guessed into place; the caller
    commits, also on failure."""
    now = now or utcnow()
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or user.password_hash is None:
        return Text(
            "You have no password, so you cannot sign on a page: ask an administrator to set "
            "one, or sign through the API with your confirmation."
        )
    address = failures.client_of(client)
    subject = f"user:{user.id}"
    wait = failures.seconds_to_wait(session, via="web", subject=subject, client=address, now=now)
    if wait:
        failures.note_failure(
            session,
            via="web",
            subject=subject,
            client=address,
            reason="throttled",
            now=now,
            user_id=user.id,
            in_a_row=False,
        )
        return Text(
            "Too many wrong passwords: wait %(seconds)s seconds and try again.", seconds=str(wait)
        )
    if not password or not verify_password(password, user.password_hash):
        failures.note_failure(
            session,
            via="web",
            subject=subject,
            client=address,
            reason="wrong password to sign",
            now=now,
            user_id=user.id,
        )
        return Text("The password is not right: nothing was signed.")
    failures.note_success(session, via="web", subject=subject, client=address, now=now)
    return None
