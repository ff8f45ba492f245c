"""`qms deviations` and `qms actions`: the quality workflow for people at a terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Column, Table
from rich.text import Text as Styled

from qms import i18n
from qms.actions.enums import ActionStatus, ActionType
from qms.cli.common import (
    AsOption,
    FormatOption,
    ListFormat,
    actor_for,
    database_of_work,
    err,
    language,
    option_day,
    out,
    print_records,
    reading,
    reading_actor,
    shown,
    shown_day,
    shown_moment,
    t,
    unit_of_work,
)
from qms.cli.lazy import imported_later
from qms.deviations import listing
from qms.deviations.enums import (
    DeviationKind,
    DeviationSource,
    DeviationStatus,
    RootCauseMethod,
    Severity,
)
from qms.deviations.listing import DeviationFilter
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.i18n.timeline import empty_from_nothing
from qms.i18n.values import VALUES
from qms.limits import MAX_LIMIT
from qms.permissions import Actor

T = TypeVar("T")

# The services, schemas and models are imported by the commands that use them: listing deviations
# reads its rows without them (qms.deviations.listing), and starts faster for it.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qms.accounts import service as accounts
    from qms.actions.models import CorrectiveAction
    from qms.actions.schemas import FollowOnCreate
    from qms.deviations import schemas
    from qms.deviations import service as deviations
    from qms.programmes import repository as programmes
else:
    accounts = imported_later("qms.accounts.service")
    schemas = imported_later("qms.deviations.schemas")
    deviations = imported_later("qms.deviations.service")
    programmes = imported_later("qms.programmes.repository")

deviations_app = typer.Typer(
    help="Deviations: log, list, show, update, move through the workflow.", no_args_is_help=True
)
actions_app = typer.Typer(
    help="Corrective actions: list, show, start, done, verify, ineffective.", no_args_is_help=True
)

# The version a change is made against, as the API's If-Match: the one the operator read (`show`
# prints it), so that a change made in between is refused; by default the one read now.
IfMatchOption = Annotated[
    int | None,
    typer.Option(
        "--if-match",
        min=1,
        help="The version you read (`show` prints it); refused if the record has changed since. "
        "Default: the version read now.",
    ),
]
ReasonOption = Annotated[str | None, typer.Option(help="Why, for the audit trail.")]

SEVERITY_STYLE = {"critical": "bold red", "major": "yellow", "minor": ""}


def _titled(title: str, text: str) -> str:
    """A titled paragraph of a record's panel: the title in bold, the record's text as written."""
    return f"[bold]{escape(title)}:[/bold] {escape(text)}"


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
    if field in accounts.PERSON_FIELDS and names is not None:
        if isinstance(value, str):
            return accounts.shown_name(names, value)
        if isinstance(value, list):
            return ", ".join(accounts.shown_name(names, str(v)) for v in value)
    if isinstance(value, str) and value in VALUES:
        return shown(value)
    return t("(none)") if value is None else str(value)


def _day(value: date) -> str:
    return shown_day(value)


SignOption = Annotated[
    str | None,
    typer.Option(
        "--sign",
        metavar="MEANING",
        help="Sign without being asked, stating the signature's meaning (verified to verify an "
        "action, closed to close a deviation): for scripts. Without it the statement is shown "
        "and you are asked to confirm it.",
    ),
]


def _signing(move: Callable[[Session, Any], T], sign: str | None) -> T:
    """Run a move that may be an electronic signature: with the meaning `--sign` states, or
    else, when the move signs, show the statement and ask the person to confirm it."""
    from qms.errors import SignatureRequired
    from qms.signatures.schemas import SignatureConfirmation

    def confirmation(meaning: str) -> SignatureConfirmation:
        return SignatureConfirmation.model_validate(
            {"meaning": meaning, "statement_confirmed": True, "language": language()}
        )

    with database_of_work() as database:
        try:
            with database.unit_of_work() as session:
                return move(session, confirmation(sign) if sign is not None else None)
        except SignatureRequired as exc:
            err.print(
                t("This move is an electronic signature, with the meaning %(meaning)s:")
                % {"meaning": shown(exc.meaning)},
                markup=False,
            )
            err.print(f"  {i18n.said(exc.statement, language())}", markup=False)
            err.print(
                t("(A script states the meaning with --sign %(meaning)s.)")
                % {"meaning": exc.meaning},
                markup=False,
            )
            if not typer.confirm(t("Sign this statement?"), err=True):
                raise typer.Exit(1) from exc
            with database.unit_of_work() as session:
                return move(session, confirmation(exc.meaning))


def _moved(number: str, status: str, version: int) -> None:
    err.print(
        t("%(number)s: %(status)s (version %(version)s)")
        % {"number": number, "status": shown(status), "version": version},
        markup=False,
    )


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
    format: FormatOption = ListFormat.table,
) -> None:
    """List deviations, newest first."""
    actor = reading_actor(as_user)
    with reading() as connection:
        filters = DeviationFilter(
            status=status,
            severity=severity,
            kind=kind,
            programme_id=listing.programme_id(connection, programme),
            q=text,
            overdue=True if overdue else None,
        )
        today = listing.today()
        rows = listing.rows(connection, actor=actor, filters=filters, today=today, limit=limit)
    if format is not ListFormat.table:
        from qms.exports import DEVIATION_COLUMNS

        print_records(
            format,
            DEVIATION_COLUMNS,
            (
                {
                    "id": d.id,
                    "number": d.number,
                    "status": d.status.value,
                    "severity": d.severity.value,
                    "kind": d.kind.value,
                    "title": d.title,
                    "due_on": d.due_on.isoformat(),
                    "overdue": d.overdue(today),
                    "action_numbers": d.actions,
                }
                for d in rows
            ),
        )
        return
    table = Table(
        Column(t("Number"), no_wrap=True),
        t("Status"),
        t("Severity"),
        t("Kind"),
        t("Title"),
        t("Due"),
        t("Actions"),
    )
    for d in rows:
        table.add_row(
            d.number,
            shown(d.status.value),
            Styled(shown(d.severity.value), style=SEVERITY_STYLE[d.severity.value]),
            shown(d.kind.value),
            Styled(d.title),
            Styled(f"{_day(d.due_on)} {shown('overdue')}", style="red")
            if d.overdue(today)
            else _day(d.due_on),
            ", ".join(d.actions),
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
        names = accounts.display_names(session)
        lines = [
            f"[bold]{escape(d.title)}[/bold]",
            " · ".join(
                (
                    shown(d.kind.value),
                    shown(d.severity.value),
                    shown(d.source.value),
                    t("Status") + ": " + shown(d.status.value),
                    t("Version %(version)s") % {"version": d.version},
                )
            ),
            t("Detected %(moment)s by %(person)s; due %(day)s")
            % {
                "moment": shown_moment(d.detected_at),
                "person": escape(accounts.shown_name(names, d.detected_by)),
                "day": _day(d.due_on),
            },
            "",
            escape(d.description),
        ]
        if d.immediate_containment:
            lines += [
                "",
                _titled(t("Immediate containment"), d.immediate_containment),
            ]
        if d.root_cause:
            method = shown(d.root_cause_method.value) if d.root_cause_method else "?"
            lines += ["", _titled(t("Root cause") + f" ({method})", d.root_cause)]
        if d.closure_summary:
            lines += ["", _titled(t("Closure"), d.closure_summary)]
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
                    Styled(accounts.shown_name(names, a.owner.name)),
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
                if isinstance(v, dict) and not empty_from_nothing(v)
            )
            timeline.add_row(
                shown_moment(e.at),
                Styled(accounts.shown_name(names, e.actor)),
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
        data = schemas.DeviationCreate(
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
    format: FormatOption = ListFormat.table,
) -> None:
    """List corrective actions, newest first."""
    from qms.actions import service as actions
    from qms.actions.repository import ActionFilter

    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        page = actions.list_actions(
            session,
            actor=actor,
            filters=ActionFilter(status=status, overdue=True if overdue else None),
            owner=owner,
            limit=limit,
        )
        if format is not ListFormat.table:
            read = [actions.to_read(session, a, actor).model_dump(mode="json") for a in page.items]
            from qms.exports import ACTION_COLUMNS

            print_records(format, ACTION_COLUMNS, read)
            return
        names = accounts.display_names(session, (a.owner.name for a in page.items))
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
                Styled(accounts.shown_name(names, a.owner.name)),
                Styled(f"{due} {shown('overdue')}", style="red") if actions.is_overdue(a) else due,
                ", ".join(d.number for d in a.deviations),
            )
    out.print(table)


@deviations_app.command("update")
def deviations_update(
    number: Annotated[str, typer.Argument(help="e.g. DEV-2026-0001")],
    root_cause_method: Annotated[
        RootCauseMethod | None, typer.Option(help="How the root cause was found.")
    ] = None,
    root_cause: Annotated[
        str | None,
        typer.Option(help="The root cause (major and critical deviations need it first)."),
    ] = None,
    containment: Annotated[str | None, typer.Option(help="What was done at once.")] = None,
    severity: Annotated[Severity | None, typer.Option()] = None,
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    due_on: Annotated[str | None, typer.Option("--due", help="YYYY-MM-DD")] = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
) -> None:
    """Change a deviation that is not closed: its root cause, containment, severity, due date."""
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        d = deviations.get_by_number(session, actor=actor, number=number)
        given = {
            "root_cause_method": root_cause_method,
            "root_cause": root_cause,
            "immediate_containment": containment,
            "severity": severity,
            "title": title,
            "description": description,
            "due_on": option_day(due_on, "due"),
        }
        changes = {field: value for field, value in given.items() if value is not None}
        if not changes:
            raise ValidationFailed(
                i18n.Text("Nothing to change: give a field, such as --root-cause.")
            )
        d = deviations.update(
            session,
            actor=actor,
            deviation_id=d.id,
            data=schemas.DeviationUpdate(**changes),
            if_match=d.version if if_match is None else if_match,
        )
        moved = (d.number, d.status.value, d.version)
    _moved(*moved)


@deviations_app.command("move")
def deviations_move(
    number: Annotated[str, typer.Argument(help="e.g. DEV-2026-0001")],
    to: Annotated[
        DeviationStatus,
        typer.Option(
            "--to",
            help="open → investigating → action_required → closed (→ reopened → investigating)",
        ),
    ],
    reason: ReasonOption = None,
    closure_summary: Annotated[
        str | None, typer.Option(help="To close: what was found and done.")
    ] = None,
    no_action_reason: Annotated[
        str | None, typer.Option(help="To close without corrective actions: why none is needed.")
    ] = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
    sign: SignOption = None,
) -> None:
    """Move a deviation through its workflow, with what the move needs; closing it signs."""

    def move(session: Session, signature: Any) -> tuple[str, str, int]:
        actor = actor_for(session, as_user)
        d = deviations.get_by_number(session, actor=actor, number=number)
        d = deviations.transition(
            session,
            actor=actor,
            deviation_id=d.id,
            data=schemas.DeviationTransition(
                to=to,
                reason=reason,
                closure_summary=closure_summary,
                no_action_reason=no_action_reason,
                signature=signature,
            ),
            if_match=d.version if if_match is None else if_match,
        )
        return (d.number, d.status.value, d.version)

    _moved(*_signing(move, sign))


def _action_by_number(session: Session, actor: Actor, number: str) -> CorrectiveAction:
    from qms.actions import repository as action_records
    from qms.actions import service as actions

    found = action_records.get_by_number(session, number.strip().upper())
    if found is None:
        raise NotFound(i18n.Text("There is no corrective action %(number)s.", number=number))
    return actions.get(session, actor=actor, action_id=found.id)


@actions_app.command("show")
def actions_show(
    number: Annotated[str, typer.Argument(help="e.g. CA-2026-0001")],
    as_user: AsOption = None,
) -> None:
    """Show a corrective action with its version and the moves open to it."""
    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        a = _action_by_number(session, actor, number)
        names = accounts.display_names(session, [a.owner.name])
        lines = [
            f"[bold]{escape(a.title)}[/bold]",
            " · ".join(
                (
                    shown(a.type.value),
                    t("Status") + ": " + shown(a.status.value),
                    t("Version %(version)s") % {"version": a.version},
                )
            ),
            " · ".join(
                (
                    t("Owner") + ": " + escape(accounts.shown_name(names, a.owner.name)),
                    t("Due") + ": " + _day(a.due_on),
                    t("Deviations") + ": " + ", ".join(d.number for d in a.deviations),
                )
            ),
            "",
            escape(a.action),
        ]
        if a.completion_note:
            lines += ["", _titled(t("Completion note"), a.completion_note)]
        if a.evidence:
            lines += ["", _titled(t("Evidence"), a.evidence)]
        out.print(Panel("\n".join(lines), title=a.number, expand=False))


NoteOption = Annotated[str | None, typer.Option("--note", help="What was done.")]
EvidenceOption = Annotated[
    str | None, typer.Option(help="What shows the action worked, or did not.")
]


def _follow_on(given: dict[str, str | None], kind: ActionType) -> FollowOnCreate | None:
    """Return the follow-on action the options name, or None when they name none."""
    from qms.actions.schemas import FollowOnCreate

    if all(value is None for value in given.values()):
        return None
    missing = [option for option, value in given.items() if value is None]
    if missing:
        raise ValidationFailed(
            i18n.Text("The follow-on action needs %(options)s too.", options=missing),
            [FieldError(option, i18n.Text("This cannot be left empty.")) for option in missing],
        )
    return FollowOnCreate(
        type=kind,
        title=given["--follow-on-title"],
        action=given["--follow-on-action"],
        owner=given["--follow-on-owner"],
        due_on=option_day(given["--follow-on-due"], "--follow-on-due"),
    )


def _move_action(
    number: str,
    to: ActionStatus,
    *,
    as_user: str | None,
    if_match: int | None,
    reason: str | None = None,
    note: str | None = None,
    evidence: str | None = None,
    follow_on: dict[str, str | None] | None = None,
    follow_on_type: ActionType = ActionType.corrective,
    sign: str | None = None,
) -> None:
    # The actions' service is imported by the commands that use it, not by `deviations list`.
    from qms.actions import service as actions
    from qms.actions.schemas import ActionTransition

    def move(session: Session, signature: Any) -> tuple[str, str, int]:
        actor = actor_for(session, as_user)
        a = _action_by_number(session, actor, number)
        a = actions.transition(
            session,
            actor=actor,
            action_id=a.id,
            data=ActionTransition(
                to=to,
                reason=reason,
                completion_note=note,
                evidence=evidence,
                follow_on=_follow_on(follow_on, follow_on_type) if follow_on else None,
                signature=signature,
            ),
            if_match=a.version if if_match is None else if_match,
        )
        return (a.number, a.status.value, a.version)

    _moved(*_signing(move, sign))


@actions_app.command("start")
def actions_start(
    number: Annotated[str, typer.Argument(help="e.g. CA-2026-0001")],
    reason: ReasonOption = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
) -> None:
    """Start a planned action (its owner or a quality lead)."""
    _move_action(
        number, ActionStatus.in_progress, reason=reason, if_match=if_match, as_user=as_user
    )


@actions_app.command("done")
def actions_done(
    number: Annotated[str, typer.Argument(help="e.g. CA-2026-0001")],
    note: NoteOption = None,
    reason: ReasonOption = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
) -> None:
    """Report an action carried out, with a note of what was done."""
    _move_action(
        number, ActionStatus.done, note=note, reason=reason, if_match=if_match, as_user=as_user
    )


@actions_app.command("verify")
def actions_verify(
    number: Annotated[str, typer.Argument(help="e.g. CA-2026-0001")],
    evidence: EvidenceOption = None,
    reason: ReasonOption = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
    sign: SignOption = None,
) -> None:
    """Verify a done action effective, with evidence, and sign it (never by its owner)."""
    _move_action(
        number,
        ActionStatus.verified_effective,
        evidence=evidence,
        reason=reason,
        if_match=if_match,
        as_user=as_user,
        sign=sign,
    )


@actions_app.command("ineffective")
def actions_ineffective(
    number: Annotated[str, typer.Argument(help="e.g. CA-2026-0001")],
    evidence: EvidenceOption = None,
    follow_on_title: Annotated[
        str | None, typer.Option(help="The follow-on action that takes over: its title.")
    ] = None,
    follow_on_action: Annotated[
        str | None, typer.Option(help="The follow-on action: what is to be done.")
    ] = None,
    follow_on_owner: Annotated[
        str | None, typer.Option(help="The follow-on action: its owner's user name.")
    ] = None,
    follow_on_due: Annotated[
        str | None, typer.Option(help="The follow-on action: due, YYYY-MM-DD.")
    ] = None,
    follow_on_type: Annotated[
        ActionType, typer.Option(help="The follow-on action: its type.")
    ] = ActionType.corrective,
    reason: ReasonOption = None,
    if_match: IfMatchOption = None,
    as_user: AsOption = None,
    sign: SignOption = None,
) -> None:
    """Find a done action ineffective, with evidence, and name the follow-on that takes over;
    it is signed with the meaning verified."""
    follow_on = {
        "--follow-on-title": follow_on_title,
        "--follow-on-action": follow_on_action,
        "--follow-on-owner": follow_on_owner,
        "--follow-on-due": follow_on_due,
    }
    _move_action(
        number,
        ActionStatus.ineffective,
        evidence=evidence,
        reason=reason,
        follow_on=follow_on,
        follow_on_type=follow_on_type,
        if_match=if_match,
        as_user=as_user,
        sign=sign,
    )
