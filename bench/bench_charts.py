"""What the charts cost the programme quality report: generated with its charts against without.

Builds the demo data set in a scratch SQLite database and generates the quality report of a
programme (indicators planned against actual in two charts, the meeting rule and the outcomes
at close: four pictures at 200 dpi) round after round, taking turns:

- without charts (`qms.charts.drawn(False)`: the same report, each chart's title, caption and
  figures in their tables, and no picture);
- with charts drawn afresh: nothing kept, neither in this process nor on disk (the cold case:
  a programme's first report, or its records changed);
- with charts kept in this process: the same report again at the same moment;
- with charts kept on disk, at a later moment: the report made again a few minutes later over
  the same records by a process that has drawn nothing (its own pictures forgotten first): the
  pictures, named by their figures, are read from the folder the service keeps them in;
- with charts drawn ahead, after a change: a deviation logged in the programme (its indicators'
  chart changes), the service's drawing ahead run as it runs after a commit (its CPU time printed
  apart: it is the service's, in the background), then the report made now as another process
  would, against the same report without charts at the same moment (the period then runs to
  today, not to the fixed moment of the others); the pictures the report drew itself are counted.

`--size demo` reports on the demo's one-year programme (20 pairs); `--size real` adds a
programme of the Via-mentoring report's size, built with the service functions (450 mentees in
a one-year cohort, 225 of them paired with a mentor, each pair meeting about twice a month for
the year and followed up at the midpoint, the pairs completed and the mentees' outcomes
imported) and reports on it. Prints the median of each by wall clock and by this process's
CPU time, and the ratios against the report without charts last (at most 1.2 wanted).

Usage: python bench/bench_charts.py [--rounds 7] [--language nb] [--size demo|real]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

MENTEES, PAIRS = 450, 225


def real_programme(session: Any, operator: Any) -> int:
    """A one-year programme of the Via-mentoring report's size, made as its coordinator and
    quality lead make one; return its id."""
    from qms.demo import evaluations as demo_evaluations
    from qms.evaluations import service as evaluations
    from qms.evaluations.models import BatchKind
    from qms.evaluations.readers import ImportFile
    from qms.followups import service as followups
    from qms.followups.schemas import FollowUpRecord
    from qms.pairs import service as pairs
    from qms.pairs.schemas import MeetingBulk, MeetingRow, PairCreate, PairTransition
    from qms.participants import service as participants
    from qms.participants.schemas import ParticipantCreate, PersonalData
    from qms.programmes import service as programmes
    from qms.programmes.schemas import CohortCreate, ProgrammeCreate

    programme = programmes.create_programme(
        session,
        actor=operator,
        data=ProgrammeCreate(
            code="VIA-450",
            name="Mentor programme for job-seeking graduates, full intake",
            organiser="Dalarna Mentor Foundation",
            target_group="Job-seeking graduates registered with the public employment service.",
            objectives="Each mentee finds work in their own field within the programme year.",
            min_meetings_per_month=2,
            min_minutes_per_month=120,
            length_months=12,
        ),
    )
    start, end = date(2025, 2, 3), date(2026, 1, 30)
    cohort = programmes.create_cohort(
        session,
        actor=operator,
        programme_id=programme.id,
        data=CohortCreate(code="2025", name="Intake February 2025", start_on=start, end_on=end),
    )

    def person(role: str, n: int) -> Any:
        return participants.create(
            session,
            actor=operator,
            data=ParticipantCreate(
                cohort_id=cohort.id,
                role=role,
                field="Environment and technology",
                screened_on=start - timedelta(days=40),
                consent_on=start - timedelta(days=40),
                personal=PersonalData(name=f"{role.title()} {n:03d}"),
            ),
        )

    mentees = [person("mentee", n) for n in range(MENTEES)]
    made = []
    for n in range(PAIRS):
        pair = pairs.match(
            session,
            actor=operator,
            data=PairCreate(
                mentor_id=person("mentor", n).id,
                mentee_id=mentees[n].id,
                rationale="Same field.",
                matched_on=start - timedelta(days=10),
            ),
        )
        made.append(
            pairs.transition(
                session,
                actor=operator,
                pair_id=pair.id,
                data=PairTransition(to="active", on=start),
                if_match=pair.version,
            )
        )
    rows = []
    for pair in made:
        first = start.replace(day=1)
        while first <= end:
            # Twice a month; one pair in nine meets once in the summer months.
            days = (12,) if pair.id % 9 == 0 and first.month in (7, 8) else (6, 20)
            for i, day in enumerate(days):
                held = first.replace(day=day)
                if start <= held <= end:
                    rows.append(
                        MeetingRow(
                            pair=pair.code,
                            held_on=held,
                            minutes=60 + 15 * ((pair.id + i) % 3),
                            mode="in_person",
                            topics="Network, applications and the labour market",
                        )
                    )
            first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    for first_row in range(0, len(rows), 2_000):  # a batch holds at most 5,000
        batch = MeetingBulk(meetings=rows[first_row : first_row + 2_000])
        pairs.record_meetings(session, actor=operator, data=batch)
    midpoint = cohort.midpoint_on or start
    for n, pair in enumerate(made):
        follow_up = followups.schedule_pair(session, actor=operator, pair_id=pair.id, on=midpoint)
        if n % 10:
            followups.record(
                session,
                actor=operator,
                follow_up_id=follow_up.id,
                data=FollowUpRecord.model_validate(
                    {
                        "held_on": midpoint + timedelta(days=n % 5),
                        "expectations_clarified": True,
                        "goal_progress": 3 + n % 3,
                        "meeting_frequency_kept": n % 9 != 0,
                        "relationship": 4,
                        "extra_support_needed": False,
                        "outcome": "on_track",
                        "notes": "",
                    }
                ),
                if_match=follow_up.version,
            )
        pairs.transition(
            session,
            actor=operator,
            pair_id=pair.id,
            data=PairTransition.model_validate(
                {"to": "completed", "on": end, "reason": "Programme year completed"}
            ),
            if_match=pair.version,
        )
    kinds = ("employed_full_time", "employed_part_time", "education", "job_seeking", "other")
    with tempfile.TemporaryDirectory(prefix="qms-bench-") as folder:
        outcomes = Path(folder) / "outcomes.csv"
        lines = ["participant,outcome,date,note"]
        lines += [f"{m.code},{kinds[n % 5]},{end.isoformat()}," for n, m in enumerate(mentees)]
        outcomes.write_text("\n".join(lines) + "\n", encoding="utf-8")
        evaluations.run_import(
            session,
            actor=operator,
            kind=BatchKind.outcomes,
            source=ImportFile(outcomes, outcomes.name, "csv"),
            client_source="bench",
        )
    demo_evaluations.define_indicators(session, lead=operator, programme_id=programme.id)
    return int(programme.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--language", default="en", choices=("en", "nb", "sv"))
    parser.add_argument("--size", default="demo", choices=("demo", "real"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        kept_in = Path(folder) / "charts"
        # Where the service keeps pictures; read once, at the settings' first reading.
        os.environ["QMS_CHART_CACHE_DIR"] = str(kept_in)

        from qms import charts, migrate
        from qms.charts import draw
        from qms.charts.ahead import draw_ahead
        from qms.db import Database, make_engine
        from qms.demo import load
        from qms.deviations import service as deviations
        from qms.deviations.schemas import DeviationCreate
        from qms.documents import reports
        from qms.permissions import Actor, Role

        operator = Actor(user_id=None, name="cli:bench", role=Role.admin)
        as_of = datetime(2026, 11, 1, 12, tzinfo=UTC)
        url = f"sqlite:///{Path(folder) / 'charts.db'}"
        migrate.upgrade(url)
        database = Database(make_engine(url))
        built = time.perf_counter()
        with database.unit_of_work() as session:
            load(session, operator=operator)
            programme_id = real_programme(session, operator) if args.size == "real" else 1
        print(f"records built in {time.perf_counter() - built:.1f} s (size {args.size})")

        def report(drawn: bool, at: datetime = as_of) -> tuple[float, float, int]:
            with database.unit_of_work(write=False) as session, charts.drawn(drawn):
                wall, cpu = time.perf_counter(), time.process_time()
                made = reports.quality_report(session, operator, at, args.language, programme_id)
                return time.perf_counter() - wall, time.process_time() - cpu, len(made.content)

        def forget() -> None:
            draw.forget()

        # matplotlib imported, its fonts found, the database's pages read once before timing.
        report(True)
        report(False)
        times: dict[str, list[tuple[float, float, int]]] = {
            "none": [],
            "fresh": [],
            "kept": [],
            "disk": [],
            "ahead": [],
            "now": [],
        }
        drawn_by_report = 0
        background: list[float] = []

        def change(n: int) -> None:
            with database.unit_of_work() as session:
                deviations.create(
                    session,
                    actor=operator,
                    data=DeviationCreate(
                        kind="deviation_from_plan",
                        source="follow_up",
                        severity="minor",
                        title=f"Meeting log late, round {n}",
                        description="The pair's meetings were logged a month late.",
                        programme_id=programme_id,
                    ),
                )

        for n in range(args.rounds):
            times["none"].append(report(False))
            forget()
            shutil.rmtree(kept_in, ignore_errors=True)
            times["fresh"].append(report(True))
            times["kept"].append(report(True))
            forget()
            times["disk"].append(report(True, as_of + timedelta(minutes=5 * (n + 1))))
            # Now: the deviation just logged is in the report's period.
            change(n)
            cpu = time.process_time()
            draw_ahead(database, programmes={programme_id})
            background.append(time.process_time() - cpu)
            forget()
            moment = datetime.now(UTC)
            pictures = len(list(kept_in.glob("*.png")))
            times["ahead"].append(report(True, moment))
            drawn_by_report += len(list(kept_in.glob("*.png"))) - pictures
            times["now"].append(report(False, moment))
        database.dispose()

    def median(kind: str, n: int) -> float:
        return statistics.median(t[n] for t in times[kind])

    for kind, said in (
        ("none", "without charts"),
        ("fresh", "with charts drawn afresh"),
        ("kept", "kept in this process"),
        ("disk", "kept on disk, later"),
        ("ahead", "drawn ahead, after a change"),
        ("now", "without charts, then"),
    ):
        print(
            f"{said:>26}: {1000 * median(kind, 0):8.1f} ms wall, "
            f"{1000 * median(kind, 1):8.1f} ms CPU, {median(kind, 2) / 1024:7.0f} KiB"
        )
    print(
        f"{'drawing ahead, in the background':>34}: {1000 * statistics.median(background):8.1f} ms "
        "CPU a change"
    )
    print(f"{'pictures the report drew after the drawing ahead':>34}: {drawn_by_report}")
    for kind, base in (("fresh", "none"), ("kept", "none"), ("disk", "none"), ("ahead", "now")):
        print(
            f"ratio {kind} / {base}: wall {median(kind, 0) / median(base, 0):.2f}, "
            f"CPU {median(kind, 1) / median(base, 1):.2f}"
        )


if __name__ == "__main__":
    main()
