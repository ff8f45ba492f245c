"""Schedule mid-programme follow-ups, record them, and show where a cohort stands."""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.deviations.models import Deviation
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.followups.models import FollowUp, FollowUpOutcome
from qms.followups.schemas import CohortFollowUps, FollowUpRead, FollowUpRecord
from qms.i18n import Text
from qms.pairs import service as pairs
from qms.pairs.models import Pair
from qms.permissions import Action, Actor, require
from qms.programmes import service as programmes
from qms.records import snapshot

ANSWERS = (
    "held_on",
    "held_by",
    "expectations_clarified",
    "goal_progress",
    "meeting_frequency_kept",
    "relationship_rating",
    "extra_support_needed",
    "notes",
    "outcome",
    "decision",
    "deviation_id",
    "requirements",
)


def state(follow_up: FollowUp, on: date) -> Literal["held", "due", "overdue"]:
    """Say whether the follow-up is held, due, or overdue on the date."""
    if follow_up.held_on is not None:
        return "held"
    return "overdue" if follow_up.scheduled_on < on else "due"


def to_read(follow_up: FollowUp) -> FollowUpRead:
    """Shape a follow-up for the API (pair and participant codes only)."""
    pair = follow_up.pair
    return FollowUpRead(
        id=follow_up.id,
        pair_id=pair.id,
        pair_code=pair.code,
        mentor_code=pair.mentor.code,
        mentee_code=pair.mentee.code,
        scheduled_on=follow_up.scheduled_on,
        state=state(follow_up, pairs.today()),
        held_on=follow_up.held_on,
        held_by=follow_up.held_by,
        expectations_clarified=follow_up.expectations_clarified,
        goal_progress=follow_up.goal_progress,
        meeting_frequency_kept=follow_up.meeting_frequency_kept,
        relationship=follow_up.relationship_rating,
        extra_support_needed=follow_up.extra_support_needed,
        notes=follow_up.notes,
        outcome=follow_up.outcome,
        decision=follow_up.decision,
        deviation_id=follow_up.deviation_id,
        requirements=list(follow_up.requirements or []),
        created_at=follow_up.created_at,
        updated_at=follow_up.updated_at,
        version=follow_up.version,
    )


def get(session: Session, *, actor: Actor, follow_up_id: int) -> FollowUp:
    """Return a follow-up the actor may see, or raise NotFound."""
    require(actor, Action.followup_read)
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or actor.programme_id not in (None, pairs.programme_of(follow_up.pair)):
        raise NotFound(Text("There is no follow-up with the id %(id)s.", id=follow_up_id))
    return follow_up


def _of_pair(session: Session, pair_id: int) -> FollowUp | None:
    return session.scalars(
        select(FollowUp).where(FollowUp.pair_id == pair_id).order_by(FollowUp.id.desc())
    ).first()


def _schedule(session: Session, actor: Actor, pair: Pair, on: date) -> FollowUp:
    follow_up = FollowUp(pair_id=pair.id, scheduled_on=on)
    follow_up.pair = pair
    session.add(follow_up)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="follow_up.scheduled",
        entity="follow_up",
        entity_id=follow_up.id,
        programme_id=pairs.programme_of(pair),
        changes=created({"pair": pair.code, "scheduled_on": on, **snapshot(follow_up, ANSWERS)}),
    )
    return follow_up


def schedule_cohort(
    session: Session, *, actor: Actor, cohort_id: int, on: date | None
) -> list[FollowUp]:
    """Schedule a follow-up for each live pair of the cohort that has none; return the new ones."""
    require(actor, Action.followup_write)
    cohort = programmes.get_cohort(session, actor=actor, cohort_id=cohort_id)
    when = on or cohort.midpoint_on
    if when is None:
        raise ValidationFailed(
            Text("The cohort has no midpoint."),
            [FieldError("on", Text("Enter the date of the follow-ups."))],
        )
    if not cohort.start_on <= when <= cohort.end_on:
        raise ValidationFailed(
            Text("The date is outside the cohort."),
            [
                FieldError(
                    "on",
                    Text(
                        "Enter a date within the cohort, from %(first)s to %(last)s.",
                        first=cohort.start_on,
                        last=cohort.end_on,
                    ),
                )
            ],
        )
    # The pairs are locked before their follow-ups are read: two people scheduling at once
    # take turns, and the second finds the first's follow-ups instead of adding its own.
    live = session.scalars(
        select(Pair)
        .where(Pair.cohort_id == cohort.id, Pair.status.in_(pairs.LIVE))
        .order_by(Pair.id)
        .with_for_update()
    ).all()
    return [_schedule(session, actor, p, when) for p in live if _of_pair(session, p.id) is None]


def schedule_pair(session: Session, *, actor: Actor, pair_id: int, on: date) -> FollowUp:
    """Schedule a pair's follow-up on a date the coordinator sets (or move one not yet held)."""
    require(actor, Action.followup_write)
    pair = pairs.get(session, actor=actor, pair_id=pair_id)
    if pair.status not in pairs.LIVE:
        raise Conflict(
            Text(
                "%(code)s is %(status)s: only a matched or active pair has a follow-up to come.",
                code=pair.code,
                status=pair.status,
            )
        )
    cohort = pair.mentee.cohort
    if not cohort.start_on <= on <= cohort.end_on:
        raise ValidationFailed(
            Text("The date is outside the cohort."),
            [
                FieldError(
                    "scheduled_on",
                    Text(
                        "Enter a date within the cohort, from %(first)s to %(last)s.",
                        first=cohort.start_on,
                        last=cohort.end_on,
                    ),
                )
            ],
        )
    session.execute(select(Pair.id).where(Pair.id == pair.id).with_for_update())
    existing = _of_pair(session, pair.id)
    if existing is None or existing.held_on is not None:
        return _schedule(session, actor, pair, on)
    before = existing.scheduled_on
    existing.scheduled_on = on
    session.flush()
    record_event(
        session,
        actor=actor,
        action="follow_up.rescheduled",
        entity="follow_up",
        entity_id=existing.id,
        programme_id=pairs.programme_of(pair),
        changes=diff({"scheduled_on": before}, {"scheduled_on": on}),
    )
    return existing


def record(
    session: Session,
    *,
    actor: Actor,
    follow_up_id: int,
    data: FollowUpRecord,
    if_match: int | None,
) -> FollowUp:
    """Record a follow-up as held; an at-risk outcome needs a linked deviation or a decision."""
    require(actor, Action.followup_write)
    follow_up = get(session, actor=actor, follow_up_id=follow_up_id)
    check_if_match(current=follow_up.version, if_match=if_match, what="follow-up")
    pair = follow_up.pair
    if pair.status not in pairs.LIVE:
        raise Conflict(
            Text(
                "%(code)s is %(status)s: its follow-up can no longer be held.",
                code=pair.code,
                status=pair.status,
            )
        )
    if follow_up.held_on is not None:
        raise Conflict(
            Text(
                "The follow-up of %(code)s was recorded already, as held on %(day)s.",
                code=pair.code,
                day=follow_up.held_on,
            )
        )
    errors = []
    cohort = pair.mentee.cohort
    if not cohort.start_on <= data.held_on <= min(cohort.end_on, pairs.today()):
        errors.append(
            FieldError(
                "held_on",
                Text(
                    "Enter a date from %(first)s to %(last)s that is not in the future.",
                    first=cohort.start_on,
                    last=cohort.end_on,
                ),
            )
        )
    if data.outcome is FollowUpOutcome.at_risk and not (data.decision or data.deviation_id):
        errors.append(
            FieldError(
                "decision",
                Text(
                    "Write the decision, or link a deviation, when the outcome is %(outcome)s.",
                    outcome=FollowUpOutcome.at_risk,
                ),
            )
        )
    if data.deviation_id is not None:
        deviation = session.get(Deviation, data.deviation_id)
        if deviation is None or actor.programme_id not in (None, deviation.programme_id):
            errors.append(
                FieldError(
                    "deviation_id",
                    Text("There is no deviation with the id %(id)s.", id=data.deviation_id),
                )
            )
    if errors:
        raise ValidationFailed(Text("The follow-up cannot be recorded as given."), errors)
    before = snapshot(follow_up, ANSWERS)
    values = data.model_dump()
    values["relationship_rating"] = values.pop("relationship")
    values["held_by"] = data.held_by or actor.name
    for field, value in values.items():
        setattr(follow_up, field, value)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="follow_up.recorded",
        entity="follow_up",
        entity_id=follow_up.id,
        programme_id=pairs.programme_of(pair),
        changes=diff(before, snapshot(follow_up, ANSWERS)),
    )
    return follow_up


def cohort_board(session: Session, *, actor: Actor, cohort_id: int) -> CohortFollowUps:
    """Return a cohort's follow-ups and how many are held, due and overdue."""
    require(actor, Action.followup_read)
    cohort = programmes.get_cohort(session, actor=actor, cohort_id=cohort_id)
    rows = session.scalars(
        select(FollowUp)
        .join(Pair, Pair.id == FollowUp.pair_id)
        .where(Pair.cohort_id == cohort.id)
        .order_by(FollowUp.scheduled_on, FollowUp.id)
    ).all()
    items = [to_read(f) for f in rows]
    count = {s: sum(1 for i in items if i.state == s) for s in ("held", "due", "overdue")}
    return CohortFollowUps(cohort_id=cohort.id, items=items, **count)
