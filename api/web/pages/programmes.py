"""Programmes: each with its cohorts, its meeting rule, and its indicators planned against actual
(computed from the records as of a date, or entered by hand for a period); setting one up,
adding a cohort, defining an indicator, entering a value, and the programme's moves."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web import charts
from api.web.core import (
    Form,
    Page,
    Params,
    Refusal,
    choices,
    form_values,
    form_version,
    page_for,
    perform,
    read,
    render,
    see_other,
    with_numbers,
)
from qms.charts.records import as_of_caption
from qms.charts.records import indicators as indicator_chart
from qms.errors import NotFound
from qms.i18n import Text
from qms.indicators import service as indicators
from qms.indicators.models import Computation, Direction
from qms.indicators.schemas import IndicatorCreate, IndicatorTable, IndicatorValueCreate
from qms.indicators.service import Figure
from qms.permissions import Action
from qms.programmes import service
from qms.programmes.schemas import CohortCreate, ProgrammeCreate
from qms.workflow import PROGRAMME

router = APIRouter(include_in_schema=False)
PROGRAMME_FIELDS = (
    "code",
    "name",
    "organiser",
    "target_group",
    "objectives",
    "min_meetings_per_month",
    "min_minutes_per_month",
    "length_months",
    "max_mentees_per_mentor",
)
NUMBERS = (
    "min_meetings_per_month",
    "min_minutes_per_month",
    "length_months",
    "max_mentees_per_mentor",
)
INDICATOR_FIELDS = ("code", "name", "unit", "computation", "planned", "direction", "threshold")


def _number(text: str | None) -> float | str | None:
    """A decimal typed in a form (a comma as the decimal sign too), or the text to be refused."""
    if text is None:
        return None
    try:
        return float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return text


@router.get("/programmes")
def list_programmes(
    request: Request, page: Annotated[Page, page_for(Action.programme_read)]
) -> Response:
    """The programmes with their cohorts."""
    rows = read(
        request,
        lambda s: [
            (p, service.list_cohorts(s, actor=page.actor, programme_id=p.id))
            for p in service.list_programmes(s, actor=page.actor, limit=200).items
        ],
    )
    return render(page, request, "programmes/list.html", section="programmes", rows=rows)


def _setup_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    return render(
        page,
        request,
        "programmes/new.html",
        section="programmes",
        values=values,
        refusal=refusal,
    )


@router.get("/programmes/new")
def new_programme(
    request: Request, page: Annotated[Page, page_for(Action.programme_write)]
) -> Response:
    """The form to set up a programme."""
    return _setup_form(
        request, page, {"max_mentees_per_mentor": "1", "follow_up_at_midpoint": "true"}
    )


@router.post("/programmes/new")
def create_programme(
    request: Request, page: Annotated[Page, page_for(Action.programme_write)], form: Form
) -> Response:
    """Set up the programme (planned until its first cohort starts); on success, its page."""
    values = form_values(form, *PROGRAMME_FIELDS)
    values["follow_up_at_midpoint"] = "true" if form.get("follow_up_at_midpoint") else ""
    data = with_numbers(values, *NUMBERS)
    data["follow_up_at_midpoint"] = bool(values["follow_up_at_midpoint"])
    result = perform(
        request,
        lambda s: (
            service.create_programme(
                s, actor=page.actor, data=ProgrammeCreate.model_validate(data)
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _setup_form(request, page, values, result)
    return see_other(f"/programmes/{result}")


def _record(
    request: Request,
    page: Page,
    programme_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    query = Params(request.query_params)
    as_of = query.day("as_of") or date.today()

    def load(session: Session) -> dict[str, Any]:
        programme = service.get_programme(session, actor=page.actor, programme_id=programme_id)
        table: IndicatorTable | None = None
        figures: list[Figure] = []
        if page.can("indicator.read"):
            table, figures = indicators.table_with_figures(
                session, actor=page.actor, programme_id=programme.id, as_of=as_of
            )
        plotted = (
            indicator_chart(
                charts.indicator_bars(table, page.lang),
                caption_text=as_of_caption(as_of, page.lang),
                language=page.lang,
            )
            if table
            else []
        )
        return {
            "charts": plotted,
            # What each indicator was computed from, said in the reader's language.
            "details": [figure.detail_in(page.lang) for figure in figures],
            "programme": programme,
            "cohorts": service.list_cohorts(session, actor=page.actor, programme_id=programme.id),
            "table": table,
        }

    data = read(request, load)
    data["charts"] = charts.pictures(data["charts"])
    moves = [
        move
        for move in PROGRAMME.moves
        if move.source == data["programme"].status.value and page.can("programme.write")
    ]
    return render(
        page,
        request,
        "programmes/record.html",
        section="programmes",
        as_of=as_of,
        moves=moves,
        refusal=refusal,
        errors=refusal.fields if refusal else query.errors,
        values=values or {},
        form_name=form_name,
        options={
            "unit": [(u, page.t(u)) for u in ("percent", "count", "score")],
            "computation": choices(Computation, page.lang),
            "direction": choices(Direction, page.lang),
        },
        **data,
    )


@router.get("/programmes/{programme_id:id}")
def programme_record(
    request: Request, programme_id: int, page: Annotated[Page, page_for(Action.programme_read)]
) -> Response:
    """A programme: its aims and meeting rule, its cohorts, its indicators planned against
    actual as of a date (today unless asked)."""
    return _record(request, page, programme_id)


def _after(
    request: Request,
    page: Page,
    programme_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, programme_id, result, values, form_name)
    return see_other(f"/programmes/{programme_id}")


@router.post("/programmes/{programme_id:id}/cohorts")
def add_cohort(
    request: Request,
    programme_id: int,
    page: Annotated[Page, page_for(Action.programme_write)],
    form: Form,
) -> Response:
    """Add a cohort (an intake) to the programme; its midpoint defaults to halfway."""
    values = form_values(form, "code", "name", "start_on", "midpoint_on", "end_on")
    result = perform(
        request,
        lambda s: (
            service.create_cohort(
                s,
                actor=page.actor,
                programme_id=programme_id,
                data=CohortCreate.model_validate(values),
            ).id
        ),
    )
    return _after(request, page, programme_id, "cohort", values, result)


@router.post("/programmes/{programme_id:id}/indicators")
def define_indicator(
    request: Request,
    programme_id: int,
    page: Annotated[Page, page_for(Action.indicator_write)],
    form: Form,
) -> Response:
    """Define an indicator: what is measured, the plan, and where it becomes a breach."""
    values = form_values(form, *INDICATOR_FIELDS, "instrument", "question")
    data: dict[str, Any] = {k: v for k, v in values.items() if k in INDICATOR_FIELDS}
    for name in ("planned", "threshold"):
        if name in data:
            data[name] = _number(data[name])
    params = {k: values[k] for k in ("instrument", "question") if k in values}
    if params:
        data["params"] = params
    result = perform(
        request,
        lambda s: (
            indicators.define(
                s,
                actor=page.actor,
                programme_id=programme_id,
                data=IndicatorCreate.model_validate(data),
            ).id
        ),
    )
    return _after(request, page, programme_id, "indicator", values, result)


@router.post("/programmes/{programme_id:id}/indicators/{indicator_id:id}/values")
def enter_value(
    request: Request,
    programme_id: int,
    indicator_id: int,
    page: Annotated[Page, page_for(Action.indicator_write)],
    form: Form,
) -> Response:
    """Enter the value of an indicator measured outside the records, for a period."""
    values = form_values(form, "period_start", "period_end", "value", "note")
    data = {**values, "value": _number(values.get("value"))} if "value" in values else values

    def change(session: Session) -> int:
        if indicators.programme_of(session, indicator_id) != programme_id:
            raise NotFound(
                Text("There is no indicator with the id %(id)s in this programme.", id=indicator_id)
            )
        return indicators.enter_value(
            session,
            actor=page.actor,
            indicator_id=indicator_id,
            data=IndicatorValueCreate.model_validate(data),
        ).id

    form_name = f"value-{indicator_id}"
    return _after(request, page, programme_id, form_name, values, perform(request, change))


@router.post("/programmes/{programme_id:id}/move")
def move_programme(
    request: Request,
    programme_id: int,
    page: Annotated[Page, page_for(Action.programme_write)],
    form: Form,
) -> Response:
    """Start, cancel or close the programme."""
    values = form_values(form, "to", "reason")
    result = perform(
        request,
        lambda s: (
            service.transition_programme(
                s,
                actor=page.actor,
                programme_id=programme_id,
                to=values.get("to", ""),
                reason=values.get("reason"),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, programme_id, f"move-{values.get('to')}", values, result)
