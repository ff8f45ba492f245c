"""Procedures: the master list, and a procedure with its effective version, history and diff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web.core import Page, Params, page_for, read, render
from api.web.markdown import to_html
from qms.permissions import Action
from qms.procedures import service

router = APIRouter(include_in_schema=False)


@router.get("/procedures")
def master_list(
    request: Request, page: Annotated[Page, page_for(Action.procedure_read)]
) -> Response:
    """The master list: every procedure with its effective version and review date."""
    rows = read(
        request,
        lambda s: [service.to_read(p) for p in service.list_procedures(s, actor=page.actor)],
    )
    return render(page, request, "procedures/list.html", section="procedures", rows=rows)


@router.get("/procedures/{procedure_id:id}")
def procedure(
    request: Request, procedure_id: int, page: Annotated[Page, page_for(Action.procedure_read)]
) -> Response:
    """A procedure: the version shown (the effective one unless another is asked for), its
    history, and the changes between two versions."""
    query = Params(request.query_params)
    number = query.number("version")
    diff_from, diff_to = query.number("from"), query.number("to")

    def load(session: Session) -> dict[str, Any]:
        found = service.get(session, actor=page.actor, procedure_id=procedure_id)
        versions = list(found.versions)
        shown = (
            service.get_version(session, actor=page.actor, procedure_id=found.id, number=number)
            if number is not None
            else service.effective(found) or versions[-1]
        )
        diff = None
        if diff_from is not None and diff_to is not None:
            diff = service.diff_versions(
                session,
                actor=page.actor,
                procedure_id=found.id,
                from_version=diff_from,
                to_version=diff_to,
            )
        return {
            "procedure": service.to_read(found),
            "versions": [service.version_to_read(session, v) for v in versions],
            "shown": service.version_to_read(session, shown),
            "body": to_html(shown.content),
            "diff": diff,
        }

    data = read(request, load)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "diff":
        return render(page, request, "procedures/diff.html", **data)
    return render(
        page,
        request,
        "procedures/record.html",
        section="procedures",
        errors=query.errors,
        values=query.values(),
        **data,
    )
