"""The register of external providers (ISO 9001 8.4): each provider, what it provides, the
criteria it is evaluated on, its last evaluation's score and date, the next date, and the
deviations raised against it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from qms.config import get_settings
from qms.documents.base import Draft, data_hash, day, or_none, table_or_none, title_in
from qms.documents.style import HouseDocument, Issue
from qms.i18n import N_, label, translate
from qms.permissions import Actor
from qms.programmes import service as programmes
from qms.providers import service as providers

TITLE = N_("External providers")
CODE = "REG-EXT"


def provider_register(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int | None = None
) -> Draft:
    """Every external provider the reader may see (a programme's and the organisation's when a
    programme is named), by code."""
    programme = None
    if programme_id is not None:
        programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    today = as_of.date()
    overdue = translate("%(day)s (overdue)", language)
    scored = translate("%(score)s of 5 on %(day)s", language)
    whole = translate("The whole organisation", language)
    codes = {
        p.id: p.code for p in programmes.list_programmes(session, actor=actor, limit=200).items
    }
    rows: list[list[str]] = []
    details: list[tuple[str, list[tuple[str, str]], list[list[str]]]] = []
    for p in providers.every(session, actor=actor):
        if programme is not None and p.programme_id not in (None, programme.id):
            continue
        last = providers.latest(p)
        raised = list(providers.deviations(session, actor=actor, provider_id=p.id))
        next_on = (
            overdue % {"day": day(p.next_evaluation_on, language)}
            if providers.is_overdue(p, today)
            else day(p.next_evaluation_on, language)
        )
        rows.append(
            [
                p.code,
                p.name,
                label(p.kind, language),
                codes.get(p.programme_id, "") if p.programme_id else whole,
                label(p.status, language),
                scored % {"score": last.score, "day": day(last.evaluated_on, language)}
                if last
                else "",
                next_on,
                ", ".join(d.number for d in raised),
            ]
        )
        details.append(
            (
                f"{p.code} · {p.name}",
                [
                    (translate("What it provides", language), p.provides),
                    (translate("Criteria", language), p.criteria),
                    (translate("Contact point", language), or_none(p.contact, language)),
                    (translate("Status", language), label(p.status, language)),
                    (
                        translate("Reason for the status", language),
                        or_none(p.status_reason, language),
                    ),
                ],
                [
                    [
                        day(e.evaluated_on, language),
                        str(e.score),
                        label(e.decision, language),
                        e.summary,
                        day(e.next_evaluation_on, language),
                    ]
                    for e in p.evaluations
                ],
            )
        )
    title = title_in(TITLE, language)
    data = {"rows": rows, "details": [[n, k, e] for n, k, e in details]}
    issue = Issue(get_settings().organisation, title, CODE, as_of, as_of, data_hash(data), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translate("%(count)s external providers; %(due)s evaluations overdue.", language)
        % {
            "count": len(rows),
            "due": sum(
                1
                for p in providers.every(session, actor=actor)
                if providers.is_overdue(p, today)
                and (programme is None or p.programme_id in (None, programme.id))
            ),
        }
    )
    table_or_none(
        doc,
        [
            translate("Code", language),
            translate("Name", language),
            translate("Kind", language),
            translate("Programme", language),
            translate("Status", language),
            translate("Last evaluation", language),
            translate("Next evaluation", language),
            translate("Deviations raised", language),
        ],
        rows,
        language,
    )
    for name, facts, evaluations in details:
        doc.heading(name, 2)
        doc.definitions(facts)
        table_or_none(
            doc,
            [
                translate("Evaluated on", language),
                translate("Score", language),
                translate("Decision", language),
                translate("Summary", language),
                translate("Next evaluation", language),
            ],
            evaluations,
            language,
        )
    return Draft(
        "external-providers",
        title,
        CODE,
        doc.to_bytes(),
        issue.data_sha256,
        programme.id if programme else None,
    )
