"""The evidence map: for each requirement of a framework, the effective procedures that serve it,
the records that evidence it in a period, the deviations still open against it, and the gaps.

Records evidence requirements in two ways: by the references they carry (a follow-up, a deviation,
an action, an audit's criteria and checklist lines, a procedure's front matter), and by what they
are — every held follow-up is evidence of monitoring and support, every unwound pair of a process
that recognises and unwinds matches that do not work. The second mapping is EVIDENCE_OF below.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from qms.actions.models import ActionStatus, CorrectiveAction
from qms.audits.models import (
    AuditStatus,
    Conformity,
    InternalAudit,
    ManagementReview,
    ReviewStatus,
)
from qms.competence.models import Acknowledgement, TrainingRecord
from qms.complaints.models import Complaint
from qms.context.models import POLICY_CODE, ContextIssue, InterestedParty, QualityScope
from qms.deviations.models import Deviation, DeviationStatus, deviation_action
from qms.documents.models import IssuedDocument
from qms.evaluations.models import EvaluationResponse, Instrument, Question
from qms.followups.models import FollowUp
from qms.frameworks.catalogue import get_framework, iso_ref, with_ancestors
from qms.frameworks.schemas import Coverage, CoverageRow, EvidenceCount
from qms.i18n import N_
from qms.indicators.models import IndicatorDefinition
from qms.objectives.models import ObjectiveStatus, QualityObjective
from qms.pairs.models import Meeting, Pair, PairStatus
from qms.pairs.service import within_programme
from qms.participants.models import Participant
from qms.periods import bounds, check_range
from qms.permissions import Action, Actor, require
from qms.procedures import service as procedures
from qms.procedures.models import Procedure, ProcedureVersion
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme
from qms.providers.models import Provider, ProviderEvaluation
from qms.risks.models import Risk

# What a record evidences by being what it is, whatever references it carries besides.
EVIDENCE_OF: dict[str, tuple[str, ...]] = {
    N_("follow-ups held"): ("MENTOR:monitoring", "EMCC:measurement-review", "ISO9001:9.1.1"),
    # Roles, boundaries and confidentiality talked through with the pair (PR-06).
    N_("expectations clarified"): ("EMCC:ethics", "MENTOR:matching", "ISO9001:8.2.2"),
    N_("meetings recorded"): ("MENTOR:monitoring", "ISO9001:8.5.1"),
    N_("pairs matched"): ("MENTOR:matching", "EMCC:selection-matching", "ISO9001:8.5.1"),
    N_("pairs unwound"): ("EMCC:selection-matching", "MENTOR:closure"),
    N_("pairs completed"): ("MENTOR:closure",),
    N_("participants trained"): ("MENTOR:training", "EMCC:training", "ISO9001:7.2"),
    # Enrolment is the end of recruitment; a recorded screening, of screening for suitability.
    N_("participants enrolled"): ("MENTOR:recruitment",),
    N_("participants screened"): ("MENTOR:screening", "EMCC:selection-matching"),
    # A programme that states whom it is for and what it aims at, and measures it by indicators
    # with planned values, states its purpose and what success looks like.
    N_("programmes with a stated purpose"): ("EMCC:purpose", "ISO9001:4.3"),
    N_("indicators with a planned value"): ("EMCC:purpose", "ISO9001:6.2"),
    N_("evaluation answers"): ("ISO9001:9.1.2", "ISO9001:9.1.3", "EMCC:measurement-review"),
    N_("internal audits"): ("ISO9001:9.2.1", "ISO9001:9.2.2"),
    N_("management reviews"): (
        "ISO9001:9.3.1",
        "ISO9001:9.3.2",
        "ISO9001:9.3.3",
        "EMCC:measurement-review",
        "EMCC:administration",
    ),
    N_("documents issued"): ("ISO9001:7.5.3", "EMCC:administration"),
    N_("deviations closed"): ("ISO9001:8.7", "ISO9001:10.2"),
    N_("actions verified"): ("ISO9001:10.2",),
    # A completed training of a competence a role needs is the retained evidence of competence
    # (7.2 d); a procedure acknowledged as read and understood, of awareness (7.3).
    N_("training records"): ("ISO9001:7.2",),
    N_("procedures acknowledged as read and understood"): ("ISO9001:7.3",),
    # A provider kept with what it provides and the criteria it is selected and evaluated on
    # (8.4.1, 8.4.3); its evaluations, monitoring its performance (8.4.1, 8.4.2). The catalogue
    # holds 8.4 whole, so they count there.
    # A quality objective with its target, owner, due date and plan (6.2.1, 6.2.2: what will be
    # done, resources, who, when, how evaluated); closed with its result, evaluated (6.2.2 e).
    # The catalogue holds 6.2 whole, so they count there.
    N_("quality objectives with a plan"): ("ISO9001:6.2",),
    N_("quality objectives evaluated"): ("ISO9001:6.2",),
    N_("external providers with criteria"): ("ISO9001:8.4",),
    N_("external provider evaluations"): ("ISO9001:8.4",),
    # A complaint received is feedback from a customer or another interested party (9.1.2) taken
    # in as customer communication (8.2.1 e: complaints); answered, it was dealt with and acted on
    # (10.2.1 a), its outcome stated.
    N_("complaints received"): ("ISO9001:9.1.2", "ISO9001:8.2.1"),
    N_("complaints answered"): ("ISO9001:9.1.2", "ISO9001:8.2.1", "ISO9001:10.2"),
    # The issues of the organisation's context kept under review (4.1), the interested parties
    # with their requirements and how they are met (4.2), the scope with what does not apply
    # (4.3), and the quality policy approved and in force (5.2, 5.1.1 b: established by top
    # management).
    N_("context issues reviewed"): ("ISO9001:4.1",),
    N_("interested parties with their requirements"): ("ISO9001:4.2",),
    N_("scope of the quality system"): ("ISO9001:4.3",),
    N_("quality policy approved"): ("ISO9001:5.2", "ISO9001:5.1.1"),
    # Risks and opportunities rated and treated (6.1.1, 6.1.2 a), and the actions planned on
    # them (6.1.2 a, b). The catalogue holds 6.1 whole, so they count there.
    N_("risks and opportunities assessed"): ("ISO9001:6.1",),
    N_("actions on risks and opportunities"): ("ISO9001:6.1",),
}


def _risks(
    session: Session, tally: _Tally, *, lo: datetime, hi: datetime, programme_id: int | None
) -> None:
    """Count the risks and opportunities kept in the period, and the actions that treat them."""
    kept = (
        select(Risk)
        .where(Risk.created_at < hi, or_(Risk.closed_at.is_(None), Risk.closed_at >= lo))
        .order_by(Risk.id)
    )
    if programme_id is not None:
        kept = kept.where(or_(Risk.programme_id.is_(None), Risk.programme_id == programme_id))
    actions: dict[str, list[str]] = {}
    for risk in session.scalars(kept):
        refs = list(risk.requirements or [])
        tally.add(N_("risks and opportunities assessed"), refs, [risk.number])
        for action in risk.actions:
            if action.created_at < hi:
                actions.setdefault(action.number, list(action.requirements or []))
    for number, refs in actions.items():
        tally.add(N_("actions on risks and opportunities"), refs, [number])


class _Tally:
    """Evidence by requirement and kind: how many records, and which (their numbers or codes)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.records: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def add(self, kind: str, refs: list[str], records: Sequence[str], n: int | None = None) -> None:
        """Count n records (by default one per name) of a kind, named as given."""
        n = len(records) if n is None else n
        if n <= 0:
            return
        for ref in with_ancestors([*EVIDENCE_OF.get(kind, ()), *refs]):
            self.counts[ref][kind] += n
            self.records[ref][kind].extend(records)


def coverage(
    session: Session,
    *,
    actor: Actor,
    framework: str,
    programme_id: int | None,
    period_start: date,
    period_end: date,
) -> Coverage:
    """Build the evidence map of a framework for a programme (or all) and a period."""
    require(actor, Action.framework_read)
    found = get_framework(framework)
    check_range(period_start, period_end)
    if actor.programme_id is not None:
        programme_id = programme_id or actor.programme_id
    if programme_id is not None:
        programmes.get_programme(session, actor=actor, programme_id=programme_id)
    lo, hi = bounds(period_start, period_end)
    tally = _Tally()

    # Each record by what a reader finds it by: a number or a code; a pair's follow-up (it has
    # one) by the pair's code; many records of one pair or participant by its code, once.
    for code, refs, clarified in session.execute(
        within_programme(
            select(Pair.code, FollowUp.requirements, FollowUp.expectations_clarified).join(
                Pair, Pair.id == FollowUp.pair_id
            ),
            programme_id,
        )
        .where(FollowUp.held_on >= period_start, FollowUp.held_on <= period_end)
        .order_by(Pair.code, FollowUp.held_on)
    ):
        tally.add(N_("follow-ups held"), list(refs or []), [code])
        if clarified:
            tally.add(N_("expectations clarified"), [], [code])
    meetings = (
        select(Pair.code, func.count(Meeting.id))
        .join(Pair, Pair.id == Meeting.pair_id)
        .where(Meeting.held_on >= period_start, Meeting.held_on <= period_end)
        .group_by(Pair.code)
        .order_by(Pair.code)
    )
    if programme_id is not None:
        meetings = meetings.join(Cohort, Cohort.id == Pair.cohort_id).where(
            Cohort.programme_id == programme_id
        )
    held = session.execute(meetings).all()
    tally.add(N_("meetings recorded"), [], [code for code, _ in held], sum(n for _, n in held))
    tally.add(
        N_("pairs matched"),
        [],
        list(
            session.scalars(
                within_programme(select(Pair.code), programme_id)
                .where(Pair.matched_on >= period_start, Pair.matched_on <= period_end)
                .order_by(Pair.code)
            )
        ),
    )
    for status, kind in (
        (PairStatus.unwound, N_("pairs unwound")),
        (PairStatus.completed, N_("pairs completed")),
    ):
        tally.add(
            kind,
            [],
            list(
                session.scalars(
                    within_programme(select(Pair.code), programme_id)
                    .where(
                        Pair.status == status,
                        Pair.ended_on >= period_start,
                        Pair.ended_on <= period_end,
                    )
                    .order_by(Pair.code)
                )
            ),
        )
    trained = (
        select(Participant.code, Participant.training_modules)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .where(Cohort.start_on <= period_end, Cohort.end_on >= period_start)
        .order_by(Participant.code)
    )
    if programme_id is not None:
        trained = trained.where(Cohort.programme_id == programme_id)
    tally.add(N_("participants trained"), [], [code for code, m in session.execute(trained) if m])
    people = (
        select(Participant.code)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .order_by(Participant.code)
    )
    if programme_id is not None:
        people = people.where(Cohort.programme_id == programme_id)
    tally.add(
        N_("participants enrolled"),
        [],
        list(
            session.scalars(people.where(Participant.created_at >= lo, Participant.created_at < hi))
        ),
    )
    tally.add(
        N_("participants screened"),
        [],
        list(
            session.scalars(
                people.where(
                    Participant.screened_on >= period_start, Participant.screened_on <= period_end
                )
            )
        ),
    )
    stated = (
        select(Programme.code)
        .where(Programme.objectives != "", Programme.target_group != "")
        .order_by(Programme.code)
    )
    planned = select(IndicatorDefinition.code).order_by(IndicatorDefinition.id)
    if programme_id is not None:
        stated = stated.where(Programme.id == programme_id)
        planned = planned.where(IndicatorDefinition.programme_id == programme_id)
    tally.add(N_("programmes with a stated purpose"), [], list(session.scalars(stated)))
    tally.add(N_("indicators with a planned value"), [], list(session.scalars(planned)))
    answers = (
        select(Instrument.code, Participant.code, func.count(EvaluationResponse.id))
        .select_from(EvaluationResponse)
        .join(Question, Question.id == EvaluationResponse.question_id)
        .join(Instrument, Instrument.id == Question.instrument_id)
        .join(Participant, Participant.id == EvaluationResponse.participant_id)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .where(
            EvaluationResponse.submitted_on >= period_start,
            EvaluationResponse.submitted_on <= period_end,
        )
        .group_by(Instrument.code, Participant.code)
        .order_by(Instrument.code, Participant.code)
    )
    if programme_id is not None:
        answers = answers.where(Cohort.programme_id == programme_id)
    # The answers by who gave them to which instrument: FINAL P-0001.
    given = session.execute(answers).all()
    tally.add(
        N_("evaluation answers"),
        [],
        [f"{instrument} {code}" for instrument, code, _ in given],
        sum(n for _, _, n in given),
    )

    audits = select(InternalAudit).where(
        InternalAudit.status.in_([AuditStatus.reported, AuditStatus.closed]),
        InternalAudit.start_on >= period_start,
        InternalAudit.start_on <= period_end,
    )
    if programme_id is not None:
        audits = audits.where(InternalAudit.programme_id == programme_id)
    for audit in session.scalars(audits.order_by(InternalAudit.id)):
        tally.add(N_("internal audits"), list(audit.criteria or []), [audit.number])
        for line in audit.lines:
            if line.conforms is Conformity.yes and line.requirement:
                tally.add(
                    N_("audit lines conforming"),
                    [line.requirement],
                    [f"{audit.number} #{line.position}"],
                )
    reviews = select(ManagementReview).where(
        ManagementReview.status.in_([ReviewStatus.held, ReviewStatus.closed]),
        ManagementReview.held_on >= period_start,
        ManagementReview.held_on <= period_end,
    )
    if programme_id is not None:
        reviews = reviews.where(ManagementReview.programme_id == programme_id)
    tally.add(
        N_("management reviews"),
        [],
        [r.number for r in session.scalars(reviews.order_by(ManagementReview.id))],
    )

    issued = (
        select(IssuedDocument.id)
        .where(IssuedDocument.issued_at >= lo, IssuedDocument.issued_at < hi)
        .order_by(IssuedDocument.id)
    )
    if programme_id is not None:
        issued = issued.where(IssuedDocument.programme_id == programme_id)
    # An issued document by its issue number (its id), as its identification block prints it.
    tally.add(N_("documents issued"), [], [f"#{i}" for i in session.scalars(issued)])

    deviations = select(Deviation)
    if programme_id is not None:
        deviations = deviations.where(Deviation.programme_id == programme_id)
    open_against: dict[str, list[str]] = defaultdict(list)
    for d in session.scalars(deviations.order_by(Deviation.id)):
        refs = list(d.requirements or []) + ([iso_ref(d.iso_clause)] if d.iso_clause else [])
        if d.status is DeviationStatus.closed:
            if d.closed_at is not None and lo <= d.closed_at < hi:
                tally.add(N_("deviations closed"), refs, [d.number])
        else:
            for ref in with_ancestors(refs):
                open_against[ref].append(d.number)
    action_stmt = select(CorrectiveAction).where(
        CorrectiveAction.status == ActionStatus.verified_effective,
        CorrectiveAction.verified_at >= lo,
        CorrectiveAction.verified_at < hi,
    )
    if programme_id is not None:
        action_stmt = action_stmt.where(
            CorrectiveAction.id.in_(
                select(deviation_action.c.action_id)
                .join(Deviation, Deviation.id == deviation_action.c.deviation_id)
                .where(Deviation.programme_id == programme_id)
            )
        )
    for action in session.scalars(action_stmt.order_by(CorrectiveAction.id)):
        tally.add(N_("actions verified"), list(action.requirements or []), [action.number])

    objectives = (
        select(QualityObjective)
        .where(
            QualityObjective.created_at < hi,
            or_(QualityObjective.closed_at.is_(None), QualityObjective.closed_at >= lo),
        )
        .order_by(QualityObjective.id)
    )
    if programme_id is not None:
        objectives = objectives.where(
            or_(
                QualityObjective.programme_id.is_(None),
                QualityObjective.programme_id == programme_id,
            )
        )
    for objective in session.scalars(objectives):
        refs = list(objective.requirements or [])
        if objective.status is not ObjectiveStatus.withdrawn:
            tally.add(N_("quality objectives with a plan"), refs, [objective.number])
        if (
            objective.status in (ObjectiveStatus.achieved, ObjectiveStatus.not_achieved)
            and objective.closed_at is not None
            and lo <= objective.closed_at < hi
        ):
            tally.add(N_("quality objectives evaluated"), refs, [objective.number])

    kept = (
        select(Provider.code)
        .where(Provider.criteria != "", Provider.created_at < hi)
        .order_by(Provider.code)
    )
    evaluated = (
        select(Provider.code, ProviderEvaluation.evaluated_on)
        .join(Provider, Provider.id == ProviderEvaluation.provider_id)
        .where(
            ProviderEvaluation.evaluated_on >= period_start,
            ProviderEvaluation.evaluated_on <= period_end,
        )
        .order_by(ProviderEvaluation.evaluated_on, ProviderEvaluation.id)
    )
    if programme_id is not None:
        ours = or_(Provider.programme_id.is_(None), Provider.programme_id == programme_id)
        kept, evaluated = kept.where(ours), evaluated.where(ours)
    tally.add(N_("external providers with criteria"), [], list(session.scalars(kept)))
    received = (
        select(Complaint.number)
        .where(Complaint.received_on >= period_start, Complaint.received_on <= period_end)
        .order_by(Complaint.id)
    )
    answered = (
        select(Complaint.number)
        .where(Complaint.answered_at >= lo, Complaint.answered_at < hi)
        .order_by(Complaint.id)
    )
    if programme_id is not None:
        received = received.where(Complaint.programme_id == programme_id)
        answered = answered.where(Complaint.programme_id == programme_id)
    tally.add(N_("complaints received"), [], list(session.scalars(received)))
    _risks(session, tally, lo=lo, hi=hi, programme_id=programme_id)
    tally.add(N_("complaints answered"), [], list(session.scalars(answered)))
    # Each evaluation counted, its provider named once by its code (as a pair's meetings are).
    evaluations = [code for code, _ in session.execute(evaluated)]
    tally.add(
        N_("external provider evaluations"),
        [],
        list(dict.fromkeys(evaluations)),
        len(evaluations),
    )

    trained = (
        select(TrainingRecord.number)
        .where(
            TrainingRecord.completed_on >= period_start,
            TrainingRecord.completed_on <= period_end,
        )
        .order_by(TrainingRecord.number)
    )
    if programme_id is not None:
        # A programme's mentors' trainings, and the staff's, who serve every programme.
        mentors = (
            select(Participant.id)
            .join(Cohort, Cohort.id == Participant.cohort_id)
            .where(Cohort.programme_id == programme_id)
        )
        trained = trained.where(
            TrainingRecord.participant_id.is_(None) | TrainingRecord.participant_id.in_(mentors)
        )
    tally.add(N_("training records"), [], list(session.scalars(trained)))
    acknowledged = (
        select(Procedure.code, ProcedureVersion.number, func.count(Acknowledgement.id))
        .join(ProcedureVersion, ProcedureVersion.id == Acknowledgement.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(Acknowledgement.acknowledged_at >= lo, Acknowledgement.acknowledged_at < hi)
        .group_by(Procedure.code, ProcedureVersion.number)
        .order_by(Procedure.code, ProcedureVersion.number)
    )
    tally.add(
        N_("procedures acknowledged as read and understood"),
        [],
        [f"{code} v{number}" for code, number, _ in session.execute(acknowledged)],
    )

    # The context as it stood in the period: issues recorded by its end and not yet found no
    # longer relevant at its start (a programme's reader, those of the organisation and theirs).
    issues = (
        select(ContextIssue.number)
        .where(
            ContextIssue.created_at < hi,
            or_(ContextIssue.ended_on.is_(None), ContextIssue.ended_on >= period_start),
        )
        .order_by(ContextIssue.id)
    )
    parties = (
        select(InterestedParty.number)
        .where(
            InterestedParty.created_at < hi,
            or_(InterestedParty.ended_on.is_(None), InterestedParty.ended_on >= period_start),
        )
        .order_by(InterestedParty.id)
    )
    if programme_id is not None:
        issues = issues.where(
            or_(ContextIssue.programme_id.is_(None), ContextIssue.programme_id == programme_id)
        )
        parties = parties.where(
            or_(
                InterestedParty.programme_id.is_(None),
                InterestedParty.programme_id == programme_id,
            )
        )
    tally.add(N_("context issues reviewed"), [], list(session.scalars(issues)))
    tally.add(N_("interested parties with their requirements"), [], list(session.scalars(parties)))
    scope = session.scalars(
        select(QualityScope).where(QualityScope.created_at < hi).order_by(QualityScope.id)
    ).first()
    if scope is not None:
        tally.add(N_("scope of the quality system"), [], [f"v{scope.version}"])
    policy = session.scalars(
        select(ProcedureVersion)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
        .where(
            Procedure.code == POLICY_CODE,
            ProcedureVersion.approved_at.is_not(None),
            ProcedureVersion.approved_at < hi,
            or_(ProcedureVersion.ended_at.is_(None), ProcedureVersion.ended_at >= lo),
        )
        .order_by(ProcedureVersion.number)
    ).all()
    tally.add(N_("quality policy approved"), [], [f"{POLICY_CODE} v{v.number}" for v in policy])

    served: dict[str, list[str]] = defaultdict(list)
    for procedure in procedures.list_procedures(session, actor=actor):
        version = procedures.effective(procedure)
        if version is None:
            continue
        refs = list(version.requirements or []) + [iso_ref(c) for c in version.iso_clauses or []]
        for ref in with_ancestors(refs):
            served[ref].append(f"{procedure.code} v{version.number}")

    rows = []
    for req in found.requirements:
        evidence = [
            EvidenceCount(kind=k, count=n, records=tally.records[req.ref][k])
            for k, n in sorted(tally.counts[req.ref].items())
        ]
        gaps = []
        if not served[req.ref]:
            gaps.append(N_("no effective procedure"))
        if not evidence:
            gaps.append(N_("no evidence in the period"))
        rows.append(
            CoverageRow(
                ref=req.ref,
                code=req.code,
                title=req.title,
                depth=req.depth,
                procedures=sorted(served[req.ref]),
                evidence=evidence,
                open_deviations=open_against[req.ref],
                gap=bool(gaps),
                gaps=gaps,
            )
        )
    return Coverage(
        framework=found.code,
        programme_id=programme_id,
        period_start=period_start,
        period_end=period_end,
        covered=sum(1 for r in rows if not r.gap),
        gaps=sum(1 for r in rows if r.gap),
        rows=rows,
    )
