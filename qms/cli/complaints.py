"""`qms complaints`: complaints (ISO 9001 9.1.2, 10.2) at a terminal: list, add, move.

Who complained is personal data and is never printed here: the pages and the API show it to
those who may read it."""

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
from qms.complaints.enums import (
    ComplainantCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintStatus,
)
from qms.errors import FieldError, ValidationFailed
from qms.limits import MAX_LIMIT

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

complaints_app = typer.Typer(
    help="Complaints: list, add, move through the workflow.", no_args_is_help=True
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


@complaints_app.command("list")
def complaints_list(
    status: Annotated[ComplaintStatus | None, typer.Option()] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only those past the day to acknowledge or answer.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List complaints, newest first, with their limits and outcome."""
    from qms.complaints import service
    from qms.complaints.service import ComplaintFilter
    from qms.exports import COMPLAINT_COLUMNS

    with unit_of_work(write=False) as session:
        filters = ComplaintFilter(
            status=status,
            programme_id=_programme_id(session, programme),
            overdue=True if overdue else None,
        )
        actor = actor_for(session, as_user)
        page = service.list_complaints(session, actor=actor, filters=filters, limit=limit)
        rows = [service.to_read(c, actor) for c in page.items]
    if format is not ListFormat.table:
        print_records(format, COMPLAINT_COLUMNS, [r.model_dump(mode="json") for r in rows])
        return
    table = Table(
        Column(t("Number"), no_wrap=True),
        t("Subject"),
        t("From"),
        t("Status"),
        t("Received"),
        t("Answer by"),
        t("Outcome"),
    )
    for r in rows:
        due = shown_day(r.answer_due_on)
        table.add_row(
            r.number,
            Styled(r.subject),
            shown(r.complainant_category.value),
            shown(r.status.value),
            shown_day(r.received_on),
            Styled(f"{due} {shown('overdue')}", style="red") if r.overdue else due,
            shown(r.outcome.value) if r.outcome else "",
        )
    out.print(table)


@complaints_app.command("add")
def complaints_add(
    programme: Annotated[str, typer.Option(help="The programme's code.")],
    subject: Annotated[str, typer.Option()],
    description: Annotated[str, typer.Option(help="What the complaint says.")],
    channel: Annotated[ComplaintChannel, typer.Option()],
    category: Annotated[
        ComplainantCategory,
        typer.Option("--from", help="Who complained, as a kind of party (not who they are)."),
    ],
    received: Annotated[
        str | None, typer.Option("--received", help="The day it came in (YYYY-MM-DD); today.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Receive a complaint and print its number (alone on stdout)."""
    from qms.complaints import service
    from qms.complaints.schemas import ComplaintCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        complaint = service.create(
            session,
            actor=actor,
            data=ComplaintCreate.model_validate(
                {
                    "programme_id": _programme_id(session, programme),
                    "subject": subject,
                    "description": description,
                    "channel": channel,
                    "complainant_category": category,
                    "received_on": option_day(received, "--received"),
                }
            ),
        )
        number, ack, answer = (
            complaint.number,
            complaint.acknowledge_due_on,
            complaint.answer_due_on,
        )
    err.print(
        t("received %(number)s: acknowledge by %(ack)s, answer by %(answer)s")
        % {"number": number, "ack": shown_day(ack), "answer": shown_day(answer)}
    )
    print(number)  # noqa: T201  (the number alone on stdout, for scripts)


@complaints_app.command("move")
def complaints_move(
    number: Annotated[str, typer.Argument(help="The complaint's number, e.g. CMP-2026-0001.")],
    to: Annotated[ComplaintStatus, typer.Option("--to")],
    reason: Annotated[str | None, typer.Option(help="Needed to withdraw.")] = None,
    answer: Annotated[str | None, typer.Option(help="Needed to answer.")] = None,
    outcome: Annotated[ComplaintOutcome | None, typer.Option(help="Needed to answer.")] = None,
    if_match: Annotated[
        int | None, typer.Option("--if-match", help="The version it was read at.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Move a complaint: received -> acknowledged -> answered -> closed, or withdrawn."""
    from qms.complaints import service
    from qms.complaints.schemas import ComplaintTransition

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        complaint = service.get_by_number(session, actor=actor, number=number)
        service.transition(
            session,
            actor=actor,
            complaint_id=complaint.id,
            data=ComplaintTransition.model_validate(
                {"to": to, "reason": reason, "answer": answer, "outcome": outcome}
            ),
            if_match=complaint.version if if_match is None else if_match,
        )
        shown_number, status, version = complaint.number, complaint.status, complaint.version
    err.print(
        t("%(number)s is %(status)s (version %(version)s)")
        % {"number": shown_number, "status": shown(status.value), "version": version}
    )
