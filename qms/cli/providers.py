"""`qms providers`: external providers (ISO 9001 8.4) at a terminal: list, add, evaluate."""

from __future__ import annotations

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
from qms.errors import FieldError, ValidationFailed
from qms.limits import MAX_LIMIT
from qms.providers.enums import EvaluationDecision, ProviderKind, ProviderStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

providers_app = typer.Typer(help="External providers: list, add, evaluate.", no_args_is_help=True)


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


@providers_app.command("list")
def providers_list(
    kind: Annotated[ProviderKind | None, typer.Option()] = None,
    status: Annotated[ProviderStatus | None, typer.Option()] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    due_by: Annotated[
        str | None,
        typer.Option("--due-by", help="Only those to evaluate on or before (YYYY-MM-DD)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List external providers with their status, last score and next evaluation."""
    from qms.providers import service
    from qms.providers.repository import ProviderFilter
    from qms.providers.schemas import PROVIDER_COLUMNS

    with unit_of_work(write=False) as session:
        filters = ProviderFilter(
            kind=kind,
            status=status,
            programme_id=_programme_id(session, programme),
            due_by=option_day(due_by, "--due-by"),
        )
        actor = actor_for(session, as_user)
        page = service.list_providers(session, actor=actor, filters=filters, limit=limit)
        rows = [service.to_read(session, p) for p in page.items]
    if format is not ListFormat.table:
        print_records(format, PROVIDER_COLUMNS, [r.model_dump(mode="json") for r in rows])
        return
    table = Table(
        Column(t("Code"), no_wrap=True),
        t("Name"),
        t("Kind"),
        t("Programme"),
        t("Status"),
        t("Last score"),
        t("Next evaluation"),
    )
    for r in rows:
        next_on = shown_day(r.next_evaluation_on) if r.next_evaluation_on else ""
        table.add_row(
            r.code,
            Styled(r.name),
            shown(r.kind.value),
            r.programme_code or t("The whole organisation"),
            shown(r.status.value),
            f"{r.last_score}/5 {shown_day(r.last_evaluated_on)}" if r.last_score else "",
            Styled(f"{next_on} {shown('overdue')}", style="red")
            if r.evaluation_overdue
            else next_on,
        )
    out.print(table)


@providers_app.command("add")
def providers_add(
    code: Annotated[str, typer.Argument(help="A short code, e.g. NAV.")],
    name: Annotated[str, typer.Option()],
    kind: Annotated[ProviderKind, typer.Option()],
    provides: Annotated[str, typer.Option(help="What it provides.")],
    criteria: Annotated[str, typer.Option(help="What it is selected and evaluated on.")],
    contact: Annotated[
        str, typer.Option(help="The organisation's contact point (not a private person's).")
    ] = "",
    programme: Annotated[
        str | None, typer.Option(help="The programme's code; left out: the whole organisation.")
    ] = None,
    every: Annotated[
        int, typer.Option("--every", help="Evaluated every so many months.", min=1, max=120)
    ] = 12,
    next_evaluation: Annotated[
        str | None,
        typer.Option("--next-evaluation", help="The first evaluation (YYYY-MM-DD)."),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Add an external provider and print its code (alone on stdout)."""
    from qms.providers import service
    from qms.providers.schemas import ProviderCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        provider = service.create(
            session,
            actor=actor,
            data=ProviderCreate.model_validate(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "provides": provides,
                    "criteria": criteria,
                    "contact": contact,
                    "programme_id": _programme_id(session, programme),
                    "evaluation_months": every,
                    "next_evaluation_on": option_day(next_evaluation, "--next-evaluation"),
                }
            ),
        )
        added, next_on = provider.code, provider.next_evaluation_on
    err.print(
        t("added %(code)s, to evaluate by %(day)s") % {"code": added, "day": shown_day(next_on)}
    )
    print(added)  # noqa: T201  (the code alone on stdout, for scripts)


@providers_app.command("evaluate")
def providers_evaluate(
    code: Annotated[str, typer.Argument(help="The provider's code, e.g. NAV.")],
    score: Annotated[int, typer.Option(help="1 (poor) to 5 (excellent), overall.")],
    summary: Annotated[str, typer.Option(help="What the evaluation found.")],
    decision: Annotated[EvaluationDecision, typer.Option()],
    on: Annotated[
        str | None, typer.Option("--on", help="The day it was evaluated (YYYY-MM-DD); today.")
    ] = None,
    next_evaluation: Annotated[
        str | None,
        typer.Option("--next-evaluation", help="The next one (YYYY-MM-DD); one cycle on."),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Record an evaluation of a provider; its decision sets the status and the next date."""
    from qms.providers import service
    from qms.providers.schemas import ProviderEvaluationCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        provider = service.get_by_code(session, actor=actor, code=code)
        evaluation = service.evaluate(
            session,
            actor=actor,
            provider_id=provider.id,
            data=ProviderEvaluationCreate.model_validate(
                {
                    "score": score,
                    "summary": summary,
                    "decision": decision,
                    "evaluated_on": option_day(on, "--on"),
                    "next_evaluation_on": option_day(next_evaluation, "--next-evaluation"),
                }
            ),
        )
        status, next_on = provider.status, evaluation.next_evaluation_on
        shown_code = provider.code
    err.print(
        t("%(code)s evaluated: %(status)s, next evaluation %(day)s")
        % {
            "code": shown_code,
            "status": shown(status.value),
            "day": shown_day(next_on) if next_on else "",
        }
    )
