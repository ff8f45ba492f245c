"""Competence and awareness: competences each role needs, training records, the matrix of who
has what, and the read-and-understood acknowledgements asked for when a procedure is approved.

A participant's `training_modules` (kept on the participant before training records existed) are
not counted as training records: they are free text with neither a date, nor who gave the
training, nor evidence, and ISO 9001 7.2 asks for retained evidence of competence. A mentor's
training is recorded here (the demo records its mentors' modules so), and the modules stay on the
participant as the coordinator's note.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from qms.accounts.models import User
from qms.accounts.repository import get_user_by_name
from qms.audit.service import created, diff, record_event
from qms.competence.models import (
    Acknowledgement,
    Competence,
    CompetenceRole,
    TrainingRecord,
)
from qms.competence.schemas import (
    AcknowledgementRead,
    CompetenceCreate,
    CompetenceMatrixCell,
    CompetenceMatrixRead,
    CompetenceMatrixRow,
    CompetenceRead,
    CompetenceUpdate,
    TrainingRecordCreate,
    TrainingRecordRead,
    TrainingRecordUpdate,
)
from qms.concurrency import check_if_match
from qms.config import get_settings
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page, paginate
from qms.participants.models import Participant, ParticipantRole
from qms.permissions import Action, Actor, Role, require
from qms.procedures.models import Procedure, ProcedureVersion, VersionStatus
from qms.programmes.models import Cohort
from qms.records import reject_nulls, snapshot

COMPETENCE_FIELDS = (
    "code",
    "role",
    "title",
    "description",
    "obtained_by",
    "renewal_months",
    "before_matching",
    "is_active",
)
TRAINING_FIELDS = ("completed_on", "given_by", "notes", "expires_on", "recorded_by")
# The users' roles a competence of each role is asked of (a mentor is a participant, not a user).
USER_ROLES = {
    CompetenceRole.coordinator: Role.coordinator,
    CompetenceRole.quality_lead: Role.quality_lead,
}
# Who can be asked to acknowledge a procedure: the roles allowed to (procedure.acknowledge).
ACKNOWLEDGING = (Role.admin, Role.quality_lead, Role.coordinator)


def today() -> date:
    """Return today's date (UTC)."""
    return utcnow().date()


def add_months(day: date, months: int) -> date:
    """Return the same day so many months later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


# --- competences -------------------------------------------------------------------------------


def list_competences(
    session: Session,
    *,
    actor: Actor,
    role: CompetenceRole | None = None,
    active: bool | None = None,
) -> list[Competence]:
    """List the competences by role and code."""
    require(actor, Action.competence_read)
    stmt = select(Competence).order_by(Competence.role, Competence.code)
    if role is not None:
        stmt = stmt.where(Competence.role == role)
    if active is not None:
        stmt = stmt.where(Competence.is_active.is_(active))
    return list(session.scalars(stmt))


def get_competence(session: Session, *, actor: Actor, competence_id: int) -> Competence:
    """Return a competence, or raise NotFound."""
    require(actor, Action.competence_read)
    competence = session.get(Competence, competence_id)
    if competence is None:
        raise NotFound(Text("There is no competence with the id %(id)s.", id=competence_id))
    return competence


def get_competence_by_code(session: Session, code: str) -> Competence | None:
    """Return the competence with this code, if any."""
    return session.scalars(select(Competence).where(Competence.code == code)).one_or_none()


def _check_matching(role: CompetenceRole, before_matching: bool) -> None:
    if before_matching and role is not CompetenceRole.mentor:
        raise ValidationFailed(
            Text("Only a mentor's competence can be required before matching."),
            [FieldError("before_matching", Text("Leave this off for a user's role."))],
        )


def create_competence(session: Session, *, actor: Actor, data: CompetenceCreate) -> Competence:
    """Add a competence a role needs."""
    require(actor, Action.competence_write)
    if get_competence_by_code(session, data.code) is not None:
        raise ValidationFailed(
            Text("Competence %(code)s exists already.", code=data.code),
            [FieldError("code", Text("Choose another code."))],
        )
    _check_matching(data.role, data.before_matching)
    competence = Competence(**data.model_dump(), is_active=True)
    session.add(competence)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="competence.created",
        entity="competence",
        entity_id=competence.id,
        changes=created(snapshot(competence, COMPETENCE_FIELDS)),
    )
    return competence


def update_competence(
    session: Session,
    *,
    actor: Actor,
    competence_id: int,
    data: CompetenceUpdate,
    if_match: int | None,
) -> Competence:
    """Change a competence (or retire it: is_active false)."""
    require(actor, Action.competence_write)
    competence = get_competence(session, actor=actor, competence_id=competence_id)
    check_if_match(current=competence.version, if_match=if_match, what="competence")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, ("title", "description", "obtained_by", "before_matching", "is_active"))
    _check_matching(
        competence.role, bool(changes.get("before_matching", competence.before_matching))
    )
    before = snapshot(competence, COMPETENCE_FIELDS)
    for name, value in changes.items():
        setattr(competence, name, value)
    delta = diff(before, snapshot(competence, COMPETENCE_FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="competence.updated",
            entity="competence",
            entity_id=competence.id,
            changes=delta,
        )
    return competence


def competence_to_read(competence: Competence) -> CompetenceRead:
    """Shape a competence for the API."""
    return CompetenceRead.model_validate(competence)


# --- training records --------------------------------------------------------------------------


def _programme_of(record: TrainingRecord) -> int | None:
    return record.participant.cohort.programme_id if record.participant is not None else None


def _visible(actor: Actor, record: TrainingRecord) -> bool:
    # A coordinator kept to one programme sees that programme's mentors and the staff's records.
    return actor.programme_id is None or _programme_of(record) in (None, actor.programme_id)


def _mentors_of(programme_id: int) -> Select[Any]:
    return (
        select(Participant.id)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .where(Cohort.programme_id == programme_id)
    )


@dataclass(frozen=True)
class TrainingFilter:
    """What a list of training records is narrowed to."""

    competence_id: int | None = None
    user: str | None = None
    participant: str | None = None
    programme_id: int | None = None
    expired: bool | None = None


def list_training_records(
    session: Session,
    *,
    actor: Actor,
    filters: TrainingFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TrainingRecord]:
    """List the training records the actor may see, newest first."""
    require(actor, Action.competence_read)
    stmt = select(TrainingRecord).options(
        selectinload(TrainingRecord.competence),
        selectinload(TrainingRecord.user),
        selectinload(TrainingRecord.participant).selectinload(Participant.cohort),
    )
    if actor.programme_id is not None:
        stmt = stmt.where(
            TrainingRecord.participant_id.is_(None)
            | TrainingRecord.participant_id.in_(_mentors_of(actor.programme_id))
        )
    if filters.programme_id is not None:
        stmt = stmt.where(TrainingRecord.participant_id.in_(_mentors_of(filters.programme_id)))
    if filters.competence_id is not None:
        stmt = stmt.where(TrainingRecord.competence_id == filters.competence_id)
    if filters.user is not None:
        stmt = stmt.where(
            TrainingRecord.user_id.in_(select(User.id).where(User.name == filters.user))
        )
    if filters.participant is not None:
        stmt = stmt.where(
            TrainingRecord.participant_id.in_(
                select(Participant.id).where(Participant.code == filters.participant)
            )
        )
    if filters.expired is True:
        stmt = stmt.where(TrainingRecord.expires_on < today())
    elif filters.expired is False:
        stmt = stmt.where(
            TrainingRecord.expires_on.is_(None) | (TrainingRecord.expires_on >= today())
        )
    return paginate(
        session, stmt, key=TrainingRecord.id, limit=limit, cursor=cursor, descending=True
    )


def get_training_record(session: Session, *, actor: Actor, record_id: int) -> TrainingRecord:
    """Return a training record the actor may see, or raise NotFound."""
    require(actor, Action.competence_read)
    record = session.get(TrainingRecord, record_id)
    if record is None or not _visible(actor, record):
        raise NotFound(Text("There is no training record with the id %(id)s.", id=record_id))
    return record


def get_training_record_by_number(session: Session, *, actor: Actor, number: str) -> TrainingRecord:
    """Return a training record by its number (TR-2026-0001), or raise NotFound."""
    require(actor, Action.competence_read)
    record = session.scalars(
        select(TrainingRecord).where(TrainingRecord.number == number)
    ).one_or_none()
    if record is None or not _visible(actor, record):
        raise NotFound(Text("Nothing is numbered %(reference)s.", reference=number))
    return record


def _expires(competence: Competence, completed_on: date) -> date | None:
    if competence.renewal_months is None:
        return None
    return add_months(completed_on, competence.renewal_months)


def _described(record: TrainingRecord) -> dict[str, Any]:
    return {
        "number": record.number,
        "competence": record.competence.code,
        "user": record.user.name if record.user is not None else None,
        "participant": record.participant.code if record.participant is not None else None,
        **snapshot(record, TRAINING_FIELDS),
    }


def record_training(
    session: Session, *, actor: Actor, data: TrainingRecordCreate
) -> TrainingRecord:
    """Record that a person completed a competence; it expires after the competence's renewal."""
    require(actor, Action.competence_write)
    competence = get_competence_by_code(session, data.competence)
    if competence is None:
        raise ValidationFailed(
            Text("There is no competence %(code)s.", code=data.competence),
            [FieldError("competence", Text("Name a competence by its code."))],
        )
    if (data.user is None) == (data.participant is None):
        raise ValidationFailed(
            Text("A training record is of one person: a user or a mentor."),
            [FieldError("user", Text("Name either a user or a mentor, not both."))],
        )
    user: User | None = None
    participant: Participant | None = None
    if competence.role is CompetenceRole.mentor:
        if data.participant is None:
            raise ValidationFailed(
                Text("%(code)s is a mentor's competence.", code=competence.code),
                [FieldError("participant", Text("Name the mentor by code."))],
            )
        participant = session.scalars(
            select(Participant).where(Participant.code == data.participant)
        ).one_or_none()
        if (
            participant is None
            or participant.role is not ParticipantRole.mentor
            or actor.programme_id not in (None, participant.cohort.programme_id)
        ):
            raise ValidationFailed(
                Text("There is no mentor %(code)s.", code=data.participant),
                [FieldError("participant", Text("Name a mentor by code."))],
            )
    else:
        if data.user is None:
            raise ValidationFailed(
                Text("%(code)s is a competence of a user's role.", code=competence.code),
                [FieldError("user", Text("Name the user."))],
            )
        user = get_user_by_name(session, data.user)
        if user is None:
            raise ValidationFailed(
                Text("There is no user %(name)r.", name=data.user),
                [FieldError("user", Text("Name a user of the service."))],
            )
    if data.completed_on > today():
        raise ValidationFailed(
            Text("A training cannot be completed in the future."),
            [FieldError("completed_on", Text("Enter today or an earlier date."))],
        )
    _, number = next_number(session, series="TR", year=data.completed_on.year)
    record = TrainingRecord(
        number=number,
        competence=competence,
        user=user,
        participant=participant,
        completed_on=data.completed_on,
        given_by=data.given_by or "",
        notes=data.notes,
        expires_on=_expires(competence, data.completed_on),
        recorded_by=actor.name,
    )
    session.add(record)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training_record.created",
        entity="training_record",
        entity_id=record.id,
        changes=created(_described(record)),
        programme_id=_programme_of(record),
    )
    return record


def update_training_record(
    session: Session,
    *,
    actor: Actor,
    record_id: int,
    data: TrainingRecordUpdate,
    if_match: int | None,
) -> TrainingRecord:
    """Correct a training record's date, who gave it or its notes; its expiry follows the date."""
    require(actor, Action.competence_write)
    record = get_training_record(session, actor=actor, record_id=record_id)
    check_if_match(current=record.version, if_match=if_match, what="training record")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, ("completed_on", "notes"))
    if "given_by" in changes and changes["given_by"] is None:
        changes["given_by"] = ""
    completed = changes.get("completed_on")
    if completed is not None and completed > today():
        raise ValidationFailed(
            Text("A training cannot be completed in the future."),
            [FieldError("completed_on", Text("Enter today or an earlier date."))],
        )
    before = snapshot(record, TRAINING_FIELDS)
    for name, value in changes.items():
        setattr(record, name, value)
    record.expires_on = _expires(record.competence, record.completed_on)
    delta = diff(before, snapshot(record, TRAINING_FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="training_record.updated",
            entity="training_record",
            entity_id=record.id,
            changes=delta,
            programme_id=_programme_of(record),
        )
    return record


def training_to_read(record: TrainingRecord, on: date | None = None) -> TrainingRecordRead:
    """Shape a training record for the API."""
    day = on or today()
    return TrainingRecordRead(
        id=record.id,
        number=record.number,
        competence=record.competence.code,
        competence_title=record.competence.title,
        role=record.competence.role,
        user=record.user.name if record.user is not None else None,
        participant=record.participant.code if record.participant is not None else None,
        programme_id=_programme_of(record),
        completed_on=record.completed_on,
        given_by=record.given_by,
        notes=record.notes,
        expires_on=record.expires_on,
        expired=record.expires_on is not None and record.expires_on < day,
        recorded_by=record.recorded_by,
        version=record.version,
    )


# --- the matrix --------------------------------------------------------------------------------


def _latest(records: Sequence[TrainingRecord]) -> dict[tuple[str, int, int], TrainingRecord]:
    latest: dict[tuple[str, int, int], TrainingRecord] = {}
    for r in records:
        key = (
            ("participant", r.participant_id, r.competence_id)
            if r.participant_id is not None
            else ("user", r.user_id or 0, r.competence_id)
        )
        if key not in latest or latest[key].completed_on < r.completed_on:
            latest[key] = r
    return latest


def matrix(
    session: Session,
    *,
    actor: Actor,
    role: CompetenceRole | None = None,
    programme_id: int | None = None,
    on: date | None = None,
) -> CompetenceMatrixRead:
    """Return who has what and what is missing: each person of a role against its competences.

    Users are the active users of the coordinator and quality lead roles; mentors those of the
    programme (a coordinator kept to one programme sees only its mentors).
    """
    require(actor, Action.competence_read)
    day = on or today()
    competences = list_competences(session, actor=actor, role=role, active=True)
    by_role: dict[CompetenceRole, list[Competence]] = {}
    for c in competences:
        by_role.setdefault(c.role, []).append(c)
    scope = actor.programme_id if actor.programme_id is not None else programme_id
    latest = _latest(list(session.scalars(select(TrainingRecord))))
    rows: list[CompetenceMatrixRow] = []
    for competence_role, needed in by_role.items():
        people: list[tuple[str, str, int, int | None]] = []
        if competence_role is CompetenceRole.mentor:
            stmt = (
                select(Participant)
                .options(selectinload(Participant.cohort))
                .where(Participant.role == ParticipantRole.mentor)
                .order_by(Participant.code)
            )
            if scope is not None:
                stmt = stmt.where(Participant.id.in_(_mentors_of(scope)))
            people = [
                ("participant", p.code, p.id, p.cohort.programme_id) for p in session.scalars(stmt)
            ]
        else:
            users = session.scalars(
                select(User)
                .where(User.role == USER_ROLES[competence_role], User.is_active.is_(True))
                .order_by(User.name)
            )
            people = [("user", u.name, u.id, None) for u in users]
        for kind, name, person_id, person_programme in people:
            cells: list[CompetenceMatrixCell] = []
            for c in needed:
                record = latest.get((kind, person_id, c.id))
                if record is None:
                    state = "missing"
                elif record.expires_on is not None and record.expires_on < day:
                    state = "expired"
                else:
                    state = "has"
                cells.append(
                    CompetenceMatrixCell(
                        competence=c.code,
                        state=state,
                        completed_on=record.completed_on if record else None,
                        expires_on=record.expires_on if record else None,
                    )
                )
            rows.append(
                CompetenceMatrixRow(
                    person=name,
                    role=competence_role,
                    programme_id=person_programme,
                    cells=cells,
                    missing=sum(cell.state != "has" for cell in cells),
                )
            )
    return CompetenceMatrixRead(
        on=day, competences=[competence_to_read(c) for c in competences], rows=rows
    )


def lacking_before_matching(session: Session, mentor: Participant, on: date) -> list[Competence]:
    """Return the competences required before matching that a mentor lacks (or let expire) on
    a day."""
    needed = session.scalars(
        select(Competence).where(
            Competence.role == CompetenceRole.mentor,
            Competence.before_matching.is_(True),
            Competence.is_active.is_(True),
        )
    )
    records = session.scalars(
        select(TrainingRecord).where(
            TrainingRecord.participant_id == mentor.id, TrainingRecord.completed_on <= on
        )
    )
    held = {r.competence_id for r in records if r.expires_on is None or r.expires_on >= on}
    return [c for c in needed if c.id not in held]


# --- read and understood -----------------------------------------------------------------------


def request_acknowledgements(
    session: Session, *, actor: Actor, version: ProcedureVersion
) -> list[Acknowledgement]:
    """Ask each active user of the roles a just-approved version names to acknowledge it."""
    roles = [Role(r) for r in version.acknowledge_roles if r in {a.value for a in ACKNOWLEDGING}]
    if not roles:
        return []
    due = today() + timedelta(days=get_settings().acknowledge_days)
    if version.effective_from is not None and version.effective_from > today():
        due = version.effective_from + timedelta(days=get_settings().acknowledge_days)
    users = session.scalars(
        select(User).where(User.role.in_(roles), User.is_active.is_(True)).order_by(User.name)
    )
    asked: list[Acknowledgement] = []
    for user in users:
        acknowledgement = Acknowledgement(procedure_version=version, user=user, due_on=due)
        session.add(acknowledgement)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="acknowledgement.requested",
            entity="acknowledgement",
            entity_id=acknowledgement.id,
            changes=created(
                {
                    "procedure_version_id": version.id,
                    "code": version.procedure.code,
                    "number": version.number,
                    "user": user.name,
                    "due_on": due,
                    "acknowledged_at": None,
                }
            ),
        )
        asked.append(acknowledgement)
    return asked


def acknowledge(
    session: Session, *, actor: Actor, procedure_id: int, number: int
) -> Acknowledgement:
    """Acknowledge an approved procedure version as read and understood."""
    require(actor, Action.procedure_acknowledge)
    require(actor, Action.procedure_read)
    procedure = session.get(Procedure, procedure_id)
    version = next(
        (v for v in (procedure.versions if procedure else []) if v.number == number), None
    )
    if procedure is None or version is None:
        raise NotFound(Text("There is no procedure version %(number)s.", number=number))
    if version.status is not VersionStatus.approved:
        raise Conflict(
            Text(
                "%(code)s version %(number)s is not in force: only the approved version is "
                "acknowledged.",
                code=procedure.code,
                number=number,
            )
        )
    acknowledgement = session.scalars(
        select(Acknowledgement).where(
            Acknowledgement.procedure_version_id == version.id,
            Acknowledgement.user_id == actor.user_id,
        )
    ).one_or_none()
    if acknowledgement is None:
        raise Conflict(
            Text(
                "You were not asked to acknowledge %(code)s version %(number)s: it names other "
                "roles.",
                code=procedure.code,
                number=number,
            )
        )
    if acknowledgement.acknowledged_at is not None:
        return acknowledgement
    acknowledgement.acknowledged_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="acknowledgement.acknowledged",
        entity="acknowledgement",
        entity_id=acknowledgement.id,
        changes={
            "acknowledged_at": {"old": None, "new": acknowledgement.acknowledged_at.isoformat()}
        },
    )
    return acknowledgement


@dataclass(frozen=True)
class AcknowledgementFilter:
    """What a list of acknowledgements is narrowed to."""

    procedure_id: int | None = None
    number: int | None = None
    user: str | None = None
    pending: bool | None = None
    overdue: bool | None = None


def list_acknowledgements(
    session: Session, *, actor: Actor, filters: AcknowledgementFilter
) -> list[Acknowledgement]:
    """List the acknowledgements asked for, by procedure, version and user."""
    require(actor, Action.procedure_read)
    stmt = (
        select(Acknowledgement)
        .join(ProcedureVersion, ProcedureVersion.id == Acknowledgement.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .join(User, User.id == Acknowledgement.user_id)
        .options(
            selectinload(Acknowledgement.procedure_version).selectinload(
                ProcedureVersion.procedure
            ),
            selectinload(Acknowledgement.user),
        )
        .order_by(Procedure.code, ProcedureVersion.number, User.name)
    )
    if filters.procedure_id is not None:
        stmt = stmt.where(Procedure.id == filters.procedure_id)
    if filters.number is not None:
        stmt = stmt.where(ProcedureVersion.number == filters.number)
    if filters.user is not None:
        stmt = stmt.where(User.name == filters.user)
    if filters.pending is not None or filters.overdue is not None:
        # Only the version in force is still to be acknowledged.
        stmt = stmt.where(ProcedureVersion.status == VersionStatus.approved)
    if filters.pending is True or filters.overdue is True:
        stmt = stmt.where(Acknowledgement.acknowledged_at.is_(None))
    elif filters.pending is False:
        stmt = stmt.where(Acknowledgement.acknowledged_at.is_not(None))
    if filters.overdue is True:
        stmt = stmt.where(Acknowledgement.due_on < today())
    return list(session.scalars(stmt))


def is_overdue(acknowledgement: Acknowledgement, on: date | None = None) -> bool:
    """Say whether an acknowledgement of the version in force is past its due day."""
    return (
        acknowledgement.acknowledged_at is None
        and acknowledgement.procedure_version.status is VersionStatus.approved
        and acknowledgement.due_on < (on or today())
    )


def acknowledgement_to_read(acknowledgement: Acknowledgement) -> AcknowledgementRead:
    """Shape an acknowledgement for the API."""
    version = acknowledgement.procedure_version
    return AcknowledgementRead(
        id=acknowledgement.id,
        procedure_id=version.procedure_id,
        code=version.procedure.code,
        number=version.number,
        title=version.title,
        user=acknowledgement.user.name,
        requested_at=acknowledgement.requested_at,
        due_on=acknowledgement.due_on,
        acknowledged_at=acknowledgement.acknowledged_at,
        overdue=is_overdue(acknowledgement),
    )
