"""Risks and opportunities: the register with its matrix, a new one, and the record with its
treatment, actions, the deviations that realised it, its moves and its review."""

from __future__ import annotations

from typing import IO, Annotated, Any

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
    split_list,
    with_numbers,
)
from qms import exports
from qms.accounts import service as accounts
from qms.actions import service as actions
from qms.charts import drawing
from qms.db import utcnow
from qms.deviations.models import Deviation
from qms.pagination import MAX_LIMIT, each
from qms.permissions import Action
from qms.programmes.models import Programme
from qms.risks import chart, service
from qms.risks.enums import RiskKind, RiskLevel, RiskStatus, Treatment
from qms.risks.exports import RISK_COLUMNS
from qms.risks.repository import SORTS, RiskFilter
from qms.risks.schemas import RiskCreate, RiskReview, RiskTransition, RiskUpdate
from qms.workflow import RISK

router = APIRouter(include_in_schema=False)
FIELDS = (
    "kind",
    "title",
    "description",
    "cause",
    "programme_id",
    "owner",
    "likelihood",
    "consequence",
    "treatment",
    "treatment_plan",
    "treatment_reason",
    "residual_likelihood",
    "residual_consequence",
    "review_on",
)
NUMBERS = (
    "programme_id",
    "likelihood",
    "consequence",
    "residual_likelihood",
    "residual_consequence",
)
EDITABLE = tuple(f for f in FIELDS if f != "kind")


def _filters(query: Params, page: Page) -> RiskFilter:
    organisation = query.text("organisation", 10)
    return RiskFilter(
        kind=query.choice("kind", RiskKind),
        status=query.choice("status", RiskStatus),
        level=query.choice("level", RiskLevel),
        programme_id=query.number("programme_id"),
        organisation=True if organisation == "true" else None,
        owner_id=(page.actor.user_id or -1) if query.flag("mine") else None,
        sort=query.sort("sort", SORTS),
    )


@router.get("/risks")
def list_risks(request: Request, page: Annotated[Page, page_for(Action.risk_read)]) -> Response:
    """The register of risks and opportunities, filtered, with its matrix before and after."""
    query = Params(request.query_params)
    filters = _filters(query, page)
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def export(session: Session) -> IO[bytes]:
            every = each(
                lambda after: service.list_risks(
                    session, actor=page.actor, filters=filters, limit=MAX_LIMIT, cursor=after
                )
            )
            return exports.spooled(
                wanted.value,
                RISK_COLUMNS,
                (service.to_read(session, r).model_dump(mode="json") for r in every),
                language=page.lang,
                title=page.t("Risks and opportunities"),
                names=exports.reference_names(session, RISK_COLUMNS),
            )

        return file_response(read(request, export), wanted.value, "risks")

    def load(session: Session) -> dict[str, Any]:
        found = service.list_risks(
            session, actor=page.actor, filters=filters, limit=50, cursor=cursor
        )
        rows = [service.to_read(session, r) for r in found.items]
        register = service.register(
            session, actor=page.actor, filters=RiskFilter(**{**filters.__dict__, "sort": None})
        )
        matrix = chart.build(
            register,
            scale=service.scale(),
            level_of=service.level,
            language=page.lang,
            as_of=utcnow(),
        )
        return {
            "rows": rows,
            "next_cursor": found.next_cursor,
            "people": accounts.display_names(session, (r.owner for r in rows if r.owner)),
            "programme_options": options.programmes(session, page),
            "programmes": {p[0]: p[1] for p in options.programmes(session, page)},
            "matrix": matrix,
        }

    data = read(request, load)
    matrix = data["matrix"]
    picture = chart.svg(matrix) if drawing() and not matrix.empty() else None
    lang = page.lang
    return render(
        page,
        request,
        "risks/list.html",
        section="risks",
        values=query.values(),
        errors=query.errors,
        picture=picture,
        options={
            "kind": choices(RiskKind, lang, page.t("any")),
            "status": choices(RiskStatus, lang, page.t("any")),
            "level": choices(RiskLevel, lang, page.t("any")),
            "programme_id": [("", page.t("any")), *data["programme_options"][1:]],
            "organisation": [("", page.t("any")), ("true", page.t("the organisation's own"))],
            "mine": [("", page.t("anyone's")), ("true", page.t("mine"))],
        },
        **data,
    )


def _new_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    def load(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return options.programmes(session, page), options.owners(session)

    programme_options, owner_options = read(request, load)
    return render(
        page,
        request,
        "risks/new.html",
        section="risks",
        values=values,
        refusal=refusal,
        scale=service.scale(),
        options=_options(page, programme_options, owner_options),
    )


def _options(
    page: Page, programme_options: list[tuple[str, str]], owner_options: list[tuple[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    lang = page.lang
    ratings = [("", page.t("(not rated)"))] + [
        (str(n), str(n)) for n in range(1, service.scale() + 1)
    ]
    return {
        "kind": choices(RiskKind, lang),
        "programme_id": [("", page.t("(the organisation's own)")), *programme_options[1:]],
        "owner": [("", page.t("(no owner)")), *owner_options],
        "treatment": [("", page.t("(not chosen yet)")), *choices(Treatment, lang)],
        "rating": ratings,
    }


def _data(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    data = with_numbers(values, *(n for n in NUMBERS if n in names))
    return {k: v for k, v in data.items() if k in names}


@router.get("/risks/new")
def new_risk(request: Request, page: Annotated[Page, page_for(Action.risk_write)]) -> Response:
    """The form to register a risk or an opportunity."""
    return _new_form(request, page, {"kind": "risk"})


@router.post("/risks/new")
def create_risk(
    request: Request, page: Annotated[Page, page_for(Action.risk_write)], form: Form
) -> Response:
    """Register a risk or an opportunity; on success, its record."""
    values = form_values(form, *FIELDS, "requirements")
    data = _data(values, FIELDS)
    data["requirements"] = split_list(values.get("requirements"))
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=RiskCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _new_form(request, page, values, result)
    return see_other(f"/risks/{result}")


def _record(
    request: Request,
    page: Page,
    risk_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        risk = service.get(session, actor=page.actor, risk_id=risk_id)
        realised = [
            d
            for d in (
                session.get(Deviation, i) for i in service.to_read(session, risk).deviation_ids
            )
            if d is not None
        ]
        programme = session.get(Programme, risk.programme_id or 0)
        matrix = chart.build(
            [risk],
            scale=service.scale(),
            level_of=service.level,
            language=page.lang,
            as_of=utcnow(),
            key=f"risk-{risk.id}",
        )
        return {
            "risk": service.to_read(session, risk),
            "programme": f"{programme.code} · {programme.name}" if programme else None,
            "actions": [actions.to_read(session, a) for a in risk.actions],
            "realised": realised,
            "events": service.history(session, actor=page.actor, risk_id=risk_id),
            "numbers": {
                ("risk", str(risk.id)): risk.number,
                **{("action", str(a.id)): a.number for a in risk.actions},
            },
            "people": accounts.display_names(session),
            "programme_options": options.programmes(session, page),
            "owner_options": options.owners(session),
            "matrix": matrix,
        }

    data = read(request, load)
    risk = data["risk"]
    moves = [
        m
        for m in RISK.moves
        if m.source == risk.status.value and m.target in risk.allowed_transitions
    ]
    current = {f: getattr(risk, f) for f in EDITABLE if f != "owner"}
    current["owner"] = risk.owner
    current["requirements"] = ", ".join(risk.requirements)
    edit_values = values if form_name == "edit" and values else current
    return render(
        page,
        request,
        "risks/record.html",
        section="risks",
        refusal=refusal,
        values=values or {},
        edit_values={k: ("" if v is None else str(v)) for k, v in edit_values.items()},
        form_name=form_name,
        moves=moves,
        scale=service.scale(),
        options=_options(page, data["programme_options"], data["owner_options"]),
        **data,
    )


@router.get("/risks/{risk_id:id}")
def risk_record(
    request: Request, risk_id: int, page: Annotated[Page, page_for(Action.risk_read)]
) -> Response:
    """One risk or opportunity: its rating, treatment, actions, deviations and timeline."""
    return _record(request, page, risk_id)


@router.post("/risks/{risk_id:id}/edit")
def edit_risk(
    request: Request, risk_id: int, page: Annotated[Page, page_for(Action.risk_write)], form: Form
) -> Response:
    """Change the risk's description, rating, treatment or owner."""
    values = form_values(form, *EDITABLE, "requirements")
    data = _data(values, EDITABLE)
    # A field left empty on the form is emptied (those that may be).
    for name in EDITABLE:
        data.setdefault(name, None)
    data["requirements"] = split_list(values.get("requirements"))
    result = perform(
        request,
        lambda s: (
            service.update(
                s,
                actor=page.actor,
                risk_id=risk_id,
                data=RiskUpdate.model_validate(data),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, risk_id, result, values, "edit")
    return see_other(f"/risks/{risk_id}")


@router.post("/risks/{risk_id:id}/move")
def move_risk(
    request: Request, risk_id: int, page: Annotated[Page, page_for(Action.risk_write)], form: Form
) -> Response:
    """Move the risk: treated, closed, or open again."""
    values = form_values(form, "to", "reason")
    result = perform(
        request,
        lambda s: (
            service.transition(
                s,
                actor=page.actor,
                risk_id=risk_id,
                data=RiskTransition.model_validate(values),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, risk_id, result, values, f"move-{values.get('to')}")
    return see_other(f"/risks/{risk_id}")


@router.post("/risks/{risk_id:id}/review")
def review_risk(
    request: Request, risk_id: int, page: Annotated[Page, page_for(Action.risk_write)], form: Form
) -> Response:
    """Record a review of the risk: its rating now and the next review date."""
    names = ("likelihood", "consequence", "residual_likelihood", "residual_consequence")
    values = form_values(form, *names, "next_review_on", "note")
    data = with_numbers(values, *names)
    result = perform(
        request,
        lambda s: (
            service.review(
                s,
                actor=page.actor,
                risk_id=risk_id,
                data=RiskReview.model_validate(data),
                if_match=form_version(form),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, risk_id, result, values, "review")
    return see_other(f"/risks/{risk_id}")


def choices_for(session: Session, page: Page) -> list[tuple[str, str]]:
    """The risks a deviation may name as realised: those open or treated the reader sees."""
    if not page.can("risk.read"):
        return [("", page.t("(none)"))]
    found = service.register(session, actor=page.actor, filters=RiskFilter(kind=RiskKind.risk))
    return [("", page.t("(none)"))] + [
        (str(r.id), f"{r.number} · {r.title}")
        for r in found
        if r.status in (RiskStatus.open, RiskStatus.treated)
    ]
