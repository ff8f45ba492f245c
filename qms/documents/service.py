"""Generate documents from the records and issue them: the bytes are kept, the issue audited."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.actions.models import CorrectiveAction
from qms.audit.service import created, jsonable, record_event
from qms.audits.models import InternalAudit, ManagementReview
from qms.comments.models import CommentedRecord
from qms.config import get_settings
from qms.db import Database, read_consistently, utcnow
from qms.deviations import service as deviations
from qms.deviations.models import Deviation, DeviationStatus
from qms.deviations.repository import DeviationFilter
from qms.documents import (
    comments,
    competence,
    complaints,
    context,
    evidence,
    markdown,
    objectives,
    pack,
    providers,
    reports,
    risks,
    system,
)
from qms.documents.base import (
    Draft,
    data_hash,
    day,
    moment,
    not_recorded,
    or_none,
    people,
    person,
    signed_headers,
    signed_rows,
    table_or_none,
    title_in,
)
from qms.documents.models import IssuedDocument
from qms.documents.style import ISSUED_BY, HouseDocument, Issue, Issuing, issuing
from qms.errors import FieldError, Forbidden, NotFound, ValidationFailed
from qms.i18n import LANGUAGES, N_, Either, Text, label, translate
from qms.i18n.timeline import headline
from qms.pairs.models import Pair
from qms.permissions import Action, Actor, Role, require
from qms.procedures import service as procedures
from qms.procedures.models import ProcedureVersion, VersionStatus
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
            person(names, d.owner.name) if d.owner else "",
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
            translate("Owner", language),
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
        (N_("Owner"), or_none(person(names, d.owner.name) if d.owner else None, language)),
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
    files = evidence.rows(
        session,
        [("deviation", d.id, d.number), *(("action", a.id, a.number) for a in d.actions)],
        language,
    )
    remarks = comments.rows(
        session,
        [
            (CommentedRecord.deviation, d.id, d.number),
            *((CommentedRecord.action, a.id, a.number) for a in d.actions),
        ],
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
        **({"evidence": files} if files else {}),
        **({"comments": remarks} if remarks else {}),
    }
    title = title_in("Deviation report", language) + f" {d.number}"
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
    evidence.section(doc, files, language)
    comments.section(doc, remarks, language)
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
    table_or_none(
        doc,
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
        language,
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
    signed = signed_rows(
        session,
        [("procedure_version", version.id, f"{procedure.code} v{version.number}")],
        language,
    )
    # A procedure's external documents and other files, whatever its version.
    files = evidence.rows(session, [("procedure", procedure.id, procedure.code)], language)
    data = {
        "sha": version.content_sha256,
        "history": history,
        "signatures": signed,
        **({"evidence": files} if files else {}),
    }
    issue = Issue(
        get_settings().organisation,
        version.title,
        procedure.code,
        as_of,
        as_of,
        data_hash(data),
        language,
        draft=version.status in (VersionStatus.draft, VersionStatus.in_review),
    )
    doc = HouseDocument(issue)
    doc.control_block(
        [
            (issue.label("code"), procedure.code),
            (issue.label("version"), str(version.number)),
            (issue.label("status"), label(version.status, language)),
            (issue.label("owner"), label(version.owner_role, language)),
            (
                issue.label("approver"),
                person(names, version.approved_by) or translate("Not yet approved", language),
            ),
            (
                issue.label("effective"),
                day(version.effective_from, language) or translate("Not in force", language),
            ),
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
    if files:
        evidence.section(doc, files, language)
    doc.heading(translate("Signatures", language))
    table_or_none(doc, signed_headers(language), signed, language)
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
    "external-providers": providers.provider_register,
    "competence-matrix": competence.competence_matrix,
    "complaints-register": complaints.complaint_register,
    "context": context.context_and_scope,
    "quality-objectives": objectives.objective_register,
    "risk-register": risks.risk_register,
}


# Letters a file name keeps in its ASCII fallback as the language spells them without marks.
_ASCII = str.maketrans(
    {
        "æ": "ae",
        "Æ": "Ae",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "œ": "oe",
        "Œ": "Oe",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "Th",
        "\u2013": "-",
        "—": "-",
        "·": "-",
    }
)


def safe_file_name(title: str, as_of: datetime, kind: str = "") -> str:
    """Return a file name from the title in the language's letters (æøå, åäö): only what no file
    system takes, and spaces, replaced."""
    stem = re.sub(r"[^\w.-]+", "-", title).strip("-.")[:80] or "document"
    return f"{stem}-{as_of:%Y%m%d-%H%M}.{'zip' if kind == 'audit-pack' else 'docx'}"


def ascii_file_name(name: str) -> str:
    """Return the file name in ASCII for clients that cannot read UTF-8 names: æ→ae, ø→o, å→a,
    ä→a, ö→o…, anything else not ASCII as "_"."""
    spelled = unicodedata.normalize("NFKD", name.translate(_ASCII))
    bare = "".join(ch for ch in spelled if not unicodedata.combining(ch))
    return re.sub(r'[^\x20-\x7e]|["\\]', "_", bare)


def content_disposition(name: str) -> str:
    """Return a Content-Disposition for a download (RFC 6266): the name in UTF-8 (RFC 8187)
    and its ASCII fallback."""
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{ascii_file_name(name)}\"; filename*=UTF-8''{encoded}"


# What the scope line says of each filter a document is issued with.
SCOPE_LABELS = {
    "programme": N_("Programme"),
    "cohort": N_("Cohort"),
    "status": N_("Status"),
    "severity": N_("Severity"),
    "kind": N_("Kind"),
    "source": N_("Source"),
    "detected": N_("Detected"),
    "period": N_("Period"),
    "framework": N_("Framework"),
    "text": N_("Text"),
}
OVERDUE_ONLY = N_("Overdue only")
NOT_CLOSED = N_("Not closed")
CLOSED_ONLY = N_("Closed only")


def _span(start: date | None, end: date | None, language: str) -> str:
    """Days from-to in the language's words, or "" for no bounds."""
    first, last = day(start, language), day(end, language)
    if start is not None and end is not None:
        return translate("%(start)s to %(end)s", language) % {"start": first, "end": last}
    if start is not None:
        return translate("from %(day)s", language) % {"day": first}
    if end is not None:
        return translate("up to %(day)s", language) % {"day": last}
    return ""


def _programme_of(session: Session, params: dict[str, Any]) -> Programme | None:
    """The programme a document is of: asked for, filtered on, or the record's own."""
    filters = params.get("filters")
    programme_id = params.get("programme_id") or getattr(filters, "programme_id", None)
    if programme_id is None:
        for key, model in (
            ("cohort_id", Cohort),
            ("deviation_id", Deviation),
            ("audit_id", InternalAudit),
            ("review_id", ManagementReview),
        ):
            if params.get(key) is not None:
                record = session.get(model, params[key])
                programme_id = getattr(record, "programme_id", None)
                break
    return session.get(Programme, programme_id) if programme_id else None


def scope_said(
    session: Session, params: dict[str, Any], language: str
) -> tuple[Programme | None, str]:
    """The programme a document is of, and its scope and filters said in words (a programme, a
    cohort, a period, a status…), "" for the whole organisation's records."""
    programme = _programme_of(session, params)
    parts: list[tuple[str, str]] = []
    if programme is not None:
        parts.append(("programme", f"{programme.code} · {programme.name}"))
    if params.get("cohort_id") is not None:
        cohort = session.get(Cohort, params["cohort_id"])
        if cohort is not None:
            parts.append(
                ("cohort", f"{cohort.code} · {cohort.name}" if cohort.name else cohort.code)
            )
    filters = params.get("filters")
    if isinstance(filters, DeviationFilter):
        for key in ("status", "severity", "kind", "source"):
            value = getattr(filters, key)
            if value is not None:
                parts.append((key, label(str(value), language)))
        detected = _span(filters.detected_from, filters.detected_to, language)
        if detected:
            parts.append(("detected", detected))
        if filters.q:
            parts.append(("text", f"“{filters.q}”"))
    for first, last in (("period_start", "period_end"), ("period_from", "period_to")):
        period = _span(params.get(first), params.get(last), language)
        if period:
            parts.append(("period", period))
    if params.get("framework"):
        parts.append(("framework", str(params["framework"])))
    said = [f"{translate(SCOPE_LABELS[key], language)}: {value}" for key, value in parts]
    if isinstance(filters, DeviationFilter):
        if filters.overdue:
            said.append(translate(OVERDUE_ONLY, language))
        if filters.open is not None:
            said.append(translate(NOT_CLOSED if filters.open else CLOSED_ONLY, language))
    return programme, "; ".join(said)


@dataclass(frozen=True)
class Reservation:
    """An issue's number and moment, reserved before its document is made so that the document
    can carry them."""

    number: int
    issued_at: datetime


@dataclass(frozen=True)
class Prepared:
    """A document generated from the records, ready to be kept: what was asked and what came."""

    kind: str
    language: str
    when: datetime
    params: dict[str, Any]
    draft: Draft
    reservation: Reservation | None = None


def _check(actor: Actor, kind: str, language: str) -> None:
    """Refuse a document the actor may not issue, of no known kind or language."""
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


def prepare(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    language: str = "en",
    as_of: datetime | None = None,
    reservation: Reservation | None = None,
    **params: Any,
) -> Prepared:
    """Generate a document from the records; nothing is written.

    With a reservation the document carries its issue: number, issued on and by; without, it
    says it is not issued."""
    _check(actor, kind, language)
    # The records are read as of the issue's own moment (to the second, never after it).
    when = (as_of or (reservation.issued_at if reservation else utcnow())).replace(microsecond=0)
    programme, scope = scope_said(session, params, language)
    names = people(session)
    issued_by = translate(ISSUED_BY, language) % {
        "person": person(names, actor.name),
        "role": label(str(actor.role), language),
    }
    stamp = Issuing(
        number=reservation.number if reservation else None,
        issued_at=reservation.issued_at if reservation else None,
        issued_by=issued_by,
        organisation=programme.organiser if programme is not None and programme.organiser else None,
        scope=scope,
    )
    with issuing(stamp):
        draft = GENERATORS[kind](session, actor, when, language, **params)
    if actor.role is Role.coordinator and draft.programme_id is None:
        raise Forbidden(
            Text("A coordinator issues documents of a programme only: choose a programme.")
        )
    return Prepared(kind, language, when, params, draft, reservation)


def reserve(session: Session, *, actor: Actor, kind: str, language: str) -> Reservation:
    """Reserve the next issue's number: a row that holds no document until it is kept, and is
    not listed or served until then."""
    _check(actor, kind, language)
    now = utcnow()
    document = IssuedDocument(
        kind=kind,
        title="",
        file_name="",
        params={"language": language},
        programme_id=None,
        as_of=now,
        issued_at=now,
        issued_by=actor.name,
        data_sha256="",
        sha256="",
        size_bytes=0,
        content=b"",
    )
    session.add(document)
    session.flush()
    return Reservation(document.id, document.issued_at)


def release(session: Session, *, reservation: Reservation) -> None:
    """Give up a reserved number whose document could not be made."""
    document = session.get(IssuedDocument, reservation.number)
    if document is not None and not document.sha256:
        session.delete(document)
        session.flush()


def keep(session: Session, *, actor: Actor, prepared: Prepared) -> IssuedDocument:
    """Issue a generated document: keep its bytes (in its reserved row), audit who issued what."""
    require(actor, Action.document_generate)
    kind, draft, when = prepared.kind, prepared.draft, prepared.when
    digest = hashlib.sha256(draft.content).hexdigest()
    reserved = prepared.reservation
    document = session.get(IssuedDocument, reserved.number) if reserved else None
    if document is None:
        document = IssuedDocument(issued_at=utcnow())
        session.add(document)
    document.kind = kind
    document.title = draft.title[:200]
    document.file_name = safe_file_name(draft.title, when, kind)
    document.params = jsonable({"language": prepared.language, **prepared.params})
    document.programme_id = draft.programme_id
    document.as_of = when
    document.issued_by = actor.name
    document.data_sha256 = draft.data_sha256
    document.sha256 = digest
    document.size_bytes = len(draft.content)
    document.content = draft.content
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
    """Generate a document and issue it in the caller's unit of work: its number is reserved
    first, so the document carries it."""
    reservation = reserve(session, actor=actor, kind=kind, language=language)
    prepared = prepare(
        session,
        actor=actor,
        kind=kind,
        language=language,
        as_of=as_of,
        reservation=reservation,
        **params,
    )
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

    The issue's number is reserved first, in a write of its own, so the document carries it.
    The records are read in a read-only transaction that sees one moment (REPEATABLE READ on
    PostgreSQL), so a long document never holds up the people writing; and the document is kept
    in a transaction of its own, so a write committed meanwhile cannot fail the issue (in the
    snapshot's own transaction PostgreSQL would refuse to lock the chain head it changed). A
    document that cannot be made gives its number up.
    """
    _check(actor, kind, language)
    with database.unit_of_work() as session:
        reservation = reserve(session, actor=actor, kind=kind, language=language)
    try:
        with database.unit_of_work(write=False) as session:
            read_consistently(session)
            prepared = prepare(
                session,
                actor=actor,
                kind=kind,
                language=language,
                reservation=reservation,
                **params,
            )
        with database.unit_of_work() as session:
            return keep(session, actor=actor, prepared=prepared)
    except BaseException:
        with database.unit_of_work() as session:
            release(session, reservation=reservation)
        raise


def get_issued(session: Session, *, actor: Actor, document_id: int) -> IssuedDocument:
    """Return an issued document (with its bytes), or raise NotFound."""
    require(actor, Action.document_read)
    document = session.get(IssuedDocument, document_id)
    if (
        document is None
        or not document.sha256  # reserved, not yet kept
        or actor.programme_id not in (None, document.programme_id)
    ):
        raise NotFound(Text("There is no issued document with the id %(id)s.", id=document_id))
    return document


def list_issued(session: Session, *, actor: Actor) -> list[IssuedDocument]:
    """List issued documents, newest first."""
    require(actor, Action.document_read)
    stmt = (
        select(IssuedDocument)
        .where(IssuedDocument.sha256 != "")
        .order_by(IssuedDocument.id.desc())
        .limit(200)
    )
    if actor.programme_id is not None:
        stmt = stmt.where(IssuedDocument.programme_id == actor.programme_id)
    return list(session.scalars(stmt))
