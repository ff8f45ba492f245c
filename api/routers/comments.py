"""Comments on deviations, corrective actions, internal audits and management reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.deps import IdPath, SessionDep, allowed
from api.problems import responses
from qms.comments import service
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate, CommentRead
from qms.pagination import MAX_LIMIT, PageRead
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["comments"])

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
LIST = {"response_model": PageRead[CommentRead], "responses": responses(401, 403, 404, 422)}
POST = {
    "status_code": 201,
    "response_model": CommentRead,
    "responses": responses(401, 403, 404, 422),
}


def _page(
    session: Session,
    actor: Actor,
    record: CommentedRecord,
    record_id: int,
    limit: int,
    cursor: str | None,
) -> PageRead[CommentRead]:
    page = service.list_comments(
        session, actor=actor, record=record, record_id=record_id, limit=limit, cursor=cursor
    )
    return PageRead[CommentRead](
        items=service.to_reads(session, list(page.items)), next_cursor=page.next_cursor
    )


def _add(
    session: Session,
    actor: Actor,
    record: CommentedRecord,
    record_id: int,
    data: CommentCreate,
    response: Response,
    path: str,
) -> CommentRead:
    comment = service.add(session, actor=actor, record=record, record_id=record_id, data=data)
    response.headers["Location"] = f"/api/v1/{path}/{record_id}/comments"
    return service.to_reads(session, [comment])[0]


@router.get("/deviations/{deviation_id}/comments", **LIST)  # type: ignore[arg-type]
def list_deviation_comments(
    actor: Annotated[Actor, allowed(Action.deviation_read)],
    deviation_id: IdPath,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> PageRead[CommentRead]:
    """List a deviation's comments, oldest first."""
    return _page(session, actor, CommentedRecord.deviation, deviation_id, limit, cursor)


@router.post("/deviations/{deviation_id}/comments", **POST)  # type: ignore[arg-type]
def add_deviation_comment(
    actor: Annotated[Actor, allowed(Action.comment_write)],
    deviation_id: IdPath,
    data: CommentCreate,
    session: SessionDep,
    response: Response,
) -> CommentRead:
    """Comment on a deviation; the comment is kept as written."""
    return _add(
        session, actor, CommentedRecord.deviation, deviation_id, data, response, "deviations"
    )


@router.get("/actions/{action_id}/comments", **LIST)  # type: ignore[arg-type]
def list_action_comments(
    actor: Annotated[Actor, allowed(Action.action_read)],
    action_id: IdPath,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> PageRead[CommentRead]:
    """List a corrective action's comments, oldest first."""
    return _page(session, actor, CommentedRecord.action, action_id, limit, cursor)


@router.post("/actions/{action_id}/comments", **POST)  # type: ignore[arg-type]
def add_action_comment(
    actor: Annotated[Actor, allowed(Action.comment_write)],
    action_id: IdPath,
    data: CommentCreate,
    session: SessionDep,
    response: Response,
) -> CommentRead:
    """Comment on a corrective action; the comment is kept as written."""
    return _add(session, actor, CommentedRecord.action, action_id, data, response, "actions")


@router.get("/audits/{audit_id}/comments", **LIST)  # type: ignore[arg-type]
def list_audit_comments(
    actor: Annotated[Actor, allowed(Action.internal_audit_read)],
    audit_id: IdPath,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> PageRead[CommentRead]:
    """List an internal audit's comments, oldest first."""
    return _page(session, actor, CommentedRecord.internal_audit, audit_id, limit, cursor)


@router.post("/audits/{audit_id}/comments", **POST)  # type: ignore[arg-type]
def add_audit_comment(
    actor: Annotated[Actor, allowed(Action.comment_write)],
    audit_id: IdPath,
    data: CommentCreate,
    session: SessionDep,
    response: Response,
) -> CommentRead:
    """Comment on an internal audit; the comment is kept as written."""
    return _add(session, actor, CommentedRecord.internal_audit, audit_id, data, response, "audits")


@router.get("/reviews/{review_id}/comments", **LIST)  # type: ignore[arg-type]
def list_review_comments(
    actor: Annotated[Actor, allowed(Action.review_read)],
    review_id: IdPath,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> PageRead[CommentRead]:
    """List a management review's comments, oldest first."""
    return _page(session, actor, CommentedRecord.management_review, review_id, limit, cursor)


@router.post("/reviews/{review_id}/comments", **POST)  # type: ignore[arg-type]
def add_review_comment(
    actor: Annotated[Actor, allowed(Action.comment_write)],
    review_id: IdPath,
    data: CommentCreate,
    session: SessionDep,
    response: Response,
) -> CommentRead:
    """Comment on a management review; the comment is kept as written."""
    return _add(
        session, actor, CommentedRecord.management_review, review_id, data, response, "reviews"
    )
