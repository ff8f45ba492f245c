"""Controlled procedures: draft, review, approve (signed), supersede, review periodically, sync."""

from __future__ import annotations

import calendar
import difflib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import created, diff, record_event
from qms.competence import service as acknowledgements
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.deviations.models import Deviation
from qms.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from qms.i18n import N_, Text
from qms.permissions import Action, Actor, Role, require
from qms.procedures import library
from qms.procedures.library import Document
from qms.procedures.models import Procedure, ProcedureVersion, VersionStatus
from qms.procedures.schemas import (
    DiffRead,
    DraftUpdate,
    ProcedureCreate,
    ProcedureRead,
    SyncItem,
    SyncReport,
    VersionDraft,
    VersionRead,
    VersionTransition,
)
from qms.records import reject_nulls, snapshot
from qms.signatures import statements
from qms.signatures.models import SignatureMeaning
from qms.signatures.schemas import SignatureConfirmation, SignatureRead
from qms.signatures.service import sign, signatures_of
from qms.workflow import PROCEDURE_VERSION

DOCUMENT_FIELDS = ("title", "owner_role", "review_months", "iso_clauses", "requirements", "content")
TRACKED = (
    *DOCUMENT_FIELDS,
    "acknowledge_roles",
    "change_summary",
    "status",
    "effective_from",
    "next_review_on",
)
# What a version's events record of it: a move records who approved it and when, too.
RECORDED = (
    *TRACKED,
    "content_sha256",
    "submitted_at",
    "approved_by",
    "approved_at",
    "ended_at",
    "last_reviewed_on",
)
OPEN = (VersionStatus.draft, VersionStatus.in_review)


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


def document_of(version: ProcedureVersion) -> Document:
    """Return a version's metadata and text as a library Document."""
    return Document.model_validate(snapshot(version, DOCUMENT_FIELDS))


def effective(procedure: Procedure) -> ProcedureVersion | None:
    """Return the version in force: the approved one, if any."""
    return next((v for v in procedure.versions if v.status is VersionStatus.approved), None)


def open_version(procedure: Procedure) -> ProcedureVersion | None:
    """Return the draft or the version in review, if any."""
    return next((v for v in procedure.versions if v.status in OPEN), None)


def to_read(procedure: Procedure) -> ProcedureRead:
    """Shape a procedure as a master-list line."""
    current = effective(procedure)
    making = open_version(procedure)
    shown = current or making or procedure.versions[-1]
    return ProcedureRead(
        id=procedure.id,
        code=procedure.code,
        title=shown.title,
        owner_role=shown.owner_role,
        status=current.status.value if current else shown.status.value,
        effective_version=current.number if current else None,
        effective_from=current.effective_from if current else None,
        next_review_on=current.next_review_on if current else None,
        review_due=bool(current and current.next_review_on and current.next_review_on <= today()),
        open_version=making.number if making else None,
        iso_clauses=list(shown.iso_clauses),
        requirements=list(shown.requirements),
    )


def version_to_read(session: Session, version: ProcedureVersion) -> VersionRead:
    """Shape a version with its signatures."""
    values: dict[str, Any] = snapshot(
        version,
        (
            *DOCUMENT_FIELDS[:-1],
            "acknowledge_roles",
            "content_sha256",
            "change_summary",
            "author",
            "submitted_at",
            "approved_by",
            "approved_at",
            "effective_from",
            "next_review_on",
            "last_reviewed_on",
            "number",
            "status",
            "created_at",
            "updated_at",
            "version",
        ),
    )
    return VersionRead(
        id=version.id,
        procedure_id=version.procedure_id,
        code=version.procedure.code,
        **values,
        signatures=[
            SignatureRead.model_validate(s)
            for s in signatures_of(session, entity="procedure_version", entity_id=version.id)
        ],
        allowed_transitions=[
            t for t in PROCEDURE_VERSION.allowed_from(version.status.value) if t != "superseded"
        ],
    )


def get(session: Session, *, actor: Actor, procedure_id: int) -> Procedure:
    """Return a procedure, or raise NotFound."""
    require(actor, Action.procedure_read)
    procedure = session.get(Procedure, procedure_id)
    if procedure is None:
        raise NotFound(Text("There is no procedure with the id %(id)s.", id=procedure_id))
    return procedure


def get_by_code(session: Session, code: str) -> Procedure | None:
    """Return the procedure with this code, if any."""
    return session.scalars(select(Procedure).where(Procedure.code == code)).one_or_none()


def get_version(
    session: Session, *, actor: Actor, procedure_id: int, number: int
) -> ProcedureVersion:
    """Return a version of a procedure by its number, or raise NotFound."""
    procedure = get(session, actor=actor, procedure_id=procedure_id)
    for version in procedure.versions:
        if version.number == number:
            return version
    raise NotFound(Text("%(code)s has no version %(number)s.", code=procedure.code, number=number))


def list_procedures(
    session: Session, *, actor: Actor, review_due: bool | None = None
) -> list[Procedure]:
    """List procedures by code (the master list), optionally only those due for review."""
    require(actor, Action.procedure_read)
    rows = list(session.scalars(select(Procedure).order_by(Procedure.code)))
    if review_due is None:
        return rows
    return [p for p in rows if to_read(p).review_due is review_due]


def _add_version(
    session: Session,
    actor: Actor,
    procedure: Procedure,
    document: Document,
    change_summary: str,
    acknowledge_roles: list[Role] | None = None,
) -> ProcedureVersion:
    if open_version(procedure) is not None:
        making = open_version(procedure)
        assert making is not None
        raise Conflict(
            Text(
                "%(code)s already has version %(number)s, which is %(status)s: finish that "
                "version before starting another.",
                code=procedure.code,
                number=making.number,
                status=making.status,
            )
        )
    number = max((v.number for v in procedure.versions), default=0) + 1
    version = ProcedureVersion(
        procedure_id=procedure.id,
        number=number,
        status=VersionStatus.draft,
        **document.model_dump(),
        content_sha256=document.sha256(),
        change_summary=change_summary,
        acknowledge_roles=_roles(acknowledge_roles, document.owner_role),
        author=actor.name,
        author_id=actor.user_id,
    )
    version.procedure = procedure
    session.add(version)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="procedure_version.drafted",
        entity="procedure_version",
        entity_id=version.id,
        changes=created(
            {
                "code": procedure.code,
                "number": number,
                **snapshot(version, RECORDED),
            }
        ),
    )
    return version


def _roles(roles: list[Role] | None, owner_role: Role) -> list[str]:
    # Each role once, in the order of the roles; the owner role when none are named.
    named = set(roles) if roles is not None else {owner_role}
    return [r.value for r in Role if r in named]


def _document(data: VersionDraft) -> Document:
    return Document.model_validate(data.model_dump(include=set(DOCUMENT_FIELDS)))


def create(session: Session, *, actor: Actor, data: ProcedureCreate) -> Procedure:
    """Create a procedure with its first draft."""
    require(actor, Action.procedure_write)
    if get_by_code(session, data.code) is not None:
        raise Conflict(
            Text("Procedure %(code)s exists already: choose another code.", code=data.code)
        )
    procedure = Procedure(code=data.code)
    session.add(procedure)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="procedure.created",
        entity="procedure",
        entity_id=procedure.id,
        changes=created({"code": data.code, "synced_sha256": procedure.synced_sha256}),
    )
    _add_version(
        session, actor, procedure, _document(data), data.change_summary, data.acknowledge_roles
    )
    return procedure


def new_draft(
    session: Session, *, actor: Actor, procedure_id: int, data: VersionDraft
) -> ProcedureVersion:
    """Start the next version of a procedure as a draft."""
    require(actor, Action.procedure_write)
    procedure = get(session, actor=actor, procedure_id=procedure_id)
    return _add_version(
        session, actor, procedure, _document(data), data.change_summary, data.acknowledge_roles
    )


def update_draft(
    session: Session,
    *,
    actor: Actor,
    procedure_id: int,
    number: int,
    data: DraftUpdate,
    if_match: int | None,
) -> ProcedureVersion:
    """Change a draft; any other version's text can no longer change."""
    require(actor, Action.procedure_write)
    version = get_version(session, actor=actor, procedure_id=procedure_id, number=number)
    check_if_match(current=version.version, if_match=if_match, what="procedure version")
    if version.status is not VersionStatus.draft:
        raise Conflict(
            Text(
                "%(code)s version %(number)s is %(status)s: only a draft changes, so start a new "
                "version instead.",
                code=version.procedure.code,
                number=number,
                status=version.status,
            )
        )
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, (*DOCUMENT_FIELDS, "change_summary", "acknowledge_roles"))
    before = snapshot(version, RECORDED)
    for field, value in changes.items():
        if field == "acknowledge_roles":
            value = _roles(value, version.owner_role)
        setattr(version, field, value)
    version.content_sha256 = document_of(version).sha256()
    delta = diff(before, snapshot(version, RECORDED))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="procedure_version.updated",
            entity="procedure_version",
            entity_id=version.id,
            changes=delta,
        )
    return version


def transition(
    session: Session,
    *,
    actor: Actor,
    procedure_id: int,
    number: int,
    data: VersionTransition,
    if_match: int | None,
) -> ProcedureVersion:
    """Submit, send back, approve (signed; supersedes the version before) or withdraw a version."""
    require(actor, Action.procedure_write)
    version = get_version(session, actor=actor, procedure_id=procedure_id, number=number)
    check_if_match(current=version.version, if_match=if_match, what="procedure version")
    source, target = version.status.value, data.to.value
    move = PROCEDURE_VERSION.move(source, target, reason=data.reason)
    if move.target == VersionStatus.superseded:
        raise Conflict(
            Text(
                "A version is superseded only when the next version is approved: approve the "
                "next version instead."
            )
        )
    before = snapshot(version, RECORDED)
    now = utcnow()
    procedure = version.procedure
    if target == VersionStatus.in_review:
        version.submitted_at = now
    elif target == VersionStatus.approved:
        if actor.user_id is not None and actor.user_id == version.author_id:
            raise Forbidden(Text("You wrote this version: another person approves it."))
        starts = data.effective_from or now.date()
        if starts < now.date():
            raise ValidationFailed(
                Text("An approval cannot take effect in the past."),
                [FieldError("effective_from", Text("Enter today or a later date."))],
            )
        previous = effective(procedure)
        if previous is not None:
            previous.status = VersionStatus.superseded
            previous.ended_at = now
            session.flush()
            record_event(
                session,
                actor=actor,
                action="procedure_version.superseded",
                entity="procedure_version",
                entity_id=previous.id,
                changes={
                    "status": {"old": "approved", "new": "superseded"},
                    "ended_at": {"old": None, "new": now.isoformat()},
                },
                reason=f"version {version.number} approved",
            )
        version.approved_by = actor.name
        version.approved_at = now
        version.effective_from = starts
        version.next_review_on = add_months(starts, version.review_months)
        signature = sign(
            session,
            actor=actor,
            entity="procedure_version",
            entity_id=version.id,
            meaning=SignatureMeaning.approved,
            statement=statements.procedure_approved(
                procedure.code, version=version.number, title=version.title
            ),
            confirmation=data.signature,
            content={
                "code": procedure.code,
                "number": version.number,
                "sha256": version.content_sha256,
            },
        )
        version.signature_id = signature.id
    elif target == VersionStatus.obsolete:
        version.ended_at = now
    version.status = VersionStatus(target)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="procedure_version.transitioned",
        entity="procedure_version",
        entity_id=version.id,
        changes=diff(before, snapshot(version, RECORDED)),
        reason=data.reason,
    )
    if target == VersionStatus.approved:
        # Read and understood (ISO 9001 7.3): the roles it names are asked to acknowledge it.
        acknowledgements.request_acknowledgements(session, actor=actor, version=version)
    return version


def review(
    session: Session,
    *,
    actor: Actor,
    procedure_id: int,
    comment: str | None,
    signature: SignatureConfirmation | None = None,
) -> ProcedureVersion:
    """Record a periodic review that finds no need to change: sign it and move the date on."""
    require(actor, Action.procedure_write)
    procedure = get(session, actor=actor, procedure_id=procedure_id)
    version = effective(procedure)
    if version is None:
        raise Conflict(
            Text(
                "%(code)s has no approved version to review: approve a version first.",
                code=procedure.code,
            )
        )
    before = snapshot(version, ("last_reviewed_on", "next_review_on"))
    version.last_reviewed_on = today()
    version.next_review_on = add_months(today(), version.review_months)
    sign(
        session,
        actor=actor,
        entity="procedure_version",
        entity_id=version.id,
        meaning=SignatureMeaning.reviewed,
        statement=statements.procedure_reviewed(
            procedure.code, version=version.number, title=version.title
        ),
        confirmation=signature,
        content={
            "code": procedure.code,
            "number": version.number,
            "sha256": version.content_sha256,
            "outcome": "reviewed, no change",
        },
    )
    session.flush()
    record_event(
        session,
        actor=actor,
        action="procedure_version.reviewed",
        entity="procedure_version",
        entity_id=version.id,
        changes=diff(before, snapshot(version, ("last_reviewed_on", "next_review_on"))),
        reason=comment or "reviewed, no change",
    )
    return version


def diff_versions(
    session: Session, *, actor: Actor, procedure_id: int, from_version: int, to_version: int
) -> DiffRead:
    """Return the unified diff between two versions of a procedure, as their files read."""
    old = get_version(session, actor=actor, procedure_id=procedure_id, number=from_version)
    new = get_version(session, actor=actor, procedure_id=procedure_id, number=to_version)
    code = old.procedure.code
    lines = difflib.unified_diff(
        library.render(code, old.number, document_of(old)).splitlines(keepends=True),
        library.render(code, new.number, document_of(new)).splitlines(keepends=True),
        fromfile=f"{code} version {old.number}",
        tofile=f"{code} version {new.number}",
    )
    return DiffRead(code=code, from_version=old.number, to_version=new.number, diff="".join(lines))


def rendered(version: ProcedureVersion) -> str:
    """Return a version as a Markdown file with front matter."""
    return library.render(version.procedure.code, version.number, document_of(version))


def deviations_of(session: Session, *, actor: Actor, procedure_id: int) -> Sequence[Deviation]:
    """List the deviations linked to any version of a procedure."""
    procedure = get(session, actor=actor, procedure_id=procedure_id)
    require(actor, Action.deviation_read)
    ids = [v.id for v in procedure.versions]
    stmt = select(Deviation).where(Deviation.procedure_version_id.in_(ids)).order_by(Deviation.id)
    if actor.programme_id is not None:
        stmt = stmt.where(Deviation.programme_id == actor.programme_id)
    return session.scalars(stmt).all()


def _synced(session: Session, actor: Actor, procedure: Procedure, sha256: str, name: str) -> None:
    """Keep the file's text as the one last brought in, with its event."""
    if procedure.synced_sha256 == sha256:
        return
    old, procedure.synced_sha256 = procedure.synced_sha256, sha256
    session.flush()
    record_event(
        session,
        actor=actor,
        action="procedure.synced",
        entity="procedure",
        entity_id=procedure.id,
        changes={"synced_sha256": {"old": old, "new": sha256}},
        reason=f"sync of {name}",
    )


def sync(session: Session, *, actor: Actor, folder: Path) -> SyncReport:
    """Bring the library folder in: new files make procedures, changed files new drafts.

    A file is compared with the text last brought in from it, not with the latest version: a
    version changed through the system since (approved, or a draft edited) is never overwritten
    nor reverted by a sync, which reports the procedure as changed elsewhere. The folder is read
    whole first; a broken file stops the run before anything is written.
    """
    require(actor, Action.procedure_write)
    files = library.load_folder(folder)
    items: list[SyncItem] = []
    for item in files:
        name, code = item.path.name, item.code
        summary = item.change_summary or f"Brought in from the library file {name}"
        sha256 = item.document.sha256()
        procedure = get_by_code(session, code)
        if procedure is None:
            procedure = Procedure(code=code, synced_sha256=sha256)
            session.add(procedure)
            session.flush()
            record_event(
                session,
                actor=actor,
                action="procedure.created",
                entity="procedure",
                entity_id=procedure.id,
                changes=created({"code": code, "synced_sha256": sha256}),
                reason=f"sync of {name}",
            )
            version = _add_version(session, actor, procedure, item.document, summary)
            items.append(
                SyncItem(file=name, code=code, result=N_("created"), version=version.number)
            )
            continue
        latest = procedure.versions[-1]
        baseline = procedure.synced_sha256
        if baseline is None:
            # Synced before the text brought in was kept: a version that holds the file's text
            # was brought in from it; otherwise the file holds new text for the latest version.
            if any(v.content_sha256 == sha256 for v in procedure.versions):
                _synced(session, actor, procedure, sha256, name)
                baseline = sha256
            else:
                baseline = latest.content_sha256
        if latest.content_sha256 == sha256:
            _synced(session, actor, procedure, sha256, name)
            items.append(
                SyncItem(file=name, code=code, result=N_("unchanged"), version=latest.number)
            )
        elif sha256 == baseline:
            items.append(
                SyncItem(
                    file=name,
                    code=code,
                    result=N_("changed elsewhere"),
                    version=latest.number,
                    detail=N_(
                        "the system's version changed since the file was brought in and stays; "
                        "copy its text into the file to keep them alike"
                    ),
                )
            )
        elif latest.content_sha256 != baseline:
            items.append(
                SyncItem(
                    file=name,
                    code=code,
                    result=N_("changed elsewhere"),
                    version=latest.number,
                    detail=N_(
                        "the file and the system's version both changed since the last sync; "
                        "nothing was drafted: bring the two together in a new version"
                    ),
                )
            )
        elif latest.status is VersionStatus.draft:
            update_draft(
                session,
                actor=actor,
                procedure_id=procedure.id,
                number=latest.number,
                data=DraftUpdate(**item.document.model_dump(), change_summary=summary),
                if_match=latest.version,
            )
            _synced(session, actor, procedure, sha256, name)
            items.append(
                SyncItem(file=name, code=code, result=N_("draft updated"), version=latest.number)
            )
        elif latest.status is VersionStatus.in_review:
            items.append(
                SyncItem(
                    file=name,
                    code=code,
                    result=N_("skipped"),
                    version=latest.number,
                    detail=N_("a version is in review; request changes first"),
                )
            )
        else:
            version = _add_version(session, actor, procedure, item.document, summary)
            _synced(session, actor, procedure, sha256, name)
            items.append(
                SyncItem(file=name, code=code, result=N_("drafted"), version=version.number)
            )
    return SyncReport(items=items)
