"""Receive complaints, acknowledge and answer them in time, and open a deviation when justified.

Who complained is personal data: it is kept in a row of its own (Complainant), shown only to
roles with complaint.personal.read, recorded in the audit trail as changed but never by value,
and disposed of by retention sooner than the complaint itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from qms.audit.models import AuditEvent
from qms.audit.service import created, diff, record_event
from qms.complaints.models import (
    Complainant,
    ComplainantCategory,
    Complaint,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintStatus,
)
from qms.complaints.schemas import (
    ComplainantData,
    ComplainantRead,
    ComplaintCreate,
    ComplaintDeviationCreate,
    ComplaintRead,
    ComplaintTransition,
    ComplaintUpdate,
)
from qms.concurrency import check_if_match
from qms.config import get_settings
from qms.db import utcnow
from qms.deviations import service as deviations
from qms.deviations.enums import DeviationKind, DeviationSource
from qms.deviations.models import Deviation
from qms.deviations.schemas import DeviationCreate
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page, ordering, paginate
from qms.periods import check_range, midnight
from qms.permissions import Action, Actor, require
from qms.programmes.models import Programme
from qms.records import reject_nulls, snapshot
from qms.workflow import COMPLAINT, BlockedMove

FIELDS = (
    "programme_id",
    "received_on",
    "channel",
    "complainant_category",
    "subject",
    "description",
    "status",
    "acknowledge_due_on",
    "answer_due_on",
    "acknowledged_at",
    "answered_at",
    "answer",
    "outcome",
    "deviation_id",
    "withdrawal_reason",
    "closed_at",
)
PERSONAL = ("name", "email", "phone", "contact_consent")
# The complainant's fields as named in the audit trail: never with their values.
PERSONAL_EVENT = tuple(f"complainant_{f}" for f in PERSONAL)
OPEN = (ComplaintStatus.received, ComplaintStatus.acknowledged)
ENDED = (ComplaintStatus.closed, ComplaintStatus.withdrawn)
JUSTIFIED = (ComplaintOutcome.upheld, ComplaintOutcome.partly_upheld)


def _recorded(complaint: Complaint) -> dict[str, Any]:
    """The complaint's fields as its events keep them: the deviation it opened by its number."""
    values = snapshot(complaint, FIELDS)
    del values["deviation_id"]
    values["deviation"] = complaint.deviation.number if complaint.deviation else None
    return values


def today() -> date:
    """Return today's date in UTC, against which the limits are judged."""
    return utcnow().date()


def limits(received_on: date) -> tuple[date, date]:
    """Return the days by which a complaint received on the day is acknowledged and answered."""
    settings = get_settings()
    return (
        received_on + timedelta(days=settings.complaint_acknowledge_days),
        received_on + timedelta(days=settings.complaint_answer_days),
    )


def acknowledgement_overdue(complaint: Complaint, on: date) -> bool:
    """Say whether the complaint is still not acknowledged past its limit."""
    return complaint.status is ComplaintStatus.received and complaint.acknowledge_due_on < on


def answer_overdue(complaint: Complaint, on: date) -> bool:
    """Say whether the complaint is still not answered past its limit."""
    return complaint.status in OPEN and complaint.answer_due_on < on


def acknowledged_in_time(complaint: Complaint) -> bool | None:
    """Say whether it was acknowledged by its limit (None while it is not acknowledged)."""
    if complaint.acknowledged_at is None:
        return None
    return complaint.acknowledged_at.date() <= complaint.acknowledge_due_on


def answered_in_time(complaint: Complaint) -> bool | None:
    """Say whether it was answered by its limit (None while it is not answered)."""
    if complaint.answered_at is None:
        return None
    return complaint.answered_at.date() <= complaint.answer_due_on


def blocked_moves(complaint: Complaint) -> dict[str, list[str]]:
    """Return the moves from the complaint's state that cannot succeed yet, with what they wait
    for (none today: every guard is a field of the move itself)."""
    return {}


def to_read(complaint: Complaint, actor: Actor) -> ComplaintRead:
    """Shape a complaint for the API; who complained only for those who may read it."""
    personal = None
    may_read = actor.can(Action.complaint_personal_read)
    if may_read and complaint.complainant is not None:
        c = complaint.complainant
        personal = ComplainantRead(
            name=c.name,
            email=c.email,
            phone=c.phone,
            contact_consent=c.contact_consent,
            erased_at=c.erased_at,
        )
    on = today()
    ack_late, answer_late = acknowledgement_overdue(complaint, on), answer_overdue(complaint, on)
    blocked = blocked_moves(complaint)
    deviation = complaint.deviation
    return ComplaintRead(
        id=complaint.id,
        number=complaint.number,
        **snapshot(complaint, FIELDS),
        deviation_number=deviation.number if deviation is not None else None,
        received_by=complaint.received_by,
        acknowledgement_overdue=ack_late,
        answer_overdue=answer_late,
        overdue=ack_late or answer_late,
        complainant=personal,
        complainant_withheld=not may_read,
        allowed_transitions=[
            t for t in COMPLAINT.allowed_from(complaint.status.value) if t not in blocked
        ],
        blocked=[BlockedMove(to=t, missing=m) for t, m in blocked.items()],
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
        version=complaint.version,
    )


def _visible(actor: Actor, complaint: Complaint) -> bool:
    return actor.programme_id is None or complaint.programme_id == actor.programme_id


def get(session: Session, *, actor: Actor, complaint_id: int) -> Complaint:
    """Return a complaint the actor may see, or raise NotFound."""
    require(actor, Action.complaint_read)
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or not _visible(actor, complaint):
        raise NotFound(Text("There is no complaint with the id %(id)s.", id=complaint_id))
    return complaint


def get_by_number(session: Session, *, actor: Actor, number: str) -> Complaint:
    """Return a complaint by its number (CMP-2026-0001), or raise NotFound."""
    require(actor, Action.complaint_read)
    complaint = session.scalars(
        select(Complaint).where(Complaint.number == number.strip().upper())
    ).one_or_none()
    if complaint is None or not _visible(actor, complaint):
        raise NotFound(Text("There is no complaint %(number)s.", number=number.strip().upper()))
    return complaint


@dataclass(frozen=True)
class ComplaintFilter:
    """What a list of complaints is narrowed to."""

    programme_id: int | None = None
    status: ComplaintStatus | None = None
    channel: ComplaintChannel | None = None
    complainant_category: ComplainantCategory | None = None
    overdue: bool | None = None
    received_from: date | None = None
    received_to: date | None = None
    sort: str | None = None


# The columns a complaint list sorts by ("-received": the other way round).
SORTS: dict[str, Any] = {
    "number": Complaint.id,
    "received": Complaint.received_on,
    "status": Complaint.status,
    "answer_due": Complaint.answer_due_on,
    "subject": Complaint.subject,
}


def overdue_clause(on: date) -> Any:
    """The SQL condition of a complaint past either of its limits on the day."""
    return or_(
        and_(Complaint.status == ComplaintStatus.received, Complaint.acknowledge_due_on < on),
        and_(Complaint.status.in_(OPEN), Complaint.answer_due_on < on),
    )


def filtered(stmt: Select[Any], f: ComplaintFilter, *, scope: int | None, on: date) -> Select[Any]:
    """Narrow a select of complaints by the filter and the reader's programme."""
    for programme in {scope, f.programme_id} - {None}:
        stmt = stmt.where(Complaint.programme_id == programme)
    if f.status is not None:
        stmt = stmt.where(Complaint.status == f.status)
    if f.channel is not None:
        stmt = stmt.where(Complaint.channel == f.channel)
    if f.complainant_category is not None:
        stmt = stmt.where(Complaint.complainant_category == f.complainant_category)
    if f.overdue is True:
        stmt = stmt.where(overdue_clause(on))
    elif f.overdue is False:
        stmt = stmt.where(~overdue_clause(on))
    if f.received_from is not None:
        stmt = stmt.where(Complaint.received_on >= f.received_from)
    if f.received_to is not None:
        stmt = stmt.where(Complaint.received_on <= f.received_to)
    return stmt


def list_complaints(
    session: Session,
    *,
    actor: Actor,
    filters: ComplaintFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Complaint]:
    """List the complaints the actor may see, newest first or sorted."""
    require(actor, Action.complaint_read)
    check_range(filters.received_from, filters.received_to, "received_from", "received_to")
    stmt = filtered(
        select(Complaint).options(
            selectinload(Complaint.complainant), selectinload(Complaint.deviation)
        ),
        filters,
        scope=actor.programme_id,
        on=today(),
    )
    return paginate(
        session,
        stmt,
        key=Complaint.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        order=ordering(filters.sort, SORTS),
    )


def _programme(session: Session, actor: Actor, programme_id: int) -> int:
    if session.get(Programme, programme_id) is None or actor.programme_id not in (
        None,
        programme_id,
    ):
        raise ValidationFailed(
            Text("The complaint names a programme that does not exist."),
            [
                FieldError(
                    "programme_id",
                    Text("There is no programme with the id %(id)s.", id=programme_id),
                )
            ],
        )
    return programme_id


def _check_received(received_on: date) -> None:
    if received_on > today():
        raise ValidationFailed(
            Text("A complaint cannot be received in the future."),
            [FieldError("received_on", Text("Enter a day that has already come."))],
        )


def _personal(record: Complainant) -> dict[str, Any]:
    return {f"complainant_{f}": getattr(record, f) for f in PERSONAL}


def create(session: Session, *, actor: Actor, data: ComplaintCreate) -> Complaint:
    """Receive a complaint; it is numbered CMP-YYYY-NNNN and its limits are set from the day."""
    require(actor, Action.complaint_write)
    programme_id = _programme(session, actor, data.programme_id)
    received_on = data.received_on or today()
    _check_received(received_on)
    acknowledge_due_on, answer_due_on = limits(received_on)
    now = utcnow()
    seq, number = next_number(session, series="CMP", year=now.year)
    complaint = Complaint(
        number=number,
        year=now.year,
        seq=seq,
        programme_id=programme_id,
        received_on=received_on,
        channel=data.channel,
        complainant_category=data.complainant_category,
        subject=data.subject,
        description=data.description,
        status=ComplaintStatus.received,
        acknowledge_due_on=acknowledge_due_on,
        answer_due_on=answer_due_on,
        received_by=actor.name,
    )
    given = data.complainant or ComplainantData()
    complaint.complainant = Complainant(**given.model_dump())
    session.add(complaint)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="complaint.created",
        entity="complaint",
        entity_id=complaint.id,
        programme_id=programme_id,
        changes=created(
            {"number": number, **_recorded(complaint), **_personal(complaint.complainant)},
            personal=PERSONAL_EVENT,
        ),
    )
    return complaint


def _ended(complaint: Complaint) -> None:
    if complaint.status in ENDED:
        raise Conflict(
            Text(
                "%(number)s is %(status)s: it does not change any more.",
                number=complaint.number,
                status=complaint.status,
            )
        )


def update(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    data: ComplaintUpdate,
    if_match: int | None,
) -> Complaint:
    """Change a complaint that is not closed or withdrawn, against the version the client read."""
    require(actor, Action.complaint_write)
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    check_if_match(current=complaint.version, if_match=if_match, what="complaint")
    _ended(complaint)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(
        changes,
        {"received_on", "channel", "complainant_category", "subject", "description"},
    )
    if complaint.status is not ComplaintStatus.answered:
        early = [
            FieldError(
                f, Text("The answer and its outcome are given when the complaint is answered.")
            )
            for f in ("answer", "outcome")
            if f in changes
        ]
        if early:
            raise ValidationFailed(Text("The complaint is not answered yet."), early)
    else:
        reject_nulls(changes, {"answer", "outcome"})
    if "received_on" in changes:
        _check_received(changes["received_on"])
        changes["acknowledge_due_on"], changes["answer_due_on"] = limits(changes["received_on"])
    before = _recorded(complaint)
    for field, value in changes.items():
        setattr(complaint, field, value)
    delta = diff(before, _recorded(complaint))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="complaint.updated",
            entity="complaint",
            entity_id=complaint.id,
            programme_id=complaint.programme_id,
            changes=delta,
        )
    return complaint


def _when(complaint: Complaint, at: datetime | None) -> datetime:
    """The moment a move happened: now, or a moment given that is not in the future and not
    before the complaint was received or its previous step."""
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    earliest = max(
        [midnight(complaint.received_on)]
        + [t for t in (complaint.acknowledged_at, complaint.answered_at) if t is not None]
    )
    if at > now:
        problem = Text("Enter a time that has already come.")
    elif at < earliest:
        problem = Text("Enter a time after the complaint was received and its step before.")
    else:
        return at
    raise ValidationFailed(
        Text("The time of the move is out of order."), [FieldError("at", problem)]
    )


def transition(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    data: ComplaintTransition,
    if_match: int | None,
) -> Complaint:
    """Move a complaint along its workflow (qms.workflow.COMPLAINT)."""
    require(actor, Action.complaint_write)
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    check_if_match(current=complaint.version, if_match=if_match, what="complaint")
    target = data.to.value
    COMPLAINT.move(
        complaint.status.value, target, reason=data.reason, answer=data.answer, outcome=data.outcome
    )
    before = _recorded(complaint)
    now = _when(complaint, data.at)
    if target == ComplaintStatus.acknowledged:
        complaint.acknowledged_at = now
    elif target == ComplaintStatus.answered:
        complaint.answered_at = now
        complaint.answer = data.answer
        complaint.outcome = data.outcome
    elif target == ComplaintStatus.withdrawn:
        complaint.withdrawal_reason = data.reason
        complaint.closed_at = now
    elif target == ComplaintStatus.closed:
        complaint.closed_at = now
    complaint.status = ComplaintStatus(target)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="complaint.transitioned",
        entity="complaint",
        entity_id=complaint.id,
        programme_id=complaint.programme_id,
        changes=diff(before, _recorded(complaint)),
        reason=data.reason,
    )
    return complaint


def open_deviation(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    data: ComplaintDeviationCreate,
    if_match: int | None,
) -> Deviation:
    """Open a deviation (source: complaint) from a justified complaint, and link the two."""
    require(actor, Action.complaint_write)
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    check_if_match(current=complaint.version, if_match=if_match, what="complaint")
    if complaint.deviation_id is not None:
        raise Conflict(
            Text(
                "%(number)s has opened %(deviation)s already.",
                number=complaint.number,
                deviation=complaint.deviation.number if complaint.deviation else "",
            )
        )
    if complaint.status is ComplaintStatus.withdrawn:
        raise Conflict(
            Text("%(number)s was withdrawn: it opens no deviation.", number=complaint.number)
        )
    if complaint.outcome is ComplaintOutcome.not_upheld:
        raise Conflict(
            Text(
                "%(number)s was not upheld: a deviation is opened from a justified complaint.",
                number=complaint.number,
            )
        )
    deviation = deviations.create(
        session,
        actor=actor,
        data=DeviationCreate(
            kind=DeviationKind.nonconformity,
            source=DeviationSource.complaint,
            severity=data.severity,
            title=data.title or complaint.subject,
            description=data.description or f"{complaint.number}: {complaint.description}",
            programme_id=complaint.programme_id,
            iso_clause="10.2",
            requirements=["ISO9001:10.2"],
        ),
    )
    before = _recorded(complaint)
    complaint.deviation_id = deviation.id
    complaint.deviation = deviation
    session.flush()
    record_event(
        session,
        actor=actor,
        action="complaint.deviation_opened",
        entity="complaint",
        entity_id=complaint.id,
        programme_id=complaint.programme_id,
        changes=diff(before, _recorded(complaint)),
    )
    return deviation


def get_complainant(session: Session, *, actor: Actor, complaint_id: int) -> Complainant:
    """Return who made the complaint, for those who may read personal data."""
    require(actor, Action.complaint_personal_read)
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    return complaint.complainant


def complainant_to_read(record: Complainant) -> ComplainantRead:
    """Shape a complainant's details for the API."""
    return ComplainantRead(
        name=record.name,
        email=record.email,
        phone=record.phone,
        contact_consent=record.contact_consent,
        erased_at=record.erased_at,
    )


def set_complainant(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    data: ComplainantData,
    if_match: int | None,
) -> Complaint:
    """Record or change who made the complaint; the trail says what changed, never the values."""
    require(actor, Action.complaint_write)
    require(actor, Action.complaint_personal_read)
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    check_if_match(current=complaint.version, if_match=if_match, what="complaint")
    record = complaint.complainant
    if record.erased_at is not None:
        raise Conflict(
            Text(
                "Who made %(number)s was disposed of and stays so: it cannot be entered again.",
                number=complaint.number,
            )
        )
    before = _personal(record)
    for field, value in data.model_dump().items():
        setattr(record, field, value)
    delta = diff(before, _personal(record), personal=PERSONAL_EVENT)
    if delta:
        # The complainant is its own row: touch the complaint so its version moves on.
        complaint.updated_at = utcnow()
        session.flush()
        record_event(
            session,
            actor=actor,
            action="complaint.complainant_changed",
            entity="complaint",
            entity_id=complaint.id,
            programme_id=complaint.programme_id,
            changes=delta,
        )
    return complaint


def erase_complainant(
    session: Session, *, actor: Actor, complaint_id: int, reason: str | None
) -> Complaint:
    """Blank who made the complaint for good (they asked, or it is no longer needed); the
    complaint itself stays."""
    require(actor, Action.complaint_write)
    require(actor, Action.complaint_personal_read)
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    record = complaint.complainant
    if record.erased_at is not None:
        raise Conflict(Text("Who made %(number)s is disposed of already.", number=complaint.number))
    had = [f"complainant_{f}" for f in ("name", "email", "phone") if getattr(record, f)]
    had += ["complainant_contact_consent"] if record.contact_consent else []
    record.name = record.email = record.phone = None
    record.contact_consent = False
    record.erased_at = utcnow()
    complaint.updated_at = record.erased_at
    session.flush()
    record_event(
        session,
        actor=actor,
        action="complaint.complainant_erased",
        entity="complaint",
        entity_id=complaint.id,
        programme_id=complaint.programme_id,
        changes={f: {"changed": True} for f in had},
        reason=reason,
    )
    return complaint


def history(session: Session, *, actor: Actor, complaint_id: int) -> list[AuditEvent]:
    """Return the complaint's timeline from the audit trail."""
    complaint = get(session, actor=actor, complaint_id=complaint_id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "complaint", AuditEvent.entity_id == str(complaint.id))
            .order_by(AuditEvent.seq)
        )
    )


def opened(session: Session, *, actor: Actor, deviation_id: int) -> list[Complaint]:
    """Return the complaints that opened the deviation, for a reader who may see complaints."""
    if not actor.can(Action.complaint_read):
        return []
    stmt = select(Complaint).where(Complaint.deviation_id == deviation_id)
    if actor.programme_id is not None:
        stmt = stmt.where(Complaint.programme_id == actor.programme_id)
    return list(session.scalars(stmt.order_by(Complaint.id)))
