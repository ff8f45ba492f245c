"""Failed authentication: counted per user and client address, summarised in the audit trail.

A failure costs one small counter update. The trail gets at most one event a minute for each
user (or unknown user) and client address, counting the failures since the one before; the rest
are written with the next failure after the minute, or with the next success from that client.
The client that keeps failing waits longer and longer; the user signs in from elsewhere as usual,
so knowing someone's user name is not enough to keep them out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qms.accounts.models import AuthFailure
from qms.audit.service import record_event
from qms.permissions import ANONYMOUS

# Failed attempts in a row from one client that cost nothing; each one after them doubles the wait.
FREE_FAILURES = {"web": 3, "api": 10}
FIRST_WAIT_SECONDS = {"web": 5, "api": 1}
MAX_WAIT_SECONDS = 15 * 60
SUMMARY_EVERY = timedelta(minutes=1)
UNKNOWN_USER = "unknown user"
UNKNOWN_TOKEN = "unknown token"


def wait_after(failures: int, via: str = "web") -> int:
    """Return the seconds a client must wait after this many failures in a row."""
    free = FREE_FAILURES[via]
    if failures < free:
        return 0
    return int(min(FIRST_WAIT_SECONDS[via] * 2 ** (failures - free), MAX_WAIT_SECONDS))


def client_of(address: str | None) -> str:
    """Return the client address as it is kept (bounded; "unknown" when the server had none)."""
    return (address or "unknown")[:64]


def _row(session: Session, via: str, subject: str, client: str) -> AuthFailure | None:
    return session.scalars(
        select(AuthFailure).where(
            AuthFailure.via == via, AuthFailure.subject == subject, AuthFailure.client == client
        )
    ).one_or_none()


def seconds_to_wait(session: Session, *, via: str, subject: str, client: str, now: datetime) -> int:
    """Return how long this client must still wait before trying this subject again (0: none)."""
    row = _row(session, via, subject, client)
    if row is None or not row.in_a_row:
        return 0
    ready_at = row.last_failed_at + timedelta(seconds=wait_after(row.in_a_row, via))
    if now >= ready_at:
        return 0
    return max(1, int((ready_at - now).total_seconds() + 0.999))


def _summarise(session: Session, row: AuthFailure, *, reason: str, now: datetime) -> None:
    record_event(
        session,
        actor=ANONYMOUS,
        action="login.failed",
        entity="user" if row.user_id is not None else "session",
        entity_id=row.user_id,
        changes={
            "via": {"old": None, "new": row.via},
            "client": {"old": None, "new": row.client},
            "failures": {"old": None, "new": row.unreported},
            "since": {
                "old": None,
                "new": (row.first_unreported_at or now).isoformat(timespec="seconds"),
            },
        },
        reason=reason,
    )
    row.unreported = 0
    row.first_unreported_at = None
    row.reported_at = now


def note_failure(
    session: Session,
    *,
    via: str,
    subject: str,
    client: str,
    reason: str,
    now: datetime,
    user_id: int | None = None,
    in_a_row: bool = True,
) -> int:
    """Count one failed attempt; summarise in the trail if a minute has passed since the last
    summary for this subject and client. Return the seconds the client must now wait.

    An attempt refused because the client was still waiting is counted for the trail, but does
    not lengthen the wait (`in_a_row=False`)."""
    row = _row(session, via, subject, client)
    if row is None:
        row = AuthFailure(
            via=via,
            subject=subject,
            client=client,
            user_id=user_id,
            in_a_row=0,
            total=0,
            unreported=0,
            last_failed_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another attempt from the same client counted first.
            row = _row(session, via, subject, client)
            assert row is not None
    if in_a_row:
        row.in_a_row += 1
        row.last_failed_at = now
    row.total += 1
    row.unreported += 1
    row.first_unreported_at = row.first_unreported_at or now
    if row.reported_at is None or now - row.reported_at >= SUMMARY_EVERY:
        _summarise(session, row, reason=reason, now=now)
    session.flush()
    return wait_after(row.in_a_row, via)


def note_success(session: Session, *, via: str, subject: str, client: str, now: datetime) -> None:
    """Clear the client's failures in a row, writing any not yet summarised to the trail."""
    row = _row(session, via, subject, client)
    if row is None:
        return
    if row.unreported:
        _summarise(session, row, reason="failed before a success", now=now)
    row.in_a_row = 0
    session.flush()


def summarise_all(session: Session, *, now: datetime) -> int:
    """Write to the trail every failure not yet summarised (at shutdown, or before the trail is
    read whole); return how many summaries were written."""
    rows = session.scalars(select(AuthFailure).where(AuthFailure.unreported > 0)).all()
    for row in rows:
        _summarise(session, row, reason="failures not yet summarised", now=now)
    session.flush()
    return len(rows)
