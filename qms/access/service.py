"""Write the access log in batches, off the writers' turn, and verify it.

A read by an audited user is put in a buffer in memory (`AccessLog.record`), which answers at
once; a thread of its own writes what waits as one batch, in a short transaction, at most
`QMS_ACCESS_LOG_FLUSH_MS` after the read or as soon as `QMS_ACCESS_LOG_BATCH` entries wait, and
whatever waits when the service stops cleanly. A batch's hash covers its entries and the hash of
the batch before; the batch is signed with the audit trail's key when there is one. Batches take
turns on the log's own head row, never on the audit chain's, so several processes append to one
chain and no reader ever waits for an import. What a crash loses: the entries still waiting.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from qms.access.models import GENESIS_HASH, AccessBatch, AccessEntry, AccessLogHead
from qms.audit.service import canonical_json
from qms.db import Database, utcnow
from qms.errors import NotFound
from qms.i18n import Text
from qms.permissions import Actor

log = logging.getLogger("qms.access")

# A request as the log keeps it: method, path and query, cut to this length.
MAX_REQUEST = 2000


@dataclass(frozen=True)
class Entry:
    """One read, as it waits to be written."""

    at: datetime
    actor_id: int | None
    actor: str
    via: str
    via_id: int | None
    programme_id: int | None
    request: str
    client: str | None


def entry_for(actor: Actor, *, request: str, client: str | None) -> Entry:
    """Return the entry of one read by the actor (through their token or web session)."""
    web = actor.web_session_id is not None
    return Entry(
        at=utcnow(),
        actor_id=actor.user_id,
        actor=actor.name,
        via="web_session" if web else "token",
        via_id=actor.web_session_id if web else actor.token_id,
        programme_id=actor.programme_id,
        request=request[:MAX_REQUEST],
        client=client[:64] if client else None,
    )


def entry_payload(entry: Any) -> dict[str, Any]:
    """Return the fields of an entry that its batch's hash covers."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "via": entry.via,
        "via_id": entry.via_id,
        "programme_id": entry.programme_id,
        "request": entry.request,
        "client": entry.client,
    }


def batch_hash(prev_hash: str, seq: int, entries: Iterable[Mapping[str, Any]]) -> str:
    """Return SHA-256 over the previous batch's hash, the batch's number and its entries."""
    text = canonical_json({"seq": seq, "entries": list(entries)})
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def _message(seq: int, hash_: str, at: datetime) -> bytes:
    return f"mentor-qms access log\n{seq}\n{hash_}\n{at.isoformat()}".encode()


def append_batch(session: Session, entries: Sequence[Entry]) -> AccessBatch:
    """Write the entries as the next batch, in the caller's transaction.

    The log's head row is locked first (FOR UPDATE on PostgreSQL; on SQLite the transaction
    holds the write lock already), so batches from several processes never fork the chain.
    """
    from qms.audit import checkpoints  # the signing library only once a batch is written

    head = session.execute(
        select(AccessLogHead)
        .where(AccessLogHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise NotFound(
            Text("The audit trail is not set up: run `qms init` to migrate the database.")
        )
    seq = head.count + 1
    rows = [
        {
            "id": head.entries + place,
            "batch_seq": seq,
            "at": entry.at,
            "actor_id": entry.actor_id,
            "actor": entry.actor,
            "via": entry.via,
            "via_id": entry.via_id,
            "programme_id": entry.programme_id,
            "request": entry.request,
            "client": entry.client,
        }
        for place, entry in enumerate(entries, start=1)
    ]
    session.execute(insert(AccessEntry), rows)
    hash_ = batch_hash(head.last_hash, seq, (entry_payload(SimpleNamespace(**r)) for r in rows))
    # Whole seconds: the signed text and the stored time read back the same on every database.
    at = utcnow().replace(microsecond=0)
    key = checkpoints.signing_key()
    batch = AccessBatch(
        seq=seq,
        at=at,
        count=len(rows),
        prev_hash=head.last_hash,
        hash=hash_,
        key_id=checkpoints.key_id(key.public_key()) if key else None,
        signature=base64.b64encode(key.sign(_message(seq, hash_, at))).decode() if key else None,
    )
    session.add(batch)
    head.count = seq
    head.entries += len(rows)
    head.last_hash = hash_
    head.updated_at = at
    session.flush()
    return batch


class AccessLog:
    """The buffer of reads not yet written, and the thread that writes them in batches."""

    def __init__(
        self, database: Database, *, flush_ms: int | None = None, batch: int | None = None
    ) -> None:
        from qms.config import get_settings

        settings = get_settings()
        self.database = database
        self.interval = (flush_ms or settings.access_log_flush_ms) / 1000
        self.most = batch or settings.access_log_batch
        self._waiting: list[Entry] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        """Return how many entries wait to be written."""
        with self._lock:
            return len(self._waiting)

    def record(self, entry: Entry) -> None:
        """Put an entry in the buffer; it is written by the thread, never by the reader, while
        the thread runs (without it, a full batch is written at once)."""
        with self._lock:
            self._waiting.append(entry)
            full = len(self._waiting) >= self.most
        if not full:
            return
        if self._thread is not None:
            self._wake.set()
        else:
            self.flush()

    def flush(self) -> int:
        """Write every waiting entry, a batch of at most `most` at a time; return how many.

        An entry leaves the buffer only once its batch is committed: a failed write (the
        database busy or gone) leaves it for the next try."""
        written = 0
        with self._writing:
            while True:
                with self._lock:
                    batch = self._waiting[: self.most]
                if not batch:
                    return written
                with self.database.appending() as session:
                    append_batch(session, batch)
                with self._lock:
                    del self._waiting[: len(batch)]
                written += len(batch)

    def start(self) -> None:
        """Start the thread that writes the buffer."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="qms-access-log", daemon=True)
        self._thread.start()

    def close(self) -> int:
        """Stop the thread and write whatever waits (a clean shutdown); return how many were
        left unwritten, the database being gone (they are named in the log, not lost silently)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join()
        try:
            self.flush()
        except SQLAlchemyError as error:
            log.warning(
                "%s reads not written to the access log at shutdown: %s", self.waiting, error
            )
        return self.waiting

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.flush()
            except Exception as error:  # the thread must outlive any one failed batch
                # The database busy for longer than the wait (SQLite), gone, or not migrated:
                # the entries stay in the buffer and are tried again.
                log.warning("the access log could not be written yet: %s", error)


@dataclass(frozen=True)
class AccessVerifyResult:
    """The outcome of walking the access log's batches."""

    ok: bool
    batches: int
    entries: int
    last_hash: str
    first_broken_batch: int | None = None
    problem: str | None = None
    # Batches whose signature holds; None when there was no key to check them with.
    signed: int | None = None


def verify(
    session: Session,
    *,
    public_key: str | None = None,
    database_url: str | None = None,
    batch_size: int = 5000,
) -> AccessVerifyResult:
    """Walk the batches from the first: each one's entries, hash, link and signature; report
    OK or the first broken batch. `public_key` (base64) checks the signatures without the key."""
    from qms.audit import checkpoints as signed

    key = signed.public_from_text(public_key) if public_key else None
    if key is None and (private := signed.signing_key(database_url)) is not None:
        key = private.public_key()
    own = signed.key_id(key) if key is not None else None
    head = session.get(AccessLogHead, 1)
    head_count = head.count if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    head_entries = head.entries if head else 0
    table = AccessBatch.__table__
    # `size`, not `count`: a row's count() is tuple's own.
    batches = session.execute(
        select(
            table.c.seq,
            table.c.at,
            table.c.count.label("size"),
            table.c.prev_hash,
            table.c.hash,
            table.c.key_id,
            table.c.signature,
        ).order_by(table.c.seq)
    ).all()
    entries = iter(
        session.execute(
            select(*AccessEntry.__table__.columns)
            .order_by(AccessEntry.id)
            .execution_options(yield_per=batch_size)
        )
    )
    pending = next(entries, None)
    running, expected_entry, signed_count, signing_began = GENESIS_HASH, 1, 0, False

    def broken(seq: int, done: int, problem: str) -> AccessVerifyResult:
        return AccessVerifyResult(False, done, expected_entry - 1, running, seq, problem)

    for done, batch in enumerate(batches):
        seq = done + 1
        if batch.seq != seq:
            return broken(seq, done, f"batch {seq} is missing (next found: {batch.seq})")
        if batch.prev_hash != running:
            return broken(seq, done, f"batch {seq} does not link to the batch before it")
        payloads = []
        while pending is not None and pending.batch_seq == seq:
            if pending.id != expected_entry:
                return broken(seq, done, f"entry {expected_entry} of batch {seq} is missing")
            payloads.append(entry_payload(pending))
            expected_entry += 1
            pending = next(entries, None)
        if pending is not None and pending.batch_seq < seq:
            return broken(
                pending.batch_seq,
                done,
                f"entry {pending.id} names batch {pending.batch_seq}, out of its place",
            )
        if len(payloads) != batch.size:
            return broken(
                seq,
                done,
                f"batch {seq} was written with {batch.size} entries, {len(payloads)} are left",
            )
        if batch_hash(running, seq, payloads) != batch.hash:
            return broken(seq, done, f"batch {seq} was altered: its hash does not match")
        if key is not None:
            if batch.signature is None:
                if signing_began:
                    return broken(
                        seq,
                        done,
                        f"batch {seq} is not signed: it was added behind the service's back",
                    )
            else:
                signing_began = True
                message = _message(batch.seq, batch.hash, batch.at)
                try:
                    key.verify(base64.b64decode(batch.signature), message)
                    valid = batch.key_id == own
                except (InvalidSignature, ValueError):
                    valid = False
                if not valid:
                    return broken(
                        seq,
                        done,
                        f"the signature of batch {seq} is not the trail key's: "
                        "the batch was forged or altered",
                    )
                signed_count += 1
        running = batch.hash
    if pending is not None:
        return broken(
            pending.batch_seq,
            len(batches),
            f"entry {pending.id} names batch {pending.batch_seq}, which the log does not hold",
        )
    count = len(batches)
    if count != head_count or running != head_hash or expected_entry - 1 != head_entries:
        return AccessVerifyResult(
            False,
            count,
            expected_entry - 1,
            running,
            min(count, head_count) + 1 if count != head_count else max(count, 1),
            f"the log's head records {head_count} batches of {head_entries} entries ending in "
            f"{head_hash[:12]}…, but {count} batches of {expected_entry - 1} entries end in "
            f"{running[:12]}…: batches were removed or added",
        )
    return AccessVerifyResult(
        True, count, expected_entry - 1, running, signed=signed_count if key else None
    )
