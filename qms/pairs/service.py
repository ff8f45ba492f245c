"""Match mentors and mentees, carry pairs through their life, and record their meetings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from qms.audit.service import created, diff, record_event
from qms.concurrency import check_if_match
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.i18n import Text
from qms.numbering import next_number
from qms.pagination import Page, ordering, paginate
from qms.pairs.models import Meeting, Pair, PairStatus
from qms.pairs.schemas import MeetingBulk, MeetingCreate, PairCreate, PairRead, PairTransition
from qms.participants import service as participants
from qms.participants.models import Participant, ParticipantRole
from qms.permissions import Action, Actor, require
from qms.programmes.models import Cohort
from qms.records import snapshot
from qms.workflow import PAIR

_T = TypeVar("_T", bound=Any)


def within_programme(stmt: Select[_T], programme_id: int | None) -> Select[_T]:
    """Narrow a query that selects from pairs to one programme's pairs (None: all)."""
    if programme_id is None:
        return stmt
    return stmt.join(Cohort, Cohort.id == Pair.cohort_id).where(Cohort.programme_id == programme_id)


FIELDS = (
    "cohort_id",
    "mentor_id",
    "mentee_id",
    "status",
    "matched_on",
    "rationale",
    "started_on",
    "ended_on",
    "closure_reason",
    "mentor_feedback",
    "mentee_feedback",
    "rematch_of_id",
)
LIVE = (PairStatus.matched, PairStatus.active)
MEETING_FIELDS = ("held_on", "minutes", "mode", "topics")


def today() -> date:
    """Return today's date (UTC)."""
    return utcnow().date()


def programme_of(pair: Pair) -> int:
    """Return the programme of the pair's cohort."""
    return pair.mentee.cohort.programme_id


def to_read(pair: Pair) -> PairRead:
    """Shape a pair for the API, with codes, never names."""
    values: dict[str, Any] = snapshot(pair, FIELDS)
    return PairRead(
        id=pair.id,
        code=pair.code,
        programme_id=programme_of(pair),
        mentor_code=pair.mentor.code,
        mentee_code=pair.mentee.code,
        **values,
        allowed_transitions=PAIR.allowed_from(pair.status.value),
        created_at=pair.created_at,
        updated_at=pair.updated_at,
        version=pair.version,
    )


def get(session: Session, *, actor: Actor, pair_id: int) -> Pair:
    """Return a pair the actor may see, or raise NotFound."""
    require(actor, Action.pair_read)
    pair = session.get(Pair, pair_id)
    if pair is None or actor.programme_id not in (None, programme_of(pair)):
        raise NotFound(Text("There is no pair with the id %(id)s.", id=pair_id))
    return pair


def get_by_code(session: Session, *, actor: Actor, code: str) -> Pair:
    """Return a pair by its code (PAIR-0003), or raise NotFound."""
    require(actor, Action.pair_read)
    pair = session.scalars(select(Pair).where(Pair.code == code.strip().upper())).one_or_none()
    if pair is None or actor.programme_id not in (None, programme_of(pair)):
        raise NotFound(Text("There is no pair %(code)s.", code=code.strip().upper()))
    return pair


def list_pairs(
    session: Session,
    *,
    actor: Actor,
    cohort_id: int | None = None,
    status: PairStatus | None = None,
    participant_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> Page[Pair]:
    """List pairs in the order they were matched, or sorted by a column of SORTS."""
    require(actor, Action.pair_read)
    stmt = (
        select(Pair)
        .join(Cohort, Cohort.id == Pair.cohort_id)
        .options(
            selectinload(Pair.mentor),
            selectinload(Pair.mentee).selectinload(Participant.cohort),
        )
    )
    if actor.programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == actor.programme_id)
    if cohort_id is not None:
        stmt = stmt.where(Pair.cohort_id == cohort_id)
    if status is not None:
        stmt = stmt.where(Pair.status == status)
    if participant_id is not None:
        stmt = stmt.where((Pair.mentor_id == participant_id) | (Pair.mentee_id == participant_id))
    return paginate(
        session, stmt, key=Pair.id, limit=limit, cursor=cursor, order=ordering(sort, SORTS)
    )


def _code_of(column: Any) -> Any:
    return select(Participant.code).where(Participant.id == column).scalar_subquery()


# The columns a pair list sorts by ("-matched": the other way round).
SORTS: dict[str, Any] = {
    "code": Pair.id,
    "mentor": _code_of(Pair.mentor_id),
    "mentee": _code_of(Pair.mentee_id),
    "status": case({s.value: i for i, s in enumerate(PairStatus)}, value=Pair.status),
    "matched": Pair.matched_on,
    "started": Pair.started_on,
    "ended": Pair.ended_on,
}


def live_pairs(session: Session, *, actor: Actor, cohort_id: int) -> dict[int, int]:
    """Return how many matched or active pairs each participant of the cohort is in."""
    require(actor, Action.pair_read)
    counts: dict[int, int] = {}
    for mentor_id, mentee_id in session.execute(
        select(Pair.mentor_id, Pair.mentee_id).where(
            Pair.cohort_id == cohort_id, Pair.status.in_(LIVE)
        )
    ):
        counts[mentor_id] = counts.get(mentor_id, 0) + 1
        counts[mentee_id] = counts.get(mentee_id, 0) + 1
    return counts


def _live_count(session: Session, column: Any, participant_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Pair)
            .where(column == participant_id, Pair.status.in_(LIVE))
        )
        or 0
    )


def _participant(
    session: Session, actor: Actor, participant_id: int, field: str, role: ParticipantRole
) -> Participant:
    try:
        person = participants.get(session, actor=actor, participant_id=participant_id)
    except NotFound:
        raise ValidationFailed(
            Text("The pair names a participant that does not exist."),
            [
                FieldError(
                    field, Text("There is no participant with the id %(id)s.", id=participant_id)
                )
            ],
        ) from None
    if person.role is not role:
        if role is ParticipantRole.mentor:
            detail = Text("A pair needs a mentor here.")
            message = Text("%(code)s is a mentee: choose a mentor.", code=person.code)
        else:
            detail = Text("A pair needs a mentee here.")
            message = Text("%(code)s is a mentor: choose a mentee.", code=person.code)
        raise ValidationFailed(detail, [FieldError(field, message)])
    return person


def match(session: Session, *, actor: Actor, data: PairCreate) -> Pair:
    """Match a mentor and a mentee of one cohort; respect the programme's mentor capacity."""
    require(actor, Action.pair_write)
    mentor = _participant(session, actor, data.mentor_id, "mentor_id", ParticipantRole.mentor)
    mentee = _participant(session, actor, data.mentee_id, "mentee_id", ParticipantRole.mentee)
    if mentor.cohort_id != mentee.cohort_id:
        raise ValidationFailed(
            Text("The mentor and the mentee are in different cohorts."),
            [
                FieldError(
                    "mentee_id",
                    Text(
                        "%(mentee)s is not in the cohort of %(mentor)s: choose a mentee of "
                        "that cohort.",
                        mentee=mentee.code,
                        mentor=mentor.code,
                    ),
                )
            ],
        )
    cohort = mentee.cohort
    matched_on = data.matched_on or today()
    earliest = cohort.start_on - timedelta(days=365)
    if not earliest <= matched_on <= min(cohort.end_on, today()):
        raise ValidationFailed(
            Text("The match date does not fit the cohort."),
            [
                FieldError(
                    "matched_on",
                    Text(
                        "Enter a date from %(first)s to %(last)s that is not in the future.",
                        first=earliest,
                        last=cohort.end_on,
                    ),
                )
            ],
        )
    if _live_count(session, Pair.mentee_id, mentee.id):
        raise Conflict(
            Text(
                "%(code)s is already in a matched or active pair: complete or unwind that pair "
                "first.",
                code=mentee.code,
            )
        )
    capacity = cohort.programme.max_mentees_per_mentor
    if _live_count(session, Pair.mentor_id, mentor.id) >= capacity:
        raise Conflict(
            Text(
                "%(code)s already mentors as many mentees as the programme allows (%(count)s): "
                "choose another mentor.",
                code=mentor.code,
                count=capacity,
            )
        )
    if data.rematch_of_id is not None:
        old = session.get(Pair, data.rematch_of_id)
        if old is None or old.cohort_id != cohort.id:
            raise ValidationFailed(
                Text("The pair to rematch does not exist in this cohort."),
                [
                    FieldError(
                        "rematch_of_id",
                        Text(
                            "There is no pair with the id %(id)s in this cohort.",
                            id=data.rematch_of_id,
                        ),
                    )
                ],
            )
        if old.status is not PairStatus.unwound:
            raise ValidationFailed(
                Text("Only an unwound pair is rematched."),
                [
                    FieldError(
                        "rematch_of_id",
                        Text(
                            "%(code)s is %(status)s: unwind it before matching its people again.",
                            code=old.code,
                            status=old.status,
                        ),
                    )
                ],
            )
        if mentee.id not in (old.mentee_id, old.mentor_id) and mentor.id not in (
            old.mentee_id,
            old.mentor_id,
        ):
            raise ValidationFailed(
                Text("A rematch keeps the mentor or the mentee of the unwound pair."),
                [
                    FieldError(
                        "rematch_of_id",
                        Text(
                            "%(code)s has neither this mentor nor this mentee: choose the pair "
                            "one of them was in.",
                            code=old.code,
                        ),
                    )
                ],
            )
    _, code = next_number(session, series="PAIR", year=0)
    pair = Pair(
        code=code,
        cohort_id=cohort.id,
        mentor_id=mentor.id,
        mentee_id=mentee.id,
        status=PairStatus.matched,
        matched_on=matched_on,
        rationale=data.rationale,
        rematch_of_id=data.rematch_of_id,
    )
    pair.mentor, pair.mentee = mentor, mentee
    session.add(pair)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="pair.matched",
        entity="pair",
        entity_id=pair.id,
        programme_id=cohort.programme_id,
        changes=created(
            {"code": code, "mentor": mentor.code, "mentee": mentee.code, **snapshot(pair, FIELDS)}
        ),
    )
    return pair


def transition(
    session: Session, *, actor: Actor, pair_id: int, data: PairTransition, if_match: int | None
) -> Pair:
    """Start, complete or unwind a pair; closing records the reason, date and exit feedback."""
    require(actor, Action.pair_write)
    pair = get(session, actor=actor, pair_id=pair_id)
    check_if_match(current=pair.version, if_match=if_match, what="pair")
    source, target = pair.status.value, data.to.value
    PAIR.move(source, target, reason=data.reason)
    on = data.on or today()
    before = snapshot(pair, FIELDS)
    if on > today():
        raise ValidationFailed(
            Text("The date is in the future."),
            [FieldError("on", Text("Enter a date that is not in the future."))],
        )
    if target == PairStatus.active:
        if on < pair.matched_on:
            raise ValidationFailed(
                Text("The pair cannot start before it was matched."),
                [FieldError("on", Text("Enter a date on or after %(day)s.", day=pair.matched_on))],
            )
        pair.started_on = on
    else:
        if on < (pair.started_on or pair.matched_on):
            raise ValidationFailed(
                Text("The pair cannot end before it began."),
                [
                    FieldError(
                        "on",
                        Text(
                            "Enter a date on or after %(day)s.",
                            day=pair.started_on or pair.matched_on,
                        ),
                    )
                ],
            )
        pair.ended_on = on
        pair.closure_reason = data.reason
        pair.mentor_feedback = data.mentor_feedback
        pair.mentee_feedback = data.mentee_feedback
    pair.status = PairStatus(target)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="pair.transitioned",
        entity="pair",
        entity_id=pair.id,
        programme_id=programme_of(pair),
        changes=diff(before, snapshot(pair, FIELDS)),
        reason=data.reason,
    )
    return pair


def _check_meeting(pair: Pair, data: MeetingCreate, field: str = "held_on") -> list[FieldError]:
    cohort = pair.mentee.cohort
    if pair.started_on is None:
        return [
            FieldError(
                "pair",
                Text(
                    "%(code)s has not started: start the pair before recording its meetings.",
                    code=pair.code,
                ),
            )
        ]
    errors = []
    if not cohort.start_on <= data.held_on <= cohort.end_on:
        errors.append(
            FieldError(
                field,
                Text(
                    "Enter a date within the cohort, from %(first)s to %(last)s.",
                    first=cohort.start_on,
                    last=cohort.end_on,
                ),
            )
        )
    elif data.held_on < pair.started_on:
        errors.append(
            FieldError(
                field,
                Text(
                    "%(code)s started on %(day)s: enter a date on or after it.",
                    code=pair.code,
                    day=pair.started_on,
                ),
            )
        )
    elif pair.ended_on is not None and data.held_on > pair.ended_on:
        errors.append(
            FieldError(
                field,
                Text(
                    "%(code)s ended on %(day)s: enter a date on or before it.",
                    code=pair.code,
                    day=pair.ended_on,
                ),
            )
        )
    elif data.held_on > today():
        errors.append(FieldError(field, Text("Enter a date that is not in the future.")))
    return errors


def _add_meeting(session: Session, actor: Actor, pair: Pair, data: MeetingCreate) -> Meeting:
    meeting = Meeting(pair_id=pair.id, recorded_by=actor.name, **data.model_dump())
    session.add(meeting)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="meeting.recorded",
        entity="meeting",
        entity_id=meeting.id,
        programme_id=programme_of(pair),
        changes=created(
            {
                "pair": pair.code,
                "recorded_by": meeting.recorded_by,
                **snapshot(meeting, MEETING_FIELDS),
            }
        ),
    )
    return meeting


def record_meeting(session: Session, *, actor: Actor, pair_id: int, data: MeetingCreate) -> Meeting:
    """Record one meeting of a pair."""
    require(actor, Action.pair_write)
    pair = get(session, actor=actor, pair_id=pair_id)
    errors = _check_meeting(pair, data)
    if errors:
        raise ValidationFailed(Text("The meeting does not fit the pair."), errors)
    return _add_meeting(session, actor, pair, data)


def record_meetings(session: Session, *, actor: Actor, data: MeetingBulk) -> list[Meeting]:
    """Record many meetings at once: every row is checked first, and all are written or none."""
    require(actor, Action.pair_write)
    errors: list[FieldError] = []
    resolved: list[tuple[Pair, MeetingCreate]] = []
    for number, row in enumerate(data.meetings, start=1):
        pair: Pair | None = None
        try:
            if row.pair_id is not None:
                pair = get(session, actor=actor, pair_id=row.pair_id)
            elif row.pair:
                pair = get_by_code(session, actor=actor, code=row.pair)
        except NotFound:
            pair = None
        if pair is None:
            if row.pair_id is not None:
                missing = Text("There is no pair with the id %(id)s.", id=row.pair_id)
            elif row.pair:
                missing = Text("There is no pair %(code)s.", code=row.pair.strip().upper())
            else:
                missing = Text("Name the pair by its code, such as PAIR-0001.")
            errors.append(FieldError("pair", missing, row=number))
            continue
        meeting = MeetingCreate.model_validate(row.model_dump(include=set(MEETING_FIELDS)))
        row_errors = _check_meeting(pair, meeting)
        errors += [FieldError(e.field, e.message, row=number) for e in row_errors]
        resolved.append((pair, meeting))
    if errors:
        raise ValidationFailed(
            Text(
                "Rows with problems: %(count)s. Nothing was written: correct them and send all the "
                "rows again.",
                count=len({e.row for e in errors}),
            ),
            errors,
        )
    return [_add_meeting(session, actor, pair, meeting) for pair, meeting in resolved]


def list_meetings(session: Session, *, actor: Actor, pair_id: int) -> Sequence[Meeting]:
    """List a pair's meetings by date."""
    pair = get(session, actor=actor, pair_id=pair_id)
    return session.scalars(
        select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.held_on, Meeting.id)
    ).all()
