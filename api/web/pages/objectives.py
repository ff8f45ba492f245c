"""Quality objectives (ISO 9001 6.2): the list with what is at risk, setting one, and an
objective's page with its indicators planned against actual, its plan, changes and moves."""

from __future__ import annotations

from datetime import date
from typing import IO, Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.exporting import ExportFormat, file_response
from api.web import options
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
from qms import exports
from qms.accounts import service as accounts
from qms.indicators.models import IndicatorDefinition
from qms.objectives import service
from qms.objectives.models import ObjectiveStatus
from qms.objectives.repository import SORTS, ObjectiveFilter
from qms.objectives.schemas import ObjectiveCreate, ObjectiveTransition, ObjectiveUpdate
from qms.pagination import MAX_LIMIT, each
from qms.permissions import Action, Actor
from qms.programmes.models import Programme
from qms.workflow import OBJECTIVE

router = APIRouter(include_in_schema=False)
FIELDS = (
    "title",
    "programme_id",
    "target",
    "owner",
    "due_on",
    "plan",
    "resources",
    "responsible",
    "evaluation",
)
EDIT_FIELDS = tuple(f for f in FIELDS if f != "programme_id")
# The fields an edit may empty: left empty on the form, they are cleared.
CLEARABLE = ("resources", "responsible", "evaluation")


def _indicator_options(session: Session, actor: Actor) -> list[tuple[str, str, int]]:
    """The indicators an objective may name: id, what the reader sees, and their programme."""
    stmt = (
        select(IndicatorDefinition, Programme.code)
        .join(Programme, Programme.id == IndicatorDefinition.programme_id)
        .order_by(Programme.code, IndicatorDefinition.code)
    )
    if actor.programme_id is not None:
        stmt = stmt.where(IndicatorDefinition.programme_id == actor.programme_id)
    return [
        (str(d.id), f"{code} · {d.code} · {d.name}", d.programme_id)
        for d, code in session.execute(stmt).all()
    ]


@router.get("/objectives")
def list_objectives(
    request: Request, page: Annotated[Page, page_for(Action.objective_read)]
) -> Response:
    """The quality objectives, newest first, with their status, due date and what is at risk."""
    query = Params(request.query_params)
    filters = ObjectiveFilter(
        status=query.choice("status", ObjectiveStatus),
        programme_id=query.number("programme_id"),
        overdue=query.flag("overdue"),
        owner_id=(page.actor.user_id or -1) if query.flag("mine") else None,
        sort=query.sort("sort", SORTS),
    )
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def export(session: Session) -> IO[bytes]:
            every = each(
                lambda after: service.list_objectives(
                    session, actor=page.actor, filters=filters, limit=MAX_LIMIT, cursor=after
                )
            )
            return exports.spooled(
                wanted.value,
                service.OBJECTIVE_COLUMNS,
                (service.flat(service.to_read(session, o)) for o in every),
                language=page.lang,
                title=page.t("Quality objectives"),
            )

        return file_response(read(request, export), wanted.value, "objectives")

    def load(session: Session) -> tuple[Any, list[tuple[str, str]]]:
        found = service.list_objectives(
            session, actor=page.actor, filters=filters, limit=50, cursor=cursor
        )
        rows = [service.to_read(session, o) for o in found.items]
        people = accounts.display_names(session, (o.owner for o in rows))
        return (rows, found.next_cursor, people), options.programmes(session, page)

    (rows, next_cursor, people), programme_options = read(request, load)
    return render(
        page,
        request,
        "objectives/list.html",
        section="quality-system",
        rows=rows,
        next_cursor=next_cursor,
        people=people,
        values=query.values(),
        errors=query.errors,
        options={
            "status": choices(ObjectiveStatus, page.lang, page.t("any")),
            "programme_id": [("", page.t("any")), *programme_options[1:]],
            "overdue": [("", page.t("any")), ("true", page.t("yes")), ("false", page.t("no"))],
            "mine": [("", page.t("anyone's")), ("true", page.t("mine"))],
        },
    )


def _new_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "programmes": options.programmes(session, page),
            "owners": options.owners(session),
            "indicators": _indicator_options(session, page.actor),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "objectives/new.html",
        section="quality-system",
        values=values,
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        indicators=data["indicators"],
        chosen=set(values.get("indicator_ids", [])),
        options={
            "programme_id": (
                [("", page.t("The whole organisation"))] if page.actor.programme_id is None else []
            )
            + data["programmes"][1:],
            "owner": [("", ""), *data["owners"]],
        },
    )


@router.get("/objectives/new")
def new_objective(
    request: Request, page: Annotated[Page, page_for(Action.objective_write)]
) -> Response:
    """The form to set a quality objective, its plan and the indicators that measure it."""
    return _new_form(request, page, {"owner": page.actor.name})


def _indicator_ids(form: Form) -> list[Any]:
    return [v for v in form.getlist("indicator_ids") if isinstance(v, str) and v.strip()]


def _numbers(values: list[Any]) -> list[Any]:
    return [int(v) if v.isdigit() and len(v) < 10 else v for v in values]


@router.post("/objectives/new")
def create_objective(
    request: Request, page: Annotated[Page, page_for(Action.objective_write)], form: Form
) -> Response:
    """Set the objective; on success, its page."""
    values = form_values(form, *FIELDS)
    chosen = _indicator_ids(form)
    data = {**with_numbers(values, "programme_id"), "indicator_ids": _numbers(chosen)}
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=ObjectiveCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _new_form(request, page, {**values, "indicator_ids": chosen}, result)
    return see_other(f"/objectives/{result}")


def _record(
    request: Request,
    page: Page,
    objective_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
    as_of: date | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        objective = service.get(session, actor=page.actor, objective_id=objective_id)
        return {
            "objective": service.to_read(session, objective, as_of),
            "events": service.history(session, actor=page.actor, objective_id=objective_id),
            "numbers": {("objective", str(objective.id)): objective.number},
            "owners": options.owners(session),
            "people": accounts.display_names(session),
            "indicator_options": [
                o
                for o in _indicator_options(session, page.actor)
                if objective.programme_id in (None, o[2])
            ],
        }

    data = read(request, load)
    objective = data["objective"]
    moves = (
        [m for m in OBJECTIVE.moves if m.source == objective.status.value]
        if page.can("objective.write")
        else []
    )
    chosen = (values or {}).get("indicator_ids") if form_name == "edit" else None
    return render(
        page,
        request,
        "objectives/record.html",
        section="quality-system",
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        values=values or {},
        form_name=form_name,
        moves=moves,
        chosen=set(chosen if chosen is not None else (str(i.id) for i in objective.indicators)),
        options={"owner": data["owners"]},
        **data,
    )


@router.get("/objectives/{objective_id:id}")
def objective_record(
    request: Request, objective_id: int, page: Annotated[Page, page_for(Action.objective_read)]
) -> Response:
    """One quality objective: target, owner, due date, plan, indicators and timeline."""
    query = Params(request.query_params)
    return _record(request, page, objective_id, as_of=query.day("as_of"))


@router.post("/objectives/{objective_id:id}/edit")
def edit_objective(
    request: Request,
    objective_id: int,
    page: Annotated[Page, page_for(Action.objective_write)],
    form: Form,
) -> Response:
    """Change the objective's target, owner, due date, plan or indicators."""
    values = form_values(form, *EDIT_FIELDS)
    chosen = _indicator_ids(form)
    data: dict[str, Any] = {
        **dict.fromkeys(CLEARABLE),
        **values,
        "indicator_ids": _numbers(chosen),
    }
    result = perform(
        request,
        lambda s: (
            service.update(
                s,
                actor=page.actor,
                objective_id=objective_id,
                data=ObjectiveUpdate.model_validate(data),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(
            request, page, objective_id, result, {**values, "indicator_ids": chosen}, "edit"
        )
    return see_other(f"/objectives/{objective_id}")


@router.post("/objectives/{objective_id:id}/move")
def move_objective(
    request: Request,
    objective_id: int,
    page: Annotated[Page, page_for(Action.objective_write)],
    form: Form,
) -> Response:
    """Move the objective: start it, close it with its result, or withdraw it with the reason."""
    values = form_values(form, "to", "reason", "result_note")
    result = perform(
        request,
        lambda s: (
            service.transition(
                s,
                actor=page.actor,
                objective_id=objective_id,
                data=ObjectiveTransition.model_validate(values),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, objective_id, result, values, f"move-{values.get('to')}")
    return see_other(f"/objectives/{objective_id}")
