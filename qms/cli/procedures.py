"""`qms procedures`: the procedure library at a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text as Styled

from qms.cli.common import (
    AsOption,
    FormatOption,
    ListFormat,
    actor_for,
    err,
    out,
    print_records,
    shown,
    shown_day,
    t,
    unit_of_work,
)
from qms.exports import PROCEDURE_COLUMNS
from qms.procedures import service
from qms.resources import procedures_dir

procedures_app = typer.Typer(
    help="Controlled procedures: sync the library, list.", no_args_is_help=True
)


@procedures_app.command("sync")
def procedures_sync(
    folder: Annotated[
        Path | None, typer.Argument(help="Default: the library that ships with the package.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Bring the library in: new files make procedures, changed files new drafts."""
    source = folder or procedures_dir()
    with unit_of_work() as session:
        report = service.sync(session, actor=actor_for(session, as_user), folder=source)
    table = Table(
        Column(t("File"), no_wrap=True), t("Code"), t("Result"), t("Version"), t("Detail")
    )
    for item in report.items:
        table.add_row(
            Styled(item.file),
            item.code,
            t(item.result),
            str(item.version or ""),
            Styled(t(item.detail) if item.detail else ""),
        )
    out.print(table)
    err.print(
        t(
            "%(created)s created, %(drafted)s new drafts, %(updated)s drafts updated, "
            "%(unchanged)s unchanged, %(skipped)s skipped"
        )
        % {
            "created": report.count("created"),
            "drafted": report.count("drafted"),
            "updated": report.count("draft updated"),
            "unchanged": report.count("unchanged"),
            "skipped": report.count("skipped"),
        }
    )
    elsewhere = report.count("changed elsewhere")
    if elsewhere:
        err.print(
            t(
                "%(count)s changed elsewhere: the system's versions stay, and nothing was drafted "
                "over them."
            )
            % {"count": elsewhere}
        )


@procedures_app.command("list")
def procedures_list(
    review_due: Annotated[bool, typer.Option("--review-due", help="Only those due.")] = False,
    as_user: AsOption = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """The master list: each procedure with its effective version and next review."""
    with unit_of_work(write=False) as session:
        rows = service.list_procedures(
            session, actor=actor_for(session, as_user), review_due=True if review_due else None
        )
        if format is not ListFormat.table:
            records = [service.to_read(p).model_dump(mode="json") for p in rows]
            print_records(format, PROCEDURE_COLUMNS, records)
            return
        table = Table(
            Column(t("Code"), no_wrap=True),
            t("Title"),
            t("Owner"),
            t("Version"),
            t("Status"),
            t("Effective from"),
            t("Next review"),
            t("In the making"),
        )
        for p in map(service.to_read, rows):
            table.add_row(
                p.code,
                Styled(p.title),
                shown(p.owner_role.value),
                str(p.effective_version or ""),
                shown(p.status),
                shown_day(p.effective_from),
                Styled(t("%(day)s (due)") % {"day": shown_day(p.next_review_on)}, style="red")
                if p.review_due
                else shown_day(p.next_review_on),
                str(p.open_version or ""),
            )
    out.print(table)
