"""The daily jobs (the rule check, the reminders) at a set time, by the service's clock.

Each job runs once a day, at QMS_SCHEDULE_AT in the organisation's time zone; a scheduler that
was down when a job was due runs it once when it starts. Several schedulers (workers, hosts) may
run against one database: a job is held by one of them at a time — a PostgreSQL advisory lock,
or on SQLite a lock row in job_run — and the day it last ran is kept beside it, so the others
see that it has run and leave it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, select, text, update
from sqlalchemy.exc import IntegrityError

from qms.audit.service import record_event
from qms.config import Settings, get_settings
from qms.db import Database, utcnow
from qms.notifications import mail
from qms.notifications import service as reminders
from qms.notifications.models import JobRun
from qms.permissions import Actor, Role
from qms.webhooks import service as webhooks

log = logging.getLogger("qms.scheduler")

# Who the trail says ran a scheduled job.
SCHEDULER = Actor(user_id=None, name="scheduler", role=Role.admin)
JOBS = ("check", "reminders")
# A hold on SQLite's lock row counts this long; a scheduler killed while holding it is
# overtaken after that.
HOLD = timedelta(hours=1)


def holder_name() -> str:
    """Return this process as a holder of a job: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def advisory_key(job: str) -> int:
    """Return the PostgreSQL advisory lock key of a job (a signed 64-bit number)."""
    digest = hashlib.sha256(f"mentor-qms:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def held(database: Database, job: str, *, now: datetime | None = None) -> Iterator[bool]:
    """Hold the job for this process while the block runs; yield whether the hold was had (if
    not, another process has the job)."""
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as conn:
            got = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(job)}
                ).scalar()
            )
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(job)})
                    conn.commit()
        return
    me = holder_name()
    moment = now or utcnow()
    _ensure_row(database, job)
    with database.unit_of_work() as session:
        result = session.execute(
            update(JobRun)
            .where(
                JobRun.name == job,
                (JobRun.holder.is_(None)) | (JobRun.held_until < moment),
            )
            .values(holder=me, held_until=moment + HOLD)
        )
        taken = result.rowcount if isinstance(result, CursorResult) else 0
    try:
        yield bool(taken)
    finally:
        if taken:
            with database.unit_of_work() as session:
                session.execute(
                    update(JobRun)
                    .where(JobRun.name == job, JobRun.holder == me)
                    .values(holder=None, held_until=None)
                )


def _ensure_row(database: Database, job: str) -> None:
    with database.unit_of_work(write=False) as session:
        if session.get(JobRun, job) is not None:
            return
    try:
        with database.unit_of_work() as session:
            session.add(JobRun(name=job))
    except IntegrityError:
        # Another scheduler made it meanwhile.
        pass


def due_day(now: datetime, settings: Settings) -> date:
    """Return the last day whose run time has come: today once the time has passed, else
    yesterday."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    hour, minute = (int(part) for part in settings.schedule_at.split(":"))
    passed = (local.hour, local.minute) >= (hour, minute)
    return local.date() if passed else local.date() - timedelta(days=1)


def run_check(database: Database, now: datetime, day: date) -> str:
    """Run the rule check on the records as they are now (a day caught up on is checked as of
    today: the records have moved on since); say what it found."""
    from qms.checks import service as checks

    result = checks.run_from_snapshot(database, actor=SCHEDULER, on=None)
    return f"{len(result.opened)} opened, {len(result.cleared)} cleared"


def send_reminders(database: Database, now: datetime, settings: Settings) -> tuple[int, int]:
    """Try the pending reminders whose time has come; return how many people got their digest
    and how many did not (their reminders stay pending)."""
    if not settings.smtp_url:
        return 0, 0
    server = mail.parse(settings.smtp_url)
    with database.unit_of_work(write=False) as session:
        people = reminders.due_users(session, now=now)
    sent = failed = 0
    for user_id in people:
        with database.unit_of_work() as session:
            ok = reminders.deliver(
                session,
                actor=SCHEDULER,
                user_id=user_id,
                server=server,
                sender=settings.mail_from,
                public_url=settings.public_url,
                now=now,
            )
        sent, failed = (sent + 1, failed) if ok else (sent, failed + 1)
    return sent, failed


def run_reminders(database: Database, now: datetime, day: date, settings: Settings) -> str:
    """Queue the day's reminders and the webhooks' events of the same findings, and send every
    digest due; say how it went (the webhooks are sent after, by send_webhooks)."""
    with database.unit_of_work() as session:
        queued = reminders.queue(
            session,
            actor=SCHEDULER,
            on=day,
            now=now,
            horizon_days=settings.remind_days,
        )
        events = webhooks.queue_daily(
            session,
            actor=SCHEDULER,
            on=day,
            now=now,
            horizon_days=settings.remind_days,
            public_url=settings.public_url,
        )
    sent, failed = send_reminders(database, now, settings)
    return (
        f"{sum(queued.values())} queued, {sent} sent, {failed} failed; "
        f"{events} webhook events queued"
    )


def send_webhooks(database: Database, now: datetime, settings: Settings) -> str | None:
    """Send the webhooks' deliveries whose time has come, if no other process sends them now;
    say how it went (none if there was nothing to send or another process holds them)."""
    with held(database, "webhooks", now=now) as got:
        if not got:
            return None
        sent = webhooks.send_due(database, now=now, settings=settings)
    if not (sent.delivered or sent.retrying or sent.failed):
        return None
    return f"{sent.delivered} delivered, {sent.retrying} to try again, {sent.failed} failed"


@dataclass
class Outcome:
    """What one pass of the scheduler did with a job."""

    job: str
    ran: bool
    day: date
    summary: str = ""


def run_due(
    database: Database, *, now: datetime | None = None, settings: Settings | None = None
) -> list[Outcome]:
    """Run each daily job that is due and has not run for its day, if this process can hold it;
    retry the reminders waiting after a failure in any case."""
    settings = settings or get_settings()
    now = now or utcnow()
    day = due_day(now, settings)
    outcomes = []
    for job in JOBS:
        with held(database, job, now=now) as got:
            if not got:
                outcomes.append(Outcome(job, False, day, "held by another scheduler"))
                continue
            with database.unit_of_work(write=False) as session:
                row = session.get(JobRun, job)
                last = row.last_run_on if row is not None else None
            if last is not None and last >= day:
                if job == "reminders":
                    sent, failed = send_reminders(database, now, settings)
                    if sent or failed:
                        outcomes.append(Outcome(job, False, day, f"{sent} sent, {failed} failed"))
                        continue
                outcomes.append(Outcome(job, False, day, "ran already"))
                continue
            started = utcnow()
            try:
                summary = (
                    run_check(database, now, day)
                    if job == "check"
                    else run_reminders(database, now, day, settings)
                )
            except Exception as error:
                # One job failing (a misconfigured SMTP address, a database restarting) leaves
                # the other to run; the failed one is tried again at the next pass.
                log.exception("%s for %s failed", job, day)
                outcomes.append(Outcome(job, False, day, f"failed: {type(error).__name__}"))
                continue
            with database.unit_of_work() as session:
                row = session.get(JobRun, job)
                if row is None:
                    row = JobRun(name=job)
                    session.add(row)
                row.last_run_on = day
                row.started_at = started
                row.finished_at = utcnow()
                session.flush()
                record_event(
                    session,
                    actor=SCHEDULER,
                    action="schedule.ran",
                    entity="job",
                    entity_id=job,
                    changes={"last_run_on": {"old": str(last) if last else None, "new": str(day)}},
                    reason=summary,
                )
            log.info("%s ran for %s: %s", job, day, summary)
            outcomes.append(Outcome(job, True, day, summary))
    try:
        # Every pass, not once a day: an event found by a request waits for the next pass only.
        said = send_webhooks(database, now, settings)
    except Exception as error:
        log.exception("sending the webhooks failed")
        outcomes.append(Outcome("webhooks", False, day, f"failed: {type(error).__name__}"))
    else:
        if said is not None:
            outcomes.append(Outcome("webhooks", True, day, said))
    return outcomes


def last_runs(database: Database) -> dict[str, date | None]:
    """Return the day each job last ran for."""
    with database.unit_of_work(write=False) as session:
        rows = {r.name: r.last_run_on for r in session.scalars(select(JobRun))}
    return {job: rows.get(job) for job in JOBS}


def loop(
    database: Database,
    *,
    poll_seconds: float = 30.0,
    cycles: int | None = None,
    on_pass: Callable[[list[Outcome]], None] | None = None,
) -> None:
    """Run the due jobs now (catching up on one missed while down), then every poll_seconds."""
    done = 0
    while cycles is None or done < cycles:
        try:
            outcomes = run_due(database)
        except Exception:
            # One failed pass (a database restarting) is logged; the next pass tries again.
            log.exception("a pass of the scheduler failed")
            outcomes = []
        if on_pass is not None:
            on_pass(outcomes)
        done += 1
        if cycles is None or done < cycles:
            time.sleep(poll_seconds)
