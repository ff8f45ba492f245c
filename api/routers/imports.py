"""Evaluation instruments and the unattended import of answers and outcomes."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse

from api.deps import IdPath, SessionDep, allowed, get_database
from api.exporting import EXPORT_RESPONSES, FormatQuery, exported, wanted
from api.problems import reader_language, responses
from api.uploads import import_folder, mapping_of, spool
from qms.db import Database
from qms.evaluations import mappings, service
from qms.evaluations.models import BatchKind
from qms.evaluations.readers import ImportFile, detect_format
from qms.evaluations.schemas import (
    BatchRead,
    InstrumentCreate,
    InstrumentRead,
    MappingCreate,
    MappingRead,
    Mode,
    RejectedRow,
    RollbackRequest,
    Shape,
)
from qms.exports import BATCH_COLUMNS, PROBLEM_COLUMNS
from qms.i18n import N_, said
from qms.pagination import MAX_LIMIT, PageRead, each
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["evaluations and imports"])
# The most batches one answer lists (their first problems included); a file holds every one.
MAX_BATCHES = 1000
# The language a batch's problems are said in: the client's Accept-Language, else English.
Language = Annotated[str, Depends(reader_language)]
# An import checks its file in a read unit of work of its own: the request's session only writes.
DatabaseDep = Annotated[Database, Depends(get_database)]


@router.get("/instruments", response_model=list[InstrumentRead], responses=responses(401, 403))
def list_instruments(
    actor: Annotated[Actor, allowed(Action.evaluation_read)], session: SessionDep
) -> list[InstrumentRead]:
    """List evaluation instruments with their questions."""
    return [
        InstrumentRead.model_validate(i) for i in service.list_instruments(session, actor=actor)
    ]


@router.post(
    "/instruments",
    status_code=201,
    response_model=InstrumentRead,
    responses=responses(401, 403, 409, 422),
)
def create_instrument(
    actor: Annotated[Actor, allowed(Action.instrument_write)],
    data: InstrumentCreate,
    session: SessionDep,
) -> InstrumentRead:
    """Define an evaluation instrument and its questions."""
    return InstrumentRead.model_validate(service.create_instrument(session, actor=actor, data=data))


InstrumentCode = Annotated[
    str, PathParam(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")
]


@router.get(
    "/instruments/{code}/mappings",
    response_model=list[MappingRead],
    responses=responses(401, 403, 404, 422),
)
def list_mappings(
    actor: Annotated[Actor, allowed(Action.evaluation_read)],
    code: InstrumentCode,
    session: SessionDep,
) -> list[MappingRead]:
    """List an instrument's saved mappings of survey columns to its questions."""
    return [mappings.to_read(m) for m in mappings.list_for(session, actor=actor, instrument=code)]


@router.post(
    "/instruments/{code}/mappings",
    status_code=201,
    response_model=MappingRead,
    responses=responses(401, 403, 404, 409, 422),
)
def create_mapping(
    actor: Annotated[Actor, allowed(Action.evaluation_import)],
    code: InstrumentCode,
    data: MappingCreate,
    session: SessionDep,
) -> MappingRead:
    """Save a mapping of a survey tool's columns to the instrument's questions, by name."""
    return mappings.to_read(mappings.create(session, actor=actor, instrument=code, data=data))


def _import(
    kind: BatchKind,
    actor: Actor,
    session: SessionDep,
    database: Database,
    response: Response,
    file: UploadFile,
    shape: str,
    instrument: str | None,
    mapping: str | None,
    sheet: str | None,
    file_format: str | None,
    mode: str,
    dry_run: bool,
    source: str | None,
    idempotency_key: str | None,
    delimiter: str | None = None,
    encoding: str | None = None,
    language: str = "en",
) -> BatchRead:
    name = file.filename or "upload"
    # Read, not written: the request's session is first used to write the batch.
    saved = None
    columns: dict[str, str] | None
    with database.unit_of_work(write=False) as reading:
        if mapping is not None and not mapping.lstrip().startswith("{"):
            saved = mappings.get_by_name(reading, instrument=instrument, name=mapping)
            columns = dict(saved.columns)
        else:
            columns = mapping_of(mapping)
    with import_folder() as folder:
        path = spool(file, folder)
        fmt = detect_format(name, file_format)
        result = service.run_import(
            session,
            actor=actor,
            kind=kind,
            source=ImportFile(
                path=path,
                name=name,
                format=fmt,
                sheet=sheet,
                delimiter=delimiter,
                encoding=encoding,
            ),
            shape=shape,
            instrument=instrument,
            mapping=columns,
            mapping_id=saved.id if saved is not None else None,
            mode=mode,
            dry_run=dry_run,
            client_source=source,
            idempotency_key=idempotency_key,
            reader=lambda: database.unit_of_work(write=False),
        )
        shutil.rmtree(folder, ignore_errors=True)
    response.status_code = 200 if (result.replayed or result.dry_run) else 201
    if result.id is not None:
        response.headers["Location"] = f"/api/v1/imports/{result.id}"
    return service.in_language(result, language)


DELIMITER_HELP = "CSV: comma, semicolon, tab or bar (default: found in the file)"
ENCODING_HELP = "CSV: e.g. windows-1252 (default: UTF-8, or UTF-16 by its byte-order mark)"

IMPORT_RESPONSES = {
    **responses(401, 403, 409, 413, 422),
    200: {"model": BatchRead, "description": "A dry run, or the batch this content made before"},
}


@router.post(
    "/imports/evaluations", status_code=201, response_model=BatchRead, responses=IMPORT_RESPONSES
)
def import_evaluations(
    actor: Annotated[Actor, allowed(Action.evaluation_import)],
    session: SessionDep,
    database: DatabaseDep,
    response: Response,
    language: Language,
    file: Annotated[UploadFile, File(description="CSV, JSON (array or JSON Lines) or XLSX")],
    shape: Annotated[Shape, Form()] = "long",
    instrument: Annotated[str | None, Form(max_length=32, description="for a wide file")] = None,
    mapping: Annotated[
        str | None,
        Form(
            max_length=20_000,
            description="wide: a saved mapping's name, or JSON header->code",
        ),
    ] = None,
    sheet: Annotated[str | None, Form(max_length=100, description="XLSX: the sheet")] = None,
    file_format: Annotated[str | None, Form(alias="format", max_length=8)] = None,
    delimiter: Annotated[str | None, Form(max_length=16, description=DELIMITER_HELP)] = None,
    encoding: Annotated[str | None, Form(max_length=32, description=ENCODING_HELP)] = None,
    mode: Annotated[
        Mode, Form(description="all: nothing if a row fails; partial: good rows")
    ] = "all",
    dry_run: Annotated[bool, Form()] = False,
    source: Annotated[str | None, Form(max_length=200, description="the client's own name")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    x_qms_client: Annotated[str | None, Header(max_length=200)] = None,
) -> BatchRead:
    """Import evaluation answers (long, or wide with a mapping); each row is checked first."""
    return _import(
        BatchKind.evaluations,
        actor,
        session,
        database,
        response,
        file,
        shape,
        instrument,
        mapping,
        sheet,
        file_format,
        mode,
        dry_run,
        source or x_qms_client,
        idempotency_key,
        delimiter,
        encoding,
        language,
    )


@router.post(
    "/imports/outcomes", status_code=201, response_model=BatchRead, responses=IMPORT_RESPONSES
)
def import_outcomes(
    actor: Annotated[Actor, allowed(Action.evaluation_import)],
    session: SessionDep,
    database: DatabaseDep,
    response: Response,
    language: Language,
    file: Annotated[UploadFile, File(description="participant, outcome, date, note")],
    sheet: Annotated[str | None, Form(max_length=100)] = None,
    file_format: Annotated[str | None, Form(alias="format", max_length=8)] = None,
    delimiter: Annotated[str | None, Form(max_length=16, description=DELIMITER_HELP)] = None,
    encoding: Annotated[str | None, Form(max_length=32, description=ENCODING_HELP)] = None,
    mode: Annotated[Mode, Form()] = "all",
    dry_run: Annotated[bool, Form()] = False,
    source: Annotated[str | None, Form(max_length=200)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    x_qms_client: Annotated[str | None, Header(max_length=200)] = None,
) -> BatchRead:
    """Import participants' outcomes (employed full or part time, education, job seeking, other)."""
    return _import(
        BatchKind.outcomes,
        actor,
        session,
        database,
        response,
        file,
        "long",
        None,
        None,
        sheet,
        file_format,
        mode,
        dry_run,
        source or x_qms_client,
        idempotency_key,
        delimiter,
        encoding,
        language,
    )


@router.post(
    "/imports/{batch_id:int}/rollback",
    response_model=BatchRead,
    responses=responses(401, 403, 404, 409, 422),
)
def rollback_batch(
    actor: Annotated[Actor, allowed(Action.import_rollback)],
    batch_id: IdPath,
    data: RollbackRequest,
    session: SessionDep,
    language: Language,
) -> BatchRead:
    """Roll a whole batch back, with the reason: its rows go, the batch stays on record."""
    batch = service.rollback(session, actor=actor, batch_id=batch_id, reason=data.reason)
    return service.in_language(service.batch_to_read(batch), language)


@router.get(
    "/imports",
    response_model=list[BatchRead],
    responses={**responses(401, 403, 422), **EXPORT_RESPONSES},
)
def list_batches(
    actor: Annotated[Actor, allowed(Action.evaluation_read)],
    session: SessionDep,
    language: Language,
    request: Request,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_BATCHES, description="how many of the newest batches to list"),
    ] = service.BATCHES_SHOWN,
    format: FormatQuery = None,
) -> list[BatchRead] | StreamingResponse:
    """List import batches, newest first (an importer sees its own): the newest `limit` of them;
    or take every batch as a file."""
    # JSON is this list's own answer (an array): only a spreadsheet is a file, of every batch.
    if (fmt := wanted(request, format)) and fmt != "json":
        return exported(
            request,
            fmt,
            stem="imports",
            title=N_("Imports"),
            columns=BATCH_COLUMNS,
            records=(
                service.batch_to_read(b).model_dump(mode="json", exclude={"rejected"})
                for b in service.list_batches(session, actor=actor, limit=None)
            ),
        )
    return [
        service.in_language(service.batch_to_read(b), language)
        for b in service.list_batches(session, actor=actor, limit=limit)
    ]


@router.get(
    "/imports/{batch_id:int}", response_model=BatchRead, responses=responses(401, 403, 404, 422)
)
def get_batch(
    actor: Annotated[Actor, allowed(Action.evaluation_read)],
    batch_id: IdPath,
    session: SessionDep,
    language: Language,
) -> BatchRead:
    """Return an import batch with its rejected rows, said in the client's language."""
    batch = service.get_batch(session, actor=actor, batch_id=batch_id)
    return service.in_language(service.batch_to_read(batch), language)


@router.get(
    "/imports/{batch_id:int}/problems",
    response_model=PageRead[RejectedRow],
    responses={**responses(401, 403, 404, 422), **EXPORT_RESPONSES},
)
def list_batch_problems(
    actor: Annotated[Actor, allowed(Action.evaluation_read)],
    batch_id: IdPath,
    session: SessionDep,
    request: Request,
    language: Language,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = None,
) -> PageRead[RejectedRow] | StreamingResponse:
    """List every problem of a batch by row and column, in the order found (the batch itself
    shows the first ones); or take them all as a file."""
    if fmt := wanted(request, format):
        every = each(
            lambda after: service.list_problems(
                session, actor=actor, batch_id=batch_id, limit=MAX_LIMIT, cursor=after
            )
        )
        return exported(
            request,
            fmt,
            stem=f"import-{batch_id}-problems",
            title=N_("Import problems"),
            columns=PROBLEM_COLUMNS,
            records=(
                {"row": p.row, "column": p.column, "message": said(p.message, language)}
                for p in every
            ),
        )
    page = service.list_problems(
        session, actor=actor, batch_id=batch_id, limit=limit, cursor=cursor
    )
    return PageRead[RejectedRow](
        items=[
            RejectedRow.model_construct(
                row=p.row, column=p.column, message=said(p.message, language)
            )
            for p in page.items
        ],
        next_cursor=page.next_cursor,
    )
