"""The rules that watch the programme records and open a deviation for each finding, once.

- meeting_rule: a pair met less often (or for fewer minutes) than its programme's rule in a
  complete month of its active period;
- follow_up_overdue: a live pair's mid-programme follow-up is past its date and not held, or the
  cohort's midpoint has passed with no follow-up scheduled (when the programme's rule asks for one);
- at_risk_undecided: a follow-up found the pair at risk and neither a decision nor a deviation is
  on record;
- indicator: a programme's indicator is past its threshold;
- mentor_untrained: a pair was matched with a mentor who lacked a competence required before
  matching (ISO 9001 7.2: mentor training before matching), or let it expire.

Each finding has a key (meeting_rule:PAIR-0003:2026-05); a run opens a deviation for a new key,
skips a key already found, and reports as cleared a key that is no longer found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import created, lock_chain_head, record_event
from qms.checks.models import RuleFinding
from qms.checks.schemas import CheckResult, FindingRead
from qms.competence import service as competence_service
from qms.db import Database, read_consistently, utcnow
from qms.deviations import service as deviations
from qms.deviations.models import Deviation
from qms.deviations.schemas import DeviationCreate
from qms.errors import FieldError, ValidationFailed
from qms.followups.models import FollowUp, FollowUpOutcome
from qms.i18n import DEFAULT_LANGUAGE, Code, Text
from qms.indicators import service as indicators
from qms.pairs import service as pairs
from qms.pairs.models import Pair
from qms.pairs.rules import pair_months
from qms.permissions import Action, Actor, require
from qms.programmes.models import Cohort, Programme
from qms.webhooks import service as webhooks
from qms.webhooks.models import WebhookEventKind

RULES = ("meeting_rule", "follow_up_overdue", "at_risk_undecided", "indicator", "mentor_untrained")


@dataclass(frozen=True)
class Finding:
    """Something a rule found about a pair (or, for an indicator, about a programme)."""

    key: str
    rule: str
    pair_id: int | None
    title: str
    detail: str
    programme_id: int


def _indicators(session: Session, actor: Actor, on: date) -> Iterator[Finding]:
    stmt = select(Programme).order_by(Programme.id)
    if actor.programme_id is not None:
        stmt = stmt.where(Programme.id == actor.programme_id)
    for programme in session.scalars(stmt):
        for definition in indicators.definitions(session, programme.id):
            figure = indicators.compute(session, programme, definition, on)
            if indicators.status_of(definition, figure.value, stale=figure.stale) == "breach":
                yield Finding(
                    key=f"indicator:{programme.code}:{definition.code}",
                    rule="indicator",
                    pair_id=None,
                    title=f"{programme.code}: indicator {definition.code} past its threshold",
                    detail=(
                        f"{definition.name}: {figure.value} ({figure.detail}) against a "
                        f"threshold of {definition.threshold} and a plan of {definition.planned}."
                    ),
                    programme_id=programme.id,
                )


def _programme_of_finding(session: Session, row: RuleFinding) -> int | None:
    if row.pair_id is not None:
        return pairs.programme_of(session.get_one(Pair, row.pair_id))
    code = row.key.split(":")[1] if row.key.count(":") >= 2 else ""
    programme = session.scalars(select(Programme).where(Programme.code == code)).first()
    return programme.id if programme else None


def _pairs_in_scope(session: Session, actor: Actor) -> list[Pair]:
    stmt = (
        select(Pair).join(Cohort, Cohort.id == Pair.cohort_id).where(Pair.started_on.is_not(None))
    )
    if actor.programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == actor.programme_id)
    return list(session.scalars(stmt.order_by(Pair.id)))


def _meeting_rule(session: Session, pair_list: list[Pair], on: date) -> Iterator[Finding]:
    for item in pair_months(session, pair_list, on):
        if item.short:
            pair, month = item.pair, item.month
            yield Finding(
                key=f"meeting_rule:{pair.code}:{month}",
                rule="meeting_rule",
                pair_id=pair.id,
                programme_id=pairs.programme_of(pair),
                title=f"{pair.code} below the meeting rule in {month}",
                detail=f"In {month} {pair.code} had " + " and ".join(item.short) + ".",
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
                pair_id=pair.id,
                programme_id=pairs.programme_of(pair),
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
                pair_id=pair.id,
                programme_id=pairs.programme_of(pair),
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
                pair_id=pair.id,
                programme_id=pairs.programme_of(pair),
                title=f"{pair.code} at risk with no decision on record",
                detail=(
                    f"The follow-up of {pair.code} on {follow_up.held_on} found the pair at risk; "
                    "no decision or deviation is recorded."
                ),
            )


def _untrained(session: Session, pair_list: list[Pair]) -> Iterator[Finding]:
    # Judged on the day of the match: a training completed afterwards does not make it right,
    # so the finding stays for the pair (the deviation says what was done about it).
    for pair in pair_list:
        if pair.status not in pairs.LIVE:
            continue
        for competence in competence_service.lacking_before_matching(
            session, pair.mentor, pair.matched_on
        ):
            yield Finding(
                key=f"mentor_untrained:{pair.code}:{competence.code}",
                rule="mentor_untrained",
                pair_id=pair.id,
                programme_id=pairs.programme_of(pair),
                title=f"{pair.code} matched with a mentor lacking {competence.code}",
                detail=(
                    f"{pair.code} was matched on {pair.matched_on} with mentor "
                    f"{pair.mentor.code}, who had not completed {competence.code} "
                    f"({competence.title}), required before matching."
                ),
            )


def _read(finding: RuleFinding, session: Session, detail: str | None = None) -> FindingRead:
    pair = session.get(Pair, finding.pair_id) if finding.pair_id else None
    deviation = session.get(Deviation, finding.deviation_id)
    return FindingRead(
        key=finding.key,
        rule=finding.rule,
        pair_code=pair.code if pair else None,
        detail=finding.detail if detail is None else detail,
        deviation_number=deviation.number if deviation else "",
    )


def _indicator_now(session: Session, key: str, on: date) -> Text:
    _, programme_code, code = key.split(":", 2)
    programme = session.scalars(select(Programme).where(Programme.code == programme_code)).first()
    definition = next(
        (d for d in indicators.definitions(session, programme.id) if d.code == code)
        if programme is not None
        else iter(()),
        None,
    )
    if programme is None or definition is None:
        return Text("As of %(on)s the indicator %(code)s is no longer defined.", on=on, code=code)
    figure = indicators.compute(session, programme, definition, on)
    detail = Text(figure.text, **figure.values)
    if figure.value is None:
        return Text(
            "%(name)s has no value as of %(on)s (%(detail)s).",
            name=definition.name,
            on=on,
            detail=detail,
        )
    status = Code(indicators.status_of(definition, figure.value, stale=figure.stale))
    if definition.threshold is None:
        return Text(
            "%(name)s is %(value)s as of %(on)s (%(detail)s): %(status)s, against a plan of "
            "%(planned)s.",
            name=definition.name,
            value=float(figure.value),
            on=on,
            detail=detail,
            status=status,
            planned=float(definition.planned),
        )
    return Text(
        "%(name)s is %(value)s as of %(on)s (%(detail)s): %(status)s, against a threshold of "
        "%(threshold)s and a plan of %(planned)s.",
        name=definition.name,
        value=float(figure.value),
        on=on,
        detail=detail,
        status=status,
        threshold=float(definition.threshold),
        planned=float(definition.planned),
    )


def now_found(session: Session, row: RuleFinding, on: date) -> Text:
    """Say what the rule of a cleared finding finds as of the date, instead of what it found."""
    if row.rule == "indicator":
        return _indicator_now(session, row.key, on)
    pair = session.get(Pair, row.pair_id) if row.pair_id else None
    code = pair.code if pair else row.key.split(":")[1]
    if row.rule == "meeting_rule":
        return Text(
            "As of %(on)s %(pair)s keeps the meeting rule for %(month)s.",
            on=on,
            pair=code,
            month=row.key.rsplit(":", 1)[1],
        )
    if row.rule == "mentor_untrained":
        return Text(
            "As of %(on)s %(pair)s is no longer live, or its mentor's training is no longer "
            "required before matching.",
            on=on,
            pair=code,
        )
    if row.rule == "at_risk_undecided":
        return Text(
            "As of %(on)s a decision or a deviation is on record for %(pair)s at risk.",
            on=on,
            pair=code,
        )
    return Text(
        "As of %(on)s the mid-programme follow-up of %(pair)s is no longer overdue: scheduled, "
        "held, or the pair has ended.",
        on=on,
        pair=code,
    )


@dataclass(frozen=True)
class Found:
    """What the rules found as of a day, and the pairs they looked at (the reader's scope)."""

    on: date
    findings: dict[str, Finding]
    pair_ids: frozenset[int]


def _as_of(on: date | None) -> date:
    on = on or pairs.today()
    if on > pairs.today():
        raise ValidationFailed(
            Text("The rule check cannot run for a day still to come."),
            [FieldError("on", Text("Enter today or an earlier date."))],
        )
    return on


def find(session: Session, *, actor: Actor, on: date | None = None) -> Found:
    """Evaluate the rules as of a date, only reading: what they find, and in which pairs."""
    require(actor, Action.check_run)
    require(actor, Action.deviation_log)
    on = _as_of(on)
    pair_list = _pairs_in_scope(session, actor)
    findings = {
        f.key: f
        for f in [
            *_meeting_rule(session, pair_list, on),
            *_follow_ups(session, pair_list, on),
            *_indicators(session, actor, on),
            *_untrained(session, pair_list),
        ]
    }
    return Found(on, findings, frozenset(p.id for p in pair_list))


def run_from_snapshot(
    database: Database,
    *,
    actor: Actor,
    on: date | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> CheckResult:
    """Evaluate the rules in a read-only transaction that sees one moment, then open the new
    findings' deviations in a short write: the reading never holds up the people writing."""
    with database.unit_of_work(write=False) as session:
        read_consistently(session)
        found = find(session, actor=actor, on=on)
    with database.unit_of_work() as session:
        return run(session, actor=actor, on=found.on, language=language, found=found)


def run(
    session: Session,
    *,
    actor: Actor,
    on: date | None = None,
    language: str = DEFAULT_LANGUAGE,
    found: Found | None = None,
) -> CheckResult:
    """Evaluate the rules as of a date (or take what `find` found); open a deviation for each
    new finding.

    A cleared finding is said as its rule finds it now (an indicator's value as of the date), in
    the language given.
    """
    require(actor, Action.check_run)
    require(actor, Action.deviation_log)
    on = _as_of(found.on if found is not None else on)
    detected_at = utcnow() if on == pairs.today() else datetime.combine(on, time(12), UTC)
    # Runs one at a time: a run started while another writes its findings waits for it and then
    # sees them as known, instead of opening the same deviations again. What the rules found may
    # have been read before (from a snapshot); the findings already known are read here, after
    # the lock, so a finding is never opened twice.
    lock_chain_head(session)
    if found is None:
        found = find(session, actor=actor, on=on)
    in_scope = found.pair_ids
    known = {
        r.key: r
        for r in session.scalars(select(RuleFinding).where(RuleFinding.rule.in_(RULES)))
        if r.pair_id in in_scope
        or (r.pair_id is None and actor.programme_id in (None, _programme_of_finding(session, r)))
    }
    opened, skipped, cleared = [], [], []
    for key, finding in found.findings.items():
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
                    programme_id=finding.programme_id,
                    changes={"cleared_on": {"old": on.isoformat(), "new": None}},
                )
            skipped.append(_read(row, session))
            continue
        pair_id = finding.pair_id
        source = {
            "meeting_rule": "meeting_rule",
            "indicator": "indicator",
            "mentor_untrained": "self_reported",
        }.get(finding.rule, "follow_up")
        deviation = deviations.create(
            session,
            actor=actor,
            data=DeviationCreate.model_validate(
                {
                    "kind": "deviation_from_plan" if pair_id is None else "nonconformity",
                    "source": source,
                    "severity": "minor"
                    if finding.rule in ("meeting_rule", "follow_up_overdue")
                    else "major",
                    "title": finding.title,
                    "description": finding.detail + f" Found by the rule check of {on}.",
                    "pair_id": pair_id,
                    "programme_id": finding.programme_id if pair_id is None else None,
                    # A run as of an earlier day finds what a run on that day would have found.
                    "detected_at": detected_at,
                    "iso_clause": {
                        "meeting_rule": "8.5.1",
                        "indicator": "9.1.3",
                        "mentor_untrained": "7.2",
                    }.get(finding.rule, "9.1.1"),
                }
            ),
        )
        row = RuleFinding(
            key=key,
            rule=finding.rule,
            pair_id=pair_id,
            detail=finding.detail,
            found_on=on,
            deviation_id=deviation.id,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="rule_finding.opened",
            entity="rule_finding",
            entity_id=row.id,
            programme_id=finding.programme_id,
            changes=created(
                {
                    "key": key,
                    "rule": row.rule,
                    "pair_id": row.pair_id,
                    "detail": row.detail,
                    "found_on": on,
                    "deviation_id": deviation.id,
                    "cleared_on": None,
                }
            ),
        )
        opened.append(_read(row, session))
        # Told to the webhooks at once; sent after this transaction, by the scheduler.
        webhooks.emit(
            session,
            actor=actor,
            kind=WebhookEventKind.deviation_opened_by_rule,
            record="deviation",
            record_id=deviation.id,
            number=deviation.number,
            title=deviation.title,
            due_on=deviation.due_on,
            link=f"/deviations/{deviation.id}",
        )
    for key, row in known.items():
        if key not in found.findings and row.cleared_on is None and row.found_on <= on:
            row.cleared_on = on
            session.flush()
            record_event(
                session,
                actor=actor,
                action="rule_finding.cleared",
                entity="rule_finding",
                entity_id=row.id,
                programme_id=_programme_of_finding(session, row),
                changes={"cleared_on": {"old": None, "new": on.isoformat()}},
                reason=f"no longer found by the rule check of {on}",
            )
            cleared.append(_read(row, session, now_found(session, row, on).in_language(language)))
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
