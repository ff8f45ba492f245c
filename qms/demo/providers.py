"""The demo's external providers, from the source reports: the public employment services that
refer mentees (Arbetsförmedlingen in Falun Borlänge for VIA-JOB, NAV Hedmark), Likestillingssenteret
and its five training modules, the project's co-financiers, and the rooms the group meetings are
held in; their evaluations with scores, and a deviation raised against the referrer (the mentees'
activity support counted as co-financing is lost when they find work: the report's "moment 22")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from qms.db import utcnow
from qms.deviations import service as deviations
from qms.deviations.schemas import DeviationCreate
from qms.permissions import Actor
from qms.providers import service as providers
from qms.providers.models import Provider
from qms.providers.schemas import ProviderCreate, ProviderEvaluationCreate


def _add(session: Session, lead: Actor, **fields: object) -> Provider:
    return providers.create(session, actor=lead, data=ProviderCreate.model_validate(fields))


def _evaluate(session: Session, lead: Actor, provider: Provider, **fields: object) -> None:
    providers.evaluate(
        session,
        actor=lead,
        provider_id=provider.id,
        data=ProviderEvaluationCreate.model_validate(fields),
    )


def load(session: Session, *, lead: Actor, via_id: int) -> None:
    """Add the providers, evaluate them, and raise a deviation against the referrer."""
    today = utcnow().date()
    referrer = _add(
        session,
        lead,
        code="AF-FALUN",
        name="Arbetsförmedlingen Falun Borlänge",
        kind="referrer",
        provides=(
            "Information meetings where job-seeking immigrant graduates apply to the programme; "
            "referral of the applicants; their activity support, counted as the project's "
            "co-financing; a member of the reference group."
        ),
        criteria=(
            "Applicants within the target group (a foreign degree in environment or technology, "
            "registered as job seekers); information meetings held before each intake; the terms "
            "of the activity support known before a mentee starts work."
        ),
        contact="Arbetsförmedlingen Falun Borlänge, the employer and programme desk",
        programme_id=via_id,
        evaluation_months=6,
        next_evaluation_on=today - timedelta(days=200),
    )
    _evaluate(
        session,
        lead,
        referrer,
        evaluated_on=today - timedelta(days=190),
        score=3,
        summary=(
            "Referrals within the target group and on time for the intake. The activity support "
            "ends when a mentee finds work, and with it part of the co-financing: approved on "
            "the condition that the funding plan no longer counts on it."
        ),
        decision="conditional",
        next_evaluation_on=today - timedelta(days=10),
    )
    deviations.create(
        session,
        actor=lead,
        data=DeviationCreate.model_validate(
            {
                "kind": "deviation_from_plan",
                "source": "self_reported",
                "severity": "major",
                "title": "Co-financing lost as mentees find work",
                "description": (
                    "The mentees' activity support from the employment service is counted as "
                    "co-financing; three mentees found work in their field in the spring and the "
                    "project lost that part of its co-financing: the better the programme does, "
                    "the less it is funded."
                ),
                "programme_id": via_id,
                "provider_id": referrer.id,
                "iso_clause": "8.4",
                "detected_at": (today - timedelta(days=120)).isoformat() + "T09:00:00Z",
            }
        ),
    )
    _add(
        session,
        lead,
        code="NAV-HEDMARK",
        name="NAV Hedmark",
        kind="referrer",
        provides=(
            "Refers job seekers with higher education to the organisation's programmes; a member "
            "of the reference group."
        ),
        criteria="Applicants within the target group; referrals in time for the intake.",
        contact="NAV Hedmark, the employer service",
        evaluation_months=12,
        next_evaluation_on=today + timedelta(days=5),
    )
    trainer = _add(
        session,
        lead,
        code="LDO",
        name="Likestillingssenteret, Hamar",
        kind="training_provider",
        provides=(
            "“Veien til gode mentorprogram”: five training modules for programme leaders, "
            "mentors and mentees, each with professional input, exchange of experience and "
            "reflection exercises from Mentor+Spillet."
        ),
        criteria=(
            "Modules held as booked; led by certified process guides in Mentor+Spillet; "
            "participants rate each module 4 or more of 5."
        ),
        contact="Likestillingssenteret, the course office, Hamar",
        evaluation_months=12,
    )
    _evaluate(
        session,
        lead,
        trainer,
        evaluated_on=today - timedelta(days=150),
        score=5,
        summary=(
            "All five modules held as booked for the spring intake; participants rated them 4.6 "
            "of 5 on average; two modules booked again for the autumn."
        ),
        decision="keep_approved",
    )
    funder = _add(
        session,
        lead,
        code="INTERREG",
        name="Interreg Sverige-Norge (Regionalfonden)",
        kind="funder",
        provides="Co-finances the cross-border Via-mentoring project.",
        criteria=(
            "Grant paid as decided; reporting requirements stated in advance; the programme "
            "meets the terms (logo on all material, reports on time)."
        ),
        contact="The Interreg Sverige-Norge secretariat",
        evaluation_months=12,
    )
    _evaluate(
        session,
        lead,
        funder,
        evaluated_on=today - timedelta(days=90),
        score=4,
        summary="Payments on time; the final report's template came late.",
        decision="keep_approved",
    )
    _add(
        session,
        lead,
        code="LST-DALARNA",
        name="Länsstyrelsen Dalarnas län",
        kind="funder",
        provides="Co-finances the project in Dalarna.",
        criteria="Grant paid as decided; reporting requirements stated in advance.",
        contact="Länsstyrelsen Dalarnas län, the regional development unit",
        evaluation_months=12,
        next_evaluation_on=today + timedelta(days=120),
    )
    rooms = _add(
        session,
        lead,
        code="ROOMS-FALUN",
        name="Conference rooms in Falun",
        kind="venue",
        provides="Rooms for the introduction day and the group meetings of mentors and mentees.",
        criteria="Booked as asked; reachable by public transport; step-free access.",
        contact="The booking desk",
        programme_id=via_id,
        evaluation_months=12,
    )
    _evaluate(
        session,
        lead,
        rooms,
        evaluated_on=today - timedelta(days=60),
        score=4,
        summary="Every booking kept; the lift was out of order at one group meeting.",
        decision="keep_approved",
    )
