"""Who may do what: one table from role to allowed actions, read by the API and the CLI alike."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from qms.errors import Forbidden
from qms.i18n import Code, Text


class Role(enum.StrEnum):
    """The one role a user has."""

    admin = "admin"
    quality_lead = "quality_lead"
    coordinator = "coordinator"
    auditor = "auditor"
    importer = "importer"


class Action(enum.StrEnum):
    """Something an actor may be allowed to do."""

    self_read = "self.read"
    programme_read = "programme.read"
    programme_write = "programme.write"
    audit_read = "audit.read"
    audit_verify = "audit.verify"
    user_manage = "user.manage"
    deviation_read = "deviation.read"
    deviation_log = "deviation.log"
    deviation_write = "deviation.write"
    deviation_transition = "deviation.transition"
    action_read = "action.read"
    action_manage = "action.manage"
    action_progress = "action.progress"
    participant_read = "participant.read"
    participant_personal_read = "participant.personal.read"
    participant_write = "participant.write"
    pair_read = "pair.read"
    pair_write = "pair.write"
    followup_read = "followup.read"
    followup_write = "followup.write"
    check_run = "check.run"
    procedure_read = "procedure.read"
    procedure_write = "procedure.write"
    instrument_write = "instrument.write"
    evaluation_read = "evaluation.read"
    evaluation_import = "evaluation.import"
    indicator_read = "indicator.read"
    indicator_write = "indicator.write"
    import_rollback = "import.rollback"
    document_generate = "document.generate"
    document_read = "document.read"
    framework_read = "framework.read"
    internal_audit_read = "internal_audit.read"
    internal_audit_manage = "internal_audit.manage"
    review_read = "review.read"
    review_manage = "review.manage"
    retention_read = "retention.read"
    retention_dispose = "retention.dispose"
    comment_write = "comment.write"
    # Attaching or taking off an evidence file: the record's own permission decides besides.
    evidence_write = "evidence.write"
    # One's own reminder address, language and kinds.
    self_write = "self.write"
    # The rest of the quality system (ISO 9001 4, 5.2, 6, 7.2, 7.3, 8.4, 9.1.2).
    context_read = "context.read"
    context_write = "context.write"
    objective_read = "objective.read"
    objective_write = "objective.write"
    risk_read = "risk.read"
    risk_write = "risk.write"
    provider_read = "provider.read"
    provider_write = "provider.write"
    competence_read = "competence.read"
    competence_write = "competence.write"
    # Acknowledging that one has read and understood an approved procedure or the policy.
    procedure_acknowledge = "procedure.acknowledge"
    complaint_read = "complaint.read"
    complaint_write = "complaint.write"
    # Who complained and how to reach them: kept apart, like a participant's personal data.
    complaint_personal_read = "complaint.personal.read"

    @property
    def is_read(self) -> bool:
        """Say whether the action only reads."""
        return self.value.endswith((".read", ".verify"))


_READ_RECORDS = {
    Action.self_read,
    Action.programme_read,
    Action.audit_read,
    Action.audit_verify,
    Action.deviation_read,
    Action.action_read,
    Action.participant_read,
    Action.pair_read,
    Action.followup_read,
    Action.procedure_read,
    Action.evaluation_read,
    Action.indicator_read,
    Action.document_generate,
    Action.document_read,
    Action.framework_read,
    Action.internal_audit_read,
    Action.review_read,
    Action.retention_read,
    Action.context_read,
    Action.objective_read,
    Action.risk_read,
    Action.provider_read,
    Action.competence_read,
    Action.complaint_read,
}
# Who keeps the programme records (participants, pairs, meetings, goals, follow-ups).
_KEEP_RECORDS = {
    Action.programme_write,
    Action.participant_personal_read,
    Action.participant_write,
    Action.pair_write,
    Action.followup_write,
    Action.check_run,
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.admin: frozenset(Action),
    # Quality leads own the quality workflow: they log, investigate, act and close.
    Role.quality_lead: frozenset(
        _READ_RECORDS
        | _KEEP_RECORDS
        | {
            Action.deviation_log,
            Action.deviation_write,
            Action.deviation_transition,
            Action.action_manage,
            Action.action_progress,
            Action.procedure_write,
            Action.instrument_write,
            Action.evaluation_import,
            Action.indicator_write,
            Action.import_rollback,
            # Only quality leads plan and run internal audits and management reviews.
            Action.internal_audit_manage,
            Action.review_manage,
            Action.retention_dispose,
            Action.comment_write,
            Action.evidence_write,
            Action.self_write,
            Action.context_write,
            Action.objective_write,
            Action.risk_write,
            Action.provider_write,
            Action.competence_write,
            Action.procedure_acknowledge,
            Action.complaint_write,
            Action.complaint_personal_read,
        }
    ),
    # Coordinators keep the programme records and log what they find in them.
    Role.coordinator: frozenset(
        _READ_RECORDS - {Action.audit_read, Action.audit_verify, Action.retention_read}
        | _KEEP_RECORDS
        | {
            Action.deviation_log,
            # An action's owner reports its progress (in_progress, done) on the actions they own.
            Action.action_progress,
            # Comments on the records they may see: a remark, a question, a correction.
            Action.comment_write,
            Action.evidence_write,
            Action.self_write,
            # Mentors' and their own training; the procedures their role must read.
            Action.competence_write,
            Action.procedure_acknowledge,
            # Complaints reach the programme first: coordinators receive and answer them.
            Action.complaint_write,
            Action.complaint_personal_read,
        }
    ),
    Role.auditor: frozenset(_READ_RECORDS),
    # Scripts import evaluation results and read back their own batches; nothing else.
    Role.importer: frozenset({Action.self_read, Action.evaluation_import, Action.evaluation_read}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user through a token, or the operator at the command line."""

    user_id: int | None
    name: str
    role: Role
    programme_id: int | None = None
    token_id: int | None = None
    web_session_id: int | None = None
    # The name people read them by (the user's display name); the login `name` is what is kept.
    display_name: str | None = None

    def can(self, action: Action) -> bool:
        """Say whether this actor's role allows the action."""
        return can(self.role, action)


def can(role: Role, action: Action) -> bool:
    """Say whether the role allows the action."""
    return action in PERMISSIONS[role]


def require(actor: Actor, action: Action) -> None:
    """Raise Forbidden unless the actor's role allows the action."""
    if not actor.can(action):
        raise Forbidden(forbidden(actor.role, action))


def require_unscoped(actor: Actor, action: Action) -> None:
    """Raise Forbidden for an actor whose token is limited to one programme."""
    if actor.programme_id is not None:
        raise Forbidden(
            Text("A token limited to one programme may not %(action)s.", action=Code(action))
        )


def forbidden(role: Role, action: Action) -> Text:
    """Return why a role may not do something, as the reader is told."""
    return Text(
        "Your role, %(role)s, does not allow you to %(action)s.", role=role, action=Code(action)
    )


# The actor recorded for a request whose credentials failed; it has the least-privileged role.
ANONYMOUS = Actor(user_id=None, name="anonymous", role=Role.importer)
