"""`qms procedures`: the procedure library at a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text

from qms.cli.common import AsOption, actor_for, err, out, unit_of_work
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
    table = Table(Column("file", no_wrap=True), "code", "result", "version", "detail")
    for item in report.items:
        table.add_row(item.file, item.code, item.result, str(item.version or ""), Text(item.detail))
    out.print(table)
    err.print(
        f"{report.count('created')} created, {report.count('drafted')} new drafts, "
        f"{report.count('draft updated')} drafts updated, {report.count('unchanged')} unchanged, "
        f"{report.count('skipped')} skipped"
    )


@procedures_app.command("list")
def procedures_list(
    review_due: Annotated[bool, typer.Option("--review-due", help="Only those due.")] = False,
    as_user: AsOption = None,
) -> None:
    """The master list: each procedure with its effective version and next review."""
    with unit_of_work(write=False) as session:
        rows = service.list_procedures(
            session, actor=actor_for(session, as_user), review_due=True if review_due else None
        )
        table = Table(
            Column("code", no_wrap=True),
            "title",
            "owner",
            "version",
            "status",
            "effective",
            "next review",
            "in the making",
        )
        for p in map(service.to_read, rows):
            table.add_row(
                p.code,
                Text(p.title),
                p.owner_role.value,
                str(p.effective_version or ""),
                p.status,
                str(p.effective_from or ""),
                Text(f"{p.next_review_on} due", style="red")
                if p.review_due
                else str(p.next_review_on or ""),
                str(p.open_version or ""),
            )
    out.print(table)
