"""The quality objectives (ISO 9001 6.2): each objective's target, owner, due date and status,
the indicators that measure it planned against actual, and the plan to reach it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from qms.config import get_settings
from qms.documents.base import (
    Draft,
    data_hash,
    day,
    number,
    or_none,
    people,
    person,
    table_or_none,
    title_in,
)
from qms.documents.reports import PERCENT
from qms.documents.style import HouseDocument, Issue
from qms.i18n import N_, label, translate
from qms.objectives import service as objectives
from qms.objectives.models import QualityObjective
from qms.objectives.repository import ObjectiveFilter
from qms.objectives.schemas import ObjectiveRead
from qms.permissions import Actor
from qms.programmes import service as programmes

TITLE = N_("Quality objectives")
CODE = "REG-OBJ"


def _with_unit(value: float | None, unit: str, language: str) -> str:
    """A figure with its unit: 75 %, 12, 4.1."""
    if value is None:
        return ""
    shown = number(value, language)
    return translate(PERCENT, language) % {"value": shown} if unit == "percent" else shown


def _every(
    session: Session, actor: Actor, programme_id: int | None, as_of: datetime
) -> list[ObjectiveRead]:
    """Every objective the reader may see, by number; a programme's and the organisation's
    when a programme is named."""
    found: list[QualityObjective] = []
    cursor = None
    while True:
        page = objectives.list_objectives(
            session, actor=actor, filters=ObjectiveFilter(sort="number"), limit=200, cursor=cursor
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return [
        objectives.to_read(session, o, as_of.date())
        for o in found
        if programme_id is None or o.programme_id in (None, programme_id)
    ]


def objective_register(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int | None = None
) -> Draft:
    """The quality objectives with their indicators as of the time, and their plans."""
    programme = None
    if programme_id is not None:
        programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    names = people(session)
    whole = translate("The whole organisation", language)
    rows = _every(session, actor, programme_id, as_of)
    summary = [
        [
            o.number,
            o.title,
            o.programme_code or whole,
            person(names, o.owner),
            day(o.due_on, language),
            label(o.status, language),
            label("at_risk", language) if o.at_risk else "",
        ]
        for o in rows
    ]
    details = []
    for o in rows:
        facts = [
            (translate("Target", language), o.target),
            (translate("Owner", language), person(names, o.owner)),
            (translate("Due", language), day(o.due_on, language)),
            (translate("Status", language), label(o.status, language)),
            (
                translate("At risk", language),
                "; ".join(label(r, language) for r in o.at_risk_reasons) or label("no", language),
            ),
            (translate("What will be done", language), o.plan),
            (translate("Resources", language), or_none(o.resources, language)),
            (
                translate("Who is responsible", language),
                o.responsible or person(names, o.owner),
            ),
            (
                translate("How the results will be evaluated", language),
                or_none(o.evaluation, language),
            ),
        ]
        if o.result_note:
            facts.append((translate("Result", language), o.result_note))
        if o.withdrawal_reason:
            facts.append((translate("Reason for withdrawal", language), o.withdrawal_reason))
        measured = [
            [
                f"{i.programme_code} · {i.code} · {i.name}",
                _with_unit(i.planned, i.unit, language),
                _with_unit(i.threshold, i.unit, language),
                _with_unit(i.actual, i.unit, language),
                label(i.status, language),
            ]
            for i in o.indicators
        ]
        details.append((f"{o.number} · {o.title}", facts, measured))
    title = title_in(TITLE, language)
    data = {"rows": summary, "details": [[n, f, m] for n, f, m in details]}
    issue = Issue(get_settings().organisation, title, CODE, as_of, as_of, data_hash(data), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translate(
            "%(count)s quality objectives; %(risk)s at risk; indicators as of %(day)s.", language
        )
        % {
            "count": number(len(rows), language),
            "risk": number(sum(1 for o in rows if o.at_risk), language),
            "day": day(as_of.date(), language),
        }
    )
    table_or_none(
        doc,
        [
            translate("Number", language),
            translate("Title", language),
            translate("Programme", language),
            translate("Owner", language),
            translate("Due", language),
            translate("Status", language),
            translate("At risk", language),
        ],
        summary,
        language,
    )
    for name, facts, measured in details:
        doc.heading(name, 2)
        doc.definitions(facts)
        table_or_none(
            doc,
            [
                translate("Indicator", language),
                translate("Planned", language),
                translate("Threshold", language),
                translate("Actual", language),
                translate("Status", language),
            ],
            measured,
            language,
        )
    return Draft(
        "quality-objectives",
        title,
        CODE,
        doc.to_bytes(),
        issue.data_sha256,
        programme.id if programme else None,
    )
