"""Evidence files on the pages: attach one to a deviation or a corrective action, download one,
remove one while its record is open."""

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
from api.web.pages import deviations as deviation_pages
from qms.errors import FieldError, ValidationFailed
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


@router.post("/deviations/{deviation_id:id}/evidence")
def attach_to_deviation(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.deviation_write)],
    form: Form,
) -> Response:
    """Attach a file to the deviation as evidence."""
    result = _attach(request, page, form, "deviation", deviation_id)
    if isinstance(result, Refusal):
        return deviation_pages.refused(request, page, deviation_id, result, "evidence")
    return see_other(f"/deviations/{deviation_id}#h-evidence")


@router.post("/actions/{action_id:id}/evidence")
def attach_to_action(
    request: Request,
    action_id: int,
    page: Annotated[Page, page_for(Action.action_progress)],
    form: Form,
) -> Response:
    """Attach a file of its completion or verification to the corrective action."""
    result = _attach(request, page, form, "action", action_id)
    if isinstance(result, Refusal):
        return action_pages.refused(request, page, action_id, result, "evidence")
    return see_other(f"/actions/{action_id}#h-evidence")


_PAGES = {
    "deviation": "/deviations",
    "action": "/actions",
    "training_record": "/competence/records",
}


@router.post("/evidence/{file_id:id}/remove")
def remove(
    request: Request, file_id: int, page: Annotated[Page, page_for(Action.evidence_write)]
) -> Response:
    """Take a file off a record that is still open."""
    where = read(
        request,
        lambda s: (lambda f: (f.record, f.record_id))(
            service.get(s, actor=page.actor, file_id=file_id)
        ),
    )
    result = perform(request, lambda s: service.remove(s, actor=page.actor, file_id=file_id))
    record, record_id = where
    if isinstance(result, Refusal):
        if record == "deviation":
            return deviation_pages.refused(request, page, record_id, result, "evidence")
        if record == "action":
            return action_pages.refused(request, page, record_id, result, "evidence")
    return see_other(
        f"{_PAGES.get(record, '')}/{record_id}#h-evidence" if record in _PAGES else "/"
    )


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
