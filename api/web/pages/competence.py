"""Competence and awareness: the matrix of who has what and what is missing, the competences each
role needs, the training records, and the procedures still to be acknowledged as read and
understood."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.web import options
from api.web.core import (
    Form,
    Page,
    Params,
    Refusal,
    choices,
    form_values,
    form_version,
    page_for,
    perform,
    read,
    render,
    see_other,
    with_numbers,
)
from qms.accounts import service as accounts
from qms.competence import service
from qms.competence.models import CompetenceRole, ObtainedBy
from qms.competence.schemas import CompetenceCreate, CompetenceUpdate, TrainingRecordCreate
from qms.errors import FieldError, ValidationFailed
from qms.evidence import service as evidence
from qms.i18n import Text
from qms.pagination import MAX_LIMIT
from qms.permissions import Action

router = APIRouter(include_in_schema=False)
COMPETENCE_FIELDS = (
    "code",
    "role",
    "title",
    "description",
    "obtained_by",
    "renewal_months",
    "before_matching",
)
TRAINING_FIELDS = ("competence", "user", "participant", "completed_on", "given_by", "notes")


def _overview(
    request: Request,
    page: Page,
    *,
    role: str | None,
    programme_id: int | None,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        wanted = CompetenceRole(role) if role in set(CompetenceRole) else None
        matrix = service.matrix(session, actor=page.actor, role=wanted, programme_id=programme_id)
        pending = (
            service.list_acknowledgements(
                session, actor=page.actor, filters=service.AcknowledgementFilter(pending=True)
            )
            if page.can("procedure.read")
            else []
        )
        competences = service.list_competences(session, actor=page.actor)
        return {
            "matrix": matrix,
            "competences": competences,
            "pending": [service.acknowledgement_to_read(a) for a in pending],
            "programmes": options.programmes(session, page),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    by_role: dict[str, list[Any]] = {}
    for row in data["matrix"].rows:
        by_role.setdefault(row.role.value, []).append(row)
    codes = {r: [c for c in data["matrix"].competences if c.role.value == r] for r in by_role}
    return render(
        page,
        request,
        "competence/index.html",
        section="quality-system",
        by_role=by_role,
        codes=codes,
        role=role or "",
        programme_id=str(programme_id or ""),
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        values=values or {"obtained_by": "training"},
        form_name=form_name,
        options={
            "role": choices(CompetenceRole, page.lang),
            "filter_role": choices(CompetenceRole, page.lang, blank=page.t("Every role")),
            "obtained_by": choices(ObtainedBy, page.lang),
            "programme_id": [("", page.t("Every programme")), *data["programmes"][1:]],
        },
        **data,
    )


@router.get("/competence")
def competence_overview(
    request: Request,
    page: Annotated[Page, page_for(Action.competence_read)],
    role: str | None = None,
    programme_id: str | None = None,
) -> Response:
    """Who has each competence of their role, who let it expire, who lacks it; the
    acknowledgements outstanding."""
    # A number past any id names no programme: the page shows every programme, as for none.
    programme = Params({"programme_id": programme_id or ""}).number("programme_id")
    return _overview(request, page, role=role, programme_id=programme)


@router.post("/competence/new")
def create_competence(
    request: Request, page: Annotated[Page, page_for(Action.competence_write)], form: Form
) -> Response:
    """Add a competence a role needs; on success, the overview."""
    values = form_values(form, *COMPETENCE_FIELDS)
    data: dict[str, Any] = with_numbers(values, "renewal_months")
    data["before_matching"] = values.get("before_matching") == "on"
    result = perform(
        request,
        lambda s: (
            service.create_competence(
                s, actor=page.actor, data=CompetenceCreate.model_validate(data)
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _overview(
            request,
            page,
            role=None,
            programme_id=None,
            refusal=result,
            values=values,
            form_name="competence",
        )
    return see_other("/competence")


def _records(
    request: Request,
    page: Page,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        found = service.list_training_records(
            session, actor=page.actor, filters=service.TrainingFilter(), limit=MAX_LIMIT
        )
        return {
            "records": [service.training_to_read(r) for r in found.items],
            "competences": service.list_competences(session, actor=page.actor, active=True),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "competence/records.html",
        section="quality-system",
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        values=values or {},
        options={
            "competence": [("", "")]
            + [(c.code, f"{c.code} · {c.title}") for c in data["competences"]],
        },
        **data,
    )


@router.get("/competence/records")
def training_records(
    request: Request, page: Annotated[Page, page_for(Action.competence_read)]
) -> Response:
    """The training records, newest first, with when each expires; a form to record one."""
    return _records(request, page)


@router.post("/competence/records")
def record_training(
    request: Request, page: Annotated[Page, page_for(Action.competence_write)], form: Form
) -> Response:
    """Record a completed training of a user or a mentor; on success, the list."""
    values = form_values(form, *TRAINING_FIELDS)
    result = perform(
        request,
        lambda s: (
            service.record_training(
                s, actor=page.actor, data=TrainingRecordCreate.model_validate(values)
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _records(request, page, result, values)
    return see_other("/competence/records")


@router.post("/procedures/{procedure_id:id}/versions/{number:id}/acknowledge")
def acknowledge_version(
    request: Request,
    procedure_id: int,
    number: int,
    page: Annotated[Page, page_for(Action.procedure_acknowledge)],
    form: Form,
) -> Response:
    """Acknowledge the procedure version as read and understood; back to its page."""
    result = perform(
        request,
        lambda s: (
            service.acknowledge(s, actor=page.actor, procedure_id=procedure_id, number=number).id
        ),
    )
    if isinstance(result, Refusal):
        return see_other(f"/procedures/{procedure_id}?version={number}", saved=False)
    return see_other(f"/procedures/{procedure_id}?version={number}")


def _record(
    request: Request, page: Page, record_id: int, refusal: Refusal | None = None
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        record = service.get_training_record(session, actor=page.actor, record_id=record_id)
        return {
            "record": service.training_to_read(record),
            "files": evidence.list_files(
                session, actor=page.actor, record="training_record", record_id=record.id
            ),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "competence/record.html",
        section="quality-system",
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        form_name="evidence" if refusal else None,
        **data,
    )


@router.get("/competence/records/{record_id:id}")
def training_record(
    request: Request, record_id: int, page: Annotated[Page, page_for(Action.competence_read)]
) -> Response:
    """A training record: who completed what, when, given by whom, until when, and the files
    that show it."""
    return _record(request, page, record_id)


@router.post("/competence/records/{record_id:id}/evidence")
def attach_to_training_record(
    request: Request,
    record_id: int,
    page: Annotated[Page, page_for(Action.competence_write)],
    form: Form,
) -> Response:
    """Attach a certificate or an attendance list to the training record."""
    file = form.get("file")

    def change(session: Session) -> int:
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed(
                Text("Choose a file to attach."),
                [FieldError("file", Text("Choose a file to attach."))],
            )
        return evidence.attach(
            session,
            actor=page.actor,
            record="training_record",
            record_id=record_id,
            content=evidence.read_limited(file.file),
            file_name=file.filename,
        ).id

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _record(request, page, record_id, result)
    return see_other(f"/competence/records/{record_id}#h-evidence")


@router.post("/competence/{competence_id:id}/active")
def set_competence_active(
    request: Request,
    competence_id: int,
    page: Annotated[Page, page_for(Action.competence_write)],
    form: Form,
) -> Response:
    """Retire a competence no longer asked for, or ask for it again; back to the overview."""
    active = form.get("is_active") == "true"
    result = perform(
        request,
        lambda s: (
            service.update_competence(
                s,
                actor=page.actor,
                competence_id=competence_id,
                data=CompetenceUpdate(is_active=active),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _overview(
            request, page, role=None, programme_id=None, refusal=result, form_name="competence"
        )
    return see_other("/competence")
