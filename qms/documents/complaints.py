"""The register of complaints (ISO 9001 9.1.2, 10.2): each complaint with the days it was
received, acknowledged and answered against their limits, its outcome and the deviation it
opened. Who complained is personal data and is never in it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from qms.complaints import service as complaints
from qms.complaints.service import ComplaintFilter
from qms.config import get_settings
from qms.documents.base import Draft, data_hash, day, table_or_none, title_in
from qms.documents.style import HouseDocument, Issue
from qms.i18n import N_, label, translate, translations
from qms.pagination import MAX_LIMIT, each
from qms.periods import check_range
from qms.permissions import Actor
from qms.programmes import service as programmes

TITLE = N_("Complaints register")
CODE = "REG-CMP"


def _against(done: date | None, limit: date, today: date, language: str) -> str:
    """A step's day against its limit: the day and whether in time, or still open and late."""
    if done is None:
        if limit < today:
            return translate("not yet; due %(day)s (overdue)", language) % {
                "day": day(limit, language)
            }
        return translate("not yet; due %(day)s", language) % {"day": day(limit, language)}
    if done <= limit:
        return translate("%(day)s (in time; due %(limit)s)", language) % {
            "day": day(done, language),
            "limit": day(limit, language),
        }
    return translate("%(day)s (late; due %(limit)s)", language) % {
        "day": day(done, language),
        "limit": day(limit, language),
    }


def complaint_register(
    session: Session,
    actor: Actor,
    as_of: datetime,
    language: str,
    programme_id: int | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Draft:
    """Every complaint the reader may see, received in the period (all when none is given)."""
    check_range(period_start, period_end)
    programme = None
    if programme_id is not None:
        programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    today = as_of.date()
    codes = {
        p.id: p.code for p in programmes.list_programmes(session, actor=actor, limit=200).items
    }
    filters = ComplaintFilter(
        programme_id=programme_id,
        received_from=period_start,
        received_to=period_end,
        sort="number",
    )
    every = list(
        each(
            lambda after: complaints.list_complaints(
                session, actor=actor, filters=filters, limit=MAX_LIMIT, cursor=after
            )
        )
    )
    rows: list[list[str]] = []
    on_time = answered = upheld = 0
    for c in every:
        acknowledged_on = c.acknowledged_at.date() if c.acknowledged_at else None
        answered_on = c.answered_at.date() if c.answered_at else None
        if answered_on is not None:
            answered += 1
            on_time += answered_on <= c.answer_due_on
        if c.outcome is not None and c.outcome.value in ("upheld", "partly_upheld"):
            upheld += 1
        open_step = c.status.value in ("received", "acknowledged")
        rows.append(
            [
                c.number,
                codes.get(c.programme_id, ""),
                day(c.received_on, language),
                label(c.channel, language),
                label(c.complainant_category, language),
                c.subject,
                _against(
                    acknowledged_on,
                    c.acknowledge_due_on,
                    today if open_step else date.max,
                    language,
                )
                if c.status.value != "withdrawn" or acknowledged_on
                else "",
                _against(answered_on, c.answer_due_on, today if open_step else date.max, language)
                if c.status.value != "withdrawn" or answered_on
                else "",
                label(c.status, language),
                label(c.outcome, language) if c.outcome else "",
                c.deviation.number if c.deviation else "",
            ]
        )
    title = title_in(TITLE, language)
    data = {"rows": rows, "period": [str(period_start), str(period_end)]}
    issue = Issue(get_settings().organisation, title, CODE, as_of, as_of, data_hash(data), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translations(language).ngettext(
            "%(count)s complaint; %(answered)s answered, %(on_time)s of them in time; "
            "%(upheld)s upheld or partly upheld.",
            "%(count)s complaints; %(answered)s answered, %(on_time)s of them in time; "
            "%(upheld)s upheld or partly upheld.",
            len(rows),
        )
        % {"count": len(rows), "answered": answered, "on_time": on_time, "upheld": upheld}
    )
    doc.paragraph(
        translate(
            "Who made each complaint is personal data, kept apart and not shown in this register.",
            language,
        )
    )
    table_or_none(
        doc,
        [
            translate("Number", language),
            translate("Programme", language),
            translate("Received", language),
            translate("Channel", language),
            translate("From", language),
            translate("Subject", language),
            translate("Acknowledged", language),
            translate("Answered", language),
            translate("Status", language),
            translate("Outcome", language),
            translate("Deviation opened", language),
        ],
        rows,
        language,
    )
    return Draft(
        "complaints-register",
        title,
        CODE,
        doc.to_bytes(),
        issue.data_sha256,
        programme.id if programme else None,
    )
