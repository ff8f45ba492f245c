"""`qms context` and `qms scope`: the organisation's context, interested parties and the scope of
the quality system (ISO 9001 4.1-4.3) at a terminal."""

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
from qms.context.models import IssueOrigin, PartyKind
from qms.errors import FieldError, ValidationFailed
from qms.limits import MAX_LIMIT

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

context_app = typer.Typer(
    help="The context: issues and interested parties: list, add, add-party, review.",
    no_args_is_help=True,
)
scope_app = typer.Typer(help="The scope of the quality system: show.", no_args_is_help=True)


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


@context_app.command("list")
def context_list(
    parties: Annotated[
        bool, typer.Option("--parties", help="List the interested parties, not the issues.")
    ] = False,
    due: Annotated[bool, typer.Option("--due", help="Only those whose review is due.")] = False,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 200,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List the internal and external issues (or the interested parties) with their reviews."""
    from qms.context import service
    from qms.context.exports import ISSUE_COLUMNS, PARTY_COLUMNS

    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        filters = service.ContextFilter(
            programme_id=_programme_id(session, programme), review_due=True if due else None
        )
        if parties:
            found = service.list_parties(session, actor=actor, filters=filters, limit=limit)
            party_rows = [service.party_to_read(p) for p in found.items]
            records = [r.model_dump(mode="json") for r in party_rows]
        else:
            issues = service.list_issues(session, actor=actor, filters=filters, limit=limit)
            issue_rows = [service.issue_to_read(i) for i in issues.items]
            records = [r.model_dump(mode="json") for r in issue_rows]
    if format is not ListFormat.table:
        print_records(format, PARTY_COLUMNS if parties else ISSUE_COLUMNS, records)
        return
    if parties:
        table = Table(
            Column(t("Number"), no_wrap=True),
            t("Name"),
            t("Kind"),
            t("Requirements"),
            t("How they are met"),
            t("Next review"),
        )
        for p in party_rows:
            table.add_row(
                p.number,
                Styled(p.name),
                shown(p.kind.value),
                Styled(p.requirements),
                Styled(p.how_met),
                _review(p.next_review_on, p.review_due),
            )
    else:
        table = Table(
            Column(t("Number"), no_wrap=True),
            t("Title"),
            t("Internal or external"),
            t("Status"),
            t("Next review"),
        )
        for i in issue_rows:
            table.add_row(
                i.number,
                Styled(i.title),
                shown(i.origin.value),
                shown(i.status.value),
                _review(i.next_review_on, i.review_due),
            )
    out.print(table)


def _review(on: object, due: bool) -> Styled | str:
    from datetime import date

    day = shown_day(on) if isinstance(on, date) else ""
    return Styled(f"{day} {shown('review_due')}", style="red") if due else day


@context_app.command("add")
def context_add(
    title: Annotated[str, typer.Argument(help="The issue in a line.")],
    origin: Annotated[IssueOrigin, typer.Option(help="internal or external.")],
    description: Annotated[str, typer.Option(help="The issue itself.")],
    effect: Annotated[str, typer.Option(help="Its effect on the programmes.")],
    programme: Annotated[
        str | None, typer.Option(help="The programme's code; left out: the whole organisation.")
    ] = None,
    next_review: Annotated[
        str | None,
        typer.Option("--next-review", help="Default: a year from today (YYYY-MM-DD)."),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Record an internal or external issue and print its number (alone on stdout)."""
    from qms.context import service
    from qms.context.schemas import ContextIssueCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        issue = service.create_issue(
            session,
            actor=actor,
            data=ContextIssueCreate.model_validate(
                {
                    "origin": origin,
                    "title": title,
                    "description": description,
                    "effect": effect,
                    "programme_id": _programme_id(session, programme),
                    "next_review_on": option_day(next_review, "--next-review"),
                }
            ),
        )
        number = issue.number
    out.print(number)


@context_app.command("add-party")
def context_add_party(
    name: Annotated[str, typer.Argument(help="The party's name.")],
    kind: Annotated[PartyKind, typer.Option()],
    requirements: Annotated[str, typer.Option(help="What they require of the programmes.")],
    how_met: Annotated[str, typer.Option("--how-met", help="How the system meets it.")],
    programme: Annotated[
        str | None, typer.Option(help="The programme's code; left out: the whole organisation.")
    ] = None,
    next_review: Annotated[
        str | None,
        typer.Option("--next-review", help="Default: a year from today (YYYY-MM-DD)."),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Record an interested party and print its number (alone on stdout)."""
    from qms.context import service
    from qms.context.schemas import PartyCreate

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        party = service.create_party(
            session,
            actor=actor,
            data=PartyCreate.model_validate(
                {
                    "name": name,
                    "kind": kind,
                    "requirements": requirements,
                    "how_met": how_met,
                    "programme_id": _programme_id(session, programme),
                    "next_review_on": option_day(next_review, "--next-review"),
                }
            ),
        )
        number = party.number
    out.print(number)


@context_app.command("review")
def context_review(
    number: Annotated[str, typer.Argument(help="CTX-2026-0001 or IP-2026-0001.")],
    note: Annotated[str, typer.Option(help="What the review found.")],
    next_review: Annotated[
        str | None,
        typer.Option("--next-review", help="Default: a year from today (YYYY-MM-DD)."),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Record a review of an issue or an interested party; print when it is reviewed next."""
    from qms.context import service
    from qms.context.models import ContextIssue, InterestedParty
    from qms.context.schemas import ContextReview

    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        found = service.find(session, actor=actor, number=number)
        data = ContextReview.model_validate(
            {"note": note, "next_review_on": option_day(next_review, "--next-review")}
        )
        record: ContextIssue | InterestedParty
        if isinstance(found, ContextIssue):
            record = service.review_issue(
                session, actor=actor, issue_id=found.id, data=data, if_match=found.version
            )
        else:
            record = service.review_party(
                session, actor=actor, party_id=found.id, data=data, if_match=found.version
            )
        next_on, shown_number = record.next_review_on, record.number
    out.print(next_on.isoformat())
    err.print(t("%(number)s reviewed") % {"number": shown_number})


@scope_app.command("show")
def scope_show(as_user: AsOption = None) -> None:
    """Print the scope of the quality system and each requirement not applicable, with why."""
    from qms.context import service

    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        scope = service.scope_to_read(service.get_scope(session, actor=actor))
    if not scope.version:
        err.print(t("No scope has been set yet."))
        raise typer.Exit(1)
    out.print(Styled(scope.coverage))
    if scope.exclusions:
        out.print()
        out.print(t("Requirements not applicable"))
        for exclusion in scope.exclusions:
            out.print(Styled(f"  ISO 9001 {exclusion.clause}: {exclusion.reason}"))
    else:
        out.print(t("Every requirement of ISO 9001 applies."))
