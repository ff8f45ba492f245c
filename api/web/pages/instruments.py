"""Evaluation instruments: the surveys whose answers are imported, each with its coded
questions; defining one with its questions typed one a line."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.web.core import (
    Form,
    Page,
    Refusal,
    choices,
    form_values,
    page_for,
    perform,
    read,
    render,
    see_other,
)
from qms.evaluations import service
from qms.evaluations.models import Respondent
from qms.evaluations.schemas import InstrumentCreate, InstrumentRead
from qms.permissions import Action

router = APIRouter(include_in_schema=False)
SCALE = re.compile(r"^(-?\d+)\s*-\s*(-?\d+)$")
# A number question, with its bounds if any: "number", "number 0-200", "number 0-".
NUMBER = re.compile(
    r"^number(?:\s+(-?\d+(?:[.,]\d+)?)?\s*-\s*(-?\d+(?:[.,]\d+)?)?)?$", re.IGNORECASE
)


def _bound(text: str | None) -> float | None:
    return float(text.replace(",", ".")) if text else None


def questions_of(text: str | None) -> list[dict[str, Any]]:
    """Read questions typed one a line: `CODE | text`, then `| 1-5` for a scale, `| number` (or
    `| number 0-200`, `| number 0-`) for a number or `| option, option, …` for a choice; without a
    third part the answer is free text."""
    questions = []
    for typed in (text or "").splitlines():
        if not typed.strip():
            continue
        parts = [part.strip() for part in typed.split("|")]
        question: dict[str, Any] = {"code": parts[0], "text": parts[1] if len(parts) > 1 else ""}
        answer = parts[2] if len(parts) > 2 else ""
        scale = SCALE.match(answer)
        number = NUMBER.match(answer)
        if number:
            question |= {
                "type": "number",
                "number_min": _bound(number.group(1)),
                "number_max": _bound(number.group(2)),
            }
        elif scale:
            question |= {
                "type": "scale",
                "scale_min": int(scale.group(1)),
                "scale_max": int(scale.group(2)),
            }
        elif answer:
            options = [option.strip() for option in answer.split(",") if option.strip()]
            question |= {"type": "choice", "options": options}
        else:
            question["type"] = "text"
        questions.append(question)
    return questions


@router.get("/instruments")
def list_instruments(
    request: Request, page: Annotated[Page, page_for(Action.evaluation_read)]
) -> Response:
    """The instruments with their questions."""
    rows = read(
        request,
        lambda s: [
            InstrumentRead.model_validate(i) for i in service.list_instruments(s, actor=page.actor)
        ],
    )
    return render(page, request, "instruments/list.html", section="imports", rows=rows)


def _define_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    if refusal is not None:
        # A question's problem is named by its line: questions.2.code is line 3.
        for key, message in refusal.fields.items():
            found = re.match(r"^questions\.(\d+)", key)
            if found:
                refusal.fields["questions"] = f"line {int(found.group(1)) + 1}: {message}"
                break
    return render(
        page,
        request,
        "instruments/new.html",
        section="imports",
        values=values,
        refusal=refusal,
        options={"respondent": choices(Respondent, page.lang)},
    )


@router.get("/instruments/new")
def new_instrument(
    request: Request, page: Annotated[Page, page_for(Action.instrument_write)]
) -> Response:
    """The form to define an instrument."""
    return _define_form(request, page, {"respondent": "mentee"})


@router.post("/instruments/new")
def define(
    request: Request, page: Annotated[Page, page_for(Action.instrument_write)], form: Form
) -> Response:
    """Define the instrument; on success, the list with it."""
    values = form_values(form, "code", "name", "respondent", "questions")
    data = {k: v for k, v in values.items() if k != "questions"}
    data["questions"] = questions_of(values.get("questions"))

    def change(session: Session) -> int:
        return service.create_instrument(
            session, actor=page.actor, data=InstrumentCreate.model_validate(data)
        ).id

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _define_form(request, page, values, result)
    return see_other(f"/instruments#i-{result}")
