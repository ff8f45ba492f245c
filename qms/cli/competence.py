"""`qms competence` and `qms acknowledge`: competences each role needs, training records, the
matrix of who has what (ISO 9001 7.2), and procedures acknowledged as read and understood (7.3)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text as Styled

from qms.cli.common import (
    AsOption,
    FormatOption,
    ListFormat,
    actor_for,
    option_day,
    out,
    print_records,
    shown,
    shown_day,
    t,
    unit_of_work,
)
from qms.competence.models import CompetenceRole, ObtainedBy

competence_app = typer.Typer(help="Competence: list, add, train, matrix.", no_args_is_help=True)


@competence_app.command("list")
def competence_list(
    role: Annotated[CompetenceRole | None, typer.Option()] = None,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List the competences each role needs."""
    from qms.competence import service
    from qms.competence.columns import COMPETENCE_COLUMNS

    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        rows = [
            service.competence_to_read(c)
            for c in service.list_competences(session, actor=actor, role=role)
        ]
    if format is not ListFormat.table:
        print_records(format, COMPETENCE_COLUMNS, [r.model_dump(mode="json") for r in rows])
        return
    table = Table(
        Column(t("Code"), no_wrap=True),
        t("Role"),
        t("Title"),
        t("Obtained by"),
        t("Renewal (months)"),
        t("Required before matching"),
    )
    for r in rows:
        table.add_row(
            r.code,
            shown(r.role.value),
            Styled(r.title),
            shown(r.obtained_by.value),
            str(r.renewal_months or ""),
            shown("yes") if r.before_matching else shown("no"),
        )
    out.print(table)


@competence_app.command("add")
def competence_add(
    code: Annotated[str, typer.Argument(help="A code of its own, e.g. MENTOR-M1.")],
    role: Annotated[CompetenceRole, typer.Option()],
    title: Annotated[str, typer.Option()],
    description: Annotated[str, typer.Option(help="What it means to have it.")] = "",
    obtained_by: Annotated[ObtainedBy, typer.Option("--obtained-by")] = ObtainedBy.training,
    renewal_months: Annotated[
        int | None, typer.Option("--renewal-months", help="Renewed after so many months.")
    ] = None,
    before_matching: Annotated[
        bool, typer.Option("--before-matching", help="A mentor needs it before being matched.")
    ] = False,
    as_user: AsOption = None,
) -> None:
    """Add a competence a role needs and print its code."""
    from qms.competence import service
    from qms.competence.schemas import CompetenceCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        competence = service.create_competence(
            session,
            actor=actor,
            data=CompetenceCreate.model_validate(
                {
                    "code": code,
                    "role": role,
                    "title": title,
                    "description": description,
                    "obtained_by": obtained_by,
                    "renewal_months": renewal_months,
                    "before_matching": before_matching,
                }
            ),
        )
        out.print(competence.code)


@competence_app.command("train")
def competence_train(
    competence: Annotated[str, typer.Argument(help="The competence's code.")],
    user: Annotated[str | None, typer.Option(help="The user name of the person trained.")] = None,
    mentor: Annotated[str | None, typer.Option(help="The mentor's code (P-0042).")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Completed on (YYYY-MM-DD); today.")
    ] = None,
    given_by: Annotated[str | None, typer.Option("--given-by", help="Who gave it.")] = None,
    as_user: AsOption = None,
) -> None:
    """Record a completed training and print its number (alone on stdout)."""
    from qms.competence import service
    from qms.competence.schemas import TrainingRecordCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        record = service.record_training(
            session,
            actor=actor,
            data=TrainingRecordCreate.model_validate(
                {
                    "competence": competence,
                    "user": user,
                    "participant": mentor,
                    "completed_on": option_day(on, "--on") or service.today(),
                    "given_by": given_by,
                }
            ),
        )
        out.print(record.number)


@competence_app.command("matrix")
def competence_matrix(
    role: Annotated[CompetenceRole | None, typer.Option()] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code (mentors).")] = None,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """Print who has each competence of their role, who let it expire and who lacks it."""
    from qms.competence import service
    from qms.programmes import repository as programmes

    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        found = programmes.get_by_code(session, programme) if programme else None
        matrix = service.matrix(
            session,
            actor=actor,
            role=role,
            programme_id=found.id if found else (-1 if programme else None),
        )
    if format is not ListFormat.table:
        records = [
            {
                "person": row.person,
                "role": row.role.value,
                "competence": cell.competence,
                "state": cell.state,
                "completed_on": cell.completed_on.isoformat() if cell.completed_on else None,
                "expires_on": cell.expires_on.isoformat() if cell.expires_on else None,
            }
            for row in matrix.rows
            for cell in row.cells
        ]
        from qms.exports import Column as Field
        from qms.i18n import N_

        print_records(
            format,
            (
                Field("person", N_("Person")),
                Field("role", N_("Role"), coded=True),
                Field("competence", N_("Competence")),
                Field("state", N_("State"), coded=True),
                Field("completed_on", N_("Completed")),
                Field("expires_on", N_("Expires")),
            ),
            records,
        )
        return
    table = Table(Column(t("Person"), no_wrap=True), t("Role"), t("Competence"), t("State"))
    for row in matrix.rows:
        for cell in row.cells:
            state = shown(cell.state)
            if cell.completed_on:
                state += f" {shown_day(cell.completed_on)}"
            table.add_row(
                row.person,
                shown(row.role.value),
                cell.competence,
                Styled(state, style="red") if cell.state != "has" else state,
            )
    out.print(table)


def acknowledge(
    reference: Annotated[str, typer.Argument(help="The procedure's code, e.g. PR-05.")],
    as_user: AsOption = None,
) -> None:
    """Acknowledge the version in force of a procedure as read and understood."""
    from qms.competence import service
    from qms.errors import NotFound
    from qms.i18n import Text
    from qms.procedures import service as procedures

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        procedure = procedures.get_by_code(session, reference.strip().upper())
        version = procedures.effective(procedure) if procedure else None
        if procedure is None or version is None:
            raise NotFound(Text("Nothing is numbered %(reference)s.", reference=reference))
        done = service.acknowledge(
            session, actor=actor, procedure_id=procedure.id, number=version.number
        )
        on = done.acknowledged_at.date() if done.acknowledged_at else None
        out.print(f"{procedure.code} v{version.number} {shown_day(on)}")
