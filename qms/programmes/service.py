"""Programmes and cohorts: create, change, move through their life, all into the audit trail."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.pagination import Page
from qms.permissions import Action, Actor, require, require_unscoped
from qms.programmes import repository
from qms.programmes.models import Cohort, Programme, ProgrammeStatus
from qms.programmes.schemas import CohortCreate, CohortUpdate, ProgrammeCreate, ProgrammeUpdate
from qms.records import reject_nulls, snapshot
from qms.workflow import PROGRAMME

PROGRAMME_FIELDS = (
    "code",
    "name",
    "organiser",
    "target_group",
    "objectives",
    "min_meetings_per_month",
    "min_minutes_per_month",
    "length_months",
    "follow_up_at_midpoint",
    "max_mentees_per_mentor",
    "status",
)
COHORT_FIELDS = ("code", "name", "start_on", "midpoint_on", "end_on")
_NOT_NULL = {
    "name", "organiser", "target_group", "objectives", "start_on", "end_on",
    "follow_up_at_midpoint", "max_mentees_per_mentor",
}  # fmt: skip


def get_programme(session: Session, *, actor: Actor, programme_id: int) -> Programme:
    """Return a programme the actor may see, or raise NotFound."""
    require(actor, Action.programme_read)
    programme = session.get(Programme, programme_id)
    if programme is None or (actor.programme_id is not None and actor.programme_id != programme.id):
        raise NotFound(Text("There is no programme with the id %(id)s.", id=programme_id))
    return programme


def check_programme_field(
    session: Session, *, actor: Actor, programme_id: int | None, field: str = "programme_id"
) -> None:
    """Refuse a body that names a programme the actor cannot see, as a field error."""
    if programme_id is None:
        return
    try:
        get_programme(session, actor=actor, programme_id=programme_id)
    except NotFound:
        raise ValidationFailed(
            Text("The request names a programme that does not exist."),
            [FieldError(field, Text("There is no programme with the id %(id)s.", id=programme_id))],
        ) from None


def list_programmes(
    session: Session,
    *,
    actor: Actor,
    status: ProgrammeStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Programme]:
    """List the programmes the actor may see."""
    require(actor, Action.programme_read)
    return repository.list_programmes(
        session, scope=actor.programme_id, status=status, limit=limit, cursor=cursor
    )


def create_programme(session: Session, *, actor: Actor, data: ProgrammeCreate) -> Programme:
    """Create a programme in state planned."""
    require(actor, Action.programme_write)
    require_unscoped(actor, Action.programme_write)
    if repository.get_by_code(session, data.code) is not None:
        raise Conflict(
            Text(
                "A programme with the code %(code)s exists already: choose another code.",
                code=data.code,
            )
        )
    programme = Programme(**data.model_dump(), status=ProgrammeStatus.planned)
    session.add(programme)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="programme.created",
        entity="programme",
        entity_id=programme.id,
        programme_id=programme.id,
        changes=created(snapshot(programme, PROGRAMME_FIELDS)),
    )
    return programme


def update_programme(
    session: Session,
    *,
    actor: Actor,
    programme_id: int,
    data: ProgrammeUpdate,
    if_match: int | None,
) -> Programme:
    """Change a programme's fields, against the version the client read."""
    require(actor, Action.programme_write)
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    check_if_match(current=programme.version, if_match=if_match, what="programme")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, _NOT_NULL)
    before = snapshot(programme, PROGRAMME_FIELDS)
    for field, value in changes.items():
        setattr(programme, field, value)
    delta = diff(before, snapshot(programme, PROGRAMME_FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="programme.updated",
            entity="programme",
            entity_id=programme.id,
            programme_id=programme.id,
            changes=delta,
        )
    return programme


def transition_programme(
    session: Session,
    *,
    actor: Actor,
    programme_id: int,
    to: str,
    reason: str | None,
    if_match: int | None,
) -> Programme:
    """Move a programme along its life cycle (see qms.workflow.PROGRAMME)."""
    require(actor, Action.programme_write)
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    check_if_match(current=programme.version, if_match=if_match, what="programme")
    source = programme.status.value
    PROGRAMME.move(source, to, reason=reason)
    if to == ProgrammeStatus.running and not programme.cohorts:
        raise ValidationFailed(
            Text("A programme starts running with its first cohort."),
            [
                FieldError(
                    "to",
                    Text(
                        "Add a cohort before setting the programme to %(status)s.",
                        status=ProgrammeStatus.running,
                    ),
                )
            ],
        )
    programme.status = ProgrammeStatus(to)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="programme.transitioned",
        entity="programme",
        entity_id=programme.id,
        programme_id=programme.id,
        changes={"status": {"old": source, "new": to}},
        reason=reason,
    )
    return programme


def _check_cohort_dates(start_on: date, midpoint_on: date | None, end_on: date) -> None:
    errors = []
    if start_on >= end_on:
        errors.append(FieldError("end_on", Text("Enter an end date after the start date.")))
    if midpoint_on is not None and not start_on < midpoint_on < end_on:
        errors.append(
            FieldError(
                "midpoint_on", Text("Enter a midpoint between the start date and the end date.")
            )
        )
    if errors:
        raise ValidationFailed(Text("The cohort's dates are out of order."), errors)


def default_midpoint(start_on: date, end_on: date) -> date:
    """Return the day halfway through a cohort, where its mid-programme follow-up falls."""
    return start_on + (end_on - start_on) / 2


def create_cohort(
    session: Session, *, actor: Actor, programme_id: int, data: CohortCreate
) -> Cohort:
    """Add a cohort to a programme; its midpoint defaults to halfway."""
    require(actor, Action.programme_write)
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    if programme.status in (ProgrammeStatus.closed, ProgrammeStatus.cancelled):
        raise Conflict(
            Text(
                "Programme %(code)s is %(status)s: it takes no new cohorts.",
                code=programme.code,
                status=programme.status,
            )
        )
    midpoint = data.midpoint_on
    if midpoint is None and data.start_on < data.end_on:
        midpoint = default_midpoint(data.start_on, data.end_on)
    _check_cohort_dates(data.start_on, midpoint, data.end_on)
    if repository.get_cohort_by_code(session, programme.id, data.code) is not None:
        raise Conflict(
            Text(
                "Programme %(programme)s has a cohort %(code)s already: choose another code.",
                programme=programme.code,
                code=data.code,
            )
        )
    cohort = Cohort(
        programme_id=programme.id,
        code=data.code,
        name=data.name,
        start_on=data.start_on,
        midpoint_on=midpoint,
        end_on=data.end_on,
    )
    session.add(cohort)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="cohort.created",
        entity="cohort",
        entity_id=cohort.id,
        programme_id=programme.id,
        changes=created(snapshot(cohort, COHORT_FIELDS)),
    )
    return cohort


def get_cohort(session: Session, *, actor: Actor, cohort_id: int) -> Cohort:
    """Return a cohort the actor may see, or raise NotFound."""
    require(actor, Action.programme_read)
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or (
        actor.programme_id is not None and actor.programme_id != cohort.programme_id
    ):
        raise NotFound(Text("There is no cohort with the id %(id)s.", id=cohort_id))
    return cohort


def list_cohorts(session: Session, *, actor: Actor, programme_id: int) -> list[Cohort]:
    """List a programme's cohorts."""
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    return list(repository.list_cohorts(session, programme_id=programme.id))


def update_cohort(
    session: Session, *, actor: Actor, cohort_id: int, data: CohortUpdate, if_match: int | None
) -> Cohort:
    """Change a cohort's name or dates, against the version the client read."""
    require(actor, Action.programme_write)
    cohort = get_cohort(session, actor=actor, cohort_id=cohort_id)
    check_if_match(current=cohort.version, if_match=if_match, what="cohort")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, _NOT_NULL)
    before = snapshot(cohort, COHORT_FIELDS)
    merged = {**before, **changes}
    _check_cohort_dates(merged["start_on"], merged["midpoint_on"], merged["end_on"])
    for field, value in changes.items():
        setattr(cohort, field, value)
    delta = diff(before, snapshot(cohort, COHORT_FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="cohort.updated",
            entity="cohort",
            entity_id=cohort.id,
            programme_id=cohort.programme_id,
            changes=delta,
        )
    return cohort
