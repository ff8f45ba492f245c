"""Set quality objectives, plan how to reach them, measure them by indicators and close them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts import repository as users
from qms.accounts.models import User
from qms.audit.models import AuditEvent
from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.exports import Column
from qms.i18n import N_, Text
from qms.indicators import service as indicators
from qms.indicators.models import IndicatorDefinition
from qms.numbering import next_number
from qms.objectives import repository
from qms.objectives.models import ObjectiveStatus, QualityObjective
from qms.objectives.repository import OPEN_STATUSES, ObjectiveFilter
from qms.objectives.schemas import (
    ObjectiveCreate,
    ObjectiveIndicatorRead,
    ObjectiveRead,
    ObjectiveTransition,
    ObjectiveUpdate,
)
from qms.pagination import Page
from qms.permissions import Action, Actor, Role, require
from qms.programmes import service as programmes
from qms.programmes.models import Programme
from qms.workflow import OBJECTIVE

FIELDS = (
    "status",
    "title",
    "target",
    "owner_id",
    "due_on",
    "plan",
    "resources",
    "responsible",
    "evaluation",
    "started_at",
    "closed_at",
    "closed_by",
    "result_note",
    "withdrawal_reason",
    "requirements",
)
OWNER_ROLES = {Role.admin, Role.quality_lead, Role.coordinator}
_NOT_NULL = {"title", "target", "owner", "due_on", "plan", "indicator_ids", "requirements"}
CLOSED = (ObjectiveStatus.achieved, ObjectiveStatus.not_achieved)

# The columns an objective list is taken out with (CSV, XLSX).
OBJECTIVE_COLUMNS = (
    Column("number", N_("Number")),
    Column("programme_code", N_("Programme")),
    Column("title", N_("Title")),
    Column("status", N_("Status"), coded=True),
    Column("target", N_("Target")),
    Column("owner", N_("Owner")),
    Column("due_on", N_("Due")),
    Column("at_risk", N_("At risk")),
    Column("indicator_codes", N_("Indicators")),
    Column("plan", N_("Plan")),
    Column("result_note", N_("Result")),
)


def today() -> date:
    """Return today's date (UTC), against which due dates are judged."""
    return utcnow().date()


def is_overdue(objective: QualityObjective, on: date | None = None) -> bool:
    """Say whether the objective is past due and still open."""
    return objective.status in OPEN_STATUSES and objective.due_on < (on or today())


def measures(
    session: Session, objective: QualityObjective, as_of: date
) -> list[ObjectiveIndicatorRead]:
    """Return each indicator that measures the objective, planned against actual, as of a date."""
    rows = []
    for definition in objective.indicators:
        programme = session.get(Programme, definition.programme_id)
        assert programme is not None  # an indicator's programme is never removed
        figure = indicators.compute(session, programme, definition, as_of)
        rows.append(
            ObjectiveIndicatorRead(
                id=definition.id,
                programme_id=programme.id,
                programme_code=programme.code,
                code=definition.code,
                name=definition.name,
                unit=definition.unit,
                direction=definition.direction,
                planned=definition.planned,
                threshold=definition.threshold,
                actual=figure.value,
                detail=figure.detail,
                status=indicators.status_of(definition, figure.value, stale=figure.stale),
            )
        )
    return rows


def risk_reasons(
    objective: QualityObjective, rows: Sequence[ObjectiveIndicatorRead], as_of: date
) -> list[Literal["indicator_breach", "overdue"]]:
    """Say why an open objective is at risk: an indicator in breach, or past its due date."""
    if objective.status not in OPEN_STATUSES:
        return []
    reasons: list[Literal["indicator_breach", "overdue"]] = []
    if any(r.status == "breach" for r in rows):
        reasons.append("indicator_breach")
    if objective.due_on < as_of:
        reasons.append("overdue")
    return reasons


def to_read(
    session: Session, objective: QualityObjective, as_of: date | None = None
) -> ObjectiveRead:
    """Shape an objective for the API, its indicators as of a date (default: today)."""
    on = as_of or today()
    rows = measures(session, objective, on)
    reasons = risk_reasons(objective, rows, on)
    programme = session.get(Programme, objective.programme_id) if objective.programme_id else None
    values: dict[str, Any] = {f: getattr(objective, f) for f in FIELDS if f != "owner_id"}
    return ObjectiveRead(
        id=objective.id,
        number=objective.number,
        programme_id=objective.programme_id,
        programme_code=programme.code if programme else None,
        **values,
        owner=objective.owner.name,
        overdue=is_overdue(objective, on),
        at_risk=bool(reasons),
        at_risk_reasons=reasons,
        as_of=on,
        indicators=rows,
        allowed_transitions=OBJECTIVE.allowed_from(objective.status.value),
        created_at=objective.created_at,
        updated_at=objective.updated_at,
        version=objective.version,
    )


def flat(read: ObjectiveRead) -> dict[str, Any]:
    """Return an objective as one row of a list taken out (indicators by their codes)."""
    return {
        **read.model_dump(mode="json"),
        "indicator_codes": ", ".join(f"{i.programme_code}/{i.code}" for i in read.indicators),
    }


def _snapshot(objective: QualityObjective) -> dict[str, Any]:
    values = {f: getattr(objective, f) for f in FIELDS}
    values["indicators"] = [f"{i.id}:{i.code}" for i in objective.indicators]
    return values


def _visible(actor: Actor, objective: QualityObjective) -> bool:
    return actor.programme_id is None or objective.programme_id == actor.programme_id


def get(session: Session, *, actor: Actor, objective_id: int) -> QualityObjective:
    """Return an objective the actor may see, or raise NotFound."""
    require(actor, Action.objective_read)
    objective = session.get(QualityObjective, objective_id)
    if objective is None or not _visible(actor, objective):
        raise NotFound(Text("There is no quality objective with the id %(id)s.", id=objective_id))
    return objective


def list_objectives(
    session: Session,
    *,
    actor: Actor,
    filters: ObjectiveFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[QualityObjective]:
    """List the objectives the actor may see, newest first."""
    require(actor, Action.objective_read)
    return repository.list_objectives(
        session, filters, scope=actor.programme_id, today=today(), limit=limit, cursor=cursor
    )


def _owner(session: Session, name: str) -> User:
    user = users.get_user_by_name(session, name)
    if user is None or not user.is_active:
        raise ValidationFailed(
            Text("The owner must be an active user."),
            [FieldError("owner", Text("There is no active user %(name)r.", name=name))],
        )
    if user.role not in OWNER_ROLES:
        raise ValidationFailed(
            Text("The owner cannot answer for a quality objective."),
            [
                FieldError(
                    "owner",
                    Text(
                        "A user whose role is %(role)s cannot own a quality objective; choose "
                        "a quality lead or a coordinator.",
                        role=user.role,
                    ),
                )
            ],
        )
    return user


def _indicators(
    session: Session, actor: Actor, ids: Sequence[int], programme_id: int | None
) -> list[IndicatorDefinition]:
    """Return the indicators named, each one the actor may see and, for a programme's
    objective, of that programme."""
    found: list[IndicatorDefinition] = []
    errors: list[FieldError] = []
    for index, indicator_id in enumerate(dict.fromkeys(ids)):
        definition = session.get(IndicatorDefinition, indicator_id)
        field = f"indicator_ids.{index}"
        if definition is None or actor.programme_id not in (None, definition.programme_id):
            errors.append(
                FieldError(
                    field, Text("There is no indicator with the id %(id)s.", id=indicator_id)
                )
            )
        elif programme_id is not None and definition.programme_id != programme_id:
            errors.append(
                FieldError(
                    field,
                    Text(
                        "%(code)s is another programme's indicator: a programme's objective is "
                        "measured by its own.",
                        code=definition.code,
                    ),
                )
            )
        else:
            found.append(definition)
    if errors:
        raise ValidationFailed(Text("The objective names indicators it cannot use."), errors)
    return found


def create(session: Session, *, actor: Actor, data: ObjectiveCreate) -> QualityObjective:
    """Set a quality objective, numbered OBJ-YYYY-NNNN, with its plan and indicators."""
    require(actor, Action.objective_write)
    if data.programme_id is None and actor.programme_id is not None:
        raise ValidationFailed(
            Text("A token limited to one programme sets objectives of that programme only."),
            [FieldError("programme_id", Text("Name the programme the objective is for."))],
        )
    programmes.check_programme_field(session, actor=actor, programme_id=data.programme_id)
    owner = _owner(session, data.owner)
    linked = _indicators(session, actor, data.indicator_ids, data.programme_id)
    now = utcnow()
    seq, number = next_number(session, series="OBJ", year=now.year)
    objective = QualityObjective(
        number=number,
        year=now.year,
        seq=seq,
        programme_id=data.programme_id,
        status=ObjectiveStatus.planned,
        title=data.title,
        target=data.target,
        owner_id=owner.id,
        due_on=data.due_on,
        plan=data.plan,
        resources=data.resources,
        responsible=data.responsible,
        evaluation=data.evaluation,
        requirements=list(data.requirements),
    )
    objective.owner = owner
    objective.indicators = linked
    session.add(objective)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="objective.created",
        entity="objective",
        entity_id=objective.id,
        programme_id=objective.programme_id,
        changes=created({"number": number, **_snapshot(objective), "owner": owner.name}),
    )
    return objective


def update(
    session: Session,
    *,
    actor: Actor,
    objective_id: int,
    data: ObjectiveUpdate,
    if_match: int | None,
) -> QualityObjective:
    """Change an open objective, against the version the client read."""
    require(actor, Action.objective_write)
    objective = get(session, actor=actor, objective_id=objective_id)
    check_if_match(current=objective.version, if_match=if_match, what="quality objective")
    if objective.status not in OPEN_STATUSES:
        raise Conflict(
            Text(
                "%(number)s is %(status)s: it can no longer be changed.",
                number=objective.number,
                status=objective.status,
            )
        )
    changes = data.model_dump(exclude_unset=True)
    nulls = [
        FieldError(f, Text("This cannot be left empty."))
        for f, v in changes.items()
        if v is None and f in _NOT_NULL
    ]
    if nulls:
        raise ValidationFailed(Text("Required fields cannot be emptied."), nulls)
    before = _snapshot(objective)
    before_owner = objective.owner.name
    if "owner" in changes:
        owner = _owner(session, changes.pop("owner"))
        objective.owner_id, objective.owner = owner.id, owner
    if "indicator_ids" in changes:
        objective.indicators = _indicators(
            session, actor, changes.pop("indicator_ids"), objective.programme_id
        )
    for field, value in changes.items():
        setattr(objective, field, value)
    delta = diff(before, _snapshot(objective))
    if objective.owner.name != before_owner:
        delta["owner"] = {"old": before_owner, "new": objective.owner.name}
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="objective.updated",
            entity="objective",
            entity_id=objective.id,
            programme_id=objective.programme_id,
            changes=delta,
        )
    return objective


def transition(
    session: Session,
    *,
    actor: Actor,
    objective_id: int,
    data: ObjectiveTransition,
    if_match: int | None,
) -> QualityObjective:
    """Move an objective along its workflow (qms.workflow.OBJECTIVE)."""
    require(actor, Action.objective_write)
    objective = get(session, actor=actor, objective_id=objective_id)
    check_if_match(current=objective.version, if_match=if_match, what="quality objective")
    source = objective.status.value
    target = data.to.value
    OBJECTIVE.move(source, target, reason=data.reason, result_note=data.result_note)
    before = _snapshot(objective)
    now = utcnow()
    if data.to is ObjectiveStatus.in_progress:
        objective.started_at = now
    elif data.to in CLOSED:
        objective.closed_at = now
        objective.closed_by = actor.name
        objective.result_note = data.result_note
    elif data.to is ObjectiveStatus.withdrawn:
        objective.closed_at = now
        objective.closed_by = actor.name
        objective.withdrawal_reason = data.reason
    objective.status = data.to
    session.flush()
    record_event(
        session,
        actor=actor,
        action="objective.transitioned",
        entity="objective",
        entity_id=objective.id,
        programme_id=objective.programme_id,
        changes=diff(before, _snapshot(objective)),
        reason=data.reason,
    )
    return objective


def history(session: Session, *, actor: Actor, objective_id: int) -> list[AuditEvent]:
    """Return the objective's timeline from the audit trail."""
    objective = get(session, actor=actor, objective_id=objective_id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "objective", AuditEvent.entity_id == str(objective.id))
            .order_by(AuditEvent.seq)
        )
    )


def owned_due(session: Session, *, user_id: int, within_days: int = 30) -> list[QualityObjective]:
    """List the open objectives a user owns that are overdue or due within the days."""
    return repository.owned_by(
        session, owner_id=user_id, due_by=today() + timedelta(days=within_days)
    )


def for_period(
    session: Session, *, start: date, end: date, programme_id: int | None
) -> list[QualityObjective]:
    """List the objectives of a period (open in it or due in it), the organisation's too."""
    return repository.for_period(session, start=start, end=end, programme_id=programme_id)
