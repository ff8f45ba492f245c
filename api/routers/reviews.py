"""Management reviews: inputs compiled from the records, decisions, conclusion, signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import IdPath, IfMatch, SessionDep, allowed, etag
from api.problems import responses
from api.signing import ReaderLanguage, in_language
from qms.audits import reviews as service
from qms.audits.models import ReviewStatus
from qms.audits.schemas import (
    DecisionCreate,
    ReviewCreate,
    ReviewDecisionRead,
    ReviewInputs,
    ReviewRead,
    ReviewUpdate,
    Transition,
)
from qms.fields import MAX_INT, IsoDate
from qms.permissions import Action, Actor

router = APIRouter(prefix="/api/v1/reviews", tags=["management reviews"])


@router.get("", response_model=list[ReviewRead], responses=responses(401, 403, 422))
def list_reviews(
    actor: Annotated[Actor, allowed(Action.review_read)],
    session: SessionDep,
    status: ReviewStatus | None = None,
) -> list[ReviewRead]:
    """List management reviews, latest first."""
    return [
        service.to_read(session, actor, r)
        for r in service.list_reviews(session, actor=actor, status=status)
    ]


@router.get("/inputs", response_model=ReviewInputs, responses=responses(401, 403, 404, 422))
def review_inputs(
    actor: Annotated[Actor, allowed(Action.review_read)],
    session: SessionDep,
    period_start: IsoDate,
    period_end: IsoDate,
    programme_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> ReviewInputs:
    """Compile the ISO 9001 9.3.2 inputs for a period from the records, without a review."""
    return service.preview(
        session,
        actor=actor,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
    )


@router.post(
    "", status_code=201, response_model=ReviewRead, responses=responses(401, 403, 409, 422)
)
def plan_review(
    actor: Annotated[Actor, allowed(Action.review_manage)],
    data: ReviewCreate,
    session: SessionDep,
    response: Response,
) -> ReviewRead:
    """Plan a management review of a period (numbered MR-YYYY-NNNN)."""
    review = service.create(session, actor=actor, data=data)
    response.headers["ETag"] = etag(review.version)
    response.headers["Location"] = f"/api/v1/reviews/{review.id}"
    return service.to_read(session, actor, review)


@router.get("/{review_id:int}", response_model=ReviewRead, responses=responses(401, 403, 404, 422))
def get_review(
    actor: Annotated[Actor, allowed(Action.review_read)],
    review_id: IdPath,
    session: SessionDep,
    response: Response,
) -> ReviewRead:
    """Return a review: its inputs (live until held, frozen after), decisions, conclusion."""
    review = service.get(session, actor=actor, review_id=review_id)
    response.headers["ETag"] = etag(review.version)
    return service.to_read(session, actor, review)


@router.patch(
    "/{review_id:int}",
    response_model=ReviewRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def update_review(
    actor: Annotated[Actor, allowed(Action.review_manage)],
    review_id: IdPath,
    data: ReviewUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
) -> ReviewRead:
    """Change a review not yet closed (the period only while planned)."""
    review = service.update(session, actor=actor, review_id=review_id, data=data, if_match=if_match)
    response.headers["ETag"] = etag(review.version)
    return service.to_read(session, actor, review)


@router.post(
    "/{review_id:int}/transitions",
    response_model=ReviewRead,
    responses=responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_review(
    actor: Annotated[Actor, allowed(Action.review_manage)],
    review_id: IdPath,
    data: Transition,
    session: SessionDep,
    response: Response,
    if_match: IfMatch,
    language: ReaderLanguage,
) -> ReviewRead:
    """Move a review: planned -> held (inputs freeze) -> closed (signed)."""
    data.signature = in_language(data.signature, language)
    review = service.transition(
        session, actor=actor, review_id=review_id, data=data, if_match=if_match
    )
    response.headers["ETag"] = etag(review.version)
    return service.to_read(session, actor, review)


@router.post(
    "/{review_id:int}/decisions",
    status_code=201,
    response_model=ReviewDecisionRead,
    responses=responses(401, 403, 404, 409, 422),
)
def decide(
    actor: Annotated[Actor, allowed(Action.review_manage)],
    review_id: IdPath,
    data: DecisionCreate,
    session: SessionDep,
) -> ReviewDecisionRead:
    """Record a decision of a held review; with "action", open that action too."""
    decision = service.decide(session, actor=actor, review_id=review_id, data=data)
    return service.decision_to_read(session, decision)
