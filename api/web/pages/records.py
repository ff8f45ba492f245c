"""Imports with their batches and rejected rows; the audit trail with its verification."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web.core import Page, Params, page_for, read, render
from qms.audit import repository as trail
from qms.audit import service as audit
from qms.evaluations import service as evaluations
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


@router.get("/imports")
def imports(request: Request, page: Annotated[Page, page_for(Action.evaluation_read)]) -> Response:
    """Every import batch, newest first: what came in, what was written, what was rejected."""
    rows = read(
        request,
        lambda s: [
            evaluations.batch_to_read(b) for b in evaluations.list_batches(s, actor=page.actor)
        ],
    )
    return render(page, request, "imports/list.html", section="imports", rows=rows)


@router.get("/imports/{batch_id:id}")
def batch(
    request: Request, batch_id: int, page: Annotated[Page, page_for(Action.evaluation_read)]
) -> Response:
    """One import batch with its rejected rows, each with the column and the reason."""
    found = read(
        request,
        lambda s: evaluations.batch_to_read(
            evaluations.get_batch(s, actor=page.actor, batch_id=batch_id)
        ),
    )
    return render(page, request, "imports/batch.html", section="imports", batch=found)


@router.get("/audit-trail")
def audit_trail(request: Request, page: Annotated[Page, page_for(Action.audit_read)]) -> Response:
    """The audit trail, newest first, filtered; and whether the chain verifies."""
    query = Params(request.query_params)
    since, until = query.day("since"), query.day("until")
    filters: dict[str, Any] = {
        "entity": query.text("entity", 64),
        "entity_id": query.text("entity_id", 64),
        "actor": query.text("actor", 200),
        "action": query.text("action", 64),
        "since": datetime.combine(since, time.min, UTC) if since else None,
        "until": datetime.combine(until, time.max, UTC) if until else None,
    }
    cursor = query.text("cursor")
    check = query.flag("verify")

    def load(session: Session) -> dict[str, Any]:
        found = trail.list_events(
            session,
            **filters,
            programme_id=page.actor.programme_id,
            limit=100,
            cursor=cursor,
            newest_first=True,
        )
        return {
            "events": found.items,
            "next_cursor": found.next_cursor,
            "verified": audit.verify(session) if check else None,
        }

    return render(
        page,
        request,
        "audit.html",
        section="audit",
        values=query.values(),
        errors=query.errors,
        **read(request, load),
    )
