"""Internal audits (ISO 9001 9.2): the programme of audits, planning one with its checklist,
answering the lines in the field (a 'no' raises a deviation), the findings, and its moves up to the
signed report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web import options, signing
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
    split_list,
    with_numbers,
)
from qms.accounts import service as accounts
from qms.audits import service
from qms.audits.models import AuditStatus, Conformity
from qms.audits.schemas import (
    AuditCreate,
    AuditUpdate,
    ChecklistLineCreate,
    LineAnswer,
    Transition,
)
from qms.comments import service as comments
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate
from qms.deviations.models import Severity
from qms.errors import FieldError, ValidationFailed
from qms.evidence import service as evidence
from qms.i18n import Text
from qms.permissions import Action
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.workflow import INTERNAL_AUDIT

router = APIRouter(include_in_schema=False)
PLAN_FIELDS = ("title", "scope", "programme_id", "start_on", "end_on")
LIST_FIELDS = ("criteria", "procedure_codes", "auditors", "auditees")
FINDINGS = ("strong_points", "improvement_points", "conclusion")


def checklist_of(text: str | None) -> list[dict[str, str]]:
    """Read a checklist typed one question a line: `question | PR-03 | MENTOR:monitoring`, the
    procedure and the requirement each optional (a part is a procedure when it looks like a code,
    a requirement when it names its framework)."""
    lines = []
    for number, typed in enumerate((text or "").splitlines(), start=1):
        parts = [part.strip() for part in typed.split("|")]
        if not parts[0]:
            if any(parts):
                raise ValidationFailed(
                    Text("A checklist line has no question."),
                    [
                        FieldError(
                            "checklist",
                            Text("Line %(number)s: write the question first.", number=number),
                        )
                    ],
                )
            continue
        line = {"question": parts[0]}
        for part in parts[1:]:
            if ":" in part:
                line["requirement"] = part
            elif part:
                line["procedure_code"] = part
        lines.append(line)
    return lines


@router.get("/audits")
def list_audits(
    request: Request, page: Annotated[Page, page_for(Action.internal_audit_read)]
) -> Response:
    """The internal audits, latest first, filtered by status."""
    query = Params(request.query_params)
    status = query.choice("status", AuditStatus)
    rows, people = read(
        request,
        lambda s: (
            [
                service.to_read(s, a)
                for a in service.list_audits(s, actor=page.actor, status=status)
            ],
            accounts.display_names(s),
        ),
    )
    return render(
        page,
        request,
        "audits/list.html",
        section="audits",
        rows=rows,
        people=people,
        values=query.values(),
        errors=query.errors,
        options={"status": choices(AuditStatus, page.lang, page.t("any"))},
    )


@router.get("/audits/new")
def new_audit(
    request: Request, page: Annotated[Page, page_for(Action.internal_audit_manage)]
) -> Response:
    """The form to plan an internal audit with its checklist."""
    return options.plan_form(request, page, "audits/new.html", "audits", {})


@router.post("/audits/new")
def plan_audit(
    request: Request, page: Annotated[Page, page_for(Action.internal_audit_manage)], form: Form
) -> Response:
    """Plan the audit (numbered IA-YYYY-NNNN); on success, its record."""
    values = form_values(form, *PLAN_FIELDS, *LIST_FIELDS, "checklist")
    data = with_numbers(values, "programme_id")
    data.pop("checklist", None)
    for name in LIST_FIELDS:
        data[name] = split_list(values.get(name))

    def change(session: Session) -> int:
        data["checklist"] = checklist_of(values.get("checklist"))
        return service.create(session, actor=page.actor, data=AuditCreate.model_validate(data)).id

    result = perform(request, change)
    if isinstance(result, Refusal):
        return options.plan_form(request, page, "audits/new.html", "audits", values, result)
    return see_other(f"/audits/{result}")


def _record(
    request: Request,
    page: Page,
    audit_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(s: Session) -> dict[str, Any]:
        found = service.to_read(s, service.get(s, actor=page.actor, audit_id=audit_id))
        # What closing signs, shown before it is signed.
        closing = statements.audit_closed(found.number, conclusion=found.conclusion)
        # Each checklist line's evidence files, and whether they may still change.
        files = evidence.files_of_lines(s, actor=page.actor, audit_id=found.id)
        return {
            "audit": found,
            "people": accounts.display_names(s),
            "signing": signing.shown(s, page, {"closed": (SignatureMeaning.closed, closing)}),
            "comments": comments.to_reads(
                s,
                comments.all_comments(s, record=CommentedRecord.internal_audit, record_id=found.id),
            ),
            "files_by_line": {
                line: [evidence.to_read(f) for f in kept] for line, kept in files.items()
            },
            "files_open": bool(found.lines)
            and evidence.changeable(
                s, actor=page.actor, record="checklist_line", record_id=found.lines[0].id
            ),
        }

    data = read(request, load)
    audit = data["audit"]
    moves = [
        move
        for move in INTERNAL_AUDIT.moves
        if move.source == audit.status.value and page.can("internal_audit.manage")
    ]
    return render(
        page,
        request,
        "audits/record.html",
        section="audits",
        moves=moves,
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        **data,
        options={
            "conforms": choices(Conformity, page.lang),
            "severity": choices(Severity, page.lang),
        },
    )


@router.get("/audits/{audit_id:id}")
def audit_record(
    request: Request, audit_id: int, page: Annotated[Page, page_for(Action.internal_audit_read)]
) -> Response:
    """One audit: its plan, its checklist with the answers and the deviations they raised, its
    findings, and the moves open to it."""
    return _record(request, page, audit_id)


def _after(
    request: Request,
    page: Page,
    audit_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
    anchor: str = "",
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, audit_id, result, values, form_name)
    return see_other(f"/audits/{audit_id}{anchor}")


@router.post("/audits/{audit_id:id}/lines")
def add_line(
    request: Request,
    audit_id: int,
    page: Annotated[Page, page_for(Action.internal_audit_manage)],
    form: Form,
) -> Response:
    """Add a question to the checklist (until the audit is reported)."""
    values = form_values(form, "question", "procedure_code", "requirement")
    result = perform(
        request,
        lambda s: (
            service.add_line(
                s,
                actor=page.actor,
                audit_id=audit_id,
                data=ChecklistLineCreate.model_validate(values),
            ).id
        ),
    )
    return _after(request, page, audit_id, "line", values, result, "#checklist")


@router.post("/audits/{audit_id:id}/lines/{line_id:id}")
def answer_line(
    request: Request,
    audit_id: int,
    line_id: int,
    page: Annotated[Page, page_for(Action.internal_audit_manage)],
    form: Form,
) -> Response:
    """Answer a line in the field; a 'no' raises a deviation of the severity chosen."""
    values = form_values(form, "conforms", "evidence", "comment", "severity")
    result = perform(
        request,
        lambda s: (
            service.answer_line(
                s,
                actor=page.actor,
                audit_id=audit_id,
                line_id=line_id,
                data=LineAnswer.model_validate(values),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, audit_id, f"line-{line_id}", values, result, f"#l-{line_id}")


@router.post("/audits/{audit_id:id}/findings")
def record_findings(
    request: Request,
    audit_id: int,
    page: Annotated[Page, page_for(Action.internal_audit_manage)],
    form: Form,
) -> Response:
    """Write the findings: strong points, points to improve, the conclusion."""
    values = {name: str(form.get(name) or "").strip() for name in FINDINGS}
    result = perform(
        request,
        lambda s: (
            service.update(
                s,
                actor=page.actor,
                audit_id=audit_id,
                data=AuditUpdate.model_validate(values),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, audit_id, "findings", values, result)


@router.post("/audits/{audit_id:id}/move")
def move_audit(
    request: Request,
    audit_id: int,
    page: Annotated[Page, page_for(Action.internal_audit_manage)],
    form: Form,
) -> Response:
    """Start, cancel, report, send back or close (signed) the audit."""
    values = form_values(form, "to", "reason")
    result = signing.perform_signed(
        request,
        page,
        form,
        lambda s, signature: (
            service.transition(
                s,
                actor=page.actor,
                audit_id=audit_id,
                data=Transition.model_validate({**values, "signature": signature}),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, audit_id, f"move-{values.get('to')}", values, result)


@router.post("/audits/{audit_id:id}/comments")
def add_comment(
    request: Request,
    audit_id: int,
    page: Annotated[Page, page_for(Action.comment_write)],
    form: Form,
) -> Response:
    """Comment on the internal audit; the comment is kept as written."""
    values = form_values(form, "text")
    result = perform(
        request,
        lambda s: (
            comments.add(
                s,
                actor=page.actor,
                record=CommentedRecord.internal_audit,
                record_id=audit_id,
                data=CommentCreate.model_validate(values),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, audit_id, result, values, "comment")
    return see_other(f"/audits/{audit_id}")


def refused(
    request: Request, page: Page, audit_id: int, refusal: Refusal, form_name: str
) -> Response:
    """Show the audit's page again with a refusal of one of its forms."""
    return _record(request, page, audit_id, refusal, {}, form_name)
