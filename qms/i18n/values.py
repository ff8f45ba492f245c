"""The words of stored values, events and fields as a reader says them, marked for the catalogue.

A stored value (a state, a severity, a role) is shown by `label()`, never as its code: its English
words here, then the catalogue of the reader's language (the permission table's actions are shown
to no one and have none). tests/test_i18n.py checks that every member of every other enum has its
words here and a translation in each language.
"""

from __future__ import annotations

from qms.i18n import N_, label, translate

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
    # Who someone is: the name people read a user by, and its change in the audit trail
    "display_name": N_("display name"),
    "user.display_name_changed": N_("display name changed"),
}

# The kinds of record the audit trail names (an event's entity), as its pick-list and its rows
# name them; kept apart from VALUES, where "action" is a corrective action's field.
KINDS: dict[str, str] = {
    "programme": N_("programme"),
    "cohort": N_("cohort"),
    "participant": N_("participant"),
    "goal": N_("goal"),
    "pair": N_("pair"),
    "meeting": N_("meeting"),
    "follow_up": N_("mid-programme follow-up"),
    "procedure": N_("procedure"),
    "procedure_version": N_("procedure version"),
    "deviation": N_("deviation"),
    "action": N_("corrective action"),
    "internal_audit": N_("internal audit"),
    "management_review": N_("management review"),
    "indicator": N_("indicator"),
    "instrument": N_("survey instrument"),
    "evaluation_batch": N_("import"),
    "issued_document": N_("issued document"),
    "retention_decision": N_("disposition decision"),
    "check": N_("rule check"),
    "rule_finding": N_("rule finding"),
    "user": N_("user"),
    "token": N_("access token"),
    "web_session": N_("web session"),
    "session": N_("sign-in"),
}

# The events of the audit trail, as its pick-list and its rows name them: every event the code
# records (tests/test_audit_view.py holds the code to this list).
EVENTS: dict[str, str] = {
    "programme.created": N_("programme created"),
    "programme.updated": N_("programme changed"),
    "programme.transitioned": N_("programme status changed"),
    "cohort.created": N_("cohort created"),
    "cohort.updated": N_("cohort changed"),
    "participant.created": N_("participant registered"),
    "participant.updated": N_("participant changed"),
    "participant.erased": N_("personal data erased"),
    "goal.created": N_("goal set"),
    "goal.updated": N_("goal changed"),
    "pair.matched": N_("pair matched"),
    "pair.transitioned": N_("pair status changed"),
    "meeting.recorded": N_("meeting recorded"),
    "follow_up.scheduled": N_("follow-up scheduled"),
    "follow_up.rescheduled": N_("follow-up rescheduled"),
    "follow_up.recorded": N_("follow-up recorded"),
    "procedure.created": N_("procedure created"),
    "procedure.synced": N_("procedure brought in from its library file"),
    "procedure_version.drafted": N_("procedure version drafted"),
    "procedure_version.updated": N_("procedure version changed"),
    "procedure_version.transitioned": N_("procedure version status changed"),
    "procedure_version.reviewed": N_("procedure version reviewed"),
    "procedure_version.superseded": N_("procedure version superseded"),
    "deviation.created": N_("deviation logged"),
    "deviation.updated": N_("deviation changed"),
    "deviation.transitioned": N_("deviation status changed"),
    "deviation.action_linked": N_("corrective action linked to deviation"),
    "action.created": N_("corrective action planned"),
    "action.updated": N_("corrective action changed"),
    "action.transitioned": N_("corrective action status changed"),
    "internal_audit.planned": N_("internal audit planned"),
    "internal_audit.updated": N_("internal audit changed"),
    "internal_audit.line_added": N_("checklist line added"),
    "internal_audit.line_answered": N_("checklist line answered"),
    "internal_audit.in_progress": N_("internal audit started"),
    "internal_audit.reported": N_("internal audit reported"),
    "internal_audit.closed": N_("internal audit closed"),
    "internal_audit.cancelled": N_("internal audit cancelled"),
    "review.planned": N_("management review planned"),
    "review.updated": N_("management review changed"),
    "review.decided": N_("management review decision recorded"),
    "review.held": N_("management review held"),
    "review.closed": N_("management review closed"),
    "review.cancelled": N_("management review cancelled"),
    "indicator.defined": N_("indicator defined"),
    "indicator.value_entered": N_("indicator value entered"),
    "instrument.created": N_("survey instrument created"),
    "import.completed": N_("import completed"),
    "import.rolled_back": N_("import rolled back"),
    "document.issued": N_("document issued"),
    "signature.signed": N_("signed"),
    "retention.disposed": N_("records disposed of"),
    "check.run": N_("rules checked"),
    "rule_finding.recurred": N_("rule finding recurred"),
    "rule_finding.cleared": N_("rule finding cleared"),
    "user.created": N_("user created"),
    "user.activated": N_("user activated"),
    "user.deactivated": N_("user deactivated"),
    "user.password_set": N_("password set"),
    "user.display_name_changed": N_("display name changed"),
    "token.created": N_("access token created"),
    "token.revoked": N_("access token revoked"),
    "session.started": N_("signed in"),
    "session.ended": N_("signed out"),
    "login.failed": N_("sign-in failed"),
    "access.read": N_("records read"),
}
VALUES.update(EVENTS)


def record_kind(kind: str, language: str) -> str:
    """Return a kind of record as a reader says it (corrective action, not "action")."""
    return translate(KINDS[kind], language) if kind in KINDS else label(kind, language)


# What each permission lets a role do (qms.permissions.Action), said in a refusal: "As an auditor
# you may not log deviations."
ACTIONS: dict[str, str] = {
    "self.read": N_("see your own account"),
    "programme.read": N_("see programmes"),
    "programme.write": N_("create or change programmes"),
    "audit.read": N_("read the audit trail"),
    "audit.verify": N_("verify the audit trail"),
    "user.manage": N_("manage users and tokens"),
    "deviation.read": N_("see deviations"),
    "deviation.log": N_("log deviations"),
    "deviation.write": N_("change deviations"),
    "deviation.transition": N_("change a deviation's status"),
    "action.read": N_("see corrective actions"),
    "action.manage": N_("plan and change corrective actions"),
    "action.progress": N_("report progress on corrective actions"),
    "participant.read": N_("see participants"),
    "participant.personal.read": N_("see participants' personal data"),
    "participant.write": N_("register or change participants"),
    "pair.read": N_("see pairs and meetings"),
    "pair.write": N_("match pairs or record meetings"),
    "followup.read": N_("see follow-ups"),
    "followup.write": N_("record follow-ups"),
    "check.run": N_("run the rule check"),
    "procedure.read": N_("see procedures"),
    "procedure.write": N_("draft, review or approve procedures"),
    "instrument.write": N_("create or change questionnaires"),
    "evaluation.read": N_("see evaluation results and imports"),
    "evaluation.import": N_("import evaluation results"),
    "indicator.read": N_("see indicators"),
    "indicator.write": N_("set indicators and enter their values"),
    "import.rollback": N_("roll back an import"),
    "document.generate": N_("issue documents"),
    "document.read": N_("read issued documents"),
    "framework.read": N_("see the ISO 9001 evidence map"),
    "internal_audit.read": N_("see internal audits"),
    "internal_audit.manage": N_("plan and carry out internal audits"),
    "review.read": N_("see management reviews"),
    "review.manage": N_("prepare and hold management reviews"),
    "retention.read": N_("see what is due for disposal"),
    "retention.dispose": N_("dispose of records"),
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
