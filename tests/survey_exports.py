"""A corpus of survey exports in the shapes the tools write them, made in code (never downloaded).

Each export answers the same survey for the same respondents, so a test can import any of them
and expect the same answers: two respondents who each rated satisfaction (SAT, a scale 1 to 5), said
how they mostly met (MET, a choice), counted hours (HOURS, a number with decimals) and wrote a
comment (NOTE) — the first one's comment holds the file's delimiter, a quote and a line break.
The columns a mapping does not name (e-mail, name, start time, IP address) hold personal data
that must never be stored.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook

# The answers: (submitted, local time in Europe/Oslo), satisfaction, meeting, hours, comment.
SUBMITTED = (datetime(2026, 6, 2, 16, 6, 12), datetime(2026, 6, 3, 9, 41, 5))
ANSWERS = (
    ("4", "video", "2,5", 'Good; "mostly", and\nthanks, all'),
    ("5", "in person", "12", "Fine"),
)
NAMES = ("Amina Haddad", "Ola Nordmann")
EMAILS = ("amina@example.org", "ola@example.org")


@dataclass
class Export:
    """One tool's file: its name, its bytes, the mapping of its columns, and how to read it."""

    tool: str
    name: str
    content: bytes
    mapping: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    # Whether the file keeps the minute an answer was sent (False: the day only).
    keeps_time: bool = True


def _csv(rows: list[list[str]], delimiter: str, *, quote_all: bool = False) -> str:
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            needs = quote_all or any(c in cell for c in (delimiter, '"', "\n", "\r"))
            cells.append('"' + cell.replace('"', '""') + '"' if needs else cell)
        lines.append(delimiter.join(cells))
    return "\r\n".join(lines) + "\r\n"


def _answers(codes: tuple[str, str], moment: Any) -> list[list[Any]]:
    return [[codes[i], moment(i), *ANSWERS[i]] for i in range(2)]


def microsoft_forms_xlsx(codes: tuple[str, str]) -> Export:
    """Microsoft Forms' "Open results in Excel": date cells, the question texts as headers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    questions = [
        "Participant code",
        "How satisfied are you?",
        "How did you mostly meet?",
        "Hours of mentoring",
        "Anything else?",
    ]
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", *questions])
    for i in range(2):
        start = SUBMITTED[i].replace(minute=0)
        sat, met, hours, note = ANSWERS[i]
        # Forms writes a number answer as a number cell.
        numbers = [int(sat), met, float(hours.replace(",", ".")), note]
        sheet.append([i + 1, start, SUBMITTED[i], EMAILS[i], NAMES[i], codes[i], *numbers])
    buffer = io.BytesIO()
    book.save(buffer)
    return Export(
        "Microsoft Forms",
        "Mentee survey(1-2).xlsx",
        buffer.getvalue(),
        {
            "participant code": "participant",
            "COMPLETION TIME": "submitted_at",
            "How satisfied are you?": "SAT",
            "How did you mostly meet?": "MET",
            "Hours of mentoring": "HOURS",
            "Anything else?": "NOTE",
        },
    )


def microsoft_forms_csv(codes: tuple[str, str]) -> Export:
    """The same results saved from Excel as "CSV UTF-8": a byte-order mark, commas, CRLF."""
    header = ["ID", "Start time", "Completion time", "Email", "Name"]
    questions = ["Participant code", "How satisfied are you?", "How did you mostly meet?"]
    questions += ["Hours of mentoring", "Anything else?"]
    rows = [header + questions]
    for i in range(2):
        moment = SUBMITTED[i].strftime("%d.%m.%Y %H:%M")
        rows.append([str(i + 1), moment, moment, EMAILS[i], NAMES[i], codes[i], *ANSWERS[i]])
    return Export(
        "Microsoft Forms (CSV)",
        "Mentee survey.csv",
        ("\ufeff" + _csv(rows, ",")).encode("utf-8"),
        {
            " Participant code ": "participant",
            "Completion time": "submitted_at",
            "How satisfied are you?": "SAT",
            "How did you mostly meet?": "MET",
            "Hours of mentoring": "HOURS",
            "Anything else?": "NOTE",
        },
    )


def google_forms(codes: tuple[str, str]) -> Export:
    """Google Forms' "Download responses (.csv)": UTF-8 without a mark, its own timestamp form."""
    rows = [
        [
            "Timestamp",
            "Email Address",
            "Participant code",
            "How satisfied are you?",
            "How did you mostly meet?",
            "Hours of mentoring",
            "Anything else?",
        ]
    ]
    for i in range(2):
        # Google writes the time on a 12-hour clock with the zone's offset.
        hour = SUBMITTED[i].hour % 12 or 12
        half = "PM" if SUBMITTED[i].hour >= 12 else "AM"
        stamp = SUBMITTED[i].strftime(f"%Y/%m/%d {hour}:%M:%S {half} GMT+2")
        rows.append([stamp, EMAILS[i], codes[i], *ANSWERS[i]])
    return Export(
        "Google Forms",
        "Mentee survey (Responses) - Form responses 1.csv",
        _csv(rows, ",").replace("\r\n", "\n").encode("utf-8"),
        {
            "Participant code": "participant",
            "Timestamp": "submitted_at",
            "How satisfied are you?": "SAT",
            "How did you mostly meet?": "MET",
            "Hours of mentoring": "HOURS",
            "Anything else?": "NOTE",
        },
    )


def surveymonkey(codes: tuple[str, str]) -> Export:
    """SurveyMonkey's CSV: two header rows (the question, then "Response" under it), US dates."""
    top = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address"]
    top += ["Email Address", "First Name", "Last Name", "Custom Data 1"]
    questions = ["How satisfied are you?", "How did you mostly meet?", "Hours of mentoring"]
    questions += ["Anything else?"]
    below = [""] * len(top) + ["Response", "Response", "Open-Ended Response", "Open-Ended Response"]
    rows = [top + questions, below]
    for i in range(2):
        stamp = SUBMITTED[i].strftime("%m/%d/%Y %I:%M:%S %p")
        first, last = NAMES[i].split()
        rows.append(
            [
                str(11_400_000_000 + i),
                "431234567",
                stamp,
                stamp,
                "192.0.2.1",
                EMAILS[i],
                first,
                last,
                codes[i],
                *ANSWERS[i],
            ]
        )
    return Export(
        "SurveyMonkey",
        "Sheet_1.csv",
        _csv(rows, ",").encode("utf-8"),
        {
            "Custom Data 1": "participant",
            "End Date": "submitted_at",
            "How satisfied are you?": "SAT",
            "How did you mostly meet?": "MET",
            "Hours of mentoring": "HOURS",
            "Anything else?": "NOTE",
        },
    )


def nettskjema(codes: tuple[str, str]) -> Export:
    """Nettskjema's CSV: semicolons, UTF-8 with a byte-order mark, its $-named system columns."""
    rows = [["$submission_id", "$created", "$answer_time_ms", "deltaker", "fornoyd"]]
    rows[0] += ["mote", "timer", "kommentar"]
    for i in range(2):
        rows.append(
            [
                str(2_700_000 + i),
                SUBMITTED[i].strftime("%d.%m.%Y %H:%M"),
                "183000",
                codes[i],
                *ANSWERS[i],
            ]
        )
    return Export(
        "Nettskjema",
        "nettskjema-123456.csv",
        ("\ufeff" + _csv(rows, ";")).encode("utf-8"),
        {
            "deltaker": "participant",
            "$created": "submitted_at",
            "fornoyd": "SAT",
            "mote": "MET",
            "timer": "HOURS",
            "kommentar": "NOTE",
        },
    )


def questback(codes: tuple[str, str]) -> Export:
    """Questback/Enalyzer's CSV for Excel in Norway: semicolons, Windows-1252, named as such."""
    rows = [["Respondent", "Fullført", "E-post", "Deltakernummer", "Hvor fornøyd er du?"]]
    rows[0] += ["Hvordan møttes dere?", "Timer med mentor", "Kommentar"]
    answers = [list(a) for a in ANSWERS]
    answers[0][3] = "Bra; «stort sett», takk"
    for i in range(2):
        rows.append(
            [
                str(i + 1),
                SUBMITTED[i].strftime("%d.%m.%Y %H:%M:%S"),
                EMAILS[i],
                codes[i],
                *answers[i],
            ]
        )
    return Export(
        "Questback",
        "Rapport.csv",
        _csv(rows, ";").encode("cp1252"),
        {
            "Deltakernummer": "participant",
            "Fullført": "submitted_at",
            "Hvor fornøyd er du?": "SAT",
            "Hvordan møttes dere?": "MET",
            "Timer med mentor": "HOURS",
            "Kommentar": "NOTE",
        },
        form={"encoding": "windows-1252"},
    )


def netigate(codes: tuple[str, str]) -> Export:
    """Netigate's export saved by Excel as "Unicode text": UTF-16 with a mark, tab-separated."""
    rows = [["RespondentID", "Svarsdatum", "Deltagarkod", "Hur nöjd är du?"]]
    rows[0] += ["Hur träffades ni?", "Timmar", "Övrigt"]
    for i in range(2):
        rows.append(
            [str(900 + i), SUBMITTED[i].strftime("%Y-%m-%d %H:%M:%S"), codes[i], *ANSWERS[i]]
        )
    return Export(
        "Netigate",
        "Export.txt",
        _csv(rows, "\t").encode("utf-16"),
        {
            "Deltagarkod": "participant",
            "Svarsdatum": "submitted_at",
            "Hur nöjd är du?": "SAT",
            "Hur träffades ni?": "MET",
            "Timmar": "HOURS",
            "Övrigt": "NOTE",
        },
    )


def limesurvey(codes: tuple[str, str]) -> Export:
    """LimeSurvey's "CSV (question codes)": every field quoted, its system columns first."""
    rows = [["id", "submitdate", "lastpage", "startlanguage", "seed", "token", "SAT", "MET"]]
    rows[0] += ["HOURS", "NOTE"]
    for i in range(2):
        rows.append(
            [
                str(i + 1),
                SUBMITTED[i].strftime("%Y-%m-%d %H:%M:%S"),
                "3",
                "nb",
                "123456",
                codes[i],
                *ANSWERS[i],
            ]
        )
    return Export(
        "LimeSurvey",
        "results-survey123456.csv",
        _csv(rows, ",", quote_all=True).encode("utf-8"),
        {
            "token": "participant",
            "submitdate": "submitted_at",
            "SAT": "SAT",
            "MET": "MET",
            "HOURS": "HOURS",
            "NOTE": "NOTE",
        },
    )


ALL = (
    microsoft_forms_xlsx,
    microsoft_forms_csv,
    google_forms,
    surveymonkey,
    nettskjema,
    questback,
    netigate,
    limesurvey,
)
