"""A list taken out as CSV, XLSX or JSON: one machinery for the API, the pages and the command line.

CSV and XLSX are for a person: the columns headed in the reader's language, a stored code shown by
its label, dates as ISO 8601 (2026-11-30), and a text cell that begins with = + - @ (or a tab or
a carriage return) opened with an apostrophe, so that a spreadsheet never runs it as a formula
(OWASP's CSV injection). CSV is UTF-8 with a byte order mark, as Excel needs to read it so. JSON is
for a program: the records as the API shapes them, codes and all.

The rows are written as they are read, a page at a time, into a file that stays in memory while it
is small and goes to disk when it grows (XLSX through openpyxl's write-only mode), so that taking
out 100,000 deviations holds one page of them in memory, not all.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from qms import i18n

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

FORMATS = ("csv", "xlsx", "json")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX, "json": "application/json"}
# What an Accept header names for each format other than JSON (JSON is a list's own answer).
_ACCEPTED = {"text/csv": "csv", XLSX: "xlsx"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them): a control character in a text.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPOOL_BYTES = 1024 * 1024
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Column:
    """A column of a list taken out: the record's field, its header (marked for the catalogue),
    whether it holds a stored code (shown by its label), and what record an id refers to."""

    key: str
    header: str
    coded: bool = False
    # The kind of record an id in this column refers to ("programme", "cohort"): a spreadsheet
    # shows the record's code, never the id (JSON keeps the API's ids).
    refers: str | None = None


def wanted(requested: str | None, accept: str | None) -> str | None:
    """Return the format asked for (`format=`, else a CSV or XLSX Accept header), if any."""
    if requested:
        return requested
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in _ACCEPTED:
            return _ACCEPTED[media]
    return None


def neutralise(text: str) -> str:
    """Return the text so that no spreadsheet takes it for a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


Names = Mapping[str, Mapping[int, str]]


def reference_names(session: Session, columns: Iterable[Column]) -> dict[str, dict[int, str]]:
    """Return the codes of the records the columns' ids refer to, by kind and id."""
    from sqlalchemy import select

    from qms.deviations.models import Deviation
    from qms.programmes.models import Cohort, Programme

    tables: dict[str, Any] = {
        "programme": (Programme.id, Programme.code),
        "cohort": (Cohort.id, Cohort.code),
        "deviation": (Deviation.id, Deviation.number),
    }
    names: dict[str, dict[int, str]] = {}
    for kind in {c.refers for c in columns if c.refers}:
        key, name = tables[kind]
        names[kind] = dict(session.execute(select(key, name)).all())
    return names


def shown(value: Any, column: Column, language: str, names: Names | None = None) -> Any:
    """Return a field's value as a person reads it in a cell."""
    if value is None:
        return ""
    if column.refers and isinstance(value, int) and names is not None:
        return names.get(column.refers, {}).get(value, value)
    if isinstance(value, bool):
        return i18n.translate(i18n.N_("yes") if value else i18n.N_("no"), language)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return neutralise(", ".join(str(shown(item, column, language)) for item in value))
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return i18n.label(text, language) if column.coded else neutralise(text)


def write(
    out: IO[bytes],
    fmt: str,
    columns: Iterable[Column],
    records: Iterable[dict[str, Any]],
    *,
    language: str,
    title: str = "",
    bom: bool = True,
    names: Names | None = None,
) -> None:
    """Write the records (each a dict as the API shapes it, dates as ISO text) in the format; the
    ids of a column that refers to records shown by the codes in names."""
    columns = list(columns)
    # The records' first read (where a refusal or a record not found is raised) before any of
    # the file is begun: a workbook is never left half-written.
    rest = iter(records)
    first = next(rest, None)
    records = rest if first is None else itertools.chain((first,), rest)
    if fmt == "json":
        # A list's own JSON answer, every page in one: {"items": [...], "next_cursor": null}.
        out.write(b'{"items":[')
        for n, record in enumerate(records):
            out.write((b"," if n else b"") + json.dumps(record, ensure_ascii=False).encode())
        out.write(b'],"next_cursor":null}')
        return
    headers = [i18n.translate(c.header, language) for c in columns]
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig" if bom else "utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(headers)
        for record in records:
            writer.writerow([shown(record.get(c.key), c, language, names) for c in columns])
        text.flush()
        text.detach()
        return
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_NOT_IN_XML.sub("", title)[:31] or "Sheet1")
        sheet.append(headers)
        for record in records:
            cells = [shown(record.get(c.key), c, language, names) for c in columns]
            sheet.append([_NOT_IN_XML.sub("", v) if isinstance(v, str) else v for v in cells])
        book.save(out)
        return
    raise ValueError(f"not a format of ours: {fmt!r}")


def spooled(
    fmt: str,
    columns: Iterable[Column],
    records: Iterable[dict[str, Any]],
    *,
    language: str,
    title: str = "",
    names: Names | None = None,
) -> IO[bytes]:
    """Write the records into a file kept in memory while small, on disk beyond; rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
    try:
        write(out, fmt, columns, records, language=language, title=title, names=names)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def chunks(file: IO[bytes]) -> Iterator[bytes]:
    """Yield the file's bytes a piece at a time, and close it at the end."""
    try:
        while piece := file.read(_CHUNK_BYTES):
            yield piece
    finally:
        file.close()


def file_name(stem: str, fmt: str, on: date) -> str:
    """Return the name a list's file is saved under: deviations-2026-11-30.csv."""
    return f"{stem}-{on.isoformat()}.{fmt}"


def disposition(name: str) -> str:
    """Return the Content-Disposition that saves the file under its name (RFC 6266)."""
    from qms.documents.service import content_disposition

    return content_disposition(name)


N_ = i18n.N_

# The columns of each register taken out as CSV or XLSX (JSON carries every field of the API's).
DEVIATION_COLUMNS = (
    Column("number", N_("Number")),
    Column("kind", N_("Kind"), coded=True),
    Column("source", N_("Source"), coded=True),
    Column("severity", N_("Severity"), coded=True),
    Column("status", N_("Status"), coded=True),
    Column("title", N_("Title")),
    Column("description", N_("Description")),
    Column("immediate_containment", N_("Immediate containment")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("detected_at", N_("Detected")),
    Column("due_on", N_("Due")),
    Column("overdue", N_("Overdue")),
    Column("root_cause_method", N_("Root cause method"), coded=True),
    Column("root_cause", N_("Root cause")),
    Column("closure_summary", N_("Closure summary")),
    Column("closed_at", N_("Closed")),
    Column("reported_by", N_("Reported by")),
    Column("owner", N_("Owner")),
    Column("action_numbers", N_("Actions")),
)
COMPLAINT_COLUMNS = (
    Column("number", N_("Number")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("received_on", N_("Received")),
    Column("channel", N_("Channel"), coded=True),
    Column("complainant_category", N_("From"), coded=True),
    Column("subject", N_("Subject")),
    Column("status", N_("Status"), coded=True),
    Column("acknowledge_due_on", N_("Acknowledge by")),
    Column("acknowledged_at", N_("Acknowledged")),
    Column("answer_due_on", N_("Answer by")),
    Column("answered_at", N_("Answered")),
    Column("overdue", N_("Overdue")),
    Column("outcome", N_("Outcome"), coded=True),
    Column("deviation_number", N_("Deviation")),
)
ACTION_COLUMNS = (
    Column("number", N_("Number")),
    Column("type", N_("Type"), coded=True),
    Column("status", N_("Status"), coded=True),
    Column("title", N_("Title")),
    Column("action", N_("Action")),
    Column("owner", N_("Owner")),
    Column("due_on", N_("Due")),
    Column("overdue", N_("Overdue")),
    Column("effectiveness_check_on", N_("Effectiveness check due")),
    Column("done_at", N_("Done")),
    Column("deviation_numbers", N_("Deviations")),
)


def flat_personal(record: dict[str, Any]) -> dict[str, Any]:
    """A participant's record with its personal data, if shown, as columns of its own (JSON keeps
    the API's shape: only the CSV and XLSX columns read these)."""
    personal = record.get("personal") or {}
    return {**record, "name": personal.get("name"), "email": personal.get("email")}


PARTICIPANT_COLUMNS = (
    Column("code", N_("Code")),
    Column("role", N_("Role"), coded=True),
    Column("cohort_id", N_("Cohort"), refers="cohort"),
    Column("field", N_("Field")),
    Column("screened_on", N_("Screened")),
    Column("consent_on", N_("Consent")),
    # Filled only for a reader who may see personal data (never for an auditor).
    Column("name", N_("Name")),
    Column("email", N_("Email")),
)
ANSWER_COLUMNS = (
    Column("participant_code", N_("Participant")),
    Column("instrument_code", N_("Instrument")),
    Column("question_code", N_("Question")),
    Column("value_number", N_("Value")),
    Column("value_text", N_("Text")),
    Column("submitted_on", N_("Submitted")),
    Column("batch_id", N_("Import")),
)
OUTCOME_COLUMNS = (
    Column("participant_code", N_("Participant")),
    Column("outcome", N_("Outcome"), coded=True),
    Column("outcome_on", N_("Date")),
    Column("note", N_("Note")),
    Column("batch_id", N_("Import")),
)
PAIR_COLUMNS = (
    Column("code", N_("Code")),
    Column("mentor_code", N_("Mentor")),
    Column("mentee_code", N_("Mentee")),
    Column("status", N_("Status"), coded=True),
    Column("matched_on", N_("Matched")),
    Column("started_on", N_("Started")),
    Column("ended_on", N_("Ended")),
    Column("closure_reason", N_("Closure reason")),
)
PROCEDURE_COLUMNS = (
    Column("code", N_("Code")),
    Column("title", N_("Title")),
    Column("owner_role", N_("Owner"), coded=True),
    Column("effective_version", N_("Version")),
    Column("status", N_("Status"), coded=True),
    Column("effective_from", N_("Effective from")),
    Column("next_review_on", N_("Next review")),
    Column("open_version", N_("In the making")),
)
# The audit trail as an auditor reads it in a spreadsheet: who, when, what happened to which record.
AUDIT_EVENT_COLUMNS = (
    Column("seq", N_("Event")),
    Column("at", N_("When")),
    Column("actor", N_("Who")),
    Column("record_kind", N_("Kind of record")),
    Column("record", N_("Record")),
    Column("happened", N_("What happened")),
    Column("changes", N_("Changes")),
    Column("reason", N_("Reason")),
    Column("hash", N_("Hash")),
)
# A cohort's follow-up board: each pair's mid-programme follow-up as held, due or overdue.
FOLLOW_UP_COLUMNS = (
    Column("pair_code", N_("Pair")),
    Column("mentor_code", N_("Mentor")),
    Column("mentee_code", N_("Mentee")),
    Column("scheduled_on", N_("Scheduled")),
    Column("state", N_("Status"), coded=True),
    Column("held_on", N_("Held")),
    Column("held_by", N_("Held by")),
    Column("expectations_clarified", N_("Expectations clarified")),
    Column("goal_progress", N_("Progress towards goals")),
    Column("meeting_frequency_kept", N_("Meeting frequency kept")),
    Column("relationship", N_("Relationship")),
    Column("extra_support_needed", N_("Extra support needed")),
    Column("outcome", N_("Outcome"), coded=True),
    Column("decision", N_("Decision")),
    Column("deviation_id", N_("Deviation"), refers="deviation"),
)
# The comments on a record, oldest first.
COMMENT_COLUMNS = (
    Column("created_at", N_("When")),
    Column("author_display_name", N_("Who")),
    Column("text", N_("Comment")),
)
# The accounts, for an admin (`qms users list`, `qms tokens list`): never a token's secret.
USER_COLUMNS = (
    Column("name", N_("User name")),
    Column("display_name", N_("Display name")),
    Column("role", N_("Role"), coded=True),
    Column("status", N_("Status"), coded=True),
    Column("email", N_("Email")),
    Column("created_at", N_("Created")),
)
TOKEN_COLUMNS = (
    Column("id", N_("ID")),
    Column("user", N_("User")),
    Column("prefix", N_("Prefix")),
    Column("programme", N_("Programme")),
    Column("expires_at", N_("Expires")),
    Column("revoked_at", N_("Revoked")),
)
# The access log: each read by an audited user.
ACCESS_COLUMNS = (
    Column("at", N_("When")),
    Column("actor", N_("Who")),
    Column("request", N_("What was read")),
    Column("via", N_("Signed in with")),
    Column("client", N_("From")),
    Column("batch_seq", N_("Batch")),
)
PROBLEM_COLUMNS = (
    Column("row", N_("Row")),
    Column("column", N_("Column")),
    Column("message", N_("Problem")),
)
PROGRAMME_COLUMNS = (
    Column("code", N_("Code")),
    Column("name", N_("Name")),
    Column("organiser", N_("Organiser")),
    Column("target_group", N_("Target group")),
    Column("status", N_("Status"), coded=True),
    Column("min_meetings_per_month", N_("Meetings a month, at least")),
    Column("min_minutes_per_month", N_("Minutes a month, at least")),
    Column("length_months", N_("Length in months")),
    Column("max_mentees_per_mentor", N_("Mentees per mentor, at most")),
)
BATCH_COLUMNS = (
    Column("id", N_("Batch")),
    Column("kind", N_("Kind"), coded=True),
    Column("file_name", N_("File")),
    Column("sha256", N_("SHA-256")),
    Column("rows_total", N_("Rows")),
    Column("rows_written", N_("Written")),
    Column("rows_rejected", N_("Rejected")),
    Column("mapping", N_("Saved mapping")),
    Column("importer", N_("Imported by")),
    Column("source", N_("Source")),
    Column("finished_at", N_("Finished")),
    Column("rolled_back_at", N_("Rolled back")),
    Column("rollback_reason", N_("Reason")),
)
