"""Management reviews (ISO 9001 9.3): the inputs compiled for a period, who took part, the
decisions (each of which may open an action), the conclusion and its signature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.actions import service as actions
from qms.actions.models import CorrectiveAction
from qms.audit.service import created, diff, record_event
from qms.audits.inputs import compile_inputs
from qms.audits.models import (
    ManagementReview,
    ReviewDecision,
    ReviewStatus,
)
from qms.audits.schemas import (
    DecisionCreate,
    ReviewCreate,
    ReviewDecisionRead,
    ReviewInputs,
    ReviewRead,
    ReviewUpdate,
    Transition,
    frozen_inputs,
)
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.periods import check_range
from qms.permissions import Action, Actor, require
from qms.programmes import service as programmes
from qms.records import reject_nulls, snapshot
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.signatures.service import sign
from qms.workflow import MANAGEMENT_REVIEW

FIELDS = (
    "title",
    "programme_id",
    "period_start",
    "period_end",
    "planned_on",
    "held_on",
    "participants",
    "conclusion",
    "status",
)


def inputs_of(session: Session, actor: Actor, review: ManagementReview) -> ReviewInputs:
    """The inputs as they were frozen when the review was held, or as the records stand now."""
    if review.inputs is not None:
        return frozen_inputs(review.inputs)
    return compile_inputs(
        session,
        actor=actor,
        programme_id=review.programme_id,
        period_start=review.period_start,
        period_end=review.period_end,
        review_id=review.id,
    )


def decision_to_read(session: Session, decision: ReviewDecision) -> ReviewDecisionRead:
    """Shape a decision for the API, with where its action stands."""
    action = session.get(CorrectiveAction, decision.action_id) if decision.action_id else None
    return ReviewDecisionRead(
        id=decision.id,
        position=decision.position,
        kind=decision.kind,
        text=decision.text,
        action_id=decision.action_id,
        action_number=action.number if action else None,
        action_status=action.status.value if action else None,
        decided_by=decision.decided_by,
    )


def to_read(session: Session, actor: Actor, review: ManagementReview) -> ReviewRead:
    """Shape a review for the API."""
    return ReviewRead(
        id=review.id,
        number=review.number,
        **snapshot(review, FIELDS),
        inputs=inputs_of(session, actor, review),
        inputs_frozen=review.inputs is not None,
        decisions=[decision_to_read(session, d) for d in review.decisions],
        closed_at=review.closed_at,
        created_by=review.created_by,
        allowed_transitions=MANAGEMENT_REVIEW.allowed_from(review.status.value),
        version=review.version,
    )


def get(session: Session, *, actor: Actor, review_id: int) -> ManagementReview:
    """Return a review the actor may see, or raise NotFound."""
    require(actor, Action.review_read)
    review = session.get(ManagementReview, review_id)
    if review is None or actor.programme_id not in (None, review.programme_id):
        raise NotFound(Text("There is no management review with the id %(id)s.", id=review_id))
    return review


def list_reviews(
    session: Session, *, actor: Actor, status: ReviewStatus | None = None
) -> Sequence[ManagementReview]:
    """List reviews, latest first."""
    require(actor, Action.review_read)
    stmt = select(ManagementReview).order_by(
        ManagementReview.planned_on.desc(), ManagementReview.id.desc()
    )
    if status is not None:
        stmt = stmt.where(ManagementReview.status == status)
    if actor.programme_id is not None:
        stmt = stmt.where(ManagementReview.programme_id == actor.programme_id)
    return list(session.scalars(stmt.limit(500)))


def preview(
    session: Session,
    *,
    actor: Actor,
    programme_id: int | None,
    period_start: Any,
    period_end: Any,
) -> ReviewInputs:
    """Compile the 9.3.2 inputs for a period without planning a review."""
    require(actor, Action.review_read)
    check_range(period_start, period_end)
    if actor.programme_id is not None and programme_id != actor.programme_id:
        raise NotFound(
            Text("This token is limited to another programme: choose its own programme.")
        )
    if programme_id is not None:
        programmes.get_programme(session, actor=actor, programme_id=programme_id)
    return compile_inputs(
        session,
        actor=actor,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
    )


def create(session: Session, *, actor: Actor, data: ReviewCreate) -> ManagementReview:
    """Plan a management review of a period; it is numbered MR-YYYY-NNNN."""
    require(actor, Action.review_manage)
    values = data.model_dump()
    check_range(data.period_start, data.period_end)
    programmes.check_programme_field(session, actor=actor, programme_id=data.programme_id)
    now = utcnow()
    seq, number = next_number(session, series="MR", year=now.year)
    review = ManagementReview(
        number=number,
        year=now.year,
        seq=seq,
        status=ReviewStatus.planned,
        created_by=actor.name,
        **values,
    )
    session.add(review)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="review.planned",
        entity="management_review",
        entity_id=review.id,
        programme_id=review.programme_id,
        changes=created({"number": number, **snapshot(review, FIELDS)}),
    )
    return review


def update(
    session: Session, *, actor: Actor, review_id: int, data: ReviewUpdate, if_match: int | None
) -> ManagementReview:
    """Change a review not yet closed; the period only while it is planned."""
    require(actor, Action.review_manage)
    review = get(session, actor=actor, review_id=review_id)
    check_if_match(current=review.version, if_match=if_match, what="management review")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, changes.keys())
    if review.status in (ReviewStatus.closed, ReviewStatus.cancelled):
        raise Conflict(
            Text(
                "%(number)s is %(status)s: it can no longer change.",
                number=review.number,
                status=review.status,
            )
        )
    if {
        "period_start",
        "period_end",
    } & changes.keys() and review.status is not ReviewStatus.planned:
        raise Conflict(
            Text("%(number)s was held: its period is frozen with its inputs.", number=review.number)
        )
    check_range(
        changes.get("period_start", review.period_start),
        changes.get("period_end", review.period_end),
    )
    before = snapshot(review, FIELDS)
    for field, value in changes.items():
        setattr(review, field, value)
    delta = diff(before, snapshot(review, FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="review.updated",
            entity="management_review",
            entity_id=review.id,
            programme_id=review.programme_id,
            changes=delta,
        )
    return review


def decide(
    session: Session, *, actor: Actor, review_id: int, data: DecisionCreate
) -> ReviewDecision:
    """Record a decision of a held review; with an action, open it on the spot."""
    require(actor, Action.review_manage)
    review = get(session, actor=actor, review_id=review_id)
    if review.status is not ReviewStatus.held:
        raise Conflict(
            Text(
                "%(number)s is %(status)s: decisions are recorded once it is %(held)s.",
                number=review.number,
                status=review.status,
                held=ReviewStatus.held,
            )
        )
    action = None
    if data.action is not None:
        action = actions.open_unlinked(
            session, actor=actor, data=data.action, field_prefix="action."
        )
    decision = ReviewDecision(
        review_id=review.id,
        position=max((d.position for d in review.decisions), default=0) + 1,
        kind=data.kind,
        text=data.text,
        action_id=action.id if action else None,
        decided_by=actor.name,
    )
    session.add(decision)
    review.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="review.decided",
        entity="management_review",
        entity_id=review.id,
        programme_id=review.programme_id,
        changes=created(
            {
                "decision": decision.position,
                "kind": data.kind.value,
                "text": data.text,
                "action": action.number if action else None,
            }
        ),
    )
    session.refresh(review)
    return decision


def record_content(session: Session, actor: Actor, review: ManagementReview) -> dict[str, Any]:
    """What the closing signature covers: inputs, participants, decisions, conclusion."""
    return {
        "number": review.number,
        **{k: v for k, v in snapshot(review, FIELDS).items() if k != "status"},
        "inputs": review.inputs,
        "decisions": [[d.position, d.kind.value, d.text, d.action_id] for d in review.decisions],
    }


def transition(
    session: Session, *, actor: Actor, review_id: int, data: Transition, if_match: int | None
) -> ManagementReview:
    """Move a review: planned -> held (the inputs freeze) -> closed (signed)."""
    require(actor, Action.review_manage)
    review = get(session, actor=actor, review_id=review_id)
    check_if_match(current=review.version, if_match=if_match, what="management review")
    MANAGEMENT_REVIEW.move(review.status.value, data.to, reason=data.reason, held_on=data.held_on)
    target = ReviewStatus(data.to)
    before = snapshot(review, FIELDS)
    if target is ReviewStatus.held:
        errors = []
        if data.held_on is not None and data.held_on < review.period_end:
            errors.append(
                FieldError(
                    "held_on",
                    Text(
                        "Enter a date on or after the end of the period, %(day)s.",
                        day=review.period_end,
                    ),
                )
            )
        if not review.participants:
            errors.append(
                FieldError(
                    "participants", Text("Name who took part before marking the review held.")
                )
            )
        if errors:
            raise ValidationFailed(
                Text("%(number)s cannot be marked held yet.", number=review.number), errors
            )
        review.held_on = data.held_on
        review.inputs = compile_inputs(
            session,
            actor=actor,
            programme_id=review.programme_id,
            period_start=review.period_start,
            period_end=review.period_end,
            review_id=review.id,
        ).model_dump(mode="json")
    if target is ReviewStatus.closed:
        if not review.conclusion.strip():
            raise ValidationFailed(
                Text("%(number)s cannot be closed yet.", number=review.number),
                [FieldError("conclusion", Text("Write the conclusion before closing the review."))],
            )
        review.closed_at = utcnow()
    review.status = target
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"review.{target.value}",
        entity="management_review",
        entity_id=review.id,
        programme_id=review.programme_id,
        changes=diff(before, snapshot(review, FIELDS)),
        reason=data.reason,
    )
    if target is ReviewStatus.closed:
        sign(
            session,
            actor=actor,
            entity="management_review",
            entity_id=review.id,
            meaning=SignatureMeaning.approved,
            content=record_content(session, actor, review),
            statement=statements.review_approved(review.number, conclusion=review.conclusion),
            confirmation=data.signature,
            programme_id=review.programme_id,
        )
    return review
