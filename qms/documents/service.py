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

from qms.actions.models import CorrectiveAction
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
    not_recorded,
    or_none,
    people,
    person,
    signature_headers,
    signature_rows,
    signed_headers,
    signed_rows,
    table_or_none,
    title_in,
)
from qms.documents.models import IssuedDocument
from qms.documents.style import HouseDocument, Issue
from qms.errors import FieldError, Forbidden, NotFound, ValidationFailed
from qms.i18n import LANGUAGES, N_, Either, Text, label, translate
from qms.i18n.timeline import headline
from qms.pairs.models import Pair
from qms.permissions import Action, Actor, Role, require
from qms.procedures import service as procedures
from qms.procedures.models import ProcedureVersion
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme
from qms.signatures.models import SignatureMeaning
from qms.signatures.service import signatures_of


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
    names = people(session)
    codes = dict(session.execute(select(Programme.id, Programme.code)).all())
    owned = translate("%(action)s (%(owner)s)", language)
    table = [
        [
            d.number,
            day(d.detected_at, language),
            codes.get(d.programme_id, "") if d.programme_id else "",
            label(d.source, language),
            label(d.kind, language),
            label(d.severity, language),
            label(d.status, language),
            d.title,
            overdue % {"day": day(d.due_on, language)}
            if deviations.is_overdue(d, today)
            else day(d.due_on, language),
            day(d.closed_at, language),
            ", ".join(
                owned % {"action": a.number, "owner": person(names, a.owner.name)}
                for a in d.actions
            ),
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
    table_or_none(
        doc,
        [
            translate("Number", language),
            translate("Detected", language),
            translate("Programme", language),
            translate("Source", language),
            translate("Kind", language),
            translate("Severity", language),
            translate("Status", language),
            translate("Title", language),
            translate("Due", language),
            translate("Closed", language),
            translate("Actions and owners", language),
        ],
        table,
        language,
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
    """Return a cohort as a reader knows it: its code and name."""
    cohort = session.get(Cohort, cohort_id) if cohort_id else None
    if cohort is None:
        return ""
    return f"{cohort.code} · {cohort.name}" if cohort.name else cohort.code


def _pair_code(session: Session, pair_id: int | None, language: str) -> str:
    """Return a pair by its code and its participants' codes (never their names)."""
    pair = session.get(Pair, pair_id) if pair_id else None
    if pair is None:
        return ""
    return translate("%(pair)s (mentor %(mentor)s, mentee %(mentee)s)", language) % {
        "pair": pair.code,
        "mentor": pair.mentor.code,
        "mentee": pair.mentee.code,
    }


def _procedure_version(session: Session, version_id: int | None, language: str) -> str:
    """Return a procedure version as a reader cites it: PR-06 v1 and its title."""
    version = session.get(ProcedureVersion, version_id) if version_id else None
    if version is None:
        return ""
    return translate("%(code)s version %(number)s: %(title)s", language) % {
        "code": version.procedure.code,
        "number": version.number,
        "title": version.title,
    }


def _key_values(doc: HouseDocument, rows: list[tuple[str, str]], language: str) -> None:
    """Add a two-column table of labels (marked with N_, said in the language) and values."""
    doc.table(
        [translate("Field", language), translate("Value", language)],
        [[translate(name, language), value] for name, value in rows],
    )


def _action_rows(
    action: CorrectiveAction, names: dict[str, str], numbers: dict[int, str], language: str
) -> list[tuple[str, str]]:
    """Every field ISO 9001 10.2 asks of a corrective action, each said or "None recorded"."""
    return [
        (N_("Type"), label(action.type, language)),
        (N_("Status"), label(action.status, language)),
        (N_("Action"), action.action),
        (
            N_("Root cause"),
            f"{label(action.root_cause_method, language)}: {action.root_cause}"
            if action.root_cause_method and action.root_cause
            else or_none(action.root_cause, language),
        ),
        (N_("Owner"), person(names, action.owner.name)),
        (N_("Due"), day(action.due_on, language)),
        (N_("Started"), or_none(moment(action.started_at, language), language)),
        (N_("Done"), or_none(moment(action.done_at, language), language)),
        (N_("Completion note"), or_none(action.completion_note, language)),
        (N_("Evidence of effectiveness"), or_none(action.evidence, language)),
        (N_("Verified by"), or_none(person(names, action.verified_by), language)),
        (N_("Verified on"), or_none(moment(action.verified_at, language), language)),
        (
            N_("Effectiveness check due"),
            or_none(day(action.effectiveness_check_on, language), language),
        ),
        *(
            [(N_("Follows action"), numbers.get(action.follows_action_id, ""))]
            if action.follows_action_id
            else []
        ),
    ]


def _closed_by(session: Session, deviation: Deviation) -> str | None:
    """Return who closed the deviation: the signer of its closing signature."""
    if deviation.closed_at is None:
        return None
    closing = [
        s
        for s in signatures_of(session, entity="deviation", entity_id=deviation.id)
        if s.meaning is SignatureMeaning.closed
    ]
    return closing[-1].signer if closing else None


def deviation_report(
    session: Session, actor: Actor, as_of: datetime, language: str, deviation_id: int
) -> Draft:
    """One nonconformity as ISO 9001 10.2 asks: what was found and where, containment, root
    cause, each corrective action through its verification, closure, signatures, timeline."""
    d = deviations.get(session, actor=actor, deviation_id=deviation_id)
    names = people(session)
    found = [
        (N_("Number"), d.number),
        (N_("Title"), d.title),
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
        (N_("Reported by"), person(names, d.reported_by)),
        (N_("Due"), day(d.due_on, language)),
        (N_("ISO 9001 clause"), or_none(d.iso_clause, language)),
        (N_("Requirements"), or_none(", ".join(d.requirements or []), language)),
    ]
    # Records by their codes and names, never by their ids.
    where = [
        (N_("Programme"), or_none(_programme_name(session, d.programme_id), language)),
        (N_("Cohort"), or_none(_cohort_code(session, d.cohort_id), language)),
        (N_("Pair"), or_none(_pair_code(session, d.pair_id, language), language)),
        (
            N_("Procedure"),
            or_none(_procedure_version(session, d.procedure_version_id, language), language),
        ),
    ]
    root_cause = (
        [(N_("Method"), label(d.root_cause_method, language)), (N_("Root cause"), d.root_cause)]
        if d.root_cause_method and d.root_cause
        else []
    )
    action_numbers = {a.id: a.number for a in d.actions}
    actions = [
        (a.number, a.title, _action_rows(a, names, action_numbers, language)) for a in d.actions
    ]
    closer = _closed_by(session, d)
    closure = [
        (N_("Closure summary"), or_none(d.closure_summary, language)),
        *([(N_("No action because"), d.no_action_reason)] if d.no_action_reason else []),
        (N_("Closed on"), or_none(moment(d.closed_at, language), language)),
        (N_("Closed by"), or_none(person(names, closer), language)),
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
    signed = signed_rows(
        session,
        [("deviation", d.id, d.number), *(("action", a.id, a.number) for a in d.actions)],
        language,
    )
    data = {
        "found": found,
        "where": where,
        "description": d.description,
        "containment": d.immediate_containment,
        "root_cause": root_cause,
        "actions": actions,
        "closure": closure,
        "timeline": timeline,
        "signatures": signed,
    }
    title = f"{title_in('Deviation report', language)} {d.number}"
    issue = Issue(
        get_settings().organisation, title, d.number, as_of, as_of, data_hash(data), language
    )
    doc = HouseDocument(issue)
    doc.heading(translate("The nonconformity", language))
    _key_values(doc, found, language)
    doc.heading(translate("Where it was found", language))
    _key_values(doc, where, language)
    doc.heading(translate("Description", language))
    doc.paragraph(d.description)
    doc.heading(translate("Immediate containment", language))
    doc.paragraph(or_none(d.immediate_containment, language))
    doc.heading(translate("Root cause", language))
    if root_cause:
        _key_values(doc, root_cause, language)
    else:
        doc.paragraph(translate("No root-cause analysis recorded.", language))
    doc.heading(translate("Corrective actions", language))
    if not actions:
        doc.paragraph(not_recorded(language))
    for action_number, action_title, rows in actions:
        doc.heading(f"{action_number} — {action_title}", level=2)
        _key_values(doc, rows, language)
    doc.heading(translate("Closure", language))
    _key_values(doc, closure, language)
    doc.heading(translate("Signatures", language))
    table_or_none(doc, signed_headers(language), signed, language)
    doc.heading(translate("Timeline", language))
    table_or_none(
        doc,
        [
            translate("When", language),
            translate("Who", language),
            translate("What", language),
            translate("Reason", language),
        ],
        timeline,
        language,
    )
    return Draft(
        "deviation-report",
        title,
        d.number,
        doc.to_bytes(),
        issue.data_sha256,
        d.programme_id,
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
        raise NotFound(
            Text(
                "There is no document kind %(kind)s: choose %(kinds)s.",
                kind=kind,
                kinds=Either(GENERATORS),
            )
        )
    if language not in LANGUAGES:
        raise ValidationFailed(
            Text("The language is not known."),
            [FieldError("language", Text("Choose %(kinds)s.", kinds=Either(LANGUAGES)))],
        )
    when = (as_of or utcnow()).replace(microsecond=0)
    draft = GENERATORS[kind](session, actor, when, language, **params)
    if actor.role is Role.coordinator and draft.programme_id is None:
        raise Forbidden(
            Text("A coordinator issues documents of a programme only: choose a programme.")
        )
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
        raise NotFound(Text("There is no issued document with the id %(id)s.", id=document_id))
    return document


def list_issued(session: Session, *, actor: Actor) -> list[IssuedDocument]:
    """List issued documents, newest first."""
    require(actor, Action.document_read)
    stmt = select(IssuedDocument).order_by(IssuedDocument.id.desc()).limit(200)
    if actor.programme_id is not None:
        stmt = stmt.where(IssuedDocument.programme_id == actor.programme_id)
    return list(session.scalars(stmt))
