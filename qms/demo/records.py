"""Demo programme records: participants matched by field, a year of meetings, follow-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.followups import service as followups
from qms.followups.models import FollowUp
from qms.followups.schemas import FollowUpRecord
from qms.pairs import service as pairs
from qms.pairs.models import Pair
from qms.pairs.schemas import MeetingBulk, MeetingRow, PairCreate, PairTransition
from qms.participants import service as participants
from qms.participants.models import Participant
from qms.participants.schemas import GoalCreate, ParticipantCreate, PersonalData
from qms.permissions import Actor
from qms.programmes.models import Cohort

# Mentor training covers all five modules; mentees take the first three before the start.
MODULES = [
    "M1 The programme and the roles",
    "M2 Expectations and the mentoring agreement",
    "M3 Goals and the learning plan",
    "M4 Working life, culture and communication",
    "M5 Closure and the way on",
]

# (mentee's field, mentor's field, mentee's goal) — matched by professional field.
VIA_MATCHES = [
    ("Environmental engineering", "Environmental engineering", "Environmental consultant"),
    ("Water and wastewater", "Water and wastewater", "Process engineer at a water utility"),
    ("Electrical engineering", "Electrical engineering", "Electrical design engineer"),
    ("Geology", "Mining and geology", "Field geologist"),
    ("Renewable energy", "Energy systems", "Project engineer, wind power"),
    ("Civil engineering", "Civil engineering", "Structural engineer"),
    ("Chemistry", "Chemical engineering", "Laboratory engineer"),
    ("Mechanical engineering", "Mechanical engineering", "Maintenance engineer"),
    ("Forestry", "Forestry", "Forest planner"),
    ("GIS and IT", "GIS and IT", "GIS analyst"),
    ("Biology and ecology", "Environmental engineering", "Ecologist, environmental impact"),
    ("Energy systems", "Energy systems", "Energy advisor"),
]
CAREER_MATCHES = [
    ("Finance", "Finance", "Financial controller"),
    ("Public health", "Health services", "Section manager"),
    ("Software engineering", "Software engineering", "Team lead"),
    ("Logistics", "Logistics", "Logistics manager"),
    ("Law", "Law", "Legal advisor in the public sector"),
    ("Marketing", "Retail", "Marketing manager"),
]
NAMES = [
    "Amina Haddad",
    "Tarek Mansour",
    "Elena Popescu",
    "Kwame Mensah",
    "Leila Karimi",
    "Hassan Yusuf",
    "Nadia Rahman",
    "Samir Aziz",
    "Ana Rodrigues",
    "Dawit Bekele",
    "Mei Lin",
    "Omar Farouk",
    "Fatima Noor",
    "Yusuf Demir",
    "Rania Saleh",
    "Bilal Khan",
    "Sara Tesfaye",
    "Ivan Petrov",
]
MENTOR_NAMES = [
    "Karin Lindqvist",
    "Erik Johansson",
    "Ingrid Berg",
    "Anders Nilsson",
    "Maria Dahl",
    "Per Olsson",
    "Eva Holm",
    "Lars Svensson",
    "Anna Sandberg",
    "Johan Lund",
    "Sofia Ek",
    "Nils Strand",
    "Kari Nordmann",
    "Ola Haugen",
    "Liv Solberg",
    "Bjørn Moen",
    "Astrid Vik",
    "Tor Aune",
    "Hanne Lie",
    "Magnus Eide",
]


@dataclass
class DemoPairs:
    """The pairs the rest of the demo refers to."""

    via_2025: list[Pair] = field(default_factory=list)
    via_2026: list[Pair] = field(default_factory=list)
    career: list[Pair] = field(default_factory=list)


def _email(name: str) -> str:
    return name.lower().replace(" ", ".").replace("ø", "o") + "@example.org"


def _person(
    session: Session,
    actor: Actor,
    cohort: Cohort,
    role: str,
    field_: str,
    name: str,
    **extra: object,
) -> Participant:
    data = ParticipantCreate.model_validate(
        {
            "cohort_id": cohort.id,
            "role": role,
            "field": field_,
            "screened_on": cohort.start_on - timedelta(days=40),
            "screened_by": "Coordinator and recruitment agency",
            "training_modules": MODULES if role == "mentor" else MODULES[:3],
            "consent_on": cohort.start_on - timedelta(days=40),
            **extra,
        }
        | {"personal": PersonalData(name=name, email=_email(name))}
    )
    return participants.create(session, actor=actor, data=data)


def _pair(
    session: Session,
    actor: Actor,
    mentor: Participant,
    mentee: Participant,
    rationale: str,
    matched_on: date,
    started_on: date,
    rematch_of: Pair | None = None,
) -> Pair:
    pair = pairs.match(
        session,
        actor=actor,
        data=PairCreate(
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            rationale=rationale,
            matched_on=matched_on,
            rematch_of_id=rematch_of.id if rematch_of else None,
        ),
    )
    return pairs.transition(
        session,
        actor=actor,
        pair_id=pair.id,
        data=PairTransition(to="active", on=started_on),
        if_match=pair.version,
    )


def _end(
    session: Session, actor: Actor, pair: Pair, to: str, on: date, reason: str, **feedback: str
) -> None:
    pairs.transition(
        session,
        actor=actor,
        pair_id=pair.id,
        data=PairTransition.model_validate({"to": to, "on": on, "reason": reason, **feedback}),
        if_match=pair.version,
    )


def _month_starts(first: date, last: date) -> list[date]:
    months, d = [], first.replace(day=1)
    while d <= last:
        months.append(d)
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _meetings(
    pair: Pair, start: date, end: date, per_month: int, minutes: int, thin: set[str]
) -> list[MeetingRow]:
    """Meetings on set days of each month; in the months named in `thin` only one."""
    days = (6, 20) if per_month >= 2 else (12,)
    today = pairs.today()
    rows = []
    for month in _month_starts(start, end):
        chosen = days[:1] if month.strftime("%Y-%m") in thin else days
        for i, day in enumerate(chosen):
            held = month.replace(day=day)
            if start <= held <= min(end, today):
                rows.append(
                    MeetingRow(
                        pair=pair.code,
                        held_on=held,
                        minutes=minutes + 15 * ((pair.id + i) % 3),
                        mode="video" if (pair.id + month.month + i) % 4 == 0 else "in_person",
                        topics="Network, applications and the labour market" if i else "Goals",
                    )
                )
    return rows


def _follow_up(
    session: Session, actor: Actor, pair: Pair, on: date, outcome: str, **answers: object
) -> None:
    follow_up = followups.schedule_pair(session, actor=actor, pair_id=pair.id, on=on)
    values = {
        "held_on": on,
        "expectations_clarified": True,
        "goal_progress": 4,
        "meeting_frequency_kept": True,
        "relationship": 4,
        "extra_support_needed": False,
        "outcome": outcome,
        "notes": "",
    } | answers
    followups.record(
        session,
        actor=actor,
        follow_up_id=follow_up.id,
        data=FollowUpRecord.model_validate(values),
        if_match=follow_up.version,
    )


def load_via(session: Session, actor: Actor, cohort_2025: Cohort, cohort_2026: Cohort) -> DemoPairs:
    """The one-year programme: a completed 2025 cohort of 12, and the running 2026 cohort."""
    demo = DemoPairs()
    names, mentor_names = iter(NAMES * 2), iter(MENTOR_NAMES * 2)
    rows: list[MeetingRow] = []
    # 2025: twelve pairs; the fourth mentee's first match is unwound and remade.
    start, end = cohort_2025.start_on, cohort_2025.end_on
    for i, (mentee_field, mentor_field, goal) in enumerate(VIA_MATCHES):
        mentee = _person(
            session,
            actor,
            cohort_2025,
            "mentee",
            mentee_field,
            next(names),
            career_goals=goal,
            competence_needs="Swedish for work; local networks",
        )
        mentor = _person(session, actor, cohort_2025, "mentor", mentor_field, next(mentor_names))
        for title in (f"Apply for positions as {goal.lower()}", "Swedish at work, level C1"):
            participants.create_goal(
                session,
                actor=actor,
                participant_id=mentee.id,
                data=GoalCreate(title=title, target_on=end),
            )
        rationale = (
            f"Same field ({mentor_field}); the mentee's goal, {goal.lower()}, "
            "is the mentor's line of work."
        )
        if i == 3:
            first_mentor = _person(
                session, actor, cohort_2025, "mentor", "Mining and geology", next(mentor_names)
            )
            first = _pair(
                session, actor, first_mentor, mentee, rationale, start - timedelta(days=10), start
            )
            rows += _meetings(first, start, date(2025, 3, 31), 2, 70, set())
            _end(
                session,
                actor,
                first,
                "unwound",
                date(2025, 4, 4),
                "The mentee expected the mentor to find a job for them; after two talks on roles "
                "the pair agreed to part (PR-05, unwinding a match).",
                mentor_feedback="I could not be the job broker the mentee hoped for",
                mentee_feedback="I need someone who works in the field every day",
            )
            pair = _pair(
                session,
                actor,
                mentor,
                mentee,
                rationale + " Rematched after an unwound pair.",
                date(2025, 4, 10),
                date(2025, 4, 14),
                rematch_of=first,
            )
            rows += _meetings(pair, date(2025, 4, 14), end, 2, 70, {"2025-07"})
        else:
            pair = _pair(
                session, actor, mentor, mentee, rationale, start - timedelta(days=10), start
            )
            rows += _meetings(pair, start, end, 2, 70, set())
        demo.via_2025.append(pair)
    pairs.record_meetings(session, actor=actor, data=MeetingBulk(meetings=rows))
    midpoint = cohort_2025.midpoint_on or start
    for i, pair in enumerate(demo.via_2025):
        if i == 7:
            _follow_up(
                session,
                actor,
                pair,
                midpoint,
                "at_risk",
                goal_progress=2,
                relationship=2,
                meeting_frequency_kept=False,
                extra_support_needed=True,
                notes="The mentee has had no interviews and doubts the programme.",
                decision="Coordinator joins the next two meetings; the mentor gets a "
                "contact in a consultancy to open doors.",
            )
        elif i == 2:
            _follow_up(
                session,
                actor,
                pair,
                midpoint,
                "concern",
                goal_progress=3,
                notes="Progress slow; agreed to focus on applications.",
            )
        else:
            _follow_up(session, actor, pair, midpoint + timedelta(days=i % 3), "on_track")
    for pair in demo.via_2025:
        _end(
            session,
            actor,
            pair,
            "completed",
            end,
            "Programme year completed",
            mentor_feedback="A year well spent",
            mentee_feedback="A network in my field",
        )

    # 2026: eight pairs now in their tenth month; pair 2 met too seldom in April and May.
    rows = []
    start = cohort_2026.start_on
    for i in range(8):
        mentee_field, mentor_field, goal = VIA_MATCHES[i]
        mentee = _person(
            session, actor, cohort_2026, "mentee", mentee_field, next(names), career_goals=goal
        )
        mentor = _person(session, actor, cohort_2026, "mentor", mentor_field, next(mentor_names))
        pair = _pair(
            session,
            actor,
            mentor,
            mentee,
            f"Same field ({mentor_field}).",
            start - timedelta(days=7),
            start,
        )
        thin = {"2026-04", "2026-05"} if i == 1 else set()
        rows += _meetings(pair, start, cohort_2026.end_on, 2, 70, thin)
        demo.via_2026.append(pair)
    pairs.record_meetings(session, actor=actor, data=MeetingBulk(meetings=rows))
    midpoint = cohort_2026.midpoint_on or start
    for i, pair in enumerate(demo.via_2026):
        if i == 6:
            followups.schedule_pair(session, actor=actor, pair_id=pair.id, on=midpoint)  # not held
        else:
            _follow_up(
                session,
                actor,
                pair,
                midpoint + timedelta(days=i),
                "on_track" if i != 1 else "concern",
                meeting_frequency_kept=i != 1,
            )
    return demo


# The career pair whose mentee needs support the mentor was not prepared for.
CAREER_SUPPORT_PAIR = 1


def scheduled_on(session: Session, pair: Pair) -> date:
    """Return the day the pair's follow-up is scheduled for (held on, in the demo)."""
    return session.scalars(select(FollowUp.scheduled_on).where(FollowUp.pair_id == pair.id)).one()


def load_career(session: Session, actor: Actor, cohort: Cohort, demo: DemoPairs) -> None:
    """The 18-month career programme: six pairs, monthly meetings, a midpoint follow-up."""
    names, mentor_names = iter(NAMES[12:]), iter(MENTOR_NAMES[14:])
    rows: list[MeetingRow] = []
    for mentee_field, mentor_field, goal in CAREER_MATCHES:
        mentee = _person(
            session, actor, cohort, "mentee", mentee_field, next(names), career_goals=goal
        )
        mentor = _person(session, actor, cohort, "mentor", mentor_field, next(mentor_names))
        pair = _pair(
            session,
            actor,
            mentor,
            mentee,
            f"Mentor is a manager in {mentor_field.lower()}.",
            cohort.start_on - timedelta(days=14),
            cohort.start_on,
        )
        rows += _meetings(pair, cohort.start_on, cohort.end_on, 1, 90, set())
        demo.career.append(pair)
    pairs.record_meetings(session, actor=actor, data=MeetingBulk(meetings=rows))
    midpoint = cohort.midpoint_on or cohort.start_on
    for i, pair in enumerate(demo.career):
        if i == CAREER_SUPPORT_PAIR:
            # The follow-up that raised the nonconformity on the mentee's need for support
            # (qms.demo.load_quality_records): the report and the deviation tell one story.
            _follow_up(
                session,
                actor,
                pair,
                midpoint + timedelta(days=i),
                "at_risk",
                goal_progress=2,
                relationship=3,
                extra_support_needed=True,
                notes="Health and family matters take up the meetings; the mentor is unsure how "
                "far the role goes; the career goal has not been worked on.",
                decision="Mentee referred to professional support; role boundaries (PR-06) gone "
                "through with the mentor; raised as a nonconformity.",
            )
        else:
            _follow_up(session, actor, pair, midpoint + timedelta(days=i), "on_track")
