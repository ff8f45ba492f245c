"""Procedures: the master list; a procedure with its effective version, history and diff; and
document control — writing a new procedure or the next version, submitting it for review,
approval (signed, by someone other than the author), sending it back, periodic review, withdrawal.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web import signing
from api.web.changes import changes
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
from api.web.markdown import to_html
from qms.accounts import service as accounts
from qms.competence import service as acknowledgements
from qms.evidence import service as evidence
from qms.permissions import Action, Role
from qms.procedures import service
from qms.procedures.schemas import (
    DraftUpdate,
    ProcedureCreate,
    ProcedureDraftCreate,
    VersionTransition,
)
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.workflow import PROCEDURE_VERSION

router = APIRouter(include_in_schema=False)


@router.get("/procedures")
def master_list(
    request: Request, page: Annotated[Page, page_for(Action.procedure_read)]
) -> Response:
    """The master list: every procedure with its effective version and review date."""
    rows = read(
        request,
        lambda s: [service.to_read(p) for p in service.list_procedures(s, actor=page.actor)],
    )
    return render(page, request, "procedures/list.html", section="procedures", rows=rows)


DRAFT_FIELDS = ("title", "owner_role", "review_months", "iso_clauses", "requirements")


def _draft(form: Form, *, partial: bool = False) -> dict[str, Any]:
    """Read a version's fields from a form: lists by commas, the text as written.

    A browser sends a text area's line breaks as CRLF; the text is kept with LF, as the files of the
    procedure library have it, so that its hash and diffs do not change with the browser.
    """
    values = form_values(form, *DRAFT_FIELDS, "change_summary")
    data = with_numbers(values, "review_months")
    for name in ("iso_clauses", "requirements"):
        if name in values or not partial:
            data[name] = split_list(values.get(name))
    content = form.get("content")
    if isinstance(content, str) and (content.strip() or not partial):
        data["content"] = content.replace("\r\n", "\n").replace("\r", "\n")
    return data


def _options(page: Page) -> dict[str, list[tuple[str, str]]]:
    return {"owner_role": choices([r for r in Role if r is not Role.importer], page.lang)}


def _new_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    return render(
        page,
        request,
        "procedures/new.html",
        section="procedures",
        values=values,
        refusal=refusal,
        options=_options(page),
    )


@router.get("/procedures/new")
def new_procedure(
    request: Request, page: Annotated[Page, page_for(Action.procedure_write)]
) -> Response:
    """The form to write a new procedure (its first draft)."""
    return _new_form(request, page, {"owner_role": "quality_lead", "review_months": "12"})


@router.post("/procedures/new")
def create_procedure(
    request: Request, page: Annotated[Page, page_for(Action.procedure_write)], form: Form
) -> Response:
    """Create the procedure with its first draft; on success, the draft."""
    values = {**form_values(form, "code", *DRAFT_FIELDS, "change_summary")}
    values["content"] = form.get("content") or ""
    data = {**_draft(form), **form_values(form, "code")}
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=ProcedureCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _new_form(request, page, values, result)
    return see_other(f"/procedures/{result}?version=1")


def _record(
    request: Request,
    page: Page,
    procedure_id: int,
    number: int | None,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    """Render a procedure's page, with a refused form's values and messages when there is one."""
    query = Params(request.query_params)

    def load(session: Session) -> dict[str, Any]:
        found = service.get(session, actor=page.actor, procedure_id=procedure_id)
        versions = list(found.versions)
        shown = (
            service.get_version(session, actor=page.actor, procedure_id=found.id, number=number)
            if number is not None
            else service.effective(found) or versions[-1]
        )
        return {
            "procedure": service.to_read(found),
            "versions": [service.version_to_read(session, v) for v in versions],
            "shown": service.version_to_read(session, shown),
            "content": shown.content,
            "effective": service.effective(found) is shown,
            "body": to_html(shown.content),
            # Read and understood (ISO 9001 7.3): who was asked to acknowledge it, who has.
            "acknowledgements": [
                acknowledgements.acknowledgement_to_read(a)
                for a in acknowledgements.list_acknowledgements(
                    session,
                    actor=page.actor,
                    filters=acknowledgements.AcknowledgementFilter(
                        procedure_id=found.id, number=shown.number
                    ),
                )
            ],
            # Authors and approvers by the name people read them by.
            "people": accounts.display_names(session),
            # The procedure's files (external documents, forms): the same whatever version.
            "evidence": [
                evidence.to_read(f)
                for f in evidence.list_files(
                    session, actor=page.actor, record="procedure", record_id=found.id
                )
            ],
            "files_open": evidence.changeable(
                session, actor=page.actor, record="procedure", record_id=found.id
            ),
            # What approving and reviewing sign, shown before they are signed.
            "signing": signing.shown(
                session,
                page,
                {
                    "approved": (
                        SignatureMeaning.approved,
                        statements.procedure_approved(
                            found.code, version=shown.number, title=shown.title
                        ),
                    ),
                    "review": (
                        SignatureMeaning.reviewed,
                        statements.procedure_reviewed(
                            found.code, version=shown.number, title=shown.title
                        ),
                    ),
                },
            ),
        }

    data = read(request, load)
    shown = data["shown"]
    moves = [
        move
        for move in PROCEDURE_VERSION.moves
        if move.source == shown.status.value
        and move.target != "superseded"
        and page.can("procedure.write")
        # The author does not approve their own version: the form is not offered to them.
        and not (move.target == "approved" and shown.author == page.actor.name)
    ]
    return render(
        page,
        request,
        "procedures/record.html",
        section="procedures",
        errors=refusal.fields if refusal else query.errors,
        query_values=query.values(),
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        moves=moves,
        options=_options(page),
        **data,
    )


@router.get("/procedures/{procedure_id:id}")
def procedure(
    request: Request, procedure_id: int, page: Annotated[Page, page_for(Action.procedure_read)]
) -> Response:
    """A procedure: the version shown (the effective one unless another is asked for), its
    history, the changes between two versions, and the steps of document control open to it."""
    query = Params(request.query_params)
    if "from" in query.params and "to" in query.params:
        # The changes between two versions have their own page (an address of old).
        return see_other(
            f"/procedures/{procedure_id}/changes?{urlencode(query.values())}", saved=False
        )
    return _record(request, page, procedure_id, query.number("version"))


CHANGED_FIELDS = ("title", "owner_role", "review_months", "iso_clauses", "requirements")


@router.get("/procedures/{procedure_id:id}/changes")
def procedure_changes(
    request: Request, procedure_id: int, page: Annotated[Page, page_for(Action.procedure_read)]
) -> Response:
    """The changes between two versions of a procedure (`from` and `to`, by default the one
    before the latest and the latest): its fields, and its text rendered with what was added
    and removed marked."""
    query = Params(request.query_params)
    asked_from, asked_to = query.number("from"), query.number("to")

    def load(session: Session) -> dict[str, Any]:
        found = service.get(session, actor=page.actor, procedure_id=procedure_id)
        numbers = [v.number for v in found.versions]
        to = asked_to if asked_to is not None else numbers[-1]
        since = asked_from if asked_from is not None else max(to - 1, numbers[0])
        old, new = (
            service.get_version(session, actor=page.actor, procedure_id=found.id, number=n)
            for n in (since, to)
        )
        cues = {
            "added": page.t("Added: "),
            "removed": page.t("Removed: "),
            "changed": page.t("Changed:"),
        }
        return {
            "procedure": service.to_read(found),
            "numbers": numbers,
            "old": service.version_to_read(session, old),
            "new": service.version_to_read(session, new),
            "text": changes(old.content, new.content, cues),
            "same_text": old.content == new.content,
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    old, new = data["old"], data["new"]
    fields = [
        (name, getattr(old, name), getattr(new, name))
        for name in CHANGED_FIELDS
        if getattr(old, name) != getattr(new, name)
    ]
    return render(
        page,
        request,
        "procedures/changes.html",
        section="procedures",
        errors=query.errors,
        fields=fields,
        **data,
    )


def _after(
    request: Request,
    page: Page,
    procedure_id: int,
    number: int | None,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, procedure_id, number, result, values, form_name)
    shown = number if isinstance(result, bool) else result
    return see_other(f"/procedures/{procedure_id}" + (f"?version={shown}" if shown else ""))


@router.post("/procedures/{procedure_id:id}/drafts")
def start_draft(
    request: Request,
    procedure_id: int,
    page: Annotated[Page, page_for(Action.procedure_write)],
    form: Form,
) -> Response:
    """Start the next version as a draft, from the text of the version it follows."""
    data = _draft(form)
    result = perform(
        request,
        lambda s: (
            service.new_draft(
                s,
                actor=page.actor,
                procedure_id=procedure_id,
                data=ProcedureDraftCreate.model_validate(data),
            ).number
        ),
    )
    return _after(request, page, procedure_id, None, "next", _shown(form, data), result)


@router.post("/procedures/{procedure_id:id}/versions/{number:id}")
def edit_draft(
    request: Request,
    procedure_id: int,
    number: int,
    page: Annotated[Page, page_for(Action.procedure_write)],
    form: Form,
) -> Response:
    """Save changes to a draft (against the version of it the form was read at)."""
    data = _draft(form, partial=True)
    if form.get("acknowledge_roles_shown"):
        # The roles asked to acknowledge it once approved: every box ticked (none: no one).
        data["acknowledge_roles"] = [
            v for v in form.getlist("acknowledge_roles") if isinstance(v, str) and v.strip()
        ]
    result = perform(
        request,
        lambda s: (
            service.update_draft(
                s,
                actor=page.actor,
                procedure_id=procedure_id,
                number=number,
                data=DraftUpdate.model_validate(data),
                if_match=form_version(form),
            ).number
        ),
    )
    return _after(request, page, procedure_id, number, "edit", _shown(form, data), result)


@router.post("/procedures/{procedure_id:id}/versions/{number:id}/move")
def move_version(
    request: Request,
    procedure_id: int,
    number: int,
    page: Annotated[Page, page_for(Action.procedure_write)],
    form: Form,
) -> Response:
    """Submit, send back, approve (signed) or withdraw the version."""
    values = form_values(form, "to", "reason", "effective_from")
    form_name = f"move-{values.get('to')}"
    result = signing.perform_signed(
        request,
        page,
        form,
        lambda s, signature: (
            service.transition(
                s,
                actor=page.actor,
                procedure_id=procedure_id,
                number=number,
                data=VersionTransition.model_validate({**values, "signature": signature}),
                if_match=form_version(form),
            ).number
        ),
    )
    return _after(request, page, procedure_id, number, form_name, values, result)


@router.post("/procedures/{procedure_id:id}/review")
def review(
    request: Request,
    procedure_id: int,
    page: Annotated[Page, page_for(Action.procedure_write)],
    form: Form,
) -> Response:
    """Record a periodic review of the effective version that finds no need to change it."""
    values = form_values(form, "comment")
    result = signing.perform_signed(
        request,
        page,
        form,
        lambda s, signature: (
            service.review(
                s,
                actor=page.actor,
                procedure_id=procedure_id,
                comment=values.get("comment"),
                signature=signature,
            ).number
        ),
    )
    return _after(request, page, procedure_id, None, "review", values, result)


def _shown(form: Form, data: dict[str, Any]) -> dict[str, Any]:
    """Return what a refused version form shows again: as typed, lists as one line."""
    values = {k: v for k, v in data.items() if not isinstance(v, list)}
    for name in ("iso_clauses", "requirements"):
        typed = form.get(name)
        values[name] = typed if isinstance(typed, str) else ", ".join(data.get(name, []))
    return values


def refused(
    request: Request, page: Page, procedure_id: int, refusal: Refusal, form_name: str
) -> Response:
    """Show the procedure's page (its version in force) again with a refusal of one of its
    forms."""
    return _record(request, page, procedure_id, None, refusal, {}, form_name)
