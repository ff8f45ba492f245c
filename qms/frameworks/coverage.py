"""The evidence map: for each requirement of a framework, the effective procedures that serve it,
the records that evidence it in a period, the deviations still open against it, and the gaps.

Records evidence requirements in two ways: by the references they carry (a follow-up, a deviation,
an action, an audit's criteria and checklist lines, a procedure's front matter), and by what they
are — every held follow-up is evidence of monitoring and support, every unwound pair of a process
that recognises and unwinds matches that do not work. The second mapping is EVIDENCE_OF below.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qms.actions.models import ActionStatus, CorrectiveAction
from qms.audits.models import (
    AuditStatus,
    Conformity,
    InternalAudit,
    ManagementReview,
    ReviewStatus,
)
from qms.deviations.models import Deviation, DeviationStatus, deviation_action
from qms.documents.models import IssuedDocument
from qms.evaluations.models import EvaluationResponse
from qms.followups.models import FollowUp
from qms.frameworks.catalogue import get_framework, iso_ref, with_ancestors
from qms.frameworks.schemas import Coverage, CoverageRow, EvidenceCount
from qms.i18n import N_
from qms.indicators.models import IndicatorDefinition
from qms.pairs.models import Meeting, Pair, PairStatus
from qms.pairs.service import within_programme
from qms.participants.models import Participant
from qms.periods import bounds, check_range
from qms.permissions import Action, Actor, require
from qms.procedures import service as procedures
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme

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
}


class _Tally:
    """Counts of evidence by requirement and kind."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, kind: str, refs: list[str], n: int = 1) -> None:
        if n <= 0:
            return
        for ref in with_ancestors([*EVIDENCE_OF.get(kind, ()), *refs]):
            self.counts[ref][kind] += n


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

    for refs, clarified in session.execute(
        within_programme(
            select(FollowUp.requirements, FollowUp.expectations_clarified).join(
                Pair, Pair.id == FollowUp.pair_id
            ),
            programme_id,
        ).where(FollowUp.held_on >= period_start, FollowUp.held_on <= period_end)
    ):
        tally.add(N_("follow-ups held"), list(refs or []))
        if clarified:
            tally.add(N_("expectations clarified"), [])
    tally.add(
        N_("meetings recorded"),
        [],
        session.scalar(
            within_programme(
                select(func.count(Meeting.id)).join(Pair, Pair.id == Meeting.pair_id), programme_id
            ).where(Meeting.held_on >= period_start, Meeting.held_on <= period_end)
        )
        or 0,
    )
    tally.add(
        N_("pairs matched"),
        [],
        session.scalar(
            within_programme(select(func.count(Pair.id)), programme_id).where(
                Pair.matched_on >= period_start, Pair.matched_on <= period_end
            )
        )
        or 0,
    )
    for status, kind in (
        (PairStatus.unwound, N_("pairs unwound")),
        (PairStatus.completed, N_("pairs completed")),
    ):
        tally.add(
            kind,
            [],
            session.scalar(
                within_programme(select(func.count(Pair.id)), programme_id).where(
                    Pair.status == status,
                    Pair.ended_on >= period_start,
                    Pair.ended_on <= period_end,
                )
            )
            or 0,
        )
    trained = (
        select(Participant.training_modules)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .where(Cohort.start_on <= period_end, Cohort.end_on >= period_start)
    )
    if programme_id is not None:
        trained = trained.where(Cohort.programme_id == programme_id)
    tally.add(N_("participants trained"), [], sum(1 for m in session.scalars(trained) if m))
    people = select(func.count(Participant.id)).join(Cohort, Cohort.id == Participant.cohort_id)
    if programme_id is not None:
        people = people.where(Cohort.programme_id == programme_id)
    tally.add(
        N_("participants enrolled"),
        [],
        session.scalar(people.where(Participant.created_at >= lo, Participant.created_at < hi))
        or 0,
    )
    tally.add(
        N_("participants screened"),
        [],
        session.scalar(
            people.where(
                Participant.screened_on >= period_start, Participant.screened_on <= period_end
            )
        )
        or 0,
    )
    stated = select(func.count(Programme.id)).where(
        Programme.objectives != "", Programme.target_group != ""
    )
    planned = select(func.count(IndicatorDefinition.id))
    if programme_id is not None:
        stated = stated.where(Programme.id == programme_id)
        planned = planned.where(IndicatorDefinition.programme_id == programme_id)
    tally.add(N_("programmes with a stated purpose"), [], session.scalar(stated) or 0)
    tally.add(N_("indicators with a planned value"), [], session.scalar(planned) or 0)
    answers = (
        select(func.count(EvaluationResponse.id))
        .join(Participant, Participant.id == EvaluationResponse.participant_id)
        .join(Cohort, Cohort.id == Participant.cohort_id)
        .where(
            EvaluationResponse.submitted_on >= period_start,
            EvaluationResponse.submitted_on <= period_end,
        )
    )
    if programme_id is not None:
        answers = answers.where(Cohort.programme_id == programme_id)
    tally.add(N_("evaluation answers"), [], session.scalar(answers) or 0)

    audits = select(InternalAudit).where(
        InternalAudit.status.in_([AuditStatus.reported, AuditStatus.closed]),
        InternalAudit.start_on >= period_start,
        InternalAudit.start_on <= period_end,
    )
    if programme_id is not None:
        audits = audits.where(InternalAudit.programme_id == programme_id)
    for audit in session.scalars(audits):
        tally.add(N_("internal audits"), list(audit.criteria or []))
        for line in audit.lines:
            if line.conforms is Conformity.yes and line.requirement:
                tally.add(N_("audit lines conforming"), [line.requirement])
    reviews = select(ManagementReview).where(
        ManagementReview.status.in_([ReviewStatus.held, ReviewStatus.closed]),
        ManagementReview.held_on >= period_start,
        ManagementReview.held_on <= period_end,
    )
    if programme_id is not None:
        reviews = reviews.where(ManagementReview.programme_id == programme_id)
    tally.add(N_("management reviews"), [], len(list(session.scalars(reviews))))

    issued = select(func.count(IssuedDocument.id)).where(
        IssuedDocument.issued_at >= lo, IssuedDocument.issued_at < hi
    )
    if programme_id is not None:
        issued = issued.where(IssuedDocument.programme_id == programme_id)
    tally.add(N_("documents issued"), [], session.scalar(issued) or 0)

    deviations = select(Deviation)
    if programme_id is not None:
        deviations = deviations.where(Deviation.programme_id == programme_id)
    open_against: dict[str, list[str]] = defaultdict(list)
    for d in session.scalars(deviations.order_by(Deviation.id)):
        refs = list(d.requirements or []) + ([iso_ref(d.iso_clause)] if d.iso_clause else [])
        if d.status is DeviationStatus.closed:
            if d.closed_at is not None and lo <= d.closed_at < hi:
                tally.add(N_("deviations closed"), refs)
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
    for action in session.scalars(action_stmt):
        tally.add(N_("actions verified"), list(action.requirements or []))

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
            EvidenceCount(kind=k, count=n) for k, n in sorted(tally.counts[req.ref].items())
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
