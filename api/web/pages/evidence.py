"""Evidence files on the pages: attach one to a deviation, a corrective action, an internal
audit's checklist line, a follow-up, a management review or a procedure; download one; remove one
while its record is open."""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.web.core import Form, Page, Refusal, page_for, perform, read, see_other
from api.web.pages import actions as action_pages
from api.web.pages import audits as audit_pages
from api.web.pages import deviations as deviation_pages
from api.web.pages import followups as follow_up_pages
from api.web.pages import procedures as procedure_pages
from api.web.pages import reviews as review_pages
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.evidence import service
from qms.i18n import Text
from qms.permissions import Action

router = APIRouter(include_in_schema=False)


def _attach(request: Request, page: Page, form: Form, record: str, record_id: int) -> object:
    file = form.get("file")
    purpose = form.get("purpose")

    def change(session: Session) -> int:
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed(
                Text("Choose a file to attach."),
                [FieldError("file", Text("Choose a file to attach."))],
            )
        content = service.read_limited(file.file)
        return service.attach(
            session,
            actor=page.actor,
            record=record,
            record_id=record_id,
            content=content,
            file_name=file.filename,
            purpose=purpose if isinstance(purpose, str) and purpose else None,
        ).id

    return perform(request, change)


def _attached(request: Request, page: Page, form: Form, record: str, record_id: int) -> Response:
    """Attach the form's file to the record; back to its page, with the refusal if refused."""
    result = _attach(request, page, form, record, record_id)
    if isinstance(result, Refusal):
        shown = _refused(request, page, record, record_id, 0, result)
        if shown is not None:
            return shown
    return see_other(f"{_PAGES[record]}/{record_id}#h-evidence")


@router.post("/deviations/{deviation_id:id}/evidence")
def attach_to_deviation(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.deviation_write)],
    form: Form,
) -> Response:
    """Attach a file to the deviation as evidence."""
    return _attached(request, page, form, "deviation", deviation_id)


@router.post("/actions/{action_id:id}/evidence")
def attach_to_action(
    request: Request,
    action_id: int,
    page: Annotated[Page, page_for(Action.action_progress)],
    form: Form,
) -> Response:
    """Attach a file of its completion or verification to the corrective action."""
    return _attached(request, page, form, "action", action_id)


@router.post("/audits/{audit_id:id}/lines/{line_id:id}/evidence")
def attach_to_line(
    request: Request,
    audit_id: int,
    line_id: int,
    page: Annotated[Page, page_for(Action.internal_audit_manage)],
    form: Form,
) -> Response:
    """Attach a file to a checklist line of the internal audit: what the auditor saw."""

    def line_of_audit(session: Session) -> None:
        # The line must be the audit's: the address names both.
        if not service.line_in_audit(session, audit_id=audit_id, line_id=line_id):
            raise NotFound(Text("There is no checklist line with the id %(id)s.", id=line_id))

    read(request, line_of_audit)
    result = _attach(request, page, form, "checklist_line", line_id)
    if isinstance(result, Refusal):
        return audit_pages.refused(request, page, audit_id, result, f"evidence-{line_id}")
    return see_other(f"/audits/{audit_id}#l-{line_id}")


@router.post("/follow-ups/{follow_up_id:id}/evidence")
def attach_to_follow_up(
    request: Request,
    follow_up_id: int,
    page: Annotated[Page, page_for(Action.followup_write)],
    form: Form,
) -> Response:
    """Attach a file to the follow-up: its minutes, a signed plan, an e-mail."""
    return _attached(request, page, form, "follow_up", follow_up_id)


@router.post("/reviews/{review_id:id}/evidence")
def attach_to_review(
    request: Request,
    review_id: int,
    page: Annotated[Page, page_for(Action.review_manage)],
    form: Form,
) -> Response:
    """Attach a file to the management review: minutes, a presentation, a report reviewed."""
    return _attached(request, page, form, "management_review", review_id)


@router.post("/procedures/{procedure_id:id}/evidence")
def attach_to_procedure(
    request: Request,
    procedure_id: int,
    page: Annotated[Page, page_for(Action.procedure_write)],
    form: Form,
) -> Response:
    """Attach a file to the procedure: an external document it relies on, a form it uses."""
    return _attached(request, page, form, "procedure", procedure_id)


_PAGES = {
    "deviation": "/deviations",
    "action": "/actions",
    "training_record": "/competence/records",
    "follow_up": "/follow-ups",
    "management_review": "/reviews",
    "procedure": "/procedures",
}


def _refused(
    request: Request, page: Page, record: str, record_id: int, audit_id: int, refusal: Refusal
) -> Response | None:
    """The record's page again with the refusal of its evidence form, for the records whose
    pages show one."""
    if record == "deviation":
        return deviation_pages.refused(request, page, record_id, refusal, "evidence")
    if record == "action":
        return action_pages.refused(request, page, record_id, refusal, "evidence")
    if record == "checklist_line":
        return audit_pages.refused(request, page, audit_id, refusal, f"evidence-{record_id}")
    if record == "follow_up":
        return follow_up_pages.refused(request, page, record_id, refusal, "evidence")
    if record == "management_review":
        return review_pages.refused(request, page, record_id, refusal, "evidence")
    if record == "procedure":
        return procedure_pages.refused(request, page, record_id, refusal, "evidence")
    return None


@router.post("/evidence/{file_id:id}/remove")
def remove(
    request: Request, file_id: int, page: Annotated[Page, page_for(Action.evidence_write)]
) -> Response:
    """Take a file off a record that is still open."""

    def where(session: Session) -> tuple[str, int, int]:
        file = service.get(session, actor=page.actor, file_id=file_id)
        # A checklist line's file is shown on its audit's page.
        audit_id = (
            service.target(
                session, actor=page.actor, record=file.record, record_id=file.record_id
            ).entity_id
            if file.record == "checklist_line"
            else 0
        )
        return file.record, file.record_id, audit_id

    record, record_id, audit_id = read(request, where)
    result = perform(request, lambda s: service.remove(s, actor=page.actor, file_id=file_id))
    refused = isinstance(result, Refusal)
    if isinstance(result, Refusal):
        shown = _refused(request, page, record, record_id, audit_id, result)
        if shown is not None:
            return shown
    if record == "checklist_line":
        return see_other(f"/audits/{audit_id}#l-{record_id}")
    back = f"{_PAGES[record]}/{record_id}#h-evidence" if record in _PAGES else "/"
    # A refusal the record's page cannot show is at least never said to be saved.
    return see_other(back, saved=not refused)


@router.get("/evidence/{file_id:id}")
def download(
    request: Request, file_id: int, page: Annotated[Page, page_for(Action.self_read)]
) -> Response:
    """Download an evidence file as it was uploaded, with its SHA-256."""

    def load(session: Session) -> tuple[str, str, str, bytes]:
        file = service.get(session, actor=page.actor, file_id=file_id)
        return file.file_name, file.media_type, file.sha256, service.content(session, file)

    name, media_type, sha256, content = read(request, load)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            ),
            "X-Content-SHA256": sha256,
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
