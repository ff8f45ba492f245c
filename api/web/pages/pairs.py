"""Pairs: matching a mentor and a mentee with the rationale, the pair's meetings held against its
programme's meeting rule month by month (planned against actual), recording a meeting, the pair's
moves (started, completed with exit feedback, unwound), and its mid-programme follow-up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
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
    with_numbers,
)
from qms import exports
from qms.errors import FieldError, ValidationFailed
from qms.followups import service as followups
from qms.followups.models import FollowUp
from qms.i18n import Text
from qms.pagination import MAX_LIMIT, each
from qms.pairs import service
from qms.pairs.models import MeetingMode, PairStatus
from qms.pairs.rules import pair_months
from qms.pairs.schemas import MeetingCreate, PairCreate, PairTransition
from qms.participants import service as participants
from qms.participants.models import ParticipantRole
from qms.permissions import Action
from qms.programmes import service as programmes
from qms.programmes.models import Cohort
from qms.workflow import PAIR

router = APIRouter(include_in_schema=False)


@router.get("/pairs")
def list_pairs(request: Request, page: Annotated[Page, page_for(Action.pair_read)]) -> Response:
    """The pairs in the order they were matched, by cohort and status."""
    query = Params(request.query_params)
    cohort_id, status = query.number("cohort_id"), query.choice("status", PairStatus)
    sort = query.sort("sort", service.SORTS)
    cursor = query.text("cursor")
    wanted = query.choice("format", ExportFormat)
    if wanted is not None and not query.errors:

        def every(session: Session) -> Iterator[dict[str, Any]]:
            for p in each(
                lambda after: service.list_pairs(
                    session,
                    actor=page.actor,
                    cohort_id=cohort_id,
                    status=status,
                    limit=MAX_LIMIT,
                    cursor=after,
                    sort=sort,
                )
            ):
                yield service.to_read(p).model_dump(mode="json")

        return page_export(
            request,
            wanted.value,
            language=page.lang,
            stem="pairs",
            title=page.t("Pairs"),
            columns=exports.PAIR_COLUMNS,
            records=every,
        )

    def load(session: Session) -> tuple[Any, list[tuple[str, str]]]:
        found = service.list_pairs(
            session,
            actor=page.actor,
            cohort_id=cohort_id,
            status=status,
            limit=50,
            cursor=cursor,
            sort=sort,
        )
        return found, options.cohorts(session, page)

    found, cohorts = read(request, load)
    return render(
        page,
        request,
        "pairs/list.html",
        section="pairs",
        rows=[service.to_read(p) for p in found.items],
        next_cursor=found.next_cursor,
        values=query.values(),
        errors=query.errors,
        options={
            "cohort_id": [("", page.t("any")), *cohorts],
            "status": choices(PairStatus, page.lang, page.t("any")),
        },
    )


def _people(
    session: Session,
    page: Page,
    role: ParticipantRole,
    cohort: Cohort,
    taken: dict[int, int],
) -> list[tuple[str, str]]:
    """The cohort's participants of a role with room for a pair (a mentor below the programme's
    capacity, a mentee in no live pair), by code (never by name)."""
    room = cohort.programme.max_mentees_per_mentor if role is ParticipantRole.mentor else 1
    found, cursor, people = None, None, [("", page.t("(choose)"))]
    while found is None or cursor:
        found = participants.list_participants(
            session, actor=page.actor, role=role, cohort_id=cohort.id, limit=200, cursor=cursor
        )
        people += [
            (str(p.id), f"{p.code} · {p.field}".strip(" ·"))
            for p in found.items
            if taken.get(p.id, 0) < room
        ]
        cursor = found.next_cursor
    return people


def _cohorts(session: Session, page: Page) -> list[Cohort]:
    """The cohorts of the programmes the reader may see, the one running today first (the
    latest started), then the others newest first."""
    found = [
        cohort
        for programme in programmes.list_programmes(session, actor=page.actor, limit=200).items
        for cohort in programmes.list_cohorts(session, actor=page.actor, programme_id=programme.id)
    ]
    today = date.today()
    return sorted(
        found, key=lambda c: (not c.start_on <= today <= c.end_on, -c.start_on.toordinal())
    )


def _match_form(
    request: Request, page: Page, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    def load(session: Session) -> dict[str, list[tuple[str, str]]]:
        cohorts = _cohorts(session, page)
        chosen = next((c for c in cohorts if str(c.id) == values.get("cohort_id")), None)
        cohort = chosen or next(iter(cohorts), None)
        if cohort is None:
            return {"cohort_id": [], "mentor_id": [], "mentee_id": []}
        values["cohort_id"] = str(cohort.id)
        taken = service.live_pairs(session, actor=page.actor, cohort_id=cohort.id)
        return {
            "cohort_id": [(str(c.id), f"{c.programme.code} · {c.name}") for c in cohorts],
            "mentor_id": _people(session, page, ParticipantRole.mentor, cohort, taken),
            "mentee_id": _people(session, page, ParticipantRole.mentee, cohort, taken),
        }

    return render(
        page,
        request,
        "pairs/new.html",
        section="pairs",
        values=values,
        refusal=refusal,
        options=read(request, load),
    )


@router.get("/pairs/new")
def new_pair(request: Request, page: Annotated[Page, page_for(Action.pair_write)]) -> Response:
    """The form to match a mentor and a mentee of a cohort (the one running today unless
    another is chosen), offering the mentors with room and the mentees in no live pair."""
    query = Params(request.query_params)
    values: dict[str, Any] = {"matched_on": date.today().isoformat()}
    cohort_id = query.number("cohort_id")
    if cohort_id is not None:
        values["cohort_id"] = str(cohort_id)
    return _match_form(request, page, values)


@router.post("/pairs/new")
def match(
    request: Request, page: Annotated[Page, page_for(Action.pair_write)], form: Form
) -> Response:
    """Match the pair (one cohort, each in one live pair at a time); on success, its page."""
    values = form_values(form, "cohort_id", "mentor_id", "mentee_id", "rationale", "matched_on")
    data = with_numbers(
        {k: v for k, v in values.items() if k != "cohort_id"}, "mentor_id", "mentee_id"
    )
    result = perform(
        request,
        lambda s: service.match(s, actor=page.actor, data=PairCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return _match_form(request, page, values, result)
    return see_other(f"/pairs/{result}")


def _record(
    request: Request,
    page: Page,
    pair_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        pair = service.get(session, actor=page.actor, pair_id=pair_id)
        programme = pair.mentee.cohort.programme
        follow_up = session.scalars(
            select(FollowUp).where(FollowUp.pair_id == pair.id).order_by(FollowUp.id.desc())
        ).first()
        return {
            "pair": service.to_read(pair),
            "cohort": f"{programme.code} · {pair.mentee.cohort.name}",
            "rule": (programme.min_meetings_per_month, programme.min_minutes_per_month),
            "meetings": list(service.list_meetings(session, actor=page.actor, pair_id=pair.id)),
            "months": list(pair_months(session, [pair], date.today())),
            "follow_up": followups.to_read(follow_up) if follow_up else None,
        }

    data = read(request, load)
    pair = data["pair"]
    moves = [
        move for move in PAIR.moves if move.source == pair.status.value and page.can("pair.write")
    ]
    return render(
        page,
        request,
        "pairs/record.html",
        section="pairs",
        moves=moves,
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        options={"mode": choices(MeetingMode, page.lang)},
        **data,
    )


@router.get("/pairs/{pair_id:id}")
def pair_record(
    request: Request, pair_id: int, page: Annotated[Page, page_for(Action.pair_read)]
) -> Response:
    """A pair: why it was matched, its meetings against the meeting rule, its follow-up."""
    return _record(request, page, pair_id)


def _after(
    request: Request,
    page: Page,
    pair_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, pair_id, result, values, form_name)
    return see_other(f"/pairs/{pair_id}")


@router.post("/pairs/{pair_id:id}/meetings")
def record_meeting(
    request: Request,
    pair_id: int,
    page: Annotated[Page, page_for(Action.pair_write)],
    form: Form,
) -> Response:
    """Record a meeting the pair held."""
    values = form_values(form, "held_on", "minutes", "mode", "topics")
    result = perform(
        request,
        lambda s: (
            service.record_meeting(
                s,
                actor=page.actor,
                pair_id=pair_id,
                data=MeetingCreate.model_validate(with_numbers(values, "minutes")),
            ).id
        ),
    )
    return _after(request, page, pair_id, "meeting", values, result)


@router.post("/pairs/{pair_id:id}/move")
def move_pair(
    request: Request,
    pair_id: int,
    page: Annotated[Page, page_for(Action.pair_write)],
    form: Form,
) -> Response:
    """Start, complete (with the exit feedback) or unwind the pair."""
    values = form_values(form, "to", "reason", "on", "mentor_feedback", "mentee_feedback")
    result = perform(
        request,
        lambda s: (
            service.transition(
                s,
                actor=page.actor,
                pair_id=pair_id,
                data=PairTransition.model_validate(values),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, pair_id, f"move-{values.get('to')}", values, result)


@router.post("/pairs/{pair_id:id}/follow-up")
def schedule_follow_up(
    request: Request,
    pair_id: int,
    page: Annotated[Page, page_for(Action.followup_write)],
    form: Form,
) -> Response:
    """Schedule the pair's mid-programme follow-up on a date (or move one not yet held)."""
    values = form_values(form, "scheduled_on")
    query = Params(values)
    on = query.day("scheduled_on")

    def change(session: Session) -> int:
        if on is None:
            message = (
                Text("Enter the date as YYYY-MM-DD.")
                if "scheduled_on" in query.errors
                else Text("Choose the date of the follow-up.")
            )
            raise ValidationFailed(message, [FieldError("scheduled_on", message)])
        return followups.schedule_pair(session, actor=page.actor, pair_id=pair_id, on=on).id

    return _after(request, page, pair_id, "follow-up", values, perform(request, change))
