"""The overview: what needs attention now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.web import charts
from api.web.core import Page, page_for, read, render
from qms import dashboard
from qms.charts import Chart
from qms.charts.records import trends as trends_by_month
from qms.deviations.service import today
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(request: Request, page: Annotated[Page, page_for(Action.self_read)]) -> HTMLResponse:
    """Open deviations by severity, overdue actions, follow-ups due this month, procedures due
    for review, indicator breaches, and the last twelve months' trends as a chart."""
    on = today()
    actor = page.actor
    # The trends are drawn at most once a minute for each kind of reader (role, programme) and
    # language: the overview is the page read most, a month's bars move little in a minute, and
    # the chart says when its records were read.
    cache = charts.kept_trends(request.app.state)
    key = (actor.role, actor.programme_id, page.lang, on)
    kept = cache.get(key)

    def load(session: Session) -> tuple[Any, Chart]:
        trends = (
            kept
            if kept is not None
            else trends_by_month(
                session,
                actor=actor,
                programme_id=None,
                start=charts.year_before(on),
                end=on,
                as_of=charts.now(),
                language=page.lang,
            )
        )
        return dashboard.overview(session, actor=actor, on=on), trends

    data, trends = read(request, load)
    if kept is None:
        cache.put(key, trends)
    return render(
        page,
        request,
        "dashboard.html",
        overview=data,
        charts=charts.pictures([trends]),
        section="dashboard",
    )
