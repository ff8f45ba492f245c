"""Mid-programme follow-ups: the cohorts, a cohort's board, and the follow-up form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.exporting import ExportFormat, page_export
from api.web import charts, options
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
from qms.accounts import service as accounts
from qms.charts import records as cohort_charts
from qms.deviations import service as deviations
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.evidence import service as evidence
from qms.exports import FOLLOW_UP_COLUMNS
from qms.followups import service
from qms.followups.models import FollowUpOutcome
from qms.followups.schemas import FollowUpRecord
from qms.i18n import Text
from qms.pairs.service import today
from qms.permissions import Action
from qms.programmes import service as programmes

router = APIRouter(include_in_schema=False)
YES_NO = ("expectations_clarified", "meeting_frequency_kept", "extra_support_needed")
SCALES = ("goal_progress", "relationship")
TEXTS = ("held_on", "held_by", "notes", "outcome", "decision", "requirements")


@router.get("/follow-ups")
def cohorts(request: Request, page: Annotated[Page, page_for(Action.followup_read)]) -> Response:
    """The cohorts, newest first, each leading to its follow-up board."""
    rows = read(request, lambda s: options.cohorts(s, page))
    return render(page, request, "followups/cohorts.html", section="follow-ups", rows=rows)


def _board(
    request: Request,
    page: Page,
    cohort_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    on, at = today(), charts.now()

    def load(session: Session) -> dict[str, Any]:
        cohort = programmes.get_cohort(session, actor=page.actor, cohort_id=cohort_id)
        # The cohort's pairs against the meeting rule and its mentees' outcomes at close.
        plotted = []
        if page.can("pair.read"):
            plotted.append(
                cohort_charts.meeting_rule(
                    session, cohorts=[cohort], on=on, as_of=at, language=page.lang
                )
            )
        if page.can("evaluation.read"):
            plotted.append(
                cohort_charts.outcomes(
                    session, cohorts=[cohort], on=on, as_of=at, language=page.lang
                )
            )
        return {
            "cohort": cohort,
            "programme": cohort.programme,
            "board": service.cohort_board(session, actor=page.actor, cohort_id=cohort_id),
            "charts": plotted,
        }

    data = read(request, load)
    data["charts"] = charts.pictures(data["charts"])
    return render(
        page,
        request,
        "followups/board.html",
        section="follow-ups",
        refusal=refusal,
        values=values or {},
        **data,
    )


@router.get("/follow-ups/cohorts/{cohort_id:id}")
def board(
    request: Request, cohort_id: int, page: Annotated[Page, page_for(Action.followup_read)]
) -> Response:
    """A cohort's follow-up board: each pair's follow-up held, due or overdue; the share of its
    pairs meeting the programme's rule each month and its mentees' outcomes at close, as
    charts; or the board taken as a file (`?format=csv|xlsx|json`)."""
    wanted = Params(request.query_params).choice("format", ExportFormat)
    if wanted is not None:
        return page_export(
            request,
            wanted.value,
            language=page.lang,
            stem="follow-ups",
            title=page.t("Follow-ups"),
            columns=FOLLOW_UP_COLUMNS,
            records=lambda session: (
                f.model_dump(mode="json")
                for f in service.cohort_board(session, actor=page.actor, cohort_id=cohort_id).items
            ),
        )
    return _board(request, page, cohort_id)


@router.post("/follow-ups/cohorts/{cohort_id:id}")
def schedule_cohort(
    request: Request,
    cohort_id: int,
    page: Annotated[Page, page_for(Action.followup_write)],
    form: Form,
) -> Response:
    """Schedule a follow-up for every live pair of the cohort that has none (at the midpoint
    unless another date is given)."""
    values = form_values(form, "on")
    query = Params(values)
    on = query.day("on")

    def change(session: Session) -> int:
        if query.errors:
            raise ValidationFailed(
                Text("The date of the follow-ups cannot be read."),
                [FieldError("on", Text("Enter the date as YYYY-MM-DD."))],
            )
        return len(service.schedule_cohort(session, actor=page.actor, cohort_id=cohort_id, on=on))

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _board(request, page, cohort_id, result, values)
    return see_other(f"/follow-ups/cohorts/{cohort_id}")


def _form(
    request: Request,
    page: Page,
    follow_up_id: int,
    values: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        follow_up = service.get(session, actor=page.actor, follow_up_id=follow_up_id)
        files = evidence.list_files(
            session, actor=page.actor, record="follow_up", record_id=follow_up.id
        )
        return {
            "follow_up": service.to_read(follow_up),
            "cohort": follow_up.pair.mentee.cohort,
            "people": accounts.display_names(
                session, [follow_up.held_by or "", *(f.uploaded_by for f in files)]
            ),
            "evidence": [evidence.to_read(f) for f in files],
            "files_open": evidence.changeable(
                session, actor=page.actor, record="follow_up", record_id=follow_up.id
            ),
        }

    data = read(request, load)
    return render(
        page,
        request,
        "followups/form.html",
        section="follow-ups",
        values=values or {"held_on": today().isoformat()},
        refusal=refusal,
        form_name=form_name,
        outcomes=choices(FollowUpOutcome, page.lang, page.t("(choose)")),
        **data,
    )


@router.get("/follow-ups/{follow_up_id:id}")
def follow_up(
    request: Request, follow_up_id: int, page: Annotated[Page, page_for(Action.followup_read)]
) -> Response:
    """One pair's follow-up: as held, or the form to record it."""
    return _form(request, page, follow_up_id)


def _answers(values: dict[str, str]) -> dict[str, Any]:
    """The form's answers as the record takes them: yes/no as booleans, ratings as numbers."""
    data: dict[str, Any] = {k: v for k, v in values.items() if k in TEXTS or k in SCALES}
    data["requirements"] = split_list(values.get("requirements"))
    for name in YES_NO:
        if name in values:
            data[name] = {"yes": True, "no": False}.get(values[name], values[name])
    return with_numbers(data, *SCALES)


@router.post("/follow-ups/{follow_up_id:id}")
def record(
    request: Request,
    follow_up_id: int,
    page: Annotated[Page, page_for(Action.followup_write)],
    form: Form,
) -> Response:
    """Record the follow-up as held."""
    values = form_values(form, *YES_NO, *SCALES, *TEXTS, "deviation")

    def change(session: Session) -> object:
        answers = _answers(values)
        if "deviation" in values:
            try:
                answers["deviation_id"] = deviations.get_by_number(
                    session, actor=page.actor, number=values["deviation"].upper()
                ).id
            except NotFound as exc:
                raise ValidationFailed(
                    Text("The follow-up names a deviation that does not exist."),
                    [FieldError("deviation", exc.detail)],
                ) from exc
        return service.record(
            session,
            actor=page.actor,
            follow_up_id=follow_up_id,
            data=FollowUpRecord.model_validate(answers),
            if_match=form_version(form),
        )

    result = perform(request, change)
    if isinstance(result, Refusal):
        return _form(request, page, follow_up_id, values, result)
    return see_other(f"/follow-ups/{follow_up_id}")


def refused(
    request: Request, page: Page, follow_up_id: int, refusal: Refusal, form_name: str
) -> Response:
    """Show the follow-up's page again with a refusal of one of its forms."""
    return _form(request, page, follow_up_id, None, refusal, form_name)
