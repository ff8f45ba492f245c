"""The competence matrix (ISO 9001 7.2, 7.3): each role's competences, who has each, who let it
expire and who lacks it, and the procedures still to be acknowledged as read and understood."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from qms.competence import service as competence
from qms.config import get_settings
from qms.documents.base import Draft, data_hash, day, people, person, table_or_none, title_in
from qms.documents.style import HouseDocument, Issue
from qms.i18n import N_, label, translate
from qms.permissions import Action, Actor
from qms.programmes import service as programmes

TITLE = N_("Competence matrix")
CODE = "REG-COMP"


def competence_matrix(
    session: Session, actor: Actor, as_of: datetime, language: str, programme_id: int | None = None
) -> Draft:
    """Who has what and what is missing, role by role (a programme's mentors when one is named),
    with the acknowledgements outstanding."""
    programme = None
    if programme_id is not None:
        programme = programmes.get_programme(session, actor=actor, programme_id=programme_id)
    on = as_of.date()
    matrix = competence.matrix(
        session, actor=actor, programme_id=programme.id if programme else None, on=on
    )
    names = people(session)
    titles = {c.code: c for c in matrix.competences}
    by_role: dict[str, list[list[str]]] = {}
    missing_total = 0
    for row in matrix.rows:
        who = row.person if row.role.value == "mentor" else person(names, row.person)
        cells = [
            f"{label(cell.state, language)} {day(cell.completed_on, language)}".strip()
            if cell.completed_on
            else label(cell.state, language)
            for cell in row.cells
        ]
        missing_total += row.missing
        by_role.setdefault(row.role.value, []).append([who, *cells, str(row.missing)])
    pending = (
        [
            competence.acknowledgement_to_read(a)
            for a in competence.list_acknowledgements(
                session, actor=actor, filters=competence.AcknowledgementFilter(pending=True)
            )
        ]
        if actor.can(Action.procedure_read)
        else []
    )
    outstanding = [
        [
            f"{a.code} v{a.number}",
            a.title,
            person(names, a.user),
            day(a.due_on, language),
            translate("yes", language) if a.overdue else translate("no", language),
        ]
        for a in pending
    ]
    title = title_in(TITLE, language)
    data = {"roles": by_role, "outstanding": outstanding, "on": on.isoformat()}
    issue = Issue(get_settings().organisation, title, CODE, as_of, as_of, data_hash(data), language)
    doc = HouseDocument(issue, landscape=True)
    doc.paragraph(
        translate(
            "As of %(day)s: %(people)s people, %(missing)s competences missing or expired, "
            "%(outstanding)s acknowledgements outstanding.",
            language,
        )
        % {
            "day": day(on, language),
            "people": len(matrix.rows),
            "missing": missing_total,
            "outstanding": len(outstanding),
        }
    )
    doc.heading(translate("Competences", language))
    table_or_none(
        doc,
        [
            translate("Code", language),
            translate("Role", language),
            translate("Title", language),
            translate("Obtained by", language),
            translate("Renewal (months)", language),
            translate("Required before matching", language),
        ],
        [
            [
                c.code,
                label(c.role, language),
                c.title,
                label(c.obtained_by, language),
                str(c.renewal_months or ""),
                translate("yes", language) if c.before_matching else translate("no", language),
            ]
            for c in matrix.competences
        ],
        language,
    )
    for role, rows in by_role.items():
        codes = [c for c in titles.values() if c.role.value == role]
        doc.heading(label(role, language))
        table_or_none(
            doc,
            [
                translate("Person", language),
                *[c.code for c in codes],
                translate("Missing", language),
            ],
            rows,
            language,
        )
    doc.heading(translate("Acknowledgements outstanding", language))
    table_or_none(
        doc,
        [
            translate("Procedure", language),
            translate("Title", language),
            translate("User", language),
            translate("Due", language),
            translate("Overdue", language),
        ],
        outstanding,
        language,
    )
    return Draft(
        "competence-matrix",
        title,
        CODE,
        doc.to_bytes(),
        issue.data_sha256,
        programme.id if programme else None,
    )
