"""Import every domain's models, so that Base.metadata is whole (Alembic reads it)."""

from qms.access.models import AccessBatch, AccessEntry, AccessLogHead
from qms.accounts.models import ApiToken, AuthFailure, User, WebSession
from qms.actions.models import CorrectiveAction
from qms.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from qms.audits.models import ChecklistLine, InternalAudit, ManagementReview, ReviewDecision
from qms.checks.models import RuleFinding
from qms.comments.models import Comment
from qms.competence.models import Acknowledgement, Competence, TrainingRecord
from qms.complaints.models import Complainant, Complaint
from qms.context.models import ContextIssue, InterestedParty, QualityScope
from qms.db import Base
from qms.deviations.models import Deviation, deviation_action
from qms.documents.models import IssuedDocument
from qms.evaluations.models import (
    EvaluationBatch,
    EvaluationResponse,
    Instrument,
    Outcome,
    Question,
)
from qms.evidence.models import EvidenceBlob, EvidenceFile
from qms.followups.models import FollowUp
from qms.indicators.models import IndicatorDefinition, IndicatorValue
from qms.notifications.models import JobRun, Reminder
from qms.numbering import NumberSequence
from qms.objectives.models import QualityObjective, objective_indicator
from qms.pairs.models import Meeting, Pair
from qms.participants.models import Goal, Participant, ParticipantPersonal
from qms.procedures.models import Procedure, ProcedureVersion
from qms.programmes.models import Cohort, Programme
from qms.providers.models import Provider, ProviderEvaluation
from qms.retention.models import RetentionDecision
from qms.risks.models import Risk, risk_action
from qms.signatures.models import Signature
from qms.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "AccessBatch",
    "AccessEntry",
    "AccessLogHead",
    "Acknowledgement",
    "ApiToken",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "AuthFailure",
    "Base",
    "ChecklistLine",
    "Cohort",
    "Comment",
    "Competence",
    "Complainant",
    "Complaint",
    "ContextIssue",
    "CorrectiveAction",
    "Deviation",
    "EvaluationBatch",
    "EvaluationResponse",
    "EvidenceBlob",
    "EvidenceFile",
    "FollowUp",
    "Goal",
    "IndicatorDefinition",
    "IndicatorValue",
    "Instrument",
    "InterestedParty",
    "InternalAudit",
    "IssuedDocument",
    "JobRun",
    "ManagementReview",
    "Meeting",
    "NumberSequence",
    "Outcome",
    "Pair",
    "Participant",
    "ParticipantPersonal",
    "Procedure",
    "ProcedureVersion",
    "Programme",
    "Provider",
    "ProviderEvaluation",
    "QualityObjective",
    "QualityScope",
    "Question",
    "Reminder",
    "RetentionDecision",
    "ReviewDecision",
    "Risk",
    "RuleFinding",
    "Signature",
    "TrainingRecord",
    "User",
    "WebSession",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "deviation_action",
    "objective_indicator",
    "risk_action",
]
