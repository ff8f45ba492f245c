"""The demo's internal audit and management review of the VIA-JOB programme."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from qms.actions.models import ActionType
from qms.audits import reviews
from qms.audits import service as audits
from qms.audits.models import Conformity, DecisionKind
from qms.audits.schemas import (
    ActionOpen,
    AuditCreate,
    AuditUpdate,
    ChecklistLineCreate,
    DecisionCreate,
    LineAnswer,
    ReviewCreate,
    ReviewUpdate,
    Transition,
)
from qms.demo.evidence import letter_pdf
from qms.deviations.models import Severity
from qms.evidence import service as evidence_files
from qms.permissions import Actor
from qms.procedures import service as procedures
from qms.procedures.schemas import VersionDraft, VersionTransition
from qms.signatures.service import confirmation_of

CHECKLIST = [
    (
        "Is each match documented with the field and goals it rests on?",
        "PR-05",
        "EMCC:selection-matching",
        Conformity.yes,
        "Twelve match records of cohort 2025, each with a rationale naming field and goal.",
    ),
    (
        "Was the match that did not work recognised and unwound, and the mentee rematched?",
        "PR-05",
        "EMCC:selection-matching",
        Conformity.yes,
        "One pair unwound after the mentee's move; rematched within three weeks.",
    ),
    (
        "Was every pair's mid-programme follow-up held by the cohort's midpoint?",
        "PR-09",
        "MENTOR:monitoring",
        Conformity.no,
        "Follow-up board of cohort 2025: two follow-ups held five weeks after the midpoint; "
        "no decision recorded for the delay.",
    ),
    (
        "Have mentors completed the five training modules before the first meeting?",
        "PR-07",
        "MENTOR:training",
        Conformity.yes,
        "Participant records list all five modules for every mentor of cohort 2025.",
    ),
]


def load(
    session: Session, *, lead: Actor, auditor: Actor, manager: Actor, programme_id: int
) -> None:
    """Plan, hold, report and close an internal audit; hold and close a management review."""
    audit = audits.create(
        session,
        actor=lead,
        data=AuditCreate(
            title="Matching, training and mid-programme follow-up, cohort 2025",
            scope="VIA-JOB cohort 2025: matching, mentor training and the follow-up at midpoint.",
            programme_id=programme_id,
            criteria=["EMCC:selection-matching", "MENTOR:monitoring", "MENTOR:training"],
            procedure_codes=["PR-05", "PR-07", "PR-09"],
            auditors=[auditor.name],
            auditees=["demo-coordinator"],
            start_on=date(2026, 5, 11),
            end_on=date(2026, 5, 12),
            checklist=[
                ChecklistLineCreate(question=q, procedure_code=p, requirement=r)
                for q, p, r, _, _ in CHECKLIST
            ],
        ),
    )
    audit = audits.transition(
        session,
        actor=auditor,
        audit_id=audit.id,
        data=Transition(to="in_progress"),
        if_match=audit.version,
    )
    for line, (_, _, _, conforms, evidence) in zip(audit.lines, CHECKLIST, strict=True):
        audits.answer_line(
            session,
            actor=auditor,
            audit_id=audit.id,
            line_id=line.id,
            data=LineAnswer(conforms=conforms, evidence=evidence, severity=Severity.minor),
            if_match=line.version,
        )
    audit = audits.update(
        session,
        actor=auditor,
        audit_id=audit.id,
        data=AuditUpdate(
            strong_points="Match rationales are specific; the unwinding was handled quickly.",
            improvement_points="Book the follow-up meetings at the kick-off, not at the midpoint.",
            conclusion="Matching and training conform; the follow-up timing does not (one "
            "deviation raised).",
        ),
        if_match=audit.version,
    )
    audit = audits.transition(
        session,
        actor=auditor,
        audit_id=audit.id,
        data=Transition(to="reported"),
        if_match=audit.version,
    )
    audits.transition(
        session,
        actor=lead,
        audit_id=audit.id,
        data=Transition(to="closed", **confirmation_of("internal_audit", "closed")),
        if_match=audit.version,
    )

    review = reviews.create(
        session,
        actor=manager,
        data=ReviewCreate(
            title="Management review of VIA-JOB, cohort 2025 and the first half of 2026",
            programme_id=programme_id,
            period_start=date(2025, 2, 1),
            period_end=date(2026, 6, 30),
            planned_on=date(2026, 9, 15),
            participants=["demo-quality-manager", "demo-quality-lead", "demo-coordinator"],
        ),
    )
    review = reviews.transition(
        session,
        actor=manager,
        review_id=review.id,
        data=Transition(to="held", held_on=date(2026, 9, 15)),
        if_match=review.version,
    )
    reviews.decide(
        session,
        actor=manager,
        review_id=review.id,
        data=DecisionCreate(
            kind=DecisionKind.improvement,
            text="Book every pair's mid-programme follow-up at the kick-off.",
            action=ActionOpen(
                type=ActionType.preventive,
                title="Follow-up dates booked at kick-off",
                action="Add booking the follow-up to the kick-off agenda in PR-09 and PR-06.",
                owner="demo-coordinator",
                due_on=date(2027, 1, 29),
                requirements=["MENTOR:monitoring"],
            ),
        ),
    )
    reviews.decide(
        session,
        actor=manager,
        review_id=review.id,
        data=DecisionCreate(
            kind=DecisionKind.resources,
            text="Keep one coordinator for up to fifteen live pairs; no change needed now.",
        ),
    )
    review = reviews.update(
        session,
        actor=manager,
        review_id=review.id,
        data=ReviewUpdate(
            conclusion="The quality system is suitable and effective for the programme; the "
            "follow-up timing is the one improvement to make before cohort 2026's midpoint."
        ),
        if_match=review.version,
    )
    # The minutes the participants signed, a PDF the demo writes, kept with the review before it
    # is closed (its files are fixed from then on).
    evidence_files.attach(
        session,
        actor=manager,
        record="management_review",
        record_id=review.id,
        content=letter_pdf(
            [
                f"Minutes of the management review {review.number}, 15 September 2026",
                "Present: the quality manager, the quality lead, the coordinator",
                "",
                "1. Actions from earlier reviews and audits: all closed or on time.",
                f"2. Follow-up at mid-programme came late for cohort 2025 ({audit.number}).",
                "   Decided: book every pair's follow-up at the kick-off.",
                "3. Resources: one coordinator for up to fifteen live pairs; no change.",
                "",
                "Signed by the participants.",
            ]
        ),
        file_name="signed-minutes.pdf",
    )
    reviews.transition(
        session,
        actor=manager,
        review_id=review.id,
        data=Transition(to="closed", **confirmation_of("management_review", "closed")),
        if_match=review.version,
    )


# PR-08's second version: what the corrective action on the pair below the meeting rule changed
# in the procedure (every pair's log checked each month, not only the pairs the rule flags), so
# that the procedure's history and the diff between its versions have something to show.
MEETING_CHECK_BEFORE = (
    "4. The coordinator contacts the pair within a week of a finding, finds the reason and agrees "
    "what\n   to do"
)
MEETING_CHECK_STEP = (
    "4. On the same day the coordinator reads every pair's meeting log for the month before, not "
    "only\n   the pairs the rule check flags, and notes each pair whose meetings thinned out or "
    "whose topics\n   stalled; the check is recorded in the coordinator's monthly report.\n"
)
MEETING_CHECK_RECORD = (
    "| Monthly log checks (date, pairs read, pairs followed up) | Coordinator's monthly report "
    "| 10 years |\n"
)


def revise_meeting_procedure(session: Session, *, author: Actor, approver: Actor) -> None:
    """Write, submit and approve PR-08 version 2: a monthly check of every pair's meeting log."""
    procedure = procedures.get_by_code(session, "PR-08")
    assert procedure is not None
    current = procedures.effective(procedure)
    assert current is not None
    content = current.content
    if MEETING_CHECK_BEFORE in content:
        # The step goes in before the contact step, which is numbered on by one.
        content = content.replace(
            MEETING_CHECK_BEFORE,
            MEETING_CHECK_STEP + MEETING_CHECK_BEFORE.replace("4. ", "5. ", 1),
        ).replace("\n5. A finding that clears", "\n6. A finding that clears")
    else:
        content = f"{content.rstrip()}\n\n{MEETING_CHECK_STEP}"
    # And its record in the table of records kept, when the procedure has the table.
    content = content.replace(
        " |\n\n## How compliance is measured",
        f" |\n{MEETING_CHECK_RECORD}\n## How compliance is measured",
        1,
    )
    draft = procedures.new_draft(
        session,
        actor=author,
        procedure_id=procedure.id,
        data=VersionDraft(
            title=current.title,
            owner_role=current.owner_role,
            review_months=current.review_months,
            iso_clauses=list(current.iso_clauses),
            requirements=list(current.requirements),
            content=content,
            change_summary="Every pair's meeting log is read each month, not only the pairs the "
            "rule check flags (the corrective action on the pair below the meeting rule).",
        ),
    )
    for to, who in (("in_review", author), ("approved", approver)):
        procedures.transition(
            session,
            actor=who,
            procedure_id=procedure.id,
            number=draft.number,
            data=VersionTransition.model_validate(
                {"to": to, **confirmation_of("procedure_version", to)}
            ),
            if_match=draft.version,
        )
