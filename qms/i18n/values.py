"""The words of stored values, events and fields as a reader says them, marked for the catalogue.

A stored value (a state, a severity, a role) is shown by `label()`, never as its code: its English
words here, then the catalogue of the reader's language (the permission table's actions are shown
to no one and have none). tests/test_i18n.py checks that every member of every other enum has its
words here and a translation in each language.
"""

from __future__ import annotations

from qms.i18n import N_

VALUES: dict[str, str] = {
    # qms.actions.models.ActionStatus
    "planned": N_("planned"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
    "verified_effective": N_("verified effective"),
    "ineffective": N_("ineffective"),
    # qms.actions.models.ActionType
    "correction": N_("correction"),
    "corrective": N_("corrective"),
    "preventive": N_("preventive"),
    # qms.audits.models.AuditStatus
    "reported": N_("reported"),
    "closed": N_("closed"),
    "cancelled": N_("cancelled"),
    # qms.audits.models.Conformity
    "yes": N_("yes"),
    "no": N_("no"),
    "not_applicable": N_("not applicable"),
    # qms.audits.models.DecisionKind
    "improvement": N_("improvement"),
    "change": N_("change"),
    "resources": N_("resources"),
    # qms.audits.models.ReviewStatus
    "held": N_("held"),
    # qms.deviations.models.DeviationKind
    "nonconformity": N_("nonconformity"),
    "deviation_from_plan": N_("deviation from plan"),
    "observation": N_("observation"),
    # qms.deviations.models.DeviationSource
    "follow_up": N_("follow up"),
    "evaluation": N_("evaluation"),
    "meeting_rule": N_("meeting rule"),
    "internal_audit": N_("internal audit"),
    "complaint": N_("complaint"),
    "self_reported": N_("self reported"),
    "indicator": N_("indicator"),
    # qms.deviations.models.DeviationStatus
    "open": N_("open"),
    "investigating": N_("investigating"),
    "action_required": N_("action required"),
    "reopened": N_("reopened"),
    # qms.deviations.models.RootCauseMethod
    "five_whys": N_("five whys"),
    "fishbone": N_("fishbone"),
    "other": N_("other"),
    # qms.deviations.models.Severity
    "minor": N_("minor"),
    "major": N_("major"),
    "critical": N_("critical"),
    # qms.evaluations.models.BatchKind
    "evaluations": N_("evaluations"),
    "outcomes": N_("outcomes"),
    # qms.evaluations.models.OutcomeKind
    "employed_full_time": N_("employed full time"),
    "employed_part_time": N_("employed part time"),
    "education": N_("education"),
    "job_seeking": N_("job seeking"),
    # qms.evaluations.models.QuestionType
    "scale": N_("scale"),
    "choice": N_("choice"),
    "text": N_("text"),
    # qms.evaluations.models.Respondent
    "mentor": N_("mentor"),
    "mentee": N_("mentee"),
    "both": N_("both"),
    # qms.followups.models.FollowUpOutcome
    "on_track": N_("on track"),
    "concern": N_("concern"),
    "at_risk": N_("at risk"),
    # qms.indicators.models.Computation
    "completion_rate": N_("completion rate"),
    "occupation_rate": N_("occupation rate"),
    "employment_rate": N_("employment rate"),
    "full_time_rate": N_("full time rate"),
    "follow_up_completion": N_("follow up completion"),
    "meeting_rule_compliance": N_("meeting rule compliance"),
    "mean_score": N_("mean score"),
    "open_deviations": N_("open deviations"),
    "overdue_actions": N_("overdue actions"),
    "on_time_capa_closure": N_("on time capa closure"),
    "entered": N_("entered"),
    # qms.indicators.models.Direction
    "higher_is_better": N_("higher is better"),
    "lower_is_better": N_("lower is better"),
    # qms.pairs.models.MeetingMode
    "in_person": N_("in person"),
    "video": N_("video"),
    "phone": N_("phone"),
    # qms.pairs.models.PairStatus
    "matched": N_("matched"),
    "active": N_("active"),
    "completed": N_("completed"),
    "unwound": N_("unwound"),
    # qms.participants.models.GoalStatus
    "achieved": N_("achieved"),
    "dropped": N_("dropped"),
    # qms.permissions.Role
    "admin": N_("admin"),
    "quality_lead": N_("quality lead"),
    "coordinator": N_("coordinator"),
    "auditor": N_("auditor"),
    "importer": N_("importer"),
    # qms.procedures.models.VersionStatus
    "draft": N_("draft"),
    "in_review": N_("in review"),
    "approved": N_("approved"),
    "superseded": N_("superseded"),
    "obsolete": N_("obsolete"),
    # qms.programmes.models.ProgrammeStatus
    "running": N_("running"),
    # qms.signatures.models.SignatureMeaning
    "verified": N_("verified"),
    "reviewed": N_("reviewed"),
    # Computed states: indicators against plan, follow-ups, meetings, tokens and users
    "overdue": N_("overdue"),
    "due": N_("due"),
    "short": N_("short"),
    "kept": N_("kept"),
    "met": N_("met"),
    "below_plan": N_("below plan"),
    "breach": N_("breach"),
    "no_data": N_("no data"),
    "percent": N_("percent"),
    "count": N_("count"),
    "score": N_("score"),
    "deactivated": N_("deactivated"),
    "revoked": N_("revoked"),
    # Kinds of record and their disposition (qms.retention.service.RULES)
    "personal_data": N_("personal data"),
    "follow_up_notes": N_("follow-up notes"),
    "meeting": N_("meeting"),
    "evaluation_response": N_("evaluation answer"),
    "issued_document": N_("issued document"),
    "pseudonymise": N_("pseudonymise"),
    "remove": N_("remove"),
    # Rules of the checks (qms.checks.service.RULES), named in the management-review input
    "follow_up_overdue": N_("follow-up overdue"),
    "at_risk_undecided": N_("at risk without a decision"),
    # Events of the audit trail
    "deviation.created": N_("deviation.created"),
    "deviation.transitioned": N_("deviation.transitioned"),
    "deviation.updated": N_("deviation.updated"),
    "deviation.action_linked": N_("deviation.action linked"),
    "action.created": N_("action.created"),
    "action.transitioned": N_("action.transitioned"),
    "action.updated": N_("action.updated"),
    "signature.signed": N_("signature.signed"),
    # The records whose life cycle is a state machine (qms.workflow), named in refusals
    "programme": N_("programme"),
    "corrective action": N_("corrective action"),
    "pair": N_("pair"),
    "procedure version": N_("procedure version"),
    "internal audit": N_("internal audit"),
    "management review": N_("management review"),
    # Fields named in timelines and refusals
    "action": N_("action"),
    "deviation": N_("deviation"),
    "description": N_("description"),
    "title": N_("title"),
    "severity": N_("severity"),
    "status": N_("status"),
    "reason": N_("reason"),
    "root_cause": N_("root cause"),
    "root_cause_method": N_("root cause method"),
    "evidence": N_("evidence"),
    "owner": N_("owner"),
    "due_on": N_("due on"),
    "closure_summary": N_("closure summary"),
    "no_action_reason": N_("no action reason"),
    "completion_note": N_("completion note"),
}

# Texts the pages choose at run time (a status's title, a refusal kept from a sign-in).
PAGE_TEXTS = (
    N_("Sign in to continue"),
    N_("Not allowed"),
    N_("Not found"),
    N_("Conflict"),
    N_("Changed meanwhile"),
    N_("Not valid"),
    N_("Request failed"),
    N_("wrong user name or password"),
)
