"""Signed checkpoints of the audit trail, kept in the database and outside it.

The hash chain shows an event edited or removed, but not by someone who rewrites the rest of the
chain and the head row after it: with write access to the database that is possible. Signed
checkpoints close the gap. Each event, as it is appended, gets a checkpoint naming it (its number
and hash) signed with an Ed25519 key that the database does not hold (a file,
QMS_SIGNING_KEY_FILE, made by `qms init` or `qms keys create`); the newest checkpoint of each
transaction is also appended, after the commit, to a file outside the database
(QMS_CHECKPOINT_FILE). So, once a key exists:

- an event added behind the service's back has no signed checkpoint;
- an event changed, even with the rest of the chain recomputed, no longer matches its own;
- the newest events cannot be removed with the head moved back: the outside file holds a
  checkpoint for an event the database no longer has;
- a checkpoint cannot be forged without the key, and an auditor checks with the public half.

What is not covered: events from before the key was made (the chain alone vouches for them),
someone holding both the key and the outside file, and a crash between a commit and the append
to the outside file (the database's own checkpoint of that transaction stays).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from qms.audit.models import AuditCheckpoint
from qms.config import get_settings
from qms.db import utcnow

_PENDING = "qms_checkpoints_pending"


def _beside_database(suffix: str, database_url: str | None) -> Path | None:
    url = make_url(database_url or get_settings().database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}{suffix}")


def key_file(database_url: str | None = None) -> Path | None:
    """Return where the signing key is kept: QMS_SIGNING_KEY_FILE, else beside a SQLite file
    (the service's database, or the one given)."""
    given = get_settings().signing_key_file
    return Path(given) if given else _beside_database(".signing-key", database_url)


def checkpoint_file(database_url: str | None = None) -> Path | None:
    """Return the file outside the database the checkpoints are appended to."""
    given = get_settings().checkpoint_file
    return Path(given) if given else _beside_database(".checkpoints", database_url)


def create_key(path: Path) -> Ed25519PublicKey:
    """Make a new signing key in a file only its owner can read; return its public half."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created exclusively: an existing key is never overwritten.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key.public_key()


@cache
def _load_key(path: str, mtime_ns: int) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def signing_key(database_url: str | None = None) -> Ed25519PrivateKey | None:
    """Return the signing key, or None when none has been made."""
    path = key_file(database_url)
    if path is None or not path.is_file():
        return None
    return _load_key(str(path), path.stat().st_mtime_ns)


def public_text(key: Ed25519PublicKey) -> str:
    """Return the public key as the auditor is given it (base64 of its 32 bytes)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_from_text(text: str) -> Ed25519PublicKey:
    """Read a public key given as public_text writes it."""
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))


def key_id(key: Ed25519PublicKey) -> str:
    """Return a short name of a public key: the start of its SHA-256."""
    return hashlib.sha256(base64.b64decode(public_text(key))).hexdigest()[:16]


def _message(seq: int, hash_: str, at: datetime) -> bytes:
    return f"mentor-qms checkpoint\n{seq}\n{hash_}\n{at.isoformat()}".encode()


def _as_line(row: AuditCheckpoint) -> str:
    return json.dumps(
        {
            "seq": row.seq,
            "hash": row.hash,
            "at": row.at.isoformat(),
            "key_id": row.key_id,
            "signature": row.signature,
        },
        sort_keys=True,
    )


def write(session: Session, seq: int, hash_: str) -> AuditCheckpoint | None:
    """Sign the event just appended, in the caller's transaction, when a signing key exists;
    the transaction's newest checkpoint goes to the outside file after the commit."""
    key = signing_key()
    if key is None:
        return None
    # Whole seconds: the signed text and the stored time read back the same on every database.
    now = utcnow().replace(microsecond=0)
    row = AuditCheckpoint(
        seq=seq,
        hash=hash_,
        at=now,
        key_id=key_id(key.public_key()),
        signature=base64.b64encode(key.sign(_message(seq, hash_, now))).decode(),
    )
    session.add(row)
    # Only the newest of a transaction goes outside: it vouches for every event before it.
    session.info[_PENDING] = _as_line(row)
    return row


@event.listens_for(Session, "after_commit")
def _append_outside(session: Session) -> None:
    line = session.info.pop(_PENDING, None)
    if not line:
        return
    path = checkpoint_file()
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{line}\n")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as read back, from the database or the outside file."""

    seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str
    where: str

    def signed_by(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(base64.b64decode(self.signature), _message(self.seq, self.hash, self.at))
        except (InvalidSignature, ValueError):
            return False
        return True


def stored(session: Session) -> Iterator[Checkpoint]:
    """Yield the checkpoints the database holds, oldest first."""
    # Plain rows, not ORM objects: a long trail has one checkpoint an event.
    table = AuditCheckpoint.__table__
    rows = session.execute(
        select(table.c.seq, table.c.hash, table.c.at, table.c.key_id, table.c.signature)
        .order_by(table.c.seq)
        .execution_options(yield_per=2000)
    )
    for seq, hash_, at, key, signature in rows:
        yield Checkpoint(seq, hash_, at, key, signature, "database")


def outside(path: Path) -> Iterator[Checkpoint]:
    """Yield the checkpoints of the outside file, in the order they were written."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                yield Checkpoint(
                    int(data["seq"]),
                    str(data["hash"]),
                    datetime.fromisoformat(data["at"]),
                    str(data["key_id"]),
                    str(data["signature"]),
                    f"{path.name}, line {number}",
                )
            except (ValueError, KeyError, TypeError):
                yield Checkpoint(
                    0, "", utcnow(), "", "", f"{path.name}, line {number} (unreadable)"
                )
