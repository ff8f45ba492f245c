"""Keep external providers and evaluate them, every change into the audit trail (ISO 9001 8.4)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.deviations.models import Deviation
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.pagination import Page
from qms.permissions import Action, Actor, require
from qms.programmes.models import Programme
from qms.providers import repository
from qms.providers.enums import STATUS_AFTER, EvaluationDecision, ProviderStatus
from qms.providers.models import Provider, ProviderEvaluation
from qms.providers.repository import ProviderFilter
from qms.providers.schemas import (
    ProviderCreate,
    ProviderEvaluationCreate,
    ProviderRead,
    ProviderUpdate,
)
from qms.records import reject_nulls, snapshot

FIELDS = (
    "code",
    "name",
    "kind",
    "provides",
    "criteria",
    "contact",
    "programme_id",
    "status",
    "status_reason",
    "evaluation_months",
    "next_evaluation_on",
)
EVALUATION_FIELDS = (
    "provider_id",
    "evaluated_on",
    "evaluated_by",
    "score",
    "summary",
    "decision",
    "next_evaluation_on",
)
_NOT_NULL = {"name", "kind", "provides", "criteria", "contact", "status", "evaluation_months"}


def today() -> date:
    """Return today's date in UTC, against which evaluation dates are judged."""
    return utcnow().date()


def add_months(day: date, months: int) -> date:
    """Return the same day of the month, months later (the month's last day where it is short)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_overdue(provider: Provider, on: date) -> bool:
    """Say whether a provider still in use is past its next evaluation date."""
    return (
        provider.status is not ProviderStatus.ended
        and provider.next_evaluation_on is not None
        and provider.next_evaluation_on < on
    )


def latest(provider: Provider) -> ProviderEvaluation | None:
    """Return the provider's newest evaluation, if it has one."""
    return provider.evaluations[0] if provider.evaluations else None


def to_read(session: Session, provider: Provider) -> ProviderRead:
    """Shape a provider for the API, with its latest evaluation and whether one is overdue."""
    last = latest(provider)
    programme = session.get(Programme, provider.programme_id) if provider.programme_id else None
    return ProviderRead(
        id=provider.id,
        **{f: getattr(provider, f) for f in FIELDS},
        programme_code=programme.code if programme else None,
        evaluation_overdue=is_overdue(provider, today()),
        last_evaluated_on=last.evaluated_on if last else None,
        last_score=last.score if last else None,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
        version=provider.version,
    )


def _visible(actor: Actor, provider: Provider) -> bool:
    return (
        actor.programme_id is None
        or provider.programme_id is None
        or provider.programme_id == actor.programme_id
    )


def get(session: Session, *, actor: Actor, provider_id: int) -> Provider:
    """Return a provider the actor may see, or raise NotFound."""
    require(actor, Action.provider_read)
    provider = session.get(Provider, provider_id)
    if provider is None or not _visible(actor, provider):
        raise NotFound(Text("There is no external provider with the id %(id)s.", id=provider_id))
    return provider


def get_by_code(session: Session, *, actor: Actor, code: str) -> Provider:
    """Return a provider by its code (NAV), or raise NotFound."""
    require(actor, Action.provider_read)
    provider = repository.get_by_code(session, code.strip().upper())
    if provider is None or not _visible(actor, provider):
        raise NotFound(Text("There is no external provider %(code)s.", code=code))
    return provider


def list_providers(
    session: Session,
    *,
    actor: Actor,
    filters: ProviderFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Provider]:
    """List the providers the actor may see, oldest first."""
    require(actor, Action.provider_read)
    return repository.list_providers(
        session, filters or ProviderFilter(), scope=actor.programme_id, limit=limit, cursor=cursor
    )


def every(session: Session, *, actor: Actor) -> Sequence[Provider]:
    """Return every provider the actor may see, by code."""
    require(actor, Action.provider_read)
    return repository.every(session, scope=actor.programme_id)


def due(session: Session, *, actor: Actor, within_days: int = 30) -> Sequence[Provider]:
    """Return the providers whose evaluation is overdue or falls due within the days."""
    require(actor, Action.provider_read)
    on = today()
    return repository.due(
        session, by=date.fromordinal(on.toordinal() + within_days), scope=actor.programme_id
    )


def _check_programme(session: Session, actor: Actor, programme_id: int | None) -> None:
    if programme_id is not None and session.get(Programme, programme_id) is None:
        raise ValidationFailed(
            Text("The provider names a programme that does not exist."),
            [
                FieldError(
                    "programme_id",
                    Text("There is no programme with the id %(id)s.", id=programme_id),
                )
            ],
        )
    if actor.programme_id is not None and programme_id != actor.programme_id:
        raise ValidationFailed(
            Text("This token keeps the providers of its own programme only."),
            [FieldError("programme_id", Text("Choose the token's own programme."))],
        )


def _check_next(next_on: date | None, after: date, field: str = "next_evaluation_on") -> None:
    if next_on is not None and next_on <= after:
        raise ValidationFailed(
            Text("The next evaluation must come later."),
            [FieldError(field, Text("Enter a date after %(day)s.", day=after))],
        )


def create(session: Session, *, actor: Actor, data: ProviderCreate) -> Provider:
    """Add an external provider; its first evaluation falls due one cycle from today."""
    require(actor, Action.provider_write)
    _check_programme(session, actor, data.programme_id)
    if repository.get_by_code(session, data.code) is not None:
        raise ValidationFailed(
            Text("An external provider with the code %(code)s exists already.", code=data.code),
            [FieldError("code", Text("Choose another code."))],
        )
    if data.status is not ProviderStatus.approved and not data.status_reason:
        raise ValidationFailed(
            Text("A provider that is not approved needs a reason."),
            [FieldError("status_reason", Text("Say why the provider has this status."))],
        )
    next_on = data.next_evaluation_on
    if next_on is None and data.status is not ProviderStatus.ended:
        next_on = add_months(today(), data.evaluation_months)
    provider = Provider(
        code=data.code,
        name=data.name,
        kind=data.kind,
        provides=data.provides,
        criteria=data.criteria,
        contact=data.contact,
        programme_id=data.programme_id,
        status=data.status,
        status_reason=data.status_reason,
        evaluation_months=data.evaluation_months,
        next_evaluation_on=next_on,
    )
    session.add(provider)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="provider.created",
        entity="provider",
        entity_id=provider.id,
        programme_id=provider.programme_id,
        changes=created(snapshot(provider, FIELDS)),
    )
    return provider


def update(
    session: Session,
    *,
    actor: Actor,
    provider_id: int,
    data: ProviderUpdate,
    if_match: int | None,
) -> Provider:
    """Change a provider's fields, against the version the client read; a new status needs a
    reason."""
    require(actor, Action.provider_write)
    provider = get(session, actor=actor, provider_id=provider_id)
    check_if_match(current=provider.version, if_match=if_match, what="provider")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    reject_nulls(changes, _NOT_NULL)
    if actor.programme_id is not None and provider.programme_id is None:
        raise ValidationFailed(
            Text("This token keeps the providers of its own programme only."),
            [FieldError("programme_id", Text("Choose the token's own programme."))],
        )
    if "programme_id" in changes:
        _check_programme(session, actor, changes["programme_id"])
    new_status = changes.get("status")
    reason = changes.get("status_reason")
    if new_status is not None and new_status != provider.status:
        if not reason:
            raise ValidationFailed(
                Text("A change of status needs a reason."),
                [FieldError("status_reason", Text("Say why the status changes."))],
            )
    elif "status_reason" in changes and reason == provider.status_reason:
        changes.pop("status_reason")
    before = snapshot(provider, FIELDS)
    for field, value in changes.items():
        setattr(provider, field, value)
    delta = diff(before, snapshot(provider, FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="provider.updated",
            entity="provider",
            entity_id=provider.id,
            programme_id=provider.programme_id,
            changes=delta,
            reason=reason if "status" in delta else None,
        )
    return provider


def evaluations(
    session: Session, *, actor: Actor, provider_id: int
) -> Sequence[ProviderEvaluation]:
    """Return a provider's evaluations, newest first."""
    provider = get(session, actor=actor, provider_id=provider_id)
    return repository.evaluations(session, provider.id)


def evaluate(
    session: Session, *, actor: Actor, provider_id: int, data: ProviderEvaluationCreate
) -> ProviderEvaluation:
    """Record an evaluation; the decision sets the provider's status and its next date."""
    require(actor, Action.provider_write)
    provider = get(session, actor=actor, provider_id=provider_id)
    if actor.programme_id is not None and provider.programme_id is None:
        raise ValidationFailed(
            Text("This token keeps the providers of its own programme only."),
            [FieldError("provider_id", Text("Choose a provider of the token's own programme."))],
        )
    if provider.status is ProviderStatus.ended:
        raise Conflict(Text("%(code)s has ended: it is evaluated no more.", code=provider.code))
    evaluated_on = data.evaluated_on or today()
    if evaluated_on > today():
        raise ValidationFailed(
            Text("An evaluation is recorded once it is made."),
            [FieldError("evaluated_on", Text("Enter a day that has already come."))],
        )
    next_on = data.next_evaluation_on
    if data.decision is EvaluationDecision.end:
        if next_on is not None:
            raise ValidationFailed(
                Text("A provider that is ended is evaluated no more."),
                [FieldError("next_evaluation_on", Text("Leave it empty when ending."))],
            )
    elif next_on is None:
        next_on = add_months(evaluated_on, provider.evaluation_months)
    _check_next(next_on, evaluated_on)
    evaluation = ProviderEvaluation(
        provider_id=provider.id,
        evaluated_on=evaluated_on,
        evaluated_by=actor.name,
        score=data.score,
        summary=data.summary,
        decision=data.decision,
        next_evaluation_on=next_on,
    )
    session.add(evaluation)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="provider_evaluation.recorded",
        entity="provider_evaluation",
        entity_id=evaluation.id,
        programme_id=provider.programme_id,
        changes=created(snapshot(evaluation, EVALUATION_FIELDS)),
    )
    before = snapshot(provider, FIELDS)
    status = STATUS_AFTER[data.decision]
    if status is not provider.status:
        provider.status = status
        provider.status_reason = data.summary
    provider.next_evaluation_on = next_on
    delta = diff(before, snapshot(provider, FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="provider.evaluated",
            entity="provider",
            entity_id=provider.id,
            programme_id=provider.programme_id,
            changes=delta,
        )
    session.refresh(provider, ["evaluations"])
    return evaluation


def deviations(session: Session, *, actor: Actor, provider_id: int) -> Sequence[Deviation]:
    """Return the deviations raised against a provider that the actor may see, newest first."""
    provider = get(session, actor=actor, provider_id=provider_id)
    require(actor, Action.deviation_read)
    return repository.deviations(session, provider.id, scope=actor.programme_id)


def check_provider(session: Session, *, actor: Actor, provider_id: int | None) -> None:
    """Refuse a deviation that names a provider the actor cannot see, as a field error."""
    if provider_id is None:
        return
    provider = session.get(Provider, provider_id)
    if provider is None or not _visible(actor, provider):
        raise ValidationFailed(
            Text("The deviation names an external provider that does not exist."),
            [
                FieldError(
                    "provider_id",
                    Text("There is no external provider with the id %(id)s.", id=provider_id),
                )
            ],
        )
