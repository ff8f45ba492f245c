"""The demo's competences and training (ISO 9001 7.2) and its read-and-understood acknowledgements
(7.3), from the seeds: Likestillingssenteret's five training modules for mentors ("Veien til gode
mentorprogram"), the first two of them before a mentor is matched; what coordinators and quality
leads need; and the approved procedures acknowledged by some of those asked, not all."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts import service as accounts
from qms.competence import service
from qms.competence.models import Acknowledgement
from qms.competence.schemas import CompetenceCreate, TrainingRecordCreate
from qms.db import utcnow
from qms.participants.models import Participant, ParticipantRole
from qms.permissions import Actor
from qms.procedures.models import ProcedureVersion, VersionStatus

TRAINER = "Likestillingssenteret"
# The five modules of the mentor training; the first two are held before matching, the others
# during the programme.
MENTOR_MODULES = (
    ("MENTOR-M1", "The programme and the roles", True),
    ("MENTOR-M2", "Expectations and the mentoring agreement", True),
    ("MENTOR-M3", "Goals and the learning plan", False),
    ("MENTOR-M4", "Working life, culture and communication", False),
    ("MENTOR-M5", "Closure and the way on", False),
)
STAFF = (
    {
        "code": "COORD-MATCHING",
        "role": "coordinator",
        "title": "Recruitment, matching and expectation clarification",
        "description": "Screens mentors and mentees, matches by field and goals, and leads the "
        "first meeting where expectations and the mentoring agreement are set.",
        "obtained_by": "training",
    },
    {
        "code": "COORD-FOLLOW-UP",
        "role": "coordinator",
        "title": "Mid-programme follow-up",
        "description": "Holds the follow-up conversations and knows when a pair needs support.",
        "obtained_by": "experience",
    },
    {
        "code": "QL-ISO9001",
        "role": "quality_lead",
        "title": "ISO 9001 and internal auditing",
        "description": "Plans and holds internal audits against ISO 9001 and the programme's "
        "procedures.",
        "obtained_by": "training",
        "renewal_months": 36,
    },
    {
        "code": "QL-ROOT-CAUSE",
        "role": "quality_lead",
        "title": "Deviation handling and root-cause analysis",
        "obtained_by": "training",
    },
)


def load(session: Session, *, lead: Actor, coordinator: Actor) -> None:
    """Add the competences, the training of mentors and staff, and acknowledge some of what the
    approved procedures asked."""
    today = utcnow().date()
    for code, title, before in MENTOR_MODULES:
        service.create_competence(
            session,
            actor=lead,
            data=CompetenceCreate(
                code=code,
                role="mentor",
                title=title,
                description=f"Module of the mentor training given by {TRAINER}.",
                obtained_by="training",
                before_matching=before,
            ),
        )
    for fields in STAFF:
        service.create_competence(session, actor=lead, data=CompetenceCreate.model_validate(fields))
    mentors = session.scalars(
        select(Participant)
        .where(Participant.role == ParticipantRole.mentor)
        .order_by(Participant.id)
    )
    for mentor in mentors:
        start = mentor.cohort.start_on
        for code, _, before in MENTOR_MODULES:
            # The modules before matching three weeks before the cohort starts; the others as
            # the programme goes, those still to come left missing.
            on = start - timedelta(days=21) if before else start + timedelta(days=60)
            if on > today:
                continue
            service.record_training(
                session,
                actor=coordinator,
                data=TrainingRecordCreate(
                    competence=code, participant=mentor.code, completed_on=on, given_by=TRAINER
                ),
            )
    _train(session, coordinator, "COORD-MATCHING", "demo-coordinator", date(2024, 9, 12), TRAINER)
    _train(session, lead, "QL-ISO9001", "demo-quality-lead", date(2022, 10, 3), "Kiwa")
    _train(session, lead, "QL-ISO9001", "demo-internal-auditor", date(2025, 3, 20), "Kiwa")
    _train(session, lead, "QL-ROOT-CAUSE", "demo-quality-manager", date(2025, 5, 6), None)
    _acknowledge_some(session)


def _train(
    session: Session, actor: Actor, code: str, user: str, on: date, given_by: str | None
) -> None:
    service.record_training(
        session,
        actor=actor,
        data=TrainingRecordCreate(competence=code, user=user, completed_on=on, given_by=given_by),
    )


def _acknowledge_some(session: Session) -> None:
    # The quality lead has read every procedure asked of them; the coordinator every other one,
    # so the overview and "my work" have some outstanding.
    asked = session.scalars(
        select(Acknowledgement)
        .join(ProcedureVersion, ProcedureVersion.id == Acknowledgement.procedure_version_id)
        .where(
            ProcedureVersion.status == VersionStatus.approved,
            Acknowledgement.acknowledged_at.is_(None),
        )
        .order_by(Acknowledgement.id)
    ).all()
    done = {"demo-coordinator": 0}
    for acknowledgement in asked:
        name = acknowledgement.user.name
        if name == "demo-coordinator":
            done[name] += 1
            if done[name] % 2:
                continue
        elif name != "demo-quality-lead":
            continue
        version = acknowledgement.procedure_version
        service.acknowledge(
            session,
            actor=accounts.actor_for(session, name),
            procedure_id=version.procedure_id,
            number=version.number,
        )
