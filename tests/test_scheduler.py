"""The scheduler: the rule check and the reminders daily at a set time, caught up after being
down, and run by exactly one of several schedulers on one database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qms import scheduler
from qms.audit.models import AuditEvent
from qms.config import Settings
from qms.db import Database, make_engine, utcnow
from qms.notifications.models import JobRun

OSLO = Settings(schedule_at="06:00", timezone="Europe/Oslo", smtp_url=None)


def events(database: Database, action: str) -> int:
    with database.unit_of_work(write=False) as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


def twin(database: Database) -> Database:
    """Another process's view of the same database: an engine and pool of its own."""
    return Database(make_engine(database.engine.url.render_as_string(hide_password=False)))


class TestWhen:
    def test_the_day_turns_at_the_set_time_in_the_organisations_zone(self) -> None:
        # 05:59 in Oslo (winter, UTC+1) is still yesterday's turn; 06:00 is today's.
        assert scheduler.due_day(datetime(2026, 12, 3, 4, 59, tzinfo=UTC), OSLO) == date(
            2026, 12, 2
        )
        assert scheduler.due_day(datetime(2026, 12, 3, 5, 0, tzinfo=UTC), OSLO) == date(2026, 12, 3)
        # Summer time (UTC+2): 06:00 in Oslo is 04:00 UTC.
        assert scheduler.due_day(datetime(2027, 6, 3, 4, 0, tzinfo=UTC), OSLO) == date(2027, 6, 3)

    def test_a_time_that_is_no_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="schedule_at"):
            Settings(schedule_at="25:00")


class TestDaily:
    def test_each_job_runs_once_for_its_day(self, fresh_db) -> None:
        now = utcnow()
        day = scheduler.due_day(now, OSLO)

        first = scheduler.run_due(fresh_db, now=now, settings=OSLO)
        again = scheduler.run_due(fresh_db, now=now + timedelta(minutes=5), settings=OSLO)

        assert [(o.job, o.ran) for o in first] == [("check", True), ("reminders", True)]
        assert [(o.job, o.ran) for o in again] == [("check", False), ("reminders", False)]
        assert events(fresh_db, "check.run") == 1
        assert events(fresh_db, "schedule.ran") == 2
        assert scheduler.last_runs(fresh_db) == {"check": day, "reminders": day}

    def test_the_next_day_after_the_set_time_it_runs_again(self, fresh_db) -> None:
        now = utcnow()
        scheduler.run_due(fresh_db, now=now, settings=OSLO)
        next_day = scheduler.due_day(now, OSLO) + timedelta(days=1)
        before = datetime.combine(next_day, datetime.min.time(), UTC) + timedelta(hours=3)
        after = before + timedelta(hours=3)

        assert not any(o.ran for o in scheduler.run_due(fresh_db, now=before, settings=OSLO))
        assert all(o.ran for o in scheduler.run_due(fresh_db, now=after, settings=OSLO))
        assert events(fresh_db, "check.run") == 2

    def test_a_scheduler_down_for_days_runs_each_missed_job_once_at_start(self, fresh_db) -> None:
        now = utcnow()
        day = scheduler.due_day(now, OSLO)
        with fresh_db.unit_of_work() as session:
            for job in scheduler.JOBS:
                session.add(JobRun(name=job, last_run_on=day - timedelta(days=4)))

        ran = scheduler.run_due(fresh_db, now=now, settings=OSLO)
        scheduler.run_due(fresh_db, now=now + timedelta(seconds=30), settings=OSLO)

        assert [o.ran for o in ran] == [True, True]
        assert events(fresh_db, "check.run") == 1
        assert scheduler.last_runs(fresh_db) == {"check": day, "reminders": day}

    def test_the_loop_runs_what_is_due_at_once(self, fresh_db) -> None:
        passes: list[list[scheduler.Outcome]] = []
        scheduler.loop(fresh_db, poll_seconds=0.01, cycles=2, on_pass=passes.append)
        assert [[o.ran for o in p] for p in passes] == [[True, True], [False, False]]


class TestOneOfSeveral:
    def test_a_held_job_is_not_held_twice(self, fresh_db) -> None:
        other = twin(fresh_db)
        try:
            with scheduler.held(fresh_db, "check") as mine:
                with scheduler.held(other, "check") as theirs:
                    assert (mine, theirs) == (True, False)
            with scheduler.held(other, "check") as later:
                assert later is True
        finally:
            other.dispose()

    def test_two_schedulers_at_once_run_each_job_once(self, fresh_db, monkeypatch) -> None:
        calls: list[str] = []
        real = scheduler.run_check

        def slow_check(database: Database, now: datetime, day: date) -> str:
            calls.append("check")
            time.sleep(0.5)  # long enough that the other scheduler tries while it runs
            return real(database, now, day)

        monkeypatch.setattr(scheduler, "run_check", slow_check)
        databases = [fresh_db, twin(fresh_db)]
        start = threading.Barrier(2)
        outcomes: list[list[scheduler.Outcome]] = []
        now = utcnow()

        def one(database: Database) -> None:
            start.wait()
            outcomes.append(scheduler.run_due(database, now=now, settings=OSLO))

        threads = [threading.Thread(target=one, args=(d,)) for d in databases]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            databases[1].dispose()

        assert calls == ["check"]
        assert events(fresh_db, "check.run") == 1
        assert events(fresh_db, "schedule.ran") == 2
        ran = [(o.job, o.ran) for run in outcomes for o in run if o.ran]
        assert sorted(ran) == [("check", True), ("reminders", True)]
        summaries = {o.summary for run in outcomes for o in run if not o.ran}
        assert "held by another scheduler" in summaries

    def test_two_scheduler_processes_at_once_run_the_check_once(self, fresh_db) -> None:
        url = fresh_db.engine.url.render_as_string(hide_password=False)
        environment = {**os.environ, "QMS_DATABASE_URL": url, "QMS_LANGUAGE": "en"}
        environment.pop("QMS_SMTP_URL", None)
        command = [sys.executable, "-c", "from qms.cli import app; app()", "scheduler", "--once"]
        processes = [
            subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for process in processes:
            _, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr

        assert events(fresh_db, "check.run") == 1
        assert events(fresh_db, "schedule.ran") == 2

    @pytest.mark.skipif(
        os.environ.get("QMS_TEST_DATABASE_URL") is not None,
        reason="the lock row is SQLite's; PostgreSQL's advisory lock ends with its session",
    )
    def test_a_hold_left_by_a_killed_scheduler_is_overtaken_after_an_hour(self, fresh_db) -> None:
        now = utcnow()
        with fresh_db.unit_of_work() as session:
            session.add(JobRun(name="check", holder="gone:1", held_until=now + timedelta(hours=1)))

        with scheduler.held(fresh_db, "check", now=now) as soon:
            assert soon is False
        with scheduler.held(fresh_db, "check", now=now + timedelta(hours=1, minutes=1)) as late:
            assert late is True


class TestFailure:
    def test_a_failing_job_leaves_the_other_to_run_and_is_tried_again(
        self, fresh_db, monkeypatch
    ) -> None:
        def broken(database: Database, now: datetime, day: date) -> str:
            raise RuntimeError("the rules could not be read")

        monkeypatch.setattr(scheduler, "run_check", broken)
        now = utcnow()

        outcomes = scheduler.run_due(fresh_db, now=now, settings=OSLO)

        assert [(o.job, o.ran) for o in outcomes] == [("check", False), ("reminders", True)]
        assert outcomes[0].summary == "failed: RuntimeError"
        assert scheduler.last_runs(fresh_db)["check"] is None
        monkeypatch.undo()
        again = scheduler.run_due(fresh_db, now=now + timedelta(minutes=1), settings=OSLO)
        assert [(o.job, o.ran) for o in again] == [("check", True), ("reminders", False)]
