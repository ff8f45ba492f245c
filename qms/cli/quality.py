"""`qms deviations` and `qms actions`: the quality workflow for people at a terminal."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Column, Table
from rich.text import Text as Styled
from sqlalchemy.orm import Session

from qms import i18n
from qms.accounts.service import PERSON_FIELDS, display_names, shown_name
from qms.actions import service as actions
from qms.actions.models import ActionStatus
from qms.actions.repository import ActionFilter
from qms.cli.common import (
    AsOption,
    actor_for,
    err,
    out,
    shown,
    shown_day,
    shown_moment,
    t,
    unit_of_work,
)
from qms.deviations import service as deviations
from qms.deviations.models import DeviationKind, DeviationSource, DeviationStatus, Severity
from qms.deviations.repository import DeviationFilter
from qms.deviations.schemas import DeviationCreate
from qms.errors import FieldError, ValidationFailed
from qms.i18n.values import VALUES
from qms.pagination import MAX_LIMIT
from qms.programmes import repository as programmes

deviations_app = typer.Typer(help="Deviations: log, list, show.", no_args_is_help=True)
actions_app = typer.Typer(help="Corrective actions: list.", no_args_is_help=True)

SEVERITY_STYLE = {"critical": "bold red", "major": "yellow", "minor": ""}


def _programme_id(session: Session, code: str | None, field: str = "programme") -> int | None:
    if code is None:
        return None
    programme = programmes.get_by_code(session, code)
    if programme is None:
        raise ValidationFailed(
            i18n.Text("The programme is not known."),
            [FieldError(field, i18n.Text("There is no programme %(code)s.", code=code))],
        )
    return programme.id


def _value(value: object, field: str = "", names: dict[str, str] | None = None) -> str:
    """Return a changed value as a reader says it: a stored value by its label, a person by
    their display name, text as it is."""
    if field in PERSON_FIELDS and names is not None:
        if isinstance(value, str):
            return shown_name(names, value)
        if isinstance(value, list):
            return ", ".join(shown_name(names, str(v)) for v in value)
    if isinstance(value, str) and value in VALUES:
        return shown(value)
    return t("(none)") if value is None else str(value)


def _day(value: date) -> str:
    return shown_day(value)


@deviations_app.command("list")
def deviations_list(
    status: Annotated[DeviationStatus | None, typer.Option()] = None,
    severity: Annotated[Severity | None, typer.Option()] = None,
    kind: Annotated[DeviationKind | None, typer.Option()] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past due.")] = False,
    text: Annotated[str | None, typer.Option("--text", help="Free text to look for.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    as_user: AsOption = None,
) -> None:
    """List deviations, newest first."""
    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        filters = DeviationFilter(
            status=status,
            severity=severity,
            kind=kind,
            programme_id=_programme_id(session, programme),
            q=text,
            overdue=True if overdue else None,
        )
        page = deviations.list_deviations(session, actor=actor, filters=filters, limit=limit)
        table = Table(
            Column(t("Number"), no_wrap=True),
            t("Status"),
            t("Severity"),
            t("Kind"),
            t("Title"),
            t("Due"),
            t("Actions"),
        )
        for d in page.items:
            late = deviations.is_overdue(d, deviations.today())
            table.add_row(
                d.number,
                shown(d.status.value),
                Styled(shown(d.severity.value), style=SEVERITY_STYLE[d.severity.value]),
                shown(d.kind.value),
                Styled(d.title),
                Styled(f"{_day(d.due_on)} {shown('overdue')}", style="red")
                if late
                else _day(d.due_on),
                ", ".join(a.number for a in d.actions),
            )
    out.print(table)


@deviations_app.command("show")
def deviations_show(
    number: Annotated[str, typer.Argument(help="e.g. DEV-2026-0001")],
    as_user: AsOption = None,
) -> None:
    """Show a deviation with its actions and its timeline."""
    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        d = deviations.get_by_number(session, actor=actor, number=number)
        events = deviations.history(session, actor=actor, deviation_id=d.id)
        # Who someone is, by the name people read them by; the records keep the logins.
        names = display_names(session)
        lines = [
            f"[bold]{escape(d.title)}[/bold]",
            " · ".join(
                (
                    shown(d.kind.value),
                    shown(d.severity.value),
                    shown(d.source.value),
                    f"{t('Status')}: {shown(d.status.value)}",
                )
            ),
            t("Detected %(moment)s by %(person)s; due %(day)s")
            % {
                "moment": shown_moment(d.detected_at),
                "person": escape(shown_name(names, d.detected_by)),
                "day": _day(d.due_on),
            },
            "",
            escape(d.description),
        ]
        if d.immediate_containment:
            lines += [
                "",
                f"[bold]{t('Immediate containment')}:[/bold] {escape(d.immediate_containment)}",
            ]
        if d.root_cause:
            method = shown(d.root_cause_method.value) if d.root_cause_method else "?"
            lines += ["", f"[bold]{t('Root cause')} ({method}):[/bold] {escape(d.root_cause)}"]
        if d.closure_summary:
            lines += ["", f"[bold]{t('Closure')}:[/bold] {escape(d.closure_summary)}"]
        out.print(Panel("\n".join(lines), title=d.number, expand=False))
        if d.actions:
            table = Table(
                t("Action"),
                t("Type"),
                t("Status"),
                t("Owner"),
                t("Due"),
                title=t("Corrective actions"),
            )
            for a in d.actions:
                table.add_row(
                    a.number,
                    shown(a.type.value),
                    shown(a.status.value),
                    Styled(shown_name(names, a.owner.name)),
                    _day(a.due_on),
                )
            out.print(table)
        timeline = Table(
            t("When"), t("Who"), t("What"), t("Changes"), t("Reason"), title=t("Timeline")
        )
        for e in events:
            changes = ", ".join(
                f"{shown(k)}: {_value(v.get('old'), k, names)} → {_value(v.get('new'), k, names)}"
                if "old" in v
                else t("%(field)s changed") % {"field": shown(k)}
                for k, v in e.changes.items()
                if isinstance(v, dict)
            )
            timeline.add_row(
                shown_moment(e.at),
                Styled(shown_name(names, e.actor)),
                shown(e.action),
                Styled(changes[:160]),
                Styled(e.reason or ""),
            )
        out.print(timeline)


@deviations_app.command("log")
def deviations_log(
    kind: Annotated[DeviationKind, typer.Option()],
    source: Annotated[DeviationSource, typer.Option()],
    severity: Annotated[Severity, typer.Option()],
    title: Annotated[str, typer.Option()],
    description: Annotated[str, typer.Option()],
    containment: Annotated[str | None, typer.Option(help="What was done at once.")] = None,
    programme: Annotated[str | None, typer.Option(help="The programme's code.")] = None,
    iso_clause: Annotated[str | None, typer.Option(help="e.g. 8.5.1")] = None,
    detected_by: Annotated[str | None, typer.Option()] = None,
    as_user: AsOption = None,
) -> None:
    """Log a deviation and print its number (alone on stdout)."""
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        data = DeviationCreate(
            kind=kind,
            source=source,
            severity=severity,
            title=title,
            description=description,
            immediate_containment=containment,
            programme_id=_programme_id(session, programme, "programme"),
            iso_clause=iso_clause,
            detected_by=detected_by,
        )
        deviation = deviations.create(session, actor=actor, data=data)
        number, due = deviation.number, deviation.due_on
    err.print(t("logged %(number)s, due %(day)s") % {"number": number, "day": _day(due)})
    print(number)  # noqa: T201  (the number alone on stdout, for scripts)


@actions_app.command("list")
def actions_list(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only those past due, not done.")
    ] = False,
    status: Annotated[ActionStatus | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option(help="The owner's user name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = 50,
    as_user: AsOption = None,
) -> None:
    """List corrective actions, newest first."""
    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        page = actions.list_actions(
            session,
            actor=actor,
            filters=ActionFilter(status=status, overdue=True if overdue else None),
            owner=owner,
            limit=limit,
        )
        names = display_names(session, (a.owner.name for a in page.items))
        table = Table(
            Column(t("Number"), no_wrap=True),
            t("Type"),
            t("Status"),
            t("Title"),
            t("Owner"),
            t("Due"),
            t("Deviations"),
        )
        for a in page.items:
            due = _day(a.due_on)
            table.add_row(
                a.number,
                shown(a.type.value),
                shown(a.status.value),
                Styled(a.title),
                Styled(shown_name(names, a.owner.name)),
                Styled(f"{due} {shown('overdue')}", style="red") if actions.is_overdue(a) else due,
                ", ".join(d.number for d in a.deviations),
            )
    out.print(table)
