"""The `qms` command: set up the database, manage users and tokens, verify the trail, serve,
and work the quality records from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from qms.cli import admin, docs, imports, procedures, quality, records, system
from qms.cli.common import use_language

app = typer.Typer(
    help="mentor-qms: a quality management system for mentor programmes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="en, nb or sv; default: QMS_LANGUAGE, else the locale (LANG), else en.",
        ),
    ] = None,
) -> None:
    """mentor-qms: a quality management system for mentor programmes."""
    use_language(language)


app.command()(admin.init)
app.command()(admin.serve)
app.command()(admin.demo)
app.command()(admin.backup)
app.command()(admin.restore)
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.tokens_app, name="tokens")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(quality.deviations_app, name="deviations")
app.add_typer(quality.actions_app, name="actions")
app.add_typer(records.participants_app, name="participants")
app.add_typer(records.meetings_app, name="meetings")
app.add_typer(procedures.procedures_app, name="procedures")
app.add_typer(imports.import_app, name="import")
app.add_typer(imports.instruments_app, name="instruments")
app.add_typer(system.frameworks_app, name="frameworks")
app.add_typer(system.retention_app, name="retention")
app.command()(records.check)
app.command()(docs.docs)

__all__ = ["app"]
