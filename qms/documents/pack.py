"""The audit pack: the documents for a programme and period, the trail, its verification."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit import service as audit
from qms.audit.models import AuditEvent
from qms.deviations.repository import DeviationFilter
from qms.documents import reports
from qms.documents.base import Draft, data_hash
from qms.i18n import translate
from qms.permissions import Action, Actor, require
from qms.programmes import service as programmes


def audit_pack(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    programme_id: int,
    period_from: date | None = None,
    period_to: date | None = None,
) -> Draft:
    """A zip: the programme's documents for the period, its trail as JSON Lines, the chain's
    verification, and a manifest with every file's SHA-256."""
    from qms.documents import service

    require(actor, Action.audit_read)
    programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    filters = DeviationFilter(
        programme_id=programme.id, detected_from=period_from, detected_to=period_to
    )
    drafts = [
        service.deviation_register(session, actor, as_of, language, filters),
        reports.capa_status(session, actor, as_of, language, programme.id),
        service.master_list(session, actor, as_of, language),
    ]
    drafts += [
        reports.follow_up_report(session, actor, as_of, language, cohort.id)
        for cohort in programme.cohorts
    ]
    stmt = select(AuditEvent).where(AuditEvent.programme_id == programme.id)
    if period_from is not None:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(period_from, time(), UTC))
    if period_to is not None:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(period_to + timedelta(days=1), time(), UTC)
        )
    trail = "".join(
        audit.canonical_json({**audit.event_payload(e), "prev_hash": e.prev_hash, "hash": e.hash})
        + "\n"
        for e in session.scalars(stmt.order_by(AuditEvent.seq))
    ).encode()
    result = audit.verify(session)
    verification = json.dumps(
        {
            "ok": result.ok,
            "count": result.count,
            "head_count": result.head_count,
            "last_hash": result.last_hash,
            "first_broken_seq": result.first_broken_seq,
            "problem": result.problem,
            "verified_at": as_of.isoformat(),
        },
        indent=2,
    ).encode()
    files = {f"{d.kind}-{d.code}.docx": d.content for d in drafts}
    files["audit-trail.jsonl"] = trail
    files["audit-verification.json"] = verification
    manifest = {
        name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())
    }
    buffer = io.BytesIO()
    stamp = as_of.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content)
        archive.writestr(
            zipfile.ZipInfo("manifest.json", date_time=stamp),
            json.dumps(
                {"programme": programme.code, "as_of": as_of.isoformat(), "files": manifest},
                indent=2,
            ),
        )
    title = translate("Audit pack %(programme)s", language) % {"programme": programme.code}
    return Draft(
        "audit-pack", title, programme.code, buffer.getvalue(), data_hash(manifest), programme.id
    )
