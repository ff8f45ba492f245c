"""Documents: issue one from the records and download it; the register of those issued."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web import options
from api.web.core import (
    Form,
    Page,
    Params,
    Refusal,
    attempt,
    choices,
    page_for,
    read,
    render,
)
from qms import i18n
from qms.accounts import service as accounts
from qms.db import Database
from qms.deviations.models import DeviationStatus, Severity
from qms.deviations.repository import DeviationFilter
from qms.documents import service
from qms.documents.models import IssuedDocument
from qms.errors import FieldError, ValidationFailed
from qms.frameworks.catalogue import frameworks
from qms.i18n import Either
from qms.permissions import Action

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The kinds the pages offer, what each is asked for, and what it cannot do without.
KINDS = {
    "deviation-register": ("programme_id", "status", "severity", "detected_from", "detected_to"),
    "capa-status": ("programme_id",),
    "quality-objectives": ("programme_id",),
    "risk-register": ("programme_id",),
    "complaints-register": ("programme_id", "period_start", "period_end"),
    "competence-matrix": ("programme_id",),
    "external-providers": ("programme_id",),
    "master-list": (),
    "context": ("programme_id",),
    "quality-report": ("programme_id",),
    "follow-up-report": ("cohort_id",),
    "deviation-report": ("deviation_id",),
    "procedure": ("procedure_id", "number"),
    "audit-report": ("audit_id",),
    "management-review": ("review_id",),
    "management-review-input": ("programme_id", "period_start", "period_end"),
    "evidence-map": ("framework", "programme_id", "period_start", "period_end"),
    "audit-pack": ("programme_id", "period_from", "period_to"),
}
REQUIRED = {
    "quality-report": ("programme_id",),
    "follow-up-report": ("cohort_id",),
    "deviation-report": ("deviation_id",),
    "procedure": ("procedure_id",),
    "audit-report": ("audit_id",),
    "management-review": ("review_id",),
    "management-review-input": ("period_start", "period_end"),
    "evidence-map": ("framework",),
    "audit-pack": ("programme_id",),
}
DAYS = {"detected_from", "detected_to", "period_from", "period_to", "period_start", "period_end"}


def download(document: IssuedDocument) -> Response:
    """Answer with an issued document's bytes, as a download."""
    return Response(
        content=document.content,
        media_type="application/zip" if document.kind == "audit-pack" else DOCX,
        headers={
            "Content-Disposition": service.content_disposition(document.file_name),
            "X-Content-SHA256": document.sha256,
        },
    )


def _page(request: Request, page: Page, refusal: Refusal | None = None, kind: str = "") -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "issued": service.list_issued(session, actor=page.actor)[:100],
            "programmes": options.programmes(session, page),
            "cohorts": options.cohorts(session, page),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    lang = page.lang
    return render(
        page,
        request,
        "documents.html",
        section="documents",
        refusal=refusal,
        failed_kind=kind,
        options={
            "programme_id": data["programmes"],
            "cohort_id": data["cohorts"],
            "status": choices(DeviationStatus, lang, page.t("any")),
            "severity": choices(Severity, lang, page.t("any")),
            "language": list(i18n.NAMES.items()),
            "framework": [
                (code, f"{code} · {page.t(f.title)}") for code, f in frameworks().items()
            ],
        },
        issued=data["issued"],
        people=data["people"],
    )


@router.get("/documents")
def documents(request: Request, page: Annotated[Page, page_for(Action.document_read)]) -> Response:
    """The documents that can be issued, and those issued so far."""
    return _page(request, page)


def _parameters(form: Params, kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in KINDS[kind]:
        if name.endswith("_id") or name == "number":
            values[name] = form.number(name)
        elif name in DAYS:
            values[name] = form.day(name)
        elif name == "framework":
            known = frameworks()
            values[name] = form.text(name, 32)
            if values[name] is not None and values[name] not in known:
                form.errors[name] = "one of: " + ", ".join(known)
    for name in REQUIRED.get(kind, ()):
        if values.get(name) is None:
            form.errors.setdefault(name, "choose one")
    if kind == "deviation-register":
        return {
            "filters": DeviationFilter(
                programme_id=values["programme_id"],
                status=form.choice("status", DeviationStatus),
                severity=form.choice("severity", Severity),
                detected_from=values["detected_from"],
                detected_to=values["detected_to"],
            )
        }
    # A value left empty is passed as None: "all programmes" for the reports that allow it.
    return values


@router.post("/documents/issue")
def issue(
    request: Request, page: Annotated[Page, page_for(Action.document_generate)], form: Form
) -> Response:
    """Issue a document from the records as they stand, and download it."""
    params = Params(form)
    kind = params.text("kind") or ""
    language = params.text("language") or page.lang

    def work(database: Database) -> IssuedDocument:
        if kind not in KINDS:
            raise ValidationFailed(
                i18n.Text("The kind of document is not known."),
                [FieldError("kind", i18n.Text("Choose %(kinds)s.", kinds=Either(KINDS)))],
            )
        parameters = _parameters(params, kind)
        if params.errors:
            raise ValidationFailed(
                i18n.Text("The document cannot be issued as asked: correct the fields named."),
                [FieldError(k, v) for k, v in params.errors.items()],
            )
        # One consistent snapshot of the records, then a short write, as the REST API issues them.
        return service.issue_from_snapshot(
            database, actor=page.actor, kind=kind, language=language, **parameters
        )

    result = attempt(request, work)
    if isinstance(result, Refusal):
        return _page(request, page, result, kind)
    return download(result)


@router.get("/documents/{document_id:id}/file")
def issued_file(
    request: Request, document_id: int, page: Annotated[Page, page_for(Action.document_read)]
) -> Response:
    """Download exactly the bytes that were issued."""
    return read(
        request,
        lambda s: download(service.get_issued(s, actor=page.actor, document_id=document_id)),
    )
