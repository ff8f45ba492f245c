"""Sign a record's content, with the statement the signer confirmed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts.models import User
from qms.audit.service import canonical_json, jsonable, record_event
from qms.db import utcnow
from qms.errors import FieldError, SignatureRequired, ValidationFailed
from qms.i18n import DEFAULT_LANGUAGE, Text
from qms.permissions import Actor
from qms.signatures import statements
from qms.signatures.models import Signature, SignatureMeaning
from qms.signatures.schemas import SignatureConfirmation


def content_hash(content: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the canonical JSON of what is signed."""
    return hashlib.sha256(canonical_json(jsonable(content)).encode()).hexdigest()


def confirm(
    confirmation: SignatureConfirmation | None, *, meaning: SignatureMeaning, statement: Text
) -> SignatureConfirmation:
    """Return the signer's confirmation of this meaning, or refuse the move: without one (saying
    the statement to show the signer), or with another meaning."""
    if confirmation is None:
        raise SignatureRequired(
            Text(
                "This move is an electronic signature: show the signer the statement, and send "
                "it again with their confirmation of the meaning %(meaning)s.",
                meaning=meaning,
            ),
            [
                FieldError(
                    "signature",
                    Text(
                        "Confirm the signature (meaning: %(meaning)s) of this statement: "
                        "%(statement)s",
                        meaning=meaning,
                        statement=statement,
                    ),
                )
            ],
            meaning=meaning.value,
            statement=statement,
        )
    if confirmation.meaning is not meaning:
        raise ValidationFailed(
            Text("The signature's meaning is not what this move attests."),
            [
                FieldError(
                    "signature.meaning",
                    Text(
                        "This move is signed with the meaning %(meaning)s, not %(given)s.",
                        meaning=meaning,
                        given=confirmation.meaning,
                    ),
                )
            ],
        )
    return confirmation


def confirmation_of(entity: str, to: str, language: str | None = None) -> dict[str, Any]:
    """Return the signature a move of the record to the state carries, as a request's fields
    (none for a move that does not sign): for the demo and scripts that sign as they move."""
    meaning = statements.MEANING_OF_MOVE.get((entity, to))
    if meaning is None:
        return {}
    return {
        "signature": SignatureConfirmation(
            meaning=meaning, statement_confirmed=True, language=language
        )
    }


def printed_name(session: Session, actor: Actor) -> str:
    """Return the name a signature prints: the signer's display name, else their login."""
    if actor.display_name:
        return actor.display_name
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    return (user.display_name if user is not None else None) or actor.name


def sign(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    entity_id: int,
    meaning: SignatureMeaning,
    content: Mapping[str, Any],
    statement: Text,
    confirmation: SignatureConfirmation | None,
    programme_id: int | None = None,
) -> Signature:
    """Record the actor's signature over the content and the statement they confirmed (in
    their language), and put it into the audit trail."""
    confirmed = confirm(confirmation, meaning=meaning, statement=statement)
    language = confirmed.language or DEFAULT_LANGUAGE
    said = statement.in_language(language)
    signature = Signature(
        entity=entity,
        entity_id=entity_id,
        meaning=meaning,
        signer_id=actor.user_id,
        signer=actor.name,
        signer_name=printed_name(session, actor),
        signed_at=utcnow(),
        statement=said,
        statement_language=language,
        content_sha256=content_hash({**content, "statement": said}),
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
            "statement": {"old": None, "new": said},
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
