"""Queries over users and tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from qms.accounts.models import ApiToken, User
from qms.permissions import Role


def get_user_by_name(session: Session, name: str) -> User | None:
    """Return the user with this name, if any."""
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def display_names(session: Session, logins: set[str] | None = None) -> dict[str, str]:
    """Map the logins of users who have a display name (of these logins, if given) to it."""
    stmt = select(User.name, User.display_name).where(User.display_name.is_not(None))
    if logins is not None:
        if not logins:
            return {}
        stmt = stmt.where(User.name.in_(sorted(logins)))
    return {name: shown for name, shown in session.execute(stmt) if shown}


def get_token_by_hash(session: Session, token_hash: str) -> TokenRow | None:
    """Return the token with this hash and what a request needs of its user, in one query read
    as a plain row (every request with a bearer token asks it)."""
    # Through the session, so that a change to the token not yet written (flushed) is read.
    found = session.execute(_TOKEN, {"token_hash": token_hash}).one_or_none()
    return None if found is None else TokenRow(*found)


class TokenRow(NamedTuple):
    """A bearer token as a request is authenticated by it, with its user's name and role."""

    id: int
    user_id: int
    programme_id: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    name: str
    display_name: str | None
    role: Role
    is_active: bool


def list_users(session: Session) -> Sequence[User]:
    """List every user by name."""
    return session.scalars(select(User).order_by(User.name)).all()


def list_tokens(session: Session, *, user_id: int | None = None) -> Sequence[ApiToken]:
    """List tokens, newest last, optionally of one user."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return session.scalars(stmt).all()


# A token by its hash (given as "token_hash") with its user, the statement built once.
_TOKENS, _USERS = ApiToken.__table__, User.__table__
_TOKEN = (
    select(
        _TOKENS.c.id,
        _TOKENS.c.user_id,
        _TOKENS.c.programme_id,
        _TOKENS.c.expires_at,
        _TOKENS.c.revoked_at,
        _USERS.c.name,
        _USERS.c.display_name,
        _USERS.c.role,
        _USERS.c.is_active,
    )
    .join_from(_TOKENS, _USERS, _USERS.c.id == _TOKENS.c.user_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)
