"""`qms risks`: risks and opportunities (ISO 9001 6.1) at a terminal: list, add, rate, move."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Column as Col
from rich.table import Table
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
from qms.risks.enums import RiskKind, RiskLevel, RiskStatus, Treatment

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qms.permissions import Actor
    from qms.risks.models import Risk

risks_app = typer.Typer(
    help="Risks and opportunities: list, add, rate, move through the workflow.",
    no_args_is_help=True,
)

IfMatchOption = Annotated[
    int | None,
    typer.Option(
        "--if-match",
        min=1,
        help="The version you read; refused if the risk has changed since. "
        "Default: the version read now.",
    ),
]


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


def _find(session: Session, actor: Actor, number: str) -> Risk:
    from qms.risks import service

    return service.get_by_number(session, actor=actor, number=number)


@risks_app.command("list")
def risks_list(
    kind: Annotated[RiskKind | None, typer.Option()] = None,
    status: Annotated[RiskStatus | None, typer.Option()] = None,
    level: Annotated[RiskLevel | None, typer.Option(help="By the score before treatment.")] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    organisation: Annotated[
        bool, typer.Option("--organisation", help="Only the organisation's own.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List risks and opportunities, newest first, with their scores and treatment."""
    from qms.programmes.models import Programme
    from qms.risks import service
    from qms.risks.exports import RISK_COLUMNS
    from qms.risks.repository import RiskFilter

    with unit_of_work(write=False) as session:
        filters = RiskFilter(
            kind=kind,
            status=status,
            level=level,
            programme_id=_programme_id(session, programme),
            organisation=True if organisation else None,
        )
        actor = actor_for(session, as_user)
        page = service.list_risks(session, actor=actor, filters=filters, limit=limit)
        rows = [service.to_read(session, r) for r in page.items]
        codes: dict[int | None, str] = {}
        for r in rows:
            found = session.get(Programme, r.programme_id) if r.programme_id else None
            if found is not None:
                codes[r.programme_id] = found.code
    if format is not ListFormat.table:
        records: list[dict[str, Any]] = [
            {
                **r.model_dump(mode="json"),
                "programme_id": codes.get(r.programme_id, "") if r.programme_id else "",
            }
            for r in rows
        ]
        # The programme by its code, as the table shows it.
        columns = [replace(c, refers=None) for c in RISK_COLUMNS]
        print_records(format, columns, records)
        return
    table = Table(
        Col(t("Number"), no_wrap=True),
        t("Title"),
        t("Kind"),
        t("Programme"),
        t("Status"),
        t("Score"),
        t("After treatment"),
        t("Treatment"),
        t("Next review"),
    )
    for r in rows:
        review = shown_day(r.review_on) if r.review_on else ""
        table.add_row(
            r.number,
            Styled(r.title),
            shown(r.kind.value),
            codes.get(r.programme_id, "") if r.programme_id else t("The whole organisation"),
            shown(r.status.value),
            f"{r.score} {shown(r.level.value)}",
            f"{r.residual_score} {shown(r.residual_level.value)}"
            if r.residual_score is not None and r.residual_level is not None
            else "",
            shown(r.treatment.value) if r.treatment else "",
            Styled(f"{review} {shown('overdue')}", style="red") if r.review_overdue else review,
        )
    out.print(table)


@risks_app.command("add")
def risks_add(
    title: Annotated[str, typer.Option()],
    description: Annotated[str, typer.Option(help="What could happen, and to what.")],
    likelihood: Annotated[int, typer.Option(help="1 .. the organisation's scale.")],
    consequence: Annotated[int, typer.Option(help="1 .. the organisation's scale.")],
    kind: Annotated[RiskKind, typer.Option()] = RiskKind.risk,
    programme: Annotated[
        str | None, typer.Option(help="The programme's code; left out: the organisation's.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="The owner's user name.")] = None,
    cause: Annotated[str | None, typer.Option()] = None,
    review: Annotated[str | None, typer.Option(help="The next review, YYYY-MM-DD.")] = None,
    requirement: Annotated[
        list[str] | None, typer.Option(help="A requirement it concerns, e.g. ISO9001:6.1.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Register a risk or an opportunity and print its number (alone on stdout)."""
    from qms.risks import service
    from qms.risks.schemas import RiskCreate

    with unit_of_work() as session:
        review_on = option_day(review, "--review") if review else None
        actor = actor_for(session, as_user)
        risk = service.create(
            session,
            actor=actor,
            data=RiskCreate.model_validate(
                {
                    "kind": kind,
                    "title": title,
                    "description": description,
                    "cause": cause,
                    "programme_id": _programme_id(session, programme),
                    "owner": owner,
                    "likelihood": likelihood,
                    "consequence": consequence,
                    "review_on": review_on,
                    "requirements": requirement or [],
                }
            ),
        )
        number, score, level = (
            risk.number,
            risk.likelihood * risk.consequence,
            service.level(risk.likelihood * risk.consequence),
        )
    err.print(
        t("registered %(number)s, score %(score)s (%(level)s)")
        % {"number": number, "score": score, "level": shown(level.value)},
        markup=False,
    )
    print(number)  # noqa: T201  (the number alone on stdout, for scripts)


@risks_app.command("rate")
def risks_rate(
    number: Annotated[str, typer.Argument(help="e.g. RISK-2026-0001")],
    likelihood: Annotated[int | None, typer.Option()] = None,
    consequence: Annotated[int | None, typer.Option()] = None,
    treatment: Annotated[Treatment | None, typer.Option()] = None,
    plan: Annotated[str | None, typer.Option(help="How it is treated.")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why: needed to accept a risk or decline an opportunity.")
    ] = None,
    after_likelihood: Annotated[
        int | None, typer.Option(help="The likelihood after treatment.")
    ] = None,
    after_consequence: Annotated[
        int | None, typer.Option(help="The consequence after treatment.")
    ] = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
) -> None:
    """Rate a risk or opportunity, before and after its treatment, and choose the treatment."""
    from qms.risks import service
    from qms.risks.schemas import RiskUpdate

    given = {
        "likelihood": likelihood,
        "consequence": consequence,
        "treatment": treatment,
        "treatment_plan": plan,
        "treatment_reason": reason,
        "residual_likelihood": after_likelihood,
        "residual_consequence": after_consequence,
    }
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        risk = _find(session, actor, number)
        risk = service.update(
            session,
            actor=actor,
            risk_id=risk.id,
            data=RiskUpdate.model_validate({k: v for k, v in given.items() if v is not None}),
            if_match=risk.version if if_match is None else if_match,
        )
        read = service.to_read(session, risk)
    after = (
        f"{read.residual_score} ({shown(read.residual_level.value)})"
        if read.residual_score is not None and read.residual_level is not None
        else "-"
    )
    err.print(
        t("%(number)s: score %(score)s (%(level)s), after treatment %(after)s")
        % {
            "number": read.number,
            "score": read.score,
            "level": shown(read.level.value),
            "after": after,
        },
        markup=False,
    )


@risks_app.command("move")
def risks_move(
    number: Annotated[str, typer.Argument(help="e.g. RISK-2026-0001")],
    to: Annotated[RiskStatus, typer.Option(help="The status to move it to.")],
    reason: Annotated[
        str | None, typer.Option(help="Why, for the audit trail: needed to close or reopen it.")
    ] = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
) -> None:
    """Move a risk or opportunity: treated, closed, or open again."""
    from qms.risks import service
    from qms.risks.schemas import RiskTransition

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        risk = _find(session, actor, number)
        risk = service.transition(
            session,
            actor=actor,
            risk_id=risk.id,
            data=RiskTransition.model_validate({"to": to, "reason": reason}),
            if_match=risk.version if if_match is None else if_match,
        )
        moved = (risk.number, risk.status.value, risk.version)
    err.print(
        t("%(number)s: %(status)s (version %(version)s)")
        % {"number": moved[0], "status": shown(moved[1]), "version": moved[2]},
        markup=False,
    )
