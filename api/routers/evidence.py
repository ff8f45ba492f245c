"""Evidence files: upload to a deviation, an action, a checklist line, a follow-up, a review, a
procedure or a training record; list a record's files; download one byte for byte with its
SHA-256; remove one."""

from __future__ import annotations

import base64
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Response, UploadFile
from sqlalchemy.orm import Session

from api.deps import IdPath, SessionDep, allowed
from api.problems import responses
from qms.errors import NotFound
from qms.evidence import service
from qms.evidence.schemas import EvidenceRead
from qms.evidence.sniff import ALLOWED
from qms.i18n import Text
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1", tags=["evidence"])

LIST = {"response_model": list[EvidenceRead], "responses": responses(401, 403, 404, 422)}
POST = {
    "status_code": 201,
    "response_model": EvidenceRead,
    "responses": responses(401, 403, 404, 409, 413, 422),
}
FileField = Annotated[
    UploadFile,
    File(
        description="PDF, Office (.docx .xlsx .pptx), OpenDocument, PNG, JPEG, GIF, WebP, text, "
        "CSV or e-mail (.eml, .msg); the type is read from the content"
    ),
]
Purpose = Annotated[
    Literal["completion", "verification"] | None,
    Form(description="what the file shows: the work done, or the check that it worked"),
]


def _list(session: Session, actor: Actor, record: str, record_id: int) -> list[EvidenceRead]:
    files = service.list_files(session, actor=actor, record=record, record_id=record_id)
    return [service.to_read(f) for f in files]


def _upload(
    session: Session,
    actor: Actor,
    record: str,
    record_id: int,
    file: UploadFile,
    response: Response,
    purpose: str | None = None,
) -> EvidenceRead:
    content = service.read_limited(file.file)
    attached = service.attach(
        session,
        actor=actor,
        record=record,
        record_id=record_id,
        content=content,
        file_name=file.filename,
        purpose=purpose,
    )
    response.headers["Location"] = f"/api/v1/evidence/{attached.id}"
    return service.to_read(attached)


@router.get("/deviations/{deviation_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_deviation_evidence(
    actor: Annotated[Actor, allowed(Action.deviation_read)],
    deviation_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a deviation's evidence files with their SHA-256."""
    return _list(session, actor, "deviation", deviation_id)


@router.post("/deviations/{deviation_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_deviation_evidence(
    actor: Annotated[Actor, allowed(Action.deviation_write)],
    deviation_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
) -> EvidenceRead:
    """Attach a file to a deviation that is not closed."""
    return _upload(session, actor, "deviation", deviation_id, file, response)


@router.get("/actions/{action_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_action_evidence(
    actor: Annotated[Actor, allowed(Action.action_read)],
    action_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a corrective action's evidence files (completion and verification)."""
    return _list(session, actor, "action", action_id)


@router.post("/actions/{action_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_action_evidence(
    actor: Annotated[Actor, allowed(Action.action_progress)],
    action_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
    purpose: Purpose = None,
) -> EvidenceRead:
    """Attach a file to a corrective action not yet verified: of its completion or its check."""
    return _upload(session, actor, "action", action_id, file, response, purpose)


@router.get("/training-records/{record_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_training_record_evidence(
    actor: Annotated[Actor, allowed(Action.competence_read)],
    record_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a training record's evidence files (a certificate, an attendance list)."""
    return _list(session, actor, "training_record", record_id)


@router.post("/training-records/{record_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_training_record_evidence(
    actor: Annotated[Actor, allowed(Action.competence_write)],
    record_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
) -> EvidenceRead:
    """Attach a file that shows a training was completed."""
    return _upload(session, actor, "training_record", record_id, file, response)


def _line(session: Session, audit_id: int, line_id: int) -> None:
    if not service.line_in_audit(session, audit_id=audit_id, line_id=line_id):
        raise NotFound(
            Text(
                "The internal audit %(audit)s has no checklist line with the id %(id)s.",
                audit=audit_id,
                id=line_id,
            )
        )


@router.get("/audits/{audit_id}/lines/{line_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_line_evidence(
    actor: Annotated[Actor, allowed(Action.internal_audit_read)],
    audit_id: IdPath,
    line_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a checklist line's evidence files."""
    files = _list(session, actor, "checklist_line", line_id)
    _line(session, audit_id, line_id)
    return files


@router.post("/audits/{audit_id}/lines/{line_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_line_evidence(
    actor: Annotated[Actor, allowed(Action.internal_audit_manage)],
    audit_id: IdPath,
    line_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
) -> EvidenceRead:
    """Attach a file to a checklist line of an audit that is not closed."""
    service.target(session, actor=actor, record="checklist_line", record_id=line_id)
    _line(session, audit_id, line_id)
    return _upload(session, actor, "checklist_line", line_id, file, response)


@router.get("/follow-ups/{follow_up_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_follow_up_evidence(
    actor: Annotated[Actor, allowed(Action.followup_read)],
    follow_up_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a follow-up's evidence files."""
    return _list(session, actor, "follow_up", follow_up_id)


@router.post("/follow-ups/{follow_up_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_follow_up_evidence(
    actor: Annotated[Actor, allowed(Action.followup_write)],
    follow_up_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
) -> EvidenceRead:
    """Attach a file to a mid-programme follow-up."""
    return _upload(session, actor, "follow_up", follow_up_id, file, response)


@router.get("/reviews/{review_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_review_evidence(
    actor: Annotated[Actor, allowed(Action.review_read)],
    review_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a management review's evidence files."""
    return _list(session, actor, "management_review", review_id)


@router.post("/reviews/{review_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_review_evidence(
    actor: Annotated[Actor, allowed(Action.review_manage)],
    review_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
) -> EvidenceRead:
    """Attach a file to a management review that is not closed."""
    return _upload(session, actor, "management_review", review_id, file, response)


@router.get("/procedures/{procedure_id}/evidence", **LIST)  # type: ignore[arg-type]
def list_procedure_evidence(
    actor: Annotated[Actor, allowed(Action.procedure_read)],
    procedure_id: IdPath,
    session: SessionDep,
) -> list[EvidenceRead]:
    """List a procedure's external documents and evidence files."""
    return _list(session, actor, "procedure", procedure_id)


@router.post("/procedures/{procedure_id}/evidence", **POST)  # type: ignore[arg-type]
def upload_procedure_evidence(
    actor: Annotated[Actor, allowed(Action.procedure_write)],
    procedure_id: IdPath,
    file: FileField,
    session: SessionDep,
    response: Response,
) -> EvidenceRead:
    """Attach an external document or evidence file to a procedure."""
    return _upload(session, actor, "procedure", procedure_id, file, response)


@router.get(
    "/evidence/{file_id}", response_model=EvidenceRead, responses=responses(401, 403, 404, 422)
)
def get_evidence(
    actor: Annotated[Actor, allowed(Action.self_read)], file_id: IdPath, session: SessionDep
) -> EvidenceRead:
    """Return what is known of an evidence file: its record, name, type, size and SHA-256."""
    return service.to_read(service.get(session, actor=actor, file_id=file_id))


@router.get(
    "/evidence/{file_id}/content",
    response_class=Response,
    responses={
        200: {
            # Served as the type read from its content: one of the types uploads are allowed.
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in ALLOWED
            },
            "description": "The file's bytes as uploaded, served with its sniffed type",
        },
        **responses(401, 403, 404, 422),
    },
)
def download_evidence(
    actor: Annotated[Actor, allowed(Action.self_read)], file_id: IdPath, session: SessionDep
) -> Response:
    """Return an evidence file's bytes as uploaded, its SHA-256 in X-Content-SHA256."""
    file = service.get(session, actor=actor, file_id=file_id)
    content = service.content(session, file)
    digest = base64.b64encode(bytes.fromhex(file.sha256)).decode()
    return Response(
        content=content,
        media_type=file.media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{_ascii(file.file_name)}"; '
                f"filename*=UTF-8''{quote(file.file_name)}"
            ),
            "X-Content-SHA256": file.sha256,
            "Repr-Digest": f"sha-256=:{digest}:",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _ascii(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")


@router.delete("/evidence/{file_id}", status_code=204, responses=responses(401, 403, 404, 409, 422))
def remove_evidence(
    actor: Annotated[Actor, allowed(Action.evidence_write)], file_id: IdPath, session: SessionDep
) -> Response:
    """Take a file off a record that is not closed or signed; the removal is audit-trailed."""
    service.remove(session, actor=actor, file_id=file_id)
    return Response(status_code=204)
