"""The overview: what needs attention now, each part only for roles that read it, and within the
programme a reader's access is limited to."""

from __future__ import annotations

from datetime import date, timedelta

from qms.dashboard import end_of_month, overview
from qms.followups import service as followups
from qms.permissions import Actor, Role
from tests.factories import (
    ADMIN,
    make_cohort,
    make_deviation,
    make_meeting,
    make_pair,
    make_participant,
    make_programme,
)

ON = date(2026, 11, 15)


def _pair(session, programme, code: str):
    cohort = make_cohort(
        session, programme, code=code, start_on=date(2026, 1, 5), end_on=date(2026, 12, 18)
    )
    return make_pair(
        session,
        make_participant(session, cohort, "mentor"),
        make_participant(session, cohort, "mentee"),
        started_on=date(2026, 1, 10),
    )


def test_what_needs_attention(session) -> None:
    programme = make_programme(session, min_meetings_per_month=2, min_minutes_per_month=120)
    other = make_programme(session, min_meetings_per_month=2)
    short = _pair(session, programme, "A")
    kept = _pair(session, programme, "B")
    elsewhere = _pair(session, other, "C")
    make_meeting(session, short, date(2026, 10, 7), minutes=60)
    for day in (6, 20):
        make_meeting(session, kept, date(2026, 10, day), minutes=90)
    make_deviation(session, severity="major", programme_id=programme.id)
    make_deviation(session, severity="minor", programme_id=other.id)
    followups.schedule_pair(session, actor=ADMIN, pair_id=short.id, on=date(2026, 11, 20))
    session.flush()

    seen = overview(session, actor=ADMIN, on=ON)
    assert seen.open_by_severity == {"minor": 1, "major": 1, "critical": 0}
    assert [f.pair_code for f in seen.follow_ups_due] == [short.code]
    # October was the last complete month: one pair met once for an hour against 2 and 120.
    shortfalls = {s.pair_code: s for s in seen.meeting_shortfalls}
    assert set(shortfalls) == {short.code, elsewhere.code}
    assert shortfalls[short.code].month == "2026-10"
    assert shortfalls[short.code].short == (
        "1 meeting(s) against a minimum of 2",
        "60 minutes against a minimum of 120",
    )

    # A reader limited to one programme sees that programme's records only.
    scoped = Actor(user_id=None, name="scoped", role=Role.auditor, programme_id=programme.id)
    mine = overview(session, actor=scoped, on=ON)
    assert mine.open_by_severity == {"minor": 0, "major": 1, "critical": 0}
    assert [s.pair_code for s in mine.meeting_shortfalls] == [short.code]


def test_a_role_sees_only_the_parts_it_may_read(session) -> None:
    importer = Actor(user_id=None, name="script", role=Role.importer)
    seen = overview(session, actor=importer, on=ON)
    assert seen.open_by_severity is None
    assert seen.meeting_shortfalls is None
    assert seen.breaches is None


def test_the_end_of_a_month() -> None:
    assert end_of_month(date(2026, 2, 10)) == date(2026, 2, 28)
    assert end_of_month(date(2028, 2, 1)) == date(2028, 2, 29)
    assert end_of_month(date(2026, 12, 31)) == date(2026, 12, 31)
    assert end_of_month(date(2026, 1, 31)) + timedelta(days=1) == date(2026, 2, 1)
