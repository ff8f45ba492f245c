"""Queries over users and tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts.models import ApiToken, User


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


def get_token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """Return the token with this hash, with its user."""
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).one_or_none()


def list_users(session: Session) -> Sequence[User]:
    """List every user by name."""
    return session.scalars(select(User).order_by(User.name)).all()


def list_tokens(session: Session, *, user_id: int | None = None) -> Sequence[ApiToken]:
    """List tokens, newest last, optionally of one user."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return session.scalars(stmt).all()
