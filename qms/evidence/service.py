"""Evidence files: attach a file to a record, list, download and remove it.

The bytes are kept in the database by their SHA-256 (one blob for the same content attached
twice), so a backup of the database holds every file and every worker reads the same ones. A
record's files are fixed once it is closed or signed: nothing is added or removed after that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from qms.actions import repository as actions_repository
from qms.actions import service as actions
from qms.actions.enums import ActionStatus
from qms.audit.service import created, record_event
from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.models import (
    AuditStatus,
    ChecklistLine,
    InternalAudit,
    ManagementReview,
    ReviewStatus,
)
from qms.competence import service as competence
from qms.config import get_settings
from qms.deviations import service as deviations
from qms.deviations.models import DeviationStatus
from qms.errors import Conflict, FieldError, NotFound, TooLarge, ValidationFailed
from qms.evidence import repository
from qms.evidence.models import PURPOSES, RECORDS, EvidenceBlob, EvidenceFile
from qms.evidence.schemas import EvidenceRead
from qms.evidence.sniff import ALLOWED, safe_name, sniff
from qms.followups import service as followups
from qms.i18n import Text
from qms.pairs import service as pairs
from qms.permissions import Action, Actor, require
from qms.procedures import service as procedures


@dataclass(frozen=True)
class Target:
    """The record a file belongs to, as the evidence service needs it."""

    record: str
    record_id: int
    # The audit trail's record the events go on (a checklist line's are its audit's).
    entity: str
    entity_id: int
    number: str
    programme_id: int | None
    # Why its files can no longer change, if they cannot.
    fixed: Text | None


# Who may attach to or remove from each kind of record.
WRITE: dict[str, Action] = {
    "deviation": Action.deviation_write,
    "action": Action.action_progress,
    "checklist_line": Action.internal_audit_manage,
    "follow_up": Action.followup_write,
    "management_review": Action.review_manage,
    "procedure": Action.procedure_write,
    "training_record": Action.competence_write,
}


def _deviation(session: Session, actor: Actor, record_id: int) -> Target:
    deviation = deviations.get(session, actor=actor, deviation_id=record_id)
    fixed = None
    if deviation.status is DeviationStatus.closed:
        fixed = Text(
            "%(number)s is closed: its evidence files are kept as they were at closing.",
            number=deviation.number,
        )
    return Target(
        "deviation",
        deviation.id,
        "deviation",
        deviation.id,
        deviation.number,
        deviation.programme_id,
        fixed,
    )


def _action(session: Session, actor: Actor, record_id: int) -> Target:
    action = actions.get(session, actor=actor, action_id=record_id)
    fixed = None
    if action.status in (ActionStatus.verified_effective, ActionStatus.ineffective):
        fixed = Text(
            "%(number)s has been verified and signed: its evidence files are kept as they were.",
            number=action.number,
        )
    programmes = {d.programme_id for d in action.deviations}
    return Target(
        "action",
        action.id,
        "action",
        action.id,
        action.number,
        programmes.pop() if len(programmes) == 1 else None,
        fixed,
    )


def _checklist_line(session: Session, actor: Actor, record_id: int) -> Target:
    line = session.get(ChecklistLine, record_id)
    if line is None:
        raise NotFound(Text("There is no checklist line with the id %(id)s.", id=record_id))
    try:
        audit = audits.get(session, actor=actor, audit_id=line.audit_id)
    except NotFound:
        raise NotFound(
            Text("There is no checklist line with the id %(id)s.", id=record_id)
        ) from None
    fixed = None
    if audit.status in (AuditStatus.closed, AuditStatus.cancelled):
        fixed = Text(
            "%(number)s is closed: the evidence files of its checklist are kept as they were.",
            number=audit.number,
        )
    return Target(
        "checklist_line",
        line.id,
        "internal_audit",
        audit.id,
        f"{audit.number} #{line.position}",
        audit.programme_id,
        fixed,
    )


def _follow_up(session: Session, actor: Actor, record_id: int) -> Target:
    follow_up = followups.get(session, actor=actor, follow_up_id=record_id)
    return Target(
        "follow_up",
        follow_up.id,
        "follow_up",
        follow_up.id,
        f"#{follow_up.id}",
        pairs.programme_of(follow_up.pair),
        None,
    )


def _review(session: Session, actor: Actor, record_id: int) -> Target:
    review = reviews.get(session, actor=actor, review_id=record_id)
    fixed = None
    if review.status in (ReviewStatus.closed, ReviewStatus.cancelled):
        fixed = Text(
            "%(number)s is closed: its evidence files are kept as they were at closing.",
            number=review.number,
        )
    return Target(
        "management_review",
        review.id,
        "management_review",
        review.id,
        review.number,
        review.programme_id,
        fixed,
    )


def _procedure(session: Session, actor: Actor, record_id: int) -> Target:
    procedure = procedures.get(session, actor=actor, procedure_id=record_id)
    fixed = None
    if procedures.effective(procedure) is None and procedures.open_version(procedure) is None:
        # Withdrawn from use: no version in force and none being written.
        fixed = Text(
            "%(code)s is withdrawn from use: its evidence files are kept as they were.",
            code=procedure.code,
        )
    return Target("procedure", procedure.id, "procedure", procedure.id, procedure.code, None, fixed)


def _training_record(session: Session, actor: Actor, record_id: int) -> Target:
    record = competence.get_training_record(session, actor=actor, record_id=record_id)
    programme_id = record.participant.cohort.programme_id if record.participant else None
    return Target(
        "training_record",
        record.id,
        "training_record",
        record.id,
        record.number,
        programme_id,
        None,
    )


_TARGETS: dict[str, Callable[[Session, Actor, int], Target]] = {
    "deviation": _deviation,
    "action": _action,
    "checklist_line": _checklist_line,
    "follow_up": _follow_up,
    "management_review": _review,
    "procedure": _procedure,
    "training_record": _training_record,
}
assert set(_TARGETS) == set(RECORDS) == set(WRITE)


def target(session: Session, *, actor: Actor, record: str, record_id: int) -> Target:
    """Return the record files are attached to, if the actor may see it; or raise NotFound."""
    return _TARGETS[record](session, actor, record_id)


def find(session: Session, *, actor: Actor, reference: str) -> Target:
    """Return the record a reference names, as people write it: DEV-2026-0001, CA-2026-0001,
    IA-2026-0001/3 (the audit's third checklist line), MR-2026-0001, PR-04, or follow-up/12."""
    text = reference.strip().upper()
    missing = NotFound(Text("Nothing is numbered %(reference)s.", reference=reference))
    if text.startswith("FOLLOW-UP/") and text[10:].isdigit():
        return target(session, actor=actor, record="follow_up", record_id=int(text[10:]))
    if text.startswith("DEV-"):
        deviation = deviations.get_by_number(session, actor=actor, number=text)
        return target(session, actor=actor, record="deviation", record_id=deviation.id)
    if text.startswith("CA-") and (action := actions_repository.get_by_number(session, text)):
        return target(session, actor=actor, record="action", record_id=action.id)
    if text.startswith("IA-"):
        number, _, position = text.partition("/")
        audit = session.scalars(select(InternalAudit).where(InternalAudit.number == number)).first()
        line = next(
            (li for li in (audit.lines if audit else []) if str(li.position) == position), None
        )
        if line is None:
            raise missing
        return target(session, actor=actor, record="checklist_line", record_id=line.id)
    if text.startswith("MR-"):
        review = session.scalars(
            select(ManagementReview).where(ManagementReview.number == text)
        ).first()
        if review is not None:
            return target(session, actor=actor, record="management_review", record_id=review.id)
    if text.startswith("TR-"):
        record = competence.get_training_record_by_number(session, actor=actor, number=text)
        return target(session, actor=actor, record="training_record", record_id=record.id)
    if procedure := procedures.get_by_code(session, text):
        return target(session, actor=actor, record="procedure", record_id=procedure.id)
    raise missing


def changeable(session: Session, *, actor: Actor, record: str, record_id: int) -> bool:
    """Say whether files may still be attached to or removed from the record (the actor's
    permission aside)."""
    return target(session, actor=actor, record=record, record_id=record_id).fixed is None


def files_of_lines(
    session: Session, *, actor: Actor, audit_id: int
) -> dict[int, list[EvidenceFile]]:
    """Return the files of each of an audit's checklist lines, by the line's id."""
    audit = audits.get(session, actor=actor, audit_id=audit_id)
    grouped: dict[int, list[EvidenceFile]] = {}
    for file in repository.files_of(session, "checklist_line", [li.id for li in audit.lines]):
        grouped.setdefault(file.record_id, []).append(file)
    return grouped


def line_in_audit(session: Session, *, audit_id: int, line_id: int) -> bool:
    """Say whether the checklist line is one of the audit's."""
    line = session.get(ChecklistLine, line_id)
    return line is not None and line.audit_id == audit_id


def read_limited(stream: BinaryIO, *, field: str = "file") -> bytes:
    """Read an uploaded file whole, refusing it (413) past the evidence size limit."""
    limit = get_settings().evidence_max_bytes
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise TooLarge(
                Text(
                    "The file %(field)s is larger than the evidence limit of %(limit)s bytes "
                    "(QMS_EVIDENCE_MAX_BYTES): send a smaller one.",
                    field=field,
                    limit=limit,
                )
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _refused(field: str, message: Text) -> ValidationFailed:
    return ValidationFailed(
        Text("The file cannot be kept as evidence."), [FieldError(field, message)]
    )


def attach(
    session: Session,
    *,
    actor: Actor,
    record: str,
    record_id: int,
    content: bytes,
    file_name: str | None,
    purpose: str | None = None,
) -> EvidenceFile:
    """Attach a file to a record: sniff its type, keep its bytes once by their SHA-256."""
    require(actor, WRITE[record])
    found = target(session, actor=actor, record=record, record_id=record_id)
    if found.fixed is not None:
        raise Conflict(found.fixed)
    if purpose is not None and (record != "action" or purpose not in PURPOSES):
        raise _refused(
            "purpose",
            Text(
                "A purpose is given only for a corrective action's file: completion or "
                "verification."
            ),
        )
    if not content:
        raise _refused("file", Text("The file is empty."))
    media_type = sniff(content, file_name or "")
    if media_type is None or media_type not in ALLOWED:
        raise _refused(
            "file",
            Text(
                "Its content is not a PDF, an Office or OpenDocument file, an image (PNG, JPEG, "
                "GIF, WebP), text, CSV or an e-mail (.eml, .msg), whatever its name says."
            ),
        )
    sha256 = hashlib.sha256(content).hexdigest()
    if repository.blob(session, sha256) is None:
        session.add(EvidenceBlob(sha256=sha256, size=len(content), content=content))
    file = EvidenceFile(
        record=record,
        record_id=found.record_id,
        purpose=purpose,
        sha256=sha256,
        file_name=safe_name(file_name, media_type),
        media_type=media_type,
        size=len(content),
        uploaded_by=actor.name,
    )
    session.add(file)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="evidence.attached",
        entity=found.entity,
        entity_id=found.entity_id,
        programme_id=found.programme_id,
        changes=created(_described(file, found)),
    )
    return file


def _described(file: EvidenceFile, found: Target) -> dict[str, object]:
    values: dict[str, object] = {
        "evidence_file": file.id,
        "file_name": file.file_name,
        "media_type": file.media_type,
        "size": file.size,
        "sha256": file.sha256,
    }
    if file.purpose:
        values["purpose"] = file.purpose
    if found.record != found.entity:
        values["record"] = found.number
    return values


def list_files(
    session: Session, *, actor: Actor, record: str, record_id: int
) -> list[EvidenceFile]:
    """Return a record's evidence files, if the actor may see the record."""
    found = target(session, actor=actor, record=record, record_id=record_id)
    return repository.files_of(session, record, [found.record_id])


def get(session: Session, *, actor: Actor, file_id: int) -> EvidenceFile:
    """Return an evidence file whose record the actor may see, or raise NotFound."""
    file = session.get(EvidenceFile, file_id)
    missing = NotFound(Text("There is no evidence file with the id %(id)s.", id=file_id))
    if file is None:
        raise missing
    try:
        target(session, actor=actor, record=file.record, record_id=file.record_id)
    except NotFound:
        raise missing from None
    return file


def content(session: Session, file: EvidenceFile) -> bytes:
    """Return the bytes of a file, as they were uploaded."""
    blob = repository.blob(session, file.sha256, with_content=True)
    assert blob is not None  # the foreign key keeps it
    return blob.content


def remove(session: Session, *, actor: Actor, file_id: int) -> None:
    """Take a file off a record that is still open; its removal is in the audit trail."""
    file = get(session, actor=actor, file_id=file_id)
    require(actor, WRITE[file.record])
    found = target(session, actor=actor, record=file.record, record_id=file.record_id)
    if found.fixed is not None:
        raise Conflict(found.fixed)
    described = _described(file, found)
    sha256 = file.sha256
    session.execute(delete(EvidenceFile).where(EvidenceFile.id == file.id))
    session.expunge(file)
    repository.drop_unused_blobs(session, [sha256])
    record_event(
        session,
        actor=actor,
        action="evidence.removed",
        entity=found.entity,
        entity_id=found.entity_id,
        programme_id=found.programme_id,
        changes={name: {"old": value, "new": None} for name, value in described.items()},
    )


def dispose(session: Session, *, record: str, record_ids: list[int]) -> list[str]:
    """Remove the files of records disposed of under a retention decision (the decision is the
    audit trail's event); return the SHA-256 of each file removed."""
    files = repository.files_of(session, record, record_ids)
    hashes = [f.sha256 for f in files]
    if files:
        session.execute(delete(EvidenceFile).where(EvidenceFile.id.in_([f.id for f in files])))
        for file in files:
            session.expunge(file)
        repository.drop_unused_blobs(session, hashes)
    return hashes


def to_read(file: EvidenceFile) -> EvidenceRead:
    """Shape a file for the API, with the address to download it."""
    return EvidenceRead(
        id=file.id,
        record=file.record,
        record_id=file.record_id,
        purpose=file.purpose,
        file_name=file.file_name,
        media_type=file.media_type,
        size=file.size,
        sha256=file.sha256,
        uploaded_by=file.uploaded_by,
        uploaded_at=file.uploaded_at,
        download=f"/api/v1/evidence/{file.id}/content",
    )
