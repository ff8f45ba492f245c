"""`qms docs KIND`: issue a document to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from qms import i18n
from qms.audits.models import InternalAudit, ManagementReview
from qms.cli.common import (
    AsOption,
    actor_for,
    database_of_work,
    err,
    option_day,
    t,
    unit_of_work,
)
from qms.deviations import service as deviations
from qms.deviations.repository import DeviationFilter
from qms.documents import service
from qms.errors import FieldError, ValidationFailed
from qms.procedures import service as procedures
from qms.programmes import repository as programmes

# What a document of one programme asks for when none, or an unknown one, is named.
GIVE_PROGRAMME = i18n.Text("Give a programme's code, such as VIA-JOB.")


def docs(
    kind: Annotated[
        str,
        typer.Argument(
            help="deviation-register, deviation-report, capa-status, follow-up-report, "
            "quality-report, master-list, procedure, audit-pack, audit-report, "
            "management-review, management-review-input, evidence-map, context, risk-register, "
            "complaints-register, quality-objectives, external-providers, competence-matrix"
        ),
    ],
    reference: Annotated[
        str | None,
        typer.Argument(
            help="deviation-report: DEV-2026-0001; procedure: PR-05; follow-up-report: 2025; "
            "audit-report: IA-2026-0001; management-review: MR-2026-0001; evidence-map: EMCC"
        ),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="The .docx file to write.")] = Path(
        "document.docx"
    ),
    programme: Annotated[
        str | None,
        typer.Option(
            help="A programme's code, such as VIA-JOB. Required by follow-up-report, "
            "quality-report and audit-pack; limits deviation-register, capa-status, "
            "management-review-input and evidence-map to the programme."
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="procedure: a version (default the effective)")
    ] = None,
    period_from: Annotated[
        str | None,
        typer.Option("--from", help="management-review-input, evidence-map: YYYY-MM-DD"),
    ] = None,
    period_to: Annotated[
        str | None,
        typer.Option("--to", help="management-review-input, evidence-map: YYYY-MM-DD"),
    ] = None,
    language: Annotated[str, typer.Option(help="en, nb or sv")] = "en",
    as_user: AsOption = None,
) -> None:
    """Issue a document (kept, and in the audit trail) and write it to a file."""
    # What the document is of is read first; it is generated from one snapshot of the records
    # and issued in a short write, so a long document never holds up the people writing.
    with unit_of_work(write=False) as session:
        actor = actor_for(session, as_user)
        params: dict[str, Any] = {}
        programme_id = None
        if programme is not None:
            found = programmes.get_by_code(session, programme)
            if found is None:
                raise ValidationFailed(
                    i18n.Text("There is no programme %(code)s.", code=programme),
                    [
                        FieldError(
                            "programme", i18n.Text("Give a programme's code, such as VIA-JOB.")
                        )
                    ],
                )
            programme_id = found.id
        if kind == "deviation-register":
            params["filters"] = DeviationFilter(programme_id=programme_id)
        elif kind in (
            "capa-status",
            "risk-register",
            "quality-objectives",
            "external-providers",
            "competence-matrix",
        ):
            params["programme_id"] = programme_id
        elif kind == "complaints-register":
            params.update(
                programme_id=programme_id,
                period_start=option_day(period_from, "from"),
                period_end=option_day(period_to, "to"),
            )
        elif kind in ("follow-up-report", "audit-pack", "quality-report"):
            if programme_id is None:
                raise ValidationFailed(
                    i18n.Text("This document is of one programme: name it with --programme."),
                    [
                        FieldError(
                            "programme", i18n.Text("Give a programme's code, such as VIA-JOB.")
                        )
                    ],
                )
            if kind in ("audit-pack", "quality-report"):
                params["programme_id"] = programme_id
            else:
                code = (reference or "").upper()
                cohort = programmes.get_cohort_by_code(session, programme_id, code)
                if cohort is None:
                    raise ValidationFailed(
                        i18n.Text("The programme has no cohort %(code)s.", code=reference),
                        [FieldError("reference", i18n.Text("Give a cohort's code, such as 2025."))],
                    )
                params["cohort_id"] = cohort.id
        elif kind in ("management-review-input", "evidence-map"):
            params.update(
                programme_id=programme_id,
                period_start=option_day(period_from, "from"),
                period_end=option_day(period_to, "to"),
            )
            if kind == "evidence-map":
                params["framework"] = reference or "ISO9001"
            elif params["period_start"] is None or params["period_end"] is None:
                raise ValidationFailed(
                    i18n.Text("This document is of a period: give --from and --to."),
                    [FieldError("from", i18n.Text("Enter a date such as 2026-11-30."))],
                )
        elif kind in ("audit-report", "management-review"):
            model = InternalAudit if kind == "audit-report" else ManagementReview
            number = (reference or "").strip().upper()
            found_id = session.scalar(select(model.id).where(model.number == number))
            if found_id is None:
                raise ValidationFailed(
                    i18n.Text("There is no record %(number)s.", number=number or reference or "?"),
                    [
                        FieldError(
                            "reference",
                            i18n.Text("Give the record's number, such as IA-2026-0001."),
                        )
                    ],
                )
            params["audit_id" if kind == "audit-report" else "review_id"] = found_id
        elif kind in ("deviation-report", "procedure"):
            if reference is None:
                raise ValidationFailed(
                    i18n.Text("This document is of one record: give its number or code."),
                    [FieldError("reference", i18n.Text("Give the record's number or code."))],
                )
            if kind == "deviation-report":
                params["deviation_id"] = deviations.get_by_number(
                    session, actor=actor, number=reference
                ).id
            else:
                found_procedure = procedures.get_by_code(session, reference.upper())
                if found_procedure is None:
                    raise ValidationFailed(
                        i18n.Text("There is no procedure %(code)s.", code=reference),
                        [
                            FieldError(
                                "reference", i18n.Text("Give a procedure's code, such as PR-05.")
                            )
                        ],
                    )
                params.update(procedure_id=found_procedure.id, number=version)
    with database_of_work() as database:
        document = service.issue_from_snapshot(
            database, actor=actor, kind=kind, language=language, **params
        )
        output.write_bytes(document.content)
        issued, digest = document.id, document.sha256
    err.print(
        t("issued document %(number)s to %(file)s (sha256 %(digest)s…)")
        % {"number": issued, "file": output, "digest": digest[:12]},
        markup=False,
    )
