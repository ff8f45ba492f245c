"""Instruments, and the unattended import of evaluation answers and outcomes.

An import reads its file once, checking every row and noting every problem with its row and
column; the good rows and the problems wait in spool files on disk. Then, unless problems stop it,
the good rows are written in chunks in one transaction, and only that write takes the write lock
(what may have changed while the file was checked is checked again in it). Memory holds the keys
needed to find duplicates and the first problems, never the file.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import marshal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, delete, false, func, or_, select
from sqlalchemy.orm import Session

from qms.audit.service import created, lock_chain_head, record_event
from qms.config import get_settings
from qms.db import utcnow
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.evaluations.bounds import bounded
from qms.evaluations.cells import restored, stored
from qms.evaluations.models import (
    BatchKind,
    EvaluationBatch,
    EvaluationResponse,
    ImportMapping,
    ImportProblem,
    Instrument,
    Outcome,
    Question,
)
from qms.evaluations.readers import ImportFile, read_records, text_of
from qms.evaluations.rows import (
    NUMBER_COLUMNS,
    OUTCOME_VALUES,
    RESPONSE_COLUMNS,
    Converter,
    RowProblems,
    answer_key,
    evaluation_converter,
    load_lookups,
    outcome_converter,
    outcome_key,
)
from qms.evaluations.schemas import BatchRead, InstrumentCreate, RejectedRow
from qms.fields import FIRST_DAY, LAST_DAY, in_calendar
from qms.i18n import Code, Text, said
from qms.pagination import Page, decode_cursor, paginate
from qms.participants.models import Participant
from qms.permissions import Action, Actor, Role, require
from qms.programmes.models import Cohort, Programme
from qms.records import snapshot

CHUNK = 5000
LONG_COLUMNS = ("participant", "instrument", "question", "answer", "submitted_at")
OUTCOME_COLUMNS = ("participant", "outcome", "date")
# What a batch's event records of it beside its counts (qms.replay holds the row to them).
BATCH_RECORDED = (
    "size_bytes",
    "file_format",
    "shape",
    "mode",
    "importer",
    "importer_id",
    "idempotency_key",
    "started_at",
    "finished_at",
    "encoding",
    "delimiter",
    "problems_total",
    "mapping_id",
    "programme_id",
)


# Instruments ------------------------------------------------------------------------------------


def create_instrument(session: Session, *, actor: Actor, data: InstrumentCreate) -> Instrument:
    """Define an instrument and its questions."""
    require(actor, Action.instrument_write)
    if session.scalars(select(Instrument).where(Instrument.code == data.code)).first():
        raise Conflict(
            Text(
                "An instrument with the code %(code)s exists already: choose another code.",
                code=data.code,
            )
        )
    codes = [q.code for q in data.questions]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationFailed(
            Text("Question codes repeat."),
            [
                FieldError(
                    "questions",
                    Text(
                        "The question code %(code)s is used more than once: give each question "
                        "its own code.",
                        code=c,
                    ),
                )
                for c in duplicates
            ],
        )
    instrument = Instrument(code=data.code, name=data.name, respondent=data.respondent)
    instrument.questions = [Question(**q.model_dump()) for q in data.questions]
    session.add(instrument)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="instrument.created",
        entity="instrument",
        entity_id=instrument.id,
        changes=created(
            {
                "code": data.code,
                "name": data.name,
                "respondent": data.respondent,
                "questions": codes,
            }
        ),
    )
    return instrument


def list_instruments(session: Session, *, actor: Actor) -> list[Instrument]:
    """List instruments by code."""
    require(actor, Action.evaluation_read)
    return list(session.scalars(select(Instrument).order_by(Instrument.code)))


# Parsing of values ------------------------------------------------------------------------------


def parse_number(text: str) -> float:
    """Read a number written with a decimal point or a decimal comma (3.5 or 3,5)."""
    try:
        return float(text)
    except ValueError:
        pass
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    return float(cleaned)


def parse_day(value: Any) -> date:
    """Read a date: a spreadsheet date, ISO 8601 (with or without a time), or DD.MM.YYYY."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_day_text(text_of(value))


@functools.lru_cache(maxsize=4096)
def _parse_day_text(text: str) -> date:
    # Files repeat the same few dates on many rows: each is parsed once.
    if not text:
        raise ValueError(Text("The date is empty: enter it as YYYY-MM-DD or DD.MM.YYYY."))
    try:
        if "." in text and text.count(".") == 2 and len(text) <= 10:
            day, month, year = (int(p) for p in text.split("."))
            parsed = date(year, month, day)
        elif len(text) > 10:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        else:
            parsed = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            Text("%(value)s is not a date: enter it as YYYY-MM-DD or DD.MM.YYYY.", value=text)
        ) from None
    try:
        return in_calendar(parsed)
    except ValueError:
        raise ValueError(
            Text("Enter a date from %(first)s to %(last)s.", first=FIRST_DAY, last=LAST_DAY)
        ) from None


# The import itself -------------------------------------------------------------------------------


@dataclass
class Check:
    """What the first reading found: the counts, the first problems, and the file's programme."""

    rows_total: int = 0
    rows_rejected: int = 0
    problems_total: int = 0
    problems: list[RejectedRow] = field(default_factory=list)
    programme_id: int | None = None


Item = tuple[int, dict[str, Any]]


class _RowProblem(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _existing_keys(session: Session, kind: BatchKind) -> set[int]:
    if kind is BatchKind.outcomes:
        return {
            _key(kind, {"participant_id": p, "outcome_on": on})
            for p, on in session.execute(select(Outcome.participant_id, Outcome.outcome_on))
        }
    stmt = select(
        EvaluationResponse.participant_id,
        EvaluationResponse.question_id,
        EvaluationResponse.submitted_on,
    )
    return {
        _key(kind, {"participant_id": p, "question_id": q, "submitted_on": on})
        for p, q, on in session.execute(stmt)
    }


def _keys_since(session: Session, kind: BatchKind, last_id: int) -> set[int]:
    """Return the keys of the rows written after the one with the id (by imports meanwhile)."""
    if kind is BatchKind.outcomes:
        found = session.execute(
            select(Outcome.participant_id, Outcome.outcome_on).where(Outcome.id > last_id)
        )
        return {_key(kind, {"participant_id": p, "outcome_on": on}) for p, on in found}
    rows = session.execute(
        select(
            EvaluationResponse.participant_id,
            EvaluationResponse.question_id,
            EvaluationResponse.submitted_on,
        ).where(EvaluationResponse.id > last_id)
    )
    return {
        _key(kind, {"participant_id": p, "question_id": q, "submitted_on": on}) for p, q, on in rows
    }


def _last_id(session: Session, kind: BatchKind) -> int:
    table = Outcome if kind is BatchKind.outcomes else EvaluationResponse
    return int(session.scalar(select(func.max(table.id))) or 0)


def _key(kind: BatchKind, values: dict[str, Any]) -> int:
    """Pack what makes an answer (or outcome) unique into one int: a million keys stay small."""
    participant: int = values["participant_id"]
    if kind is BatchKind.outcomes:
        day: date = values["outcome_on"]
        return outcome_key(participant, day.toordinal())
    question: int = values["question_id"]
    submitted: date = values["submitted_on"]
    return answer_key(participant, question, submitted.toordinal())


def _spooled_key(kind: BatchKind, spooled: tuple[Any, ...]) -> int:
    """Return the key of a spooled row (see qms.evaluations.rows.Spooled)."""
    participant: int = spooled[0]
    if kind is BatchKind.outcomes:
        return outcome_key(participant, date.fromisoformat(spooled[2]).toordinal())
    day = spooled[4] if len(spooled) == len(RESPONSE_COLUMNS) else spooled[3]
    return answer_key(participant, spooled[1], date.fromisoformat(day).toordinal())


def _full(spooled: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return a spooled answer with every column of RESPONSE_COLUMNS."""
    if len(spooled) == len(RESPONSE_COLUMNS):
        return spooled
    participant, question, number, day = spooled
    return (participant, question, number, None, day, None)


class _Spool:
    """Tuples waiting on disk in chunks, each with its row's number, so that a file's rows or
    problems are never all in memory."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.numbers: list[int] = []
        self.pending: list[tuple[Any, ...]] = []

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.file.close()

    def add(self, number: int, item: tuple[Any, ...]) -> None:
        self.numbers.append(number)
        self.pending.append(item)
        if len(self.pending) >= CHUNK:
            self.dump()

    def dump(self) -> None:
        """Write what waits as one chunk; the lists are emptied in place (they may be held)."""
        # marshal.load reads a file a few bytes at a time: each chunk is read whole, by its length.
        data = marshal.dumps((self.numbers, self.pending))
        self.file.write(len(data).to_bytes(8, "little"))
        self.file.write(data)
        self.numbers.clear()
        self.pending.clear()

    def chunks(self) -> Iterator[tuple[list[int], list[tuple[Any, ...]]]]:
        """Yield what was added, chunk by chunk from the start: the rows' numbers and the tuples.

        Read to the end, so that what is added after goes after it."""
        if self.pending:
            self.dump()
        self.file.seek(0)
        while size := self.file.read(8):
            yield marshal.loads(self.file.read(int.from_bytes(size, "little")))


@dataclass(frozen=True)
class Programmes:
    """The programme of each participant an import may name, and each programme's code."""

    of_participant: dict[int, int]
    codes: dict[int, str]


def _programmes(session: Session, actor: Actor, programme_id: int | None) -> Programmes:
    stmt = select(Participant.id, Cohort.programme_id).join(
        Cohort, Cohort.id == Participant.cohort_id
    )
    for scope in {actor.programme_id, programme_id} - {None}:
        stmt = stmt.where(Cohort.programme_id == scope)
    of_participant: dict[int, int] = {row[0]: row[1] for row in session.execute(stmt)}
    found = session.execute(select(Programme.id, Programme.code))
    codes: dict[int, str] = {row[0]: row[1] for row in found}
    return Programmes(of_participant, codes)


def _check(
    source: ImportFile,
    kind: BatchKind,
    convert_for: Callable[[list[str]], Converter],
    existing: set[int],
    programmes: Programmes,
    spools: tuple[_Spool, _Spool],
    progress: Callable[[int], None] | None = None,
) -> Check:
    """Read the file once: check every row, and spool the good rows' values and every problem."""
    good, problems = spools
    shown = get_settings().import_problems_shown
    header, rows = read_records(source)
    convert = convert_for(header)
    check = Check()
    # The keys of the good rows so far, without their rows' numbers (a million of them would
    # double the memory): a repeat's first row is found again in the spool, once.
    seen: set[int] = set()
    first_rows: dict[int, int] = {}
    scans = 0

    def first_row(key: int) -> int:
        nonlocal scans
        if key not in first_rows:
            scans += 1
            # Past a few repeats, every row's key is noted at once: a file sent twice over
            # costs one reading of the spool, not one per repeat.
            wanted = None if scans > 20 else key
            for numbers, spooled in good.chunks():
                for number, values in zip(numbers, spooled, strict=True):
                    found = _spooled_key(kind, values)
                    if wanted is None or found == wanted:
                        first_rows.setdefault(found, number)
        return first_rows[key]

    column = "answer" if kind is BatchKind.evaluations else "date"
    last_rejected = total = 0
    programme_id: int | None = None

    def mixed(row_programme: int) -> _RowProblem:
        assert programme_id is not None
        return _RowProblem(
            "participant",
            Text(
                "The participant is in programme %(programme)s, and the file's rows before in "
                "%(first)s: import each programme's rows in a file of its own.",
                programme=Code(programmes.codes[row_programme]),
                first=Code(programmes.codes[programme_id]),
            ),
        )

    def repeated(number: int, key: int, row_keys: list[int]) -> _RowProblem:
        if key in existing:
            return _RowProblem(column, Text("This row was imported already, in an earlier batch."))
        return _RowProblem(
            column,
            Text(
                "This row repeats row %(row)s.",
                row=number if key in row_keys else first_row(key),
            ),
        )

    # Read once per row below: bound here (the spool's lists are emptied in place).
    numbers, pending, of_participant = good.numbers, good.pending, programmes.of_participant
    for number, row in bounded(source.name, rows):
        total += 1
        if progress is not None and total % 1000 == 0:
            progress(total)
        try:
            items = convert(number, row)
            if len(items) == 1:
                # One answer or outcome a row, as in a long file: the common case, at once.
                key, spooled = items[0]
                row_programme = of_participant[spooled[0]]
                if row_programme != programme_id and programme_id is not None:
                    raise mixed(row_programme)
                if key in seen or key in existing:
                    raise repeated(number, key, [])
                seen.add(key)
                numbers.append(number)
                pending.append(spooled)
                if len(pending) >= CHUNK:
                    good.dump()
                programme_id = row_programme
                continue
            row_keys: list[int] = []
            programme_of_row: int | None = None
            for key, spooled in items:
                programme_of_row = of_participant[spooled[0]]
                if programme_id is not None and programme_of_row != programme_id:
                    raise mixed(programme_of_row)
                if key in existing or key in seen or key in row_keys:
                    raise repeated(number, key, row_keys)
                row_keys.append(key)
            seen.update(row_keys)
            for _, spooled in items:
                good.add(number, spooled)
            if programme_id is None:
                programme_id = programme_of_row
        except (_RowProblem, RowProblems) as problem:
            found = (
                problem.problems
                if isinstance(problem, RowProblems)
                else [(problem.column, problem.message)]
            )
            for problem_column, message in found:
                _note(check, problems, shown, number, problem_column, message)
            if number != last_rejected:
                check.rows_rejected += 1
                last_rejected = number
    check.rows_total = total
    check.programme_id = programme_id
    return check


def _note(check: Check, problems: _Spool, shown: int, row: int, column: str, message: str) -> None:
    """Count a problem, keep it among the first shown, and spool it with all the others."""
    check.problems_total += 1
    if len(check.problems) < shown:
        # Built without validation: the message stays a Text, said in the reader's language.
        check.problems.append(RejectedRow.model_construct(row=row, column=column, message=message))
    problems.add(row or 0, (row, column, json.dumps(stored(message), ensure_ascii=False)))


def _insert(
    session: Session,
    table: str,
    batch_id: int,
    rows: Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]],
) -> None:
    """Insert rows of the batch straight through the driver (they are checked already): COPY on
    PostgreSQL, executemany on SQLite. Each chunk comes with the columns its tuples fill."""
    connection = session.connection()
    cursor: Any = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            # A moment is spooled in UTC without its offset, as SQLite keeps it: read it so.
            zone = cursor.execute("SHOW TIME ZONE").fetchone()[0]
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            # One COPY for the chunks that fill the same columns (as a file's chunks mostly do).
            for columns, run in itertools.groupby(rows, key=lambda chunk: chunk[0]):
                sql = f"COPY {table} (batch_id, {', '.join(columns)}) FROM STDIN"
                with cursor.copy(sql) as copy:
                    for _, chunk in run:
                        for row in chunk:
                            copy.write_row((batch_id, *row))
            cursor.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
            return
        # The batch's id is an int of ours, written into the statement: the spooled tuples go
        # to the driver as they are.
        for columns, chunk in rows:
            marks = ", ".join("?" * len(columns))
            sql = (
                f"INSERT INTO {table} (batch_id, {', '.join(columns)}) "
                f"VALUES ({batch_id:d}, {marks})"
            )
            cursor.executemany(sql, chunk)
    finally:
        cursor.close()


def _write(session: Session, kind: BatchKind, batch_id: int, good: _Spool, skip: set[int]) -> None:
    """Insert the spooled good rows in chunks, leaving out the rows numbered in skip."""
    outcomes = kind is BatchKind.outcomes

    def chunks() -> Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        for numbers, rows in good.chunks():
            if skip:
                rows = [row for n, row in zip(numbers, rows, strict=True) if n not in skip]
            if outcomes:
                yield OUTCOME_VALUES, rows
                continue
            # An answer that is a number on a day waits as a narrow tuple (NUMBER_COLUMNS): a
            # chunk of them is written without the columns they leave empty.
            widths = set(map(len, rows))
            if widths == {len(NUMBER_COLUMNS)}:
                yield NUMBER_COLUMNS, rows
            elif len(widths) > 1:
                yield RESPONSE_COLUMNS, [_full(row) for row in rows]
            else:
                yield RESPONSE_COLUMNS, rows

    _insert(session, "outcome" if outcomes else "evaluation_response", batch_id, chunks())


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _kept(problem: RejectedRow) -> dict[str, Any]:
    """A problem as the batch keeps it: its sentence and parameters, said when it is read."""
    return {"row": problem.row, "column": problem.column, "message": stored(problem.message)}


def in_language(batch: BatchRead, language: str) -> BatchRead:
    """Return the batch with its problems said in the language."""
    return batch.model_copy(
        update={
            "rejected": [
                RejectedRow.model_construct(
                    row=r.row, column=r.column, message=said(r.message, language)
                )
                for r in batch.rejected
            ]
        }
    )


def batch_to_read(batch: EvaluationBatch, **flags: bool) -> BatchRead:
    """Shape a batch for the API."""
    return BatchRead(
        id=batch.id,
        kind=batch.kind,
        sha256=batch.sha256,
        file_name=batch.file_name,
        size_bytes=batch.size_bytes,
        file_format=batch.file_format,
        shape=batch.shape,
        mode=batch.mode,
        rows_total=batch.rows_total,
        rows_written=batch.rows_written,
        rows_rejected=batch.rows_rejected,
        # Built without validation: each message stays a Text, said in the reader's language.
        rejected=[
            RejectedRow.model_construct(
                row=r.get("row"),
                column=str(r.get("column", "")),
                message=restored(r.get("message")),
            )
            for r in batch.rejected
        ],
        importer=batch.importer,
        source=batch.source,
        idempotency_key=batch.idempotency_key,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        rolled_back_at=batch.rolled_back_at,
        rolled_back_by=batch.rolled_back_by,
        rollback_reason=batch.rollback_reason,
        problems_total=batch.problems_total,
        encoding=batch.encoding,
        delimiter=batch.delimiter,
        mapping=batch.mapping.name if batch.mapping is not None else None,
        **flags,
    )


def _earlier(
    session: Session,
    actor: Actor,
    *,
    kind: BatchKind,
    sha256: str,
    idempotency_key: str | None,
    dry_run: bool,
    mode: str = "partial",
) -> BatchRead | None:
    """Return the batch this key or this content made before, as far as the actor may read it.

    Content imported before in part is refused in the default mode (all or nothing), as its first
    import was: it answers as it did then, naming the batch and its rejected rows."""
    if idempotency_key is not None:
        earlier = session.scalars(
            select(EvaluationBatch).where(EvaluationBatch.idempotency_key == idempotency_key)
        ).first()
        if earlier is not None:
            if earlier.sha256 != sha256:
                raise Conflict(
                    Text(
                        "This Idempotency-Key was used for other content: send a new key with "
                        "a new file."
                    )
                )
            return _replayed(session, actor, earlier)
    if not dry_run:
        earlier = session.scalars(
            select(EvaluationBatch).where(
                EvaluationBatch.kind == kind,
                EvaluationBatch.sha256 == sha256,
                EvaluationBatch.rolled_back_at.is_(None),
            )
        ).first()
        if earlier is not None:
            replayed = _replayed(session, actor, earlier)
            if mode == "all" and earlier.rows_rejected:
                raise _partly(replayed)
            return replayed
    return None


def _partly(earlier: BatchRead) -> Conflict:
    rows = sorted({r.row for r in earlier.rejected if r.row is not None})
    return Conflict(
        Text(
            "This file was imported before in part, as batch %(batch)s: %(rejected)s of its "
            "%(total)s rows were rejected (rows %(rows)s) and nothing of them was written. "
            "Nothing was written now: correct those rows and import them in a file of their "
            "own, or roll batch %(batch)s back and import the corrected file.",
            batch=earlier.id,
            rejected=earlier.rows_rejected,
            total=earlier.rows_total,
            rows=rows[:20] if len(rows) <= 20 else [*rows[:20], "…"],
        )
    )


def _replayed(session: Session, actor: Actor, earlier: EvaluationBatch) -> BatchRead:
    # Someone who may not read the batch learns only that the content came in already.
    mine = session.scalar(
        _visible(select(EvaluationBatch.id).where(EvaluationBatch.id == earlier.id), actor)
    )
    if mine is None:
        raise Conflict(
            Text(
                "This file was imported already, in a batch you may not read: nothing was "
                "written. A quality lead can tell you more."
            )
        )
    return batch_to_read(earlier, replayed=True)


def run_import(
    session: Session,
    *,
    actor: Actor,
    kind: BatchKind,
    source: ImportFile,
    shape: str = "long",
    instrument: str | None = None,
    mapping: dict[str, str] | None = None,
    mapping_id: int | None = None,
    mode: str = "all",
    dry_run: bool = False,
    client_source: str | None = None,
    idempotency_key: str | None = None,
    programme_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    reader: Callable[[], AbstractContextManager[Session]] | None = None,
) -> BatchRead:
    """Check a file and, unless its problems stop it, write it as one batch.

    With a programme, participants are looked up in that programme only. With a reader (a read
    unit of work), the file is checked outside `session`, which is used only to write: others
    keep writing while a large file is checked, and what may have changed meanwhile is checked
    again in the write.
    """
    require(actor, Action.evaluation_import)
    started = utcnow()
    sha256, size = _sha256(source.path)
    with (
        reader() if reader is not None else nullcontext(session) as checking,
        _Spool() as good,
        _Spool() as problems,
    ):
        earlier = _earlier(
            checking,
            actor,
            kind=kind,
            sha256=sha256,
            idempotency_key=idempotency_key,
            dry_run=dry_run,
            mode=mode,
        )
        if earlier is not None:
            return earlier
        lookups = load_lookups(checking, actor, programme_id)
        programmes = _programmes(checking, actor, programme_id)
        # Read before the keys: a row written after it is found again by the write.
        last_id = _last_id(checking, kind)
        existing = _existing_keys(checking, kind)
        if reader is not None:
            # The reading ends here: the file is read holding no transaction open.
            checking.rollback()

        def convert_for(header: list[str]) -> Converter:
            if kind is BatchKind.outcomes:
                return outcome_converter(lookups, header)
            return evaluation_converter(lookups, header, shape, instrument, mapping)

        check = _check(source, kind, convert_for, existing, programmes, (good, problems), progress)
        del existing
        if check.problems and mode == "all":
            raise _refusal(check)
        batch = EvaluationBatch(
            kind=kind,
            sha256=sha256,
            file_name=source.name[:255],
            size_bytes=size,
            file_format=source.format,
            shape=shape if kind is BatchKind.evaluations else "long",
            mode=mode,
            rows_total=check.rows_total,
            rows_written=check.rows_total - check.rows_rejected,
            rows_rejected=check.rows_rejected,
            rejected=[_kept(p) for p in check.problems],
            problems_total=check.problems_total,
            programme_id=check.programme_id,
            encoding=source.found.get("encoding"),
            delimiter=source.found.get("delimiter"),
            mapping=None if mapping_id is None else session.get(ImportMapping, mapping_id),
            importer=actor.name,
            importer_id=actor.user_id,
            source=client_source,
            idempotency_key=idempotency_key,
            started_at=started,
            finished_at=started,
        )
        if dry_run:
            batch.finished_at = utcnow()
            return batch_to_read(batch, dry_run=True)
        return _write_batch(
            session, actor=actor, batch=batch, check=check, last_id=last_id, spools=(good, problems)
        )


def _refusal(check: Check) -> ValidationFailed:
    errors = [FieldError(p.column, p.message, row=p.row) for p in check.problems]
    if check.problems_total > len(check.problems):
        errors.append(
            FieldError(
                "file",
                Text(
                    "The first %(shown)s of %(total)s problems are named here: correct them "
                    "and check the file again for the others.",
                    shown=len(check.problems),
                    total=check.problems_total,
                ),
            )
        )
    return ValidationFailed(
        Text(
            "Rows with problems: %(rejected)s of %(total)s. Nothing was written: correct "
            "them, or import with mode=partial to write the good rows.",
            rejected=check.rows_rejected,
            total=check.rows_total,
        ),
        errors,
    )


def _write_batch(
    session: Session,
    *,
    actor: Actor,
    batch: EvaluationBatch,
    check: Check,
    last_id: int,
    spools: tuple[_Spool, _Spool],
) -> BatchRead:
    """Write a checked file as one batch, checking again what may have changed since the check."""
    good, problems = spools
    # Take turns with the other writers first, so that what is read next is what they committed.
    lock_chain_head(session)
    earlier = _earlier(
        session,
        actor,
        kind=batch.kind,
        sha256=batch.sha256,
        idempotency_key=batch.idempotency_key,
        dry_run=False,
        mode=batch.mode,
    )
    if earlier is not None:
        return earlier
    skip: set[int] = set()
    meanwhile = _keys_since(session, batch.kind, last_id)
    if meanwhile:
        column = "answer" if batch.kind is BatchKind.evaluations else "date"
        shown = get_settings().import_problems_shown
        for numbers, rows in good.chunks():
            for number, spooled in zip(numbers, rows, strict=True):
                if number not in skip and _spooled_key(batch.kind, spooled) in meanwhile:
                    skip.add(number)
                    _note(
                        check,
                        problems,
                        shown,
                        number,
                        column,
                        Text("This row was imported meanwhile, by another import."),
                    )
        check.rows_rejected += len(skip)
        if batch.mode == "all":
            raise _refusal(check)
        batch.rows_written -= len(skip)
        batch.rows_rejected = check.rows_rejected
        batch.problems_total = check.problems_total
        batch.rejected = [_kept(p) for p in check.problems]
    session.add(batch)
    session.flush()
    _write(session, batch.kind, batch.id, good, skip)
    columns = ("row", '"column"', "message")
    _insert(session, "import_problem", batch.id, ((columns, rows) for _, rows in problems.chunks()))
    batch.finished_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="import.completed",
        entity="evaluation_batch",
        entity_id=batch.id,
        programme_id=batch.programme_id,
        changes=created(
            {
                "kind": batch.kind,
                "file_name": batch.file_name,
                "sha256": batch.sha256,
                "rows_total": batch.rows_total,
                "rows_written": batch.rows_written,
                "rows_rejected": batch.rows_rejected,
                "source": batch.source,
                **snapshot(batch, BATCH_RECORDED),
            }
        ),
    )
    return batch_to_read(batch)


def get_batch(session: Session, *, actor: Actor, batch_id: int) -> EvaluationBatch:
    """Return a batch; an importer sees only the batches it brought in."""
    require(actor, Action.evaluation_read)
    stmt = _visible(select(EvaluationBatch).where(EvaluationBatch.id == batch_id), actor)
    batch: EvaluationBatch | None = session.scalars(stmt).one_or_none()
    if batch is None:
        raise NotFound(Text("There is no import batch with the id %(id)s.", id=batch_id))
    return batch


def list_problems(
    session: Session, *, actor: Actor, batch_id: int, limit: int = 50, cursor: str | None = None
) -> Page[RejectedRow]:
    """Return a page of a batch's problems, every one of them (the batch shows the first ones),
    in the order they were found; each message is a Text, said in the reader's language."""
    if cursor is not None:
        decode_cursor(cursor)  # a forged cursor is named before the batch is looked up
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    page = paginate(
        session,
        select(ImportProblem).where(ImportProblem.batch_id == batch.id),
        key=ImportProblem.id,
        limit=limit,
        cursor=cursor,
    )
    return Page(
        [
            RejectedRow.model_construct(
                row=p.row, column=p.column, message=restored(json.loads(p.message))
            )
            for p in page.items
        ],
        page.next_cursor,
    )


# The batches a list shows unless asked for more: the newest; a file holds every one.
BATCHES_SHOWN = 200


def list_batches(
    session: Session, *, actor: Actor, limit: int | None = BATCHES_SHOWN
) -> list[EvaluationBatch]:
    """List batches, newest first, the newest `limit` of them (None: every one); an importer
    sees its own."""
    require(actor, Action.evaluation_read)
    stmt = select(EvaluationBatch).order_by(EvaluationBatch.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(_visible(stmt, actor)))


def _visible(stmt: Select[Any], actor: Actor) -> Select[Any]:
    """Keep the batches the actor may see: an importer its own; a scoped token its programme's.

    A batch with no programme (nothing written, or from before batches had one and mixing
    programmes) is seen by a scoped token only if it brought the batch in itself.
    """
    own = EvaluationBatch.importer_id == actor.user_id if actor.user_id is not None else false()
    if actor.role is Role.importer:
        stmt = stmt.where(own)
    if actor.programme_id is not None:
        stmt = stmt.where(
            or_(
                EvaluationBatch.programme_id == actor.programme_id,
                and_(own, EvaluationBatch.programme_id.is_(None)),
            )
        )
    return stmt


def rollback(session: Session, *, actor: Actor, batch_id: int, reason: str) -> EvaluationBatch:
    """Take a whole batch back out: its rows go, the batch stays on record as rolled back."""
    require(actor, Action.import_rollback)
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    if batch.rolled_back_at is not None:
        raise Conflict(
            Text(
                "Import batch %(id)s was rolled back already, on %(day)s.",
                id=batch.id,
                day=batch.rolled_back_at.date(),
            )
        )
    table = Outcome if batch.kind is BatchKind.outcomes else EvaluationResponse
    removed = session.scalar(
        select(func.count()).select_from(table).where(table.batch_id == batch.id)
    )
    session.execute(delete(table).where(table.batch_id == batch.id))
    batch.rolled_back_at = utcnow()
    batch.rolled_back_by = actor.name
    batch.rollback_reason = reason
    session.flush()
    record_event(
        session,
        actor=actor,
        action="import.rolled_back",
        entity="evaluation_batch",
        entity_id=batch.id,
        changes={
            "rows_removed": {"old": None, "new": removed},
            "rolled_back_at": {"old": None, "new": batch.rolled_back_at.isoformat()},
            "rolled_back_by": {"old": None, "new": batch.rolled_back_by},
            "rollback_reason": {"old": None, "new": reason},
        },
        reason=reason,
    )
    return batch
