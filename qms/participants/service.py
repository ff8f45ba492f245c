"""Participants: enrol, change, erase personal data; mentees' learning-plan goals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page, ordering, paginate
from qms.participants.models import (
    Goal,
    GoalStatus,
    Participant,
    ParticipantPersonal,
    ParticipantRole,
)
from qms.participants.schemas import (
    GoalCreate,
    GoalRead,
    GoalUpdate,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
    PersonalData,
    PersonalRead,
)
from qms.permissions import Action, Actor, require
from qms.programmes.models import Cohort
from qms.records import reject_nulls, snapshot

FIELDS = (
    "cohort_id",
    "role",
    "field",
    "competence_needs",
    "career_goals",
    "screened_on",
    "screened_by",
    "training_modules",
    "consent_on",
)
PERSONAL = ("name", "email", "phone")
GOAL_FIELDS = ("title", "description", "target_on", "progress", "status")


def to_read(participant: Participant, actor: Actor) -> ParticipantRead:
    """Shape a participant for the API; personal data only for roles that may see it."""
    personal = None
    if actor.can(Action.participant_personal_read) and participant.personal is not None:
        p = participant.personal
        personal = PersonalRead(name=p.name, email=p.email, phone=p.phone, erased_at=p.erased_at)
    values: dict[str, Any] = snapshot(participant, FIELDS)
    return ParticipantRead(
        id=participant.id,
        code=participant.code,
        programme_id=programme_of(participant),
        **values,
        personal=personal,
        created_at=participant.created_at,
        updated_at=participant.updated_at,
        version=participant.version,
    )


def programme_of(participant: Participant) -> int:
    """Return the programme a participant's cohort belongs to."""
    return participant.cohort.programme_id


def _cohort(session: Session, actor: Actor, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or (actor.programme_id not in (None, cohort.programme_id)):
        raise ValidationFailed(
            Text("The participant names a cohort that does not exist."),
            [FieldError("cohort_id", Text("There is no cohort with the id %(id)s.", id=cohort_id))],
        )
    return cohort


def _visible(actor: Actor, participant: Participant) -> bool:
    return actor.programme_id is None or programme_of(participant) == actor.programme_id


def get(session: Session, *, actor: Actor, participant_id: int) -> Participant:
    """Return a participant the actor may see, or raise NotFound."""
    require(actor, Action.participant_read)
    participant = session.get(Participant, participant_id)
    if participant is None or not _visible(actor, participant):
        raise NotFound(Text("There is no participant with the id %(id)s.", id=participant_id))
    return participant


def get_by_code(session: Session, *, actor: Actor, code: str) -> Participant:
    """Return a participant by code (P-0042), or raise NotFound."""
    require(actor, Action.participant_read)
    participant = session.scalars(
        select(Participant).where(Participant.code == code.strip().upper())
    ).one_or_none()
    if participant is None or not _visible(actor, participant):
        raise NotFound(Text("There is no participant %(code)s.", code=code.strip().upper()))
    return participant


# The columns a participant list sorts by ("-consent": the other way round).
SORTS: dict[str, Any] = {
    "code": Participant.id,
    "role": Participant.role,
    "cohort": Cohort.start_on,
    "field": Participant.field,
    "screened": Participant.screened_on,
    "consent": Participant.consent_on,
}


def list_participants(
    session: Session,
    *,
    actor: Actor,
    cohort_id: int | None = None,
    programme_id: int | None = None,
    role: ParticipantRole | None = None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> Page[Participant]:
    """List participants in enrolment order, or sorted by a column of SORTS."""
    require(actor, Action.participant_read)
    stmt = (
        select(Participant)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .options(selectinload(Participant.cohort), selectinload(Participant.personal))
    )
    for scope in {actor.programme_id, programme_id} - {None}:
        stmt = stmt.where(Cohort.programme_id == scope)
    if cohort_id is not None:
        stmt = stmt.where(Participant.cohort_id == cohort_id)
    if role is not None:
        stmt = stmt.where(Participant.role == role)
    return paginate(
        session, stmt, key=Participant.id, limit=limit, cursor=cursor, order=ordering(sort, SORTS)
    )


def create(session: Session, *, actor: Actor, data: ParticipantCreate) -> Participant:
    """Enrol a participant in a cohort under a new pseudonymous code."""
    require(actor, Action.participant_write)
    cohort = _cohort(session, actor, data.cohort_id)
    _, code = next_number(session, series="P", year=0)
    values = data.model_dump(exclude={"personal"})
    participant = Participant(code=code, **values)
    participant.cohort = cohort
    personal = data.personal or PersonalData()
    participant.personal = ParticipantPersonal(**personal.model_dump())
    session.add(participant)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="participant.created",
        entity="participant",
        entity_id=participant.id,
        programme_id=cohort.programme_id,
        changes=created(
            {"code": code, **snapshot(participant, FIELDS), **personal.model_dump()},
            personal=PERSONAL,
        ),
    )
    return participant


def update(
    session: Session,
    *,
    actor: Actor,
    participant_id: int,
    data: ParticipantUpdate,
    if_match: int | None,
) -> Participant:
    """Change a participant; personal fields are recorded as changed, never with their values."""
    require(actor, Action.participant_write)
    participant = get(session, actor=actor, participant_id=participant_id)
    check_if_match(current=participant.version, if_match=if_match, what="participant")
    changes = data.model_dump(exclude_unset=True, exclude={"personal"})
    reject_nulls(changes, {"field", "competence_needs", "career_goals", "training_modules"})
    personal_changes = data.personal.model_dump(exclude_unset=True) if data.personal else {}
    record = participant.personal
    if personal_changes and record.erased_at is not None:
        raise Conflict(
            Text(
                "The personal data of %(code)s was erased and stays erased: it cannot be "
                "entered again.",
                code=participant.code,
            )
        )
    before = {**snapshot(participant, FIELDS), **snapshot(record, PERSONAL)}
    for field, value in changes.items():
        setattr(participant, field, value)
    for field, value in personal_changes.items():
        setattr(record, field, value)
    delta = diff(
        before, {**snapshot(participant, FIELDS), **snapshot(record, PERSONAL)}, personal=PERSONAL
    )
    if delta:
        if delta.keys() & set(PERSONAL):
            # The personal part is its own row: touch the participant so its version moves on
            # (only when it changed: a save that changes nothing leaves no trace and no event).
            participant.updated_at = utcnow()
        session.flush()
        record_event(
            session,
            actor=actor,
            action="participant.updated",
            entity="participant",
            entity_id=participant.id,
            programme_id=programme_of(participant),
            changes=delta,
        )
    return participant


def erase(
    session: Session, *, actor: Actor, participant_id: int, reason: str | None
) -> Participant:
    """Blank a participant's personal data for good; every other record stays."""
    require(actor, Action.participant_write)
    participant = get(session, actor=actor, participant_id=participant_id)
    record = participant.personal
    if record.erased_at is not None:
        raise Conflict(
            Text("The personal data of %(code)s is erased already.", code=participant.code)
        )
    had = [f for f in PERSONAL if getattr(record, f) is not None]
    record.name = record.email = record.phone = None
    record.erased_at = utcnow()
    participant.updated_at = record.erased_at
    session.flush()
    record_event(
        session,
        actor=actor,
        action="participant.erased",
        entity="participant",
        entity_id=participant.id,
        programme_id=programme_of(participant),
        changes={f: {"changed": True} for f in had},
        reason=reason,
    )
    return participant


def _mentee(session: Session, actor: Actor, participant_id: int) -> Participant:
    participant = get(session, actor=actor, participant_id=participant_id)
    if participant.role is not ParticipantRole.mentee:
        raise ValidationFailed(
            Text("Learning-plan goals belong to mentees."),
            [
                FieldError(
                    "participant_id",
                    Text("%(code)s is a mentor: choose a mentee.", code=participant.code),
                )
            ],
        )
    return participant


def goal_to_read(goal: Goal) -> GoalRead:
    """Shape a goal for the API."""
    return GoalRead.model_validate(goal)


def list_goals(session: Session, *, actor: Actor, participant_id: int) -> list[Goal]:
    """List a mentee's learning-plan goals."""
    participant = get(session, actor=actor, participant_id=participant_id)
    return list(
        session.scalars(select(Goal).where(Goal.participant_id == participant.id).order_by(Goal.id))
    )


def create_goal(session: Session, *, actor: Actor, participant_id: int, data: GoalCreate) -> Goal:
    """Add a goal to a mentee's learning plan."""
    require(actor, Action.participant_write)
    mentee = _mentee(session, actor, participant_id)
    goal = Goal(participant_id=mentee.id, status=GoalStatus.open, **data.model_dump())
    session.add(goal)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="goal.created",
        entity="goal",
        entity_id=goal.id,
        programme_id=programme_of(mentee),
        changes=created({"participant": mentee.code, **snapshot(goal, GOAL_FIELDS)}),
    )
    return goal


def update_goal(
    session: Session, *, actor: Actor, goal_id: int, data: GoalUpdate, if_match: int | None
) -> Goal:
    """Change a goal or record its progress, against the version the client read."""
    require(actor, Action.participant_write)
    goal = session.get(Goal, goal_id)
    if goal is None:
        raise NotFound(Text("There is no goal with the id %(id)s.", id=goal_id))
    mentee = get(session, actor=actor, participant_id=goal.participant_id)
    check_if_match(current=goal.version, if_match=if_match, what="goal")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, {"title", "description", "progress", "status"})
    before = snapshot(goal, GOAL_FIELDS)
    for field, value in changes.items():
        setattr(goal, field, value)
    if goal.status is GoalStatus.achieved and "progress" not in changes:
        goal.progress = 100
    delta = diff(before, snapshot(goal, GOAL_FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="goal.updated",
            entity="goal",
            entity_id=goal.id,
            programme_id=programme_of(mentee),
            changes=delta,
        )
    return goal
