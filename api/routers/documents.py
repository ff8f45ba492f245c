"""Documents: generate (and so issue) a .docx from the records; fetch an issued one again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict

from api.deps import IdPath, SessionDep, allowed, get_database
from api.problems import responses
from qms.db import Database
from qms.deviations.models import DeviationStatus, Severity
from qms.deviations.repository import DeviationFilter
from qms.documents import service
from qms.documents.models import IssuedDocument
from qms.fields import MAX_INT, IsoDate
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Language = Literal["en", "nb", "sv"]
ZIP = "application/zip"
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# The file a document answers with, typed as bytes for each media type so generated clients
# hand it over as a file: a .docx, the audit pack a zip, an issued copy either.
DOCX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {DOCX: _BINARY}, "description": "The issued document (.docx)"}
}
ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {ZIP: _BINARY}, "description": "The issued audit pack (.zip)"}
}
ISSUED_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {DOCX: _BINARY, ZIP: _BINARY},
        "description": "The issued file, as issued (an audit pack a zip, any other a .docx)",
    }
}


# Issuing opens its own units of work: a read of one snapshot, then a short write.
DatabaseDep = Annotated[Database, Depends(get_database)]


class IssuedRead(BaseModel):
    """An issued document's record (its bytes come from /issued/{id})."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    file_name: str
    as_of: datetime
    issued_at: datetime
    issued_by: str
    sha256: str
    data_sha256: str
    size_bytes: int


def _file(document: IssuedDocument) -> Response:
    return Response(
        content=document.content,
        media_type=ZIP if document.kind == "audit-pack" else DOCX,
        headers={
            "Content-Disposition": service.content_disposition(document.file_name),
            "X-Issued-Document": str(document.id),
            "X-Content-SHA256": document.sha256,
        },
    )


@router.get("/issued", response_model=list[IssuedRead], responses=responses(401, 403))
def list_issued(
    actor: Annotated[Actor, allowed(Action.document_read)], session: SessionDep
) -> list[IssuedRead]:
    """List the documents issued, newest first."""
    return [IssuedRead.model_validate(d) for d in service.list_issued(session, actor=actor)]


@router.get(
    "/issued/{document_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **ISSUED_RESPONSE},
)
def get_issued(
    actor: Annotated[Actor, allowed(Action.document_read)],
    document_id: IdPath,
    session: SessionDep,
) -> Response:
    """Return exactly the bytes that were issued, whatever has changed since."""
    return _file(service.get_issued(session, actor=actor, document_id=document_id))


@router.get(
    "/deviation-register",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def deviation_register(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    status: DeviationStatus | None = None,
    severity: Severity | None = None,
    detected_from: IsoDate | None = None,
    detected_to: IsoDate | None = None,
    language: Language = "en",
) -> Response:
    """Issue the deviation register for a period and filters."""
    filters = DeviationFilter(
        programme_id=programme_id,
        status=status,
        severity=severity,
        detected_from=detected_from,
        detected_to=detected_to,
    )
    document = service.issue_from_snapshot(
        database, actor=actor, kind="deviation-register", language=language, filters=filters
    )
    return _file(document)


@router.get(
    "/deviation-report/{deviation_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def deviation_report(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    deviation_id: IdPath,
    database: DatabaseDep,
    language: Language = "en",
) -> Response:
    """Issue the report of one deviation: fields, actions, timeline, signatures."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="deviation-report",
        language=language,
        deviation_id=deviation_id,
    )
    return _file(document)


@router.get(
    "/master-list",
    response_class=Response,
    responses={**responses(401, 403, 422), **DOCX_RESPONSE},
)
def master_list(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    language: Language = "en",
) -> Response:
    """Issue the master list of procedures."""
    return _file(
        service.issue_from_snapshot(database, actor=actor, kind="master-list", language=language)
    )


@router.get(
    "/procedure/{procedure_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def procedure(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    procedure_id: IdPath,
    database: DatabaseDep,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    language: Language = "en",
) -> Response:
    """Issue a controlled procedure (the effective version unless one is named)."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="procedure",
        language=language,
        procedure_id=procedure_id,
        number=version,
    )
    return _file(document)


@router.get(
    "/capa-status",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def capa_status(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the CAPA status report: open, overdue, verified and ineffective actions."""
    document = service.issue_from_snapshot(
        database, actor=actor, kind="capa-status", language=language, programme_id=programme_id
    )
    return _file(document)


@router.get(
    "/context",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def issue_context(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the context and scope of the quality system: the internal and external issues, the
    interested parties with their requirements and how they are met, the scope with the
    requirements not applicable and why, and the quality policy in force; with a programme, its
    issues and parties and the organisation's."""
    document = service.issue_from_snapshot(
        database, actor=actor, kind="context", language=language, programme_id=programme_id
    )
    return _file(document)


@router.get(
    "/competence-matrix",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def issue_competence_matrix(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the competence matrix: each role's competences, who has each, who let it expire,
    who lacks it (a programme's mentors when one is named), and the acknowledgements of
    procedures outstanding."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="competence-matrix",
        language=language,
        programme_id=programme_id,
    )
    return _file(document)


@router.get(
    "/external-providers",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def issue_external_providers(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the register of external providers: what each provides, its criteria, its last
    evaluation's score and date, the next date and the deviations raised against it."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="external-providers",
        language=language,
        programme_id=programme_id,
    )
    return _file(document)


@router.get(
    "/risk-register",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def issue_risk_register(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the register of risks and opportunities: the matrix before and after treatment as
    a chart, and each one's rating, treatment, actions and their state."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="risk-register",
        language=language,
        programme_id=programme_id,
    )
    return _file(document)


@router.get(
    "/complaints-register",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def issue_complaints_register(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    period_start: Annotated[IsoDate | None, Query(description="received on or after")] = None,
    period_end: Annotated[IsoDate | None, Query(description="received on or before")] = None,
    language: Language = "en",
) -> Response:
    """Issue the complaints register: each complaint with the days it was received,
    acknowledged and answered against their limits, its outcome and the deviation it opened;
    never who complained."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="complaints-register",
        language=language,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
    )
    return _file(document)


@router.get(
    "/quality-objectives",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def issue_quality_objectives(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the quality objectives: each one's target, owner, due date, status and plan, with
    the indicators that measure it planned against actual."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="quality-objectives",
        language=language,
        programme_id=programme_id,
    )
    return _file(document)


@router.get(
    "/follow-up-report/{cohort_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def follow_up_report(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    cohort_id: IdPath,
    database: DatabaseDep,
    language: Language = "en",
) -> Response:
    """Issue a cohort's mid-programme follow-up report (pair and participant codes only)."""
    document = service.issue_from_snapshot(
        database, actor=actor, kind="follow-up-report", language=language, cohort_id=cohort_id
    )
    return _file(document)


@router.get(
    "/audit-pack",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **ZIP_RESPONSE},
)
def audit_pack(
    actor: Annotated[Actor, allowed(Action.audit_read)],
    database: DatabaseDep,
    programme_id: Annotated[int, Query(ge=1, le=MAX_INT)],
    period_from: IsoDate | None = None,
    period_to: IsoDate | None = None,
    language: Language = "en",
) -> Response:
    """Issue the audit pack: documents, the trail as JSON Lines, its verification, a manifest."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="audit-pack",
        language=language,
        programme_id=programme_id,
        period_from=period_from,
        period_to=period_to,
    )
    return _file(document)


@router.get(
    "/quality-report/{programme_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def quality_report(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    programme_id: IdPath,
    database: DatabaseDep,
    period_start: IsoDate | None = None,
    period_end: IsoDate | None = None,
    language: Language = "en",
) -> Response:
    """Issue the programme quality report for a period (by default from the programme's first
    cohort to today): indicators planned vs actual, outcomes, answers, deviations."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="quality-report",
        language=language,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
    )
    return _file(document)


@router.get(
    "/audit-report/{audit_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def audit_report(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    audit_id: IdPath,
    database: DatabaseDep,
    language: Language = "en",
) -> Response:
    """Issue an internal audit's report: plan, checklist, findings, deviations, signatures."""
    document = service.issue_from_snapshot(
        database, actor=actor, kind="audit-report", language=language, audit_id=audit_id
    )
    return _file(document)


@router.get(
    "/management-review/{review_id}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def management_review(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    review_id: IdPath,
    database: DatabaseDep,
    language: Language = "en",
) -> Response:
    """Issue a management review: inputs, participants, decisions, conclusion, signature."""
    document = service.issue_from_snapshot(
        database, actor=actor, kind="management-review", language=language, review_id=review_id
    )
    return _file(document)


@router.get(
    "/management-review-input",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def management_review_input(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    database: DatabaseDep,
    period_start: IsoDate,
    period_end: IsoDate,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    language: Language = "en",
) -> Response:
    """Issue the ISO 9001 9.3.2 input for a period, compiled from the records."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="management-review-input",
        language=language,
        period_start=period_start,
        period_end=period_end,
        programme_id=programme_id,
    )
    return _file(document)


@router.get(
    "/evidence-map/{framework}",
    response_class=Response,
    responses={**responses(401, 403, 404, 422), **DOCX_RESPONSE},
)
def evidence_map(
    actor: Annotated[Actor, allowed(Action.document_generate)],
    framework: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")],
    database: DatabaseDep,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    period_start: IsoDate | None = None,
    period_end: IsoDate | None = None,
    language: Language = "en",
) -> Response:
    """Issue the evidence map of a framework: per requirement, what serves and evidences it."""
    document = service.issue_from_snapshot(
        database,
        actor=actor,
        kind="evidence-map",
        language=language,
        framework=framework,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
    )
    return _file(document)
