"""Documents of the quality system itself: the internal audit report, the management review
and its input (ISO 9001 9.3.2), and the evidence map of a framework."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.inputs import say
from qms.audits.models import AuditStatus, ReviewStatus
from qms.audits.schemas import ReviewInputs
from qms.charts import Chart
from qms.charts import records as charts
from qms.charts.document import add_chart
from qms.comments.models import CommentedRecord
from qms.config import get_settings
from qms.documents import comments, evidence
from qms.documents.base import (
    Draft,
    data_hash,
    day,
    not_recorded,
    number,
    people,
    person,
    signed_headers,
    signed_rows,
    table_or_none,
    title_in,
)
from qms.documents.style import HouseDocument, Issue
from qms.frameworks.catalogue import requirements
from qms.frameworks.coverage import coverage
from qms.i18n import N_, label, translate
from qms.permissions import Action, Actor, require
from qms.procedures import service as procedures

# What every internal audit sets out to do (ISO 9001 9.2.1, ISO 19011 5.2): said on its report.
AUDIT_OBJECTIVES = N_(
    "Determine whether the activities in the scope conform to the criteria and the procedures "
    "named below and to the organisation's own requirements, and whether they are effectively "
    "implemented and maintained (ISO 9001 9.2.1)."
)
# Who receives an audit report (ISO 9001 9.2.2 c; ISO 19011 6.5.2).
AUDIT_DISTRIBUTION = N_(
    "The auditees (%(auditees)s), the auditors (%(auditors)s), the quality lead, and the "
    "management review as an input (ISO 9001 9.3.2 c5)."
)


def _inputs(doc: HouseDocument, inputs: ReviewInputs, language: str) -> None:
    for section in inputs.sections:
        doc.heading(f"{section.clause} {say(section.title, language)}", level=2)
        if section.note:
            doc.paragraph(say(section.note, language))
        if len(section.rows) > 1:
            header, *rows = section.rows
            doc.table(
                [say(cell, language) for cell in header],
                [[say(cell, language) for cell in row] for row in rows],
                header=any(header),
            )


def _trends_of(
    session: Session,
    actor: Actor,
    programme_id: int | None,
    start: date,
    end: date,
    as_of: datetime,
    language: str,
) -> Chart | None:
    """The period's trends by month (the chart's figures, a table where it is not drawn)."""
    return charts.trends(
        session,
        actor=actor,
        programme_id=programme_id,
        start=start,
        end=end,
        as_of=as_of,
        language=language,
    )


def _trends(doc: HouseDocument, trends: Chart | None) -> None:
    """The period's trends by month (ISO 9001 9.3.2 c): the chart and its figures."""
    if trends is None or trends.empty():
        return
    doc.heading(trends.title, level=2)
    add_chart(doc, trends)


def _pairs(rows: list[tuple[str, str]], language: str) -> list[list[str]]:
    """Rows of a two-column table of labels (marked with N_) and values, the labels translated."""
    return [[translate(name, language), value] for name, value in rows]


def _from_to(start: date | None, end: date | None, language: str) -> str:
    return translate("%(start)s to %(end)s", language) % {
        "start": day(start, language),
        "end": day(end, language),
    }


def audit_report(
    session: Session, actor: Actor, as_of: datetime, language: str, audit_id: int
) -> Draft:
    """An internal audit: plan, checklist with answers, findings, deviations raised, signatures."""
    audit = audits.get(session, actor=actor, audit_id=audit_id)
    read = audits.to_read(session, audit)
    names = people(session)
    catalogue = requirements()
    titles = {}
    for code in audit.procedure_codes:
        procedure = procedures.get_by_code(session, code)
        version = procedures.effective(procedure) if procedure else None
        if procedure is not None:
            version = version or procedure.versions[-1]
            titles[code] = version.title
    reported = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "internal_audit",
            AuditEvent.entity_id == str(audit.id),
            AuditEvent.action == "internal_audit.reported",
        )
        .order_by(AuditEvent.seq.desc())
    ).first()
    auditors = ", ".join(person(names, a) for a in audit.auditors)
    auditees = ", ".join(person(names, a) for a in audit.auditees)
    plan = [
        (N_("Number"), audit.number),
        (N_("Status"), label(audit.status, language)),
        (N_("Objectives"), translate(AUDIT_OBJECTIVES, language)),
        (N_("Scope"), audit.scope),
        (
            N_("Criteria"),
            "\n".join(
                f"{ref} — {translate(catalogue[ref].title, language)}" if ref in catalogue else ref
                for ref in audit.criteria
            )
            or not_recorded(language),
        ),
        (
            N_("Procedures"),
            "\n".join(
                f"{code} — {titles[code]}" if code in titles else code
                for code in audit.procedure_codes
            )
            or not_recorded(language),
        ),
        (N_("Auditors"), auditors),
        (N_("Auditees"), auditees),
        (N_("Audit dates"), _from_to(audit.start_on, audit.end_on, language)),
        (
            N_("Report date"),
            day(audit.reported_at, language) or translate("Not yet reported", language),
        ),
        (
            N_("Reported by"),
            person(names, reported.actor) if reported else translate("Not yet reported", language),
        ),
        (
            N_("Distribution"),
            translate(AUDIT_DISTRIBUTION, language)
            % {"auditees": auditees or not_recorded(language), "auditors": auditors},
        ),
    ]
    lines = [
        [
            str(line.position),
            line.question,
            line.procedure_code or "",
            line.requirement or "",
            label(line.conforms, language)
            if line.conforms
            else translate("not answered", language),
            line.evidence,
            line.deviation_number or "",
        ]
        for line in read.lines
    ]
    findings = [
        (N_("Strong points"), audit.strong_points),
        (N_("Points to improve"), audit.improvement_points),
        (N_("Conclusion"), audit.conclusion),
    ]
    signed = signed_rows(session, [("internal_audit", audit.id, audit.number)], language)
    files = evidence.rows(
        session,
        [("checklist_line", line.id, f"{audit.number} {line.position}") for line in audit.lines],
        language,
    )
    remarks = comments.rows(
        session, [(CommentedRecord.internal_audit, audit.id, audit.number)], language
    )
    data = {
        "plan": plan,
        "lines": lines,
        "findings": findings,
        "signatures": signed,
        **({"comments": remarks} if remarks else {}),
        **({"evidence": files} if files else {}),
    }
    name = title_in("Internal audit report", language)
    title = f"{name} {audit.number}"
    issue = Issue(
        get_settings().organisation,
        title,
        audit.number,
        as_of,
        as_of,
        data_hash(data),
        language,
        draft=audit.status in (AuditStatus.planned, AuditStatus.in_progress),
    )
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(audit.title, bold=True)
    doc.table([translate("Field", language), translate("Value", language)], _pairs(plan, language))
    doc.heading(translate("Checklist", language))
    doc.paragraph(
        translate(
            "%(lines)s lines; %(nonconforming)s not conforming, each raised as a deviation.",
            language,
        )
        % {"lines": len(lines), "nonconforming": read.nonconforming}
    )
    doc.table(
        [
            "#",
            translate("Question", language),
            translate("Procedure", language),
            translate("Requirement", language),
            translate("Conforms", language),
            translate("Evidence", language),
            translate("Deviation", language),
        ],
        lines,
    )
    doc.heading(translate("Findings", language))
    doc.table(
        [translate("Finding", language), translate("Text", language)],
        [[name, value or not_recorded(language)] for name, value in _pairs(findings, language)],
    )
    evidence.section(doc, files, language)
    comments.section(doc, remarks, language)
    doc.heading(translate("Signatures", language))
    table_or_none(doc, signed_headers(language), signed, language)
    # The auditors sign the report they wrote; where the records hold no auditor's signature,
    # the printed report carries a line for each to sign by hand.
    signers = {row[2] for row in signed}
    unsigned = [person(names, a) for a in audit.auditors if person(names, a) not in signers]
    if unsigned:
        doc.heading(translate("Auditor's signature", language), level=2)
        for auditor in unsigned:
            doc.paragraph(
                translate(
                    "%(auditor)s, auditor — signature: ______________________  date: ____________",
                    language,
                )
                % {"auditor": auditor}
            )
    return Draft(
        "audit-report", title, audit.number, doc.to_bytes(), issue.data_sha256, audit.programme_id
    )


def management_review(
    session: Session, actor: Actor, as_of: datetime, language: str, review_id: int
) -> Draft:
    """A management review: participants, the inputs reviewed, decisions, conclusion, signature."""
    review = reviews.get(session, actor=actor, review_id=review_id)
    read = reviews.to_read(session, actor, review)
    names = people(session)
    head = [
        (N_("Number"), review.number),
        (N_("Status"), label(review.status, language)),
        (N_("Period"), _from_to(review.period_start, review.period_end, language)),
        (
            N_("Held"),
            day(review.held_on, language)
            or translate("planned for %(day)s", language)
            % {"day": day(review.planned_on, language)},
        ),
        (N_("Participants"), ", ".join(person(names, p) for p in review.participants)),
    ]
    # A decision is carried out by the action it opened: its owner and due date are the
    # decision's (ISO 9001 9.3.3).
    opened = {
        a.id: a
        for a in session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.id.in_([d.action_id for d in review.decisions if d.action_id])
            )
        )
    }
    decisions = []
    for d in review.decisions:
        action = opened.get(d.action_id) if d.action_id else None
        decisions.append(
            [
                str(d.position),
                label(d.kind, language),
                d.text,
                person(names, d.decided_by),
                action.number if action else translate("no action opened", language),
                person(names, action.owner.name) if action else "",
                day(action.due_on, language) if action else "",
                label(action.status, language) if action else "",
            ]
        )
    signed = signed_rows(session, [("management_review", review.id, review.number)], language)
    files = evidence.rows(session, [("management_review", review.id, review.number)], language)
    remarks = comments.rows(
        session, [(CommentedRecord.management_review, review.id, review.number)], language
    )
    trends = _trends_of(
        session, actor, review.programme_id, review.period_start, review.period_end, as_of, language
    )
    data = {
        "head": head,
        "inputs": read.inputs.model_dump(mode="json"),
        "decisions": decisions,
        "conclusion": review.conclusion,
        "signatures": signed,
        **({"trends": trends.data()} if trends else {}),
        **({"comments": remarks} if remarks else {}),
        **({"evidence": files} if files else {}),
    }
    name = title_in("Management review", language)
    title = f"{name} {review.number}"
    issue = Issue(
        get_settings().organisation,
        title,
        review.number,
        as_of,
        as_of,
        data_hash(data),
        language,
        draft=review.status is ReviewStatus.planned,
    )
    doc = HouseDocument(issue)
    doc.paragraph(review.title, bold=True)
    doc.table([translate("Field", language), translate("Value", language)], _pairs(head, language))
    doc.heading(translate("Inputs (ISO 9001 9.3.2)", language))
    if not read.inputs_frozen:
        doc.paragraph(
            translate("Not yet held: the inputs as the records stand on the issue date.", language)
        )
    _inputs(doc, read.inputs, language)
    _trends(doc, trends)
    doc.heading(translate("Decisions (ISO 9001 9.3.3)", language))
    table_or_none(
        doc,
        [
            "#",
            translate("Kind", language),
            translate("Decision", language),
            translate("Decided by", language),
            translate("Action", language),
            translate("Owner", language),
            translate("Due", language),
            translate("Action status", language),
        ],
        decisions,
        language,
    )
    doc.heading(translate("Conclusion", language))
    doc.paragraph(review.conclusion or translate("Not yet concluded.", language))
    evidence.section(doc, files, language)
    comments.section(doc, remarks, language)
    doc.heading(translate("Signatures", language))
    table_or_none(doc, signed_headers(language), signed, language)
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
    title = translate("Management review input %(start)s to %(end)s", language) % {
        "start": day(period_start, language),
        "end": day(period_end, language),
    }
    code = f"MRI-{period_end:%Y%m%d}"
    trends = _trends_of(session, actor, programme_id, period_start, period_end, as_of, language)
    issue = Issue(
        get_settings().organisation,
        title,
        code,
        as_of,
        as_of,
        data_hash(
            {"inputs": inputs.model_dump(mode="json"), "trends": trends.data()}
            if trends
            else inputs.model_dump(mode="json")
        ),
        language,
    )
    doc = HouseDocument(issue)
    _inputs(doc, inputs, language)
    _trends(doc, trends)
    return Draft(
        "management-review-input", title, code, doc.to_bytes(), issue.data_sha256, programme_id
    )


# How many records of an evidence map's count are named before "and N more".
SHOWN_RECORDS = 10


def _evidence(kind: str, count: int, records: list[str], language: str) -> str:
    """One kind of evidence: its count and the records behind it (at most ten, then how many
    more): "follow-ups held 3 — PAIR-0001 2025-08-02, …"."""
    shown = ", ".join(records[:SHOWN_RECORDS])
    if len(records) > SHOWN_RECORDS:
        shown = translate("%(records)s and %(more)s more", language) % {
            "records": shown,
            "more": number(len(records) - SHOWN_RECORDS, language),
        }
    counted = f"{translate(kind, language)} {number(count, language)}"
    return f"{counted} — {shown}" if shown else counted


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
            translate(r.title, language),
            ", ".join(r.procedures),
            "\n".join(_evidence(e.kind, e.count, e.records, language) for e in r.evidence)
            or not_recorded(language),
            ", ".join(r.open_deviations),
            "; ".join(translate(gap, language) for gap in r.gaps)
            if r.gap
            else translate("covered", language),
        ]
        for r in found.rows
    ]
    title = translate("Evidence map %(framework)s %(start)s to %(end)s", language) % {
        "framework": found.framework,
        "start": day(found.period_start, language),
        "end": day(found.period_end, language),
    }
    code = f"EM-{found.framework}"
    issue = Issue(get_settings().organisation, title, code, as_of, as_of, data_hash(rows), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translate("%(covered)s requirements covered; %(gaps)s with a gap.", language)
        % {"covered": found.covered, "gaps": found.gaps},
        bold=True,
    )
    doc.table(
        [
            translate("Requirement", language),
            translate("Title", language),
            translate("Procedures", language),
            translate("Evidence in the period", language),
            translate("Open deviations", language),
            translate("Gap", language),
        ],
        rows,
    )
    return Draft("evidence-map", title, code, doc.to_bytes(), issue.data_sha256, programme_id)
