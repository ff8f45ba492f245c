"""`qms import` and `qms instruments`: evaluation results from files, unattended."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text as Styled

from qms import i18n
from qms.cli.common import (
    AsOption,
    actor_for,
    err,
    language,
    out,
    shown_number,
    t,
    unit_of_work,
)
from qms.errors import FieldError, ValidationFailed
from qms.evaluations import mappings, service
from qms.evaluations.models import BatchKind
from qms.evaluations.readers import ImportFile, detect_format
from qms.evaluations.schemas import BatchRead, InstrumentCreate
from qms.programmes import repository as programmes

import_app = typer.Typer(help="Import evaluation answers and outcomes.", no_args_is_help=True)
instruments_app = typer.Typer(help="Evaluation instruments.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
Partial = Annotated[bool, typer.Option("--partial", help="Write the good rows; list the rest.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")]
Source = Annotated[str | None, typer.Option(help="The client's own name and version.")]
Sheet = Annotated[str | None, typer.Option(help="XLSX: the sheet to read (default the first).")]
Delimiter = Annotated[
    str | None,
    typer.Option(help="CSV: comma, semicolon, tab or bar, when the file's own is not found."),
]
Encoding = Annotated[
    str | None,
    typer.Option(help="CSV: the file's encoding when not UTF-8 or UTF-16 (e.g. windows-1252)."),
]


def _report(batch: BatchRead) -> None:
    batch = service.in_language(batch, language())
    if batch.replayed:
        err.print(t("this content was imported before: batch %(batch)s") % {"batch": batch.id})
    counts = {
        "batch": batch.id,
        "rows": batch.rows_total,
        "written": batch.rows_written,
        "rejected": batch.rows_rejected,
        "digest": batch.sha256[:12],
    }
    if batch.dry_run:
        summary = t(
            "checked (dry run): %(rows)s rows, %(written)s written, %(rejected)s rejected "
            "(sha256 %(digest)s…)"
        )
    else:
        summary = t(
            "batch %(batch)s: %(rows)s rows, %(written)s written, %(rejected)s rejected "
            "(sha256 %(digest)s…)"
        )
    err.print(summary % counts)
    if batch.rejected:
        table = Table(t("Row"), t("Column"), t("Problem"), title=t("Rejected rows"))
        for r in batch.rejected:
            table.add_row(str(r.row or ""), Styled(r.column), Styled(r.message))
        out.print(table)


def _run(
    kind: BatchKind,
    path: Path,
    as_user: str | None,
    *,
    sheet: str | None,
    partial: bool,
    dry_run: bool,
    source: str | None,
    shape: str = "long",
    instrument: str | None = None,
    mapping: dict[str, str] | str | None = None,
    programme: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> None:
    with (
        unit_of_work() as session,
        # Everything is read here, the file checked too: the session above only writes, so the
        # write lock is held for the write alone and others keep writing while a file is checked.
        unit_of_work(write=False) as reading,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True
        ) as bar,
    ):
        task = bar.add_task(t("checking %(file)s") % {"file": path.name})

        def progress(rows: int) -> None:
            figures = {"file": path.name, "rows": shown_number(rows)}
            bar.update(task, description=t("checking %(file)s: %(rows)s rows") % figures)
            if not err.is_terminal and rows % 50_000 == 0:
                # Unattended runs get a line now and then in the log instead of the spinner.
                err.print(t("checked %(rows)s rows of %(file)s") % figures, markup=False)

        programme_id = None
        if programme is not None:
            found = programmes.get_by_code(reading, programme)
            if found is None:
                raise ValidationFailed(
                    i18n.Text("The programme to look participants up in does not exist."),
                    [
                        FieldError(
                            "programme",
                            i18n.Text("There is no programme %(code)s.", code=programme),
                        )
                    ],
                )
            programme_id = found.id
        mapping_id: int | None = None
        if isinstance(mapping, str):
            saved = mappings.get_by_name(reading, instrument=instrument, name=mapping)
            mapping, mapping_id = dict(saved.columns), saved.id
        batch = service.run_import(
            session,
            actor=actor_for(reading, as_user),
            kind=kind,
            source=ImportFile(
                path,
                path.name,
                detect_format(path.name, None),
                sheet,
                delimiter=delimiter,
                encoding=encoding,
            ),
            shape=shape,
            instrument=instrument,
            mapping=mapping,
            mapping_id=mapping_id,
            mode="partial" if partial else "all",
            dry_run=dry_run,
            client_source=source,
            programme_id=programme_id,
            progress=progress,
            reader=lambda: nullcontext(reading),
        )
    _report(batch)


@import_app.command("evaluations")
def import_evaluations(
    path: FileArgument,
    programme: Annotated[
        str | None, typer.Option(help="Look participants up in this programme (its code) only.")
    ] = None,
    shape: Annotated[str, typer.Option(help="long, or wide (one row per respondent)")] = "long",
    instrument: Annotated[
        str | None, typer.Option(help="Wide files: the instrument's code.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Wide files: a saved mapping's name, or a JSON or YAML file, column header -> "
            "code."
        ),
    ] = None,
    sheet: Sheet = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    partial: Partial = False,
    dry_run: DryRun = False,
    source: Source = None,
    as_user: AsOption = None,
) -> None:
    """Import evaluation answers from CSV, JSON or XLSX; every row is checked first."""
    columns: dict[str, str] | str | None = mapping
    if mapping is not None and Path(mapping).is_file():
        loaded = yaml.safe_load(Path(mapping).read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise typer.BadParameter(
                t("the mapping file must map column headers to question codes")
            )
        columns = {str(k): str(v) for k, v in loaded.items()}
    _run(
        BatchKind.evaluations,
        path,
        as_user,
        shape=shape,
        instrument=instrument,
        mapping=columns,
        sheet=sheet,
        partial=partial,
        dry_run=dry_run,
        source=source,
        programme=programme,
        delimiter=delimiter,
        encoding=encoding,
    )


@import_app.command("outcomes")
def import_outcomes(
    path: FileArgument,
    programme: Annotated[
        str | None, typer.Option(help="Look participants up in this programme (its code) only.")
    ] = None,
    sheet: Sheet = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    partial: Partial = False,
    dry_run: DryRun = False,
    source: Source = None,
    as_user: AsOption = None,
) -> None:
    """Import outcomes (participant, outcome, date, note) from CSV, JSON or XLSX."""
    _run(
        BatchKind.outcomes,
        path,
        as_user,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
        partial=partial,
        dry_run=dry_run,
        source=source,
        programme=programme,
    )


@instruments_app.command("load")
def instruments_load(path: FileArgument, as_user: AsOption = None) -> None:
    """Define instruments from a YAML or JSON file (one instrument, or a list of them)."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise typer.BadParameter(
            t("%(file)s is not valid YAML or JSON: %(problem)s")
            % {"file": path.name, "problem": exc}
        ) from exc
    items = data if isinstance(data, list) else [data]
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        codes = []
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise ValidationFailed(
                    i18n.Text("The file holds something that is not an instrument."),
                    [
                        FieldError(
                            "instrument",
                            i18n.Text(
                                "Write each instrument as a mapping of its fields "
                                "(code, name, respondent, questions)."
                            ),
                            row=index,
                        )
                    ],
                )
            codes.append(
                service.create_instrument(
                    session, actor=actor, data=InstrumentCreate.model_validate(item)
                ).code
            )
    err.print(t("defined %(codes)s") % {"codes": ", ".join(codes)}, markup=False)
