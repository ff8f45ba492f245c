"""`qms attach`: attach a file to a record as evidence, from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qms.cli.common import AsOption, actor_for, err, out, t, unit_of_work


def attach(
    reference: Annotated[
        str,
        typer.Argument(
            help="The record: DEV-2026-0001, CA-2026-0001, IA-2026-0001/3 (a checklist line), "
            "MR-2026-0001, PR-04 or follow-up/12."
        ),
    ],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    purpose: Annotated[
        str | None,
        typer.Option(help="A corrective action's file: completion or verification."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The file's name as kept; default: the file's own.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Attach a file to a record as evidence; print its SHA-256."""
    from qms.evidence import service as evidence

    with path.open("rb") as handle:
        content = evidence.read_limited(handle, field=str(path))
    with unit_of_work() as session:
        actor = actor_for(session, as_user)
        found = evidence.find(session, actor=actor, reference=reference)
        kept = evidence.attach(
            session,
            actor=actor,
            record=found.record,
            record_id=found.record_id,
            content=content,
            file_name=name or path.name,
            purpose=purpose,
        )
        sha256, file_name, number = kept.sha256, kept.file_name, found.number
    out.print(sha256)
    err.print(
        t("%(file)s is attached to %(record)s as evidence") % {"file": file_name, "record": number}
    )
