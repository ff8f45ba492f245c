"""The evidence files of a document's records: a table of them with their SHA-256, and their
bytes for the audit pack."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.actions.models import CorrectiveAction
from qms.audits.models import InternalAudit, ManagementReview
from qms.deviations.models import Deviation
from qms.documents.base import moment, people, person, table_or_none
from qms.documents.style import HouseDocument
from qms.evidence import repository
from qms.evidence.models import EvidenceFile
from qms.evidence.service import content
from qms.followups.models import FollowUp
from qms.i18n import N_, format_number, label, translate
from qms.pairs.models import Pair
from qms.procedures.models import Procedure

HEADING = N_("Evidence files")


def files(
    session: Session, owners: Sequence[tuple[str, int, str]]
) -> list[tuple[str, EvidenceFile]]:
    """Return the files of the records (kind, id, the number people read it by), each with its
    record's number, in the order the records are given."""
    found: list[tuple[str, EvidenceFile]] = []
    for record, record_id, number in owners:
        found.extend((number, f) for f in repository.files_of(session, record, [record_id]))
    return found


def rows(
    session: Session, owners: Sequence[tuple[str, int, str]], language: str
) -> list[list[str]]:
    """Return one row a file: its record, name, purpose, size, SHA-256, and who added it when."""
    names = people(session)
    return [
        [
            number,
            f.file_name,
            label(f.purpose, language) if f.purpose else "",
            format_number(f.size, language, digits=0),
            f.sha256,
            translate("%(moment)s by %(person)s", language)
            % {"moment": moment(f.uploaded_at, language), "person": person(names, f.uploaded_by)},
        ]
        for number, f in files(session, owners)
    ]


def headers(language: str) -> list[str]:
    """Return the table's column names."""
    return [
        translate(text, language)
        for text in (
            N_("Record"),
            N_("File"),
            N_("Purpose"),
            N_("Size in bytes"),
            N_("SHA-256"),
            N_("Added"),
        )
    ]


def section(doc: HouseDocument, table: list[list[str]], language: str) -> None:
    """Add the heading and the table of files (or "None recorded")."""
    doc.heading(translate(HEADING, language))
    table_or_none(doc, headers(language), table, language)


def pack_files(
    session: Session, owners: Sequence[tuple[str, int, str]], folder: str
) -> dict[str, bytes]:
    """Return the files for an audit pack, under the folder, one subfolder a record."""
    from qms.documents.pack import file_stem

    found: dict[str, bytes] = {}
    for number, f in files(session, owners):
        found[f"{folder}/{file_stem(number)}/{f.id} {f.file_name}"] = content(session, f)
    return found


def owners_of(session: Session, records: set[tuple[str, str]]) -> list[tuple[str, int, str]]:
    """Return the records that may hold files among a pack's records (the audit trail's kind
    and id), with the number people read each by: deviations, actions, audits' checklist lines,
    reviews, procedures, and the follow-ups of the pack's cohorts."""
    owners: list[tuple[str, int, str]] = []
    for entity, raw_id in sorted(records, key=lambda r: (r[0], int(r[1]) if r[1].isdigit() else 0)):
        if not raw_id.isdigit():
            continue
        record_id = int(raw_id)
        if entity == "deviation" and (deviation := session.get(Deviation, record_id)):
            owners.append(("deviation", record_id, deviation.number))
        elif entity == "action" and (action := session.get(CorrectiveAction, record_id)):
            owners.append(("action", record_id, action.number))
        elif entity == "internal_audit" and (audit := session.get(InternalAudit, record_id)):
            owners.extend(
                ("checklist_line", line.id, f"{audit.number} {line.position}")
                for line in audit.lines
            )
        elif entity == "management_review" and (review := session.get(ManagementReview, record_id)):
            owners.append(("management_review", record_id, review.number))
        elif entity == "procedure" and (procedure := session.get(Procedure, record_id)):
            owners.append(("procedure", record_id, procedure.code))
        elif entity == "cohort":
            follow_ups = session.scalars(
                select(FollowUp)
                .join(Pair, FollowUp.pair_id == Pair.id)
                .where(Pair.cohort_id == record_id)
                .order_by(FollowUp.id)
            )
            owners.extend(("follow_up", f.id, f.pair.code) for f in follow_ups)
    return owners
