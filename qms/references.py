"""Records by the numbers and codes people write, and back.

The audit trail keeps a record as its kind and internal id ("deviation", "12"); a person knows it
as DEV-2026-0012, CA-2026-0002, PAIR-0015, P-0042, IA-2026-0001, MR-2026-0001, a procedure's code
(PR-05, or PR-05 v2 for one of its versions), a programme's code (VIA-JOB), a cohort as its
programme's code and its own (VIA-JOB 2025), an indicator's or an instrument's code, or a user's
name. `find` turns what someone typed into the records it names, `numbers` turns the records an
audit trail shows back into what people read. A reader of the domains' tables, as documents are:
no domain imports it, and the audit trail stays free of the domains.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from qms.accounts.models import User
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audit.repository import about
from qms.audits.models import InternalAudit, ManagementReview
from qms.complaints.models import Complaint
from qms.context.models import ContextIssue, InterestedParty
from qms.deviations.models import Deviation
from qms.evaluations.models import Instrument
from qms.indicators.models import IndicatorDefinition
from qms.pairs.models import Pair
from qms.participants.models import Participant
from qms.procedures.models import Procedure, ProcedureVersion
from qms.programmes.models import Cohort, Programme

# A record as the audit trail keeps it: its kind and its id as text.
Key = tuple[str, str]

# The records that carry a number or code of their own, by the kind the audit trail names them.
CODED: dict[str, tuple[Any, InstrumentedAttribute[Any]]] = {
    "deviation": (Deviation, Deviation.number),
    "action": (CorrectiveAction, CorrectiveAction.number),
    "internal_audit": (InternalAudit, InternalAudit.number),
    "management_review": (ManagementReview, ManagementReview.number),
    "pair": (Pair, Pair.code),
    "participant": (Participant, Participant.code),
    "programme": (Programme, Programme.code),
    "procedure": (Procedure, Procedure.code),
    "instrument": (Instrument, Instrument.code),
    "indicator": (IndicatorDefinition, IndicatorDefinition.code),
    "user": (User, User.name),
    "context_issue": (ContextIssue, ContextIssue.number),
    "complaint": (Complaint, Complaint.number),
    "interested_party": (InterestedParty, InterestedParty.number),
}
# The numbered series (qms.numbering), by the kind of record each numbers.
SERIES = {
    "DEV": "deviation",
    "CA": "action",
    "IA": "internal_audit",
    "MR": "management_review",
    "PAIR": "pair",
    "P": "participant",
    "CTX": "context_issue",
    "CMP": "complaint",
    "IP": "interested_party",
}
# DEV-2026-0012 as people write it: dev-2026-12, DEV 2026 0012; PAIR-15, P-0042.
_YEARLY = re.compile(r"(DEV|CA|IA|MR|CTX|IP|CMP)[\s\-]*(\d{4})[\s\-]+(\d{1,6})")
_ENDLESS = re.compile(r"(PAIR|P)[\s\-]*(\d{1,6})")
# A procedure's version: PR-05 v2, PR-05 V 2, PR-05/v2.
_VERSION = re.compile(r"(.+?)[\s/]*V\s*(\d{1,4})")
# A cohort by its programme's code and its own: VIA-JOB 2025, VIA-JOB/2025.
_COHORT = re.compile(r"(.+?)\s*[\s/]\s*([^\s/]+)")
MAX_LENGTH = 64


def normalise(text: str) -> str:
    """Return a number as the records keep it: upper case, one space at most, none around."""
    return " ".join(text.split()).upper()


def _series_number(wanted: str) -> tuple[str, str] | None:
    """Return the kind and the stored number of a number in one of the series, if it is one."""
    if found := _YEARLY.fullmatch(wanted):
        series, year, seq = found.groups()
        return SERIES[series], f"{series}-{year}-{int(seq):04d}"
    if found := _ENDLESS.fullmatch(wanted):
        series, seq = found.groups()
        return SERIES[series], f"{series}-{int(seq):04d}"
    return None


def _ids(session: Session, kind: str, wanted: str) -> list[Key]:
    model, column = CODED[kind]
    rows = session.scalars(select(model.id).where(func.upper(column) == wanted).order_by(model.id))
    return [(kind, str(i)) for i in rows]


def _versions_of(session: Session, keys: list[Key]) -> list[Key]:
    """Every version of the procedures found: what happened to PR-05 is in both."""
    ids = [int(i) for kind, i in keys if kind == "procedure"]
    if not ids:
        return []
    versions = session.scalars(
        select(ProcedureVersion.id)
        .where(ProcedureVersion.procedure_id.in_(ids))
        .order_by(ProcedureVersion.id)
    )
    return [("procedure_version", str(v)) for v in versions]


def _version(session: Session, wanted: str) -> list[Key]:
    found = _VERSION.fullmatch(wanted)
    if not found:
        return []
    rows = session.scalars(
        select(ProcedureVersion.id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(
            func.upper(Procedure.code) == found.group(1),
            ProcedureVersion.number == int(found.group(2)),
        )
    )
    return [("procedure_version", str(i)) for i in rows]


def _cohort(session: Session, wanted: str) -> list[Key]:
    stmt = select(Cohort.id).order_by(Cohort.id)
    if found := _COHORT.fullmatch(wanted):
        programme, cohort = found.groups()
        stmt = stmt.join(Programme, Programme.id == Cohort.programme_id).where(
            func.upper(Programme.code) == programme, func.upper(Cohort.code) == cohort
        )
    else:
        stmt = stmt.where(func.upper(Cohort.code) == wanted)
    return [("cohort", str(i)) for i in session.scalars(stmt)]


def find(session: Session, text: str, *, programme_id: int | None = None) -> list[Key]:
    """Return the records a typed number or code names (several where a code is shared, as a
    cohort's 2025 may be), or none. Case and the spaces around it do not matter.

    A reader scoped to one programme finds only records its audit trail shows: the others are
    as unknown to it as a number never issued.
    """
    wanted = normalise(text)
    if not wanted or len(wanted) > MAX_LENGTH:
        return []
    keys: list[Key] = []
    if numbered := _series_number(wanted):
        keys = _ids(session, *numbered)
    if not keys:
        for kind in CODED:
            keys += _ids(session, kind, wanted)
        keys += _versions_of(session, keys)
        keys += _version(session, wanted) + _cohort(session, wanted)
    if programme_id is not None and keys:
        keys = _in_programme(session, keys, programme_id)
    return list(dict.fromkeys(keys))


def _in_programme(session: Session, keys: list[Key], programme_id: int) -> list[Key]:
    """Keep the records that have events in the programme's audit trail."""
    shown = set(
        session.execute(
            select(AuditEvent.entity, AuditEvent.entity_id)
            .where(AuditEvent.programme_id == programme_id, about(keys))
            .distinct()
        ).all()
    )
    return [key for key in keys if key in shown]


def numbers(session: Session, keys: Iterable[Key]) -> dict[Key, str]:
    """Return what people read for each record that has a number or code: DEV-2026-0012,
    PR-05 v2, VIA-JOB 2025. Records without one (a meeting, a follow-up) are left out."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, record_id in keys:
        if record_id and record_id.isdigit():
            by_kind[kind].add(int(record_id))
    shown: dict[Key, str] = {}
    for kind, ids in by_kind.items():
        if kind in CODED:
            model, column = CODED[kind]
            rows: Iterable[tuple[int, str]] = session.execute(
                select(model.id, column).where(model.id.in_(ids))
            ).all()
        elif kind == "procedure_version":
            rows = (
                (i, f"{code} v{number}")
                for i, code, number in session.execute(
                    select(ProcedureVersion.id, Procedure.code, ProcedureVersion.number)
                    .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
                    .where(ProcedureVersion.id.in_(ids))
                ).all()
            )
        elif kind == "cohort":
            rows = (
                (i, f"{programme} {code}")
                for i, programme, code in session.execute(
                    select(Cohort.id, Programme.code, Cohort.code)
                    .join(Programme, Programme.id == Cohort.programme_id)
                    .where(Cohort.id.in_(ids))
                ).all()
            )
        else:
            continue
        shown.update({(kind, str(i)): str(number) for i, number in rows})
    return shown
