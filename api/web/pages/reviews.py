"""Management reviews (ISO 9001 9.3): planning one for a period, its inputs compiled from the
records (live until it is held, frozen after), who took part, its decisions (each may open an
action), the conclusion, and its moves up to the signed close."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

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
from qms.accounts import service as accounts
from qms.actions.models import ActionType
from qms.audits import reviews as service
from qms.audits.models import DecisionKind, ReviewStatus
from qms.audits.schemas import DecisionCreate, ReviewCreate, ReviewUpdate, Transition
from qms.comments import service as comments
from qms.comments.models import CommentedRecord
from qms.comments.schemas import CommentCreate
from qms.evidence import service as evidence
from qms.permissions import Action
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.workflow import MANAGEMENT_REVIEW

router = APIRouter(include_in_schema=False)
PLAN_FIELDS = ("title", "programme_id", "period_start", "period_end", "planned_on")
ACTION_FIELDS = ("type", "title", "action", "owner", "due_on")


@router.get("/reviews")
def list_reviews(request: Request, page: Annotated[Page, page_for(Action.review_read)]) -> Response:
    """The management reviews, latest first."""
    query = Params(request.query_params)
    status = query.choice("status", ReviewStatus)
    rows = read(
        request,
        lambda s: [
            {"review": r, "decisions": len(r.decisions)}
            for r in service.list_reviews(s, actor=page.actor, status=status)
        ],
    )
    return render(
        page,
        request,
        "reviews/list.html",
        section="reviews",
        rows=rows,
        values=query.values(),
        errors=query.errors,
        options={"status": choices(ReviewStatus, page.lang, page.t("any"))},
    )


@router.get("/reviews/new")
def new_review(request: Request, page: Annotated[Page, page_for(Action.review_manage)]) -> Response:
    """The form to plan a management review of a period."""
    return options.plan_form(request, page, "reviews/new.html", "reviews", {})


@router.post("/reviews/new")
def plan_review(
    request: Request, page: Annotated[Page, page_for(Action.review_manage)], form: Form
) -> Response:
    """Plan the review (numbered MR-YYYY-NNNN); on success, its record with the live inputs."""
    values = form_values(form, *PLAN_FIELDS, "participants")
    data = with_numbers(values, "programme_id")
    data["participants"] = split_list(values.get("participants"))
    result = perform(
        request,
        lambda s: service.create(s, actor=page.actor, data=ReviewCreate.model_validate(data)).id,
    )
    if isinstance(result, Refusal):
        return options.plan_form(request, page, "reviews/new.html", "reviews", values, result)
    return see_other(f"/reviews/{result}")


def _record(
    request: Request,
    page: Page,
    review_id: int,
    refusal: Refusal | None = None,
    values: dict[str, Any] | None = None,
    form_name: str | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        review = service.get(session, actor=page.actor, review_id=review_id)
        # What closing signs, shown before it is signed.
        closing = statements.review_approved(review.number, conclusion=review.conclusion)
        return {
            "review": service.to_read(session, page.actor, review),
            "owners": options.owners(session),
            "people": accounts.display_names(session),
            "signing": signing.shown(
                session, page, {"closed": (SignatureMeaning.approved, closing)}
            ),
            "comments": comments.to_reads(
                session,
                comments.all_comments(
                    session, record=CommentedRecord.management_review, record_id=review.id
                ),
            ),
            "evidence": [
                evidence.to_read(f)
                for f in evidence.list_files(
                    session, actor=page.actor, record="management_review", record_id=review.id
                )
            ],
            "files_open": evidence.changeable(
                session, actor=page.actor, record="management_review", record_id=review.id
            ),
        }

    data = read(request, load)
    review = data["review"]
    moves = [
        move
        for move in MANAGEMENT_REVIEW.moves
        if move.source == review.status.value and page.can("review.manage")
    ]
    return render(
        page,
        request,
        "reviews/record.html",
        section="reviews",
        review=review,
        people=data["people"],
        comments=data["comments"],
        evidence=data["evidence"],
        files_open=data["files_open"],
        moves=moves,
        signing=data["signing"],
        refusal=refusal,
        values=values or {},
        form_name=form_name,
        options={
            "kind": choices(DecisionKind, page.lang),
            "type": choices(ActionType, page.lang, page.t("(no action)")),
            "owner": data["owners"],
        },
    )


@router.get("/reviews/{review_id:id}")
def review_record(
    request: Request, review_id: int, page: Annotated[Page, page_for(Action.review_read)]
) -> Response:
    """One review: its inputs section by section, decisions, conclusion and moves."""
    return _record(request, page, review_id)


def _after(
    request: Request,
    page: Page,
    review_id: int,
    form_name: str,
    values: dict[str, Any],
    result: object,
) -> Response:
    if isinstance(result, Refusal):
        return _record(request, page, review_id, result, values, form_name)
    return see_other(f"/reviews/{review_id}")


@router.post("/reviews/{review_id:id}/record")
def record_review(
    request: Request,
    review_id: int,
    page: Annotated[Page, page_for(Action.review_manage)],
    form: Form,
) -> Response:
    """Save who took part and the conclusion (until the review is closed)."""
    values = form_values(form, "participants")
    values["conclusion"] = str(form.get("conclusion") or "").strip()
    data: dict[str, Any] = {"conclusion": values["conclusion"]}
    if "participants" in form:
        data["participants"] = split_list(values.get("participants"))
    result = perform(
        request,
        lambda s: (
            service.update(
                s,
                actor=page.actor,
                review_id=review_id,
                data=ReviewUpdate.model_validate(data),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, review_id, "record", values, result)


@router.post("/reviews/{review_id:id}/decisions")
def decide(
    request: Request,
    review_id: int,
    page: Annotated[Page, page_for(Action.review_manage)],
    form: Form,
) -> Response:
    """Record a decision of the held review; with an action's type, open that action too."""
    values = form_values(form, "kind", "text", *(f"action_{name}" for name in ACTION_FIELDS))
    data: dict[str, Any] = {"kind": values.get("kind"), "text": values.get("text")}
    if values.get("action_type"):
        data["action"] = {name: values.get(f"action_{name}") for name in ACTION_FIELDS}
    result = perform(
        request,
        lambda s: (
            service.decide(
                s, actor=page.actor, review_id=review_id, data=DecisionCreate.model_validate(data)
            ).id
        ),
    )
    if isinstance(result, Refusal):
        # The action's fields are named action_<field> in the form, action.<field> in the schema.
        result.fields = {k.replace("action.", "action_"): v for k, v in result.fields.items()}
    return _after(request, page, review_id, "decision", values, result)


@router.post("/reviews/{review_id:id}/move")
def move_review(
    request: Request,
    review_id: int,
    page: Annotated[Page, page_for(Action.review_manage)],
    form: Form,
) -> Response:
    """Mark the review held (its inputs freeze), cancel it, or close it (signed)."""
    values = form_values(form, "to", "reason", "held_on")
    result = signing.perform_signed(
        request,
        page,
        form,
        lambda s, signature: (
            service.transition(
                s,
                actor=page.actor,
                review_id=review_id,
                data=Transition.model_validate({**values, "signature": signature}),
                if_match=form_version(form),
            ).id
        ),
    )
    return _after(request, page, review_id, f"move-{values.get('to')}", values, result)


@router.post("/reviews/{review_id:id}/comments")
def add_comment(
    request: Request,
    review_id: int,
    page: Annotated[Page, page_for(Action.comment_write)],
    form: Form,
) -> Response:
    """Comment on the management review; the comment is kept as written."""
    values = form_values(form, "text")
    result = perform(
        request,
        lambda s: (
            comments.add(
                s,
                actor=page.actor,
                record=CommentedRecord.management_review,
                record_id=review_id,
                data=CommentCreate.model_validate(values),
            ).id
        ),
    )
    if isinstance(result, Refusal):
        return _record(request, page, review_id, result, values, "comment")
    return see_other(f"/reviews/{review_id}")


def refused(
    request: Request, page: Page, review_id: int, refusal: Refusal, form_name: str
) -> Response:
    """Show the review's page again with a refusal of one of its forms."""
    return _record(request, page, review_id, refusal, {}, form_name)
