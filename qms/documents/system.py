"""Documents of the quality system itself: the internal audit report, the management review
and its input (ISO 9001 9.3.2), and the evidence map of a framework."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.schemas import ReviewInputs
from qms.config import get_settings
from qms.documents.base import Draft, data_hash, day, signature_rows, title_in
from qms.documents.style import HouseDocument, Issue
from qms.frameworks.coverage import coverage
from qms.permissions import Action, Actor, require


def _inputs(doc: HouseDocument, inputs: ReviewInputs) -> None:
    for section in inputs.sections:
        doc.heading(f"{section.clause} {section.title}", level=2)
        if section.note:
            doc.paragraph(section.note)
        if len(section.rows) > 1:
            header, *rows = section.rows
            doc.table(header, rows, header=any(header))


def audit_report(
    session: Session, actor: Actor, as_of: datetime, language: str, audit_id: int
) -> Draft:
    """An internal audit: plan, checklist with answers, findings, deviations raised, signatures."""
    audit = audits.get(session, actor=actor, audit_id=audit_id)
    read = audits.to_read(session, audit)
    plan = [
        ("Number", audit.number),
        ("Status", audit.status.value),
        ("Scope", audit.scope),
        ("Criteria", ", ".join(audit.criteria)),
        ("Procedures", ", ".join(audit.procedure_codes)),
        ("Auditors", ", ".join(audit.auditors)),
        ("Auditees", ", ".join(audit.auditees)),
        ("Dates", f"{day(audit.start_on)} to {day(audit.end_on)}"),
    ]
    lines = [
        [
            str(line.position),
            line.question,
            line.procedure_code or "",
            line.requirement or "",
            line.conforms.value if line.conforms else "not answered",
            line.evidence,
            line.deviation_number or "",
        ]
        for line in read.lines
    ]
    findings = [
        ("Strong points", audit.strong_points),
        ("Points to improve", audit.improvement_points),
        ("Conclusion", audit.conclusion),
    ]
    signed = signature_rows(session, "internal_audit", audit.id)
    data = {"plan": plan, "lines": lines, "findings": findings, "signatures": signed}
    title = f"{title_in('Internal audit report', language)} {audit.number}"
    issue = Issue(
        get_settings().organisation, title, audit.number, as_of, as_of, data_hash(data), language
    )
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(audit.title, bold=True)
    doc.table(["", ""], [list(p) for p in plan], header=False)
    doc.heading("Checklist")
    doc.paragraph(
        f"{len(lines)} lines; {read.nonconforming} not conforming, each raised as a deviation."
    )
    doc.table(
        ["#", "Question", "Procedure", "Requirement", "Conforms", "Evidence", "Deviation"], lines
    )
    doc.heading("Findings")
    doc.table(["", ""], [list(f) for f in findings], header=False)
    doc.heading("Signatures")
    doc.table(["Meaning", "Signer", "Signed", "SHA-256 of what was signed"], signed)
    return Draft(
        "audit-report", title, audit.number, doc.to_bytes(), issue.data_sha256, audit.programme_id
    )


def management_review(
    session: Session, actor: Actor, as_of: datetime, language: str, review_id: int
) -> Draft:
    """A management review: participants, the inputs reviewed, decisions, conclusion, signature."""
    review = reviews.get(session, actor=actor, review_id=review_id)
    read = reviews.to_read(session, actor, review)
    head = [
        ("Number", review.number),
        ("Status", review.status.value),
        ("Period", f"{day(review.period_start)} to {day(review.period_end)}"),
        ("Held", day(review.held_on) or f"planned for {day(review.planned_on)}"),
        ("Participants", ", ".join(review.participants)),
    ]
    decisions = [
        [
            str(d.position),
            d.kind.value,
            d.text,
            d.action_number or "",
            d.action_status or "",
        ]
        for d in read.decisions
    ]
    signed = signature_rows(session, "management_review", review.id)
    data = {
        "head": head,
        "inputs": read.inputs.model_dump(mode="json"),
        "decisions": decisions,
        "conclusion": review.conclusion,
        "signatures": signed,
    }
    title = f"{title_in('Management review', language)} {review.number}"
    issue = Issue(
        get_settings().organisation, title, review.number, as_of, as_of, data_hash(data), language
    )
    doc = HouseDocument(issue)
    doc.paragraph(review.title, bold=True)
    doc.table(["", ""], [list(h) for h in head], header=False)
    doc.heading("Inputs (ISO 9001 9.3.2)")
    if not read.inputs_frozen:
        doc.paragraph("Not yet held: the inputs as the records stand on the issue date.")
    _inputs(doc, read.inputs)
    doc.heading("Decisions (ISO 9001 9.3.3)")
    doc.table(["#", "Kind", "Decision", "Action", "Action status"], decisions)
    doc.heading("Conclusion")
    doc.paragraph(review.conclusion or "Not yet concluded.")
    doc.heading("Signatures")
    doc.table(["Meaning", "Signer", "Signed", "SHA-256 of what was signed"], signed)
    return Draft(
        "management-review",
        title,
        review.number,
        doc.to_bytes(),
        issue.data_sha256,
        review.programme_id,
    )


def management_review_input(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    period_start: date,
    period_end: date,
    programme_id: int | None = None,
) -> Draft:
    """The management-review input for a period (ISO 9001 9.3.2 a-f), compiled from the records."""
    inputs = reviews.preview(
        session,
        actor=actor,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
    )
    name = title_in("Management review input", language)
    title = f"{name} {day(period_start)} to {day(period_end)}"
    code = f"MRI-{period_end:%Y%m%d}"
    issue = Issue(
        get_settings().organisation,
        title,
        code,
        as_of,
        as_of,
        data_hash(inputs.model_dump(mode="json")),
        language,
    )
    doc = HouseDocument(issue)
    _inputs(doc, inputs)
    return Draft(
        "management-review-input", title, code, doc.to_bytes(), issue.data_sha256, programme_id
    )


def evidence_map(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    framework: str,
    programme_id: int | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Draft:
    """The evidence map of a framework: per requirement what serves, evidences and gaps it."""
    require(actor, Action.framework_read)
    end = period_end or as_of.date()
    found = coverage(
        session,
        actor=actor,
        framework=framework,
        programme_id=programme_id,
        period_start=period_start or end - timedelta(days=365),
        period_end=end,
    )
    rows = [
        [
            r.ref,
            r.title,
            ", ".join(r.procedures),
            ", ".join(f"{e.kind} {e.count}" for e in r.evidence),
            ", ".join(r.open_deviations),
            "; ".join(r.gaps) if r.gap else "covered",
        ]
        for r in found.rows
    ]
    name = title_in("Evidence map", language)
    title = f"{name} {found.framework} {day(found.period_start)} to {day(found.period_end)}"
    code = f"EM-{found.framework}"
    issue = Issue(get_settings().organisation, title, code, as_of, as_of, data_hash(rows), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(f"{found.covered} requirements covered; {found.gaps} with a gap.", bold=True)
    doc.table(
        ["Requirement", "Title", "Procedures", "Evidence in the period", "Open deviations", "Gap"],
        rows,
    )
    return Draft("evidence-map", title, code, doc.to_bytes(), issue.data_sha256, programme_id)
