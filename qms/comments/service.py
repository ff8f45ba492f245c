"""Comment on deviations, corrective actions, internal audits and management reviews.

A comment is kept as written: never changed or removed (the database refuses both); a correction
is a new comment. Who may see the record may read its comments; those who work on the records
(not auditors) may add one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from qms.accounts import repository as users
from qms.actions import service as actions
from qms.audit.service import created, record_event
from qms.audits import reviews
from qms.audits import service as audits
from qms.comments import repository
from qms.comments.models import Comment, CommentedRecord
from qms.comments.schemas import CommentCreate, CommentRead
from qms.deviations import service as deviations
from qms.pagination import Page, decode_cursor
from qms.permissions import Action, Actor, require


@dataclass(frozen=True)
class Commented:
    """The record a comment is on: its kind, id, number and programme."""

    record: CommentedRecord
    record_id: int
    number: str
    programme_id: int | None


def target(session: Session, *, actor: Actor, record: CommentedRecord, record_id: int) -> Commented:
    """Return the record the actor may see, or raise NotFound (or Forbidden for a role that may
    not read its kind)."""
    if record is CommentedRecord.deviation:
        deviation = deviations.get(session, actor=actor, deviation_id=record_id)
        return Commented(record, deviation.id, deviation.number, deviation.programme_id)
    if record is CommentedRecord.action:
        action = actions.get(session, actor=actor, action_id=record_id)
        return Commented(record, action.id, action.number, actions.programme_of(action))
    if record is CommentedRecord.internal_audit:
        audit = audits.get(session, actor=actor, audit_id=record_id)
        return Commented(record, audit.id, audit.number, audit.programme_id)
    review = reviews.get(session, actor=actor, review_id=record_id)
    return Commented(record, review.id, review.number, review.programme_id)


def list_comments(
    session: Session,
    *,
    actor: Actor,
    record: CommentedRecord,
    record_id: int,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Comment]:
    """List the comments on a record the actor may see, oldest first."""
    if cursor is not None:
        decode_cursor(cursor)  # a forged cursor is named before the record is looked up
    on = target(session, actor=actor, record=record, record_id=record_id)
    return repository.list_comments(
        session, record=on.record, record_id=on.record_id, limit=limit, cursor=cursor
    )


def all_comments(session: Session, *, record: CommentedRecord, record_id: int) -> list[Comment]:
    """Return every comment on a record, oldest first (for its page and its documents)."""
    return repository.all_comments(session, record=record, record_id=record_id)


def add(
    session: Session,
    *,
    actor: Actor,
    record: CommentedRecord,
    record_id: int,
    data: CommentCreate,
) -> Comment:
    """Add a comment to a record the actor may see; it is kept as written."""
    on = target(session, actor=actor, record=record, record_id=record_id)
    require(actor, Action.comment_write)
    comment = Comment(
        record=on.record,
        record_id=on.record_id,
        programme_id=on.programme_id,
        author_id=actor.user_id,
        author=actor.name,
        text=data.text,
    )
    session.add(comment)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="comment.added",
        entity="comment",
        entity_id=comment.id,
        programme_id=on.programme_id,
        changes=created(
            {
                "record": on.record.value,
                "record_id": on.record_id,
                "number": on.number,
                "programme_id": on.programme_id,
                "text": comment.text,
            }
        ),
    )
    return comment


def to_reads(session: Session, comments: list[Comment]) -> list[CommentRead]:
    """Shape comments for the API, each author by the name people read them by too."""
    shown = users.display_names(session, {c.author for c in comments})
    return [
        CommentRead(
            id=c.id,
            record=c.record,
            record_id=c.record_id,
            author=c.author,
            author_display_name=shown.get(c.author, c.author),
            text=c.text,
            created_at=c.created_at,
        )
        for c in comments
    ]
