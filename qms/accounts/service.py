"""Create users, issue and revoke tokens, and authenticate a bearer token."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.access.service import AccessLog, entry_for
from qms.accounts import failures, repository
from qms.accounts.models import ApiToken, User
from qms.accounts.web import end_sessions
from qms.audit.service import created, lock_chain_head, record_event
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, Unauthenticated, ValidationFailed
from qms.i18n import Text
from qms.permissions import Action, Actor, Role, require
from qms.programmes import repository as programmes

TOKEN_PREFIX = "qms_"
DISPLAY_NAME_LENGTH = 200
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def hash_token(token: str) -> str:
    """Return the SHA-256 a token is stored under (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token as issued: the secret is shown once and never stored."""

    token: ApiToken
    secret: str


def name_key(name: str) -> str:
    """Return a user name as names are compared: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def create_user(
    session: Session,
    *,
    actor: Actor,
    name: str,
    role: Role,
    display_name: str | None = None,
) -> User:
    """Create a user with one role, and the name people read them by (else their login)."""
    require(actor, Action.user_manage)
    shown = _display_name(display_name)
    if not _NAME.match(name):
        raise ValidationFailed(
            Text("The user name cannot be used: choose another."),
            [
                FieldError(
                    "name",
                    Text(
                        "Use 1 to 100 letters, digits, '.', '_', '@' or '-', starting with a "
                        "letter or digit."
                    ),
                )
            ],
        )
    if repository.get_user_by_name(session, name) is not None:
        raise Conflict(
            Text("A user named %(name)s exists already: choose another name.", name=name)
        )
    key = name_key(name)
    twin = session.scalars(select(User).where(User.name_key == key)).one_or_none()
    if twin is not None:
        raise Conflict(
            Text(
                "A user named %(existing)s exists already, which differs from %(name)s only in "
                "case: choose another name.",
                existing=twin.name,
                name=name,
            )
        )
    user = User(name=name, name_key=key, role=role, is_active=True, display_name=shown)
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.created",
        entity="user",
        entity_id=user.id,
        changes=created(
            {"name": name, "role": role, "display_name": shown, "is_active": user.is_active}
        ),
    )
    return user


def _display_name(value: str | None) -> str | None:
    """Return a display name as kept: trimmed, inner spaces single, none when empty."""
    shown = " ".join((value or "").split())
    if len(shown) > DISPLAY_NAME_LENGTH:
        raise ValidationFailed(
            Text("The display name is too long."),
            [
                FieldError(
                    "display_name",
                    Text(
                        "Write at most %(max_length)s characters.", max_length=DISPLAY_NAME_LENGTH
                    ),
                )
            ],
        )
    return shown or None


def set_display_name(
    session: Session, *, actor: Actor, user_name: str, display_name: str | None
) -> User:
    """Give a user the name people read them by; empty shows their login again."""
    require(actor, Action.user_manage)
    user = get_user_or_raise(session, user_name)
    shown = _display_name(display_name)
    if user.display_name == shown:
        return user
    old, user.display_name = user.display_name, shown
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.display_name_changed",
        entity="user",
        entity_id=user.id,
        changes={"display_name": {"old": old, "new": shown}},
    )
    return user


# Fields of the records (and of the audit trail's changes) that keep a login, or a list of them:
# shown by display name (api/web/templates/macros.html keeps the same list for the timeline).
PERSON_FIELDS = frozenset(
    {
        "owner",
        "reported_by",
        "detected_by",
        "verified_by",
        "author",
        "approved_by",
        "held_by",
        "decided_by",
        "created_by",
        "last_reviewed_by",
        "changed_by",
        "auditors",
        "auditees",
        "participants",
        "user",
    }
)


def display_names(session: Session, logins: Iterable[str] | None = None) -> dict[str, str]:
    """Map logins to the names people read them by, in one query: only users who have one, so
    look a login up with `.get(login, login)` (an actor that is no user, "cli:root", stays)."""
    return repository.display_names(session, None if logins is None else set(logins))


def shown_name(names: dict[str, str], login: str | None) -> str:
    """Return who someone is as a reader knows them: their display name, else the login as kept."""
    if login is None:
        return ""
    return names.get(login, login)


def get_user_or_raise(session: Session, name: str) -> User:
    """Return the named user or raise NotFound."""
    user = repository.get_user_by_name(session, name)
    if user is None:
        raise NotFound(Text("There is no user named %(name)s.", name=name))
    return user


def create_token(
    session: Session,
    *,
    actor: Actor,
    user_name: str,
    expires_in_days: int | None = None,
    programme_code: str | None = None,
) -> IssuedToken:
    """Issue a bearer token for a user; the secret is returned once."""
    require(actor, Action.user_manage)
    user = get_user_or_raise(session, user_name)
    if not user.is_active:
        raise Conflict(
            Text(
                "User %(name)s is deactivated: reactivate them before issuing a token.",
                name=user_name,
            )
        )
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationFailed(
            Text("Enter how many days the token stays valid."),
            [FieldError("expires_in", Text("Enter a whole number of days, 1 or more."))],
        )
    programme_id = None
    if programme_code is not None:
        programme = programmes.get_by_code(session, programme_code)
        if programme is None:
            raise ValidationFailed(
                Text("The token names a programme that does not exist."),
                [
                    FieldError(
                        "programme",
                        Text("There is no programme %(code)s.", code=programme_code),
                    )
                ],
            )
        programme_id = programme.id
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        programme_id=programme_id,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="token.created",
        entity="token",
        entity_id=token.id,
        programme_id=programme_id,
        changes=created(
            {
                "user": user.name,
                "prefix": token.prefix,
                "expires_at": token.expires_at,
                "programme_id": programme_id,
            }
        ),
    )
    return IssuedToken(token, secret)


def revoke_token(session: Session, *, actor: Actor, token_id: int, reason: str | None) -> ApiToken:
    """Revoke a token; it answers 401 from then on."""
    require(actor, Action.user_manage)
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(Text("There is no token with the id %(id)s.", id=token_id))
    if token.revoked_at is not None:
        raise Conflict(Text("Token %(id)s is revoked already.", id=token_id))
    token.revoked_at = utcnow()
    record_event(
        session,
        actor=actor,
        action="token.revoked",
        entity="token",
        entity_id=token.id,
        programme_id=token.programme_id,
        changes={"revoked_at": {"old": None, "new": token.revoked_at.isoformat()}},
        reason=reason,
    )
    return token


def revoke_all(session: Session, *, actor: Actor, user_name: str, reason: str | None) -> int:
    """Revoke every live token of a user; return how many."""
    user = get_user_or_raise(session, user_name)
    live = [t for t in user.tokens if t.revoked_at is None]
    for token in live:
        revoke_token(session, actor=actor, token_id=token.id, reason=reason)
    return len(live)


def set_active(
    session: Session, *, actor: Actor, user_name: str, active: bool, reason: str | None
) -> User:
    """Deactivate a user — every token revoked, every browser session ended, no sign-in — or
    bring one back. No one deactivates themselves, nor the last active admin."""
    require(actor, Action.user_manage)
    # One change of who is active at a time: two admins deactivating each other at the same
    # moment would otherwise each see the other still active, and leave no admin at all.
    lock_chain_head(session)
    user = get_user_or_raise(session, user_name)
    if user.is_active == active:
        if active:
            raise Conflict(Text("User %(name)s is already active.", name=user_name))
        raise Conflict(Text("User %(name)s is already deactivated.", name=user_name))
    if not active:
        if actor.user_id is not None and actor.user_id == user.id:
            raise Conflict(Text("You cannot deactivate yourself: ask another administrator."))
        if user.role is Role.admin and not any(
            u.is_active and u.id != user.id and u.role is Role.admin
            for u in repository.list_users(session)
        ):
            raise Conflict(
                Text(
                    "%(name)s is the last active administrator: make another user an "
                    "administrator first.",
                    name=user_name,
                )
            )
        revoke_all(session, actor=actor, user_name=user_name, reason=reason or "user deactivated")
        end_sessions(session, user)
    user.is_active = active
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        entity="user",
        entity_id=user.id,
        changes={"is_active": {"old": not active, "new": active}},
        reason=reason,
    )
    return user


def list_users(session: Session, *, actor: Actor) -> Sequence[User]:
    """List users."""
    require(actor, Action.user_manage)
    return repository.list_users(session)


def list_tokens(session: Session, *, actor: Actor, user_name: str | None) -> Sequence[ApiToken]:
    """List tokens (never their secrets)."""
    require(actor, Action.user_manage)
    user_id = get_user_or_raise(session, user_name).id if user_name else None
    return repository.list_tokens(session, user_id=user_id)


def authenticate(session: Session, secret: str) -> Actor:
    """Return the actor behind a bearer token, or raise TokenRefused saying why."""
    token = repository.get_token_by_hash(session, hash_token(secret))
    if token is None:
        raise TokenRefused(
            Text("The token is not known: check it, or ask an administrator for a new one."),
            token=None,
        )
    if token.revoked_at is not None:
        raise TokenRefused(
            Text("The token has been revoked: ask an administrator for a new one."), token=token
        )
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise TokenRefused(
            Text("The token has expired: ask an administrator for a new one."), token=token
        )
    if not token.is_active:
        raise TokenRefused(Text("The token's user is deactivated."), token=token)
    return Actor(
        user_id=token.user_id,
        name=token.name,
        display_name=token.display_name,
        role=token.role,
        programme_id=token.programme_id,
        token_id=token.id,
    )


class TokenRefused(Unauthenticated):
    """A bearer token refused, with the token when it is one this service issued."""

    def __init__(self, detail: Text, *, token: repository.TokenRow | None) -> None:
        super().__init__(detail)
        self.token_id = token.id if token is not None else None
        self.user_id = token.user_id if token is not None else None


def actor_for(session: Session, name: str) -> Actor:
    """Return the named active user as an actor (for someone at the command line acting as them)."""
    user = get_user_or_raise(session, name)
    if not user.is_active:
        raise Unauthenticated(Text("User %(name)s is deactivated.", name=name))
    return Actor(user_id=user.id, name=user.name, role=user.role, display_name=user.display_name)


def use_is_audited(actor: Actor) -> bool:
    """Say whether every use of the actor's token goes into the audit trail (auditors' do)."""
    return actor.role is Role.auditor


def record_access(log: AccessLog, *, actor: Actor, request: str, client: str | None) -> None:
    """Put one use of an auditor's token into the access log: who read what, when, from where.

    The entry waits in memory and is written in a batch of its own (qms.access.service): the
    read never waits for the writers' turn."""
    log.record(entry_for(actor, request=request, client=client))


def record_login_failure(
    session: Session, *, refused: Unauthenticated, client: str | None, now: datetime | None = None
) -> int:
    """Count a refused bearer token for the client (the trail gets a summary at most once a
    minute, never any part of what was sent). Return the seconds the client must still wait
    when it was already told to (its refusal is then 429), else 0."""
    now = now or utcnow()
    token_id = getattr(refused, "token_id", None)
    subject = f"token:{token_id}" if token_id is not None else failures.UNKNOWN_TOKEN
    address = failures.client_of(client)
    wait = failures.seconds_to_wait(session, via="api", subject=subject, client=address, now=now)
    failures.note_failure(
        session,
        via="api",
        subject=subject,
        client=address,
        reason="throttled" if wait else str(refused.detail),
        now=now,
        user_id=getattr(refused, "user_id", None),
        in_a_row=not wait,
    )
    return wait
