"""Controlled procedures: the master list, versions, review and approval, diff, deviations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from api.signing import ReaderLanguage, in_language
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationRead
from qms.exports import PROCEDURE_COLUMNS
from qms.fields import MAX_INT
from qms.i18n import N_
from qms.permissions import Action, Actor
from qms.procedures import service
from qms.procedures.schemas import (
    DiffRead,
    DraftUpdate,
    ProcedureCreate,
    ProcedureDraftCreate,
    ProcedureRead,
    ReviewRequest,
    VersionRead,
    VersionTransition,
)

router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])


@router.get(
    "",
    response_model=list[ProcedureRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def master_list(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    session: SessionDep,
    request: Request,
    review_due: Annotated[bool | None, Query(description="only those due for review")] = None,
    format: FormatQuery = None,
) -> list[ProcedureRead] | StreamingResponse:
    """The master list: every procedure with its effective version, owner and review date; or
    taken as a file."""
    rows = service.list_procedures(session, actor=actor, review_due=review_due)
    # JSON is this list's own answer (an array, every item): only a spreadsheet is a file.
    if (fmt := wanted(request, format)) and fmt != "json":
        return exported(
            request,
            fmt,
            stem="procedures",
            title=N_("Procedures"),
            columns=PROCEDURE_COLUMNS,
            records=(service.to_read(p).model_dump(mode="json") for p in rows),
        )
    return [service.to_read(p) for p in rows]


@router.post(
    "", status_code=201, response_model=ProcedureRead, responses=responses(401, 403, 409, 422)
)
def create_procedure(
    actor: Annotated[Actor, allowed(Action.procedure_write)],
    data: ProcedureCreate,
    session: SessionDep,
) -> ProcedureRead:
    """Create a procedure with its first draft. The code POL-01 is the quality policy (ISO 9001
    5.2): versioned, approved and reviewed as a procedure, its version in force at GET
    /api/v1/policy."""
    return service.to_read(service.create(session, actor=actor, data=data))


@router.get(
    "/{procedure_id}", response_model=ProcedureRead, responses=responses(401, 403, 404, 422)
)
def get_procedure(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    session: SessionDep,
) -> ProcedureRead:
    """Return a procedure with its effective version."""
    return service.to_read(service.get(session, actor=actor, procedure_id=procedure_id))


@router.get(
    "/{procedure_id}/versions",
    response_model=list[VersionRead],
    responses=responses(401, 403, 404, 422),
)
def list_versions(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    session: SessionDep,
) -> list[VersionRead]:
    """List every version of a procedure, with signatures: its revision history."""
    procedure = service.get(session, actor=actor, procedure_id=procedure_id)
    return [service.version_to_read(session, v) for v in procedure.versions]


@router.post(
    "/{procedure_id}/versions",
    status_code=201,
    response_model=VersionRead,
    responses=responses(401, 403, 404, 409, 422),
)
def new_draft(
    actor: Annotated[Actor, allowed(Action.procedure_write)],
    procedure_id: IdPath,
    data: ProcedureDraftCreate,
    session: SessionDep,
    response: Response,
) -> VersionRead:
    """Start the next version as a draft (one draft at a time)."""
    version = service.new_draft(session, actor=actor, procedure_id=procedure_id, data=data)
    response.headers["ETag"] = etag(version.version)
    return service.version_to_read(session, version)


@router.get(
    "/{procedure_id}/versions/{number}",
    response_model=VersionRead,
    responses=responses(401, 403, 404, 422),
)
def get_version(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    number: IdPath,
    session: SessionDep,
    response: Response,
) -> VersionRead:
    """Return one version with its signatures."""
    version = service.get_version(session, actor=actor, procedure_id=procedure_id, number=number)
    response.headers["ETag"] = etag(version.version)
    return service.version_to_read(session, version)


@router.get(
    "/{procedure_id}/versions/{number}/content",
    response_class=PlainTextResponse,
    responses={
        **responses(401, 403, 404, 422),
        200: {"content": {"text/markdown": {}}, "description": "The version as Markdown"},
    },
)
def version_content(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    number: IdPath,
    session: SessionDep,
) -> PlainTextResponse:
    """Return the version as a Markdown file with its front matter."""
    version = service.get_version(session, actor=actor, procedure_id=procedure_id, number=number)
    return PlainTextResponse(
        service.rendered(version),
        media_type="text/markdown; charset=utf-8",
        headers={"ETag": etag(version.version), "X-Content-SHA256": version.content_sha256},
    )


@router.patch(
    "/{procedure_id}/versions/{number}",
    response_model=VersionRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_draft(
    actor: Annotated[Actor, allowed(Action.procedure_write)],
    procedure_id: IdPath,
    number: IdPath,
    data: DraftUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> VersionRead:
    """Change a draft; an approved version never changes (409)."""
    version = service.update_draft(
        session,
        actor=actor,
        procedure_id=procedure_id,
        number=number,
        data=data,
        if_match=if_match,
    )
    response.headers["ETag"] = etag(version.version)
    return service.version_to_read(session, version)


@router.post(
    "/{procedure_id}/versions/{number}/transitions",
    response_model=VersionRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_version(
    actor: Annotated[Actor, allowed(Action.procedure_write)],
    procedure_id: IdPath,
    number: IdPath,
    data: VersionTransition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
    language: ReaderLanguage,
) -> VersionRead:
    """Move a version: draft -> in_review -> approved (-> obsolete); in_review -> draft."""
    data.signature = in_language(data.signature, language)
    version = service.transition(
        session,
        actor=actor,
        procedure_id=procedure_id,
        number=number,
        data=data,
        if_match=if_match,
    )
    response.headers["ETag"] = etag(version.version)
    return service.version_to_read(session, version)


@router.post(
    "/{procedure_id}/review",
    response_model=VersionRead,
    responses=responses(401, 403, 404, 409, 422),
)
def review_procedure(
    actor: Annotated[Actor, allowed(Action.procedure_write)],
    procedure_id: IdPath,
    data: ReviewRequest,
    session: SessionDep,
    language: ReaderLanguage,
) -> VersionRead:
    """Record a periodic review with no change: signed, and the next review date moves on."""
    version = service.review(
        session,
        actor=actor,
        procedure_id=procedure_id,
        comment=data.comment,
        signature=in_language(data.signature, language),
    )
    return service.version_to_read(session, version)


@router.get(
    "/{procedure_id}/diff", response_model=DiffRead, responses=responses(401, 403, 404, 422)
)
def diff(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    session: SessionDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_INT)],
) -> DiffRead:
    """Return a unified diff between two versions."""
    return service.diff_versions(
        session,
        actor=actor,
        procedure_id=procedure_id,
        from_version=from_version,
        to_version=to_version,
    )


@router.get(
    "/{procedure_id}/deviations",
    response_model=list[DeviationRead],
    responses=responses(401, 403, 404, 422),
)
def procedure_deviations(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    session: SessionDep,
) -> list[DeviationRead]:
    """List the deviations linked to any version of the procedure."""
    rows = service.deviations_of(session, actor=actor, procedure_id=procedure_id)
    return [deviations.to_read(d) for d in rows]
