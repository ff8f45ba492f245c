"""Participants: the mentors and mentees of each cohort, enrolling one (screening, consent, the
learning needs; name and contact kept apart and shown only to roles that need them), a mentee's
learning-plan goals with their progress, the participant's pairs, and erasing personal data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.exporting import ExportFormat, page_export
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
from qms.errors import NotFound
from qms.i18n import Text
from qms.pagination import MAX_LIMIT, each
from qms.pairs import service as pairs
from qms.participants import service
from qms.participants.models import GoalStatus, ParticipantRole
from qms.participants.schemas import (
    EraseRequest,
    GoalCreate,
    GoalUpdate,
    ParticipantCreate,
    ParticipantUpdate,
)
from qms.permissions import Action

router = APIRouter(include_in_schema=False)
FIELDS = ("field", "competence_needs", "career_goals", "screened_on", "screened_by", "consent_on")
PERSONAL = ("name", "email", "phone")


def _data(form: Form, values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Shape a participant form for the schema: lists by commas, personal fields apart.

    Editing, a text cleared is sent as empty (to clear it); a field left out stays as it is.
    """
    data: dict[str, Any] = {}
    for name in FIELDS:
        if name in values:
            data[name] = values[name]
        elif partial and name in ("competence_needs", "career_goals") and name in form:
            data[name] = ""
    if "training_modules" in form or not partial:
        data["training_modules"] = split_list(values.get("training_modules"))
    personal = {name: values[name] for name in PERSONAL if name in values}
    if personal:
        data["personal"] = personal
    return data


@router.get("/participants")
def list_participants(
    request: Request, page: Annotated[Page, page_for(Action.participant_read)]
) -> Response:
    """The participants in enrolment order, by cohort and role."""
    query = Params(request.query_params)
    cohort_id, role = query.number("cohort_id"), query.choice("role", ParticipantRole)
    sort = query.sort("sort", service.SORTS)
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def every(session: Session) -> Iterator[dict[str, Any]]:
            for p in each(
                lambda after: service.list_participants(
                    session,
                    actor=page.actor,
                    cohort_id=cohort_id,
                    role=role,
                    limit=MAX_LIMIT,
                    cursor=after,
                    sort=sort,
                )
            ):
                yield exports.flat_personal(service.to_read(p, page.actor).model_dump(mode="json"))

        return page_export(
            request,
            wanted.value,
            language=page.lang,
            stem="participants",
            title=page.t("Participants"),
            columns=exports.PARTICIPANT_COLUMNS,
            records=every,
        )

    def load(session: Session) -> tuple[Any, list[tuple[str, str]]]:
        found = service.list_participants(
            session,
            actor=page.actor,
            cohort_id=cohort_id,
            role=role,
            limit=50,
            cursor=cursor,
            sort=sort,
        )
        rows = [(service.to_read(p, page.actor), p.cohort.code) for p in found.items]
        return (rows, found.next_cursor), options.cohorts(session, page)

    (rows, next_cursor), cohorts = read(request, load)
    return render(
        page,
        request,
        "participants/list.html",
        section="participants",
        rows=rows,
        next_cursor=next_cursor,
        values=query.values(),
        errors=query.errors,
        options={
            "cohort_id": [("", page.t("any")), *cohorts],
            "role": choices(ParticipantRole, page.lang, page.t("any")),
        },
    )


def _enrol_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    cohorts = read(request, lambda s: options.cohorts(s, page))
    return render(
        page,
        request,
        "participants/new.html",
        section="participants",
        values=values,
        refusal=refusal,
        options={
            "cohort_id": [("", page.t("(choose)")), *cohorts],
            "role": choices(ParticipantRole, page.lang),
        },
    )


@router.get("/participants/new")
def new_participant(
    request: Request, page: Annotated[Page, page_for(Action.participant_write)]
) -> Response:
    """The form to enrol a mentor or a mentee in a cohort."""
    return _enrol_form(request, page, {"role": "mentee"})


@router.post("/participants/new")
def enrol(
    request: Request, page: Annotated[Page, page_for(Action.participant_write)], form: Form
) -> Response:
    """Enrol the participant (coded P-NNNN by the system); on success, their record."""
    values = form_values(form, "cohort_id", "role", *FIELDS, "training_modules", *PERSONAL)
    data = {**with_numbers(values, "cohort_id"), **_data(form, values, partial=False)}
    data = {k: v for k, v in data.items() if k not in PERSONAL}
    result = perform(
        request,
        lambda s: (
            service.create(s, actor=page.actor, data=ParticipantCreate.model_validate(data)).id
        ),
    )
    if isinstance(result, Refusal):
        result.fields = {k.removeprefix("personal."): v for k, v in result.fields.items()}
        return _enrol_form(request, page, values, result)
    return see_other(f"/participants/{result}")


def _record(
    request: Request,
    page: Page,
    participant_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        participant = service.get(session, actor=page.actor, participant_id=participant_id)
        their_pairs = []
        if page.can("pair.read"):
            their_pairs = [
                pairs.to_read(p)
                for p in pairs.list_pairs(
                    session, actor=page.actor, participant_id=participant.id, limit=50
                ).items
            ]
        goals = []
        if participant.role is ParticipantRole.mentee:
            goals = [
                service.goal_to_read(g)
                for g in service.list_goals(
                    session, actor=page.actor, participant_id=participant.id
                )
            ]
        return {
            "participant": service.to_read(participant, page.actor),
            "cohort": f"{participant.cohort.programme.code} · {participant.cohort.name}",
            "pairs": their_pairs,
            "goals": goals,
        }

    data = read(request, load)
    if refusal is not None:
        refusal.fields = {k.removeprefix("personal."): v for k, v in refusal.fields.items()}
    return render(
        page,
        request,
        "participants/record.html",
        section="participants",
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        options={"status": choices(GoalStatus, page.lang)},
        **data,
    )


@router.get("/participants/{participant_id:id}")
def participant_record(
    request: Request, participant_id: int, page: Annotated[Page, page_for(Action.participant_read)]
) -> Response:
    """A participant: the learning needs, screening and consent, their pairs and goals."""
    return _record(request, page, participant_id)


def _after(
    request: Request,
    page: Page,
    participant_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, participant_id, result, values, form_name)
    return see_other(f"/participants/{participant_id}")


@router.post("/participants/{participant_id:id}")
def edit(
    request: Request,
    participant_id: int,
    page: Annotated[Page, page_for(Action.participant_write)],
    form: Form,
) -> Response:
    """Save changes to the participant (against the version the form was read at)."""
    values = form_values(form, *FIELDS, "training_modules", *PERSONAL)
    data = _data(form, values, partial=True)
    result = perform(
        request,
        lambda s: (
            service.update(
                s,
                actor=page.actor,
                participant_id=participant_id,
                data=ParticipantUpdate.model_validate(data),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, participant_id, "edit", values, result)


@router.post("/participants/{participant_id:id}/goals")
def add_goal(
    request: Request,
    participant_id: int,
    page: Annotated[Page, page_for(Action.participant_write)],
    form: Form,
) -> Response:
    """Add a goal to the mentee's learning plan."""
    values = form_values(form, "title", "description", "target_on", "progress")
    result = perform(
        request,
        lambda s: (
            service.create_goal(
                s,
                actor=page.actor,
                participant_id=participant_id,
                data=GoalCreate.model_validate(with_numbers(values, "progress")),
            ).id
        ),
    )
    return _after(request, page, participant_id, "goal", values, result)


@router.post("/participants/{participant_id:id}/goals/{goal_id:id}")
def update_goal(
    request: Request,
    participant_id: int,
    goal_id: int,
    page: Annotated[Page, page_for(Action.participant_write)],
    form: Form,
) -> Response:
    """Record a goal's progress or where it stands."""
    values = form_values(form, "progress", "status")

    def change(session: Session) -> int:
        # The goal must be this participant's: the address names both.
        owned = {
            g.id
            for g in service.list_goals(session, actor=page.actor, participant_id=participant_id)
        }
        if goal_id not in owned:
            raise NotFound(
                Text("There is no goal with the id %(id)s in this learning plan.", id=goal_id)
            )
        return service.update_goal(
            session,
            actor=page.actor,
            goal_id=goal_id,
            data=GoalUpdate.model_validate(with_numbers(values, "progress")),
            if_match=form_version(form),
        ).id

    return _after(
        request, page, participant_id, f"goal-{goal_id}", values, perform(request, change)
    )


@router.post("/participants/{participant_id:id}/erase")
def erase(
    request: Request,
    participant_id: int,
    page: Annotated[Page, page_for(Action.participant_write)],
    form: Form,
) -> Response:
    """Erase the participant's name and contact details (the coded record stays)."""
    values = form_values(form, "reason")
    result = perform(
        request,
        lambda s: (
            service.erase(
                s,
                actor=page.actor,
                participant_id=participant_id,
                reason=EraseRequest.model_validate(values).reason,
            ).id
        ),
    )
    return _after(request, page, participant_id, "erase", values, result)
