"""The register of risks and opportunities (ISO 9001 6.1): the matrix before and after treatment
as a chart, each risk with its rating, treatment, the actions that treat it and their state, and
the deviations in which it came true."""

from __future__ import annotations

import io
from datetime import datetime

from docx.oxml.ns import qn
from docx.shared import Emu, Pt
from sqlalchemy.orm import Session

from qms.charts import drawing
from qms.config import get_settings
from qms.documents.base import (
    Draft,
    data_hash,
    day,
    or_none,
    people,
    person,
    table_or_none,
    title_in,
)
from qms.documents.style import HouseDocument, Issue
from qms.i18n import N_, label, translate
from qms.permissions import Actor
from qms.programmes import service as programmes
from qms.risks import chart, repository, service
from qms.risks.repository import RiskFilter

TITLE = N_("Risk and opportunity register")
CODE = "REG-RISK"


def _rating(likelihood: int | None, consequence: int | None, language: str) -> str:
    if likelihood is None or consequence is None:
        return ""
    score = likelihood * consequence
    return translate("%(l)s × %(c)s = %(score)s (%(level)s)", language) % {  # noqa: RUF001
        "l": likelihood,
        "c": consequence,
        "score": score,
        "level": label(service.level(score).value, language),
    }


def add_matrix(doc: HouseDocument, matrix: chart.Matrix, language: str) -> bool:
    """Add the matrix chart (PNG at print resolution, with its text alternative), the sentence
    that says what it shows, and the grids as tables. Return whether a picture was added."""
    drawn = False
    if drawing() and not matrix.empty():
        width = doc.text_width
        picture = doc.doc.add_picture(io.BytesIO(chart.png(matrix)), width=Emu(width))
        doc.doc.paragraphs[-1].paragraph_format.keep_with_next = True
        properties = picture._inline.find(qn("wp:docPr"))
        properties.set("title", f"{matrix.title} — {matrix.caption}")
        properties.set("descr", matrix.summary)
        drawn = True
    note = doc.doc.add_paragraph()
    run = note.add_run(matrix.summary)
    run.italic = True
    run.font.size = Pt(8.5)
    for title, headers, rows in matrix.tables():
        doc.paragraph(title, bold=True)
        doc.table(headers, rows)
    return drawn


def risk_register(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int | None = None
) -> Draft:
    """Every risk and opportunity the reader may see (one programme's when named), by number."""
    programme = None
    if programme_id is not None:
        programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    risks = list(
        service.register(
            session,
            actor=actor,
            filters=RiskFilter(programme_id=programme.id if programme else None),
        )
    )
    names = people(session)
    codes = {
        p.id: p.code for p in programmes.list_programmes(session, actor=actor, limit=200).items
    }
    whole = translate("The whole organisation", language)
    rows: list[list[str]] = []
    details: list[tuple[str, list[tuple[str, str]], list[list[str]]]] = []
    for r in risks:
        realised = repository.realised_in(session, r.id)
        rows.append(
            [
                r.number,
                label(r.kind.value, language),
                codes.get(r.programme_id, "") if r.programme_id else whole,
                r.title,
                person(names, r.owner.name) if r.owner else "",
                label(r.status.value, language),
                _rating(r.likelihood, r.consequence, language),
                label(r.treatment.value, language) if r.treatment else "",
                _rating(r.residual_likelihood, r.residual_consequence, language),
                day(r.review_on, language),
                ", ".join(f"{a.number} ({label(a.status.value, language)})" for a in r.actions),
            ]
        )
        details.append(
            (
                f"{r.number} · {r.title}",
                [
                    (translate("Description", language), r.description),
                    (translate("Cause", language), or_none(r.cause, language)),
                    (translate("Treatment plan", language), or_none(r.treatment_plan, language)),
                    (
                        translate("Reason for the treatment", language),
                        or_none(r.treatment_reason, language),
                    ),
                    (
                        translate("Deviations that realised it", language),
                        or_none(", ".join(d.number for d in realised), language),
                    ),
                ],
                [
                    [
                        a.number,
                        label(a.type.value, language),
                        a.title,
                        person(names, a.owner.name),
                        day(a.due_on, language),
                        label(a.status.value, language),
                    ]
                    for a in r.actions
                ],
            )
        )
    matrix = chart.build(
        risks,
        scale=service.scale(),
        level_of=service.level,
        language=language,
        as_of=as_of,
    )
    title = title_in(TITLE, language)
    data = {
        "rows": rows,
        "details": [[n, k, a] for n, k, a in details],
        "matrix": matrix.data(),
    }
    issue = Issue(get_settings().organisation, title, CODE, as_of, as_of, data_hash(data), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translate(
            # Counts as labelled figures: "1 opportunities" never reads in any language.
            "Risks: %(risks)s · opportunities: %(opportunities)s · open or treated: %(open)s · "
            "realised: %(realised)s",
            language,
        )
        % {
            "risks": sum(1 for r in risks if r.kind.value == "risk"),
            "opportunities": sum(1 for r in risks if r.kind.value == "opportunity"),
            "open": sum(1 for r in risks if r.status in repository.OPEN_STATUSES),
            "realised": sum(1 for r in risks if r.status.value == "realised"),
        }
    )
    doc.heading(translate("Risk matrix", language))
    add_matrix(doc, matrix, language)
    doc.heading(translate("The register", language))
    table_or_none(
        doc,
        [
            translate("Number", language),
            translate("Kind", language),
            translate("Programme", language),
            translate("Title", language),
            translate("Owner", language),
            translate("Status", language),
            translate("Rating before treatment", language),
            translate("Treatment", language),
            translate("Rating after treatment", language),
            translate("Next review", language),
            translate("Actions", language),
        ],
        rows,
        language,
    )
    for name, facts, treated_by in details:
        doc.heading(name, 2)
        doc.definitions(facts)
        table_or_none(
            doc,
            [
                translate("Action", language),
                translate("Type", language),
                translate("Title", language),
                translate("Owner", language),
                translate("Due", language),
                translate("Status", language),
            ],
            treated_by,
            language,
        )
    return Draft(
        "risk-register",
        title,
        CODE,
        doc.to_bytes(),
        issue.data_sha256,
        programme.id if programme else None,
    )
