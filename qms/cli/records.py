"""`qms participants`, `qms meetings` and `qms check`: programme records at a terminal."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError as PydanticValidationError
from rich.table import Column, Table
from rich.text import Text as Styled

from qms import i18n
from qms.checks import service as checks
from qms.cli.common import (
    AsOption,
    actor_for,
    database_of_work,
    err,
    language,
    out,
    shown,
    shown_day,
    t,
    unit_of_work,
)
from qms.errors import FieldError, ValidationFailed
from qms.pairs import service as pairs
from qms.pairs.schemas import MeetingBulk
from qms.participants import service as participants

participants_app = typer.Typer(help="Participants: erase personal data.", no_args_is_help=True)
meetings_app = typer.Typer(help="Meetings: import from a spreadsheet.", no_args_is_help=True)

MEETING_COLUMNS = ("pair", "held_on", "minutes", "mode", "topics")


@participants_app.command("erase")
def participants_erase(
    code: Annotated[str, typer.Argument(help="e.g. P-0042")],
    reason: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    as_user: AsOption = None,
) -> None:
    """Blank a participant's personal data for good; every other record stays."""
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        participant = participants.get_by_code(session, actor=actor, code=code)
        participants.erase(session, actor=actor, participant_id=participant.id, reason=reason)
        erased = participant.code
    err.print(
        t("the personal data of %(code)s is erased; its records stay under the code")
        % {"code": erased}
    )


@meetings_app.command("import")
def meetings_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_user: AsOption = None,
) -> None:
    """Import meetings from a CSV file (pair,held_on,minutes,mode,topics): all rows or none."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;") if sample else csv.excel
        reader = csv.DictReader(handle, dialect=dialect)
        missing = [c for c in MEETING_COLUMNS[:4] if c not in (reader.fieldnames or [])]
        rows = list(reader)
    with unit_of_work() as session:
        if missing:
            raise ValidationFailed(
                i18n.Text("The file lacks required columns."),
                [
                    FieldError(
                        c, i18n.Text("The file has no column %(column)s: add it.", column=c), row=1
                    )
                    for c in missing
                ],
            )
        try:
            bulk = MeetingBulk.model_validate(
                {
                    "meetings": [
                        {k: (v or "").strip() for k, v in row.items() if k in MEETING_COLUMNS}
                        | {"minutes": _int(row.get("minutes"))}
                        for row in rows
                    ]
                }
            )
        except PydanticValidationError as exc:
            # Row numbers as the file counts them: the header is line 1.
            raise ValidationFailed(
                i18n.Text("Some rows do not match the columns' types."),
                [
                    FieldError(
                        str(e["loc"][-1]),
                        e["msg"],
                        row=int(e["loc"][1]) + 2 if len(e["loc"]) > 2 else None,
                    )
                    for e in exc.errors()
                ],
            ) from exc
        try:
            made = pairs.record_meetings(session, actor=actor_for(session, as_user), data=bulk)
        except ValidationFailed as exc:
            exc.errors = [FieldError(e.field, e.message, row=(e.row or 0) + 1) for e in exc.errors]
            raise
        count = len(made)
    err.print(
        t("%(count)s meeting(s) recorded from %(file)s") % {"count": count, "file": path.name},
        markup=False,
    )


def _int(value: str | None) -> int | str:
    text = (value or "").strip()
    return int(text) if text.lstrip("-").isdigit() else text


def check(
    on: Annotated[
        str | None, typer.Option(help="As of this date (YYYY-MM-DD); default today.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Run the rules that watch the records; each new finding opens a deviation, once."""
    # The rules read from one snapshot, outside the writers' turn; only the new findings'
    # deviations are written, in a short write.
    with database_of_work() as database:
        try:
            when = date.fromisoformat(on) if on else None
        except ValueError:
            raise ValidationFailed(
                i18n.Text("%(value)s is not a date.", value=on),
                [FieldError("on", i18n.Text("Enter the date as YYYY-MM-DD."))],
            ) from None
        with database.unit_of_work(write=False) as session:
            actor = actor_for(session, as_user)
        result = checks.run_from_snapshot(database, actor=actor, on=when, language=language())
    table = Table(
        Column(t("Finding"), no_wrap=True),
        t("Deviation"),
        t("Detail"),
        title=t("Rule check of %(day)s") % {"day": shown_day(result.on)},
    )
    for label, items in (
        (t("opened: %(finding)s"), result.opened),
        (t("cleared: %(finding)s"), result.cleared),
    ):
        for f in items:
            table.add_row(
                Styled(label % {"finding": _finding(f.rule, f.key)}),
                f.deviation_number,
                Styled(f.detail),
            )
    out.print(table)
    out.print(
        t("%(opened)s opened, %(skipped)s found before, %(cleared)s cleared")
        % {
            "opened": len(result.opened),
            "skipped": len(result.skipped),
            "cleared": len(result.cleared),
        }
    )


def _finding(rule: str, key: str) -> str:
    """Name a finding by its rule's label and what it is about (meeting rule VIA-JOB-07:2026-03)."""
    about = key.removeprefix(f"{rule}:")
    return f"{shown(rule)} {about}" if about != key else key
