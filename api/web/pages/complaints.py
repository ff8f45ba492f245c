"""Complaints: the filtered list, receiving one, the record with its limits, moves, the
complainant's details (for those who may read them) and the deviation it opened."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import IO, Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.exporting import ExportFormat, file_response
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
from qms import exports
from qms.accounts import service as accounts
from qms.complaints import service
from qms.complaints.enums import (
    ComplainantCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintStatus,
)
from qms.complaints.schemas import (
    ComplainantData,
    ComplainantErasure,
    ComplaintCreate,
    ComplaintDeviationCreate,
    ComplaintTransition,
)
from qms.complaints.service import SORTS, ComplaintFilter
from qms.config import get_settings
from qms.deviations.enums import Severity
from qms.pagination import MAX_LIMIT, each
from qms.permissions import Action
from qms.programmes.models import Programme
from qms.workflow import COMPLAINT

router = APIRouter(include_in_schema=False)
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
RECEIVE_FIELDS = (
    "programme_id",
    "received_on",
    "channel",
    "complainant_category",
    "subject",
    "description",
)
PERSONAL_FIELDS = ("name", "email", "phone")


@router.get("/complaints")
def list_complaints(
    request: Request, page: Annotated[Page, page_for(Action.complaint_read)]
) -> Response:
    """The complaints, newest first, with the API's filters."""
    query = Params(request.query_params)
    filters = ComplaintFilter(
        programme_id=query.number("programme_id"),
        status=query.choice("status", ComplaintStatus),
        channel=query.choice("channel", ComplaintChannel),
        complainant_category=query.choice("complainant_category", ComplainantCategory),
        overdue=query.flag("overdue"),
        received_from=query.day("received_from"),
        received_to=query.day("received_to"),
        sort=query.sort("sort", SORTS),
    )
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def export(session: Session) -> IO[bytes]:
            every = each(
                lambda after: service.list_complaints(
                    session, actor=page.actor, filters=filters, limit=MAX_LIMIT, cursor=after
                )
            )
            return exports.spooled(
                wanted.value,
                exports.COMPLAINT_COLUMNS,
                (service.to_read(c, page.actor).model_dump(mode="json") for c in every),
                language=page.lang,
                title=page.t("Complaints"),
                names=exports.reference_names(session, exports.COMPLAINT_COLUMNS),
            )

        return file_response(read(request, export), wanted.value, "complaints")

    def load(session: Session) -> tuple[Any, list[tuple[str, str]]]:
        found = service.list_complaints(
            session, actor=page.actor, filters=filters, limit=50, cursor=cursor
        )
        return found, options.programmes(session, page)

    found, programme_options = read(request, load)
    lang = page.lang
    return render(
        page,
        request,
        "complaints/list.html",
        section="quality-system",
        rows=[service.to_read(c, page.actor) for c in found.items],
        next_cursor=found.next_cursor,
        values=query.values(),
        errors=query.errors,
        options={
            "status": choices(ComplaintStatus, lang, page.t("any")),
            "channel": choices(ComplaintChannel, lang, page.t("any")),
            "complainant_category": choices(ComplainantCategory, lang, page.t("any")),
            "programme_id": [("", page.t("any")), *programme_options[1:]],
            "overdue": [("", page.t("any")), ("true", page.t("yes")), ("false", page.t("no"))],
        },
    )


def _receive_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    programme_options = read(request, lambda session: options.programmes(session, page))
    lang = page.lang
    return render(
        page,
        request,
        "complaints/new.html",
        section="quality-system",
        values=values,
        refusal=refusal,
        options={
            "programme_id": programme_options,
            "channel": choices(ComplaintChannel, lang),
            "complainant_category": choices(ComplainantCategory, lang),
            "contact_consent": [("false", page.t("no")), ("true", page.t("yes"))],
        },
    )


@router.get("/complaints/new")
def new_complaint(
    request: Request, page: Annotated[Page, page_for(Action.complaint_write)]
) -> Response:
    """The form to receive a complaint."""
    return _receive_form(request, page, {"channel": "email", "complainant_category": "mentee"})


def _complainant(values: dict[str, Any], consent: bool) -> dict[str, Any]:
    given = {f: values.get(f) or None for f in PERSONAL_FIELDS}
    return {**given, "contact_consent": consent}


@router.post("/complaints/new")
def receive_complaint(
    request: Request, page: Annotated[Page, page_for(Action.complaint_write)], form: Form
) -> Response:
    """Receive a complaint; on success, its record."""
    values = form_values(form, *RECEIVE_FIELDS, *PERSONAL_FIELDS, "contact_consent")
    data = with_numbers({f: values.get(f) for f in RECEIVE_FIELDS}, "programme_id")
    if not data.get("received_on"):
        data.pop("received_on", None)
    data["complainant"] = _complainant(values, values.get("contact_consent") == "true")
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=ComplaintCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _receive_form(request, page, values, result)
    return see_other(f"/complaints/{result}")


def _record(
    request: Request,
    page: Page,
    complaint_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        complaint = service.get(session, actor=page.actor, complaint_id=complaint_id)
        programme = session.get(Programme, complaint.programme_id)
        return {
            "complaint": service.to_read(complaint, page.actor),
            "programme": f"{programme.code} · {programme.name}" if programme else None,
            "events": service.history(session, actor=page.actor, complaint_id=complaint_id),
            "numbers": {
                ("complaint", str(complaint.id)): complaint.number,
                **(
                    {("deviation", str(complaint.deviation.id)): complaint.deviation.number}
                    if complaint.deviation
                    else {}
                ),
            },
            "people": accounts.display_names(session),
        }

    data = read(request, load)
    complaint = data["complaint"]
    moves = [
        move
        for move in COMPLAINT.moves
        if move.source == complaint.status.value
        and move.target in complaint.allowed_transitions
        and page.can("complaint.write")
    ]
    lang = page.lang
    return render(
        page,
        request,
        "complaints/record.html",
        section="quality-system",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        moves=moves,
        options={
            "outcome": choices(ComplaintOutcome, lang),
            "severity": choices(Severity, lang),
            "contact_consent": [("false", page.t("no")), ("true", page.t("yes"))],
        },
        **data,
    )


@router.get("/complaints/{complaint_id:id}")
def complaint_record(
    request: Request, complaint_id: int, page: Annotated[Page, page_for(Action.complaint_read)]
) -> Response:
    """One complaint: its limits, answer, the deviation it opened, timeline and moves."""
    return _record(request, page, complaint_id)


def _after(
    request: Request,
    page: Page,
    complaint_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, complaint_id, result, values, form_name)
    return see_other(f"/complaints/{complaint_id}")


@router.post("/complaints/{complaint_id:id}/move")
def move_complaint(
    request: Request,
    complaint_id: int,
    page: Annotated[Page, page_for(Action.complaint_write)],
    form: Form,
) -> Response:
    """Move the complaint in its workflow (the form names the version it was read at)."""
    values = form_values(form, "to", "reason", "answer", "outcome", "at")
    given = {k: v for k, v in values.items() if v not in (None, "")}
    if "at" in given and _LOCAL.fullmatch(given["at"]):
        # A time typed on the page is the organisation's local time (one that is no time at
        # all is left as typed, for the schema to name).
        with contextlib.suppress(ValueError):
            typed = datetime.fromisoformat(given["at"])
            given["at"] = typed.replace(tzinfo=ZoneInfo(get_settings().timezone)).isoformat()
    result = perform(
        request,
        lambda s: service.transition(
            s,
            actor=page.actor,
            complaint_id=complaint_id,
            data=ComplaintTransition.model_validate(given),
            if_match=form_version(form),
        ),
    )
    return _after(request, page, complaint_id, f"move-{values.get('to')}", values, result)


@router.post("/complaints/{complaint_id:id}/deviation")
def open_deviation(
    request: Request,
    complaint_id: int,
    page: Annotated[Page, page_for(Action.complaint_write)],
    form: Form,
) -> Response:
    """Open a deviation from the complaint; on success, the deviation's record."""
    values = form_values(form, "severity", "title")
    result = perform(
        request,
        lambda s: (
            service.open_deviation(
                s,
                actor=page.actor,
                complaint_id=complaint_id,
                data=ComplaintDeviationCreate.model_validate(
                    {k: v for k, v in values.items() if v not in (None, "")}
                ),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, complaint_id, result, values, "deviation")
    return see_other(f"/deviations/{result}")


@router.post("/complaints/{complaint_id:id}/complainant")
def set_complainant(
    request: Request,
    complaint_id: int,
    page: Annotated[Page, page_for(Action.complaint_write)],
    form: Form,
) -> Response:
    """Record or change who made the complaint."""
    values = form_values(form, *PERSONAL_FIELDS, "contact_consent")
    result = perform(
        request,
        lambda s: service.set_complainant(
            s,
            actor=page.actor,
            complaint_id=complaint_id,
            data=ComplainantData.model_validate(
                _complainant(values, values.get("contact_consent") == "true")
            ),
            if_match=form_version(form),
        ),
    )
    return _after(request, page, complaint_id, "complainant", values, result)


@router.post("/complaints/{complaint_id:id}/complainant/erase")
def erase_complainant(
    request: Request,
    complaint_id: int,
    page: Annotated[Page, page_for(Action.complaint_write)],
    form: Form,
) -> Response:
    """Blank who made the complaint for good; the complaint stays."""
    values = form_values(form, "reason")
    result = perform(
        request,
        lambda s: service.erase_complainant(
            s,
            actor=page.actor,
            complaint_id=complaint_id,
            reason=ComplainantErasure.model_validate(values).reason,
        ),
    )
    return _after(request, page, complaint_id, "erase", values, result)
