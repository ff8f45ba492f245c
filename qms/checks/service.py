"""The rules that watch the programme records and open a deviation for each finding, once.

- meeting_rule: a pair met less often (or for fewer minutes) than its programme's rule in a
  complete month of its active period;
- follow_up_overdue: a live pair's mid-programme follow-up is past its date and not held, or the
  cohort's midpoint has passed with no follow-up scheduled (when the programme's rule asks for one);
- at_risk_undecided: a follow-up found the pair at risk and neither a decision nor a deviation is
  on record.

Each finding has a key (meeting_rule:PAIR-0003:2026-05); a run opens a deviation for a new key,
skips a key already found, and reports as cleared a key that is no longer found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import record_event
from qms.checks.models import RuleFinding
from qms.checks.schemas import CheckResult, FindingRead
from qms.db import utcnow
from qms.deviations import service as deviations
from qms.deviations.models import Deviation
from qms.deviations.schemas import DeviationCreate
from qms.errors import FieldError, ValidationFailed
from qms.followups.models import FollowUp, FollowUpOutcome
from qms.pairs import service as pairs
from qms.pairs.models import Meeting, Pair
from qms.permissions import Action, Actor, require
from qms.programmes.models import Cohort

RULES = ("meeting_rule", "follow_up_overdue", "at_risk_undecided")


@dataclass(frozen=True)
class Finding:
    """Something a rule found about a pair."""

    key: str
    rule: str
    pair: Pair
    title: str
    detail: str


def _months(first: date, last: date) -> Iterator[tuple[date, date]]:
    """Yield (first day, last day) of each calendar month lying wholly within first..last."""
    start = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    while True:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if end > last:
            return
        yield start, end
        start = end + timedelta(days=1)


def _pairs_in_scope(session: Session, actor: Actor) -> list[Pair]:
    stmt = (
        select(Pair).join(Cohort, Cohort.id == Pair.cohort_id).where(Pair.started_on.is_not(None))
    )
    if actor.programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == actor.programme_id)
    return list(session.scalars(stmt.order_by(Pair.id)))


def _meeting_rule(session: Session, pair_list: list[Pair], on: date) -> Iterator[Finding]:
    meetings: dict[int, list[Meeting]] = defaultdict(list)
    ids = [p.id for p in pair_list]
    if ids:
        for m in session.scalars(select(Meeting).where(Meeting.pair_id.in_(ids))):
            meetings[m.pair_id].append(m)
    for pair in pair_list:
        programme = pair.mentee.cohort.programme
        least_meetings = programme.min_meetings_per_month
        least_minutes = programme.min_minutes_per_month
        if not (least_meetings or least_minutes) or pair.started_on is None:
            continue
        last = min(on - timedelta(days=1), pair.ended_on or on, pair.mentee.cohort.end_on)
        for start, end in _months(pair.started_on, last):
            held = [m for m in meetings[pair.id] if start <= m.held_on <= end]
            count, minutes = len(held), sum(m.minutes for m in held)
            short = []
            if least_meetings and count < least_meetings:
                short.append(f"{count} meeting(s) against a minimum of {least_meetings}")
            if least_minutes and minutes < least_minutes:
                short.append(f"{minutes} minutes against a minimum of {least_minutes}")
            if short:
                month = start.strftime("%Y-%m")
                yield Finding(
                    key=f"meeting_rule:{pair.code}:{month}",
                    rule="meeting_rule",
                    pair=pair,
                    title=f"{pair.code} below the meeting rule in {month}",
                    detail=f"In {month} {pair.code} had " + " and ".join(short) + ".",
                )


def _follow_ups(session: Session, pair_list: list[Pair], on: date) -> Iterator[Finding]:
    by_id = {p.id: p for p in pair_list}
    if not by_id:
        return
    rows = session.scalars(select(FollowUp).where(FollowUp.pair_id.in_(by_id))).all()
    scheduled = {f.pair_id for f in rows}
    for pair in pair_list:
        cohort = pair.mentee.cohort
        midpoint = cohort.midpoint_on
        if (
            pair.id not in scheduled
            and pair.status in pairs.LIVE
            and cohort.programme.follow_up_at_midpoint
            and midpoint is not None
            and midpoint < on
        ):
            yield Finding(
                key=f"follow_up_overdue:{pair.code}:midpoint",
                rule="follow_up_overdue",
                pair=pair,
                title=f"No mid-programme follow-up of {pair.code}",
                detail=(
                    f"The cohort's midpoint was {midpoint} and no follow-up of {pair.code} has "
                    "been scheduled or held."
                ),
            )
    for follow_up in rows:
        pair = by_id[follow_up.pair_id]
        if follow_up.held_on is None and follow_up.scheduled_on < on and pair.status in pairs.LIVE:
            yield Finding(
                key=f"follow_up_overdue:{follow_up.id}",
                rule="follow_up_overdue",
                pair=pair,
                title=f"Mid-programme follow-up of {pair.code} overdue",
                detail=(
                    f"The follow-up of {pair.code} was due on {follow_up.scheduled_on} and has not "
                    "been held."
                ),
            )
        if (
            follow_up.outcome is FollowUpOutcome.at_risk
            and not follow_up.decision
            and follow_up.deviation_id is None
        ):
            yield Finding(
                key=f"at_risk_undecided:{follow_up.id}",
                rule="at_risk_undecided",
                pair=pair,
                title=f"{pair.code} at risk with no decision on record",
                detail=(
                    f"The follow-up of {pair.code} on {follow_up.held_on} found the pair at risk; "
                    "no decision or deviation is recorded."
                ),
            )


def _read(finding: RuleFinding, session: Session) -> FindingRead:
    pair = session.get(Pair, finding.pair_id) if finding.pair_id else None
    deviation = session.get(Deviation, finding.deviation_id)
    return FindingRead(
        key=finding.key,
        rule=finding.rule,
        pair_code=pair.code if pair else None,
        detail=finding.detail,
        deviation_number=deviation.number if deviation else "",
    )


def run(session: Session, *, actor: Actor, on: date | None = None) -> CheckResult:
    """Evaluate the rules as of a date; open a deviation for each new finding."""
    require(actor, Action.check_run)
    require(actor, Action.deviation_log)
    on = on or pairs.today()
    if on > pairs.today():
        raise ValidationFailed(
            "a date in the future", [FieldError("on", "must not be in the future")]
        )
    detected_at = utcnow() if on == pairs.today() else datetime.combine(on, time(12), UTC)
    pair_list = _pairs_in_scope(session, actor)
    found = {
        f.key: f
        for f in [*_meeting_rule(session, pair_list, on), *_follow_ups(session, pair_list, on)]
    }
    in_scope = {p.id for p in pair_list}
    known = {
        r.key: r
        for r in session.scalars(select(RuleFinding).where(RuleFinding.rule.in_(RULES)))
        if r.pair_id in in_scope
    }
    opened, skipped, cleared = [], [], []
    for key, finding in found.items():
        if key in known:
            row = known[key]
            if row.cleared_on is not None:
                # It had cleared and is back: the same finding, under its first deviation.
                row.cleared_on = None
                session.flush()
                record_event(
                    session,
                    actor=actor,
                    action="rule_finding.recurred",
                    entity="rule_finding",
                    entity_id=row.id,
                    programme_id=pairs.programme_of(finding.pair),
                    changes={"cleared_on": {"old": on.isoformat(), "new": None}},
                )
            skipped.append(_read(row, session))
            continue
        pair = finding.pair
        source = "meeting_rule" if finding.rule == "meeting_rule" else "follow_up"
        deviation = deviations.create(
            session,
            actor=actor,
            data=DeviationCreate.model_validate(
                {
                    "kind": "nonconformity",
                    "source": source,
                    "severity": "major" if finding.rule == "at_risk_undecided" else "minor",
                    "title": finding.title,
                    "description": finding.detail + f" Found by the rule check of {on}.",
                    "pair_id": pair.id,
                    # A run as of an earlier day finds what a run on that day would have found.
                    "detected_at": detected_at,
                    "iso_clause": "8.5.1" if finding.rule == "meeting_rule" else "9.1.1",
                }
            ),
        )
        row = RuleFinding(
            key=key,
            rule=finding.rule,
            pair_id=pair.id,
            detail=finding.detail,
            found_on=on,
            deviation_id=deviation.id,
        )
        session.add(row)
        session.flush()
        opened.append(_read(row, session))
    for key, row in known.items():
        if key not in found and row.cleared_on is None and row.found_on <= on:
            row.cleared_on = on
            session.flush()
            record_event(
                session,
                actor=actor,
                action="rule_finding.cleared",
                entity="rule_finding",
                entity_id=row.id,
                programme_id=pairs.programme_of(session.get_one(Pair, row.pair_id)),
                changes={"cleared_on": {"old": None, "new": on.isoformat()}},
                reason=f"no longer found by the rule check of {on}",
            )
            cleared.append(_read(row, session))
    record_event(
        session,
        actor=actor,
        action="check.run",
        entity="check",
        programme_id=actor.programme_id,
        changes={
            "on": {"old": None, "new": on.isoformat()},
            "opened": {"old": None, "new": [f.key for f in opened]},
            "skipped": {"old": None, "new": len(skipped)},
            "cleared": {"old": None, "new": [f.key for f in cleared]},
        },
    )
    return CheckResult(on=on, opened=opened, skipped=skipped, cleared=cleared)
