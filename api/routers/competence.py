"""Competence and awareness: competences each role needs, training records, the matrix, and the
read-and-understood acknowledgements of procedure versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import responses
from qms.competence import service
from qms.competence.columns import (
    ACKNOWLEDGEMENT_COLUMNS,
    COMPETENCE_COLUMNS,
    TRAINING_COLUMNS,
)
from qms.competence.models import CompetenceRole
from qms.competence.schemas import (
    AcknowledgementRead,
    CompetenceCreate,
    CompetenceMatrixRead,
    CompetenceRead,
    CompetenceUpdate,
    TrainingRecordCreate,
    TrainingRecordRead,
    TrainingRecordUpdate,
)
from qms.fields import MAX_INT, IsoDate
from qms.i18n import N_
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor
from qms.procedures import service as procedures

router = APIRouter(prefix="/api/v1", tags=["competence and awareness"])


@router.get(
    "/competences",
    response_model=list[CompetenceRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_competences(
    actor: Annotated[Actor, allowed(Action.competence_read)],
    session: SessionDep,
    request: Request,
    role: CompetenceRole | None = None,
    active: Annotated[bool | None, Query(description="true: those still asked for")] = None,
    format: FormatQuery = None,
) -> list[CompetenceRead] | StreamingResponse:
    """List the competences each role needs, by role and code; or take them as a file."""
    rows = [
        service.competence_to_read(c)
        for c in service.list_competences(session, actor=actor, role=role, active=active)
    ]
    # JSON is this list's own answer (an array, every item): only a spreadsheet is a file.
    if (fmt := wanted(request, format)) and fmt != "json":
        return exported(
            request,
            fmt,
            stem="competences",
            title=N_("Competences"),
            columns=COMPETENCE_COLUMNS,
            records=(r.model_dump(mode="json") for r in rows),
        )
    return rows


@router.post(
    "/competences",
    status_code=201,
    response_model=CompetenceRead,
    responses=responses(401, 403, 422),
)
def create_competence(
    actor: Annotated[Actor, allowed(Action.competence_write)],
    data: CompetenceCreate,
    session: SessionDep,
    response: Response,
) -> CompetenceRead:
    """Add a competence a role needs (a mentor's may be required before matching)."""
    competence = service.create_competence(session, actor=actor, data=data)
    response.headers["ETag"] = etag(competence.version)
    response.headers["Location"] = f"/api/v1/competences/{competence.id}"
    return service.competence_to_read(competence)


@router.get(
    "/competences/{competence_id}",
    response_model=CompetenceRead,
    responses=responses(401, 403, 404, 422),
)
def get_competence(
    actor: Annotated[Actor, allowed(Action.competence_read)],
    competence_id: IdPath,
    session: SessionDep,
    response: Response,
) -> CompetenceRead:
    """Return one competence; its ETag is the version to send back in If-Match."""
    competence = service.get_competence(session, actor=actor, competence_id=competence_id)
    response.headers["ETag"] = etag(competence.version)
    return service.competence_to_read(competence)


@router.patch(
    "/competences/{competence_id}",
    response_model=CompetenceRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_competence(
    actor: Annotated[Actor, allowed(Action.competence_write)],
    competence_id: IdPath,
    data: CompetenceUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> CompetenceRead:
    """Change a competence, or retire it; If-Match must carry the ETag it was read with."""
    competence = service.update_competence(
        session, actor=actor, competence_id=competence_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(competence.version)
    return service.competence_to_read(competence)


@router.get(
    "/training-records",
    response_model=PageRead[TrainingRecordRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_training_records(
    actor: Annotated[Actor, allowed(Action.competence_read)],
    session: SessionDep,
    request: Request,
    competence_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    user: Annotated[str | None, Query(max_length=100, description="a user's name")] = None,
    participant: Annotated[str | None, Query(max_length=16, description="a mentor's code")] = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    expired: Annotated[bool | None, Query(description="true: past their renewal")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[TrainingRecordRead] | StreamingResponse:
    """List training records, newest first, filtered; or take them all as a file."""
    filters = service.TrainingFilter(
        competence_id=competence_id,
        user=user,
        participant=participant,
        programme_id=programme_id,
        expired=expired,
    )
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_training_records(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem="training-records",
            title=N_("Training records"),
            columns=TRAINING_COLUMNS,
            records=(service.training_to_read(r).model_dump(mode="json") for r in every),
        )
    page = service.list_training_records(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor
    )
    return PageRead[TrainingRecordRead](
        items=[service.training_to_read(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/training-records",
    status_code=201,
    response_model=TrainingRecordRead,
    responses=responses(401, 403, 422),
)
def create_training_record(
    actor: Annotated[Actor, allowed(Action.competence_write)],
    data: TrainingRecordCreate,
    session: SessionDep,
    response: Response,
) -> TrainingRecordRead:
    """Record a completed training of a user or a mentor; it is numbered TR-YYYY-NNNN."""
    record = service.record_training(session, actor=actor, data=data)
    response.headers["ETag"] = etag(record.version)
    response.headers["Location"] = f"/api/v1/training-records/{record.id}"
    return service.training_to_read(record)


@router.get(
    "/training-records/{record_id}",
    response_model=TrainingRecordRead,
    responses=responses(401, 403, 404, 422),
)
def get_training_record(
    actor: Annotated[Actor, allowed(Action.competence_read)],
    record_id: IdPath,
    session: SessionDep,
    response: Response,
) -> TrainingRecordRead:
    """Return one training record; its ETag is the version to send back in If-Match."""
    record = service.get_training_record(session, actor=actor, record_id=record_id)
    response.headers["ETag"] = etag(record.version)
    return service.training_to_read(record)


@router.patch(
    "/training-records/{record_id}",
    response_model=TrainingRecordRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_training_record(
    actor: Annotated[Actor, allowed(Action.competence_write)],
    record_id: IdPath,
    data: TrainingRecordUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> TrainingRecordRead:
    """Correct a training record; If-Match must carry the ETag it was read with."""
    record = service.update_training_record(
        session, actor=actor, record_id=record_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(record.version)
    return service.training_to_read(record)


@router.get(
    "/competence-matrix",
    response_model=CompetenceMatrixRead,
    responses=responses(401, 403, 422),
)
def get_competence_matrix(
    actor: Annotated[Actor, allowed(Action.competence_read)],
    session: SessionDep,
    role: CompetenceRole | None = None,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    on: Annotated[IsoDate | None, Query(description="as of this day; default today")] = None,
) -> CompetenceMatrixRead:
    """Return who has each competence of their role, who let it expire and who lacks it."""
    return service.matrix(session, actor=actor, role=role, programme_id=programme_id, on=on)


@router.get(
    "/acknowledgements",
    response_model=list[AcknowledgementRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_acknowledgements(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    session: SessionDep,
    request: Request,
    procedure_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    user: Annotated[str | None, Query(max_length=100, description="a user's name")] = None,
    mine: Annotated[bool | None, Query(description="true: the caller's own")] = None,
    pending: Annotated[
        bool | None, Query(description="true: not yet acknowledged (the version in force)")
    ] = None,
    overdue: Annotated[bool | None, Query(description="true: pending past the due day")] = None,
    format: FormatQuery = None,
) -> list[AcknowledgementRead] | StreamingResponse:
    """List who was asked to acknowledge which procedure version, and who has."""
    filters = service.AcknowledgementFilter(
        procedure_id=procedure_id,
        user=actor.name if mine else user,
        pending=pending,
        overdue=overdue,
    )
    rows = [
        service.acknowledgement_to_read(a)
        for a in service.list_acknowledgements(session, actor=actor, filters=filters)
    ]
    if (fmt := wanted(request, format)) and fmt != "json":
        return exported(
            request,
            fmt,
            stem="acknowledgements",
            title=N_("Acknowledgements"),
            columns=ACKNOWLEDGEMENT_COLUMNS,
            records=(r.model_dump(mode="json") for r in rows),
        )
    return rows


@router.get(
    "/procedures/{procedure_id}/versions/{number}/acknowledgements",
    response_model=list[AcknowledgementRead],
    responses=responses(401, 403, 404, 422),
)
def list_version_acknowledgements(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    number: IdPath,
    session: SessionDep,
) -> list[AcknowledgementRead]:
    """List who was asked to acknowledge a procedure version, who has and who is overdue."""
    procedures.get_version(session, actor=actor, procedure_id=procedure_id, number=number)
    filters = service.AcknowledgementFilter(procedure_id=procedure_id, number=number)
    return [
        service.acknowledgement_to_read(a)
        for a in service.list_acknowledgements(session, actor=actor, filters=filters)
    ]


@router.post(
    "/procedures/{procedure_id}/versions/{number}/acknowledge",
    response_model=AcknowledgementRead,
    responses=responses(401, 403, 404, 409, 422),
)
def acknowledge_procedure_version(
    actor: Annotated[Actor, allowed(Action.procedure_acknowledge)],
    procedure_id: IdPath,
    number: IdPath,
    session: SessionDep,
) -> AcknowledgementRead:
    """Acknowledge the approved version of a procedure as read and understood."""
    acknowledgement = service.acknowledge(
        session, actor=actor, procedure_id=procedure_id, number=number
    )
    return service.acknowledgement_to_read(acknowledgement)
