"""Sign a record's content."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import canonical_json, jsonable, record_event
from qms.db import utcnow
from qms.permissions import Actor
from qms.signatures.models import Signature, SignatureMeaning


def content_hash(content: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the canonical JSON of what is signed."""
    return hashlib.sha256(canonical_json(jsonable(content)).encode()).hexdigest()


def sign(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    entity_id: int,
    meaning: SignatureMeaning,
    content: Mapping[str, Any],
    programme_id: int | None = None,
) -> Signature:
    """Record the actor's signature over the content, and put it into the audit trail."""
    signature = Signature(
        entity=entity,
        entity_id=entity_id,
        meaning=meaning,
        signer_id=actor.user_id,
        signer=actor.name,
        signed_at=utcnow(),
        content_sha256=content_hash(content),
    )
    session.add(signature)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="signature.signed",
        entity=entity,
        entity_id=entity_id,
        programme_id=programme_id,
        changes={
            "meaning": {"old": None, "new": meaning.value},
            "content_sha256": {"old": None, "new": signature.content_sha256},
        },
    )
    return signature


def signatures_of(session: Session, *, entity: str, entity_id: int) -> Sequence[Signature]:
    """List a record's signatures, oldest first."""
    return session.scalars(
        select(Signature)
        .where(Signature.entity == entity, Signature.entity_id == entity_id)
        .order_by(Signature.id)
    ).all()
