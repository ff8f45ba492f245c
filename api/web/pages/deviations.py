"""Deviations: the filtered list, logging one, the record with its timeline and its moves."""

from __future__ import annotations

from typing import IO, Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.exporting import ExportFormat, file_response
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
from api.web.pages import providers as provider_pages
from api.web.pages import risks as risk_pages
from qms import exports
from qms.accounts import service as accounts
from qms.actions import service as actions
from qms.actions.models import ActionType
from qms.actions.schemas import ActionCreate
from qms.comments import service as comments
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate
from qms.complaints import service as complaints
from qms.deviations import service
from qms.deviations.models import (
    DeviationKind,
    DeviationSource,
    DeviationStatus,
    RootCauseMethod,
    Severity,
)
from qms.deviations.repository import SORTS, DeviationFilter
from qms.deviations.schemas import DeviationCreate, DeviationTransition, DeviationUpdate
from qms.evidence import service as evidence
from qms.i18n import Text
from qms.pagination import MAX_LIMIT, each
from qms.permissions import Action
from qms.procedures.models import ProcedureVersion
from qms.programmes.models import Programme
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.workflow import DEVIATION

router = APIRouter(include_in_schema=False)
LOG_FIELDS = (
    "kind",
    "source",
    "severity",
    "title",
    "description",
    "immediate_containment",
    "programme_id",
    "procedure_version_id",
    "provider_id",
    "risk_id",
    "iso_clause",
    "due_on",
    "owner",
)
ACTION_FIELDS = ("type", "title", "action", "owner", "due_on", "effectiveness_check_on")


@router.get("/deviations")
def list_deviations(
    request: Request, page: Annotated[Page, page_for(Action.deviation_read)]
) -> Response:
    """The deviations, newest first, with the API's filters."""
    query = Params(request.query_params)
    filters = DeviationFilter(
        status=query.choice("status", DeviationStatus),
        severity=query.choice("severity", Severity),
        kind=query.choice("kind", DeviationKind),
        source=query.choice("source", DeviationSource),
        programme_id=query.number("programme_id"),
        owner_id=(page.actor.user_id or -1) if query.flag("mine") else None,
        detected_from=query.day("detected_from"),
        detected_to=query.day("detected_to"),
        q=query.text("q"),
        overdue=query.flag("overdue"),
        open=query.flag("open"),
        sort=query.sort("sort", SORTS),
    )
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def export(session: Session) -> IO[bytes]:
            every = each(
                lambda after: service.list_deviations(
                    session, actor=page.actor, filters=filters, limit=MAX_LIMIT, cursor=after
                )
            )
            return exports.spooled(
                wanted.value,
                exports.DEVIATION_COLUMNS,
                (service.to_read(d).model_dump(mode="json") for d in every),
                language=page.lang,
                title=page.t("Deviations"),
                names=exports.reference_names(session, exports.DEVIATION_COLUMNS),
            )

        return file_response(read(request, export), wanted.value, "deviations")

    def load(session: Session) -> tuple[Any, list[tuple[str, str]]]:
        found = service.list_deviations(
            session, actor=page.actor, filters=filters, limit=50, cursor=cursor
        )
        return found, options.programmes(session, page)

    found, programme_options = read(request, load)
    lang = page.lang
    return render(
        page,
        request,
        "deviations/list.html",
        section="deviations",
        rows=[service.to_read(d) for d in found.items],
        next_cursor=found.next_cursor,
        values=query.values(),
        errors=query.errors,
        options={
            "status": choices(DeviationStatus, lang, page.t("any")),
            "severity": choices(Severity, lang, page.t("any")),
            "kind": choices(DeviationKind, lang, page.t("any")),
            "source": choices(DeviationSource, lang, page.t("any")),
            "programme_id": [("", page.t("any")), *programme_options[1:]],
            "open": [("", page.t("any")), ("true", page.t("open")), ("false", page.t("closed"))],
            "mine": [("", page.t("anyone's")), ("true", page.t("mine"))],
            "overdue": [("", page.t("any")), ("true", page.t("yes")), ("false", page.t("no"))],
        },
    )


def _log_form(
    request: Request,
    page: Page,
    values: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    def load(
        session: Session,
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
        return (
            options.programmes(session, page),
            options.procedures(session, page),
            options.owners(session),
        )

    programme_options, procedure_options, owner_options = read(request, load)
    provider_options = read(request, lambda s: provider_pages.choices_for(s, page))
    risk_options = read(request, lambda s: risk_pages.choices_for(s, page))
    lang = page.lang
    return render(
        page,
        request,
        "deviations/new.html",
        section="deviations",
        values=values,
        refusal=refusal,
        options={
            "kind": choices(DeviationKind, lang),
            "source": choices(DeviationSource, lang),
            "severity": choices(Severity, lang),
            "programme_id": programme_options,
            "procedure_version_id": procedure_options,
            "provider_id": provider_options,
            "risk_id": risk_options,
            "owner": [("", page.t("(no owner)")), *owner_options],
        },
    )


@router.get("/deviations/new")
def new_deviation(
    request: Request, page: Annotated[Page, page_for(Action.deviation_log)]
) -> Response:
    """The form to log a deviation."""
    return _log_form(request, page, {"kind": "nonconformity", "source": "self_reported"})


@router.post("/deviations/new")
def log_deviation(
    request: Request, page: Annotated[Page, page_for(Action.deviation_log)], form: Form
) -> Response:
    """Log a deviation; on success, its record."""
    values = form_values(form, *LOG_FIELDS, "requirements")
    data = with_numbers(values, "programme_id", "procedure_version_id", "provider_id", "risk_id")
    data["requirements"] = split_list(values.get("requirements"))
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=DeviationCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _log_form(request, page, values, result)
    return see_other(f"/deviations/{result}")


def _record(
    request: Request,
    page: Page,
    deviation_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        deviation = service.get(session, actor=page.actor, deviation_id=deviation_id)
        linked = [actions.to_read(session, a) for a in deviation.actions]
        owners = options.owners(session)
        programme = session.get(Programme, deviation.programme_id or 0)
        version = session.get(ProcedureVersion, deviation.procedure_version_id or 0)
        provider = provider_pages.named(session, page, deviation.provider_id)
        return {
            "provider": provider,
            # What the links form offers: the open risks and the active providers, and the ones
            # named now even when they have moved on (a realised risk, an ended provider).
            "risk_choices": _with_current(
                risk_pages.choices_for(session, page),
                deviation.risk_id,
                deviation.risk.number if deviation.risk else None,
            ),
            "provider_choices": _with_current(
                provider_pages.choices_for(session, page), deviation.provider_id, provider
            ),
            # The complaint that opened it, linked back (for those who read complaints).
            "complaints": [
                (c.id, c.number)
                for c in complaints.opened(session, actor=page.actor, deviation_id=deviation.id)
            ],
            "deviation": service.to_read(deviation),
            "programme": f"{programme.code} · {programme.name}" if programme else None,
            "procedure": f"{version.procedure.code} v{version.number}" if version else None,
            "actions": linked,
            "events": service.history(session, actor=page.actor, deviation_id=deviation_id),
            # The timeline names records by their numbers, never by their ids.
            "numbers": {
                ("deviation", str(deviation.id)): deviation.number,
                **{("action", str(a.id)): a.number for a in deviation.actions},
            },
            "owners": owners,
            "evidence": [
                evidence.to_read(f)
                for f in evidence.list_files(
                    session, actor=page.actor, record="deviation", record_id=deviation.id
                )
            ],
            "comments": comments.to_reads(
                session,
                comments.all_comments(
                    session, record=CommentedRecord.deviation, record_id=deviation.id
                ),
            ),
            # Who someone is, by the name people read them by (one query for the page).
            "people": accounts.display_names(session),
            # What closing signs, shown before it is signed.
            "signing": signing.shown(
                session,
                page,
                {
                    "closed": (
                        SignatureMeaning.closed,
                        statements.deviation_closed(
                            deviation.number, summary=Text("[the closure summary written above]")
                        ),
                    )
                },
            ),
        }

    data = read(request, load)
    deviation = data["deviation"]
    moves = [
        move
        for move in DEVIATION.moves
        if move.source == deviation.status.value
        and move.target in deviation.allowed_transitions
        and page.can("deviation.transition")
    ]
    lang = page.lang
    return render(
        page,
        request,
        "deviations/record.html",
        section="deviations",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        moves=moves,
        options={
            "root_cause_method": choices(RootCauseMethod, lang, page.t("(not yet)")),
            "type": choices(ActionType, lang),
            "owner": data["owners"],
            "deviation_owner": [("", page.t("(no owner)")), *data["owners"]],
            "risk_id": data.pop("risk_choices"),
            "provider_id": data.pop("provider_choices"),
        },
        **data,
    )


def _with_current(
    choices: list[tuple[str, str]], current: int | None, named: str | None
) -> list[tuple[str, str]]:
    """The choices of a pick-list, with the value the record holds now among them."""
    if current is None or named is None or any(value == str(current) for value, _ in choices):
        return choices
    return [*choices, (str(current), named)]


@router.get("/deviations/{deviation_id:id}")
def deviation_record(
    request: Request, deviation_id: int, page: Annotated[Page, page_for(Action.deviation_read)]
) -> Response:
    """One deviation: its fields, actions, timeline, and the moves open to it."""
    return _record(request, page, deviation_id)


def _after(
    request: Request,
    page: Page,
    deviation_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, deviation_id, result, values, form_name)
    return see_other(f"/deviations/{deviation_id}")


@router.post("/deviations/{deviation_id:id}/move")
def move_deviation(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.deviation_transition)],
    form: Form,
) -> Response:
    """Move the deviation in its workflow (the form names the version it was read at)."""
    values = form_values(form, "to", "reason", "closure_summary", "no_action_reason")
    result = signing.perform_signed(
        request,
        page,
        form,
        lambda s, signature: service.transition(
            s,
            actor=page.actor,
            deviation_id=deviation_id,
            data=DeviationTransition.model_validate({**values, "signature": signature}),
            if_match=form_version(form),
        ),
    )
    return _after(request, page, deviation_id, f"move-{values.get('to')}", values, result)


@router.post("/deviations/{deviation_id:id}/root-cause")
def record_root_cause(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.deviation_write)],
    form: Form,
) -> Response:
    """Record the root-cause analysis (needed before a major or critical one needs action)."""
    values = form_values(form, "root_cause_method", "root_cause")
    result = perform(
        request,
        lambda s: service.update(
            s,
            actor=page.actor,
            deviation_id=deviation_id,
            data=DeviationUpdate.model_validate(values),
            if_match=form_version(form),
        ),
    )
    return _after(request, page, deviation_id, "root-cause", values, result)


@router.post("/deviations/{deviation_id:id}/actions")
def add_action(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.action_manage)],
    form: Form,
) -> Response:
    """Plan a corrective action on this deviation."""
    values = form_values(form, *ACTION_FIELDS)
    result = perform(
        request,
        lambda s: (
            actions.create(
                s,
                actor=page.actor,
                data=ActionCreate.model_validate({**values, "deviation_ids": [deviation_id]}),
            ).id
        ),
    )
    return _after(request, page, deviation_id, "action", values, result)


@router.post("/deviations/{deviation_id:id}/owner")
def set_owner(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.deviation_write)],
    form: Form,
) -> Response:
    """Give the deviation an owner, another one, or none."""
    values = form_values(form, "owner")
    result = perform(
        request,
        lambda s: service.update(
            s,
            actor=page.actor,
            deviation_id=deviation_id,
            data=DeviationUpdate.model_validate({"owner": values.get("owner") or None}),
            if_match=form_version(form),
        ),
    )
    return _after(request, page, deviation_id, "owner", values, result)


@router.post("/deviations/{deviation_id:id}/links")
def set_links(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.deviation_write)],
    form: Form,
) -> Response:
    """Name the risk the deviation realised and the external provider it is raised against."""
    values = form_values(form, "risk_id", "provider_id")
    data = with_numbers(values, "risk_id", "provider_id")
    # A reader who may not see the risks or the providers is offered no such field: what the
    # form does not carry stays as it is.
    changes = {name: data.get(name) or None for name in ("risk_id", "provider_id") if name in form}
    result = perform(
        request,
        lambda s: service.update(
            s,
            actor=page.actor,
            deviation_id=deviation_id,
            data=DeviationUpdate.model_validate(changes),
            if_match=form_version(form),
        ),
    )
    return _after(request, page, deviation_id, "links", values, result)


@router.post("/deviations/{deviation_id:id}/comments")
def add_comment(
    request: Request,
    deviation_id: int,
    page: Annotated[Page, page_for(Action.comment_write)],
    form: Form,
) -> Response:
    """Comment on the deviation; the comment is kept as written."""
    values = form_values(form, "text")
    result = perform(
        request,
        lambda s: (
            comments.add(
                s,
                actor=page.actor,
                record=CommentedRecord.deviation,
                record_id=deviation_id,
                data=CommentCreate.model_validate(values),
            ).id
        ),
    )
    return _after(request, page, deviation_id, "comment", values, result)


def refused(
    request: Request, page: Page, deviation_id: int, refusal: Refusal, form_name: str
) -> Response:
    """Show the deviation's page again with a refusal of one of its forms."""
    return _record(request, page, deviation_id, refusal, {}, form_name)
