"""The demo's quality objectives, from the Via-mentoring report's targets planned against their
results: three in four mentees in work or study at the close (11 of the 12 who completed were),
mentors trained before they are matched (Likestillingssenteret's modules), the mid-programme
follow-ups held, corrective actions closed on time across the organisation, and the planned
manual that was dropped when no need for it was found."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from qms.db import utcnow
from qms.indicators import service as indicators
from qms.objectives import service as objectives
from qms.objectives.models import QualityObjective
from qms.objectives.schemas import ObjectiveCreate, ObjectiveTransition
from qms.permissions import Actor


def _set(session: Session, lead: Actor, **fields: object) -> QualityObjective:
    return objectives.create(session, actor=lead, data=ObjectiveCreate.model_validate(fields))


def _move(
    session: Session, lead: Actor, objective: QualityObjective, to: str, **fields: object
) -> None:
    objectives.transition(
        session,
        actor=lead,
        objective_id=objective.id,
        data=ObjectiveTransition.model_validate({"to": to, **fields}),
        if_match=objective.version,
    )


def load(session: Session, *, lead: Actor, via_id: int, career_id: int) -> None:
    """Set the objectives, link them to the programme's indicators and move them on."""
    today = utcnow().date()
    via = {d.code: d.id for d in indicators.definitions(session, via_id)}
    occupied = _set(
        session,
        lead,
        title="Mentees in work or study when the programme closes",
        programme_id=via_id,
        target="Three in four mentees (75 %) are in work or study at the programme's close, "
        "in their own field where they can; no fewer than half.",
        owner="demo-coordinator",
        due_on=(today + timedelta(days=150)).isoformat(),
        plan="Match each mentee with a mentor of the same profession; mentors open their "
        "networks; a job-search seminar with the employment service in month six; the "
        "mid-programme follow-up asks about applications and interviews.",
        resources="Coordinator half-time; the mentors' networks; seminar room at Minerva.",
        responsible="Programme coordinator, with the employment service's case officer",
        evaluation="Outcomes recorded at the close (employed full or part time, in education) "
        "and read against the indicators OCCUPIED and EMPLOYED.",
        indicator_ids=[via["OCCUPIED"], via["EMPLOYED"]],
        requirements=["ISO9001:6.2", "MENTOR:closure"],
    )
    _move(session, lead, occupied, "in_progress")
    trained = _set(
        session,
        lead,
        title="Every mentor trained before being matched",
        programme_id=via_id,
        target="No mentor is matched before completing the mentor training module.",
        owner="demo-quality-lead",
        due_on=(today - timedelta(days=40)).isoformat(),
        plan="Likestillingssenteret's mentor module held before the matching day; the "
        "coordinator checks the training record before proposing a match.",
        resources="Likestillingssenteret's trainers; one training day per intake.",
        responsible="Quality lead",
        evaluation="Training records compared with the matching dates at the close of matching.",
        requirements=["ISO9001:6.2", "ISO9001:7.2", "MENTOR:training"],
    )
    _move(session, lead, trained, "in_progress")
    _move(
        session,
        lead,
        trained,
        "achieved",
        result_note="All mentors of the intake completed the module before the matching day; "
        "the training records were checked against the matching dates.",
    )
    follow_ups = _set(
        session,
        lead,
        title="Mid-programme follow-ups held for every pair",
        programme_id=via_id,
        target="Every pair has its mid-programme follow-up by the midpoint, and meets at least "
        "as often as the programme asks.",
        owner="demo-coordinator",
        due_on=(today + timedelta(days=20)).isoformat(),
        plan="Follow-ups booked when the pair is matched; a reminder a week before; a pair "
        "that misses it is called by the coordinator.",
        evaluation="The indicators FOLLOW-UP and MEETINGS at the midpoint.",
        indicator_ids=[via["FOLLOW-UP"], via["MEETINGS"]],
        requirements=["ISO9001:6.2", "MENTOR:monitoring"],
    )
    _move(session, lead, follow_ups, "in_progress")
    _set(
        session,
        lead,
        title="Corrective actions closed on time",
        target="No corrective action overdue, and nine in ten closed by their due date.",
        owner="demo-quality-lead",
        due_on=(today + timedelta(days=240)).isoformat(),
        plan="Each action's owner reports progress monthly; overdue actions are on the "
        "quality meeting's agenda.",
        evaluation="The indicators OVERDUE-CA and CAPA-ON-TIME, read at the management review.",
        indicator_ids=[via["OVERDUE-CA"], via["CAPA-ON-TIME"]],
        requirements=["ISO9001:6.2", "ISO9001:10.2"],
    )
    _set(
        session,
        lead,
        title="Follow-ups held in the career programme",
        programme_id=career_id,
        target="Every pair of the career programme has its mid-programme follow-up.",
        owner="demo-coordinator",
        due_on=(today + timedelta(days=90)).isoformat(),
        plan="Book the follow-ups at matching, as the one-year programme does.",
        requirements=["ISO9001:6.2"],
    )
    manual = _set(
        session,
        lead,
        title="A manual for mentor programmes",
        target="A manual for running a mentor programme, published on the project's site.",
        owner="demo-quality-lead",
        due_on=(today - timedelta(days=200)).isoformat(),
        plan="Write the manual from the collected knowledge of the mentor programmes.",
    )
    _move(
        session,
        lead,
        manual,
        "withdrawn",
        reason="No need for a manual was found: the knowledge is shared on the common site and "
        "in the training modules instead.",
    )
