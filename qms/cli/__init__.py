"""The `qms` command: set up the database, manage users and tokens, verify the trail, serve,
and work the quality records from a terminal.

Each command's module is imported only when the command runs (see qms.cli.lazy), so that a
command starts without importing every other's: the table below names where each lives and the
line of help `qms --help` lists for it (a test holds it to the command's own)."""

from __future__ import annotations

from typing import Annotated

import typer

from qms.cli.lazy import Entry, LazyGroup

COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "qms.cli.admin",
        "init",
        "Create or upgrade the database to the newest schema (QMS_DATABASE_URL).",
    ),
    "serve": Entry("qms.cli.admin", "serve", "Serve the API with uvicorn."),
    "demo": Entry(
        "qms.cli.admin",
        "demo",
        "Build the demo data set (two programmes), print tokens, and serve.",
    ),
    "backup": Entry(
        "qms.cli.admin",
        "backup",
        "Back up the database (SQLite: online backup; PostgreSQL: pg_dump).",
    ),
    "restore": Entry(
        "qms.cli.admin",
        "restore",
        "Restore a backup into an empty database, then verify the audit chain.",
    ),
    "users": Entry("qms.cli.admin", "users_app", "Users and their roles."),
    "tokens": Entry("qms.cli.admin", "tokens_app", "Bearer tokens: create, list, revoke."),
    "audit": Entry("qms.cli.admin", "audit_app", "The hash-chained audit trail."),
    "keys": Entry(
        "qms.cli.admin",
        "keys_app",
        "The audit trail's signing key: make it, show its public half.",
    ),
    "deviations": Entry(
        "qms.cli.quality",
        "deviations_app",
        "Deviations: log, list, show, update, move through the workflow.",
    ),
    "actions": Entry(
        "qms.cli.quality",
        "actions_app",
        "Corrective actions: list, show, start, done, verify, ineffective.",
    ),
    "objectives": Entry(
        "qms.cli.objectives",
        "objectives_app",
        "Quality objectives: list, add, move through the workflow.",
    ),
    "risks": Entry(
        "qms.cli.risks",
        "risks_app",
        "Risks and opportunities: list, add, rate, move through the workflow.",
    ),
    "providers": Entry(
        "qms.cli.providers",
        "providers_app",
        "External providers: list, add, evaluate.",
    ),
    "complaints": Entry(
        "qms.cli.complaints",
        "complaints_app",
        "Complaints: list, add, move through the workflow.",
    ),
    "context": Entry(
        "qms.cli.context",
        "context_app",
        "The context: issues and interested parties: list, add, add-party, review.",
    ),
    "scope": Entry(
        "qms.cli.context",
        "scope_app",
        "The scope of the quality system: show.",
    ),
    "competence": Entry(
        "qms.cli.competence",
        "competence_app",
        "Competence: list, add, train, matrix.",
    ),
    "acknowledge": Entry(
        "qms.cli.competence",
        "acknowledge",
        "Acknowledge the version in force of a procedure as read and understood.",
    ),
    "attach": Entry(
        "qms.cli.evidence",
        "attach",
        "Attach a file to a record as evidence; print its SHA-256.",
    ),
    "comments": Entry(
        "qms.cli.comments",
        "comments_app",
        "Comments on records: list and add (a correction is a new comment).",
    ),
    "participants": Entry(
        "qms.cli.records", "participants_app", "Participants: erase personal data."
    ),
    "meetings": Entry("qms.cli.records", "meetings_app", "Meetings: import from a spreadsheet."),
    "procedures": Entry(
        "qms.cli.procedures",
        "procedures_app",
        "Controlled procedures: sync the library, list.",
    ),
    "import": Entry("qms.cli.imports", "import_app", "Import evaluation answers and outcomes."),
    "instruments": Entry("qms.cli.imports", "instruments_app", "Evaluation instruments."),
    "frameworks": Entry(
        "qms.cli.system",
        "frameworks_app",
        "Requirement frameworks: ISO 9001:2015, EMCC ISMCP, MENTOR's Elements.",
    ),
    "retention": Entry(
        "qms.cli.system",
        "retention_app",
        "Retention: what is due for disposition, and disposing of it.",
    ),
    "check": Entry(
        "qms.cli.records",
        "check",
        "Run the rules that watch the records; each new finding opens a deviation, once.",
    ),
    "docs": Entry(
        "qms.cli.docs",
        "docs",
        "Issue a document (kept, and in the audit trail) and write it to a file.",
    ),
    "reminders": Entry(
        "qms.cli.notify",
        "reminders_app",
        "Reminders by e-mail: preview, send, status.",
    ),
    "scheduler": Entry(
        "qms.cli.notify",
        "scheduler",
        "Run the rule check and the reminders daily at QMS_SCHEDULE_AT (catching up at start).",
    ),
    "webhooks": Entry(
        "qms.cli.webhooks",
        "webhooks_app",
        "Outgoing webhooks: add, list, remove, test, send, status.",
    ),
}


class _Commands(LazyGroup):
    entries = COMMANDS


app = typer.Typer(
    cls=_Commands,
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
    # The models are mapped by the unit of work that queries them (qms.cli.common), so that a
    # command that reads without the ORM (a list) starts without them.
    from qms.cli.common import use_language

    use_language(language)


__all__ = ["COMMANDS", "app"]
