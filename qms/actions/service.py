"""Plan, carry out and verify corrective actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import qms.models  # noqa: F401  (deviations and actions refer to each other)
from qms.accounts import repository as users
from qms.accounts.models import User
from qms.actions import repository
from qms.actions.models import ActionStatus, ActionType, CorrectiveAction
from qms.actions.repository import OPEN_STATUSES, ActionFilter
from qms.actions.schemas import (
    ActionCreate,
    ActionRead,
    ActionTransition,
    ActionUpdate,
    FollowOnCreate,
    VerificationRead,
)
from qms.audit.models import AuditEvent
from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.deviations import service as deviations
from qms.deviations.models import Deviation, DeviationStatus
from qms.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page
from qms.permissions import Action, Actor, Role, require
from qms.risks import service as risks
from qms.risks.models import Risk
from qms.risks.repository import OPEN_STATUSES as OPEN_RISKS
from qms.signatures import statements
from qms.signatures.models import Signature, SignatureMeaning
from qms.signatures.schemas import SignatureRead
from qms.signatures.service import sign
from qms.workflow import ACTION, BlockedMove

FIELDS = (
    "type",
    "status",
    "title",
    "action",
    "root_cause_method",
    "root_cause",
    "owner_id",
    "due_on",
    "effectiveness_check_on",
    "started_at",
    "done_at",
    "completion_note",
    "verified_at",
    "verified_by",
    "evidence",
    "follows_action_id",
    "requirements",
)
OWNER_ROLES = {Role.admin, Role.quality_lead, Role.coordinator}
_NOT_NULL = {"requirements", "type", "title", "action", "owner", "due_on", "deviation_ids"}


def is_overdue(action: CorrectiveAction) -> bool:
    """Say whether the action is past due and not done."""
    return action.status in OPEN_STATUSES and action.due_on < deviations.today()


VERIFICATIONS = (ActionStatus.verified_effective, ActionStatus.ineffective)


def blocked_moves(action: CorrectiveAction, reader: Actor | None) -> dict[str, list[str]]:
    """Return the workflow's moves from the action's state that cannot succeed for the reader,
    each with what it waits for (codes; see qms.i18n.values for their words)."""
    own = reader is not None and reader.user_id is not None and reader.user_id == action.owner_id
    return {
        target: ["verifier_not_owner"]
        for target in ACTION.allowed_from(action.status.value)
        if own and target in VERIFICATIONS
    }


def to_read(session: Session, action: CorrectiveAction, reader: Actor | None = None) -> ActionRead:
    """Shape an action for the API, with its verification, links, and the moves open to the
    reader (the owner is never offered to verify it)."""
    blocked = blocked_moves(action, reader)
    verification = None
    if action.verified_at is not None and action.verified_by is not None:
        signature = session.get(Signature, action.signature_id) if action.signature_id else None
        verification = VerificationRead(
            verified_by=action.verified_by,
            verified_at=action.verified_at,
            result=action.status,
            evidence=action.evidence or "",
            signature_sha256=signature.content_sha256 if signature else None,
            signature=SignatureRead.model_validate(signature) if signature else None,
        )
    values: dict[str, Any] = {
        f: getattr(action, f) for f in FIELDS if f not in ("owner_id", "verified_at", "verified_by")
    }
    values.pop("evidence")
    return ActionRead(
        id=action.id,
        number=action.number,
        **values,
        owner=action.owner.name,
        overdue=is_overdue(action),
        verification=verification,
        follow_on_action_ids=[a.id for a in repository.follow_ons(session, action.id)],
        deviation_ids=[d.id for d in action.deviations],
        deviation_numbers=[d.number for d in action.deviations],
        risk_ids=[r.id for r in action.risks],
        risk_numbers=[r.number for r in action.risks],
        allowed_transitions=[
            t for t in ACTION.allowed_from(action.status.value) if t not in blocked
        ],
        blocked=[BlockedMove(to=t, missing=m) for t, m in blocked.items()],
        created_at=action.created_at,
        updated_at=action.updated_at,
        version=action.version,
    )


def _snapshot(action: CorrectiveAction) -> dict[str, Any]:
    values = {f: getattr(action, f) for f in FIELDS}
    values["deviations"] = sorted(d.number for d in action.deviations)
    if action.risks:
        values["risks"] = sorted(r.number for r in action.risks)
    return values


def programme_of(action: CorrectiveAction) -> int | None:
    """Return the programme of the action's deviations and risks, when they are all of one (an
    organisation's risk has none)."""
    programmes = {d.programme_id for d in action.deviations} | {
        r.programme_id for r in action.risks
    }
    return programmes.pop() if len(programmes) == 1 else None


def _visible(actor: Actor, action: CorrectiveAction) -> bool:
    return (
        actor.programme_id is None
        or any(d.programme_id == actor.programme_id for d in action.deviations)
        or any(r.programme_id == actor.programme_id for r in action.risks)
    )


def get(session: Session, *, actor: Actor, action_id: int) -> CorrectiveAction:
    """Return an action the actor may see, or raise NotFound."""
    require(actor, Action.action_read)
    action = session.get(CorrectiveAction, action_id)
    if action is None or not _visible(actor, action):
        raise NotFound(Text("There is no corrective action with the id %(id)s.", id=action_id))
    return action


def list_actions(
    session: Session,
    *,
    actor: Actor,
    filters: ActionFilter,
    owner: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CorrectiveAction]:
    """List the actions the actor may see, newest first."""
    require(actor, Action.action_read)
    if owner is not None:
        user = users.get_user_by_name(session, owner)
        owner_id = user.id if user else -1
        # Someone else's, asked for together with the caller's own (mine): none of them.
        if filters.owner_id is not None and filters.owner_id != owner_id:
            owner_id = -1
        filters = ActionFilter(**{**filters.__dict__, "owner_id": owner_id})
    return repository.list_actions(
        session,
        filters,
        scope=actor.programme_id,
        today=deviations.today(),
        limit=limit,
        cursor=cursor,
    )


def _owner(session: Session, name: str, field: str = "owner") -> User:
    user = users.get_user_by_name(session, name)
    if user is None or not user.is_active:
        raise ValidationFailed(
            Text("The owner must be an active user."),
            [FieldError(field, Text("There is no active user %(name)r.", name=name))],
        )
    if user.role not in OWNER_ROLES:
        raise ValidationFailed(
            Text("The owner cannot carry out corrective actions."),
            [
                FieldError(
                    field,
                    Text(
                        "A user whose role is %(role)s cannot own a corrective action; choose "
                        "a quality lead or a coordinator.",
                        role=user.role,
                    ),
                )
            ],
        )
    return user


def _deviations(session: Session, actor: Actor, ids: Sequence[int]) -> list[Deviation]:
    found: list[Deviation] = []
    errors: list[FieldError] = []
    for index, deviation_id in enumerate(dict.fromkeys(ids)):
        deviation = session.get(Deviation, deviation_id)
        field = f"deviation_ids.{index}"
        if deviation is None or (
            actor.programme_id is not None and deviation.programme_id != actor.programme_id
        ):
            errors.append(
                FieldError(
                    field, Text("There is no deviation with the id %(id)s.", id=deviation_id)
                )
            )
        elif deviation.status is DeviationStatus.closed:
            errors.append(
                FieldError(
                    field,
                    Text("%(number)s is closed: reopen it first.", number=deviation.number),
                )
            )
        else:
            found.append(deviation)
    if errors:
        raise ValidationFailed(Text("A corrective action must answer open deviations."), errors)
    return found


def _check_due(linked: Sequence[Deviation], data_due: Any, field: str = "due_on") -> None:
    if not linked:
        return
    earliest = max(d.detected_at.date() for d in linked)
    if data_due < earliest:
        raise ValidationFailed(
            Text("The due date is before the deviation was detected."),
            [FieldError(field, Text("Enter a date on or after %(day)s.", day=earliest))],
        )


def _new_action(
    session: Session,
    actor: Actor,
    data: FollowOnCreate,
    linked: list[Deviation],
    *,
    follows: CorrectiveAction | None = None,
    effectiveness_check_on: Any = None,
    field_prefix: str = "",
    treated: Sequence[Risk] = (),
) -> CorrectiveAction:
    owner = _owner(session, data.owner, field=f"{field_prefix}owner")
    _check_due(linked, data.due_on, field=f"{field_prefix}due_on")
    now = utcnow()
    seq, number = next_number(session, series="CA", year=now.year)
    action = CorrectiveAction(
        number=number,
        year=now.year,
        seq=seq,
        type=data.type,
        status=ActionStatus.planned,
        title=data.title,
        action=data.action,
        root_cause_method=data.root_cause_method,
        root_cause=data.root_cause,
        owner_id=owner.id,
        due_on=data.due_on,
        effectiveness_check_on=effectiveness_check_on,
        follows_action_id=follows.id if follows else None,
        requirements=list(data.requirements),
    )
    action.owner = owner
    action.deviations = linked
    action.risks = list(treated)
    session.add(action)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="action.created",
        entity="action",
        entity_id=action.id,
        programme_id=programme_of(action),
        changes=created({"number": number, **_snapshot(action), "owner": owner.name}),
    )
    for deviation in linked:
        numbers = [a.number for a in deviation.actions]
        record_event(
            session,
            actor=actor,
            action="deviation.action_linked",
            entity="deviation",
            entity_id=deviation.id,
            programme_id=deviation.programme_id,
            changes={"actions": {"old": [n for n in numbers if n != number], "new": numbers}},
        )
    risks.action_linked(session, actor=actor, risks=action.risks, number=number)
    return action


def _answers_something(deviation_ids: Sequence[int], risk_ids: Sequence[int]) -> None:
    if not deviation_ids and not risk_ids:
        raise ValidationFailed(
            Text("A corrective action answers at least one deviation or treats a risk."),
            [
                FieldError("deviation_ids", Text("Name a deviation, or a risk in risk_ids.")),
                FieldError("risk_ids", Text("Name a risk, or a deviation in deviation_ids.")),
            ],
        )


def _preventive_for_risks(data: FollowOnCreate, deviation_ids: Sequence[int]) -> None:
    if not deviation_ids and data.type is not ActionType.preventive:
        raise ValidationFailed(
            Text(
                "An action on risks alone prevents: its type is %(type)s.",
                type=ActionType.preventive,
            ),
            [FieldError("type", Text("Choose %(type)s.", type=ActionType.preventive))],
        )


def create(session: Session, *, actor: Actor, data: ActionCreate) -> CorrectiveAction:
    """Open a corrective action on one or more deviations, or on risks and opportunities."""
    require(actor, Action.action_manage)
    _answers_something(data.deviation_ids, data.risk_ids)
    linked = _deviations(session, actor, data.deviation_ids)
    treated = risks.for_action(session, actor, data.risk_ids)
    if treated:
        _preventive_for_risks(data, data.deviation_ids)
    if data.effectiveness_check_on is not None and data.effectiveness_check_on < data.due_on:
        raise ValidationFailed(
            Text("The effectiveness check comes before the action is due."),
            [
                FieldError(
                    "effectiveness_check_on",
                    Text("Enter a date on or after the due date."),
                )
            ],
        )
    return _new_action(
        session,
        actor,
        data,
        linked,
        effectiveness_check_on=data.effectiveness_check_on,
        treated=treated,
    )


def open_unlinked(
    session: Session, *, actor: Actor, data: FollowOnCreate, field_prefix: str = ""
) -> CorrectiveAction:
    """Open an action that answers no deviation: a management review's decision, say."""
    require(actor, Action.action_manage)
    return _new_action(session, actor, data, [], field_prefix=field_prefix)


def update(
    session: Session, *, actor: Actor, action_id: int, data: ActionUpdate, if_match: int | None
) -> CorrectiveAction:
    """Change an action that is not yet done, against the version the client read."""
    require(actor, Action.action_manage)
    action = get(session, actor=actor, action_id=action_id)
    check_if_match(current=action.version, if_match=if_match, what="corrective action")
    if action.status not in OPEN_STATUSES:
        raise Conflict(
            Text(
                "%(number)s is %(status)s: it can no longer be changed.",
                number=action.number,
                status=action.status,
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
    before = _snapshot(action)
    before_owner = action.owner.name
    if "owner" in changes:
        owner = _owner(session, changes.pop("owner"))
        action.owner_id, action.owner = owner.id, owner
    if "deviation_ids" in changes:
        action.deviations = _deviations(session, actor, changes.pop("deviation_ids"))
    if "risk_ids" in changes:
        action.risks = risks.for_action(session, actor, changes.pop("risk_ids") or [])
    _answers_something([d.id for d in action.deviations], [r.id for r in action.risks])
    _check_due(action.deviations, changes.get("due_on", action.due_on))
    check_on = changes.get("effectiveness_check_on", action.effectiveness_check_on)
    if check_on is not None and check_on < changes.get("due_on", action.due_on):
        raise ValidationFailed(
            Text("The effectiveness check comes before the action is due."),
            [
                FieldError(
                    "effectiveness_check_on",
                    Text("Enter a date on or after the due date."),
                )
            ],
        )
    for field, value in changes.items():
        setattr(action, field, value)
    delta = diff(before, _snapshot(action))
    if action.owner.name != before_owner:
        delta["owner"] = {"old": before_owner, "new": action.owner.name}
        delta.pop("owner_id", None)
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="action.updated",
            entity="action",
            entity_id=action.id,
            programme_id=programme_of(action),
            changes=delta,
        )
    return action


def transition(
    session: Session,
    *,
    actor: Actor,
    action_id: int,
    data: ActionTransition,
    if_match: int | None,
) -> CorrectiveAction:
    """Move an action along its workflow (qms.workflow.ACTION); verifying it signs it.

    Quality leads make every move; an action's owner may report its progress (in_progress, done)
    on their own action. Verification is never by the owner.
    """
    require(actor, Action.action_progress)
    action = get(session, actor=actor, action_id=action_id)
    if not actor.can(Action.action_manage):
        own = actor.user_id is not None and actor.user_id == action.owner_id
        if not own or data.to not in (ActionStatus.in_progress, ActionStatus.done):
            raise Forbidden(
                Text(
                    "Your role, %(role)s, allows you to report progress only on corrective "
                    "actions you own.",
                    role=actor.role,
                )
            )
    check_if_match(current=action.version, if_match=if_match, what="corrective action")
    source, target = action.status.value, data.to.value
    ACTION.move(
        source,
        target,
        evidence=data.evidence,
        follow_on=data.follow_on,
        completion_note=data.completion_note,
    )
    check_on = action.effectiveness_check_on
    if (
        target == ActionStatus.verified_effective
        and check_on is not None
        and deviations.today() < check_on
        and not data.reason
    ):
        raise ValidationFailed(
            Text(
                "The effectiveness of %(number)s is to be checked on %(day)s: verify it as "
                "effective on or after that day, or give the reason to verify it early.",
                number=action.number,
                day=check_on,
            ),
            [
                FieldError(
                    "reason",
                    Text("Say why the effect can be verified before %(day)s.", day=check_on),
                )
            ],
        )
    before = _snapshot(action)
    now = utcnow()
    if target == ActionStatus.in_progress:
        action.started_at = now
    elif target == ActionStatus.done:
        action.done_at = now
        action.completion_note = data.completion_note
    elif target in (ActionStatus.verified_effective, ActionStatus.ineffective):
        if actor.user_id is not None and actor.user_id == action.owner_id:
            raise Forbidden(
                Text("You own %(number)s: another person verifies it.", number=action.number)
            )
        action.verified_at = now
        action.verified_by = actor.name
        action.verified_by_id = actor.user_id
        action.evidence = data.evidence
    action.status = ActionStatus(target)
    session.flush()
    if action.verified_at is not None and target != source and action.signature_id is None:
        signature = sign(
            session,
            actor=actor,
            entity="action",
            entity_id=action.id,
            meaning=SignatureMeaning.verified,
            programme_id=programme_of(action),
            statement=statements.action_verified(
                action.number,
                effective=target == ActionStatus.verified_effective,
                evidence=action.evidence or "",
            ),
            confirmation=data.signature,
            content={
                "number": action.number,
                "result": target,
                "action": action.action,
                "completion_note": action.completion_note,
                "evidence": action.evidence,
            },
        )
        action.signature_id = signature.id
    record_event(
        session,
        actor=actor,
        action="action.transitioned",
        entity="action",
        entity_id=action.id,
        programme_id=programme_of(action),
        changes=diff(before, _snapshot(action)),
        reason=data.reason,
    )
    if target == ActionStatus.ineffective:
        assert data.follow_on is not None  # the workflow requires it
        open_deviations = [d for d in action.deviations if d.status is not DeviationStatus.closed]
        _new_action(
            session,
            actor,
            data.follow_on,
            open_deviations or list(action.deviations),
            follows=action,
            field_prefix="follow_on.",
            treated=[r for r in action.risks if r.status in OPEN_RISKS],
        )
    session.flush()
    return action


def history(session: Session, *, actor: Actor, action_id: int) -> list[AuditEvent]:
    """Return the action's timeline from the audit trail (its moves, signature, changes)."""
    action = get(session, actor=actor, action_id=action_id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "action", AuditEvent.entity_id == str(action.id))
            .order_by(AuditEvent.seq)
        )
    )
