"""Test data, made through the services so that every record is audited as in production."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from qms.accounts import service as accounts
from qms.accounts.models import User
from qms.actions import service as actions
from qms.actions.models import CorrectiveAction
from qms.actions.schemas import ActionCreate
from qms.deviations import service as deviations
from qms.deviations.models import Deviation
from qms.deviations.schemas import DeviationCreate
from qms.pairs import service as pairs
from qms.pairs.models import Meeting, Pair
from qms.pairs.schemas import MeetingCreate, PairCreate, PairTransition
from qms.participants import service as participants
from qms.participants.models import Participant
from qms.participants.schemas import ParticipantCreate
from qms.permissions import Actor, Role
from qms.programmes import service as programmes
from qms.programmes.models import Cohort, Programme
from qms.programmes.schemas import CohortCreate, ProgrammeCreate
from qms.signatures.statements import MEANING_OF_MOVE

ADMIN = Actor(user_id=None, name="test-admin", role=Role.admin)
_seq = itertools.count(1)


def make_token(
    session: Session,
    role: Role,
    *,
    name: str | None = None,
    programme_code: str | None = None,
    expires_in_days: int | None = None,
) -> str:
    """Create a user of the role and return a bearer token for it."""
    name = name or f"{role.value.replace('_', '-')}-{next(_seq)}"
    accounts.create_user(session, actor=ADMIN, name=name, role=role)
    issued = accounts.create_token(
        session,
        actor=ADMIN,
        user_name=name,
        programme_code=programme_code,
        expires_in_days=expires_in_days,
    )
    session.flush()
    return issued.secret


def signed(meaning: str) -> dict[str, Any]:
    """The confirmation a move that signs carries: the meaning stated, the statement read."""
    return {"meaning": meaning, "statement_confirmed": True}


def signing(entity: str, to: str) -> dict[str, Any]:
    """The fields a move of the record to the state carries to sign (none if it does not)."""
    meaning = MEANING_OF_MOVE.get((entity, to))
    return {"signature": signed(meaning.value)} if meaning is not None else {}


def auth(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def make_programme(session: Session, **overrides: Any) -> Programme:
    """Create a programme with sensible defaults."""
    n = next(_seq)
    data: dict[str, Any] = {
        "code": f"PRG-{n}",
        "name": f"Mentor programme {n}",
        "organiser": "Test organiser",
        "min_meetings_per_month": 1,
        "min_minutes_per_month": 60,
        "length_months": 12,
    }
    data.update(overrides)
    return programmes.create_programme(session, actor=ADMIN, data=ProgrammeCreate(**data))


def make_cohort(session: Session, programme: Programme, **overrides: Any) -> Cohort:
    """Create a one-year cohort of the programme."""
    data: dict[str, Any] = {
        "code": f"C{next(_seq)}",
        "name": "Cohort",
        "start_on": date(2026, 1, 5),
        "end_on": date(2026, 12, 18),
    }
    data.update(overrides)
    return programmes.create_cohort(
        session, actor=ADMIN, programme_id=programme.id, data=CohortCreate(**data)
    )


def make_user(session: Session, role: Role, name: str | None = None) -> User:
    """Create a user of the role (without a token)."""
    name = name or f"{role.value.replace('_', '-')}-{next(_seq)}"
    return accounts.create_user(session, actor=ADMIN, name=name, role=role)


def make_deviation(session: Session, **overrides: Any) -> Deviation:
    """Log a minor nonconformity with sensible defaults."""
    data: dict[str, Any] = {
        "kind": "nonconformity",
        "source": "self_reported",
        "severity": "minor",
        "title": f"Finding {next(_seq)}",
        "description": "Mentor and mentee met once in March against a rule of two a month.",
    }
    data.update(overrides)
    return deviations.create(session, actor=ADMIN, data=DeviationCreate(**data))


def make_action(
    session: Session, deviation_list: list[Deviation], owner: User, **overrides: Any
) -> CorrectiveAction:
    """Open a corrective action owned by the user on the deviations."""
    data: dict[str, Any] = {
        "deviation_ids": [d.id for d in deviation_list],
        "type": "corrective",
        "title": f"Action {next(_seq)}",
        "action": "Add a monthly check of the meeting log to the coordinator's routine.",
        "owner": owner.name,
        # Due half a year after today: a fixed date falls before the deviation's own detection
        # once the clock passes it, and the action is refused.
        "due_on": date.today() + timedelta(days=180),
    }
    data.update(overrides)
    return actions.create(session, actor=ADMIN, data=ActionCreate(**data))


def make_participant(
    session: Session, cohort: Cohort, role: str = "mentee", **overrides: Any
) -> Participant:
    """Enrol a participant in the cohort."""
    data: dict[str, Any] = {
        "cohort_id": cohort.id,
        "role": role,
        "field": "Environmental engineering",
        "personal": {"name": f"Person {next(_seq)}", "email": "person@example.org"},
    }
    data.update(overrides)
    return participants.create(session, actor=ADMIN, data=ParticipantCreate(**data))


def make_pair(
    session: Session,
    mentor: Participant,
    mentee: Participant,
    *,
    started_on: date | None = None,
    **overrides: Any,
) -> Pair:
    """Match a pair (and start it on the date, when one is given)."""
    data: dict[str, Any] = {
        "mentor_id": mentor.id,
        "mentee_id": mentee.id,
        "rationale": "Same professional field; the mentee's goal is the mentor's line of work.",
        "matched_on": started_on or mentee.cohort.start_on,
    }
    data.update(overrides)
    pair = pairs.match(session, actor=ADMIN, data=PairCreate(**data))
    if started_on is not None:
        pairs.transition(
            session,
            actor=ADMIN,
            pair_id=pair.id,
            data=PairTransition(to="active", on=started_on),
            if_match=pair.version,
        )
    return pair


def make_meeting(session: Session, pair: Pair, held_on: date, minutes: int = 90) -> Meeting:
    """Record a meeting of the pair."""
    return pairs.record_meeting(
        session,
        actor=ADMIN,
        pair_id=pair.id,
        data=MeetingCreate(held_on=held_on, minutes=minutes, mode="in_person"),
    )
