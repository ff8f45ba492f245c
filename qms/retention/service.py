"""What is due for disposition, and disposing of it under a recorded decision.

Each kind of record has a retention period in years (settings: QMS_RETENTION_YEARS, over the
defaults below), counted from the date that ends the record's use. Disposition either removes the
records or pseudonymises them (their free text and the names in them are blanked, their codes,
dates and statuses stay, so counts and indicators still hold). The audit trail is never touched:
its events carry no personal data (personal fields are recorded as changed, not by value), so the
chain still verifies afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from qms.audit.service import created, lock_chain_head, record_event
from qms.competence.models import Acknowledgement, TrainingRecord
from qms.complaints.models import Complainant, Complaint
from qms.config import get_settings
from qms.context.models import ContextIssue, InterestedParty
from qms.db import utcnow
from qms.deviations.models import Deviation, DeviationStatus
from qms.documents.models import IssuedDocument
from qms.errors import FieldError, NotFound, ValidationFailed
from qms.evaluations.models import EvaluationResponse
from qms.evidence import service as evidence
from qms.followups.models import FollowUp
from qms.i18n import N_, Code, Either, Text
from qms.objectives.models import QualityObjective, objective_indicator
from qms.pairs.models import Meeting
from qms.participants.models import Participant, ParticipantPersonal
from qms.periods import midnight
from qms.permissions import Action, Actor, require, require_unscoped
from qms.procedures.models import ProcedureVersion
from qms.programmes.models import Cohort
from qms.providers.models import Provider, ProviderStatus
from qms.retention.models import RetentionDecision
from qms.retention.schemas import DispositionCreate, RetentionDue, RetentionReport
from qms.risks.enums import RiskStatus
from qms.risks.models import Risk

DISPOSED = "[disposed]"


@dataclass(frozen=True)
class Rule:
    """How long one kind of record is kept, and how it is disposed of."""

    kind: str
    years: int
    counted_from: str
    disposition: str
    due: Callable[[date], Select[Any]]
    dispose: Callable[[Session, Sequence[int]], None]


def _personal_due(cutoff: date) -> Select[Any]:
    return (
        select(Participant.id)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .join(ParticipantPersonal, ParticipantPersonal.participant_id == Participant.id)
        .where(Cohort.end_on < cutoff, ParticipantPersonal.erased_at.is_(None))
        .order_by(Cohort.end_on, Participant.id)
    )


def _personal_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(
        update(ParticipantPersonal)
        .where(ParticipantPersonal.participant_id.in_(ids))
        .values(name=None, email=None, phone=None, erased_at=utcnow())
    )


def _notes_due(cutoff: date) -> Select[Any]:
    return (
        select(FollowUp.id)
        .where(FollowUp.held_on < cutoff, FollowUp.held_by != DISPOSED)
        .order_by(FollowUp.held_on, FollowUp.id)
    )


def _notes_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(update(FollowUp).where(FollowUp.id.in_(ids)).values(notes="", held_by=DISPOSED))
    # The files attached to a follow-up go with its notes.
    evidence.dispose(session, record="follow_up", record_ids=list(ids))


def _meetings_due(cutoff: date) -> Select[Any]:
    return select(Meeting.id).where(Meeting.held_on < cutoff).order_by(Meeting.held_on, Meeting.id)


def _meetings_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(Meeting).where(Meeting.id.in_(ids)))


def _answers_due(cutoff: date) -> Select[Any]:
    return (
        select(EvaluationResponse.id)
        .where(EvaluationResponse.submitted_on < cutoff)
        .order_by(EvaluationResponse.submitted_on, EvaluationResponse.id)
    )


def _answers_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(EvaluationResponse).where(EvaluationResponse.id.in_(ids)))


def _documents_due(cutoff: date) -> Select[Any]:
    return (
        select(IssuedDocument.id)
        .where(IssuedDocument.as_of < midnight(cutoff))
        .order_by(IssuedDocument.as_of, IssuedDocument.id)
    )


def _documents_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(IssuedDocument).where(IssuedDocument.id.in_(ids)))


def _deviations_due(cutoff: date) -> Select[Any]:
    return (
        select(Deviation.id)
        .where(
            Deviation.status == DeviationStatus.closed,
            Deviation.closed_at < midnight(cutoff),
            Deviation.reported_by != DISPOSED,
        )
        .order_by(Deviation.closed_at, Deviation.id)
    )


def _deviations_dispose(session: Session, ids: Sequence[int]) -> None:
    for deviation in session.scalars(select(Deviation).where(Deviation.id.in_(ids))):
        deviation.description = DISPOSED
        for field in ("immediate_containment", "root_cause", "closure_summary", "no_action_reason"):
            if getattr(deviation, field):
                setattr(deviation, field, DISPOSED)
        deviation.detected_by = deviation.reported_by = DISPOSED
    # The files attached to a deviation go with its text.
    evidence.dispose(session, record="deviation", record_ids=list(ids))


def _risks_due(cutoff: date) -> Select[Any]:
    return (
        select(Risk.id)
        .where(
            Risk.status == RiskStatus.closed,
            Risk.closed_at < midnight(cutoff),
            Risk.created_by != DISPOSED,
        )
        .order_by(Risk.closed_at, Risk.id)
    )


# A closed risk's texts go; its number, kind, ratings, treatment and dates stay for the register.
RISK_TEXTS = ("cause", "treatment_plan", "treatment_reason")


def _risks_dispose(session: Session, ids: Sequence[int]) -> None:
    for risk in session.scalars(select(Risk).where(Risk.id.in_(ids))):
        risk.description = DISPOSED
        for field in RISK_TEXTS:
            if getattr(risk, field):
                setattr(risk, field, DISPOSED)
        risk.created_by = DISPOSED


def _training_due(cutoff: date) -> Select[Any]:
    # A training that never needs renewing is held as long as the person's competence is.
    return (
        select(TrainingRecord.id)
        .where(TrainingRecord.expires_on < cutoff)
        .order_by(TrainingRecord.expires_on, TrainingRecord.id)
    )


def _training_dispose(session: Session, ids: Sequence[int]) -> None:
    # The files that showed the training go with its record.
    evidence.dispose(session, record="training_record", record_ids=list(ids))
    session.execute(delete(TrainingRecord).where(TrainingRecord.id.in_(ids)))


def _acknowledgements_due(cutoff: date) -> Select[Any]:
    return (
        select(Acknowledgement.id)
        .join(ProcedureVersion, ProcedureVersion.id == Acknowledgement.procedure_version_id)
        .where(ProcedureVersion.ended_at < midnight(cutoff))
        .order_by(ProcedureVersion.ended_at, Acknowledgement.id)
    )


def _acknowledgements_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(Acknowledgement).where(Acknowledgement.id.in_(ids)))


def _providers_due(cutoff: date) -> Select[Any]:
    # An ended provider is changed no more: its last change is its ending. Its evaluations are
    # never changed, and hold no one's contact details; they stay.
    return (
        select(Provider.id)
        .where(
            Provider.status == ProviderStatus.ended,
            Provider.updated_at < midnight(cutoff),
            Provider.contact != DISPOSED,
        )
        .order_by(Provider.updated_at, Provider.id)
    )


def _providers_dispose(session: Session, ids: Sequence[int]) -> None:
    for provider in session.scalars(select(Provider).where(Provider.id.in_(ids))):
        provider.contact = DISPOSED
        if provider.status_reason:
            provider.status_reason = DISPOSED


def _context_issues_due(cutoff: date) -> Select[Any]:
    # A current issue is kept; one found no longer relevant, for the years after that day.
    return (
        select(ContextIssue.id)
        .where(ContextIssue.ended_on < cutoff)
        .order_by(ContextIssue.ended_on, ContextIssue.id)
    )


def _context_issues_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(ContextIssue).where(ContextIssue.id.in_(ids)))


def _parties_due(cutoff: date) -> Select[Any]:
    return (
        select(InterestedParty.id)
        .where(InterestedParty.ended_on < cutoff)
        .order_by(InterestedParty.ended_on, InterestedParty.id)
    )


def _parties_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(InterestedParty).where(InterestedParty.id.in_(ids)))


def _complainants_due(cutoff: date) -> Select[Any]:
    return (
        select(Complaint.id)
        .join(Complainant, Complainant.complaint_id == Complaint.id)
        .where(Complaint.closed_at < midnight(cutoff), Complainant.erased_at.is_(None))
        .order_by(Complaint.closed_at, Complaint.id)
    )


def _complainants_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(
        update(Complainant)
        .where(Complainant.complaint_id.in_(ids))
        .values(name=None, email=None, phone=None, contact_consent=False, erased_at=utcnow())
    )


def _complaints_due(cutoff: date) -> Select[Any]:
    return (
        select(Complaint.id)
        .where(Complaint.closed_at < midnight(cutoff), Complaint.received_by != DISPOSED)
        .order_by(Complaint.closed_at, Complaint.id)
    )


def _complaints_dispose(session: Session, ids: Sequence[int]) -> None:
    for complaint in session.scalars(select(Complaint).where(Complaint.id.in_(ids))):
        complaint.description = DISPOSED
        for field in ("answer", "withdrawal_reason"):
            if getattr(complaint, field):
                setattr(complaint, field, DISPOSED)
        complaint.received_by = DISPOSED
    # Who complained goes with the text, if an earlier disposal has not taken it already.
    _complainants_dispose(session, ids)


def _objectives_due(cutoff: date) -> Select[Any]:
    # An objective reached, missed or withdrawn is changed no more: counted from that day.
    return (
        select(QualityObjective.id)
        .where(QualityObjective.closed_at < midnight(cutoff))
        .order_by(QualityObjective.closed_at, QualityObjective.id)
    )


def _objectives_dispose(session: Session, ids: Sequence[int]) -> None:
    session.execute(delete(objective_indicator).where(objective_indicator.c.objective_id.in_(ids)))
    session.execute(delete(QualityObjective).where(QualityObjective.id.in_(ids)))


RULES: dict[str, Rule] = {
    r.kind: r
    for r in (
        Rule(
            "personal_data",
            2,
            N_("the end of the participant's cohort"),
            "pseudonymise",
            _personal_due,
            _personal_dispose,
        ),
        Rule(
            "follow_up_notes",
            5,
            N_("the day the follow-up was held"),
            "pseudonymise",
            _notes_due,
            _notes_dispose,
        ),
        Rule(
            "meeting", 5, N_("the day of the meeting"), "remove", _meetings_due, _meetings_dispose
        ),
        Rule(
            "evaluation_response",
            5,
            N_("the day the answer was given"),
            "remove",
            _answers_due,
            _answers_dispose,
        ),
        Rule(
            "issued_document",
            10,
            N_("the as-of time of the document"),
            "remove",
            _documents_due,
            _documents_dispose,
        ),
        Rule(
            "complainant",
            1,
            N_("the day the complaint was closed or withdrawn"),
            "pseudonymise",
            _complainants_due,
            _complainants_dispose,
        ),
        Rule(
            "complaint",
            5,
            N_("the day the complaint was closed or withdrawn"),
            "pseudonymise",
            _complaints_due,
            _complaints_dispose,
        ),
        Rule(
            "deviation",
            10,
            N_("the day the deviation was closed"),
            "pseudonymise",
            _deviations_due,
            _deviations_dispose,
        ),
        Rule(
            "provider",
            10,
            N_("the day the external provider was ended"),
            "pseudonymise",
            _providers_due,
            _providers_dispose,
        ),
        Rule(
            "objective",
            10,
            N_("the day the quality objective was closed or withdrawn"),
            "remove",
            _objectives_due,
            _objectives_dispose,
        ),
        Rule(
            "risk",
            10,
            N_("the day the risk or opportunity was closed"),
            "pseudonymise",
            _risks_due,
            _risks_dispose,
        ),
        Rule(
            "context_issue",
            10,
            N_("the day the issue was found no longer relevant"),
            "remove",
            _context_issues_due,
            _context_issues_dispose,
        ),
        Rule(
            "interested_party",
            10,
            N_("the day the party ceased to be one"),
            "remove",
            _parties_due,
            _parties_dispose,
        ),
        Rule(
            "training_record",
            10,
            N_("the day the training expired"),
            "remove",
            _training_due,
            _training_dispose,
        ),
        Rule(
            "acknowledgement",
            10,
            N_("the day the procedure version was superseded or made obsolete"),
            "remove",
            _acknowledgements_due,
            _acknowledgements_dispose,
        ),
    )
}


def years_for(kind: str) -> int:
    """The retention period of a kind: the setting if given, else the default."""
    return get_settings().retention_years.get(kind, RULES[kind].years)


def cutoff_for(kind: str, as_of: date) -> date:
    """Records whose counting date is before this day are due."""
    years = years_for(kind)
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - years, day=28)


def report(session: Session, *, actor: Actor, as_of: date) -> RetentionReport:
    """List, per kind, what is due for disposition on the date."""
    require(actor, Action.retention_read)
    require_unscoped(actor, Action.retention_read)
    kinds = []
    for rule in RULES.values():
        ids: list[int] = list(session.scalars(rule.due(cutoff_for(rule.kind, as_of))))
        kinds.append(
            RetentionDue(
                kind=rule.kind,
                years=years_for(rule.kind),
                counted_from=rule.counted_from,
                disposition=rule.disposition,
                due=len(ids),
                record_ids=ids[:200],
            )
        )
    return RetentionReport(as_of=as_of, kinds=kinds)


def dispose(
    session: Session, *, actor: Actor, data: DispositionCreate, as_of: date
) -> RetentionDecision:
    """Dispose of due records of a kind under a recorded decision, in one transaction."""
    require(actor, Action.retention_dispose)
    require_unscoped(actor, Action.retention_dispose)
    rule = RULES.get(data.kind)
    if rule is None:
        raise ValidationFailed(
            Text("The kind of record is not known."),
            [
                FieldError(
                    "kind",
                    Text("Choose %(kinds)s.", kinds=Either(Code(kind) for kind in RULES)),
                )
            ],
        )
    cutoff = cutoff_for(rule.kind, as_of)
    # Disposals take turns: one made at the same moment finds these records gone, instead of
    # recording a decision over records it did not dispose of.
    lock_chain_head(session)
    due: list[int] = list(session.scalars(rule.due(cutoff)))
    if data.record_ids is None:
        ids = due
    else:
        due_set = set(due)
        errors = [
            FieldError(
                f"record_ids[{i}]",
                Text(
                    "Record %(id)s of the kind %(kind)s is not due for disposition.",
                    id=record_id,
                    kind=Code(rule.kind),
                ),
            )
            for i, record_id in enumerate(data.record_ids)
            if record_id not in due_set
        ]
        if errors:
            raise ValidationFailed(Text("Only records that are due may be disposed of."), errors)
        ids = sorted(set(data.record_ids))
    if not ids:
        raise NotFound(
            Text("No record of the kind %(kind)s is due for disposition.", kind=Code(rule.kind))
        )
    rule.dispose(session, ids)
    decision = RetentionDecision(
        kind=rule.kind,
        disposition=rule.disposition,
        reason=data.reason,
        cutoff=cutoff,
        record_ids=ids,
        count=len(ids),
        decided_by=actor.name,
    )
    session.add(decision)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="retention.disposed",
        entity="retention_decision",
        entity_id=decision.id,
        changes=created(
            {
                "kind": rule.kind,
                "disposition": rule.disposition,
                "cutoff": cutoff,
                "count": len(ids),
                "record_ids": ids,
            }
        ),
        reason=data.reason,
    )
    return decision


def decisions(session: Session, *, actor: Actor) -> list[RetentionDecision]:
    """The recorded decisions, newest first."""
    require(actor, Action.retention_read)
    # A decision lists the records disposed of in every programme, like the report it acts on.
    require_unscoped(actor, Action.retention_read)
    return list(session.scalars(select(RetentionDecision).order_by(RetentionDecision.id.desc())))
