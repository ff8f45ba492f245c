"""The organisation's context, its interested parties and the scope of the quality system
(ISO 9001 4.1-4.3), and the quality policy in force (5.2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web import options
from api.web.core import (
    Form,
    Page,
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
from api.web.markdown import to_html
from qms.accounts import service as accounts
from qms.context import service
from qms.context.models import POLICY_CODE, IssueOrigin, IssueStatus, PartyKind
from qms.context.schemas import (
    ContextIssueCreate,
    ContextIssueUpdate,
    ContextReview,
    PartyCreate,
    PartyUpdate,
    ScopeUpdate,
)
from qms.i18n import Text
from qms.permissions import Action
from qms.procedures import service as procedures

router = APIRouter(include_in_schema=False)
ISSUE_FIELDS = ("origin", "title", "description", "effect", "programme_id", "next_review_on")
PARTY_FIELDS = ("name", "kind", "requirements", "how_met", "programme_id", "next_review_on")
# How many requirements not applicable the scope's form offers rows for.
EXCLUSION_ROWS = 5


def _programme_names(session: Session, page: Page) -> dict[int, str]:
    # A programme by its code in the tables, as the other registers show it.
    return {int(v): text.split(" · ")[0] for v, text in options.programmes(session, page)[1:]}


@router.get("/context")
def context_register(
    request: Request, page: Annotated[Page, page_for(Action.context_read)]
) -> Response:
    """The scope, the internal and external issues and the interested parties, with the reviews
    that are due."""

    def load(session: Session) -> dict[str, Any]:
        issues = service.list_issues(session, actor=page.actor, limit=200).items
        parties = service.list_parties(session, actor=page.actor, limit=200).items
        return {
            "scope": service.scope_to_read(service.get_scope(session, actor=page.actor)),
            "issues": [service.issue_to_read(i) for i in issues],
            "parties": [service.party_to_read(p) for p in parties],
            "programmes": _programme_names(session, page),
        }

    return render(
        page, request, "context/index.html", section="quality-system", **read(request, load)
    )


# Issues ------------------------------------------------------------------------------------


def _issue_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    programme_options = read(request, lambda s: options.programmes(s, page))
    return render(
        page,
        request,
        "context/issue_new.html",
        section="quality-system",
        values=values,
        refusal=refusal,
        options={"origin": choices(IssueOrigin, page.lang), "programme_id": programme_options},
    )


@router.get("/context/issues/new")
def new_issue(request: Request, page: Annotated[Page, page_for(Action.context_write)]) -> Response:
    """The form to record an internal or external issue."""
    return _issue_form(request, page, {"origin": "external"})


@router.post("/context/issues/new")
def create_issue(
    request: Request, page: Annotated[Page, page_for(Action.context_write)], form: Form
) -> Response:
    """Record an issue; on success, its record."""
    values = form_values(form, *ISSUE_FIELDS)
    data = with_numbers(values, "programme_id")
    result = perform(
        request,
        lambda s: (
            service.create_issue(
                s, actor=page.actor, data=ContextIssueCreate.model_validate(data)
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _issue_form(request, page, values, result)
    return see_other(f"/context/issues/{result}")


def _issue_record(
    request: Request,
    page: Page,
    issue_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        issue = service.get_issue(session, actor=page.actor, issue_id=issue_id)
        return {
            "issue": service.issue_to_read(issue),
            "events": service.history(
                session, actor=page.actor, entity="context_issue", entity_id=issue.id
            ),
            # The timeline names the record by its number, never by its id.
            "numbers": {("context_issue", str(issue.id)): issue.number},
            "programme_options": options.programmes(session, page),
            "programmes": _programme_names(session, page),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "context/issue.html",
        section="quality-system",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        options={
            "origin": choices(IssueOrigin, page.lang),
            "status": choices(IssueStatus, page.lang),
            "programme_id": data.pop("programme_options"),
        },
        **data,
    )


@router.get("/context/issues/{issue_id:id}")
def issue_record(
    request: Request, issue_id: int, page: Annotated[Page, page_for(Action.context_read)]
) -> Response:
    """One issue: its fields, its reviews and its timeline."""
    return _issue_record(request, page, issue_id)


@router.post("/context/issues/{issue_id:id}/edit")
def edit_issue(
    request: Request,
    issue_id: int,
    page: Annotated[Page, page_for(Action.context_write)],
    form: Form,
) -> Response:
    """Change the issue (the form names the version it was read at)."""
    values = form_values(form, *ISSUE_FIELDS, "status")
    data = with_numbers(values, "programme_id")
    data.setdefault("programme_id", None)
    result = perform(
        request,
        lambda s: service.update_issue(
            s,
            actor=page.actor,
            issue_id=issue_id,
            data=ContextIssueUpdate.model_validate(data),
            if_match=form_version(form),
        ),
    )
    if isinstance(result, Refusal):
        return _issue_record(request, page, issue_id, result, values, "edit")
    return see_other(f"/context/issues/{issue_id}")


@router.post("/context/issues/{issue_id:id}/review")
def review_issue(
    request: Request,
    issue_id: int,
    page: Annotated[Page, page_for(Action.context_write)],
    form: Form,
) -> Response:
    """Record a review of the issue and when it is reviewed next."""
    values = form_values(form, "note", "next_review_on")
    result = perform(
        request,
        lambda s: service.review_issue(
            s,
            actor=page.actor,
            issue_id=issue_id,
            data=ContextReview.model_validate(values),
            if_match=form_version(form),
        ),
    )
    if isinstance(result, Refusal):
        return _issue_record(request, page, issue_id, result, values, "review")
    return see_other(f"/context/issues/{issue_id}")


# Interested parties -------------------------------------------------------------------------


def _party_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    programme_options = read(request, lambda s: options.programmes(s, page))
    return render(
        page,
        request,
        "context/party_new.html",
        section="quality-system",
        values=values,
        refusal=refusal,
        options={"kind": choices(PartyKind, page.lang), "programme_id": programme_options},
    )


@router.get("/context/parties/new")
def new_party(request: Request, page: Annotated[Page, page_for(Action.context_write)]) -> Response:
    """The form to record an interested party."""
    return _party_form(request, page, {"kind": "mentees"})


@router.post("/context/parties/new")
def create_party(
    request: Request, page: Annotated[Page, page_for(Action.context_write)], form: Form
) -> Response:
    """Record an interested party; on success, its record."""
    values = form_values(form, *PARTY_FIELDS)
    data = with_numbers(values, "programme_id")
    result = perform(
        request,
        lambda s: (
            service.create_party(s, actor=page.actor, data=PartyCreate.model_validate(data)).id
        ),
    )
    if isinstance(result, Refusal):
        return _party_form(request, page, values, result)
    return see_other(f"/context/parties/{result}")


def _party_record(
    request: Request,
    page: Page,
    party_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        party = service.get_party(session, actor=page.actor, party_id=party_id)
        return {
            "party": service.party_to_read(party),
            "events": service.history(
                session, actor=page.actor, entity="interested_party", entity_id=party.id
            ),
            "numbers": {("interested_party", str(party.id)): party.number},
            "programme_options": options.programmes(session, page),
            "programmes": _programme_names(session, page),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "context/party.html",
        section="quality-system",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        options={
            "kind": choices(PartyKind, page.lang),
            "programme_id": data.pop("programme_options"),
        },
        **data,
    )


@router.get("/context/parties/{party_id:id}")
def party_record(
    request: Request, party_id: int, page: Annotated[Page, page_for(Action.context_read)]
) -> Response:
    """One interested party: its requirements, how they are met, its reviews and timeline."""
    return _party_record(request, page, party_id)


@router.post("/context/parties/{party_id:id}/edit")
def edit_party(
    request: Request,
    party_id: int,
    page: Annotated[Page, page_for(Action.context_write)],
    form: Form,
) -> Response:
    """Change the interested party (the form names the version it was read at)."""
    values = form_values(form, *PARTY_FIELDS)
    data = with_numbers(values, "programme_id")
    data.setdefault("programme_id", None)
    result = perform(
        request,
        lambda s: service.update_party(
            s,
            actor=page.actor,
            party_id=party_id,
            data=PartyUpdate.model_validate(data),
            if_match=form_version(form),
        ),
    )
    if isinstance(result, Refusal):
        return _party_record(request, page, party_id, result, values, "edit")
    return see_other(f"/context/parties/{party_id}")


@router.post("/context/parties/{party_id:id}/review")
def review_party(
    request: Request,
    party_id: int,
    page: Annotated[Page, page_for(Action.context_write)],
    form: Form,
) -> Response:
    """Record a review of the interested party and when it is reviewed next."""
    values = form_values(form, "note", "next_review_on")
    result = perform(
        request,
        lambda s: service.review_party(
            s,
            actor=page.actor,
            party_id=party_id,
            data=ContextReview.model_validate(values),
            if_match=form_version(form),
        ),
    )
    if isinstance(result, Refusal):
        return _party_record(request, page, party_id, result, values, "review")
    return see_other(f"/context/parties/{party_id}")


# Scope -------------------------------------------------------------------------------------


def _scope_form(
    request: Request,
    page: Page,
    values: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        scope = service.scope_to_read(service.get_scope(session, actor=page.actor))
        return {
            "scope": scope,
            # The scope is one record: its whole history, whatever its id.
            "events": service.scope_history(session, actor=page.actor),
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    scope = data["scope"]
    if values is None:
        values = {"coverage": scope.coverage}
        for i, exclusion in enumerate(scope.exclusions):
            values[f"clause_{i}"] = exclusion.clause
            values[f"reason_{i}"] = exclusion.reason
    rows = max(EXCLUSION_ROWS, len(scope.exclusions) + 1)
    return render(
        page,
        request,
        "context/scope.html",
        section="quality-system",
        values=values,
        refusal=refusal,
        rows=rows,
        **data,
    )


@router.get("/context/scope")
def scope_page(request: Request, page: Annotated[Page, page_for(Action.context_read)]) -> Response:
    """The scope of the quality system, its requirements not applicable, and when it changed."""
    return _scope_form(request, page)


@router.post("/context/scope")
def set_scope(
    request: Request, page: Annotated[Page, page_for(Action.context_write)], form: Form
) -> Response:
    """Set the scope and the requirements not applicable (rows left empty are left out)."""
    names = ["coverage"]
    for i in range(50):
        names += [f"clause_{i}", f"reason_{i}"]
    values = form_values(form, *names)
    exclusions = []
    for i in range(50):
        clause, reason = values.get(f"clause_{i}"), values.get(f"reason_{i}")
        if clause or reason:
            exclusions.append({"clause": clause or "", "reason": reason or ""})
    result = perform(
        request,
        lambda s: service.set_scope(
            s,
            actor=page.actor,
            data=ScopeUpdate.model_validate(
                {"coverage": values.get("coverage", ""), "exclusions": exclusions}
            ),
            if_match=form_version(form),
        ),
    )
    if isinstance(result, Refusal):
        return _scope_form(request, page, values, result)
    return see_other("/context/scope")


# The quality policy ------------------------------------------------------------------------


@router.get("/policy")
def policy_page(
    request: Request, page: Annotated[Page, page_for(Action.procedure_read)]
) -> Response:
    """The quality policy in force: its text, version, approval and history."""

    def load(session: Session) -> dict[str, Any]:
        procedure = service.policy_procedure(session)
        version = service.effective_policy(session)
        return {
            "procedure": procedures.to_read(procedure) if procedure else None,
            "shown": procedures.version_to_read(session, version) if version else None,
            "versions": [procedures.version_to_read(session, v) for v in procedure.versions]
            if procedure
            else [],
            "body": to_html(version.content) if version else None,
            "people": accounts.display_names(session),
        }

    return render(
        page,
        request,
        "context/policy.html",
        section="quality-system",
        code=POLICY_CODE,
        none_yet=Text(
            "No quality policy is in force yet: write it as procedure %(code)s and have it "
            "approved.",
            code=POLICY_CODE,
        ),
        **read(request, load),
    )
