"""Generate documents from the records and issue them: the bytes are kept, the issue audited."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import created, jsonable, record_event
from qms.config import get_settings
from qms.db import Database, read_consistently, utcnow
from qms.deviations import service as deviations
from qms.deviations.models import Deviation, DeviationStatus
from qms.deviations.repository import DeviationFilter
from qms.documents import markdown, pack, reports, system
from qms.documents.base import (
    Draft,
    data_hash,
    day,
    moment,
    people,
    person,
    signature_headers,
    signature_rows,
    title_in,
)
from qms.documents.models import IssuedDocument
from qms.documents.style import HouseDocument, Issue
from qms.errors import FieldError, Forbidden, NotFound, ValidationFailed
from qms.i18n import LANGUAGES, N_, label, translate
from qms.i18n.timeline import headline
from qms.pairs.models import Pair
from qms.permissions import Action, Actor, Role, require
from qms.procedures import service as procedures
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme


def deviation_register(
    session: Session, actor: Actor, as_of: datetime, language: str, filters: DeviationFilter
) -> Draft:
    """The deviation register: every deviation the filters select, oldest first."""
    if filters.programme_id is not None:
        programmes.get_programme(session, actor=actor, programme_id=filters.programme_id)
    rows: list[Deviation] = []
    cursor = None
    while True:
        page = deviations.list_deviations(
            session, actor=actor, filters=filters, limit=200, cursor=cursor
        )
        rows.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    rows.reverse()
    today = as_of.date()
    overdue = translate("%(day)s (overdue)", language)
    table = [
        [
            d.number,
            day(d.detected_at, language),
            label(d.kind, language),
            label(d.severity, language),
            label(d.status, language),
            d.title,
            overdue % {"day": day(d.due_on, language)}
            if deviations.is_overdue(d, today)
            else day(d.due_on, language),
            ", ".join(a.number for a in d.actions),
        ]
        for d in rows
    ]
    title = title_in("Deviation register", language)
    issue = Issue(
        get_settings().organisation, title, "REG-DEV", as_of, as_of, data_hash(table), language
    )
    doc = HouseDocument(issue, landscape=True)
    open_count = sum(1 for d in rows if d.status is not DeviationStatus.closed)
    doc.paragraph(
        translate("%(count)s deviations; %(open)s not closed.", language)
        % {"count": len(rows), "open": open_count}
    )
    doc.table(
        [
            translate("Number", language),
            translate("Detected", language),
            translate("Kind", language),
            translate("Severity", language),
            translate("Status", language),
            translate("Title", language),
            translate("Due", language),
            translate("Actions", language),
        ],
        table,
    )
    return Draft(
        "deviation-register",
        title,
        "REG-DEV",
        doc.to_bytes(),
        issue.data_sha256,
        filters.programme_id,
    )


def _programme_name(session: Session, programme_id: int | None) -> str:
    """Return a programme as a reader knows it: its code and name."""
    programme = session.get(Programme, programme_id) if programme_id else None
    return f"{programme.code} · {programme.name}" if programme else ""


def _cohort_code(session: Session, cohort_id: int | None) -> str:
    """Return a cohort's code."""
    cohort = session.get(Cohort, cohort_id) if cohort_id else None
    return cohort.code if cohort else ""


def _pair_code(session: Session, pair_id: int | None) -> str:
    """Return a pair's code (PAIR-0015)."""
    pair = session.get(Pair, pair_id) if pair_id else None
    return pair.code if pair else ""


def deviation_report(
    session: Session, actor: Actor, as_of: datetime, language: str, deviation_id: int
) -> Draft:
    """One deviation: every field, its actions, its timeline from the audit trail, signatures."""
    d = deviations.get(session, actor=actor, deviation_id=deviation_id)
    names = people(session)
    fields = [
        (N_("Number"), d.number),
        (N_("Kind"), label(d.kind, language)),
        (N_("Source"), label(d.source, language)),
        (N_("Severity"), label(d.severity, language)),
        (N_("Status"), label(d.status, language)),
        (
            N_("Detected"),
            translate("%(moment)s by %(person)s", language)
            % {
                "moment": moment(d.detected_at, language),
                "person": person(names, d.detected_by),
            },
        ),
        (N_("Due"), day(d.due_on, language)),
        (N_("ISO 9001 clause"), d.iso_clause or ""),
        # Records by their codes and names, never by their ids.
        (N_("Programme"), _programme_name(session, d.programme_id)),
        (N_("Cohort"), _cohort_code(session, d.cohort_id)),
        (N_("Pair"), _pair_code(session, d.pair_id)),
        (N_("Description"), d.description),
        (N_("Immediate containment"), d.immediate_containment or ""),
        (
            N_("Root cause"),
            f"{label(d.root_cause_method, language)}: {d.root_cause}"
            if d.root_cause_method
            else "",
        ),
        (N_("Closure"), d.closure_summary or ""),
        (N_("No action because"), d.no_action_reason or ""),
    ]
    actions = [
        [
            a.number,
            label(a.type, language),
            label(a.status, language),
            a.title,
            person(names, a.owner.name),
            day(a.due_on, language),
            person(names, a.verified_by),
        ]
        for a in d.actions
    ]
    numbers = {
        ("deviation", str(d.id)): d.number,
        **{("action", str(a.id)): a.number for a in d.actions},
    }
    timeline = [
        [
            moment(e.at, language),
            person(names, e.actor),
            headline(e, language, numbers),
            e.reason or "",
        ]
        for e in deviations.history(session, actor=actor, deviation_id=d.id)
    ]
    signed = signature_rows(session, "deviation", d.id, language)
    data = {"fields": fields, "actions": actions, "timeline": timeline, "signatures": signed}
    name = title_in("Deviation report", language)
    title = f"{name} {d.number}"
    issue = Issue(
        get_settings().organisation, title, d.number, as_of, as_of, data_hash(data), language
    )
    doc = HouseDocument(issue)
    doc.table(
        [translate("Field", language), translate("Value", language)],
        [[translate(name, language), value] for name, value in fields],
    )
    doc.heading(translate("Corrective actions", language))
    doc.table(
        [
            translate("Action", language),
            translate("Type", language),
            translate("Status", language),
            translate("Title", language),
            translate("Owner", language),
            translate("Due", language),
            translate("Verified by", language),
        ],
        actions,
    )
    doc.heading(translate("Timeline", language))
    doc.table(
        [
            translate("When", language),
            translate("Who", language),
            translate("What", language),
            translate("Reason", language),
        ],
        timeline,
    )
    doc.heading(translate("Signatures", language))
    doc.table(signature_headers(language), signed)
    return Draft(
        "deviation-report", title, d.number, doc.to_bytes(), issue.data_sha256, d.programme_id
    )


def master_list(session: Session, actor: Actor, as_of: datetime, language: str) -> Draft:
    """Every procedure with its effective version, status, owner and next review."""
    due = translate("%(day)s (due)", language)
    rows = [
        [
            p.code,
            p.title,
            label(p.owner_role, language),
            str(p.effective_version or ""),
            label(p.status, language),
            day(p.effective_from, language),
            due % {"day": day(p.next_review_on, language)}
            if p.review_due
            else day(p.next_review_on, language),
        ]
        for p in map(procedures.to_read, procedures.list_procedures(session, actor=actor))
    ]
    title = title_in("Master list of procedures", language)
    issue = Issue(
        get_settings().organisation, title, "ML-PR", as_of, as_of, data_hash(rows), language
    )
    doc = HouseDocument(issue)
    doc.table(
        [
            translate("Code", language),
            translate("Title", language),
            translate("Owner", language),
            translate("Version", language),
            translate("Status", language),
            translate("Effective", language),
            translate("Next review", language),
        ],
        rows,
    )
    return Draft("master-list", title, "ML-PR", doc.to_bytes(), issue.data_sha256)


def procedure_document(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    procedure_id: int,
    number: int | None,
) -> Draft:
    """A controlled procedure: its text, control block, revision history and approval signatures."""
    procedure = procedures.get(session, actor=actor, procedure_id=procedure_id)
    version = (
        procedures.get_version(session, actor=actor, procedure_id=procedure.id, number=number)
        if number is not None
        else procedures.effective(procedure) or procedure.versions[-1]
    )
    names = people(session)
    history = [
        [
            str(v.number),
            label(v.status, language),
            v.change_summary,
            person(names, v.author),
            person(names, v.approved_by),
            day(v.effective_from, language),
        ]
        for v in procedure.versions
    ]
    signed = signature_rows(session, "procedure_version", version.id, language)
    data = {"sha": version.content_sha256, "history": history, "signatures": signed}
    issue = Issue(
        get_settings().organisation,
        version.title,
        procedure.code,
        as_of,
        as_of,
        data_hash(data),
        language,
    )
    doc = HouseDocument(issue)
    doc.control_block(
        [
            (issue.label("code"), procedure.code),
            (issue.label("version"), str(version.number)),
            (issue.label("status"), label(version.status, language)),
            (issue.label("owner"), label(version.owner_role, language)),
            (issue.label("approver"), person(names, version.approved_by)),
            (issue.label("effective"), day(version.effective_from, language)),
        ]
    )
    markdown.render(doc, version.content)
    doc.heading(translate("Revision history", language))
    doc.table(
        [
            translate("Version", language),
            translate("Status", language),
            translate("Change", language),
            translate("Author", language),
            translate("Approved by", language),
            translate("Effective", language),
        ],
        history,
    )
    doc.heading(translate("Signatures", language))
    doc.table(signature_headers(language), signed)
    return Draft("procedure", version.title, procedure.code, doc.to_bytes(), issue.data_sha256)


GENERATORS: dict[str, Callable[..., Draft]] = {
    "deviation-register": deviation_register,
    "deviation-report": deviation_report,
    "master-list": master_list,
    "procedure": procedure_document,
    "capa-status": reports.capa_status,
    "follow-up-report": reports.follow_up_report,
    "quality-report": reports.quality_report,
    "audit-pack": pack.audit_pack,
    "audit-report": system.audit_report,
    "management-review": system.management_review,
    "management-review-input": system.management_review_input,
    "evidence-map": system.evidence_map,
}


def safe_file_name(title: str, as_of: datetime, kind: str = "") -> str:
    """Return a file name made only of safe characters."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-")[:80] or "document"
    return f"{stem}-{as_of:%Y%m%d-%H%M}.{'zip' if kind == 'audit-pack' else 'docx'}"


@dataclass(frozen=True)
class Prepared:
    """A document generated from the records, ready to be kept: what was asked and what came."""

    kind: str
    language: str
    when: datetime
    params: dict[str, Any]
    draft: Draft


def prepare(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    language: str = "en",
    as_of: datetime | None = None,
    **params: Any,
) -> Prepared:
    """Generate a document from the records; nothing is written."""
    require(actor, Action.document_generate)
    if kind not in GENERATORS:
        raise NotFound(f"no document kind {kind!r}; there are: {', '.join(GENERATORS)}")
    if language not in LANGUAGES:
        raise ValidationFailed(
            "unknown language", [FieldError("language", f"one of: {', '.join(LANGUAGES)}")]
        )
    when = (as_of or utcnow()).replace(microsecond=0)
    draft = GENERATORS[kind](session, actor, when, language, **params)
    if actor.role is Role.coordinator and draft.programme_id is None:
        raise Forbidden("a coordinator issues documents of a programme only")
    return Prepared(kind, language, when, params, draft)


def keep(session: Session, *, actor: Actor, prepared: Prepared) -> IssuedDocument:
    """Issue a generated document: keep its bytes, audit who issued what."""
    require(actor, Action.document_generate)
    kind, draft, when = prepared.kind, prepared.draft, prepared.when
    digest = hashlib.sha256(draft.content).hexdigest()
    document = IssuedDocument(
        kind=kind,
        title=draft.title[:200],
        file_name=safe_file_name(draft.title, when, kind),
        params=jsonable({"language": prepared.language, **prepared.params}),
        programme_id=draft.programme_id,
        as_of=when,
        issued_at=utcnow(),
        issued_by=actor.name,
        data_sha256=draft.data_sha256,
        sha256=digest,
        size_bytes=len(draft.content),
        content=draft.content,
    )
    session.add(document)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="document.issued",
        entity="issued_document",
        entity_id=document.id,
        programme_id=draft.programme_id,
        changes=created(
            {
                "kind": kind,
                "title": document.title,
                "sha256": digest,
                "data_sha256": draft.data_sha256,
                "params": document.params,
            }
        ),
    )
    return document


def issue(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    language: str = "en",
    as_of: datetime | None = None,
    **params: Any,
) -> IssuedDocument:
    """Generate a document and issue it in the caller's unit of work."""
    prepared = prepare(session, actor=actor, kind=kind, language=language, as_of=as_of, **params)
    return keep(session, actor=actor, prepared=prepared)


def issue_from_snapshot(
    database: Database,
    *,
    actor: Actor,
    kind: str,
    language: str = "en",
    **params: Any,
) -> IssuedDocument:
    """Generate a document from one snapshot of the records, then issue it in a short write.

    The records are read in a read-only transaction that sees one moment (REPEATABLE READ on
    PostgreSQL), so a long document never holds up the people writing; and the document is kept
    in a transaction of its own, so a write committed meanwhile cannot fail the issue (in the
    snapshot's own transaction PostgreSQL would refuse to lock the chain head it changed).
    """
    with database.unit_of_work(write=False) as session:
        read_consistently(session)
        prepared = prepare(session, actor=actor, kind=kind, language=language, **params)
    with database.unit_of_work() as session:
        return keep(session, actor=actor, prepared=prepared)


def get_issued(session: Session, *, actor: Actor, document_id: int) -> IssuedDocument:
    """Return an issued document (with its bytes), or raise NotFound."""
    require(actor, Action.document_read)
    document = session.get(IssuedDocument, document_id)
    if document is None or actor.programme_id not in (None, document.programme_id):
        raise NotFound(f"no issued document {document_id}")
    return document


def list_issued(session: Session, *, actor: Actor) -> list[IssuedDocument]:
    """List issued documents, newest first."""
    require(actor, Action.document_read)
    stmt = select(IssuedDocument).order_by(IssuedDocument.id.desc()).limit(200)
    if actor.programme_id is not None:
        stmt = stmt.where(IssuedDocument.programme_id == actor.programme_id)
    return list(session.scalars(stmt))
