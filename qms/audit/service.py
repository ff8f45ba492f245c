"""Append to the audit trail and verify it."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from qms.db import utcnow
from qms.errors import NotFound
from qms.i18n import Text
from qms.permissions import Actor

Changes = dict[str, Any]


def jsonable(value: Any) -> Any:
    """Turn a field value into plain JSON (dates as ISO text, enums as their value)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


# One encoder, made once: json.dumps with options builds a new one on every call.
# Set on a unit of work that recorded an event: once it commits, the trail has grown (what is
# drawn ahead of the documents, qms.charts.ahead, looks at what changed).
CHANGED = "qms.audit.changed"
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Serialise with sorted keys and no spaces, so the same event always gives the same text."""
    return _CANONICAL.encode(payload)


def event_payload(event: Any) -> dict[str, Any]:
    """Return the fields of an event that its hash covers."""
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "programme_id": event.programme_id,
        "changes": event.changes,
        "reason": event.reason,
    }


def compute_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    """Return SHA-256 over the previous hash and the event's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode()).hexdigest()


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, personal: Iterable[str] = ()
) -> Changes:
    """Return {field: {old, new}} for each field that changed; personal fields without values."""
    personal_fields = set(personal)
    changes: Changes = {}
    for field in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(field)), jsonable(after.get(field))
        if old == new:
            continue
        changes[field] = {"changed": True} if field in personal_fields else {"old": old, "new": new}
    return changes


def created(values: Mapping[str, Any], *, personal: Iterable[str] = ()) -> Changes:
    """Return the changes that describe a new record: every field from nothing, the empty ones
    too, so the event holds the whole first state (`qms audit verify --records` replays it)."""
    personal_fields = set(personal)
    changes: Changes = {}
    for field in sorted(values):
        value = jsonable(values[field])
        if field in personal_fields:
            if value is not None:
                changes[field] = {"changed": True}
            continue
        changes[field] = {"old": None, "new": value}
    return changes


def lock_chain_head(session: Session) -> AuditChainHead:
    """Lock the chain's head row for the rest of the transaction and return it.

    Every write takes this lock when it records its event; a unit of work that must see what
    the writes before it committed (a rule run deciding which findings are new) takes it first.
    """
    head = session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise NotFound(
            Text("The audit trail is not set up: run `qms init` to migrate the database.")
        )
    return head


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object | None = None,
    changes: Changes | None = None,
    reason: str | None = None,
    programme_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    The head row is locked first (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the write
    transaction already holds the database's write lock), so appends are serialised and the chain
    never forks.
    """
    head = lock_chain_head(session)
    event = AuditEvent(
        seq=head.count + 1,
        at=utcnow(),
        actor_id=actor.user_id,
        actor=actor.name,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        programme_id=programme_id,
        changes=jsonable(changes or {}),
        reason=reason,
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event.prev_hash, event_payload(event))
    session.add(event)
    session.info[CHANGED] = True
    head.count = event.seq
    head.last_hash = event.hash
    head.updated_at = event.at
    session.flush()
    from qms.audit import checkpoints  # the signing library only once a trail is written

    checkpoints.write(session, event.seq, event.hash)
    return event


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain."""

    ok: bool
    count: int
    head_count: int
    last_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None
    # Signed checkpoints found to hold (in the database and in the file outside it), and the
    # newest event they vouch for; None when no key was there to check them with.
    checkpoints: int | None = None
    vouched_to: int = 0


def verify(
    session: Session,
    *,
    batch_size: int = 2000,
    public_key: str | None = None,
    database_url: str | None = None,
) -> VerifyResult:
    """Walk the chain from the first event and check its signed checkpoints; report OK or the
    first broken event. `public_key` (base64) checks the signatures without the signing key;
    `database_url` names the database when it is not the service's (for its key and file)."""
    from qms.audit import checkpoints as signed

    key = signed.public_from_text(public_key) if public_key else None
    if key is None and (private := signed.signing_key(database_url)) is not None:
        key = private.public_key()
    if key is None:
        # Nothing to check the signatures with: the chain alone vouches for the events.
        walked = _walk(session, batch_size, set())
        return walked if isinstance(walked, VerifyResult) else walked[0]
    found = list(signed.stored(session))
    outside_file = signed.checkpoint_file(database_url)
    if outside_file is not None and outside_file.is_file():
        found += list(signed.outside(outside_file))
    elif outside_file is not None and found:
        head = session.get(AuditChainHead, 1)
        return VerifyResult(
            False,
            0,
            head.count if head else 0,
            GENESIS_HASH,
            found[-1].seq,
            f"the checkpoint file {outside_file} is missing, though the database holds "
            f"{len(found)} signed checkpoints",
        )
    result = _walk(session, batch_size, {c.seq for c in found})
    if isinstance(result, VerifyResult):
        return result
    walked, hashes = result
    own = signed.key_id(key)
    stored_seqs = [c.seq for c in found if c.where == "database"]
    if stored_seqs:
        # Signed from the first event after the key was made: every later one has its own.
        first = stored_seqs[0]
        unsigned = sorted(set(range(first, walked.count + 1)) - set(stored_seqs))
        if unsigned:
            return replace(
                walked,
                ok=False,
                first_broken_seq=unsigned[0],
                problem=f"event {unsigned[0]} has no signed checkpoint: it was added behind "
                "the service's back",
            )
    for checkpoint in found:
        if checkpoint.key_id != own or not checkpoint.signed_by(key):
            return replace(
                walked,
                ok=False,
                first_broken_seq=checkpoint.seq,
                problem=f"the checkpoint of event {checkpoint.seq} ({checkpoint.where}) is not "
                "signed by the trail's key: it was forged or altered",
            )
        if checkpoint.seq > walked.count:
            return replace(
                walked,
                ok=False,
                first_broken_seq=walked.count + 1,
                problem=f"a signed checkpoint ({checkpoint.where}) vouches for event "
                f"{checkpoint.seq}, but the chain ends at event {walked.count}: events were "
                "removed and the head moved back",
            )
        if hashes[checkpoint.seq] != checkpoint.hash:
            return replace(
                walked,
                ok=False,
                first_broken_seq=checkpoint.seq,
                problem=f"event {checkpoint.seq} is not the one its signed checkpoint "
                f"({checkpoint.where}) vouches for: the chain was rewritten up to it",
            )
    return replace(
        walked, checkpoints=len(found), vouched_to=max((c.seq for c in found), default=0)
    )


def _walk(
    session: Session, batch_size: int, wanted: set[int]
) -> VerifyResult | tuple[VerifyResult, dict[int, str]]:
    """Walk the chain; return the broken result, or the sound one with the hashes at `wanted`."""
    hashes: dict[int, str] = {}
    head = session.get(AuditChainHead, 1)
    head_count = head.count if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    expected_seq, running = 1, GENESIS_HASH

    def broken(seq: int, problem: str) -> VerifyResult:
        return VerifyResult(False, expected_seq - 1, head_count, running, seq, problem)

    # Plain rows, not ORM objects: the walk touches every event once and needs only its values.
    stream = session.execute(
        select(*AuditEvent.__table__.columns)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=batch_size)
    )
    for event in stream:
        if event.seq != expected_seq:
            return broken(
                expected_seq, f"event {expected_seq} is missing (next found: {event.seq})"
            )
        if event.prev_hash != running:
            return broken(event.seq, f"event {event.seq} does not link to the event before it")
        if compute_hash(running, event_payload(event)) != event.hash:
            return broken(event.seq, f"event {event.seq} was altered: its hash does not match")
        running = event.hash
        if event.seq in wanted:
            hashes[event.seq] = running
        expected_seq += 1
    count = expected_seq - 1
    if count != head_count or running != head_hash:
        # The first event the head does not vouch for: one appended behind its back, the first
        # of those deleted from the end, or (same length, other hash) the replaced last one.
        first = min(count, head_count) + 1 if count != head_count else max(count, 1)
        return VerifyResult(
            False,
            count,
            head_count,
            running,
            first,
            f"the chain head records {head_count} events ending in {head_hash[:12]}…, "
            f"but {count} events end in {running[:12]}…: events were removed or added",
        )
    return VerifyResult(True, count, head_count, running), hashes


def head_summary(session: Session) -> tuple[int, str]:
    """Return the chain's event count and last hash, as documents print them."""
    head = session.get(AuditChainHead, 1)
    return (head.count, head.last_hash) if head else (0, GENESIS_HASH)


def count_events(session: Session) -> int:
    """Return how many events the table holds."""
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def export_jsonl(session: Session, handle: TextIO) -> int:
    """Write every event as one line of canonical JSON (with its hashes); return how many."""
    count = 0
    stream = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    ).scalars()
    for event in stream:
        line = {**event_payload(event), "prev_hash": event.prev_hash, "hash": event.hash}
        handle.write(canonical_json(line) + "\n")
        count += 1
    return count
