"""Log deviations, investigate them, and close them when their actions are verified."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import qms.models  # noqa: F401  (deviations and actions refer to each other)
from qms.accounts import repository as users
from qms.accounts.models import User
from qms.actions.models import ActionStatus, CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.deviations import repository
from qms.deviations.models import Deviation, DeviationStatus, Severity
from qms.deviations.repository import DeviationFilter
from qms.deviations.schemas import (
    DeviationCreate,
    DeviationRead,
    DeviationTransition,
    DeviationUpdate,
)
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page
from qms.pairs.models import Pair
from qms.periods import check_range
from qms.permissions import Action, Actor, Role, require
from qms.procedures.models import ProcedureVersion
from qms.programmes.models import Cohort, Programme
from qms.providers import service as providers
from qms.risks import service as risks
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.signatures.service import sign
from qms.webhooks import service as webhooks
from qms.webhooks.models import WebhookEventKind
from qms.workflow import DEVIATION, BlockedMove

# Who may own a deviation: those who work on the quality records.
OWNER_ROLES = {Role.admin, Role.quality_lead, Role.coordinator}
DAYS_TO_CLOSE = {Severity.critical: 14, Severity.major: 30, Severity.minor: 60}
NEEDS_ROOT_CAUSE = {Severity.major, Severity.critical}
# The workflow's moves from each state (read for every deviation listed).
_MOVES = {state.value: tuple(DEVIATION.allowed_from(state.value)) for state in DeviationStatus}
# The states in which a corrective action no longer holds its deviation open.
_SETTLED = frozenset({ActionStatus.verified_effective, ActionStatus.ineffective})
FIELDS = (
    "kind",
    "source",
    "severity",
    "status",
    "title",
    "description",
    "immediate_containment",
    "programme_id",
    "cohort_id",
    "pair_id",
    "procedure_version_id",
    "provider_id",
    "risk_id",
    "iso_clause",
    "requirements",
    "detected_at",
    "detected_by",
    "due_on",
    "root_cause_method",
    "root_cause",
    "closure_summary",
    "no_action_reason",
    "closed_at",
)
_NOT_NULL = {
    "requirements",
    "kind",
    "source",
    "severity",
    "title",
    "description",
    "detected_at",
    "detected_by",
    "due_on",
}


def today() -> date:
    """Return today's date in UTC, against which due dates are judged."""
    return utcnow().date()


def is_overdue(deviation: Deviation, on: date) -> bool:
    """Say whether the deviation is past its due date and still not closed."""
    return deviation.status is not DeviationStatus.closed and deviation.due_on < on


def blocked_moves(deviation: Deviation) -> dict[str, list[str]]:
    """Return the workflow's moves from the deviation's state that cannot succeed yet, each with
    what it waits for (codes; see qms.i18n.values for their words)."""
    return _blocked(
        deviation.status,
        deviation.severity,
        bool(deviation.root_cause_method and deviation.root_cause),
        any(a.status not in _SETTLED for a in deviation.actions),
    )


def _blocked(status: str, severity: str, analysed: bool, pending: bool) -> dict[str, list[str]]:
    """`blocked_moves` from what it depends on: the state and the severity (members or their
    values), whether the root cause is analysed (method and cause) and whether an action is
    still pending."""
    blocked: dict[str, list[str]] = {}
    for target in _MOVES[status]:
        missing = []
        if (
            target == DeviationStatus.action_required
            and severity in NEEDS_ROOT_CAUSE
            and not analysed
        ):
            missing.append("root_cause_analysis")
        if target == DeviationStatus.closed and pending:
            missing.append("actions_verified")
        if missing:
            blocked[target] = missing
    return blocked


def to_read(deviation: Deviation) -> DeviationRead:
    """Shape a deviation for the API, with what is derived from it."""
    values: dict[str, Any] = {f: getattr(deviation, f) for f in FIELDS}
    blocked = blocked_moves(deviation)
    return DeviationRead(
        id=deviation.id,
        number=deviation.number,
        **values,
        overdue=is_overdue(deviation, today()),
        reported_by=deviation.reported_by,
        owner=deviation.owner.name if deviation.owner else None,
        risk_number=deviation.risk.number if deviation.risk else None,
        owner_display_name=(deviation.owner.display_name or deviation.owner.name)
        if deviation.owner
        else None,
        action_ids=[a.id for a in deviation.actions],
        action_numbers=[a.number for a in deviation.actions],
        allowed_transitions=[
            t for t in DEVIATION.allowed_from(deviation.status.value) if t not in blocked
        ],
        blocked=[BlockedMove(to=t, missing=m) for t, m in blocked.items()],
        created_at=deviation.created_at,
        updated_at=deviation.updated_at,
        version=deviation.version,
    )


def read_page(
    session: Session,
    *,
    actor: Actor,
    filters: DeviationFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """One page of the deviations the actor may see, as `list_deviations` orders and pages them,
    each shaped as `to_read` shapes it: a dict of DeviationRead's fields in their order, the
    enumerations as their values (ready to be written as JSON as they are, or checked as a
    DeviationRead). Read as plain rows in two queries (the deviations with their owners and
    risks; their actions), nothing mapped or looked up row by row."""
    require(actor, Action.deviation_read)
    check_range(filters.detected_from, filters.detected_to, "detected_from", "detected_to")
    on = today()
    page = repository.page_rows(
        session, filters, scope=actor.programme_id, today=on, limit=limit, cursor=cursor
    )
    actions: dict[int, list[Any]] = {}
    for action in repository.action_rows(session, [row["id"] for row in page.items]):
        actions.setdefault(action["deviation_id"], []).append(action)
    return Page(
        [_shaped(row, actions.get(row["id"], ()), on) for row in page.items], page.next_cursor
    )


# The fields of a deviation as read, in DeviationRead's order.
_READ_ORDER = tuple(DeviationRead.model_fields)


def _shaped(row: dict[str, Any], actions: Sequence[Any], on: date) -> dict[str, Any]:
    """A deviation's row (its enumerations as stored, with owner, owner_display_name and
    risk_number) and its actions' rows as `to_read` gives them: a dict of DeviationRead's fields
    in its order."""
    status = row["status"]
    blocked = _blocked(
        status,
        row["severity"],
        bool(row["root_cause_method"] and row["root_cause"]),
        any(a["status"] not in _SETTLED for a in actions),
    )
    owner = row["owner"]
    row.update(
        overdue=status != DeviationStatus.closed and row["due_on"] < on,
        owner_display_name=(row["owner_display_name"] or owner) if owner is not None else None,
        action_ids=[a["id"] for a in actions],
        action_numbers=[a["number"] for a in actions],
        allowed_transitions=[t for t in _MOVES[status] if t not in blocked],
        blocked=[{"to": t, "missing": m} for t, m in blocked.items()],
    )
    return {f: row[f] for f in _READ_ORDER}


def _snapshot(deviation: Deviation) -> dict[str, Any]:
    values = {f: getattr(deviation, f) for f in FIELDS}
    # The owner by their user name, as people and the replay read it (not a user id).
    values["owner"] = deviation.owner.name if deviation.owner else None
    return values


def _owner(session: Session, name: str) -> User:
    user = users.get_user_by_name(session, name)
    if user is None or not user.is_active:
        raise ValidationFailed(
            Text("The owner must be an active user."),
            [FieldError("owner", Text("There is no active user %(name)r.", name=name))],
        )
    if user.role not in OWNER_ROLES:
        raise ValidationFailed(
            Text("The owner cannot see a deviation through."),
            [
                FieldError(
                    "owner",
                    Text(
                        "A user whose role is %(role)s cannot own a deviation; choose a quality "
                        "lead or a coordinator.",
                        role=user.role,
                    ),
                )
            ],
        )
    return user


def _visible(actor: Actor, deviation: Deviation) -> bool:
    return actor.programme_id is None or deviation.programme_id == actor.programme_id


def get(session: Session, *, actor: Actor, deviation_id: int) -> Deviation:
    """Return a deviation the actor may see, or raise NotFound."""
    require(actor, Action.deviation_read)
    deviation = session.get(Deviation, deviation_id)
    if deviation is None or not _visible(actor, deviation):
        raise NotFound(Text("There is no deviation with the id %(id)s.", id=deviation_id))
    return deviation


def get_by_number(session: Session, *, actor: Actor, number: str) -> Deviation:
    """Return a deviation by its number (DEV-2026-0001), or raise NotFound."""
    require(actor, Action.deviation_read)
    deviation = repository.get_by_number(session, number.strip().upper())
    if deviation is None or not _visible(actor, deviation):
        raise NotFound(Text("There is no deviation %(number)s.", number=number))
    return deviation


def list_deviations(
    session: Session,
    *,
    actor: Actor,
    filters: DeviationFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Deviation]:
    """List the deviations the actor may see, newest first."""
    require(actor, Action.deviation_read)
    check_range(filters.detected_from, filters.detected_to, "detected_from", "detected_to")
    return repository.list_deviations(
        session, filters, scope=actor.programme_id, today=today(), limit=limit, cursor=cursor
    )


def _links(
    session: Session,
    actor: Actor,
    programme_id: int | None,
    cohort_id: int | None,
    pair_id: int | None = None,
) -> tuple[int | None, int | None, int | None]:
    """Check the programme, cohort and pair a deviation points to; fill in the wider from the
    narrower (a pair gives its cohort, a cohort its programme)."""
    errors: list[FieldError] = []
    if pair_id is not None:
        pair = session.get(Pair, pair_id)
        if pair is None:
            errors.append(
                FieldError("pair_id", Text("There is no pair with the id %(id)s.", id=pair_id))
            )
        elif cohort_id is not None and pair.cohort_id != cohort_id:
            errors.append(
                FieldError("pair_id", Text("Pair %(pair)s is not in that cohort.", pair=pair.code))
            )
        else:
            cohort_id = pair.cohort_id
    if cohort_id is not None:
        cohort = session.get(Cohort, cohort_id)
        if cohort is None:
            errors.append(
                FieldError(
                    "cohort_id", Text("There is no cohort with the id %(id)s.", id=cohort_id)
                )
            )
        elif programme_id is not None and cohort.programme_id != programme_id:
            errors.append(
                FieldError(
                    "cohort_id",
                    Text("Cohort %(cohort)s is not in that programme.", cohort=cohort.code),
                )
            )
        else:
            programme_id = cohort.programme_id
    if programme_id is not None and session.get(Programme, programme_id) is None:
        errors.append(
            FieldError(
                "programme_id", Text("There is no programme with the id %(id)s.", id=programme_id)
            )
        )
    if errors:
        raise ValidationFailed(
            Text("The deviation names a programme, cohort or pair that does not exist."), errors
        )
    if actor.programme_id is not None and programme_id != actor.programme_id:
        raise ValidationFailed(
            Text("This token logs deviations of its own programme only."),
            [FieldError("programme_id", Text("Choose the token's own programme."))],
        )
    return programme_id, cohort_id, pair_id


def _procedure_version(session: Session, version_id: int | None) -> int | None:
    if version_id is not None and session.get(ProcedureVersion, version_id) is None:
        raise ValidationFailed(
            Text("The deviation names a procedure version that does not exist."),
            [
                FieldError(
                    "procedure_version_id",
                    Text("There is no procedure version with the id %(id)s.", id=version_id),
                )
            ],
        )
    return version_id


def _provider(session: Session, actor: Actor, provider_id: int | None) -> int | None:
    providers.check_provider(session, actor=actor, provider_id=provider_id)
    return provider_id


def _check_dates(detected_on: date, due_on: date) -> None:
    errors = []
    if detected_on > today():
        errors.append(FieldError("detected_at", Text("Enter a time that has already come.")))
    if due_on < detected_on:
        errors.append(
            FieldError("due_on", Text("Enter a due date on or after the day it was detected."))
        )
    if errors:
        raise ValidationFailed(Text("The deviation's dates are out of order."), errors)


def create(session: Session, *, actor: Actor, data: DeviationCreate) -> Deviation:
    """Log a deviation; it gets the next number of the year and starts open."""
    require(actor, Action.deviation_log)
    programme_id, cohort_id, pair_id = _links(
        session, actor, data.programme_id, data.cohort_id, data.pair_id
    )
    detected_at = data.detected_at or utcnow()
    due_on = data.due_on or detected_at.date() + timedelta(days=DAYS_TO_CLOSE[data.severity])
    _check_dates(detected_at.date(), due_on)
    owner = _owner(session, data.owner) if data.owner is not None else None
    risk = (
        risks.for_deviation(session, actor, data.risk_id, programme_id)
        if data.risk_id is not None
        else None
    )
    now = utcnow()
    seq, number = next_number(session, series="DEV", year=now.year)
    deviation = Deviation(
        number=number,
        year=now.year,
        seq=seq,
        kind=data.kind,
        source=data.source,
        severity=data.severity,
        status=DeviationStatus.open,
        title=data.title,
        description=data.description,
        immediate_containment=data.immediate_containment,
        programme_id=programme_id,
        cohort_id=cohort_id,
        pair_id=pair_id,
        procedure_version_id=_procedure_version(session, data.procedure_version_id),
        provider_id=_provider(session, actor, data.provider_id),
        risk_id=risk.id if risk else None,
        iso_clause=data.iso_clause,
        requirements=list(data.requirements),
        detected_at=detected_at,
        detected_by=data.detected_by or actor.name,
        due_on=due_on,
        reported_by=actor.name,
        owner_id=owner.id if owner else None,
    )
    deviation.owner = owner
    session.add(deviation)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="deviation.created",
        entity="deviation",
        entity_id=deviation.id,
        programme_id=programme_id,
        changes=created({"number": number, **_snapshot(deviation)}),
    )
    if risk is not None:
        risks.realised(session, actor=actor, risk=risk, deviation=deviation)
    if deviation.severity is Severity.critical:
        # Told to the webhooks at once; sent after this transaction, by the scheduler.
        webhooks.emit(
            session,
            actor=actor,
            kind=WebhookEventKind.deviation_critical,
            record="deviation",
            record_id=deviation.id,
            number=deviation.number,
            title=deviation.title,
            due_on=deviation.due_on,
            link=f"/deviations/{deviation.id}",
        )
    return deviation


def update(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    data: DeviationUpdate,
    if_match: int | None,
) -> Deviation:
    """Change an unclosed deviation's fields, against the version the client read."""
    require(actor, Action.deviation_write)
    deviation = get(session, actor=actor, deviation_id=deviation_id)
    check_if_match(current=deviation.version, if_match=if_match, what="deviation")
    if deviation.status is DeviationStatus.closed:
        raise Conflict(
            Text("%(number)s is closed: reopen it to change it.", number=deviation.number)
        )
    changes = data.model_dump(exclude_unset=True)
    nulls = [
        FieldError(f, Text("This cannot be left empty."))
        for f, v in changes.items()
        if v is None and f in _NOT_NULL
    ]
    if nulls:
        raise ValidationFailed(Text("Required fields cannot be emptied."), nulls)
    if {"programme_id", "cohort_id", "pair_id"} & changes.keys():
        programme_id = changes.get("programme_id", deviation.programme_id)
        cohort_id = changes.get("cohort_id", deviation.cohort_id)
        pair_id = changes.get("pair_id", deviation.pair_id)
        # Moving to a wider record lets go of the narrower ones that are not of it.
        if "cohort_id" in changes and "pair_id" not in changes:
            pair_id = None
        if "programme_id" in changes and "cohort_id" not in changes and cohort_id is not None:
            cohort = session.get(Cohort, cohort_id)
            if cohort is not None and cohort.programme_id != programme_id:
                cohort_id = pair_id = None
        changes["programme_id"], changes["cohort_id"], changes["pair_id"] = _links(
            session, actor, programme_id, cohort_id, pair_id
        )
    if "procedure_version_id" in changes:
        _procedure_version(session, changes["procedure_version_id"])
    if "provider_id" in changes:
        _provider(session, actor, changes["provider_id"])
    realised = None
    if changes.get("risk_id") is not None and changes["risk_id"] != deviation.risk_id:
        realised = risks.for_deviation(
            session, actor, changes["risk_id"], changes.get("programme_id", deviation.programme_id)
        )
    detected_at = changes.get("detected_at", deviation.detected_at)
    _check_dates(detected_at.date(), changes.get("due_on", deviation.due_on))
    before = _snapshot(deviation)
    if "owner" in changes:
        name = changes.pop("owner")
        owner = _owner(session, name) if name is not None else None
        deviation.owner_id, deviation.owner = (owner.id if owner else None), owner
    for field, value in changes.items():
        setattr(deviation, field, value)
    if realised is not None:
        deviation.risk = realised
    elif "risk_id" in changes and changes["risk_id"] is None:
        deviation.risk = None
    delta = diff(before, _snapshot(deviation))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="deviation.updated",
            entity="deviation",
            entity_id=deviation.id,
            programme_id=deviation.programme_id,
            changes=delta,
        )
    if realised is not None:
        risks.realised(session, actor=actor, risk=realised, deviation=deviation)
    return deviation


def _pending(actions: Sequence[CorrectiveAction]) -> list[CorrectiveAction]:
    return [a for a in actions if a.status not in _SETTLED]


def transition(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    data: DeviationTransition,
    if_match: int | None,
) -> Deviation:
    """Move a deviation along its workflow (qms.workflow.DEVIATION), checking each move's guard."""
    require(actor, Action.deviation_transition)
    deviation = get(session, actor=actor, deviation_id=deviation_id)
    check_if_match(current=deviation.version, if_match=if_match, what="deviation")
    source, target = deviation.status.value, data.to.value
    DEVIATION.move(source, target, reason=data.reason, closure_summary=data.closure_summary)
    before = _snapshot(deviation)
    if target == DeviationStatus.action_required and deviation.severity in NEEDS_ROOT_CAUSE:
        if not (deviation.root_cause_method and deviation.root_cause):
            raise Conflict(
                Text(
                    "%(number)s is %(severity)s: record the root cause and how it was found "
                    "before setting the status to %(status)s.",
                    number=deviation.number,
                    severity=deviation.severity,
                    status=DeviationStatus.action_required,
                )
            )
    if target == DeviationStatus.closed:
        _close(session, actor, deviation, data)
    if target == DeviationStatus.reopened:
        deviation.closed_at = None
        deviation.closure_summary = None
        deviation.no_action_reason = None
    deviation.status = DeviationStatus(target)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="deviation.transitioned",
        entity="deviation",
        entity_id=deviation.id,
        programme_id=deviation.programme_id,
        changes=diff(before, _snapshot(deviation)),
        reason=data.reason,
    )
    return deviation


def _close(session: Session, actor: Actor, deviation: Deviation, data: DeviationTransition) -> None:
    actions = list(deviation.actions)
    if not actions and not data.no_action_reason:
        raise ValidationFailed(
            Text("A deviation without corrective actions is closed only with a reason."),
            [FieldError("no_action_reason", Text("Say why no corrective action is needed."))],
        )
    pending = _pending(actions)
    if pending:
        raise Conflict(
            Text(
                "%(number)s has corrective actions not yet verified: %(actions)s. Verify them "
                "before closing the deviation.",
                number=deviation.number,
                actions=[
                    Text("%(number)s (%(status)s)", number=a.number, status=a.status)
                    for a in pending
                ],
            )
        )
    deviation.closure_summary = data.closure_summary
    deviation.no_action_reason = data.no_action_reason if not actions else None
    deviation.closed_at = utcnow()
    sign(
        session,
        actor=actor,
        entity="deviation",
        entity_id=deviation.id,
        meaning=SignatureMeaning.closed,
        programme_id=deviation.programme_id,
        statement=statements.deviation_closed(
            deviation.number, summary=deviation.closure_summary or ""
        ),
        confirmation=data.signature,
        content={
            "number": deviation.number,
            "closure_summary": deviation.closure_summary,
            "no_action_reason": deviation.no_action_reason,
            "actions": {a.number: a.status.value for a in actions},
        },
    )


def history(session: Session, *, actor: Actor, deviation_id: int) -> list[AuditEvent]:
    """Return the deviation's timeline from the audit trail, with its actions' events."""
    deviation = get(session, actor=actor, deviation_id=deviation_id)
    action_ids = [str(a.id) for a in deviation.actions]
    conditions = [(AuditEvent.entity == "deviation") & (AuditEvent.entity_id == str(deviation.id))]
    if action_ids:
        conditions.append((AuditEvent.entity == "action") & AuditEvent.entity_id.in_(action_ids))
    return list(
        session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.seq))
    )
