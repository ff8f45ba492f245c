"""Queries over comments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.comments.models import Comment, CommentedRecord
from qms.pagination import Page, paginate


def list_comments(
    session: Session, *, record: CommentedRecord, record_id: int, limit: int, cursor: str | None
) -> Page[Comment]:
    """List a record's comments, oldest first."""
    stmt = select(Comment).where(Comment.record == record, Comment.record_id == record_id)
    return paginate(session, stmt, key=Comment.id, limit=limit, cursor=cursor)


def all_comments(session: Session, *, record: CommentedRecord, record_id: int) -> list[Comment]:
    """Return every comment of a record, oldest first."""
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.record == record, Comment.record_id == record_id)
            .order_by(Comment.id)
        )
    )
