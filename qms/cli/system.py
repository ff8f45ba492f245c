"""`qms frameworks`: the requirement libraries and their evidence map at a terminal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text as Styled

from qms import i18n
from qms.cli.common import AsOption, actor_for, err, out, shown, shown_day, t, unit_of_work
from qms.errors import FieldError, ValidationFailed
from qms.frameworks import catalogue
from qms.frameworks.coverage import coverage
from qms.programmes import repository as programmes
from qms.retention import service as retention
from qms.retention.schemas import DispositionCreate

frameworks_app = typer.Typer(
    help="Requirement frameworks: ISO 9001:2015, EMCC ISMCP, MENTOR's Elements.",
    no_args_is_help=True,
)


@frameworks_app.command("list")
def frameworks_list() -> None:
    """List the frameworks the system ships."""
    table = Table(t("Code"), t("Title"), t("Publisher"), t("Requirements"))
    for f in catalogue.frameworks().values():
        table.add_row(f.code, Styled(t(f.title)), Styled(f.publisher), str(len(f.requirements)))
    out.print(table)


@frameworks_app.command("show")
def frameworks_show(
    code: Annotated[str, typer.Argument(help="ISO9001, EMCC or MENTOR")],
    evidence: Annotated[
        bool, typer.Option("--evidence", help="Show the evidence map for a period.")
    ] = False,
    programme: Annotated[str | None, typer.Option(help="A programme's code")] = None,
    period_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    period_to: Annotated[
        str | None, typer.Option("--to", help="YYYY-MM-DD (default today)")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Show a framework's requirements, or with --evidence its evidence map."""
    framework = catalogue.get_framework(code)
    if not evidence:
        table = Table(t("Requirement"), t("Title"), t("In our words"))
        for r in framework.requirements:
            table.add_row(r.ref, Styled("  " * (r.depth - 1) + t(r.title)), Styled(t(r.guidance)))
        out.print(table)
        return
    try:
        end = date.fromisoformat(period_to) if period_to else date.today()
        start = date.fromisoformat(period_from) if period_from else end - timedelta(days=365)
    except ValueError:
        raise ValidationFailed(
            i18n.Text("The date cannot be read."),
            [FieldError("from/to", i18n.Text("Enter a date such as 2026-11-30."))],
        ) from None
    with unit_of_work() as session:
        programme_id = None
        if programme is not None:
            found = programmes.get_by_code(session, programme)
            if found is None:
                raise ValidationFailed(
                    i18n.Text("The programme is not known."),
                    [
                        FieldError(
                            "programme",
                            i18n.Text("There is no programme %(code)s.", code=programme),
                        )
                    ],
                )
            programme_id = found.id
        result = coverage(
            session,
            actor=actor_for(session, as_user),
            framework=framework.code,
            programme_id=programme_id,
            period_start=start,
            period_end=end,
        )
    table = Table(
        t("Requirement"),
        t("Title"),
        t("Procedures"),
        t("Evidence in the period"),
        t("Open deviations"),
        t("Gap"),
        title=t("Evidence map %(framework)s %(start)s to %(end)s")
        % {"framework": framework.code, "start": shown_day(start), "end": shown_day(end)},
    )
    for row in result.rows:
        table.add_row(
            row.ref,
            Styled(t(row.title)),
            Styled(", ".join(row.procedures)),
            Styled(", ".join(f"{t(e.kind)} {e.count}" for e in row.evidence)),
            Styled(", ".join(row.open_deviations)),
            Styled("; ".join(t(gap) for gap in row.gaps), style="red")
            if row.gap
            else Styled(t("covered")),
        )
    out.print(table)
    err.print(
        t("%(covered)s requirements covered; %(gaps)s with a gap.")
        % {"covered": result.covered, "gaps": result.gaps}
    )


retention_app = typer.Typer(
    help="Retention: what is due for disposition, and disposing of it.", no_args_is_help=True
)


@retention_app.command("report")
def retention_report(
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD, default today")] = None,
    as_user: AsOption = None,
) -> None:
    """List each kind of record, its retention period, and how many records are due."""
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise ValidationFailed(
            i18n.Text("The date cannot be read."),
            [FieldError("as-of", i18n.Text("Enter a date such as 2026-11-30."))],
        ) from None
    with unit_of_work() as session:
        result = retention.report(session, actor=actor_for(session, as_user), as_of=day)
    table = Table(
        t("Kind of record"),
        t("Kept for (years)"),
        t("Counted from"),
        t("Then"),
        t("Due now"),
        title=t("Retention of records on %(day)s") % {"day": shown_day(day)},
    )
    for kind in result.kinds:
        table.add_row(
            shown(kind.kind),
            str(kind.years),
            Styled(t(kind.counted_from)),
            shown(kind.disposition),
            str(kind.due),
        )
    out.print(table)


@retention_app.command("dispose")
def retention_dispose(
    kind: Annotated[str, typer.Argument(help="A kind from the report, e.g. meeting")],
    reason: Annotated[str, typer.Option(help="The decision, as it will be recorded")],
    as_user: AsOption = None,
) -> None:
    """Dispose of every due record of a kind under a recorded decision."""
    with unit_of_work() as session:
        decision = retention.dispose(
            session,
            actor=actor_for(session, as_user),
            data=DispositionCreate(kind=kind, reason=reason),
            as_of=date.today(),
        )
        count, disposition, number = decision.count, decision.disposition, decision.id
    err.print(
        t("decision %(number)s: %(count)s records of the kind %(kind)s (%(disposition)s)")
        % {
            "number": number,
            "count": count,
            "kind": shown(kind),
            "disposition": shown(disposition),
        }
    )
