"""A realistic demo data set, shaped like the programmes in the source reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.accounts import service as accounts
from qms.accounts.models import User
from qms.permissions import Actor, Role
from qms.programmes import service as programmes
from qms.programmes.schemas import CohortCreate, ProgrammeCreate

DEMO_USERS = {
    "demo-admin": Role.admin,
    "demo-quality-lead": Role.quality_lead,
    "demo-coordinator": Role.coordinator,
    "demo-auditor": Role.auditor,
    "demo-importer": Role.importer,
}


@dataclass(frozen=True)
class DemoTokens:
    """The tokens printed for whoever runs the demo."""

    quality_lead: str
    auditor: str
    coordinator: str


def is_loaded(session: Session) -> bool:
    """Say whether the demo users exist already."""
    return session.scalar(select(User.id).where(User.name == "demo-admin")) is not None


def is_empty(session: Session) -> bool:
    """Say whether the database holds no users yet."""
    return session.scalar(select(User.id).limit(1)) is None


def load(session: Session, *, operator: Actor) -> None:
    """Create the demo users, programmes and cohorts through the services (all audited)."""
    for name, role in DEMO_USERS.items():
        accounts.create_user(session, actor=operator, name=name, role=role)
    coordinator = Actor(
        user_id=accounts.get_user_or_raise(session, "demo-coordinator").id,
        name="demo-coordinator",
        role=Role.coordinator,
    )

    via = programmes.create_programme(
        session,
        actor=coordinator,
        data=ProgrammeCreate(
            code="VIA-JOB",
            name="Mentor programme for job-seeking immigrant graduates",
            organiser="Dalarna Mentor Foundation",
            target_group=(
                "Job-seeking women and men with a foreign university degree in environment and "
                "technology, registered with the public employment service."
            ),
            objectives=(
                "Each mentee finds work in their own professional field within the programme year; "
                "mentors widen the mentee's network and knowledge of the Swedish labour market. "
                "Planned: 12 pairs complete; 9 of 12 mentees employed at close, 5 of them in a "
                "regular position."
            ),
            min_meetings_per_month=2,
            min_minutes_per_month=120,
            length_months=12,
        ),
    )
    programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=via.id,
        data=CohortCreate(
            code="2026",
            name="Intake February 2026",
            start_on=date(2026, 2, 2),
            end_on=date(2027, 1, 29),
        ),
    )
    programmes.transition_programme(
        session,
        actor=coordinator,
        programme_id=via.id,
        to="running",
        reason="kick-off held",
        if_match=via.version,
    )

    career = programmes.create_programme(
        session,
        actor=coordinator,
        data=ProgrammeCreate(
            code="CAREER-18",
            name="Career mentoring for immigrants with higher education",
            organiser="Trade and service employers' mentor network",
            target_group=(
                "Employed immigrants with higher education who want a career step into positions "
                "that match their qualifications; mentors are managers in member companies."
            ),
            objectives=(
                "Each mentee sets a career goal and a learning plan at start and reaches a "
                "relevant position or a clear next step within 18 months."
            ),
            min_meetings_per_month=1,
            min_minutes_per_month=90,
            length_months=18,
        ),
    )
    programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=career.id,
        data=CohortCreate(
            code="2025-AUTUMN",
            name="Autumn 2025 intake",
            start_on=date(2025, 9, 1),
            end_on=date(2027, 2, 26),
        ),
    )
    programmes.create_cohort(
        session,
        actor=coordinator,
        programme_id=career.id,
        data=CohortCreate(
            code="2027-SPRING",
            name="Spring 2027 intake",
            start_on=date(2027, 3, 1),
            end_on=date(2028, 8, 31),
        ),
    )
    programmes.transition_programme(
        session,
        actor=coordinator,
        programme_id=career.id,
        to="running",
        reason="first cohort started",
        if_match=career.version,
    )


def issue_tokens(session: Session, *, operator: Actor) -> DemoTokens:
    """Issue fresh tokens for the demo's quality lead, auditor and coordinator (valid 30 days)."""

    def token(name: str) -> str:
        issued = accounts.create_token(session, actor=operator, user_name=name, expires_in_days=30)
        return issued.secret

    return DemoTokens(
        quality_lead=token("demo-quality-lead"),
        auditor=token("demo-auditor"),
        coordinator=token("demo-coordinator"),
    )
