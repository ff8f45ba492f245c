"""The audit pack: every document of a programme for a period, an index of them, the audit trail
of the pack's records with what ties it to the chain, and a manifest.

What an auditor opens first is the index (a .docx in the pack's language): each file with its
title, number and SHA-256. The trail is JSON Lines, one event a line as the chain keeps it; the
verification file gives the chain's head when the pack was issued and each event's position and
hashes, so the events can be re-verified on their own (README: "Re-verifying an audit pack's
trail") and compared with the chain at any later time. File names are in the pack's language,
with its letters (UTF-8 names in the zip).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from qms.access import service as access
from qms.access.models import AccessEntry
from qms.audit import service as audit
from qms.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.models import AuditStatus, ReviewStatus
from qms.config import get_settings
from qms.context.models import ContextIssue, InterestedParty
from qms.deviations import service as deviations
from qms.deviations.models import Deviation
from qms.deviations.repository import DeviationFilter
from qms.documents import evidence
from qms.documents.base import Draft, data_hash, day, moment
from qms.documents.style import HouseDocument, Issue
from qms.frameworks.catalogue import frameworks
from qms.i18n import N_, translate
from qms.objectives.models import QualityObjective
from qms.permissions import Action, Actor, require
from qms.procedures import service as procedures
from qms.programmes import service as programmes
from qms.programmes.models import Programme
from qms.providers.models import Provider
from qms.risks.models import Risk

MANIFEST = "manifest.json"
EVIDENCE_FOLDER = N_("Evidence")
# The words of the pack's own files, said in its language.
INDEX = N_("Index")
TRAIL = N_("Audit trail")
VERIFICATION = N_("Audit trail verification")
READS = N_("Access log")
# Characters no file system takes in a name (and the zip's folder sign).
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class Period:
    """The days the pack covers; an open end is every record on that side."""

    start: date | None
    end: date | None

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether a record running from start to end falls (partly) in the period."""
        return (self.end is None or start is None or start <= self.end) and (
            self.start is None or end is None or end >= self.start
        )

    def said(self, language: str) -> str:
        """The period in the language's words and days, or "" for every record."""
        start, end = day(self.start, language), day(self.end, language)
        if self.start is not None and self.end is not None:
            return translate("%(start)s to %(end)s", language) % {"start": start, "end": end}
        if self.start is not None:
            return translate("from %(day)s", language) % {"day": start}
        if self.end is not None:
            return translate("up to %(day)s", language) % {"day": end}
        return ""


def file_stem(text: str) -> str:
    """A file name's stem from a title: its words and letters as written (æøå, åäö), only the
    characters no file system takes replaced, at most 120 characters."""
    stem = " ".join(_UNSAFE.sub("-", text).split()).strip(" .-")
    return stem[:120].rstrip(" .-") or "document"


def _period_params(generator: Callable[..., Draft], period: Period) -> dict[str, date]:
    """The period as the generator takes it (period_start/_end or period_from/_to), if it does."""
    accepted = inspect.signature(generator).parameters
    for first, last in (("period_start", "period_end"), ("period_from", "period_to")):
        if first in accepted and last in accepted:
            given = {first: period.start, last: period.end}
            return {name: value for name, value in given.items() if value is not None}
    return {}


def _deviations(session: Session, actor: Actor, filters: DeviationFilter) -> list[Deviation]:
    """The deviations the filters select, by number."""
    found: list[Deviation] = []
    cursor = None
    while True:
        page = deviations.list_deviations(
            session, actor=actor, filters=filters, limit=200, cursor=cursor
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return sorted(found, key=lambda d: (d.year, d.seq))


@dataclass
class _Contents:
    """The documents of the pack, in the order the index lists them, and the records behind
    them (entity, id) whose audit trail the pack carries."""

    drafts: list[Draft]
    records: set[tuple[str, str]]


def _contents(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    programme: Programme,
    period: Period,
) -> _Contents:
    from qms.documents.service import GENERATORS

    def make(kind: str, **params: Any) -> Draft:
        generator = GENERATORS[kind]
        return generator(session, actor, as_of, language, **params)

    def over_period(kind: str, **params: Any) -> Draft:
        return make(kind, **params, **_period_params(GENERATORS[kind], period))

    records: set[tuple[str, str]] = {("programme", str(programme.id))}
    filters = DeviationFilter(
        programme_id=programme.id, detected_from=period.start, detected_to=period.end
    )
    drafts = [
        over_period("quality-report", programme_id=programme.id),
        over_period("deviation-register", filters=filters),
        over_period("capa-status", programme_id=programme.id),
    ]
    for deviation in _deviations(session, actor, filters):
        drafts.append(make("deviation-report", deviation_id=deviation.id))
        records.add(("deviation", str(deviation.id)))
        records.update(("action", str(a.id)) for a in deviation.actions)
    # Audits and reviews of the programme, and those of the whole system (no programme), whose
    # scope covers it; cancelled ones have no report.
    for internal in sorted(
        audits.list_audits(session, actor=actor), key=lambda a: (a.start_on, a.id)
    ):
        if (
            internal.programme_id in (None, programme.id)
            and internal.status is not AuditStatus.cancelled
            and period.overlaps(internal.start_on, internal.end_on)
        ):
            drafts.append(make("audit-report", audit_id=internal.id))
            records.add(("internal_audit", str(internal.id)))
    for review in sorted(
        reviews.list_reviews(session, actor=actor), key=lambda r: (r.period_end, r.id)
    ):
        if (
            review.programme_id in (None, programme.id)
            and review.status is not ReviewStatus.cancelled
            and period.overlaps(review.period_start, review.period_end)
        ):
            drafts.append(make("management-review", review_id=review.id))
            records.add(("management_review", str(review.id)))
    # The procedures in force: each one's approved, effective version.
    for procedure in procedures.list_procedures(session, actor=actor):
        version = procedures.effective(procedure)
        if version is None:
            continue
        drafts.append(make("procedure", procedure_id=procedure.id, number=version.number))
        records.add(("procedure", str(procedure.id)))
        records.update(("procedure_version", str(v.id)) for v in procedure.versions)
    for cohort in programme.cohorts:
        if period.overlaps(cohort.start_on, cohort.end_on):
            drafts.append(make("follow-up-report", cohort_id=cohort.id))
            records.add(("cohort", str(cohort.id)))
    # The rest of the quality system the programme runs under (ISO 9001 4.1-4.3, 6.1, 6.2, 7.2,
    # 8.4, 9.1.2): its context and scope, the objectives, the risks and opportunities, the
    # external providers, the competence of those who work in it, the complaints received.
    for kind in _REGISTERS:
        drafts.append(make(kind, programme_id=programme.id))
    drafts.append(over_period("complaints-register", programme_id=programme.id))
    # Their records' events, the organisation's as well as the programme's (the programme's
    # carry its id already).
    for entity, model in _REGISTER_RECORDS:
        column = model.programme_id
        ids = session.scalars(select(model.id).where(or_(column.is_(None), column == programme.id)))
        records.update((entity, str(i)) for i in ids)
    for framework in frameworks():
        drafts.append(
            make(
                "evidence-map",
                framework=framework,
                programme_id=programme.id,
                **{
                    name: value
                    for name, value in (("period_start", period.start), ("period_end", period.end))
                    if value is not None
                },
            )
        )
    drafts.append(over_period("master-list"))
    return _Contents(drafts, records)


# The registers of the quality system a programme's pack carries, each as it is for the programme
# and the whole organisation.
_REGISTERS = (
    "context",
    "quality-objectives",
    "risk-register",
    "external-providers",
    "competence-matrix",
)
_REGISTER_RECORDS: tuple[tuple[str, Any], ...] = (
    ("context_issue", ContextIssue),
    ("interested_party", InterestedParty),
    ("objective", QualityObjective),
    ("risk", Risk),
    ("provider", Provider),
)


def _named(drafts: Iterable[Draft], width: int) -> list[tuple[str, Draft]]:
    """Each document's file name: its place in the index and its title in the pack's language
    (a procedure's after its code, as the master list cites it)."""
    named = []
    for place, draft in enumerate(drafts, start=1):
        shown = f"{draft.code} {draft.title}" if draft.kind == "procedure" else draft.title
        named.append((f"{place:0{width}d} {file_stem(shown)}.docx", draft))
    return named


def _trail(
    session: Session, programme: Programme, records: set[tuple[str, str]], period: Period
) -> list[AuditEvent]:
    """The events of the pack's records (and of the programme) in the period, by position."""
    by_entity: dict[str, set[str]] = {}
    for entity, entity_id in records:
        by_entity.setdefault(entity, set()).add(entity_id)
    stmt = select(AuditEvent).where(
        or_(
            AuditEvent.programme_id == programme.id,
            *(
                and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(sorted(ids)))
                for entity, ids in sorted(by_entity.items())
            ),
        )
    )
    if period.start is not None:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(period.start, time(), UTC))
    if period.end is not None:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(period.end + timedelta(days=1), time(), UTC)
        )
    return list(session.scalars(stmt.order_by(AuditEvent.seq)))


def _reads(session: Session, programme: Programme, period: Period) -> list[AccessEntry]:
    """The reads of tokens limited to the programme in the period, in the order written."""
    stmt = select(AccessEntry).where(AccessEntry.programme_id == programme.id)
    if period.start is not None:
        stmt = stmt.where(AccessEntry.at >= datetime.combine(period.start, time(), UTC))
    if period.end is not None:
        stmt = stmt.where(
            AccessEntry.at < datetime.combine(period.end + timedelta(days=1), time(), UTC)
        )
    return list(session.scalars(stmt.order_by(AccessEntry.id)))


def _line(event: AuditEvent) -> str:
    """An event as one line of JSON: the fields its hash covers, its previous hash and its hash."""
    return audit.canonical_json(
        {**audit.event_payload(event), "prev_hash": event.prev_hash, "hash": event.hash}
    )


def audit_pack(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    programme_id: int,
    period_from: date | None = None,
    period_to: date | None = None,
) -> Draft:
    """A zip: the programme's documents for the period with their index, the trail of the
    pack's records as JSON Lines with its verification, and a manifest of every file's SHA-256."""
    require(actor, Action.audit_read)
    programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    period = Period(period_from, period_to)
    contents = _contents(session, actor, as_of, language, programme, period)
    # The index is file 0: the places sort as the index lists them.
    width = max(2, len(str(len(contents.drafts))))
    named = _named(contents.drafts, width)

    events = _trail(session, programme, contents.records, period)
    checked = audit.verify(session)
    head = session.get(AuditChainHead, 1)
    reads = _reads(session, programme, period)
    reads_checked = access.verify(session)
    trail_name = f"{file_stem(translate(TRAIL, language))}.jsonl"
    verification_name = f"{file_stem(translate(VERIFICATION, language))}.json"
    reads_name = f"{file_stem(translate(READS, language))}.jsonl"
    trail = "".join(_line(e) + "\n" for e in events).encode()
    verification = json.dumps(
        {
            "programme": programme.code,
            "period": {"from": period.start, "to": period.end},
            "as_of": as_of.isoformat(),
            "trail": trail_name,
            "hash": "sha256(prev_hash + canonical JSON of the event without prev_hash and hash)",
            "chain": {
                "head_seq": head.count if head else 0,
                "head_hash": head.last_hash if head else GENESIS_HASH,
                "ok": checked.ok,
                "first_broken_seq": checked.first_broken_seq,
                "problem": checked.problem,
            },
            "count": len(events),
            "events": [{"seq": e.seq, "prev_hash": e.prev_hash, "hash": e.hash} for e in events],
            # Reads are logged apart, in batches chained as the trail's events are.
            "access_log": {
                "file": reads_name,
                "hash": "sha256(prev_hash + canonical JSON of the batch's seq and entries)",
                "batches": reads_checked.batches,
                "entries": reads_checked.entries,
                "last_hash": reads_checked.last_hash,
                "ok": reads_checked.ok,
                "first_broken_batch": reads_checked.first_broken_batch,
                "problem": reads_checked.problem,
                "count": len(reads),
            },
        },
        indent=2,
        default=str,
        ensure_ascii=False,
    ).encode()

    files: dict[str, bytes] = {name: draft.content for name, draft in named}
    files[trail_name] = trail
    files[verification_name] = verification
    files[reads_name] = "".join(
        audit.canonical_json({**access.entry_payload(r), "batch_seq": r.batch_seq}) + "\n"
        for r in reads
    ).encode()
    # The evidence files of the pack's records, a folder a record; the manifest holds their hashes.
    files.update(
        evidence.pack_files(
            session,
            evidence.owners_of(session, contents.records),
            file_stem(translate(EVIDENCE_FOLDER, language)),
        )
    )
    title = translate("Audit pack %(programme)s", language) % {"programme": programme.code}
    if period.said(language):
        title = f"{title} {period.said(language)}"
    index_name = f"{0:0{width}d} {file_stem(translate(INDEX, language))}.docx"
    files[index_name] = _index(
        title,
        programme,
        period,
        as_of,
        language,
        named,
        files,
        trail_name,
        verification_name,
        len(events),
        head,
        (reads_name, len(reads)),
    )
    manifest = {
        name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())
    }
    buffer = io.BytesIO()
    stamp = as_of.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content)
        archive.writestr(
            zipfile.ZipInfo(MANIFEST, date_time=stamp),
            json.dumps(
                {"programme": programme.code, "as_of": as_of.isoformat(), "files": manifest},
                indent=2,
                ensure_ascii=False,
            ),
        )
    return Draft(
        "audit-pack", title, programme.code, buffer.getvalue(), data_hash(manifest), programme.id
    )


def _index(
    title: str,
    programme: Programme,
    period: Period,
    as_of: datetime,
    language: str,
    named: list[tuple[str, Draft]],
    files: dict[str, bytes],
    trail_name: str,
    verification_name: str,
    count: int,
    head: AuditChainHead | None,
    reads: tuple[str, int],
) -> bytes:
    """The index: what the pack is of, then each file with its title, number and SHA-256."""
    rows = [
        [name, draft.title, draft.code, hashlib.sha256(files[name]).hexdigest()]
        for name, draft in named
    ]
    rows.append(
        [trail_name, translate(TRAIL, language), "", hashlib.sha256(files[trail_name]).hexdigest()]
    )
    rows.append(
        [
            verification_name,
            translate(VERIFICATION, language),
            "",
            hashlib.sha256(files[verification_name]).hexdigest(),
        ]
    )
    reads_name, reads_count = reads
    rows.append(
        [reads_name, translate(READS, language), "", hashlib.sha256(files[reads_name]).hexdigest()]
    )
    # The evidence files (<folder>/<record>/<id> <name>): each by its name and its record.
    listed = {row[0] for row in rows}
    for name in sorted(set(files) - listed):
        _, record, kept = name.split("/", 2)
        rows.append([name, kept.partition(" ")[2], record, hashlib.sha256(files[name]).hexdigest()])
    index_title = translate("Index of %(pack)s", language) % {"pack": title}
    issue = Issue(
        get_settings().organisation,
        index_title,
        f"IDX-{programme.code}",
        as_of,
        as_of,
        data_hash(rows),
        language,
    )
    doc = HouseDocument(issue, landscape=True)
    head_seq, head_hash = (head.count, head.last_hash) if head else (0, GENESIS_HASH)
    doc.table(
        [translate("Field", language), translate("Value", language)],
        [
            [translate("Programme", language), f"{programme.code} · {programme.name}"],
            [
                translate("Period", language),
                period.said(language) or translate("Every record", language),
            ],
            [translate("Records as of", language), moment(as_of, language)],
            [translate("Files", language), str(len(rows) + 2)],
            [translate("Events in the audit trail", language), str(count)],
            [translate("Chain head at issue", language), f"{head_seq} · {head_hash}"],
            [translate("Reads in the access log", language), str(reads_count)],
        ],
    )
    doc.paragraph(
        translate(
            "Each file's SHA-256 is taken over its bytes; %(manifest)s lists them too, with this "
            "index's. %(trail)s holds the events of the audit trail about the pack's records, "
            "one a line; %(verification)s gives the chain's head when the pack was issued and "
            "each event's position, previous hash and hash, so that the events can be "
            "re-verified on their own and compared with the chain.",
            language,
        )
        % {"manifest": MANIFEST, "trail": trail_name, "verification": verification_name}
    )
    doc.table(
        [
            translate("File", language),
            translate("Title", language),
            translate("Number", language),
            "SHA-256",
        ],
        rows,
    )
    return doc.to_bytes()
