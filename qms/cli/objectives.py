"""`qms objectives`: quality objectives (ISO 9001 6.2) at a terminal: list, add, move."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table
from rich.text import Text as Styled

from qms import i18n
from qms.cli.common import (
    AsOption,
    FormatOption,
    ListFormat,
    actor_for,
    err,
    option_day,
    out,
    print_records,
    shown,
    shown_day,
    t,
    unit_of_work,
)
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.limits import MAX_LIMIT
from qms.objectives.enums import ObjectiveStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

objectives_app = typer.Typer(
    help="Quality objectives: list, add, move through the workflow.", no_args_is_help=True
)


def _programme_id(session: Session, code: str | None) -> int | None:
    from qms.programmes import repository as programmes

    if code is None:
        return None
    programme = programmes.get_by_code(session, code)
    if programme is None:
        raise ValidationFailed(
            i18n.Text("The programme is not known."),
            [FieldError("programme", i18n.Text("There is no programme %(code)s.", code=code))],
        )
    return programme.id


@objectives_app.command("list")
def objectives_list(
    status: Annotated[ObjectiveStatus | None, typer.Option()] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only those past due and still open.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The indicators' values as of (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List quality objectives, newest first, with their indicators and what is at risk."""
    from qms.objectives import service
    from qms.objectives.repository import ObjectiveFilter

    with unit_of_work(write=False) as session:
        day = option_day(as_of, "--as-of")
        filters = ObjectiveFilter(
            status=status,
            programme_id=_programme_id(session, programme),
            overdue=True if overdue else None,
        )
        actor = actor_for(session, as_user)
        page = service.list_objectives(session, actor=actor, filters=filters, limit=limit)
        rows = [service.to_read(session, o, day) for o in page.items]
    if format is not ListFormat.table:
        print_records(format, service.OBJECTIVE_COLUMNS, [service.flat(r) for r in rows])
        return
    table = Table(
        Column(t("Number"), no_wrap=True),
        t("Title"),
        t("Programme"),
        t("Status"),
        t("Owner"),
        t("Due"),
        t("Indicators"),
    )
    for r in rows:
        status_text = shown(r.status.value)
        if r.at_risk:
            status_text = f"{status_text}, {shown('at_risk')}"
        due = shown_day(r.due_on)
        table.add_row(
            r.number,
            Styled(r.title),
            r.programme_code or t("The whole organisation"),
            Styled(status_text, style="red") if r.at_risk else status_text,
            Styled(r.owner),
            Styled(f"{due} {shown('overdue')}", style="red") if r.overdue else due,
            ", ".join(f"{i.code} {shown(i.status)}" for i in r.indicators),
        )
    out.print(table)


@objectives_app.command("add")
def objectives_add(
    title: Annotated[str, typer.Option()],
    target: Annotated[str, typer.Option(help='What "reached" means, in words.')],
    owner: Annotated[str, typer.Option(help="The owner's user name.")],
    due: Annotated[str, typer.Option(help="The due date, YYYY-MM-DD.")],
    plan: Annotated[str, typer.Option(help="What will be done to reach it.")],
    programme: Annotated[
        str | None, typer.Option(help="The programme's code; left out: the organisation's.")
    ] = None,
    resources: Annotated[str | None, typer.Option(help="What resources it needs.")] = None,
    responsible: Annotated[str | None, typer.Option(help="Who carries out the plan.")] = None,
    evaluation: Annotated[
        str | None, typer.Option(help="How the results will be evaluated.")
    ] = None,
    indicator: Annotated[
        list[str] | None,
        typer.Option(help="An indicator that measures it, as PROGRAMME/CODE; repeat for more."),
    ] = None,
    requirement: Annotated[
        list[str] | None, typer.Option(help="A requirement it serves, e.g. ISO9001:6.2.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Set a quality objective and print its number (alone on stdout)."""
    from sqlalchemy import select

    from qms.indicators.models import IndicatorDefinition
    from qms.objectives import service
    from qms.objectives.schemas import ObjectiveCreate
    from qms.programmes.models import Programme

    with unit_of_work() as session:
        due_on = option_day(due, "--due")
        programme_id = _programme_id(session, programme)
        actor = actor_for(session, as_user)
        ids: list[int] = []
        for index, named in enumerate(indicator or []):
            code, _, indicator_code = named.partition("/")
            found = session.scalars(
                select(IndicatorDefinition)
                .join(Programme, Programme.id == IndicatorDefinition.programme_id)
                .where(Programme.code == code, IndicatorDefinition.code == indicator_code)
            ).one_or_none()
            if found is None:
                raise ValidationFailed(
                    i18n.Text("The objective names indicators it cannot use."),
                    [
                        FieldError(
                            f"indicator_ids.{index}",
                            i18n.Text("There is no indicator %(code)s.", code=named),
                        )
                    ],
                )
            ids.append(found.id)
        objective = service.create(
            session,
            actor=actor,
            data=ObjectiveCreate.model_validate(
                {
                    "title": title,
                    "target": target,
                    "owner": owner,
                    "due_on": due_on,
                    "plan": plan,
                    "programme_id": programme_id,
                    "resources": resources,
                    "responsible": responsible,
                    "evaluation": evaluation,
                    "indicator_ids": ids,
                    "requirements": requirement or [],
                }
            ),
        )
        number, due_day = objective.number, objective.due_on
    err.print(t("set %(number)s, due %(day)s") % {"number": number, "day": _day(due_day)})
    print(number)  # noqa: T201  (the number alone on stdout, for scripts)


def _day(value: date) -> str:
    return shown_day(value)


@objectives_app.command("move")
def objectives_move(
    number: Annotated[str, typer.Argument(help="e.g. OBJ-2026-0001")],
    to: Annotated[ObjectiveStatus, typer.Option(help="The status to move it to.")],
    result: Annotated[
        str | None, typer.Option(help="What the result was: needed to close it.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why, for the audit trail: needed to withdraw it.")
    ] = None,
    if_match: Annotated[
        int | None,
        typer.Option(
            "--if-match",
            min=1,
            help="The version you read; refused if the objective has changed since. "
            "Default: the version read now.",
        ),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Move a quality objective: in_progress, achieved, not_achieved or withdrawn."""
    from qms.objectives import repository, service
    from qms.objectives.schemas import ObjectiveTransition

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        found = repository.get_by_number(session, number.strip().upper())
        if found is None:
            raise NotFound(i18n.Text("There is no quality objective %(number)s.", number=number))
        objective = service.get(session, actor=actor, objective_id=found.id)
        objective = service.transition(
            session,
            actor=actor,
            objective_id=objective.id,
            data=ObjectiveTransition.model_validate(
                {"to": to, "reason": reason, "result_note": result}
            ),
            if_match=objective.version if if_match is None else if_match,
        )
        moved = (objective.number, objective.status.value, objective.version)
    err.print(
        t("%(number)s: %(status)s (version %(version)s)")
        % {"number": moved[0], "status": shown(moved[1]), "version": moved[2]},
        markup=False,
    )
