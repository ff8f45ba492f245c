"""Keep the organisation's context, its interested parties and the scope of the quality
management system; read the quality policy in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qms.audit.models import AuditEvent
from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.config import get_settings
from qms.context.models import (
    POLICY_CODE,
    ContextIssue,
    InterestedParty,
    IssueOrigin,
    IssueStatus,
    PartyKind,
    QualityScope,
)
from qms.context.schemas import (
    ContextIssueCreate,
    ContextIssueRead,
    ContextIssueUpdate,
    ContextReview,
    Exclusion,
    PartyCreate,
    PartyRead,
    PartyUpdate,
    PolicyRead,
    ScopeRead,
    ScopeUpdate,
)
from qms.db import utcnow
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.frameworks.catalogue import iso_ref, requirements
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page, paginate
from qms.permissions import Action, Actor, require
from qms.procedures.models import Procedure, ProcedureVersion, VersionStatus
from qms.programmes.models import Programme

ISSUE_SERIES = "CTX"
PARTY_SERIES = "IP"
ISSUE_FIELDS = (
    "origin",
    "title",
    "description",
    "effect",
    "programme_id",
    "status",
    "ended_on",
    "next_review_on",
)
PARTY_FIELDS = (
    "name",
    "kind",
    "requirements",
    "how_met",
    "programme_id",
    "ended_on",
    "next_review_on",
)
REVIEW_FIELDS = ("last_reviewed_on", "last_reviewed_by", "review_note", "next_review_on")


def today() -> date:
    """Return today's date in UTC, against which review dates are judged."""
    return utcnow().date()


def add_months(day: date, months: int) -> date:
    """Return the day so many months on (the month's last day where it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _visible(actor: Actor, programme_id: int | None) -> bool:
    # The organisation's own issues and parties bear on every programme: a reader limited to
    # one programme sees them and those of their programme, never another programme's.
    return actor.programme_id is None or programme_id in (None, actor.programme_id)


def _programme(session: Session, actor: Actor, programme_id: int | None) -> int | None:
    if programme_id is not None and session.get(Programme, programme_id) is None:
        raise ValidationFailed(
            Text("The record names a programme that does not exist."),
            [
                FieldError(
                    "programme_id",
                    Text("There is no programme with the id %(id)s.", id=programme_id),
                )
            ],
        )
    if actor.programme_id is not None and programme_id != actor.programme_id:
        raise ValidationFailed(
            Text("This token keeps the records of its own programme only."),
            [FieldError("programme_id", Text("Choose the token's own programme."))],
        )
    return programme_id


def _next_review(on: date | None) -> date:
    if on is not None and on < today():
        raise ValidationFailed(
            Text("The next review cannot be in the past."),
            [FieldError("next_review_on", Text("Enter today or a later date."))],
        )
    return on or add_months(today(), get_settings().context_review_months)


def _no_nulls(changes: dict[str, Any]) -> None:
    nulls = [
        FieldError(f, Text("This cannot be left empty."))
        for f, v in changes.items()
        if v is None and f not in ("programme_id", "ended_on")
    ]
    if nulls:
        raise ValidationFailed(Text("Required fields cannot be emptied."), nulls)


# Context issues -----------------------------------------------------------------------------


def issue_to_read(issue: ContextIssue) -> ContextIssueRead:
    """Shape an issue for the API."""
    return ContextIssueRead.model_validate(
        {
            **{f: getattr(issue, f) for f in ContextIssueRead.model_fields if f != "review_due"},
            "review_due": issue.status is IssueStatus.current and issue.next_review_on <= today(),
        }
    )


def get_issue(session: Session, *, actor: Actor, issue_id: int) -> ContextIssue:
    """Return an issue the actor may see, or raise NotFound."""
    require(actor, Action.context_read)
    issue = session.get(ContextIssue, issue_id)
    if issue is None or not _visible(actor, issue.programme_id):
        raise NotFound(Text("There is no context issue with the id %(id)s.", id=issue_id))
    return issue


@dataclass(frozen=True)
class ContextFilter:
    """What a list of issues or parties is narrowed to."""

    programme_id: int | None = None
    review_due: bool | None = None
    origin: IssueOrigin | None = None
    status: IssueStatus | None = None
    kind: PartyKind | None = None


def list_issues(
    session: Session,
    *,
    actor: Actor,
    filters: ContextFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ContextIssue]:
    """List the issues the actor may see, oldest first."""
    require(actor, Action.context_read)
    f = filters or ContextFilter()
    stmt = select(ContextIssue)
    if actor.programme_id is not None:
        stmt = stmt.where(
            or_(
                ContextIssue.programme_id.is_(None), ContextIssue.programme_id == actor.programme_id
            )
        )
    if f.programme_id is not None:
        stmt = stmt.where(ContextIssue.programme_id == f.programme_id)
    if f.origin is not None:
        stmt = stmt.where(ContextIssue.origin == f.origin)
    if f.status is not None:
        stmt = stmt.where(ContextIssue.status == f.status)
    if f.review_due is not None:
        due = (ContextIssue.status == IssueStatus.current) & (
            ContextIssue.next_review_on <= today()
        )
        stmt = stmt.where(due if f.review_due else ~due)
    return paginate(session, stmt, key=ContextIssue.id, limit=limit, cursor=cursor)


def _issue_snapshot(issue: ContextIssue) -> dict[str, Any]:
    return {f: getattr(issue, f) for f in (*ISSUE_FIELDS, *REVIEW_FIELDS)}


def create_issue(session: Session, *, actor: Actor, data: ContextIssueCreate) -> ContextIssue:
    """Record an internal or external issue; it is current and reviewed on the cycle."""
    require(actor, Action.context_write)
    programme_id = _programme(session, actor, data.programme_id)
    next_review_on = _next_review(data.next_review_on)
    year = utcnow().year
    seq, number = next_number(session, series=ISSUE_SERIES, year=year)
    issue = ContextIssue(
        number=number,
        year=year,
        seq=seq,
        origin=data.origin,
        title=data.title,
        description=data.description,
        effect=data.effect,
        programme_id=programme_id,
        status=IssueStatus.current,
        next_review_on=next_review_on,
        created_by=actor.name,
    )
    session.add(issue)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="context_issue.created",
        entity="context_issue",
        entity_id=issue.id,
        programme_id=issue.programme_id,
        changes=created({"number": number, **_issue_snapshot(issue)}),
    )
    return issue


def update_issue(
    session: Session,
    *,
    actor: Actor,
    issue_id: int,
    data: ContextIssueUpdate,
    if_match: int | None,
) -> ContextIssue:
    """Change an issue's fields, against the version the client read."""
    require(actor, Action.context_write)
    issue = get_issue(session, actor=actor, issue_id=issue_id)
    check_if_match(current=issue.version, if_match=if_match, what="context issue")
    changes = data.model_dump(exclude_unset=True)
    _no_nulls(changes)
    if "programme_id" in changes:
        _programme(session, actor, changes["programme_id"])
    if "next_review_on" in changes:
        _next_review(changes["next_review_on"])
    if "status" in changes and changes["status"] is not issue.status:
        no_longer = changes["status"] is IssueStatus.no_longer_relevant
        changes["ended_on"] = today() if no_longer else None
    before = _issue_snapshot(issue)
    for field, value in changes.items():
        setattr(issue, field, value)
    delta = diff(before, _issue_snapshot(issue))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="context_issue.updated",
            entity="context_issue",
            entity_id=issue.id,
            programme_id=issue.programme_id,
            changes=delta,
        )
    return issue


def review_issue(
    session: Session, *, actor: Actor, issue_id: int, data: ContextReview, if_match: int | None
) -> ContextIssue:
    """Record a review of an issue: who, when, what was found; set the next review date."""
    require(actor, Action.context_write)
    issue = get_issue(session, actor=actor, issue_id=issue_id)
    check_if_match(current=issue.version, if_match=if_match, what="context issue")
    before = _issue_snapshot(issue)
    _reviewed(issue, actor, data)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="context_issue.reviewed",
        entity="context_issue",
        entity_id=issue.id,
        programme_id=issue.programme_id,
        changes=diff(before, _issue_snapshot(issue)),
        reason=data.note,
    )
    return issue


def _reviewed(record: ContextIssue | InterestedParty, actor: Actor, data: ContextReview) -> None:
    record.next_review_on = _next_review(data.next_review_on)
    record.last_reviewed_on = today()
    record.last_reviewed_by = actor.name
    record.review_note = data.note


# Interested parties -------------------------------------------------------------------------


def party_to_read(party: InterestedParty) -> PartyRead:
    """Shape an interested party for the API."""
    return PartyRead.model_validate(
        {
            **{f: getattr(party, f) for f in PartyRead.model_fields if f != "review_due"},
            "review_due": party.ended_on is None and party.next_review_on <= today(),
        }
    )


def get_party(session: Session, *, actor: Actor, party_id: int) -> InterestedParty:
    """Return an interested party the actor may see, or raise NotFound."""
    require(actor, Action.context_read)
    party = session.get(InterestedParty, party_id)
    if party is None or not _visible(actor, party.programme_id):
        raise NotFound(Text("There is no interested party with the id %(id)s.", id=party_id))
    return party


def list_parties(
    session: Session,
    *,
    actor: Actor,
    filters: ContextFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[InterestedParty]:
    """List the interested parties the actor may see, oldest first."""
    require(actor, Action.context_read)
    f = filters or ContextFilter()
    stmt = select(InterestedParty)
    if actor.programme_id is not None:
        stmt = stmt.where(
            or_(
                InterestedParty.programme_id.is_(None),
                InterestedParty.programme_id == actor.programme_id,
            )
        )
    if f.programme_id is not None:
        stmt = stmt.where(InterestedParty.programme_id == f.programme_id)
    if f.kind is not None:
        stmt = stmt.where(InterestedParty.kind == f.kind)
    if f.review_due is not None:
        due = InterestedParty.ended_on.is_(None) & (InterestedParty.next_review_on <= today())
        stmt = stmt.where(due if f.review_due else ~due)
    return paginate(session, stmt, key=InterestedParty.id, limit=limit, cursor=cursor)


def _party_snapshot(party: InterestedParty) -> dict[str, Any]:
    return {f: getattr(party, f) for f in (*PARTY_FIELDS, *REVIEW_FIELDS)}


def create_party(session: Session, *, actor: Actor, data: PartyCreate) -> InterestedParty:
    """Record an interested party, its requirements and how the system meets them."""
    require(actor, Action.context_write)
    programme_id = _programme(session, actor, data.programme_id)
    next_review_on = _next_review(data.next_review_on)
    year = utcnow().year
    seq, number = next_number(session, series=PARTY_SERIES, year=year)
    party = InterestedParty(
        number=number,
        year=year,
        seq=seq,
        name=data.name,
        kind=data.kind,
        requirements=data.requirements,
        how_met=data.how_met,
        programme_id=programme_id,
        next_review_on=next_review_on,
        created_by=actor.name,
    )
    session.add(party)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="interested_party.created",
        entity="interested_party",
        entity_id=party.id,
        programme_id=party.programme_id,
        changes=created({"number": number, **_party_snapshot(party)}),
    )
    return party


def update_party(
    session: Session, *, actor: Actor, party_id: int, data: PartyUpdate, if_match: int | None
) -> InterestedParty:
    """Change an interested party's fields, against the version the client read."""
    require(actor, Action.context_write)
    party = get_party(session, actor=actor, party_id=party_id)
    check_if_match(current=party.version, if_match=if_match, what="interested party")
    changes = data.model_dump(exclude_unset=True)
    _no_nulls(changes)
    if "programme_id" in changes:
        _programme(session, actor, changes["programme_id"])
    if "next_review_on" in changes:
        _next_review(changes["next_review_on"])
    before = _party_snapshot(party)
    for field, value in changes.items():
        setattr(party, field, value)
    delta = diff(before, _party_snapshot(party))
    if delta:
        session.flush()
        record_event(
            session,
            actor=actor,
            action="interested_party.updated",
            entity="interested_party",
            entity_id=party.id,
            programme_id=party.programme_id,
            changes=delta,
        )
    return party


def review_party(
    session: Session, *, actor: Actor, party_id: int, data: ContextReview, if_match: int | None
) -> InterestedParty:
    """Record a review of an interested party and set its next review date."""
    require(actor, Action.context_write)
    party = get_party(session, actor=actor, party_id=party_id)
    check_if_match(current=party.version, if_match=if_match, what="interested party")
    before = _party_snapshot(party)
    _reviewed(party, actor, data)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="interested_party.reviewed",
        entity="interested_party",
        entity_id=party.id,
        programme_id=party.programme_id,
        changes=diff(before, _party_snapshot(party)),
        reason=data.note,
    )
    return party


def reviews_due(session: Session, *, on: date) -> tuple[list[ContextIssue], list[InterestedParty]]:
    """Return the current issues and the parties whose review date has come by the day."""
    issues = session.scalars(
        select(ContextIssue)
        .where(ContextIssue.status == IssueStatus.current, ContextIssue.next_review_on <= on)
        .order_by(ContextIssue.next_review_on, ContextIssue.id)
    )
    parties = session.scalars(
        select(InterestedParty)
        .where(InterestedParty.ended_on.is_(None), InterestedParty.next_review_on <= on)
        .order_by(InterestedParty.next_review_on, InterestedParty.id)
    )
    return list(issues), list(parties)


# Scope --------------------------------------------------------------------------------------


def _scope_row(session: Session) -> QualityScope | None:
    return session.scalars(select(QualityScope).order_by(QualityScope.id).limit(1)).one_or_none()


def scope_to_read(scope: QualityScope | None) -> ScopeRead:
    """Shape the scope for the API (empty, version 0, while none has been set)."""
    if scope is None:
        return ScopeRead(coverage="", exclusions=[], changed_by=None, updated_at=None, version=0)
    return ScopeRead(
        coverage=scope.coverage,
        exclusions=[Exclusion.model_validate(e) for e in scope.exclusions],
        changed_by=scope.changed_by,
        updated_at=scope.updated_at,
        version=scope.version,
    )


def get_scope(session: Session, *, actor: Actor) -> QualityScope | None:
    """Return the scope of the quality management system, if one has been set."""
    require(actor, Action.context_read)
    return _scope_row(session)


def _check_exclusions(exclusions: Sequence[Exclusion]) -> None:
    known = requirements()
    errors = []
    seen: set[str] = set()
    for i, exclusion in enumerate(exclusions):
        if iso_ref(exclusion.clause) not in known:
            errors.append(
                FieldError(
                    f"exclusions[{i}].clause",
                    Text("ISO 9001 has no clause %(clause)s.", clause=exclusion.clause),
                )
            )
        elif exclusion.clause.split(".")[0] in {"4", "5", "6", "7", "9", "10"}:
            # ISO 9001 (4.3) lets an organisation find only requirements of clause 8
            # not applicable: those of the others apply to every quality management system.
            errors.append(
                FieldError(
                    f"exclusions[{i}].clause",
                    Text(
                        "Only a requirement of clause 8 can be not applicable; %(clause)s "
                        "applies to every quality management system.",
                        clause=exclusion.clause,
                    ),
                )
            )
        elif exclusion.clause in seen:
            errors.append(
                FieldError(
                    f"exclusions[{i}].clause",
                    Text("%(clause)s is named twice.", clause=exclusion.clause),
                )
            )
        seen.add(exclusion.clause)
    if errors:
        raise ValidationFailed(Text("A requirement named not applicable cannot be."), errors)


def set_scope(
    session: Session, *, actor: Actor, data: ScopeUpdate, if_match: int | None
) -> QualityScope:
    """Set the scope and the requirements not applicable, against the version the client read
    (0 when none has been set)."""
    require(actor, Action.context_write)
    if actor.programme_id is not None:
        raise ValidationFailed(
            Text("The scope is the organisation's: a token of one programme cannot set it."),
            [FieldError("coverage", Text("Use a token that is not limited to a programme."))],
        )
    _check_exclusions(data.exclusions)
    scope = _scope_row(session)
    check_if_match(current=scope.version if scope else 0, if_match=if_match, what="scope")
    exclusions = [e.model_dump() for e in data.exclusions]
    if scope is None:
        scope = QualityScope(coverage=data.coverage, exclusions=exclusions, changed_by=actor.name)
        session.add(scope)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="quality_scope.set",
            entity="quality_scope",
            entity_id=scope.id,
            changes=created({"coverage": scope.coverage, "exclusions": exclusions}),
        )
        return scope
    before = {"coverage": scope.coverage, "exclusions": scope.exclusions}
    after = {"coverage": data.coverage, "exclusions": exclusions}
    delta = diff(before, after)
    if delta:
        scope.coverage = data.coverage
        scope.exclusions = exclusions
        scope.changed_by = actor.name
        session.flush()
        record_event(
            session,
            actor=actor,
            action="quality_scope.set",
            entity="quality_scope",
            entity_id=scope.id,
            changes=delta,
        )
    return scope


def history(session: Session, *, actor: Actor, entity: str, entity_id: int) -> list[AuditEvent]:
    """Return a context record's events from the audit trail, oldest first."""
    require(actor, Action.context_read)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq)
        )
    )


def scope_history(session: Session, *, actor: Actor) -> list[AuditEvent]:
    """Return every change of the scope from the audit trail, oldest first."""
    require(actor, Action.context_read)
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "quality_scope").order_by(AuditEvent.seq)
        )
    )


# The quality policy ------------------------------------------------------------------------


def policy_procedure(session: Session) -> Procedure | None:
    """Return the controlled document that is the quality policy, if there is one."""
    return session.scalars(select(Procedure).where(Procedure.code == POLICY_CODE)).one_or_none()


def effective_policy(session: Session, *, on: date | None = None) -> ProcedureVersion | None:
    """Return the policy's approved version in force on the day (default today), if any."""
    day = on or today()
    return session.scalars(
        select(ProcedureVersion)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(
            Procedure.code == POLICY_CODE,
            ProcedureVersion.status == VersionStatus.approved,
            or_(ProcedureVersion.effective_from.is_(None), ProcedureVersion.effective_from <= day),
        )
        .order_by(ProcedureVersion.number.desc())
        .limit(1)
    ).one_or_none()


def get_policy(session: Session, *, actor: Actor) -> ProcedureVersion:
    """Return the quality policy in force, or raise NotFound."""
    require(actor, Action.procedure_read)
    version = effective_policy(session)
    if version is None:
        raise NotFound(
            Text(
                "No quality policy is in force: approve a version of procedure %(code)s.",
                code=POLICY_CODE,
            )
        )
    return version


def policy_to_read(version: ProcedureVersion) -> PolicyRead:
    """Shape the policy in force for the API."""
    return PolicyRead(
        procedure_id=version.procedure_id,
        version_id=version.id,
        number=version.number,
        title=version.title,
        content=version.content,
        content_sha256=version.content_sha256,
        approved_by=version.approved_by,
        approved_at=version.approved_at,
        effective_from=version.effective_from,
        next_review_on=version.next_review_on,
    )


def changed_in(session: Session, *, start: datetime, end: datetime) -> list[ContextIssue]:
    """Return the issues recorded or changed within the period (ISO 9001 9.3.2 b)."""
    ids = session.scalars(
        select(AuditEvent.entity_id)
        .where(
            AuditEvent.entity == "context_issue",
            AuditEvent.at >= start,
            AuditEvent.at < end,
        )
        .distinct()
    )
    wanted = [int(i) for i in ids if i is not None]
    if not wanted:
        return []
    return list(
        session.scalars(
            select(ContextIssue).where(ContextIssue.id.in_(wanted)).order_by(ContextIssue.id)
        )
    )


def find(session: Session, *, actor: Actor, number: str) -> ContextIssue | InterestedParty:
    """Return the issue (CTX-…) or the interested party (IP-…) a number names, or raise
    NotFound."""
    require(actor, Action.context_read)
    wanted = number.strip().upper()
    found: ContextIssue | InterestedParty | None
    if wanted.startswith(f"{PARTY_SERIES}-"):
        found = session.scalars(
            select(InterestedParty).where(InterestedParty.number == wanted)
        ).one_or_none()
    else:
        found = session.scalars(
            select(ContextIssue).where(ContextIssue.number == wanted)
        ).one_or_none()
    if found is None or not _visible(actor, found.programme_id):
        raise NotFound(Text("There is no issue or interested party %(number)s.", number=number))
    return found
