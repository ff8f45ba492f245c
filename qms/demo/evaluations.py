"""Demo evaluation results and outcomes, brought in as a survey script would bring them."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from qms.demo.records import DemoPairs
from qms.evaluations import service as evaluations
from qms.evaluations.models import BatchKind
from qms.evaluations.readers import ImportFile
from qms.evaluations.schemas import InstrumentCreate
from qms.indicators import service as indicators
from qms.indicators.schemas import IndicatorCreate, IndicatorValueCreate
from qms.permissions import Actor

FINAL_SURVEY = {
    "code": "FINAL",
    "name": "Final survey for mentees",
    "respondent": "mentee",
    "questions": [
        {
            "code": "SAT",
            "text": "How satisfied are you with the programme as a whole?",
            "type": "scale",
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "code": "MATCH",
            "text": "How well did your mentor match your professional goals?",
            "type": "scale",
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "code": "NETWORK",
            "text": "Has your professional network grown?",
            "type": "choice",
            "options": ["yes, a lot", "somewhat", "no"],
        },
        {"code": "COMMENT", "text": "What should we change?", "type": "text"},
    ],
}

# The 2025 cohort as the Via-mentoring report tells it: of the 12 who completed, 11 were in work
# or study at the end, and 6 of them in a regular (full-time) position.
OUTCOMES = [
    "employed_full_time",
    "employed_full_time",
    "employed_full_time",
    "employed_full_time",
    "employed_full_time",
    "employed_full_time",
    "employed_part_time",
    "employed_part_time",
    "employed_part_time",
    "education",
    "education",
    "job_seeking",
]
SATISFACTION = [5, 4, 4, 5, 3, 4, 5, 2, 4, 4, 5, 4]
NETWORK = [
    "yes, a lot",
    "yes, a lot",
    "somewhat",
    "yes, a lot",
    "somewhat",
    "yes, a lot",
    "yes, a lot",
    "no",
    "somewhat",
    "yes, a lot",
    "somewhat",
    "somewhat",
]


def load(session: Session, *, lead: Actor, importer: Actor, demo: DemoPairs) -> None:
    """Define the final survey; the survey script imports the answers and the outcomes."""
    evaluations.create_instrument(
        session, actor=lead, data=InstrumentCreate.model_validate(FINAL_SURVEY)
    )
    mentees = [pair.mentee.code for pair in demo.via_2025]
    with tempfile.TemporaryDirectory(prefix="qms-demo-") as folder:
        # A survey tool's wide export, semicolons and decimal commas as Scandinavian tools write.
        answers = Path(folder) / "final-survey-2025.csv"
        lines = ["Respondent;Submitted;Q1 Overall;Q2 Match;Q3 Network;Q4 Comments"]
        for i, code in enumerate(mentees):
            match = "4,5" if i % 3 == 0 else str(max(2, SATISFACTION[i] - 1))
            comment = "More meetings with employers" if i % 4 == 0 else ""
            lines.append(f"{code};31.01.2026;{SATISFACTION[i]};{match};{NETWORK[i]};{comment}")
        answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
        header = answers.read_text(encoding="utf-8").replace(
            "Respondent;Submitted", "participant;submitted_at"
        )
        answers.write_text(header, encoding="utf-8")
        evaluations.run_import(
            session,
            actor=importer,
            kind=BatchKind.evaluations,
            source=ImportFile(answers, answers.name, "csv"),
            shape="wide",
            instrument="FINAL",
            mapping={
                "Q1 Overall": "SAT",
                "Q2 Match": "MATCH",
                "Q3 Network": "NETWORK",
                "Q4 Comments": "COMMENT",
            },
            client_source="survey-export 3.2",
        )
        outcomes = Path(folder) / "outcomes-2025.csv"
        rows = ["participant,outcome,date,note"]
        rows += [f"{code},{kind},2026-01-30," for code, kind in zip(mentees, OUTCOMES, strict=True)]
        outcomes.write_text("\n".join(rows) + "\n", encoding="utf-8")
        evaluations.run_import(
            session,
            actor=importer,
            kind=BatchKind.outcomes,
            source=ImportFile(outcomes, outcomes.name, "csv"),
            client_source="outcome-sync 1.0",
        )


# The programme's plan, as its application stated it, against which the results are read.
VIA_INDICATORS = [
    (
        "COMPLETED",
        "Mentees who complete the programme",
        "percent",
        "completion_rate",
        {},
        100,
        "higher_is_better",
        80,
    ),
    (
        "OCCUPIED",
        "In work or study at the end",
        "percent",
        "occupation_rate",
        {},
        75,
        "higher_is_better",
        50,
    ),
    (
        "EMPLOYED",
        "Employed at the end (any job)",
        "percent",
        "employment_rate",
        {},
        75,
        "higher_is_better",
        50,
    ),
    (
        "FULL-TIME",
        "In a regular full-time position at the end",
        "percent",
        "full_time_rate",
        {},
        41.7,
        "higher_is_better",
        25,
    ),
    (
        "SATISFACTION",
        "Mean satisfaction, final survey (1-5)",
        "score",
        "mean_score",
        {"instrument": "FINAL", "question": "SAT"},
        4.0,
        "higher_is_better",
        3.5,
    ),
    (
        "FOLLOW-UP",
        "Mid-programme follow-ups held when due",
        "percent",
        "follow_up_completion",
        {},
        100,
        "higher_is_better",
        90,
    ),
    (
        "MEETINGS",
        "Pair-months at or above the meeting rule",
        "percent",
        "meeting_rule_compliance",
        {},
        90,
        "higher_is_better",
        80,
    ),
    ("OPEN-DEV", "Open deviations", "count", "open_deviations", {}, 0, "lower_is_better", 3),
    (
        "OVERDUE-CA",
        "Overdue corrective actions",
        "count",
        "overdue_actions",
        {},
        0,
        "lower_is_better",
        2,
    ),
    (
        "CAPA-ON-TIME",
        "Corrective actions done by their due date",
        "percent",
        "on_time_capa_closure",
        {},
        85,
        "higher_is_better",
        50,
    ),
]


# The project's indicator table (Via-mentoring, April 2012 to June 2014): planned by the funding
# decision, and the result at the project's end — entered by hand, as they are not computed.
VIA_PROJECT_TABLE = [
    ("WOMEN", "Women (under 15 or over 24) taking part in the project", 600, 450),
    ("MEN", "Men (under 15 or over 24) taking part in the project", 500, 300),
    ("MIXED-FIRMS", "Companies with mixed ownership taking part in activities", 100, 60),
    ("FORMAL-BARRIERS", "Formal border barriers the project helps remove", 0, 0),
    ("PERCEIVED-BARRIERS", "Perceived border barriers removed", 0, 0),
    ("STUDENTS-F", "Female students studying part of their education in the other country", 75, 85),
    ("STUDENTS-M", "Male students studying part of their education in the other country", 50, 55),
    ("CLUSTERS", "New or developed cross-border clusters", 5, 1),
]


def define_indicators(session: Session, *, lead: Actor, programme_id: int) -> None:
    """Define the one-year programme's indicators, planned against actual."""
    for code, name, unit, computation, params, planned, direction, threshold in VIA_INDICATORS:
        indicators.define(
            session,
            actor=lead,
            programme_id=programme_id,
            data=IndicatorCreate(
                code=code,
                name=name,
                unit=unit,
                computation=computation,
                params=params,
                planned=planned,
                direction=direction,
                threshold=threshold,
            ),
        )
    for code, name, planned, result in VIA_PROJECT_TABLE:
        indicators.define(
            session,
            actor=lead,
            programme_id=programme_id,
            data=IndicatorCreate(
                code=code, name=name, unit="count", computation="entered", planned=planned
            ),
        )
        definition = next(
            d for d in indicators.definitions(session, programme_id) if d.code == code
        )
        indicators.enter_value(
            session,
            actor=lead,
            indicator_id=definition.id,
            data=IndicatorValueCreate(
                period_start=date(2012, 4, 1), period_end=date(2014, 6, 30), value=result
            ),
        )
