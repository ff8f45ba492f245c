"""Corrective actions: the filtered list and the record, with its moves and verification."""

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
)
from qms import exports
from qms.accounts import service as accounts
from qms.actions import service
from qms.actions.models import ActionStatus, ActionType
from qms.actions.repository import SORTS, ActionFilter
from qms.actions.schemas import ActionTransition
from qms.comments import service as comments
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate
from qms.deviations import service as deviations
from qms.evidence import service as evidence
from qms.evidence.models import PURPOSES
from qms.i18n import Text, label
from qms.pagination import MAX_LIMIT, each
from qms.permissions import Action
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.workflow import ACTION

router = APIRouter(include_in_schema=False)
PROGRESS = ("in_progress", "done")
VERIFYING = ("verified_effective", "ineffective")
FOLLOW_ON = ("type", "title", "action", "owner", "due_on")


@router.get("/actions")
def list_actions(request: Request, page: Annotated[Page, page_for(Action.action_read)]) -> Response:
    """Corrective actions, newest first, with the API's filters."""
    query = Params(request.query_params)
    filters = ActionFilter(
        status=query.choice("status", ActionStatus),
        type=query.choice("type", ActionType),
        programme_id=query.number("programme_id"),
        due_from=query.day("due_from"),
        due_to=query.day("due_to"),
        overdue=query.flag("overdue"),
        owner_id=(page.actor.user_id or -1) if query.flag("mine") else None,
        sort=query.sort("sort", SORTS),
    )
    owner = query.text("owner", 100)
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def export(session: Session) -> IO[bytes]:
            every = each(
                lambda after: service.list_actions(
                    session,
                    actor=page.actor,
                    filters=filters,
                    owner=owner,
                    limit=MAX_LIMIT,
                    cursor=after,
                )
            )
            return exports.spooled(
                wanted.value,
                exports.ACTION_COLUMNS,
                (service.to_read(session, a, page.actor).model_dump(mode="json") for a in every),
                language=page.lang,
                title=page.t("Corrective actions"),
            )

        return file_response(read(request, export), wanted.value, "actions")

    def load(session: Session) -> tuple[Any, list[tuple[str, str]]]:
        found = service.list_actions(
            session, actor=page.actor, filters=filters, owner=owner, limit=50, cursor=cursor
        )
        rows = [service.to_read(session, a) for a in found.items]
        people = accounts.display_names(session, (a.owner for a in rows))
        return (rows, found.next_cursor, people), options.programmes(session, page)

    (rows, next_cursor, people), programme_options = read(request, load)
    lang = page.lang
    return render(
        page,
        request,
        "actions/list.html",
        section="actions",
        rows=rows,
        next_cursor=next_cursor,
        people=people,
        values=query.values(),
        errors=query.errors,
        options={
            "status": choices(ActionStatus, lang, page.t("any")),
            "type": choices(ActionType, lang, page.t("any")),
            "programme_id": [("", page.t("any")), *programme_options[1:]],
            "overdue": [("", page.t("any")), ("true", page.t("yes")), ("false", page.t("no"))],
            "mine": [("", page.t("anyone's")), ("true", page.t("mine"))],
        },
    )


def _record(
    request: Request,
    page: Page,
    action_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        action = service.get(session, actor=page.actor, action_id=action_id)
        return {
            "action": service.to_read(session, action, page.actor),
            "events": service.history(session, actor=page.actor, action_id=action_id),
            # The timeline names records by their numbers, never by their ids.
            "numbers": {("action", str(action.id)): action.number},
            "owners": options.owners(session),
            "evidence": [
                evidence.to_read(f)
                for f in evidence.list_files(
                    session, actor=page.actor, record="action", record_id=action.id
                )
            ],
            "comments": comments.to_reads(
                session,
                comments.all_comments(session, record=CommentedRecord.action, record_id=action.id),
            ),
            # Who someone is, by the name people read them by (one query for the page).
            "people": accounts.display_names(session),
            # What verifying signs, shown before it is signed.
            "signing": signing.shown(
                session,
                page,
                {
                    target: (
                        SignatureMeaning.verified,
                        statements.action_verified(
                            action.number,
                            effective=target == "verified_effective",
                            evidence=Text("[the evidence written above]"),
                        ),
                    )
                    for target in VERIFYING
                },
            ),
        }

    data = read(request, load)
    action = data["action"]
    mine = action.owner == page.actor.name
    moves = [
        m
        for m in ACTION.moves
        if m.source == action.status.value
        and m.target in action.allowed_transitions
        and (
            (
                page.can("action.manage")
                and not (mine and m.target in ("verified_effective", "ineffective"))
            )
            or (page.can("action.progress") and mine and m.target in PROGRESS)
        )
    ]
    return render(
        page,
        request,
        "actions/record.html",
        section="actions",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        moves=moves,
        early=bool(
            action.effectiveness_check_on and action.effectiveness_check_on > deviations.today()
        ),
        options={
            "type": choices(ActionType, page.lang),
            "owner": data["owners"],
        },
        # What an evidence file of the action shows: the work done, or the check that it worked.
        purposes=[(p, label(p, page.lang)) for p in PURPOSES],
        **data,
    )


@router.get("/actions/{action_id:id}")
def action_record(
    request: Request, action_id: int, page: Annotated[Page, page_for(Action.action_read)]
) -> Response:
    """One corrective action: what, who, by when, its verification and its timeline."""
    return _record(request, page, action_id)


@router.post("/actions/{action_id:id}/move")
def move_action(
    request: Request,
    action_id: int,
    page: Annotated[Page, page_for(Action.action_progress)],
    form: Form,
) -> Response:
    """Move the action: start, finish, verify (with evidence, signed) or find it ineffective."""
    values = form_values(
        form, "to", "reason", "completion_note", "evidence", *(f"follow_on_{f}" for f in FOLLOW_ON)
    )
    data: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith("follow_on_")}
    if values.get("to") == "ineffective":
        data["follow_on"] = {
            f: values[f"follow_on_{f}"] for f in FOLLOW_ON if f"follow_on_{f}" in values
        }
    result = signing.perform_signed(
        request,
        page,
        form,
        lambda s, signature: service.transition(
            s,
            actor=page.actor,
            action_id=action_id,
            data=ActionTransition.model_validate({**data, "signature": signature}),
            if_match=form_version(form),
        ),
    )
    if isinstance(result, Refusal):
        # "follow_on.title" is shown beside the field named follow_on_title.
        result.fields.update({k.replace(".", "_"): v for k, v in result.fields.items()})
        return _record(request, page, action_id, result, values, f"move-{values.get('to')}")
    return see_other(f"/actions/{action_id}")


@router.post("/actions/{action_id:id}/comments")
def add_comment(
    request: Request,
    action_id: int,
    page: Annotated[Page, page_for(Action.comment_write)],
    form: Form,
) -> Response:
    """Comment on the corrective action; the comment is kept as written."""
    values = form_values(form, "text")
    result = perform(
        request,
        lambda s: (
            comments.add(
                s,
                actor=page.actor,
                record=CommentedRecord.action,
                record_id=action_id,
                data=CommentCreate.model_validate(values),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, action_id, result, values, "comment")
    return see_other(f"/actions/{action_id}")


def refused(
    request: Request, page: Page, action_id: int, refusal: Refusal, form_name: str
) -> Response:
    """Show the action's page again with a refusal of one of its forms."""
    return _record(request, page, action_id, refusal, {}, form_name)
