"""What waits for a person: the deviations and actions they own, approvals and reviews waiting
for them, follow-ups due in their programmes and procedure reviews due, the overdue first."""

from __future__ import annotations

import enum
from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from qms.actions.enums import ActionStatus
from qms.actions.models import CorrectiveAction
from qms.audits.models import AuditStatus, InternalAudit, ManagementReview, ReviewStatus
from qms.competence.models import Acknowledgement
from qms.complaints.enums import ComplaintStatus
from qms.complaints.models import Complaint
from qms.context import service as context
from qms.context.models import ContextIssue, InterestedParty
from qms.deviations.enums import DeviationStatus
from qms.deviations.models import Deviation
from qms.followups.models import FollowUp
from qms.objectives import repository as objectives
from qms.pairs.models import Pair
from qms.pairs.service import LIVE, within_programme
from qms.permissions import Action, Actor, Role
from qms.procedures.models import Procedure, ProcedureVersion, VersionStatus
from qms.providers import repository as providers
from qms.risks import service as risks

# How many days ahead a follow-up or a procedure review counts as waiting (QMS_REMIND_DAYS).
DEFAULT_HORIZON_DAYS = 7


class WorkKind(enum.StrEnum):
    """What a person is waited on for."""

    deviation_due = "deviation_due"
    action_due = "action_due"
    verification_due = "verification_due"
    approval_waiting = "approval_waiting"
    internal_audit_waiting = "internal_audit_waiting"
    management_review_waiting = "management_review_waiting"
    follow_up_due = "follow_up_due"
    procedure_review_due = "procedure_review_due"
    acknowledgement_due = "acknowledgement_due"
    provider_evaluation_due = "provider_evaluation_due"
    complaint_to_acknowledge = "complaint_to_acknowledge"
    complaint_to_answer = "complaint_to_answer"
    context_review_due = "context_review_due"
    risk_review_due = "risk_review_due"
    objective_due = "objective_due"


class WorkItem(BaseModel):
    """One thing that waits for the person, with where to find it."""

    kind: WorkKind
    record: str = Field(description="The kind of record (as the audit trail names it)")
    record_id: int
    number: str = Field(description="The record's number or code (CA-2026-0001, PR-04 v2, …)")
    title: str
    due_on: date | None = Field(description="When it is due; for an approval, since when it waits")
    overdue: bool
    link: str = Field(description="The record's page, as a path on the service")


class WorkRead(BaseModel):
    """What waits for a person as of a day, the overdue first, then by due date."""

    on: date
    horizon_days: int = Field(description="Follow-ups and reviews due within this many days")
    items: list[WorkItem]


OPEN_ACTION = (ActionStatus.planned, ActionStatus.in_progress)


def _actions(session: Session, actor: Actor, on: date) -> list[WorkItem]:
    if actor.user_id is None or not actor.can(Action.action_read):
        return []
    owned = session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.owner_id == actor.user_id, CorrectiveAction.status.in_(OPEN_ACTION))
        .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
    )
    return [
        WorkItem(
            kind=WorkKind.action_due,
            record="corrective_action",
            record_id=a.id,
            number=a.number,
            title=a.title,
            due_on=a.due_on,
            overdue=a.due_on < on,
            link=f"/actions/{a.id}",
        )
        for a in owned
    ]


def _deviations(session: Session, actor: Actor, on: date) -> list[WorkItem]:
    if actor.user_id is None or not actor.can(Action.deviation_read):
        return []
    stmt = select(Deviation).where(
        Deviation.owner_id == actor.user_id, Deviation.status != DeviationStatus.closed
    )
    if actor.programme_id is not None:
        stmt = stmt.where(Deviation.programme_id == actor.programme_id)
    owned = session.scalars(stmt.order_by(Deviation.due_on, Deviation.id))
    return [
        WorkItem(
            kind=WorkKind.deviation_due,
            record="deviation",
            record_id=d.id,
            number=d.number,
            title=d.title,
            due_on=d.due_on,
            overdue=d.due_on < on,
            link=f"/deviations/{d.id}",
        )
        for d in owned
    ]


def _verifications(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    # Quality leads verify the effectiveness of what is done (an administrator is not asked).
    if actor.role is not Role.quality_lead:
        return []
    done = session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.status == ActionStatus.done)
        .order_by(CorrectiveAction.id)
    )
    items = []
    for a in done:
        due = a.effectiveness_check_on or a.due_on
        if due > horizon:
            continue
        items.append(
            WorkItem(
                kind=WorkKind.verification_due,
                record="corrective_action",
                record_id=a.id,
                number=a.number,
                title=a.title,
                due_on=due,
                overdue=due < on,
                link=f"/actions/{a.id}",
            )
        )
    return items


def _approvals(session: Session, actor: Actor) -> list[WorkItem]:
    # A version in review waits for the role that owns it, never for its author.
    if not actor.can(Action.procedure_write):
        return []
    waiting = session.scalars(
        select(ProcedureVersion)
        .options(joinedload(ProcedureVersion.procedure))
        .where(
            ProcedureVersion.status == VersionStatus.in_review,
            ProcedureVersion.owner_role == actor.role,
        )
        .order_by(ProcedureVersion.submitted_at, ProcedureVersion.id)
    )
    return [
        WorkItem(
            kind=WorkKind.approval_waiting,
            record="procedure_version",
            record_id=v.id,
            number=f"{v.procedure.code} v{v.number}",
            title=v.title,
            due_on=v.submitted_at.date() if v.submitted_at else None,
            overdue=False,
            link=f"/procedures/{v.procedure_id}",
        )
        for v in waiting
        if actor.user_id is None or v.author_id != actor.user_id
    ]


def _audits(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    if not actor.can(Action.internal_audit_read):
        return []
    open_audits = session.scalars(
        select(InternalAudit)
        .where(
            InternalAudit.status.in_((AuditStatus.planned, AuditStatus.in_progress)),
            InternalAudit.start_on <= horizon,
        )
        .order_by(InternalAudit.end_on, InternalAudit.id)
    )
    return [
        WorkItem(
            kind=WorkKind.internal_audit_waiting,
            record="internal_audit",
            record_id=a.id,
            number=a.number,
            title=a.title,
            due_on=a.end_on,
            overdue=a.end_on < on,
            link=f"/audits/{a.id}",
        )
        for a in open_audits
        if actor.name in (a.auditors or [])
        or actor.name in (a.auditees or [])
        or (actor.can(Action.internal_audit_manage) and a.created_by == actor.name)
    ]


def _reviews(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    if not actor.can(Action.review_read):
        return []
    open_reviews = session.scalars(
        select(ManagementReview)
        .where(
            ManagementReview.status.in_((ReviewStatus.planned, ReviewStatus.held)),
            ManagementReview.planned_on <= horizon,
        )
        .order_by(ManagementReview.planned_on, ManagementReview.id)
    )
    return [
        WorkItem(
            kind=WorkKind.management_review_waiting,
            record="management_review",
            record_id=r.id,
            number=r.number,
            title=r.title,
            due_on=r.planned_on,
            overdue=r.planned_on < on,
            link=f"/reviews/{r.id}",
        )
        for r in open_reviews
        if actor.name in (r.participants or [])
        or (actor.can(Action.review_manage) and r.created_by == actor.name)
    ]


def _follow_ups(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    # Coordinators hold the follow-ups of the programmes they keep (all, unless scoped to one).
    if actor.role is not Role.coordinator or not actor.can(Action.followup_write):
        return []
    due = session.scalars(
        within_programme(
            select(FollowUp)
            .join(Pair, Pair.id == FollowUp.pair_id)
            .where(
                FollowUp.held_on.is_(None),
                FollowUp.scheduled_on <= horizon,
                Pair.status.in_(LIVE),
            )
            .order_by(FollowUp.scheduled_on, FollowUp.id),
            actor.programme_id,
        )
    )
    return [
        WorkItem(
            kind=WorkKind.follow_up_due,
            record="follow_up",
            record_id=f.id,
            number=f.pair.code,
            title=f"{f.pair.mentor.code} / {f.pair.mentee.code}",
            due_on=f.scheduled_on,
            overdue=f.scheduled_on < on,
            link=f"/follow-ups/{f.id}",
        )
        for f in due
    ]


def _procedure_reviews(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    # A procedure's periodic review waits for the role that owns its effective version.
    if not actor.can(Action.procedure_write):
        return []
    due = session.scalars(
        select(ProcedureVersion)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(
            ProcedureVersion.status == VersionStatus.approved,
            ProcedureVersion.owner_role == actor.role,
            ProcedureVersion.next_review_on.is_not(None),
            ProcedureVersion.next_review_on <= horizon,
            or_(ProcedureVersion.effective_from.is_(None), ProcedureVersion.effective_from <= on),
        )
        .order_by(ProcedureVersion.next_review_on, Procedure.code)
    )
    items = []
    for v in due:
        review_on = v.next_review_on
        assert review_on is not None
        items.append(
            WorkItem(
                kind=WorkKind.procedure_review_due,
                record="procedure",
                record_id=v.procedure_id,
                number=v.procedure.code,
                title=v.title,
                due_on=review_on,
                overdue=review_on < on,
                link=f"/procedures/{v.procedure_id}",
            )
        )
    return items


def _provider_evaluations(
    session: Session, actor: Actor, on: date, horizon: date
) -> list[WorkItem]:
    # Quality leads evaluate the external providers (ISO 9001 8.4), each when its cycle is due.
    if actor.role is not Role.quality_lead or not actor.can(Action.provider_write):
        return []
    return [
        WorkItem(
            kind=WorkKind.provider_evaluation_due,
            record="provider",
            record_id=p.id,
            number=p.code,
            title=p.name,
            due_on=p.next_evaluation_on,
            overdue=p.next_evaluation_on is not None and p.next_evaluation_on < on,
            link=f"/providers/{p.id}",
        )
        for p in providers.due(session, by=horizon, scope=actor.programme_id)
    ]


# A quality objective is worked towards for months: it waits from a month before it is due.
OBJECTIVE_HORIZON_DAYS = 30


def _objectives(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    # The open quality objectives the person owns, due within a month (or the horizon) or past.
    if actor.user_id is None or not actor.can(Action.objective_read):
        return []
    by = max(horizon, on + timedelta(days=OBJECTIVE_HORIZON_DAYS))
    return [
        WorkItem(
            kind=WorkKind.objective_due,
            record="objective",
            record_id=o.id,
            number=o.number,
            title=o.title,
            due_on=o.due_on,
            overdue=o.due_on < on,
            link=f"/objectives/{o.id}",
        )
        for o in objectives.owned_by(session, owner_id=actor.user_id, due_by=by)
        if actor.programme_id is None or o.programme_id == actor.programme_id
    ]


def _risk_reviews(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    # The open or treated risks and opportunities the person owns whose review is due.
    if actor.user_id is None or not actor.can(Action.risk_read):
        return []
    return [
        WorkItem(
            kind=WorkKind.risk_review_due,
            record="risk",
            record_id=r.id,
            number=r.number,
            title=r.title,
            due_on=r.review_on,
            overdue=r.review_on is not None and r.review_on < on,
            link=f"/risks/{r.id}",
        )
        for r in risks.due_for_review(session, owner_id=actor.user_id, by=horizon)
        if actor.programme_id is None or r.programme_id == actor.programme_id
    ]


def _acknowledgements(session: Session, actor: Actor, on: date) -> list[WorkItem]:
    # Each procedure version in force the person was asked to acknowledge and has not yet.
    if actor.user_id is None or not actor.can(Action.procedure_acknowledge):
        return []
    pending = session.scalars(
        select(Acknowledgement)
        .join(ProcedureVersion, ProcedureVersion.id == Acknowledgement.procedure_version_id)
        .where(
            Acknowledgement.user_id == actor.user_id,
            Acknowledgement.acknowledged_at.is_(None),
            ProcedureVersion.status == VersionStatus.approved,
        )
        .options(
            joinedload(Acknowledgement.procedure_version).joinedload(ProcedureVersion.procedure)
        )
        .order_by(Acknowledgement.due_on, Acknowledgement.id)
    )
    return [
        WorkItem(
            kind=WorkKind.acknowledgement_due,
            record="acknowledgement",
            record_id=a.id,
            number=f"{a.procedure_version.procedure.code} v{a.procedure_version.number}",
            title=a.procedure_version.title,
            due_on=a.due_on,
            overdue=a.due_on < on,
            link=f"/procedures/{a.procedure_version.procedure_id}",
        )
        for a in pending
    ]


def _context_reviews(session: Session, actor: Actor, on: date, horizon: date) -> list[WorkItem]:
    # The context's issues and parties are reviewed on a cycle by those who keep them.
    if not actor.can(Action.context_write):
        return []
    issues, parties = context.reviews_due(session, on=horizon)
    due: list[tuple[str, ContextIssue | InterestedParty, str, str]] = [
        *(("context_issue", i, i.title, f"/context/issues/{i.id}") for i in issues),
        *(("interested_party", p, p.name, f"/context/parties/{p.id}") for p in parties),
    ]
    items = []
    for entity, record, title, link in due:
        if actor.programme_id not in (None, record.programme_id) and record.programme_id:
            continue
        items.append(
            WorkItem(
                kind=WorkKind.context_review_due,
                record=entity,
                record_id=record.id,
                number=record.number,
                title=title,
                due_on=record.next_review_on,
                overdue=record.next_review_on < on,
                link=link,
            )
        )
    return items


def _complaints(session: Session, actor: Actor, on: date) -> list[WorkItem]:
    # Coordinators and quality leads receive complaints: each one not yet acknowledged or
    # answered waits for them, in the programmes they keep.
    if actor.role not in (Role.coordinator, Role.quality_lead) or not actor.can(
        Action.complaint_write
    ):
        return []
    stmt = select(Complaint).where(
        Complaint.status.in_((ComplaintStatus.received, ComplaintStatus.acknowledged))
    )
    if actor.programme_id is not None:
        stmt = stmt.where(Complaint.programme_id == actor.programme_id)
    items = []
    for c in session.scalars(stmt.order_by(Complaint.answer_due_on, Complaint.id)):
        received = c.status is ComplaintStatus.received
        due = c.acknowledge_due_on if received else c.answer_due_on
        kind = WorkKind.complaint_to_acknowledge if received else WorkKind.complaint_to_answer
        items.append(
            WorkItem(
                kind=kind,
                record="complaint",
                record_id=c.id,
                number=c.number,
                title=c.subject,
                due_on=due,
                overdue=due < on or c.answer_due_on < on,
                link=f"/complaints/{c.id}",
            )
        )
    return items


def waiting_for(
    session: Session, *, actor: Actor, on: date, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> WorkRead:
    """Return what waits for the actor as of a day: the overdue first, then by due date."""
    horizon = on + timedelta(days=horizon_days)
    items = [
        *_deviations(session, actor, on),
        *_actions(session, actor, on),
        *_verifications(session, actor, on, horizon),
        *_approvals(session, actor),
        *_audits(session, actor, on, horizon),
        *_reviews(session, actor, on, horizon),
        *_follow_ups(session, actor, on, horizon),
        *_procedure_reviews(session, actor, on, horizon),
        *_context_reviews(session, actor, on, horizon),
        *_acknowledgements(session, actor, on),
        *_provider_evaluations(session, actor, on, horizon),
        *_risk_reviews(session, actor, on, horizon),
        *_objectives(session, actor, on, horizon),
        *_complaints(session, actor, on),
    ]
    items.sort(key=lambda i: (not i.overdue, i.due_on or date.max, i.number))
    return WorkRead(on=on, horizon_days=horizon_days, items=items)
