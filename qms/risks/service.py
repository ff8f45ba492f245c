"""Register risks and opportunities, rate and treat them, review them, and mark those that came
true (ISO 9001 6.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import qms.models  # noqa: F401  (risks, actions and deviations refer to each other)
from qms.accounts import repository as users
from qms.accounts.models import User
from qms.actions.models import ActionStatus
from qms.audit.models import AuditEvent
from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.config import get_settings
from qms.db import utcnow
from qms.deviations.models import Deviation
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page
from qms.permissions import Action, Actor, Role, require
from qms.programmes.models import Programme
from qms.risks import repository
from qms.risks.enums import NEEDS_REASON, TREATMENTS, RiskKind, RiskLevel, RiskStatus
from qms.risks.models import Risk
from qms.risks.repository import OPEN_STATUSES, RiskFilter
from qms.risks.schemas import (
    MatrixRead,
    RiskCreate,
    RiskRead,
    RiskReview,
    RiskTransition,
    RiskUpdate,
)
from qms.workflow import RISK, BlockedMove

OWNER_ROLES = {Role.admin, Role.quality_lead, Role.coordinator}
SERIES = {RiskKind.risk: "RISK", RiskKind.opportunity: "OPP"}
FIELDS = (
    "kind",
    "status",
    "programme_id",
    "title",
    "description",
    "cause",
    "likelihood",
    "consequence",
    "treatment",
    "treatment_plan",
    "treatment_reason",
    "residual_likelihood",
    "residual_consequence",
    "review_on",
    "reviewed_at",
    "requirements",
    "closed_at",
)
_NOT_NULL = {"title", "description", "likelihood", "consequence", "requirements"}
RATINGS = ("likelihood", "consequence", "residual_likelihood", "residual_consequence")


def today() -> date:
    """Return today's date in UTC, against which review dates are judged."""
    return utcnow().date()


def scale() -> int:
    """Return the organisation's rating scale: likelihood and consequence run 1..scale."""
    return get_settings().risk_scale


def level(score: int) -> RiskLevel:
    """Return the level of a score by the organisation's thresholds."""
    settings = get_settings()
    if score >= settings.risk_high_from:
        return RiskLevel.high
    if score >= settings.risk_medium_from:
        return RiskLevel.medium
    return RiskLevel.low


def residual_score(risk: Risk) -> int | None:
    """Return the score after treatment, when it is rated."""
    if risk.residual_likelihood is None or risk.residual_consequence is None:
        return None
    return risk.residual_likelihood * risk.residual_consequence


def review_overdue(risk: Risk, on: date | None = None) -> bool:
    """Say whether the risk's review date has passed while it is still open or treated."""
    return (
        risk.status in OPEN_STATUSES
        and risk.review_on is not None
        and risk.review_on < (on or today())
    )


def blocked_moves(risk: Risk) -> dict[str, list[str]]:
    """Return the moves from the risk's state that cannot be made yet, with what they wait for."""
    blocked: dict[str, list[str]] = {}
    for target in RISK.allowed_from(risk.status.value):
        if target == RiskStatus.realised:
            blocked[target] = ["deviation_names_risk"]
        elif target == RiskStatus.treated and _treatment_missing(risk):
            blocked[target] = ["treatment"]
    return blocked


def _treatment_missing(risk: Risk) -> bool:
    return (
        risk.treatment is None
        or (risk.treatment in NEEDS_REASON and not risk.treatment_reason)
        or residual_score(risk) is None
    )


def to_read(session: Session, risk: Risk) -> RiskRead:
    """Shape a risk for the API, with its scores, levels and links."""
    values: dict[str, Any] = {f: getattr(risk, f) for f in FIELDS}
    blocked = blocked_moves(risk)
    after = residual_score(risk)
    realised = repository.realised_in(session, risk.id)
    return RiskRead(
        id=risk.id,
        number=risk.number,
        **values,
        owner=risk.owner.name if risk.owner else None,
        owner_display_name=(risk.owner.display_name or risk.owner.name) if risk.owner else None,
        score=risk.likelihood * risk.consequence,
        level=level(risk.likelihood * risk.consequence),
        residual_score=after,
        residual_level=level(after) if after is not None else None,
        review_overdue=review_overdue(risk),
        action_ids=[a.id for a in risk.actions],
        action_numbers=[a.number for a in risk.actions],
        deviation_ids=[d.id for d in realised],
        deviation_numbers=[d.number for d in realised],
        allowed_transitions=[t for t in RISK.allowed_from(risk.status.value) if t not in blocked],
        blocked=[BlockedMove(to=t, missing=m) for t, m in blocked.items()],
        created_by=risk.created_by,
        created_at=risk.created_at,
        updated_at=risk.updated_at,
        version=risk.version,
    )


def _snapshot(risk: Risk) -> dict[str, Any]:
    values = {f: getattr(risk, f) for f in FIELDS}
    values["owner"] = risk.owner.name if risk.owner else None
    return values


def _visible(actor: Actor, risk: Risk) -> bool:
    return actor.programme_id is None or risk.programme_id == actor.programme_id


def get(session: Session, *, actor: Actor, risk_id: int) -> Risk:
    """Return a risk the actor may see, or raise NotFound."""
    require(actor, Action.risk_read)
    risk = session.get(Risk, risk_id)
    if risk is None or not _visible(actor, risk):
        raise NotFound(Text("There is no risk or opportunity with the id %(id)s.", id=risk_id))
    return risk


def get_by_number(session: Session, *, actor: Actor, number: str) -> Risk:
    """Return a risk by its number (RISK-2026-0001, OPP-2026-0001), or raise NotFound."""
    require(actor, Action.risk_read)
    risk = repository.get_by_number(session, number.strip().upper())
    if risk is None or not _visible(actor, risk):
        raise NotFound(Text("There is no risk or opportunity %(number)s.", number=number))
    return risk


def _thresholds() -> dict[str, int]:
    settings = get_settings()
    return {"medium_from": settings.risk_medium_from, "high_from": settings.risk_high_from}


def list_risks(
    session: Session,
    *,
    actor: Actor,
    filters: RiskFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Risk]:
    """List the risks and opportunities the actor may see, newest first."""
    require(actor, Action.risk_read)
    return repository.list_risks(
        session, filters, scope=actor.programme_id, limit=limit, cursor=cursor, **_thresholds()
    )


def register(session: Session, *, actor: Actor, filters: RiskFilter) -> Sequence[Risk]:
    """Return every risk and opportunity the actor may see that the filter keeps, by number."""
    require(actor, Action.risk_read)
    return repository.every(session, filters, scope=actor.programme_id, **_thresholds())


def matrix(risks: Sequence[Risk], size: int | None = None) -> MatrixRead:
    """Place the risks in the cells of the likelihood x consequence grid, before and after
    treatment (a rating beyond the scale, from before it was narrowed, counts in its last cell)."""
    n = size or scale()
    before: list[list[list[str]]] = [[[] for _ in range(n)] for _ in range(n)]
    after: list[list[list[str]]] = [[[] for _ in range(n)] for _ in range(n)]
    for risk in risks:
        before[min(risk.likelihood, n) - 1][min(risk.consequence, n) - 1].append(risk.number)
        if risk.residual_likelihood is not None and risk.residual_consequence is not None:
            row = min(risk.residual_likelihood, n) - 1
            after[row][min(risk.residual_consequence, n) - 1].append(risk.number)
    return MatrixRead(
        scale=n,
        before=[[len(cell) for cell in row] for row in before],
        after=[[len(cell) for cell in row] for row in after],
        numbers_before=before,
        numbers_after=after,
    )


def _check_ratings(values: dict[str, Any]) -> None:
    n = scale()
    errors = [
        FieldError(f, Text("Rate it from 1 to %(scale)s.", scale=n))
        for f in RATINGS
        if values.get(f) is not None and not 1 <= values[f] <= n
    ]
    if errors:
        raise ValidationFailed(
            Text("A rating is beyond the organisation's scale of 1 to %(scale)s.", scale=n), errors
        )


def _check_treatment(kind: RiskKind, values: dict[str, Any]) -> None:
    treatment = values.get("treatment")
    if treatment is None:
        return
    if treatment not in TREATMENTS[kind]:
        raise ValidationFailed(
            Text("That treatment is not one for this kind of record."),
            [
                FieldError(
                    "treatment",
                    Text(
                        "A %(kind)s is treated by one of: %(treatments)s.",
                        kind=kind,
                        treatments=list(TREATMENTS[kind]),
                    ),
                )
            ],
        )
    if treatment in NEEDS_REASON and not values.get("treatment_reason"):
        raise ValidationFailed(
            Text("To %(treatment)s it, say why.", treatment=treatment),
            [FieldError("treatment_reason", Text("Say why it is left as it is."))],
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
            Text("The owner cannot keep a risk."),
            [
                FieldError(
                    "owner",
                    Text(
                        "A user whose role is %(role)s cannot own a risk; choose a quality lead "
                        "or a coordinator.",
                        role=user.role,
                    ),
                )
            ],
        )
    return user


def _programme(session: Session, actor: Actor, programme_id: int | None) -> int | None:
    if programme_id is not None and session.get(Programme, programme_id) is None:
        raise ValidationFailed(
            Text("The risk names a programme that does not exist."),
            [
                FieldError(
                    "programme_id",
                    Text("There is no programme with the id %(id)s.", id=programme_id),
                )
            ],
        )
    if actor.programme_id is not None and programme_id != actor.programme_id:
        raise ValidationFailed(
            Text("This token keeps risks of its own programme only."),
            [FieldError("programme_id", Text("Choose the token's own programme."))],
        )
    return programme_id


def create(session: Session, *, actor: Actor, data: RiskCreate) -> Risk:
    """Register a risk or an opportunity; it gets the next number of its series and starts open."""
    require(actor, Action.risk_write)
    values = data.model_dump()
    _check_ratings(values)
    _check_treatment(data.kind, values)
    programme_id = _programme(session, actor, data.programme_id)
    owner = _owner(session, data.owner) if data.owner is not None else None
    now = utcnow()
    seq, number = next_number(session, series=SERIES[data.kind], year=now.year)
    risk = Risk(
        number=number,
        year=now.year,
        seq=seq,
        kind=data.kind,
        status=RiskStatus.open,
        programme_id=programme_id,
        title=data.title,
        description=data.description,
        cause=data.cause,
        owner_id=owner.id if owner else None,
        likelihood=data.likelihood,
        consequence=data.consequence,
        treatment=data.treatment,
        treatment_plan=data.treatment_plan,
        treatment_reason=data.treatment_reason,
        residual_likelihood=data.residual_likelihood,
        residual_consequence=data.residual_consequence,
        review_on=data.review_on,
        requirements=list(data.requirements),
        created_by=actor.name,
    )
    risk.owner = owner
    session.add(risk)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="risk.created",
        entity="risk",
        entity_id=risk.id,
        programme_id=programme_id,
        changes=created({"number": number, **_snapshot(risk)}),
    )
    return risk


def update(
    session: Session, *, actor: Actor, risk_id: int, data: RiskUpdate, if_match: int | None
) -> Risk:
    """Change a risk that is not closed, against the version the client read."""
    require(actor, Action.risk_write)
    risk = get(session, actor=actor, risk_id=risk_id)
    check_if_match(current=risk.version, if_match=if_match, what="risk")
    if risk.status is RiskStatus.closed:
        raise Conflict(
            Text("%(number)s is closed: open it again to change it.", number=risk.number)
        )
    changes = data.model_dump(exclude_unset=True)
    nulls = [
        FieldError(f, Text("This cannot be left empty."))
        for f, v in changes.items()
        if v is None and f in _NOT_NULL
    ]
    if nulls:
        raise ValidationFailed(Text("Required fields cannot be emptied."), nulls)
    _check_ratings(changes)
    merged = {f: changes.get(f, getattr(risk, f)) for f in ("treatment", "treatment_reason")}
    _check_treatment(risk.kind, merged)
    if "programme_id" in changes:
        _programme(session, actor, changes["programme_id"])
    before = _snapshot(risk)
    if "owner" in changes:
        name = changes.pop("owner")
        owner = _owner(session, name) if name is not None else None
        risk.owner_id, risk.owner = (owner.id if owner else None), owner
    for field, value in changes.items():
        setattr(risk, field, value)
    if risk.status is RiskStatus.treated and _treatment_missing(risk):
        # A treated risk keeps its treatment and its rating after it; move it back to open first.
        raise ValidationFailed(
            Text(
                "%(number)s is %(status)s: it keeps its treatment and its rating after treatment.",
                number=risk.number,
                status=RiskStatus.treated,
            ),
            [
                FieldError(f, Text("This cannot be left empty."))
                for f in ("treatment", "residual_likelihood", "residual_consequence")
                if f in changes and changes[f] is None
            ]
            or [FieldError("treatment", Text("This cannot be left empty."))],
        )
    delta = diff(before, _snapshot(risk))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="risk.updated",
            entity="risk",
            entity_id=risk.id,
            programme_id=risk.programme_id,
            changes=delta,
        )
    return risk


def transition(
    session: Session, *, actor: Actor, risk_id: int, data: RiskTransition, if_match: int | None
) -> Risk:
    """Move a risk along its workflow (qms.workflow.RISK); realised is set by a deviation."""
    require(actor, Action.risk_write)
    risk = get(session, actor=actor, risk_id=risk_id)
    check_if_match(current=risk.version, if_match=if_match, what="risk")
    source, target = risk.status.value, data.to.value
    RISK.move(source, target, reason=data.reason)
    if target == RiskStatus.realised:
        raise Conflict(
            Text(
                "%(number)s is marked %(status)s when a deviation names it as the risk it "
                "realised: log the deviation, or name the risk on it.",
                number=risk.number,
                status=RiskStatus.realised,
            )
        )
    if target == RiskStatus.treated and _treatment_missing(risk):
        raise ValidationFailed(
            Text(
                "Choose the treatment (with the reason to accept or decline) and rate it after "
                "treatment before setting the status to %(status)s.",
                status=RiskStatus.treated,
            ),
            [
                FieldError(f, Text("Fill this in first."))
                for f, missing in (
                    ("treatment", risk.treatment is None),
                    (
                        "treatment_reason",
                        risk.treatment in NEEDS_REASON and not risk.treatment_reason,
                    ),
                    ("residual_likelihood", risk.residual_likelihood is None),
                    ("residual_consequence", risk.residual_consequence is None),
                )
                if missing
            ],
        )
    before = _snapshot(risk)
    risk.status = RiskStatus(target)
    risk.closed_at = utcnow() if target == RiskStatus.closed else None
    session.flush()
    record_event(
        session,
        actor=actor,
        action="risk.transitioned",
        entity="risk",
        entity_id=risk.id,
        programme_id=risk.programme_id,
        changes=diff(before, _snapshot(risk)),
        reason=data.reason,
    )
    return risk


def review(
    session: Session, *, actor: Actor, risk_id: int, data: RiskReview, if_match: int | None
) -> Risk:
    """Record a review of a risk: its rating as it stands and the date of the next review."""
    require(actor, Action.risk_write)
    risk = get(session, actor=actor, risk_id=risk_id)
    check_if_match(current=risk.version, if_match=if_match, what="risk")
    if risk.status is RiskStatus.closed:
        raise Conflict(
            Text("%(number)s is closed: open it again to review it.", number=risk.number)
        )
    if data.next_review_on <= today():
        raise ValidationFailed(
            Text("The next review comes after today."),
            [FieldError("next_review_on", Text("Enter a date after today."))],
        )
    changes = data.model_dump(exclude_unset=True, exclude={"next_review_on", "note"})
    _check_ratings(changes)
    before = _snapshot(risk)
    for field, value in changes.items():
        if value is not None:
            setattr(risk, field, value)
    risk.review_on = data.next_review_on
    risk.reviewed_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="risk.reviewed",
        entity="risk",
        entity_id=risk.id,
        programme_id=risk.programme_id,
        changes=diff(before, _snapshot(risk)),
        reason=data.note,
    )
    return risk


def for_deviation(session: Session, actor: Actor, risk_id: int, programme_id: int | None) -> Risk:
    """Return the risk a deviation names as realised, checked: it exists, the actor sees it, and it
    is the organisation's or of the deviation's programme."""
    risk = session.get(Risk, risk_id)
    if risk is None or not _visible(actor, risk):
        raise ValidationFailed(
            Text("The deviation names a risk that does not exist."),
            [FieldError("risk_id", Text("There is no risk with the id %(id)s.", id=risk_id))],
        )
    if risk.programme_id is not None and risk.programme_id != programme_id:
        raise ValidationFailed(
            Text("The risk is of another programme."),
            [
                FieldError(
                    "risk_id",
                    Text("%(number)s is of another programme.", number=risk.number),
                )
            ],
        )
    return risk


def realised(session: Session, *, actor: Actor, risk: Risk, deviation: Deviation) -> None:
    """Mark the risk realised because a deviation names it (an open or treated one; a realised or
    closed one stays as it is)."""
    if risk.status not in OPEN_STATUSES:
        return
    before = _snapshot(risk)
    risk.status = RiskStatus.realised
    session.flush()
    record_event(
        session,
        actor=actor,
        action="risk.realised",
        entity="risk",
        entity_id=risk.id,
        programme_id=risk.programme_id,
        changes=diff(before, _snapshot(risk)),
        reason=deviation.number,
    )


def for_action(session: Session, actor: Actor, ids: Sequence[int]) -> list[Risk]:
    """Return the risks an action is to treat, checked: each exists, is seen by the actor and is
    not closed (errors name risk_ids.N)."""
    found: list[Risk] = []
    errors: list[FieldError] = []
    for index, risk_id in enumerate(dict.fromkeys(ids)):
        risk = session.get(Risk, risk_id)
        field = f"risk_ids.{index}"
        if risk is None or not _visible(actor, risk):
            errors.append(
                FieldError(field, Text("There is no risk with the id %(id)s.", id=risk_id))
            )
        elif risk.status is RiskStatus.closed:
            errors.append(
                FieldError(
                    field, Text("%(number)s is closed: open it again first.", number=risk.number)
                )
            )
        else:
            found.append(risk)
    if errors:
        raise ValidationFailed(Text("A corrective action must treat risks that are open."), errors)
    return found


def action_linked(session: Session, *, actor: Actor, risks: Sequence[Risk], number: str) -> None:
    """Write, on each risk, that an action now treats it."""
    for risk in risks:
        numbers = [a.number for a in risk.actions]
        record_event(
            session,
            actor=actor,
            action="risk.action_linked",
            entity="risk",
            entity_id=risk.id,
            programme_id=risk.programme_id,
            changes={"actions": {"old": [n for n in numbers if n != number], "new": numbers}},
        )


def actions_verified(risk: Risk) -> tuple[int, int]:
    """Return how many of the risk's actions are verified effective, and how many it has."""
    return (
        sum(1 for a in risk.actions if a.status is ActionStatus.verified_effective),
        len(risk.actions),
    )


def due_for_review(session: Session, *, owner_id: int, by: date) -> Sequence[Risk]:
    """Return the open or treated risks the user owns whose review is due by the day."""
    return session.scalars(
        select(Risk)
        .where(
            Risk.owner_id == owner_id,
            Risk.status.in_(OPEN_STATUSES),
            Risk.review_on.is_not(None),
            Risk.review_on <= by,
        )
        .order_by(Risk.review_on, Risk.id)
    ).all()


def history(session: Session, *, actor: Actor, risk_id: int) -> list[AuditEvent]:
    """Return the risk's timeline from the audit trail."""
    risk = get(session, actor=actor, risk_id=risk_id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "risk", AuditEvent.entity_id == str(risk.id))
            .order_by(AuditEvent.seq)
        )
    )
