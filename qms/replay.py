"""Each record as stored, held against the state its audit-trail events describe.

The audit trail's chain and signed checkpoints prove that the events were not changed; they say
nothing of the records themselves, which any writer to the database can change without leaving an
event. Replaying each record's events (their `changes`, {field: {old, new}}) from the first gives
the state the trail vouches for; a row that differs from it was written behind the service's back.

A reader of the domains' tables, as references and documents are: no domain imports it, and the
audit trail stays free of the domains. It streams: one record's events at a time, in record order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, func, select
from sqlalchemy.orm import Session, aliased

from qms.accounts.models import ApiToken, User, WebSession
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditEvent
from qms.audit.schemas import RecordFindingRead, RecordsVerifyRead
from qms.audit.service import jsonable
from qms.audits.models import InternalAudit, ManagementReview
from qms.checks.models import RuleFinding
from qms.comments.models import Comment
from qms.competence.models import Acknowledgement, Competence, TrainingRecord
from qms.complaints.models import Complaint
from qms.context.models import ContextIssue, InterestedParty, QualityScope
from qms.deviations.models import Deviation
from qms.documents.models import IssuedDocument
from qms.evaluations.models import EvaluationBatch, ImportMapping, Instrument
from qms.followups.models import FollowUp
from qms.i18n import N_, Text, field_label, format_day, format_moment, label, translate
from qms.i18n.values import record_kind
from qms.indicators.models import IndicatorDefinition
from qms.objectives.models import QualityObjective
from qms.pairs.models import Meeting, Pair
from qms.participants.models import Goal, Participant
from qms.procedures.models import Procedure, ProcedureVersion
from qms.programmes.models import Cohort, Programme
from qms.providers.models import Provider, ProviderEvaluation
from qms.references import numbers
from qms.retention.models import RetentionDecision
from qms.retention.service import DISPOSED
from qms.risks.models import Risk

# Columns no event describes, in every kind of record, and why.
NOT_IN_EVENTS: dict[str, str] = {
    "id": "the record's key: an event names its record by it (entity_id)",
    "created_at": "the time the row was written, set as it is written; the event has its own time",
    "updated_at": "the time of the newest write, set as it is written; each event has its own",
    "version": "the edit counter that refuses a stale change; the trail orders the writes itself",
}


@dataclass(frozen=True)
class Kind:
    """A kind of record the audit trail describes: its events' entity, its table, and the columns
    of it no event describes, each with the reason."""

    entity: str
    model: Any
    not_in_events: Mapping[str, str] = field(default_factory=dict)
    # The fields a retention disposal of this kind rewrites ("pseudonymise"), and what to.
    # (what to, and only where the field held something).
    disposed: Mapping[str, tuple[str, bool]] = field(default_factory=dict)
    # The retention rule whose disposals remove or rewrite records of this kind.
    retention: str | None = None
    # Links the events name by the linked record's number or code, not its id:
    # {event field: (column, linked model, its number or code column)}.
    links: Mapping[str, tuple[str, Any, str]] = field(default_factory=dict)
    # The column that is the programme the events are filed under (AuditEvent.programme_id).
    programme: str | None = None
    # Columns that hold who made the record: its first event's actor ("actor", the name) or
    # their user id ("actor_id").
    creator: Mapping[str, str] = field(default_factory=dict)
    # Fields a new record of this kind always starts with that its creation event does not
    # state, each with the reason: {column: (value, why)}. Its later events say the changes.
    initial: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    # What names a record that has no number of its own, or is gone, in its creation event:
    # a meeting by its pair and day (PAIR-0003 2026-03-04).
    named: tuple[str, ...] = ("number",)


_NUMBER_PARTS = {
    "year": "the year of the record's number, part of the number the creation event holds",
    "seq": "the sequence of the record's number, part of the number the creation event holds",
}

_MOVED = (
    "the time of the move to %s, set as it is made: the move's event (the status, old and new) "
    "carries its own time"
)

KINDS: tuple[Kind, ...] = (
    Kind(
        "deviation",
        Deviation,
        _NUMBER_PARTS,
        disposed={
            "description": (DISPOSED, False),
            "immediate_containment": (DISPOSED, True),
            "root_cause": (DISPOSED, True),
            "closure_summary": (DISPOSED, True),
            "no_action_reason": (DISPOSED, True),
            "detected_by": (DISPOSED, False),
            "reported_by": (DISPOSED, False),
        },
        retention="deviation",
        creator={"reported_by": "actor"},
        links={"owner": ("owner_id", User, "name")},
    ),
    Kind(
        "action",
        CorrectiveAction,
        {
            **_NUMBER_PARTS,
            "verified_by_id": "the verifier's user id: the event names the verifier "
            "(verified_by) and carries the actor's id",
            "signature_id": "the link to the signature row, which its own event "
            "(signature.signed) records",
        },
        links={"owner": ("owner_id", User, "name")},
    ),
    Kind("procedure", Procedure, named=("code",)),
    Kind(
        "procedure_version",
        ProcedureVersion,
        {
            "signature_id": "the link to the signature row, which its own event "
            "(signature.signed) records",
        },
        links={"code": ("procedure_id", Procedure, "code")},
        creator={"author": "actor", "author_id": "actor_id"},
    ),
    Kind("programme", Programme, named=("code",)),
    Kind("cohort", Cohort, programme="programme_id"),
    Kind("participant", Participant, named=("code",)),
    Kind(
        "goal",
        Goal,
        links={"participant": ("participant_id", Participant, "code")},
        named=("participant", "title"),
    ),
    Kind(
        "pair",
        Pair,
        links={
            "mentor": ("mentor_id", Participant, "code"),
            "mentee": ("mentee_id", Participant, "code"),
        },
        named=("code",),
    ),
    Kind(
        "meeting",
        Meeting,
        retention="meeting",
        links={"pair": ("pair_id", Pair, "code")},
        named=("pair", "held_on"),
    ),
    Kind(
        "follow_up",
        FollowUp,
        disposed={"notes": ("", False), "held_by": (DISPOSED, False)},
        retention="follow_up_notes",
        links={"pair": ("pair_id", Pair, "code")},
        named=("pair", "scheduled_on"),
    ),
    Kind(
        "internal_audit",
        InternalAudit,
        {**_NUMBER_PARTS, "reported_at": _MOVED % "reported", "closed_at": _MOVED % "closed"},
        creator={"created_by": "actor"},
    ),
    Kind(
        "management_review",
        ManagementReview,
        {
            **_NUMBER_PARTS,
            "inputs": "compiled from the records as the review is held (ISO 9001 9.3.2); the "
            "signature that closes the review holds their SHA-256",
            "closed_at": _MOVED % "closed",
        },
        creator={"created_by": "actor"},
    ),
    Kind(
        "user",
        User,
        {
            "password_hash": "a secret: the event says only that a password was set",
            "name_key": "the name folded for comparison (NFKC, case), derived from the name",
            "email": "an address, never in the trail: the event says only that it was set",
        },
        named=("name",),
        initial={
            "reminder_opt_outs": (
                [],
                "a new user has every reminder on; turning one off or on is an event",
            ),
        },
    ),
    Kind(
        "token",
        ApiToken,
        {"token_hash": "a secret: never in the trail"},
        links={"user": ("user_id", User, "name")},
        named=("prefix",),
    ),
    Kind(
        "web_session",
        WebSession,
        {
            "secret_hash": "a secret: never in the trail",
            "csrf_token": "a secret: never in the trail",
        },
        creator={"user_id": "actor_id"},
    ),
    Kind("indicator", IndicatorDefinition, programme="programme_id", named=("code",)),
    Kind("instrument", Instrument, named=("code",)),
    Kind("import_mapping", ImportMapping, named=("name",)),
    Kind(
        "evaluation_batch",
        EvaluationBatch,
        {
            "rejected": "the refused rows kept to show on the batch: the event holds how many "
            "(rows_rejected, problems_total), the rows themselves are the batch's import problems",
        },
    ),
    Kind(
        "issued_document",
        IssuedDocument,
        {"content": "the document's bytes: the event holds their SHA-256 (sha256)"},
        retention="issued_document",
    ),
    Kind("retention_decision", RetentionDecision),
    Kind("rule_finding", RuleFinding, named=("key",)),
    Kind(
        "risk",
        Risk,
        _NUMBER_PARTS,
        disposed={
            "description": (DISPOSED, False),
            "cause": (DISPOSED, True),
            "treatment_plan": (DISPOSED, True),
            "treatment_reason": (DISPOSED, True),
            "created_by": (DISPOSED, False),
        },
        retention="risk",
        creator={"created_by": "actor"},
        links={"owner": ("owner_id", User, "name")},
    ),
    Kind(
        "context_issue",
        ContextIssue,
        _NUMBER_PARTS,
        retention="context_issue",
        programme="programme_id",
        creator={"created_by": "actor"},
    ),
    Kind(
        "interested_party",
        InterestedParty,
        _NUMBER_PARTS,
        retention="interested_party",
        programme="programme_id",
        creator={"created_by": "actor"},
    ),
    Kind(
        "quality_scope",
        QualityScope,
        {"changed_by": "who set it last: the actor of its latest event"},
        named=("coverage",),
    ),
    Kind("competence", Competence, named=("code",)),
    Kind(
        "training_record",
        TrainingRecord,
        retention="training_record",
        links={
            "competence": ("competence_id", Competence, "code"),
            "user": ("user_id", User, "name"),
            "participant": ("participant_id", Participant, "code"),
        },
    ),
    Kind(
        "acknowledgement",
        Acknowledgement,
        {"requested_at": "the time of the request: the event that makes it carries its own time"},
        retention="acknowledgement",
        links={"user": ("user_id", User, "name")},
        named=("code", "number", "user"),
    ),
    Kind(
        "provider",
        Provider,
        disposed={"contact": (DISPOSED, False), "status_reason": (DISPOSED, True)},
        retention="provider",
        named=("code",),
    ),
    Kind(
        "provider_evaluation",
        ProviderEvaluation,
        creator={"evaluated_by": "actor"},
        named=("provider_id", "evaluated_on"),
    ),
    Kind(
        "complaint",
        Complaint,
        _NUMBER_PARTS,
        disposed={
            "description": (DISPOSED, False),
            "answer": (DISPOSED, True),
            "withdrawal_reason": (DISPOSED, True),
            "received_by": (DISPOSED, False),
        },
        retention="complaint",
        creator={"received_by": "actor"},
        links={"deviation": ("deviation_id", Deviation, "number")},
    ),
    Kind(
        "objective",
        QualityObjective,
        _NUMBER_PARTS,
        retention="objective",
        programme="programme_id",
        links={"owner": ("owner_id", User, "name")},
    ),
    Kind(
        "comment",
        Comment,
        programme="programme_id",
        creator={"author": "actor", "author_id": "actor_id"},
        named=("number",),
    ),
)
BY_ENTITY = {k.entity: k for k in KINDS}
# Kinds the trail's events name that are no record of their own to replay, and why.
NOT_RECORDS: dict[str, str] = {
    "check": "a rule run: its event lists the findings it opened and cleared, each a rule "
    "finding replayed as its own record",
    "session": "a failed sign-in with a name no user has: there is no record",
    "job": "the scheduler's note of a job's last run (job_run), not a quality record; its "
    "events keep every run",
    "webhook_subscription": "an outgoing webhook's configuration (where to tell what), not a "
    "quality record; its events keep each change, never its secret",
    "webhook_event": "what was told to the webhooks' subscribers, with its delivery log: a "
    "message sent, not a quality record",
}
# Events that do not describe their record's fields, and why.
NOT_DESCRIBING: dict[str, str] = {
    "signature.signed": "describes the signature (its meaning and the SHA-256 of what was signed) "
    "kept in the signature's own row, not the signed record's fields",
    "evidence.attached": "describes a file attached to the record (its name, type, size and "
    "SHA-256), kept in evidence_file and evidence_blob, not the record's fields",
    "evidence.removed": "describes a file taken off the record while it was open, not the "
    "record's fields",
}
# A day and a moment as the events and _normal write them (ISO 8601).
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Stored values longer than this are cut in a finding (a procedure's whole text).
SHOWN_LENGTH = 80


@dataclass(frozen=True)
class Finding:
    """One record that is not as its events describe it."""

    entity: str
    entity_id: str
    # What people read for the record: DEV-2026-0005, PR-05 v2, the user's name.
    record: str | None
    problem: str  # "changed", "no_events", "gone"
    field: str | None = None
    stored: Any = None
    expected: Any = None
    seq: int | None = None

    def message(self, language: str) -> str:
        """Say the finding in the language, naming the record and the field by their labels."""
        kind = record_kind(self.entity, language)
        record = self.record or f"#{self.entity_id}"
        if self.problem == "no_events":
            return Text(
                "%(kind)s %(record)s has no event in the audit trail: it was written behind "
                "the service's back",
                kind=kind,
                record=record,
            ).in_language(language)
        if self.problem == "gone":
            return Text(
                "%(kind)s %(record)s is described by the audit trail (up to event %(seq)s) but "
                "is not stored, and no recorded disposal removed it",
                kind=kind,
                record=record,
                seq=self.seq,
            ).in_language(language)
        return Text(
            "%(kind)s %(record)s: %(field)s is stored as %(stored)s, the trail says %(expected)s",
            kind=kind,
            record=record,
            field=field_label(self.field or "", language),
            stored=_shown(self.stored, language),
            expected=_shown(self.expected, language),
        ).in_language(language)


def _shown(value: Any, language: str) -> str:
    if value is None:
        return translate("(empty)", language)
    if isinstance(value, bool):
        word = N_("yes") if value else N_("no")
        return translate(word, language)
    if isinstance(value, str) and value and value.replace("_", "").isalpha() and value.islower():
        # A stored code (a state, a severity) by its label.
        return f"“{label(value, language)}”"
    if isinstance(value, str) and _DAY.fullmatch(value):
        return f"“{format_day(dt.date.fromisoformat(value), language)}”"
    if isinstance(value, str) and _MOMENT.match(value) and (moment := _moment(value)):
        return f"“{format_moment(moment, language)}”"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > SHOWN_LENGTH:
        text = text[: SHOWN_LENGTH - 1] + "…"
    return f"“{text}”"


@dataclass
class RecordsResult:
    """What the replay found: the records and events held against each other, the findings, and
    the stored values no event describes (events older than full creation events)."""

    records: int = 0
    events: int = 0
    fields_compared: int = 0
    findings: int = 0
    first_findings: list[Finding] = field(default_factory=list)
    # (kind, field) -> how many records hold a value of it no event describes.
    not_covered: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    @property
    def ok(self) -> bool:
        """Whether every record is as its events describe it."""
        return self.findings == 0

    @property
    def not_covered_total(self) -> int:
        """How many stored values no event describes."""
        return sum(self.not_covered.values())


def _kind_of_column(column: Column[Any]) -> str:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return "other"
    if python_type is dt.datetime:
        return "moment"
    if python_type is dt.date:
        return "day"
    if python_type in (float, int) and not isinstance(python_type, bool):
        return "number" if python_type is float else "other"
    return "other"


def _normal(kind: str, value: Any) -> Any:
    """Return a value as both the row and the event can be compared in: plain JSON, a moment
    in UTC, a number as a float."""
    if value is None:
        return None
    if kind == "moment":
        moment = value if isinstance(value, dt.datetime) else _moment(value)
        if moment is None:
            return jsonable(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    if kind == "number" and isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            return value
    return jsonable(value)


def _moment(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _disposals(session: Session) -> dict[str, set[str]]:
    """Return the records each retention rule disposed of under a recorded decision, by the
    rule's kind (from the trail's own events, not from the decisions' rows)."""
    disposed: dict[str, set[str]] = defaultdict(set)
    rows = session.execute(
        select(AuditEvent.changes).where(
            AuditEvent.entity == "retention_decision", AuditEvent.action == "retention.disposed"
        )
    )
    for (changes,) in rows:
        kind = (changes.get("kind") or {}).get("new")
        ids = (changes.get("record_ids") or {}).get("new") or []
        if isinstance(kind, str):
            disposed[kind].update(str(i) for i in ids)
    return disposed


# One record's events: seq, programme id, actor, actor id, changes.
Events = list[tuple[int, int | None, str, int | None, dict[str, Any]]]


def _event_groups(session: Session, entity: str, batch_size: int) -> Iterator[tuple[str, Events]]:
    """Yield each record's events, record by record, in the order of the records' ids."""
    # Digits only, no leading zeros: ordering by length, then text, is numeric order, on both
    # databases, with no cast that a stray id could break.
    stream = session.execute(
        select(
            AuditEvent.entity_id,
            AuditEvent.seq,
            AuditEvent.programme_id,
            AuditEvent.actor,
            AuditEvent.actor_id,
            AuditEvent.changes,
        )
        .where(
            AuditEvent.entity == entity,
            AuditEvent.entity_id.is_not(None),
            AuditEvent.action.not_in(NOT_DESCRIBING),
        )
        .order_by(func.length(AuditEvent.entity_id), AuditEvent.entity_id, AuditEvent.seq)
        .execution_options(yield_per=batch_size)
    )
    current: str | None = None
    events: Events = []
    for entity_id, seq, programme_id, actor, actor_id, changes in stream:
        if entity_id != current:
            if current is not None:
                yield current, events
            current, events = entity_id, []
        events.append(
            (seq, programme_id, actor, actor_id, changes if isinstance(changes, dict) else {})
        )
    if current is not None:
        yield current, events


def _order(key: str) -> tuple[int, str]:
    return (len(key), key)


def check(
    session: Session,
    *,
    batch_size: int = 2000,
    keep: int = 1000,
    on_finding: Callable[[Finding], None] | None = None,
) -> RecordsResult:
    """Replay every audited record's events and hold the state they describe against the row
    as stored; report each field that differs, each row no event describes and each record the
    trail describes that is gone without a recorded disposal."""
    result = RecordsResult()
    disposals = _disposals(session)
    for kind in KINDS:
        _check_kind(session, kind, disposals, result, batch_size, keep, on_finding)
    return result


def _check_kind(
    session: Session,
    kind: Kind,
    disposals: Mapping[str, set[str]],
    result: RecordsResult,
    batch_size: int,
    keep: int,
    on_finding: Callable[[Finding], None] | None,
) -> None:
    table = kind.model.__table__
    linked = {column for column, _model, _code in kind.links.values()}
    exempt = {**NOT_IN_EVENTS, **kind.not_in_events}
    compared = {
        c.key: _kind_of_column(c)
        for c in table.columns
        if c.key not in exempt and c.key not in linked
    }
    compared.update(dict.fromkeys(kind.links, "other"))
    disposed = disposals.get(kind.retention or "", set())
    found: list[Finding] = []

    def report(finding: Finding) -> None:
        found.append(finding)
        if len(found) >= batch_size:
            flush()

    def flush() -> None:
        if not found:
            return
        names = numbers(session, {(f.entity, f.entity_id) for f in found})
        for f in found:
            named = Finding(
                f.entity,
                f.entity_id,
                names.get((f.entity, f.entity_id)) or _own_name(session, kind, f.entity_id),
                f.problem,
                f.field,
                f.stored,
                f.expected,
                f.seq,
            )
            result.findings += 1
            if len(result.first_findings) < keep:
                result.first_findings.append(named)
            if on_finding is not None:
                on_finding(named)
        found.clear()

    query = select(*table.columns)
    for name, (column, model, code) in kind.links.items():
        other = aliased(model)
        query = query.add_columns(getattr(other, code).label(name)).outerjoin(
            other, other.id == table.c[column]
        )
    rows = session.execute(query.order_by(table.c.id).execution_options(yield_per=batch_size))
    groups = _event_groups(session, kind.entity, batch_size)
    group = next(groups, None)
    for row in rows:
        key = str(row.id)
        # Events of records before this one that is stored: those records are gone.
        while group is not None and _order(group[0]) < _order(key):
            _gone(kind, group, disposed, report, result)
            group = next(groups, None)
        result.records += 1
        if group is None or group[0] != key:
            report(Finding(kind.entity, key, None, "no_events"))
            continue
        events = group[1]
        group = next(groups, None)
        result.events += len(events)
        first = events[0]
        state: dict[str, Any] = {
            name: first[2] if said == "actor" else first[3] for name, said in kind.creator.items()
        }
        state.update({name: value for name, (value, _why) in kind.initial.items()})
        for _seq, programme_id, _actor, _actor_id, changes in events:
            if kind.programme is not None and programme_id is not None:
                state[kind.programme] = programme_id
            for name, change in changes.items():
                if name in compared and isinstance(change, dict) and "new" in change:
                    state[name] = change["new"]
        if key in disposed:
            for name, (value, only_if_set) in kind.disposed.items():
                if not only_if_set or state.get(name):
                    state[name] = value
        for name, column_kind in compared.items():
            stored = _normal(column_kind, getattr(row, name))
            if name not in state:
                if stored is not None:
                    result.not_covered[(kind.entity, name)] += 1
                continue
            result.fields_compared += 1
            expected = _normal(column_kind, state[name])
            if stored != expected:
                report(Finding(kind.entity, key, None, "changed", name, stored, expected))
    while group is not None:
        _gone(kind, group, disposed, report, result)
        group = next(groups, None)
    flush()


def _gone(
    kind: Kind,
    group: tuple[str, Events],
    disposed: set[str],
    report: Callable[[Finding], None],
    result: RecordsResult,
) -> None:
    key, events = group
    result.events += len(events)
    if key not in disposed:
        report(Finding(kind.entity, key, None, "gone", seq=events[-1][0]))


def _own_name(session: Session, kind: Kind, record_id: str) -> str | None:
    """Return what the trail itself calls a record that has no number of its own, or is gone:
    the number or code its creation event holds."""
    if not record_id.isdigit():
        return None
    first = session.execute(
        select(AuditEvent.changes)
        .where(AuditEvent.entity == kind.entity, AuditEvent.entity_id == record_id)
        .order_by(AuditEvent.seq)
        .limit(1)
    ).scalar_one_or_none()
    said = [((first or {}).get(name) or {}).get("new") for name in kind.named]
    if said and all(isinstance(value, str | int) and value != "" for value in said):
        return " ".join(str(value) for value in said)
    return None


def to_read(result: RecordsResult, *, language: str = "en") -> RecordsVerifyRead:
    """Shape what the replay found for the API, each finding said in the language too."""
    return RecordsVerifyRead(
        ok=result.ok,
        records=result.records,
        events=result.events,
        fields_compared=result.fields_compared,
        findings=result.findings,
        not_covered=result.not_covered_total,
        items=[
            RecordFindingRead(
                kind=f.entity,
                record_id=f.entity_id,
                record=f.record,
                problem=f.problem,
                field=f.field,
                stored=f.stored,
                expected=f.expected,
                message=f.message(language),
            )
            for f in result.first_findings
        ],
    )
