"""External providers: the list with each one's last score and next evaluation, adding one, and
a provider's page with its evaluations, the deviations raised against it, an evaluation recorded
and a change of its status."""

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
from qms.errors import NotFound
from qms.permissions import Action
from qms.programmes.models import Programme
from qms.providers import service
from qms.providers.enums import EvaluationDecision, ProviderKind, ProviderStatus
from qms.providers.schemas import ProviderCreate, ProviderEvaluationCreate, ProviderUpdate

router = APIRouter(include_in_schema=False)
PROVIDER_FIELDS = (
    "code",
    "name",
    "kind",
    "provides",
    "criteria",
    "contact",
    "programme_id",
    "evaluation_months",
    "next_evaluation_on",
)
EVALUATION_FIELDS = ("evaluated_on", "score", "summary", "decision", "next_evaluation_on")
CHANGE_FIELDS = ("status", "status_reason", "evaluation_months", "next_evaluation_on")


def choices_for(session: Session, page: Page) -> list[tuple[str, str]]:
    """The providers a deviation may name, for the reader (first: none); none at all for a
    reader who may not see providers."""
    if not page.can("provider.read"):
        return []
    return [("", page.t("(none)"))] + [
        (str(p.id), f"{p.code} · {p.name}")
        for p in service.every(session, actor=page.actor)
        if p.status is not ProviderStatus.ended
    ]


def named(session: Session, page: Page, provider_id: int | None) -> str | None:
    """A provider as a deviation's page names it (code and name), if the reader may see it."""
    if provider_id is None or not page.can("provider.read"):
        return None
    try:
        provider = service.get(session, actor=page.actor, provider_id=provider_id)
    except NotFound:
        return None
    return f"{provider.code} · {provider.name}"


@router.get("/providers")
def list_providers(
    request: Request, page: Annotated[Page, page_for(Action.provider_read)]
) -> Response:
    """The external providers: what each provides, its status, last score and next evaluation."""

    def load(session: Session) -> list[tuple[Any, Any, str | None]]:
        rows = []
        for p in service.every(session, actor=page.actor):
            programme = session.get(Programme, p.programme_id) if p.programme_id else None
            rows.append((p, service.latest(p), programme.code if programme else None))
        return rows

    rows = read(request, load)
    return render(
        page,
        request,
        "providers/list.html",
        section="quality-system",
        rows=rows,
        today=service.today(),
    )


def _new_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    programmes = read(request, lambda s: options.programmes(s, page))
    return render(
        page,
        request,
        "providers/new.html",
        section="quality-system",
        values=values,
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        options={
            "kind": choices(ProviderKind, page.lang, blank=""),
            "programme_id": [("", page.t("The whole organisation")), *programmes[1:]],
        },
    )


@router.get("/providers/new")
def new_provider(
    request: Request, page: Annotated[Page, page_for(Action.provider_write)]
) -> Response:
    """The form to add an external provider."""
    return _new_form(request, page, {"evaluation_months": "12"})


@router.post("/providers/new")
def create_provider(
    request: Request, page: Annotated[Page, page_for(Action.provider_write)], form: Form
) -> Response:
    """Add the provider (approved); on success, its page."""
    values = form_values(form, *PROVIDER_FIELDS)
    data = with_numbers(values, "programme_id", "evaluation_months")
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=ProviderCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _new_form(request, page, values, result)
    return see_other(f"/providers/{result}")


def _record(
    request: Request,
    page: Page,
    provider_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        provider = service.get(session, actor=page.actor, provider_id=provider_id)
        programme = session.get(Programme, provider.programme_id) if provider.programme_id else None
        return {
            "provider": provider,
            "programme": programme,
            "evaluations": service.evaluations(session, actor=page.actor, provider_id=provider.id),
            "deviations": service.deviations(session, actor=page.actor, provider_id=provider.id)
            if page.can("deviation.read")
            else [],
            "overdue": service.is_overdue(provider, service.today()),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "providers/record.html",
        section="quality-system",
        refusal=refusal,
        errors=refusal.fields if refusal else {},
        values=values or {},
        form_name=form_name,
        options={
            "decision": choices(EvaluationDecision, page.lang, blank=""),
            "score": [("", "")] + [(str(n), str(n)) for n in range(5, 0, -1)],
            "status": choices(ProviderStatus, page.lang),
        },
        **data,
    )


@router.get("/providers/{provider_id:id}")
def provider_record(
    request: Request, provider_id: int, page: Annotated[Page, page_for(Action.provider_read)]
) -> Response:
    """An external provider: what it provides, its criteria, its evaluations and deviations."""
    return _record(request, page, provider_id)


def _after(
    request: Request,
    page: Page,
    provider_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, provider_id, result, values, form_name)
    return see_other(f"/providers/{provider_id}")


@router.post("/providers/{provider_id:id}/evaluations")
def evaluate_provider(
    request: Request,
    provider_id: int,
    page: Annotated[Page, page_for(Action.provider_write)],
    form: Form,
) -> Response:
    """Record an evaluation of the provider: its score, summary, decision and next date."""
    values = form_values(form, *EVALUATION_FIELDS)
    data = with_numbers(values, "score")
    result = perform(
        request,
        lambda s: (
            service.evaluate(
                s,
                actor=page.actor,
                provider_id=provider_id,
                data=ProviderEvaluationCreate.model_validate(data),
            ).id
        ),
    )
    return _after(request, page, provider_id, "evaluation", values, result)


@router.post("/providers/{provider_id:id}/change")
def change_provider(
    request: Request,
    provider_id: int,
    page: Annotated[Page, page_for(Action.provider_write)],
    form: Form,
) -> Response:
    """Change the provider's status (with the reason), its cycle or its next evaluation date."""
    values = form_values(form, *CHANGE_FIELDS)
    data = with_numbers(values, "evaluation_months")
    result = perform(
        request,
        lambda s: (
            service.update(
                s,
                actor=page.actor,
                provider_id=provider_id,
                data=ProviderUpdate.model_validate(data),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, provider_id, "change", values, result)
