"""The overview: what needs attention now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web import charts
from api.web.core import Page, page_for, read, render
from qms import dashboard
from qms.charts.records import trends as trends_by_month
from qms.deviations.service import today
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(request: Request, page: Annotated[Page, page_for(Action.self_read)]) -> HTMLResponse:
    """Open deviations by severity, overdue actions, follow-ups due this month, procedures due
    for review, indicator breaches, and the last twelve months' trends as a chart."""
    on, at = today(), charts.now()
    data, trends = read(
        request,
        lambda s: (
            dashboard.overview(s, actor=page.actor, on=on),
            trends_by_month(
                s,
                actor=page.actor,
                programme_id=None,
                start=charts.year_before(on),
                end=on,
                as_of=at,
                language=page.lang,
            ),
        ),
    )
    return render(
        page,
        request,
        "dashboard.html",
        overview=data,
        charts=charts.pictures([trends]),
        section="dashboard",
    )
