"""The demo's complaints, shaped by the source reports: a mentee whose mentor stopped meeting
(upheld, a deviation opened), an employer whose manager-mentor was not told of a matching, and a
complaint still to be acknowledged."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from qms.complaints import service as complaints
from qms.complaints.models import Complaint
from qms.complaints.schemas import (
    ComplainantData,
    ComplaintCreate,
    ComplaintDeviationCreate,
    ComplaintTransition,
)
from qms.db import utcnow
from qms.permissions import Actor


def _move(session: Session, actor: Actor, complaint: Complaint, to: str, **fields: object) -> None:
    complaints.transition(
        session,
        actor=actor,
        complaint_id=complaint.id,
        data=ComplaintTransition.model_validate({"to": to, **fields}),
        if_match=complaint.version,
    )


def _day(complaint: Complaint, days: int, hour: int) -> datetime:
    """A moment so many days after the complaint was received, at the hour (UTC)."""
    return datetime.combine(complaint.received_on + timedelta(days=days), time(hour), tzinfo=UTC)


def load(session: Session, *, lead: Actor, coordinator: Actor, via_id: int, career_id: int) -> None:
    """Receive, acknowledge and answer the demo's complaints; one opens a deviation."""
    today = utcnow().date()
    stopped = complaints.create(
        session,
        actor=coordinator,
        data=ComplaintCreate(
            programme_id=via_id,
            received_on=today - timedelta(days=60),
            channel="email",
            complainant_category="mentee",
            subject="My mentor stopped meeting me",
            description=(
                "A mentee of the 2026 intake writes that after two meetings in February her mentor "
                "has cancelled every meeting and no longer answers; she has had no help with "
                "applications for six weeks."
            ),
            complainant=ComplainantData(
                name="Amina Haddad", email="amina.haddad@example.org", contact_consent=True
            ),
        ),
    )
    _move(session, coordinator, stopped, "acknowledged", at=_day(stopped, 1, 10))
    complaints.open_deviation(
        session,
        actor=lead,
        complaint_id=stopped.id,
        data=ComplaintDeviationCreate(
            severity="major",
            title="A pair stopped meeting without the coordinator knowing",
        ),
        if_match=stopped.version,
    )
    _move(
        session,
        lead,
        stopped,
        "answered",
        answer=(
            "We spoke with the mentor, who had changed jobs; the pair is unwound and you are "
            "matched with a new mentor in environmental engineering. The follow-up between "
            "meetings is now checked monthly."
        ),
        outcome="upheld",
        at=_day(stopped, 9, 14),
    )
    _move(session, lead, stopped, "closed", at=_day(stopped, 12, 9))

    employer = complaints.create(
        session,
        actor=coordinator,
        data=ComplaintCreate(
            programme_id=career_id,
            received_on=today - timedelta(days=30),
            channel="phone",
            complainant_category="employer",
            subject="A manager was made mentor without the company being asked",
            description=(
                "A member company's HR lead calls: one of their managers was matched as mentor "
                "during working hours, and the company learnt of it from the manager."
            ),
            complainant=ComplainantData(name="HR lead, member company", phone="+47 22 00 00 00"),
        ),
    )
    _move(session, coordinator, employer, "acknowledged", at=_day(employer, 2, 11))
    _move(
        session,
        lead,
        employer,
        "answered",
        answer=(
            "Mentors volunteer in their own name and the programme does not need the employer's "
            "consent; we have sent the member companies the programme's description of the "
            "mentor's role and time."
        ),
        outcome="not_upheld",
        # Answered two days past the limit: the register shows it late.
        at=_day(employer, 16, 15),
    )

    complaints.create(
        session,
        actor=coordinator,
        data=ComplaintCreate(
            programme_id=career_id,
            received_on=today - timedelta(days=5),
            channel="web",
            complainant_category="mentor",
            subject="No training before the first meeting",
            description=(
                "A new mentor writes that she met her mentee before the mentor training the "
                "programme promises; she did not know what was expected of her."
            ),
        ),
    )
