"""The overview: what needs attention now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web.core import Page, page_for, read, render
from qms import dashboard
from qms.deviations.service import today
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(request: Request, page: Annotated[Page, page_for(Action.self_read)]) -> HTMLResponse:
    """Open deviations by severity, overdue actions, follow-ups due this month, procedures due
    for review and indicator breaches."""
    data = read(request, lambda s: dashboard.overview(s, actor=page.actor, on=today()))
    return render(page, request, "dashboard.html", overview=data, section="dashboard")
