"""Internal audits (ISO 9001 9.2): plan, checklist, findings, report; a 'no' raises a deviation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts.repository import get_user_by_name
from qms.audit.service import created, diff, record_event
from qms.audits.models import AuditStatus, ChecklistLine, Conformity, InternalAudit
from qms.audits.schemas import (
    AuditCreate,
    AuditRead,
    AuditUpdate,
    ChecklistLineCreate,
    ChecklistLineRead,
    LineAnswer,
    Transition,
)
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.deviations import service as deviations
from qms.deviations.models import Deviation, DeviationKind, DeviationSource
from qms.deviations.schemas import DeviationCreate
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.frameworks.catalogue import ISO
from qms.i18n import Either, Text
from qms.numbering import next_number
from qms.periods import check_range
from qms.permissions import Action, Actor, Role, require
from qms.procedures import service as procedures
from qms.procedures.models import Procedure
from qms.programmes import service as programmes
from qms.records import reject_nulls, snapshot
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.signatures.service import sign
from qms.workflow import INTERNAL_AUDIT

FIELDS = (
    "title",
    "scope",
    "programme_id",
    "criteria",
    "procedure_codes",
    "auditors",
    "auditees",
    "start_on",
    "end_on",
    "status",
    "strong_points",
    "improvement_points",
    "conclusion",
)
PLAN = {
    "title",
    "scope",
    "criteria",
    "procedure_codes",
    "auditors",
    "auditees",
    "start_on",
    "end_on",
}
FINDINGS = {"strong_points", "improvement_points", "conclusion"}
LINE_FIELDS = ("conforms", "evidence", "comment", "deviation_id")
AUDITOR_ROLES = {Role.admin, Role.quality_lead, Role.coordinator}


def line_to_read(session: Session, line: ChecklistLine) -> ChecklistLineRead:
    """Shape a checklist line for the API."""
    procedure = session.get(Procedure, line.procedure_id) if line.procedure_id else None
    deviation = session.get(Deviation, line.deviation_id) if line.deviation_id else None
    return ChecklistLineRead(
        id=line.id,
        position=line.position,
        question=line.question,
        procedure_id=line.procedure_id,
        procedure_code=procedure.code if procedure else None,
        requirement=line.requirement,
        conforms=line.conforms,
        evidence=line.evidence,
        comment=line.comment,
        deviation_id=line.deviation_id,
        deviation_number=deviation.number if deviation else None,
        answered_by=line.answered_by,
        answered_at=line.answered_at,
        version=line.version,
    )


def to_read(session: Session, audit: InternalAudit) -> AuditRead:
    """Shape an audit for the API, with its checklist and the moves open to it."""
    return AuditRead(
        id=audit.id,
        number=audit.number,
        **snapshot(audit, FIELDS),
        reported_at=audit.reported_at,
        closed_at=audit.closed_at,
        created_by=audit.created_by,
        lines=[line_to_read(session, line) for line in audit.lines],
        nonconforming=sum(1 for line in audit.lines if line.conforms is Conformity.no),
        allowed_transitions=INTERNAL_AUDIT.allowed_from(audit.status.value),
        version=audit.version,
    )


def _visible(actor: Actor, audit: InternalAudit) -> bool:
    return actor.programme_id is None or audit.programme_id == actor.programme_id


def get(session: Session, *, actor: Actor, audit_id: int) -> InternalAudit:
    """Return an audit the actor may see, or raise NotFound."""
    require(actor, Action.internal_audit_read)
    audit = session.get(InternalAudit, audit_id)
    if audit is None or not _visible(actor, audit):
        raise NotFound(Text("There is no internal audit with the id %(id)s.", id=audit_id))
    return audit


def list_audits(
    session: Session,
    *,
    actor: Actor,
    status: AuditStatus | None = None,
    programme_id: int | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
) -> Sequence[InternalAudit]:
    """List audits, latest first, filtered."""
    require(actor, Action.internal_audit_read)
    stmt = select(InternalAudit).order_by(InternalAudit.start_on.desc(), InternalAudit.id.desc())
    if status is not None:
        stmt = stmt.where(InternalAudit.status == status)
    if programme_id is not None:
        stmt = stmt.where(InternalAudit.programme_id == programme_id)
    if actor.programme_id is not None:
        stmt = stmt.where(InternalAudit.programme_id == actor.programme_id)
    if start_from is not None:
        stmt = stmt.where(InternalAudit.start_on >= start_from)
    if start_to is not None:
        stmt = stmt.where(InternalAudit.start_on <= start_to)
    return list(session.scalars(stmt.limit(500)))


def _procedures(session: Session, codes: Sequence[str], field: str) -> list[Procedure]:
    found, errors = [], []
    for i, code in enumerate(codes):
        procedure = procedures.get_by_code(session, code)
        if procedure is None:
            errors.append(
                FieldError(f"{field}[{i}]", Text("There is no procedure %(code)s.", code=code))
            )
        else:
            found.append(procedure)
    if errors:
        raise ValidationFailed(Text("A procedure named does not exist: check its code."), errors)
    return found


def _check_plan(session: Session, values: dict[str, Any]) -> None:
    """Auditors are active users who may act, never audit themselves nor their own procedures."""
    errors: list[FieldError] = []
    check_range(values["start_on"], values["end_on"], "start_on", "end_on")
    auditees = {a.casefold() for a in values["auditees"]}
    in_scope = _procedures(session, values["procedure_codes"], "procedure_codes")
    for i, name in enumerate(values["auditors"]):
        field = f"auditors[{i}]"
        user = get_user_by_name(session, name)
        if user is None or not user.is_active:
            errors.append(FieldError(field, Text("There is no active user %(name)s.", name=name)))
            continue
        if user.role not in AUDITOR_ROLES:
            errors.append(
                FieldError(
                    field,
                    Text(
                        "%(name)s has the role %(role)s and cannot audit: choose someone with "
                        "the role %(roles)s.",
                        name=name,
                        role=user.role,
                        roles=Either((Role.admin, Role.quality_lead, Role.coordinator)),
                    ),
                )
            )
        if name.casefold() in auditees:
            errors.append(
                FieldError(
                    field,
                    Text(
                        "%(name)s is also an auditee: choose an auditor who is not audited.",
                        name=name,
                    ),
                )
            )
        for procedure in in_scope:
            version = procedures.effective(procedure) or (
                procedure.versions[-1] if procedure.versions else None
            )
            if version is not None and name in (version.author, version.approved_by):
                errors.append(
                    FieldError(
                        field,
                        Text(
                            "%(name)s wrote or approved %(procedure)s version %(version)s, which "
                            "is in scope: choose an auditor who does not audit their own work.",
                            name=name,
                            procedure=procedure.code,
                            version=version.number,
                        ),
                    )
                )
    if errors:
        raise ValidationFailed(
            Text("The audit plan cannot stand as given: choose other auditors."), errors
        )


def _new_line(
    session: Session, audit: InternalAudit, data: ChecklistLineCreate, position: int, field: str
) -> ChecklistLine:
    procedure_id = None
    if data.procedure_code is not None:
        procedure_id = _procedures(session, [data.procedure_code], f"{field}.procedure_code")[0].id
    line = ChecklistLine(
        audit_id=audit.id,
        position=position,
        question=data.question,
        procedure_id=procedure_id,
        requirement=data.requirement,
    )
    session.add(line)
    return line


def create(session: Session, *, actor: Actor, data: AuditCreate) -> InternalAudit:
    """Plan an internal audit; it is numbered IA-YYYY-NNNN and starts planned."""
    require(actor, Action.internal_audit_manage)
    programmes.check_programme_field(session, actor=actor, programme_id=data.programme_id)
    values = data.model_dump(exclude={"checklist"})
    _check_plan(session, values)
    now = utcnow()
    seq, number = next_number(session, series="IA", year=now.year)
    audit = InternalAudit(
        number=number, year=now.year, seq=seq, status=AuditStatus.planned, created_by=actor.name
    )
    for field, value in values.items():
        setattr(audit, field, value)
    session.add(audit)
    session.flush()
    for i, item in enumerate(data.checklist):
        _new_line(session, audit, item, i + 1, f"checklist[{i}]")
    session.flush()
    session.refresh(audit)
    record_event(
        session,
        actor=actor,
        action="internal_audit.planned",
        entity="internal_audit",
        entity_id=audit.id,
        programme_id=audit.programme_id,
        changes=created(
            {
                "number": number,
                **snapshot(audit, FIELDS),
                "checklist": [line.question for line in audit.lines],
            }
        ),
    )
    return audit


def update(
    session: Session, *, actor: Actor, audit_id: int, data: AuditUpdate, if_match: int | None
) -> InternalAudit:
    """Change the plan while planned, the findings until the audit is reported."""
    require(actor, Action.internal_audit_manage)
    audit = get(session, actor=actor, audit_id=audit_id)
    check_if_match(current=audit.version, if_match=if_match, what="internal audit")
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, PLAN | FINDINGS)
    if PLAN & changes.keys() and audit.status is not AuditStatus.planned:
        raise Conflict(
            Text(
                "%(number)s is %(status)s: its plan can no longer change.",
                number=audit.number,
                status=audit.status,
            )
        )
    if FINDINGS & changes.keys() and audit.status not in (
        AuditStatus.planned,
        AuditStatus.in_progress,
    ):
        raise Conflict(
            Text(
                "%(number)s is %(status)s: its findings are already reported.",
                number=audit.number,
                status=audit.status,
            )
        )
    if PLAN & changes.keys():
        _check_plan(session, {**snapshot(audit, PLAN), **changes})
    before = snapshot(audit, FIELDS)
    for field, value in changes.items():
        setattr(audit, field, value)
    delta = diff(before, snapshot(audit, FIELDS))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="internal_audit.updated",
            entity="internal_audit",
            entity_id=audit.id,
            programme_id=audit.programme_id,
            changes=delta,
        )
    return audit


def add_line(
    session: Session, *, actor: Actor, audit_id: int, data: ChecklistLineCreate
) -> ChecklistLine:
    """Add a question to the checklist of an audit not yet reported."""
    require(actor, Action.internal_audit_manage)
    audit = get(session, actor=actor, audit_id=audit_id)
    if audit.status not in (AuditStatus.planned, AuditStatus.in_progress):
        raise Conflict(
            Text(
                "%(number)s is %(status)s: its checklist can no longer change.",
                number=audit.number,
                status=audit.status,
            )
        )
    position = max((line.position for line in audit.lines), default=0) + 1
    line = _new_line(session, audit, data, position, "")
    audit.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="internal_audit.line_added",
        entity="internal_audit",
        entity_id=audit.id,
        programme_id=audit.programme_id,
        changes=created(
            {"line": position, "question": line.question, "requirement": line.requirement}
        ),
    )
    session.refresh(audit)
    return line


def _raise_deviation(
    session: Session, actor: Actor, audit: InternalAudit, line: ChecklistLine, data: LineAnswer
) -> Deviation:
    """Log the deviation a non-conforming line raises, linked back to the audit and line."""
    version_id = None
    if line.procedure_id is not None:
        procedure = session.get(Procedure, line.procedure_id)
        effective = procedures.effective(procedure) if procedure else None
        version_id = effective.id if effective else None
    iso_clause = None
    if line.requirement and line.requirement.startswith(f"{ISO}:"):
        iso_clause = line.requirement.partition(":")[2]
    text = f"{audit.number} line {line.position}: {line.question}"
    return deviations.create(
        session,
        actor=actor,
        data=DeviationCreate(
            kind=DeviationKind.nonconformity,
            source=DeviationSource.internal_audit,
            severity=data.severity,
            title=text[:200].replace("\n", " "),
            description="\n\n".join(
                part
                for part in (
                    f"Internal audit {audit.number}, checklist line {line.position}.",
                    f"Question: {line.question}",
                    f"Evidence: {data.evidence}",
                    f"Comment: {data.comment}" if data.comment else "",
                )
                if part
            ),
            programme_id=audit.programme_id,
            procedure_version_id=version_id,
            iso_clause=iso_clause,
            requirements=[line.requirement] if line.requirement else [],
        ),
    )


def answer_line(
    session: Session,
    *,
    actor: Actor,
    audit_id: int,
    line_id: int,
    data: LineAnswer,
    if_match: int | None,
) -> ChecklistLine:
    """Answer a checklist line while the audit is in progress; a 'no' raises a deviation."""
    require(actor, Action.internal_audit_manage)
    audit = get(session, actor=actor, audit_id=audit_id)
    line = session.get(ChecklistLine, line_id)
    if line is None or line.audit_id != audit.id:
        raise NotFound(
            Text(
                "There is no checklist line with the id %(id)s in %(number)s.",
                id=line_id,
                number=audit.number,
            )
        )
    check_if_match(current=line.version, if_match=if_match, what="checklist line")
    if audit.status is not AuditStatus.in_progress:
        raise Conflict(
            Text(
                "%(number)s is %(status)s: its checklist is answered only while it is "
                "%(required)s.",
                number=audit.number,
                status=audit.status,
                required=AuditStatus.in_progress,
            )
        )
    if data.conforms is Conformity.no and not data.evidence.strip():
        raise ValidationFailed(
            Text("Record the evidence of the non-conformity."),
            [FieldError("evidence", Text("Describe what was seen when the answer is no."))],
        )
    before = snapshot(line, LINE_FIELDS)
    line.conforms = data.conforms
    line.evidence = data.evidence
    line.comment = data.comment
    line.answered_by = actor.name
    line.answered_at = utcnow()
    if data.conforms is Conformity.no and line.deviation_id is None:
        line.deviation_id = _raise_deviation(session, actor, audit, line, data).id
    session.flush()
    record_event(
        session,
        actor=actor,
        action="internal_audit.line_answered",
        entity="internal_audit",
        entity_id=audit.id,
        programme_id=audit.programme_id,
        changes={"line": {"old": None, "new": line.position}}
        | diff(before, snapshot(line, LINE_FIELDS)),
    )
    return line


def report_content(session: Session, audit: InternalAudit) -> dict[str, Any]:
    """What a signature over the audit's report covers."""
    return {
        "number": audit.number,
        **{k: v for k, v in snapshot(audit, FIELDS).items() if k != "status"},
        "lines": [
            [line.position, line.question, line.requirement, str(line.conforms), line.evidence]
            for line in audit.lines
        ],
    }


def transition(
    session: Session, *, actor: Actor, audit_id: int, data: Transition, if_match: int | None
) -> InternalAudit:
    """Move an audit: planned -> in_progress -> reported -> closed (signed)."""
    require(actor, Action.internal_audit_manage)
    audit = get(session, actor=actor, audit_id=audit_id)
    check_if_match(current=audit.version, if_match=if_match, what="internal audit")
    INTERNAL_AUDIT.move(audit.status.value, data.to, reason=data.reason)
    target = AuditStatus(data.to)
    if target is AuditStatus.in_progress and audit.status is AuditStatus.planned:
        if not audit.lines:
            raise Conflict(
                Text(
                    "%(number)s has no checklist: add its questions before starting the audit.",
                    number=audit.number,
                )
            )
    if target is AuditStatus.reported:
        open_lines = [line.position for line in audit.lines if line.conforms is None]
        errors = []
        if open_lines:
            errors.append(
                FieldError(
                    "lines",
                    Text(
                        "Answer every line of the checklist first; not yet answered: %(lines)s.",
                        lines=open_lines,
                    ),
                )
            )
        if not audit.conclusion.strip():
            errors.append(
                FieldError("conclusion", Text("Write the conclusion before reporting the audit."))
            )
        if errors:
            raise ValidationFailed(
                Text("%(number)s cannot be reported yet.", number=audit.number), errors
            )
    before = snapshot(audit, FIELDS)
    audit.status = target
    now = utcnow()
    if target is AuditStatus.reported:
        audit.reported_at = now
    if target is AuditStatus.closed:
        audit.closed_at = now
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"internal_audit.{target.value}",
        entity="internal_audit",
        entity_id=audit.id,
        programme_id=audit.programme_id,
        changes=diff(before, snapshot(audit, FIELDS)),
        reason=data.reason,
    )
    if target is AuditStatus.closed:
        sign(
            session,
            actor=actor,
            entity="internal_audit",
            entity_id=audit.id,
            meaning=SignatureMeaning.closed,
            content=report_content(session, audit),
            statement=statements.audit_closed(audit.number, conclusion=audit.conclusion),
            confirmation=data.signature,
            programme_id=audit.programme_id,
        )
    return audit
