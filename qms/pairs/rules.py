"""The programme's meeting rule, month by month, for each pair."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.pairs.models import Meeting, Pair


def months_within(first: date, last: date) -> Iterator[tuple[date, date]]:
    """Yield (first day, last day) of each calendar month lying wholly within first..last."""
    start = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    while True:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if end > last:
            return
        yield start, end
        start = end + timedelta(days=1)


@dataclass(frozen=True)
class PairMonth:
    """A complete month of a pair's active period, held against its programme's meeting rule."""

    pair: Pair
    month: str
    short: tuple[str, ...]


# A pair's months as of a date, worked out once while one document reads one snapshot of the
# records (its indicators and its charts ask for the same pairs' months).
_REMEMBERED: ContextVar[dict[tuple[int, date], tuple[PairMonth, ...]] | None] = ContextVar(
    "pair_months_remembered", default=None
)


@contextmanager
def remembered() -> Iterator[None]:
    """Work out each pair's months as of a date once inside (the records read must not change
    meanwhile: a document's read of one snapshot)."""
    token = _REMEMBERED.set({})
    try:
        yield
    finally:
        _REMEMBERED.reset(token)


def remembering() -> bool:
    """Whether pairs' months are remembered here (their pairs' mentees, cohorts and programmes
    read already)."""
    return _REMEMBERED.get() is not None


def pair_months(session: Session, pair_list: list[Pair], on: date) -> Iterator[PairMonth]:
    """Yield each complete month before the date in which each pair was active, with shortfalls."""
    memo = _REMEMBERED.get()
    if memo is None:
        yield from _pair_months(session, pair_list, on)
        return
    missing = [p for p in pair_list if (p.id, on) not in memo]
    if missing:
        found: dict[int, list[PairMonth]] = defaultdict(list)
        for month in _pair_months(session, missing, on):
            found[month.pair.id].append(month)
        for pair in missing:
            memo[(pair.id, on)] = tuple(found[pair.id])
    for pair in pair_list:
        yield from memo[(pair.id, on)]


def _pair_months(session: Session, pair_list: list[Pair], on: date) -> Iterator[PairMonth]:
    # Each pair's meetings and minutes by calendar month, read as plain rows (no records built).
    held_in: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    ids = [p.id for p in pair_list]
    if ids:
        for pair_id, held_on, minutes in session.execute(
            select(Meeting.pair_id, Meeting.held_on, Meeting.minutes).where(
                Meeting.pair_id.in_(ids)
            )
        ):
            month = held_in[(pair_id, held_on.year, held_on.month)]
            month[0] += 1
            month[1] += minutes
    for pair in pair_list:
        programme = pair.mentee.cohort.programme
        least_meetings = programme.min_meetings_per_month
        least_minutes = programme.min_minutes_per_month
        if not (least_meetings or least_minutes) or pair.started_on is None:
            continue
        last = min(on - timedelta(days=1), pair.ended_on or on, pair.mentee.cohort.end_on)
        for start, _ in months_within(pair.started_on, last):
            count, minutes = held_in.get((pair.id, start.year, start.month), (0, 0))
            short = []
            if least_meetings and count < least_meetings:
                short.append(f"{count} meeting(s) against a minimum of {least_meetings}")
            if least_minutes and minutes < least_minutes:
                short.append(f"{minutes} minutes against a minimum of {least_minutes}")
            yield PairMonth(pair, start.strftime("%Y-%m"), tuple(short))
